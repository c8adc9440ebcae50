// SPDX-License-Identifier: Apache-2.0
#pragma once
// The integer micro-kernels of kernels/gemm_i8.hpp, one per instruction set (AVX-512 VNNI, AVX-VNNI, AVX2,
// AArch64 NEON with or without the dot-product extension, portable), chosen at compile time (#if on the
// target's ISA macros). All of them read the same packed weight layout:
//   panels of 16 output columns; inside a panel, k in groups of 4 (k padded with zero weights to a multiple of
//   4); group g is 64 bytes: column j's four weights W[j][4g .. 4g+3] at bytes 4j .. 4j+3.
// That is exactly the operand of vpdpbusd on a 512-bit register (16 int32 lanes, each the dot product of 4
// unsigned bytes of A and 4 signed bytes of W), and of two 256-bit registers (8 columns each) for AVX-VNNI and
// AVX2, so one packing serves every path and the portable one too.
//
// Activations are quantized per row to signed 8 bits q in [-127, 127] and stored in the form the path wants:
//   * VNNI (AVX-512 or AVX-VNNI): u = q + 128 (vpdpbusd multiplies unsigned by signed); the kernel's sums
//     then hold sum(q·w) + 128·sum(w), and the caller subtracts 128·colsum(W) (i8_packed_matrix keeps it);
//   * AVX2: q itself; vpmaddubsw multiplies unsigned by signed bytes and saturates pairs to int16, so it is fed
//     |q| (at most 127) and sign(q)·w (vpsignb): a pair sums to at most 2·127·127 = 32258 < 32767, no
//     saturation ever (weights exclude -128, whose negation would overflow);
//   * portable: q itself, plain loops.
//   * AArch64: q itself; sdot (vdotq_s32, ARMv8.2 dot product) multiplies signed by signed bytes, four at a
//     time per int32 lane; plain NEON widens the byte products to int16 (vmull_s8) and adds pairwise.
// A tile is MR rows x NV panels; the sums of all k are kept in int32 registers and written to an int32 tile.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../core/config.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#define EDGEBERT_I8_ISA_AVX512VNNI 1
#elif defined(__AVX2__) && defined(__AVXVNNI__)
#include <immintrin.h>
#define EDGEBERT_I8_ISA_AVXVNNI 1
#elif defined(__AVX2__)
#include <immintrin.h>
#define EDGEBERT_I8_ISA_AVX2 1
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>
#define EDGEBERT_I8_ISA_NEON_DOTPROD 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define EDGEBERT_I8_ISA_NEON 1
#endif

// Everything that depends on the instruction set lives in an inline namespace named after it, so translation
// units compiled for different targets (tests of each path) never share a symbol; under runtime dispatch that
// namespace sits inside the dispatched set's own (EDGEBERT_ISA_BEGIN), since two sets may pick the same path
// (avx2 and avx512 both compile the AVX2 one) with different flags.
#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
#define EDGEBERT_I8_ISA_NAMESPACE i8_avx512vnni
#elif defined(EDGEBERT_I8_ISA_AVXVNNI)
#define EDGEBERT_I8_ISA_NAMESPACE i8_avxvnni
#elif defined(EDGEBERT_I8_ISA_AVX2)
#define EDGEBERT_I8_ISA_NAMESPACE i8_avx2
#elif defined(EDGEBERT_I8_ISA_NEON_DOTPROD)
#define EDGEBERT_I8_ISA_NAMESPACE i8_neon_dotprod
#elif defined(EDGEBERT_I8_ISA_NEON)
#define EDGEBERT_I8_ISA_NAMESPACE i8_neon
#else
#define EDGEBERT_I8_ISA_NAMESPACE i8_portable
#endif

namespace edgebert::kernels::detail {

inline constexpr std::size_t i8_panel_width = 16;  ///< output columns per packed panel
inline constexpr std::size_t i8_k_group = 4;       ///< k values per 4-byte dot product

EDGEBERT_ISA_BEGIN
inline namespace EDGEBERT_I8_ISA_NAMESPACE {

#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
inline constexpr const char* i8_isa_name = "avx512-vnni";
inline constexpr bool i8_unsigned_activations = true;
inline constexpr std::size_t i8_mr = 8, i8_nv = 3;  // 24 accumulators + 3 weight vectors + 1 broadcast of 32
#elif defined(EDGEBERT_I8_ISA_AVXVNNI)
inline constexpr const char* i8_isa_name = "avx-vnni";
inline constexpr bool i8_unsigned_activations = true;
inline constexpr std::size_t i8_mr = 6, i8_nv = 1;  // 12 accumulators (2 per panel) + 2 weights + 1 broadcast of 16
#elif defined(EDGEBERT_I8_ISA_AVX2)
inline constexpr const char* i8_isa_name = "avx2";
inline constexpr bool i8_unsigned_activations = false;
inline constexpr std::size_t i8_mr = 4, i8_nv = 1;  // 8 accumulators + 2 weights + |a|, a, ones, product
#elif defined(EDGEBERT_I8_ISA_NEON_DOTPROD)
inline constexpr const char* i8_isa_name = "neon-dotprod";
inline constexpr bool i8_unsigned_activations = false;  // sdot multiplies signed by signed bytes
inline constexpr std::size_t i8_mr = 4, i8_nv = 1;     // 16 accumulators + 4 weights + 4 rows of 16 bytes
#elif defined(EDGEBERT_I8_ISA_NEON)
inline constexpr const char* i8_isa_name = "neon";
inline constexpr bool i8_unsigned_activations = false;
inline constexpr std::size_t i8_mr = 4, i8_nv = 1;
#else
inline constexpr const char* i8_isa_name = "portable";
inline constexpr bool i8_unsigned_activations = false;
inline constexpr std::size_t i8_mr = 4, i8_nv = 1;
#endif

/// out[r][c] (r < i8_mr, c < 16·NV, row stride 16·NV) = sum over k groups of A row r · W column c, with
/// a: i8_mr rows of kg·4 activation bytes (row stride lda), b: the first of NV consecutive panels (panel stride
/// panel_bytes), both in the layout above.
template <std::size_t NV>
inline void i8_micro_kernel(std::size_t kg, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                            std::size_t panel_bytes, std::int32_t* out) noexcept {
    constexpr std::size_t MR = i8_mr, NR = NV * i8_panel_width;
#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
    __m512i acc[MR][NV];
    for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_si512();
    for (std::size_t g = 0; g < kg; ++g) {
        __m512i w[NV];
        for (std::size_t v = 0; v < NV; ++v) w[v] = _mm512_load_si512(reinterpret_cast<const void*>(b + v * panel_bytes + g * 64));
        for (std::size_t r = 0; r < MR; ++r) {
            std::int32_t four;
            std::memcpy(&four, a + r * lda + g * 4, 4);
            const __m512i x = _mm512_set1_epi32(four);
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], x, w[v]);
        }
    }
    for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t v = 0; v < NV; ++v) _mm512_storeu_si512(reinterpret_cast<void*>(out + r * NR + v * 16), acc[r][v]);
#elif defined(EDGEBERT_I8_ISA_AVXVNNI) || defined(EDGEBERT_I8_ISA_AVX2)
    constexpr std::size_t NH = 2 * NV;  // 8-column halves
    __m256i acc[MR][NH];
    for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t h = 0; h < NH; ++h) acc[r][h] = _mm256_setzero_si256();
#if defined(EDGEBERT_I8_ISA_AVX2)
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    for (std::size_t g = 0; g < kg; ++g) {
        __m256i w[NH];
        for (std::size_t h = 0; h < NH; ++h)
            w[h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + (h / 2) * panel_bytes + g * 64 + (h % 2) * 32));
        for (std::size_t r = 0; r < MR; ++r) {
            std::int32_t four;
            std::memcpy(&four, a + r * lda + g * 4, 4);
            const __m256i x = _mm256_set1_epi32(four);
#if defined(EDGEBERT_I8_ISA_AVXVNNI)
            for (std::size_t h = 0; h < NH; ++h) acc[r][h] = _mm256_dpbusd_avx_epi32(acc[r][h], x, w[h]);
#else
            const __m256i ax = _mm256_abs_epi8(x);
            for (std::size_t h = 0; h < NH; ++h) {
                const __m256i pairs = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(w[h], x));
                acc[r][h] = _mm256_add_epi32(acc[r][h], _mm256_madd_epi16(pairs, ones));
            }
#endif
        }
    }
    for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t h = 0; h < NH; ++h) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * NR + h * 8), acc[r][h]);
#elif defined(EDGEBERT_I8_ISA_NEON_DOTPROD) || defined(EDGEBERT_I8_ISA_NEON)
    // A panel's k group is four 16-byte registers, each four columns x four k values: the operand of sdot
    // (vdotq_laneq_s32: lane i of the result += the dot product of its 4 bytes with the lane's 4 bytes of A).
    constexpr std::size_t NQ = 4 * NV;  // 4-column quarters
    int32x4_t acc[MR][NQ];
    for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t q = 0; q < NQ; ++q) acc[r][q] = vdupq_n_s32(0);
    const auto weights = [&](std::size_t g, int8x16_t* w) {
        for (std::size_t q = 0; q < NQ; ++q) w[q] = vld1q_s8(b + (q / 4) * panel_bytes + g * 64 + (q % 4) * 16);
    };
    const auto broadcast_group = [&](std::size_t r, std::size_t g) {  // row r's 4 bytes of group g, in every lane
        std::int32_t four;
        std::memcpy(&four, a + r * lda + g * 4, 4);
        return vreinterpretq_s8_s32(vdupq_n_s32(four));
    };
#if defined(EDGEBERT_I8_ISA_NEON_DOTPROD)
    // Four k groups per load of A: each row's 16 bytes, one lane per group.
    std::size_t g = 0;
    for (; g + 4 <= kg; g += 4) {
        int8x16_t x[MR];
        for (std::size_t r = 0; r < MR; ++r) x[r] = vreinterpretq_s8_u8(vld1q_u8(a + r * lda + g * 4));
        int8x16_t w[NQ];
#define EDGEBERT_I8_SDOT_GROUP(lane)                                                                     \
        weights(g + lane, w);                                                                            \
        for (std::size_t r = 0; r < MR; ++r)                                                             \
            for (std::size_t q = 0; q < NQ; ++q) acc[r][q] = vdotq_laneq_s32(acc[r][q], w[q], x[r], lane);
        EDGEBERT_I8_SDOT_GROUP(0)
        EDGEBERT_I8_SDOT_GROUP(1)
        EDGEBERT_I8_SDOT_GROUP(2)
        EDGEBERT_I8_SDOT_GROUP(3)
#undef EDGEBERT_I8_SDOT_GROUP
    }
    for (; g < kg; ++g) {  // the last groups, one at a time
        int8x16_t w[NQ];
        weights(g, w);
        for (std::size_t r = 0; r < MR; ++r) {
            const int8x16_t x = broadcast_group(r, g);
            for (std::size_t q = 0; q < NQ; ++q) acc[r][q] = vdotq_s32(acc[r][q], w[q], x);
        }
    }
#else
    // Without sdot: widening byte products (at most 127 x 127, exact in int16), then pairwise sums to the
    // four k values of each column.
    for (std::size_t g = 0; g < kg; ++g) {
        int8x16_t w[NQ];
        weights(g, w);
        for (std::size_t r = 0; r < MR; ++r) {
            const int8x16_t x = broadcast_group(r, g);
            for (std::size_t q = 0; q < NQ; ++q) {
                const int16x8_t lo = vmull_s8(vget_low_s8(w[q]), vget_low_s8(x));  // columns 0, 1
                const int16x8_t hi = vmull_high_s8(w[q], x);                       // columns 2, 3
                acc[r][q] = vaddq_s32(acc[r][q], vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
            }
        }
    }
#endif
    for (std::size_t r = 0; r < MR; ++r)
        for (std::size_t q = 0; q < NQ; ++q) vst1q_s32(out + r * NR + q * 4, acc[r][q]);
#else
    for (std::size_t r = 0; r < MR; ++r) {
        const std::int8_t* x = reinterpret_cast<const std::int8_t*>(a + r * lda);
        for (std::size_t c = 0; c < NR; ++c) {
            const std::int8_t* w = b + (c / i8_panel_width) * panel_bytes + (c % i8_panel_width) * 4;
            std::int32_t s = 0;
            for (std::size_t g = 0; g < kg; ++g)
                for (std::size_t t = 0; t < 4; ++t) s += std::int32_t(x[g * 4 + t]) * std::int32_t(w[g * 64 + t]);
            out[r * NR + c] = s;
        }
    }
#endif
}

/// Largest |x[i]| of a row (0 for k == 0).
inline float i8_max_abs(const float* x, std::size_t k) noexcept {
    // max_ps(a, b) returns b when either is NaN, so |x| comes first and a NaN is skipped, as std::max(m, |x|)
    // skips it below and in the scalar reference (with the running max first, a NaN survived only in the last
    // vector). Four running maxima keep the chain's latency off the loop; end to end that was within the noise.
    float m = 0.f;
    std::size_t i = 0;
#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
    __m512 v0 = _mm512_setzero_ps(), v1 = v0, v2 = v0, v3 = v0;
    for (; i + 64 <= k; i += 64) {
        v0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), v0);
        v1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 16)), v1);
        v2 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 32)), v2);
        v3 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 48)), v3);
    }
    for (; i + 16 <= k; i += 16) v0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), v0);
    m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(v0, v1), _mm512_max_ps(v2, v3)));
#elif defined(EDGEBERT_I8_ISA_AVXVNNI) || defined(EDGEBERT_I8_ISA_AVX2)
    const __m256 sign = _mm256_set1_ps(-0.f);
    __m256 v0 = _mm256_setzero_ps(), v1 = v0, v2 = v0, v3 = v0;
    for (; i + 32 <= k; i += 32) {
        v0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), v0);
        v1 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 8)), v1);
        v2 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 16)), v2);
        v3 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 24)), v3);
    }
    for (; i + 8 <= k; i += 8) v0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), v0);
    alignas(32) float t[8];
    _mm256_store_ps(t, _mm256_max_ps(_mm256_max_ps(v0, v1), _mm256_max_ps(v2, v3)));
    for (float e : t) m = std::max(m, e);
#endif
    for (; i < k; ++i) m = std::max(m, std::fabs(x[i]));
    return m;
}

/// One element's 8-bit value: clamp(round-to-nearest-even(x · inv), -127, 127) (NaN: -127, as the SIMD
/// conversion's out-of-range value clamps).
inline int i8_quantize_value(float x, float inv) noexcept {
    const float r = std::nearbyint(x * inv);
    return r != r ? -127 : r >= 127.f ? 127 : r <= -127.f ? -127 : int(r);
}

/// out[i] = i8_quantize_value(x[i], inv) (+ 128 when `unsigned_out`) for i < k, with SIMD where the target
/// has it: the conversion rounds to nearest even (the default mode) like std::nearbyint, so every path gives
/// the same bytes.
inline void i8_quantize_row(const float* x, std::size_t k, float inv, bool unsigned_out, std::uint8_t* out) noexcept {
    std::size_t i = 0;
    const int offset = unsigned_out ? 128 : 0;
#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
    // Clamped as floats before the conversion (out-of-range floats would convert to INT_MIN); max_ps returns
    // its second operand for a NaN first one, so NaN becomes -127 as in i8_quantize_value.
    const __m512 s = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
    const __m512i off = _mm512_set1_epi32(offset);
    for (; i + 16 <= k; i += 16) {
        const __m512 y = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), s), lo), hi);
        const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(y), off);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(q));  // low bytes: exact in range
    }
#elif defined(EDGEBERT_I8_ISA_AVXVNNI) || defined(EDGEBERT_I8_ISA_AVX2)
    const __m256 s = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-127.f), hi = _mm256_set1_ps(127.f);
    const __m256i off = _mm256_set1_epi32(offset);
    for (; i + 8 <= k; i += 8) {
        const __m256 y = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), lo), hi);
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(y), off);
        const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));  // -127..255 fit
        const __m128i b8 = unsigned_out ? _mm_packus_epi16(w16, w16) : _mm_packs_epi16(w16, w16);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), b8);
    }
#endif
    for (; i < k; ++i) out[i] = std::uint8_t(i8_quantize_value(x[i], inv) + offset);
}

}  // inline namespace EDGEBERT_I8_ISA_NAMESPACE
EDGEBERT_ISA_END
}  // namespace edgebert::kernels::detail
