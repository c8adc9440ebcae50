// The compiled mode's implementation file (docs/building.md) for this project's own programs: the tests, the
// examples other than the edgebert tool, and the benchmarks link the kernels, model loading, the forward pass
// and the default pipeline compiled here once, and their own files compile only their own code. It is what an
// application writes in one file of its own; the tool and the CMake consumer test stay header-only, so both
// ways of building are built and run.
#define EDGEBERT_KERNELS_IMPLEMENTATION
#include <edgebert/edgebert.hpp>
