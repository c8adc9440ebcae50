// The one translation unit of the program that compiles edgebert's kernels (docs/building.md).
#define EDGEBERT_KERNELS_IMPLEMENTATION
#include <edgebert/edgebert.hpp>
