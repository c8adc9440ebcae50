// SPDX-License-Identifier: Apache-2.0
#pragma once
// C = epilogue(A · Wᵀ) with W held as 8-bit codes of a number format (AdaptivFloat, FP8, ...), decoded on the fly.
//
// Layout: the codes are packed once, at load, in the fp32 GEMM's panel layout (kernels/gemm.hpp): panel p holds
// output columns [p*NR, p*NR + NR), k rows of NR codes (code 0 = +0 past n). A multiplication decodes each panel
// once, through the format's 256-entry table, into a thread-local fp32 panel (the exact layout gemm's micro-kernel
// reads) and runs every row of A against it: the decode costs k*NR lookups per panel against m*k*NR FMAs, so it
// vanishes for m in the tens. The micro-kernel, blocking, edge tiles and epilogue are gemm's own, so the result
// is bit-for-bit kernels::gemm on the decoded weights.
//
// Decoding (detail::decode_codes): with AVX512-VBMI, 64 codes at a time: each byte plane of the float table
// (4 x 256 bytes, 2 when the table's values are bf16-exact as AdaptivFloat-8 and unscaled FP8 are) is looked up
// with two vpermi2b and a blend on the code's top bit, and the bytes are interleaved into floats by two more
// vpermi2b per 16 outputs; about 16 instructions per 64 weights. On AArch64, 16 codes at a time: each byte plane
// is four 64-byte tables, looked up with one tbl and three tbx (an index past a table leaves the lane as it was),
// and st4 interleaves the planes into 16 floats. Otherwise a scalar table loop. Per-row
// parameters (one exponent bias or scale per output row): the shared table times a per-column scale when that is
// exact (sparse::code_tables), else one table per column, scalar.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#if defined(__AVX512VBMI__) && defined(__AVX512BW__) && defined(__AVX512F__)
#include <immintrin.h>
#define EDGEBERT_Q8_VBMI 1
#else
#define EDGEBERT_Q8_VBMI 0
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_neon.h>
#define EDGEBERT_Q8_NEON 1
#else
#define EDGEBERT_Q8_NEON 0
#endif

#include "../core/aligned_buffer.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../numeric/format.hpp"
#include "../sparse/code_tables.hpp"
#include "gemm.hpp"

namespace edgebert::kernels {

namespace detail {

/// A 256-entry float table split into byte planes for the SIMD decoder.
struct q8_planes {
    alignas(64) std::uint8_t plane[4][256] = {};
    bool low_zero = false;  ///< every value's low 16 bits are zero (bf16-exact): planes 0 and 1 are skipped
    alignas(64) float table[256] = {};

    q8_planes() = default;
    explicit q8_planes(const float* t) {
        std::memcpy(table, t, sizeof table);
        low_zero = true;
        for (int c = 0; c < 256; ++c) {
            std::uint32_t u;
            std::memcpy(&u, t + c, 4);
            for (int b = 0; b < 4; ++b) plane[b][c] = std::uint8_t(u >> (8 * b));
            low_zero = low_zero && (u & 0xFFFFu) == 0;
        }
    }
};

EDGEBERT_ISA_BEGIN
/// out[i] = t.table[codes[i]] for i < n.
inline void decode_codes(const std::uint8_t* codes, std::size_t n, const q8_planes& t, float* out) noexcept {
#if EDGEBERT_Q8_VBMI
    __m512i P[4][4];
    for (int b = 0; b < 4; ++b)
        for (int q = 0; q < 4; ++q) P[b][q] = _mm512_load_si512(reinterpret_cast<const void*>(t.plane[b] + 64 * q));
    // Output vector v (floats 16v .. 16v+15): byte 4i+j comes from plane j at code 16v+i; operand a holds the
    // even plane, b (index + 64) the odd one.
    alignas(64) static const std::array<std::array<std::uint8_t, 64>, 4> idx = [] {
        std::array<std::array<std::uint8_t, 64>, 4> x{};
        for (int v = 0; v < 4; ++v)
            for (int i = 0; i < 16; ++i) {
                x[v][4 * i + 0] = x[v][4 * i + 2] = std::uint8_t(16 * v + i);
                x[v][4 * i + 1] = x[v][4 * i + 3] = std::uint8_t(64 + 16 * v + i);
            }
        return x;
    }();
    __m512i I[4];
    for (int v = 0; v < 4; ++v) I[v] = _mm512_load_si512(reinterpret_cast<const void*>(idx[v].data()));
    constexpr __mmask64 low_bytes = 0x3333333333333333ull, high_bytes = 0xCCCCCCCCCCCCCCCCull;
    auto lookup = [&](int b, __m512i c, __mmask64 top) {
        const __m512i lo = _mm512_permutex2var_epi8(P[b][0], c, P[b][1]);
        const __m512i hi = _mm512_permutex2var_epi8(P[b][2], c, P[b][3]);
        return _mm512_mask_blend_epi8(top, lo, hi);
    };
    for (std::size_t i = 0; i < n; i += 64) {
        const std::size_t cnt = std::min<std::size_t>(64, n - i);
        const __mmask64 in = cnt == 64 ? ~__mmask64(0) : ((__mmask64(1) << cnt) - 1);
        const __m512i c = _mm512_maskz_loadu_epi8(in, codes + i);
        const __mmask64 top = _mm512_movepi8_mask(c);
        const __m512i r2 = lookup(2, c, top), r3 = lookup(3, c, top);
        __m512i r0 = _mm512_setzero_si512(), r1 = r0;
        if (!t.low_zero) r0 = lookup(0, c, top), r1 = lookup(1, c, top);
        for (int v = 0; v < 4; ++v) {
            const std::size_t first = 16 * std::size_t(v);
            if (first >= cnt) break;
            __m512i o = _mm512_maskz_permutex2var_epi8(high_bytes, r2, I[v], r3);
            if (!t.low_zero) o = _mm512_or_si512(o, _mm512_maskz_permutex2var_epi8(low_bytes, r0, I[v], r1));
            const std::size_t left = cnt - first;
            if (left >= 16) _mm512_storeu_ps(out + i + first, _mm512_castsi512_ps(o));
            else _mm512_mask_storeu_ps(out + i + first, __mmask16((1u << left) - 1), _mm512_castsi512_ps(o));
        }
    }
#elif EDGEBERT_Q8_NEON
    uint8x16x4_t P[4][4];
    for (int b = 0; b < 4; ++b)
        for (int q = 0; q < 4; ++q) P[b][q] = vld1q_u8_x4(t.plane[b] + 64 * q);
    const uint8x16_t step = vdupq_n_u8(64);
    auto lookup = [&](int b, uint8x16_t c) {
        uint8x16_t r = vqtbl4q_u8(P[b][0], c);
        c = vsubq_u8(c, step);  // codes below the table wrap past 255 - 64: out of range, lane kept
        r = vqtbx4q_u8(r, P[b][1], c);
        c = vsubq_u8(c, step);
        r = vqtbx4q_u8(r, P[b][2], c);
        c = vsubq_u8(c, step);
        return vqtbx4q_u8(r, P[b][3], c);
    };
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8x16_t c = vld1q_u8(codes + i);
        uint8x16x4_t o;
        o.val[0] = t.low_zero ? vdupq_n_u8(0) : lookup(0, c);
        o.val[1] = t.low_zero ? vdupq_n_u8(0) : lookup(1, c);
        o.val[2] = lookup(2, c);
        o.val[3] = lookup(3, c);
        vst4q_u8(reinterpret_cast<std::uint8_t*>(out + i), o);  // byte j of float i from plane j (little-endian)
    }
    for (; i < n; ++i) out[i] = t.table[codes[i]];
#else
    for (std::size_t i = 0; i < n; ++i) out[i] = t.table[codes[i]];
#endif
}
EDGEBERT_ISA_END

}  // namespace detail

/// W [n_out x k_in] as 8-bit codes in gemm's panel layout, with its decode tables.
class q8_packed_matrix {
public:
#if !defined(EDGEBERT_KERNEL_DISPATCH)
    static constexpr std::size_t panel_width = detail::gemm_nr;
#endif

    q8_packed_matrix() = default;

    /// From codes of a PyTorch Linear weight [n_out x k_in] (row stride ld) and the tables of their format
    /// (tables.rows() == n_out). format_error for a code that does not fit the format; shape_error for a
    /// stride or table row count that does not match.
    static q8_packed_matrix from_codes(const std::uint8_t* codes, std::size_t n_out, std::size_t k_in, std::size_t ld,
                                       sparse::code_tables tables) {
        if (n_out && k_in && ld < k_in)
            throw shape_error("q8_packed_matrix::from_codes: row stride " + std::to_string(ld) + " < in_features " + std::to_string(k_in));
        if (tables.empty()) throw config_error("q8_packed_matrix::from_codes: no decode tables given");
        if (tables.rows() != n_out)
            throw shape_error("q8_packed_matrix::from_codes: decode tables are for " + std::to_string(tables.rows()) + " rows, W has " +
                              std::to_string(n_out));
        for (std::size_t j = 0; j < n_out; ++j) tables.check_codes(codes + j * ld, k_in, "q8_packed_matrix: row " + std::to_string(j));
        q8_packed_matrix p;
        p.k_ = k_in;
        p.n_ = n_out;
        const std::size_t NR = p.nr_, np = p.panels();
        p.codes_.resize(np * NR * k_in);  // zero codes past n (+0 in every format; never stored to C anyway)
        for (std::size_t pp = 0; pp < np; ++pp) {
            std::uint8_t* out = p.codes_.data() + pp * k_in * NR;
            const std::size_t j0 = pp * NR, w = std::min(NR, n_out - j0);
            for (std::size_t j = 0; j < w; ++j)
                for (std::size_t kk = 0; kk < k_in; ++kk) out[kk * NR + j] = codes[(j0 + j) * ld + kk];
        }
        p.tables_ = std::move(tables);
        p.planes_ = std::shared_ptr<const detail::q8_planes>(new detail::q8_planes(p.tables_.base()));  // aligned new
        if (p.tables_.shared_base() && p.tables_.scales()) {
            p.col_scales_.resize(np * NR);
            for (std::size_t j = 0; j < np * NR; ++j) p.col_scales_[j] = j < n_out ? p.tables_.scale(j) : 1.0f;
        }
        return p;
    }

    /// Quantize a PyTorch Linear weight (numeric::quantized_tensor::quantize rules) to an 8-bit format.
    static q8_packed_matrix quantize(const float* w, std::size_t n_out, std::size_t k_in, std::size_t ld,
                                     const numeric::number_format& f, const numeric::quantize_options& opt = {}) {
        if (n_out && k_in && ld < k_in)
            throw shape_error("q8_packed_matrix::quantize: row stride " + std::to_string(ld) + " < in_features " + std::to_string(k_in));
        if (f.bits() > 8) throw config_error("q8_packed_matrix: " + f.name() + " is wider than 8 bits");
        std::vector<float> x(n_out * k_in);
        for (std::size_t j = 0; j < n_out; ++j) std::copy(w + j * ld, w + j * ld + k_in, x.data() + j * k_in);
        const auto q = numeric::quantized_tensor::quantize(x.data(), {n_out, k_in}, f, opt);
        return from_codes(q.codes8().data(), n_out, k_in, k_in, sparse::code_tables::of(q));
    }

    std::size_t k() const noexcept { return k_; }
    std::size_t n() const noexcept { return n_; }
    /// Columns per panel (gemm's NR when packed).
    std::size_t panel_columns() const noexcept { return nr_; }
    std::size_t panels() const noexcept { return (n_ + nr_ - 1) / nr_; }
    bool empty() const noexcept { return n_ == 0 || k_ == 0; }
    const sparse::code_tables& tables() const noexcept { return tables_; }
    /// Code of W[nn][kk] (= element (kk, nn) of B = Wᵀ).
    std::uint8_t code(std::size_t kk, std::size_t nn) const {
        if (kk >= k_ || nn >= n_) throw shape_error("q8_packed_matrix::code: index out of range");
        return codes_[(nn / nr_) * k_ * nr_ + kk * nr_ + nn % nr_];
    }
    /// Decoded W[nn][kk].
    float at(std::size_t kk, std::size_t nn) const { return tables_.value(nn, code(kk, nn)); }
    /// Storage: one byte per weight + per-row parameters (4 bytes per row when per row).
    std::size_t storage_bytes() const noexcept { return n_ * k_ + tables_.parameter_bytes(); }
    /// Held in memory: the packed codes (panel padding included, as packed_matrix::bytes()) + per-row parameters.
    std::size_t bytes() const noexcept { return codes_.size() + tables_.parameter_bytes(); }
    /// bytes() + decode tables and scales.
    std::size_t memory_bytes() const noexcept {
        return codes_.size() + tables_.memory_bytes() + (planes_ ? sizeof(detail::q8_planes) : 0) + col_scales_.size() * sizeof(float);
    }

    /// Panel p's codes: k() rows of panel_columns() codes.
    const std::uint8_t* panel_codes(std::size_t p) const noexcept { return codes_.data() + p * k_ * nr_; }
    /// The shared table split into byte planes (null when empty).
    const detail::q8_planes* planes() const noexcept { return planes_.get(); }
    /// Per packed column scales of a shared table (empty when every scale is 1 or tables are per row).
    const std::vector<float>& column_scales() const noexcept { return col_scales_; }

private:
    std::size_t k_ = 0, n_ = 0, nr_ = packing_panel_width();
    aligned_buffer<std::uint8_t> codes_;
    sparse::code_tables tables_;
    std::shared_ptr<const detail::q8_planes> planes_;  // shared by copies (64-byte aligned on its own)
    std::vector<float> col_scales_;                    // per packed column, when the rows' scales differ from 1
};

namespace detail {
EDGEBERT_ISA_BEGIN

/// Decode rows [k0, k0 + kc) of panel p of b into dst (kc * gemm_nr floats, 64-byte aligned).
inline void decode_q8_panel(const q8_packed_matrix& b, std::size_t p, std::size_t k0, std::size_t kc, float* dst) noexcept {
    constexpr std::size_t NR = gemm_nr;
    const std::uint8_t* src = b.panel_codes(p) + k0 * NR;
    const sparse::code_tables& tables = b.tables();
    if (tables.shared_base()) {
        decode_codes(src, kc * NR, *b.planes(), dst);
        const std::vector<float>& col_scales = b.column_scales();
        if (!col_scales.empty()) {
            using B = gemm_batch;
            constexpr std::size_t W = gemm_lanes, NV = NR / W;
            B s[NV];
            for (std::size_t v = 0; v < NV; ++v) s[v] = B::load_unaligned(col_scales.data() + p * NR + v * W);
            for (std::size_t kk = 0; kk < kc; ++kk)
                for (std::size_t v = 0; v < NV; ++v) (B::load_aligned(dst + kk * NR + v * W) * s[v]).store_aligned(dst + kk * NR + v * W);
        }
        return;
    }
    const std::size_t j0 = p * NR, w = std::min(NR, b.n() - j0);
    const float* tabs[NR];
    for (std::size_t j = 0; j < NR; ++j) tabs[j] = tables.table(j0 + std::min(j, w - 1));
    for (std::size_t kk = 0; kk < kc; ++kk) {
        for (std::size_t j = 0; j < w; ++j) dst[kk * NR + j] = tabs[j][src[kk * NR + j]];
        for (std::size_t j = w; j < NR; ++j) dst[kk * NR + j] = 0.0f;
    }
}

/// Column panels [p_begin, p_end) x row micro-panels [i_begin, i_end) of C = epilogue(A · decode(B)): each panel
/// is decoded once into thread-local scratch and handed to gemm's tile loop.
inline void compute_q8_tiles(const a_operand& a, std::size_t m, const q8_packed_matrix& b, std::size_t p_begin,
                             std::size_t p_end, std::size_t i_begin, std::size_t i_end, float* c, std::size_t ldc,
                             const epilogue& ep) {
    constexpr std::size_t NR = gemm_nr;
    const std::size_t k = b.k(), n = b.n();
    if (k == 0) {
        compute_tiles(a, m, 0, nullptr, n, p_begin, p_end, i_begin, i_end, c, ldc, ep);
        return;
    }
    thread_local aligned_buffer<float> panel;
    float* dst = scratch(panel, k * NR);
    for (std::size_t p = p_begin; p < p_end; ++p) {
        const std::size_t n0 = p * NR, w = std::min(NR, n - n0);
        decode_q8_panel(b, p, 0, k, dst);
        epilogue e = ep;
        if (e.bias) e.bias += n0;
        if (e.residual) e.residual += n0;
        compute_tiles(a, m, k, dst, w, 0, 1, i_begin, i_end, c + n0, ldc, e);
    }
}

EDGEBERT_ISA_END
}  // namespace detail

EDGEBERT_ISA_BEGIN

/// C[m x n] (row stride ldc) = epilogue(A[m x k] (row stride lda) · decode(B)), the contract of kernels::gemm
/// (threads, edge cases, errors); the result equals gemm on the decoded weights bit for bit.
EDGEBERT_KERNEL_API
void gemm_q8(const float* a, std::size_t m, std::size_t lda, const q8_packed_matrix& b, float* c, std::size_t ldc,
             const epilogue& ep = {}, int threads = 1)
#if EDGEBERT_KERNEL_BODIES
{
    const std::size_t k = b.k(), n = b.n();
    detail::check_gemm_args("gemm_q8", k, lda, n, ldc, ep);
    detail::check_panel_width("gemm_q8", b.panel_columns());
    if (m == 0 || n == 0) return;
    const std::size_t npanels = b.panels(), mpanels = (m + detail::gemm_mr - 1) / detail::gemm_mr;
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, 1.f);
    detail::for_each_tile_block(threads, npanels, mpanels, [&](std::size_t p0, std::size_t p1, std::size_t i0, std::size_t i1) {
        detail::compute_q8_tiles(a_op, m, b, p0, p1, i0, i1, c, ldc, ep);
    });
}
#else
;
#endif
EDGEBERT_ISA_END

namespace reference {

/// Scalar: C = epilogue(A · Wᵀ) with W [n x k] given as codes (row stride ldw) and their tables; double
/// accumulation of the decoded values.
inline void gemm_q8(const float* a, std::size_t m, std::size_t k, std::size_t lda, const std::uint8_t* codes, std::size_t n,
                    std::size_t ldw, const sparse::code_tables& tables, float* c, std::size_t ldc, const epilogue& ep = {}) {
    std::vector<float> w(n * k);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t t = 0; t < k; ++t) w[j * k + t] = tables.value(j, codes[j * ldw + t]);
    gemm(a, m, k, lda, w.data(), n, k, c, ldc, ep);
}

}  // namespace reference

}  // namespace edgebert::kernels
