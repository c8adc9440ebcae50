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
