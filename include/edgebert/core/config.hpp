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

// The compiled mode beyond the kernels (docs/building.md): model loading, task folders, the forward pass and
// inference with the built-in policies and no observer of the caller's, and the default pipeline. With
// EDGEBERT_SEPARATE_KERNELS they are declared in every translation unit and compiled only in the one that defines
// EDGEBERT_KERNELS_IMPLEMENTATION (a dispatch build: its generated file with EDGEBERT_PIPELINE_IMPLEMENTATION; the
// instruction-set files compile kernels only). Header-only, they are inline like everything else. This is what
// takes a program's own file from about a minute to seconds: loading is most of the
// instantiations that a call to load() and forward() brings in.
#if !defined(EDGEBERT_SEPARATE_KERNELS) && !defined(EDGEBERT_KERNELS_IMPLEMENTATION)
#define EDGEBERT_COMPILED_MODE 0
#define EDGEBERT_LIBRARY_BODIES 1
#define EDGEBERT_LIBRARY_API inline
#else
#define EDGEBERT_COMPILED_MODE 1
#if (defined(EDGEBERT_KERNELS_IMPLEMENTATION) && !defined(EDGEBERT_KERNEL_ISA)) || defined(EDGEBERT_PIPELINE_IMPLEMENTATION)
#define EDGEBERT_LIBRARY_BODIES 1
#else
#define EDGEBERT_LIBRARY_BODIES 0
#endif
#define EDGEBERT_LIBRARY_API
#endif

// Runtime instruction-set dispatch (docs/building.md, "Runtime dispatch"): a program built without -march that
// runs the best kernels the CPU has defines EDGEBERT_SEPARATE_KERNELS and EDGEBERT_KERNEL_DISPATCH in all its
// translation units; the kernels are compiled once per instruction set, each time with EDGEBERT_KERNEL_ISA naming
// it (sse2, avx2, avx512). Functions whose code depends on the instruction set (the entry points and their SIMD
// helpers) are declared between EDGEBERT_ISA_BEGIN and EDGEBERT_ISA_END: in those translation units that is an
// inline namespace named after the instruction set, so each set's functions have names of their own and the
// linker never takes one set's copy for another's. Types stay outside: they are shared by every set.
#if defined(EDGEBERT_KERNEL_ISA)
#define EDGEBERT_ISA_BEGIN inline namespace EDGEBERT_KERNEL_ISA {
#define EDGEBERT_ISA_END }
#else
#define EDGEBERT_ISA_BEGIN
#define EDGEBERT_ISA_END
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
