// SPDX-License-Identifier: Apache-2.0
#pragma once
// The register-blocked micro-kernel of kernels/gemm.hpp and the blocking constants it implies.
//
// An MR x NR tile of C (NR = NV SIMD vectors) lives in MR * NV accumulator registers. Per step k, the kernel
// loads one row of the B micro-panel (NV aligned vectors, NR consecutive floats of the packed panel),
// broadcasts MR values of A (one per row) and issues MR * NV FMAs. The tile shape follows the SIMD width
// xsimd picked at compile time:
//   * 32 vector registers (AVX-512, 16 lanes): 8 x 48 (24 accumulators + 3 B vectors + 1 broadcast);
//     12 x 32, 14 x 32, 6 x 64, 9 x 48 and 7 x 48 were 5-10% slower on this machine's whole-layer profile
//     (see docs/gemm.md).
//   * 16 vector registers (SSE2 4 lanes, AVX2 8 lanes): 6 x 2 vectors, the classic 12 accumulators.
//   * AArch64 NEON (32 registers of 4 lanes): 8 x 12 (24 accumulators + 3 B vectors + 2 A vectors), with a
//     kernel of its own below: a packed A micro-panel is loaded 4 rows per register and multiplied by lane
//     (fmla by element), rows read in place are broadcast with ld1r.
// -DEDGEBERT_GEMM_MR=.. -DEDGEBERT_GEMM_NV=.. -DEDGEBERT_GEMM_KC=.. -DEDGEBERT_GEMM_B_REUSE_BYTES=.. override them
// for experiments.

#include <cstddef>
#include <type_traits>

#include <xsimd/xsimd.hpp>
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define EDGEBERT_GEMM_NEON 1
#else
#define EDGEBERT_GEMM_NEON 0
#endif

#include "../../core/config.hpp"

namespace edgebert::kernels::detail {
EDGEBERT_ISA_BEGIN

using gemm_batch = xsimd::batch<float>;
inline constexpr std::size_t gemm_lanes = gemm_batch::size;

#if EDGEBERT_GEMM_NEON
#ifndef EDGEBERT_GEMM_NV
#define EDGEBERT_GEMM_NV 3
#endif
#ifndef EDGEBERT_GEMM_MR
#define EDGEBERT_GEMM_MR 8
#endif
#endif
#ifndef EDGEBERT_GEMM_NV
#define EDGEBERT_GEMM_NV (::edgebert::kernels::detail::gemm_lanes >= 16 ? 3 : 2)
#endif
#ifndef EDGEBERT_GEMM_MR
#define EDGEBERT_GEMM_MR (::edgebert::kernels::detail::gemm_lanes >= 16 ? 8 : 6)
#endif
#ifndef EDGEBERT_GEMM_KC
// 16 lanes: k = 768 (ALBERT's hidden size) in one K block, 1-7% faster on the whole model than 256 (session 16,
// docs/gemm.md); the 144 KiB B micro-panel then lives in L2. 8 lanes: 512 was 2-7% faster on a Zen 5 in AVX2 mode
// (48 KiB L1, docs/gemm.md), but its 32 KiB micro-panel would not fit the 32 KiB L1 of most AVX2-only cores: 256
// kept. 4 lanes: not measured.
#define EDGEBERT_GEMM_KC (::edgebert::kernels::detail::gemm_lanes >= 16 ? 768 : 256)
#endif

inline constexpr std::size_t gemm_nv = EDGEBERT_GEMM_NV;      ///< SIMD vectors per panel row
inline constexpr std::size_t gemm_nr = gemm_nv * gemm_lanes;  ///< columns per B panel
inline constexpr std::size_t gemm_mr = EDGEBERT_GEMM_MR;      ///< rows per A micro-panel
/// K block: a B micro-panel (KC x NR: 144 KiB for AVX-512, 24 KiB for AVX2) is re-read from L2/L1 by every A
/// micro-panel.
inline constexpr std::size_t gemm_kc = EDGEBERT_GEMM_KC;
/// Rows of A (m x k floats) are processed in blocks of at most this many bytes, which stay in L2 while the
/// B panels stream past (L2 is 1 MiB per core here; half of it leaves room for B and C).
inline constexpr std::size_t gemm_a_l2_bytes = 512 * 1024;
/// Columns of B re-read by successive row blocks are taken a chunk of at most this many bytes at a time, which
/// stays in this core's caches (L2 and its share of L3) between the blocks (2 MiB: 14 panels of 768 x 48; 1-8
/// chunks per call measured in docs/performance.md, session 24).
#ifndef EDGEBERT_GEMM_B_REUSE_BYTES
#define EDGEBERT_GEMM_B_REUSE_BYTES (std::size_t(2) << 20)
#endif
inline constexpr std::size_t gemm_b_reuse_bytes = EDGEBERT_GEMM_B_REUSE_BYTES;
/// Shortest row block worth streaming B again for (see compute_tiles); shorter blocks use the K-outer order.
inline constexpr std::size_t gemm_min_row_block = 128;

static_assert(gemm_mr >= 1 && gemm_mr <= 16, "EDGEBERT_GEMM_MR out of range");
static_assert(gemm_nv >= 1 && gemm_nv <= 8, "EDGEBERT_GEMM_NV out of range");
static_assert(gemm_kc >= 1, "EDGEBERT_GEMM_KC must be positive");

/// What micro_kernel does to its accumulators before it stores them: nothing (a plain product, or a K block
/// before the last). gemm.hpp's register_epilogue is the other kind.
struct no_finish {
    template <class Acc>
    EDGEBERT_ALWAYS_INLINE void operator()(Acc&) const noexcept {}
};

#if EDGEBERT_GEMM_NEON
/// The NEON micro-kernel (MR a multiple of 4, 4-lane vectors): same contract as micro_kernel below.
template <bool PackedA, std::size_t NV>
EDGEBERT_ALWAYS_INLINE void micro_kernel_neon(std::size_t kc, const float* EDGEBERT_RESTRICT a, std::size_t lda,
                                              const float* EDGEBERT_RESTRICT b, float* c, std::size_t ldc,
                                              bool accumulate) noexcept {
    constexpr std::size_t MR = gemm_mr, W = 4;
    static_assert(MR % 4 == 0, "the NEON micro-kernel takes A four rows per register");
    float32x4_t acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = accumulate ? vld1q_f32(c + r * ldc + v * W) : vdupq_n_f32(0.f);
    for (std::size_t k = 0; k < kc; ++k) {
        float32x4_t bv[NV];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) bv[v] = vld1q_f32(b + v * W);
        if constexpr (PackedA) {
            // MR consecutive values of A: MR / 4 loads, then fmla by lane.
#pragma GCC unroll 4
            for (std::size_t q = 0; q < MR / 4; ++q) {
                const float32x4_t av = vld1q_f32(a + 4 * q);
#pragma GCC unroll 8
                for (std::size_t v = 0; v < NV; ++v) {
                    acc[4 * q + 0][v] = vfmaq_laneq_f32(acc[4 * q + 0][v], bv[v], av, 0);
                    acc[4 * q + 1][v] = vfmaq_laneq_f32(acc[4 * q + 1][v], bv[v], av, 1);
                    acc[4 * q + 2][v] = vfmaq_laneq_f32(acc[4 * q + 2][v], bv[v], av, 2);
                    acc[4 * q + 3][v] = vfmaq_laneq_f32(acc[4 * q + 3][v], bv[v], av, 3);
                }
            }
        } else {
#pragma GCC unroll 16
            for (std::size_t r = 0; r < MR; ++r) {
                const float32x4_t ar = vld1q_dup_f32(a + r * lda);
#pragma GCC unroll 8
                for (std::size_t v = 0; v < NV; ++v) acc[r][v] = vfmaq_f32(acc[r][v], bv[v], ar);
            }
        }
        a += PackedA ? MR : 1;
        b += NV * W;
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) vst1q_f32(c + r * ldc + v * W, acc[r][v]);
}
#endif

/// acc(MR x NR) (+)= A micro-panel · B micro-panel over kc steps, stored to the tile c (row stride ldc).
/// B: kc rows of NV * lanes floats, 64-byte aligned rows (a packed panel).
/// A: PackedA: MR consecutive values per k (a packed micro-panel, lda unused); otherwise MR rows read in
///    place with row stride lda (each row is a sequential stream that stays in L1 for the K block).
/// accumulate: start from the values in c (a later K block) instead of zero.
/// finish(acc): applied to the MR x NV accumulator batches before the store (the last K block's epilogue), so
/// each element of the tile is stored once, finished.
template <bool PackedA, std::size_t NV = gemm_nv, class Finish = no_finish>
EDGEBERT_ALWAYS_INLINE void micro_kernel(std::size_t kc, const float* EDGEBERT_RESTRICT a, std::size_t lda,
                                         const float* EDGEBERT_RESTRICT b, float* c, std::size_t ldc,
                                         bool accumulate, const Finish& finish = {}) noexcept {
    using B = gemm_batch;
    constexpr std::size_t W = gemm_lanes, MR = gemm_mr;
#if EDGEBERT_GEMM_NEON
    if constexpr (gemm_lanes == 4 && gemm_mr % 4 == 0) {
        micro_kernel_neon<PackedA, NV>(kc, a, lda, b, c, ldc, accumulate);
        if constexpr (!std::is_same_v<Finish, no_finish>) {  // the NEON kernel stores; finish the tile in L1
            B acc[MR][NV];
            for (std::size_t r = 0; r < MR; ++r)
                for (std::size_t v = 0; v < NV; ++v) acc[r][v] = B::load_unaligned(c + r * ldc + v * W);
            finish(acc);
            for (std::size_t r = 0; r < MR; ++r)
                for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_unaligned(c + r * ldc + v * W);
        }
        return;
    }
#endif
    B acc[MR][NV];
    if (accumulate) {
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = B::load_unaligned(c + r * ldc + v * W);
    } else {
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = B(0.f);
    }
    for (std::size_t k = 0; k < kc; ++k) {
        B bv[NV];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_aligned(b + v * W);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            const B ar(PackedA ? a[r] : a[r * lda]);
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(ar, bv[v], acc[r][v]);
        }
        a += PackedA ? MR : 1;
        b += NV * W;
    }
    finish(acc);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_unaligned(c + r * ldc + v * W);
}

EDGEBERT_ISA_END
}  // namespace edgebert::kernels::detail
