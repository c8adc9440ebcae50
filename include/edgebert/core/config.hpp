// SPDX-License-Identifier: Apache-2.0
#pragma once
// Compile-time configuration and portability macros.

#if defined(_OPENMP)
#include <omp.h>
#define EDGEBERT_HAS_OPENMP 1
#define EDGEBERT_PRAGMA(x) _Pragma(#x)
/// OpenMP pragma that disappears (without -Wunknown-pragmas noise) when OpenMP is off.
#define EDGEBERT_OMP(x) EDGEBERT_PRAGMA(omp x)
#else
#define EDGEBERT_HAS_OPENMP 0
#define EDGEBERT_OMP(x)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EDGEBERT_RESTRICT __restrict__
#define EDGEBERT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EDGEBERT_RESTRICT
#define EDGEBERT_ALWAYS_INLINE inline
#endif

// Separate compilation of the kernels (docs/building.md). Header-only by default: every kernel is an inline
// function compiled again in each translation unit that runs a model, most of a large program's build time.
// A program that defines EDGEBERT_SEPARATE_KERNELS in all its translation units, and EDGEBERT_KERNELS_IMPLEMENTATION
// as well in exactly one that includes <edgebert/edgebert.hpp>, compiles the GEMM, sparse, attention and
// layer-norm kernels once, in that one. All of them must be compiled with the same target flags (-march).
#if defined(EDGEBERT_KERNELS_IMPLEMENTATION)
#define EDGEBERT_KERNEL_BODIES 1
#define EDGEBERT_KERNEL_API
#elif defined(EDGEBERT_SEPARATE_KERNELS)
#define EDGEBERT_KERNEL_BODIES 0
#define EDGEBERT_KERNEL_API
#else
#define EDGEBERT_KERNEL_BODIES 1
#define EDGEBERT_KERNEL_API inline
#endif

namespace edgebert {

/// Number of threads to use when the caller passes 0 ("as many as the machine has").
inline int hardware_threads() noexcept {
#if EDGEBERT_HAS_OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

/// Resolve a requested thread count: 0 means all processors; without OpenMP everything runs on one.
inline int resolve_threads(int requested) noexcept {
#if EDGEBERT_HAS_OPENMP
    return requested > 0 ? requested : omp_get_num_procs();
#else
    (void)requested;
    return 1;
#endif
}

}  // namespace edgebert
