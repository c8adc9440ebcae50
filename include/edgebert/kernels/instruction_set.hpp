// SPDX-License-Identifier: Apache-2.0
#pragma once
// Which instruction set the kernels were compiled for, in words: for `edgebert version` and benchmark reports.
// The kernels choose their SIMD paths when they are compiled (-march, or the target's default), so the answer
// comes from the translation unit that compiled them: with EDGEBERT_SEPARATE_KERNELS, the one that defines
// EDGEBERT_KERNELS_IMPLEMENTATION.

#include <string>

#include <xsimd/xsimd.hpp>

#include "../core/config.hpp"
#include "gemm_i8.hpp"
#include "gemm_q8.hpp"
#include "sparse_gemm.hpp"

namespace edgebert::kernels {
EDGEBERT_ISA_BEGIN

/// E.g. "avx512bw: gemm 8x48, 8-bit decode avx512vbmi, bit-mask expansion avx512f, int8 avx512-vnni" or
/// "neon64: gemm 8x12 (NEON micro-kernel), 8-bit decode neon tbl, int8 neon-dotprod".
EDGEBERT_KERNEL_API
std::string instruction_set()
#if EDGEBERT_KERNEL_BODIES
{
    std::string s = xsimd::default_arch::name();
    s += ": gemm " + std::to_string(detail::gemm_mr) + "x" + std::to_string(detail::gemm_nr);
#if EDGEBERT_GEMM_NEON
    s += " (NEON micro-kernel)";
#endif
#if EDGEBERT_Q8_VBMI
    s += ", 8-bit decode avx512vbmi";
#elif EDGEBERT_Q8_NEON
    s += ", 8-bit decode neon tbl";
#else
    s += ", 8-bit decode scalar";
#endif
#if defined(__AVX512F__)
    s += ", bit-mask expansion avx512f";
#endif
    s += ", int8 ";
    s += gemm_i8_isa();
    return s;
}
#else
;
#endif

EDGEBERT_ISA_END
}  // namespace edgebert::kernels
