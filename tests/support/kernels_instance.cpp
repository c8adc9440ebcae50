// The compiled mode for every test executable (EDGEBERT_SEPARATE_KERNELS, docs/building.md): the kernels and the
// default pipeline are compiled once here, and the test files then compile only their own code, which keeps the
// suite's build (and its sanitizer build) short.
#define EDGEBERT_KERNELS_IMPLEMENTATION
#include <edgebert/edgebert.hpp>
