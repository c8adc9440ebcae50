// SPDX-License-Identifier: Apache-2.0
#pragma once
// Y = epilogue(X · Wᵀ) for a block-pruned W in per-output-channel symmetric int8: kernels::gemm_i8's arithmetic
// (the same quantization of W and of X, int32 sums, one float scale per output), with the pruned blocks skipped.
//
// Storage (i8_block_sparse_matrix): W's rows in groups of 4 outputs; a group keeps, in increasing order, the
// k groups of 4 columns where any of its 4 x 4 weights is nonzero, as 16 int8 codes (output r's four weights at
// bytes 4r .. 4r+3). Any block shape maps onto it exactly: a 4 x 8 block is two entries, a 1 x 8 block shares
// its entries with the three rows beside it (stored zeros), a 16 x 1 block touches four groups of one column.
//   bytes() = 16 · entries + 4 · (row groups + 1) + 4 · entries + 8 · rows (scales, code sums)
//
// The product runs with the tokens along the vector lanes, like kernels::sparse_gemm: X is quantized per row
// (kernels::gemm_i8's rule) into Xᵀ groups, bytes [k group][token][4]; one 4-byte weight word, broadcast, is
// multiplied into a vector of tokens' 4 bytes (vpdpbusd on AVX-512 VNNI / AVX-VNNI; vpmaddubsw + vpmaddwd on
// AVX2; sdot or widening products on AArch64; plain loops elsewhere), so each stored entry costs 4 dot-product
// instructions per vector of tokens and nothing is spent on pruned blocks. The integer sums are exact, so the
// result equals reference::gemm_i8 on the dense codes bit for bit before the epilogue.
//
// Where it pays over the dense int8 GEMM: docs/sparse.md ("Integers") measures the crossover, between 0.6 and 0.7
// of the 4 x 4 groups stored.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <immintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#include "../core/aligned_buffer.hpp"
#include "../core/error.hpp"
#include "../sparse/block_sparse_matrix.hpp"
#include "gemm.hpp"
#include "gemm_i8.hpp"

namespace edgebert::kernels {

/// W [n_out x k_in], block-pruned, as per-output-channel symmetric int8 in groups of 4 rows x 4 columns that
/// hold a nonzero (layout above).
class i8_block_sparse_matrix {
public:
    static constexpr std::size_t group_rows = 4, group_cols = 4;

    i8_block_sparse_matrix() = default;

    /// Quantize a PyTorch Linear weight [n_out x k_in] (row stride ld) per output row (quantize_rows_i8: the
    /// rule of i8_packed_matrix), keeping the 4 x 4 groups with a nonzero code. shape_error for ld < k_in or
    /// k_in > gemm_i8_max_k; config_error for a non-finite weight.
    static i8_block_sparse_matrix quantize(const float* w, std::size_t n_out, std::size_t k_in, std::size_t ld) {
        detail::check_i8_weight_shape("i8_block_sparse_matrix::quantize", n_out, k_in, ld);
        return detail::quantized_i8(w, n_out, k_in, ld,
                                    [&](const std::int8_t* q, const float* s) { return from_int8(q, n_out, k_in, k_in, s); });
    }

    /// A block-sparse matrix (fp32 values or 8-bit codes of any format), decoded and quantized as quantize().
    static i8_block_sparse_matrix quantize(const sparse::block_sparse_matrix& b) {
        const std::vector<float> w = b.to_dense();
        return quantize(w.data(), b.rows(), b.cols(), b.cols());
    }

    /// From int8 codes [n_out x k_in] (row stride ld) and one scale per row: W[n][k] = q[n][k] · scales[n].
    /// format_error for a code of -128 or a negative or non-finite scale; shape_error as quantize().
    static i8_block_sparse_matrix from_int8(const std::int8_t* q, std::size_t n_out, std::size_t k_in, std::size_t ld,
                                            const float* scales) {
        detail::check_i8_weight_shape("i8_block_sparse_matrix::from_int8", n_out, k_in, ld);
        constexpr std::size_t GR = group_rows, GC = group_cols;
        i8_block_sparse_matrix m;
        m.n_ = n_out;
        m.k_ = k_in;
        const std::size_t row_groups = (n_out + GR - 1) / GR, kg = (k_in + GC - 1) / GC;
        m.scales_.assign(row_groups * GR, 0.f);
        m.code_sums_.assign(row_groups * GR, 0);
        m.group_ptr_.assign(1, 0);
        for (std::size_t j = 0; j < n_out; ++j) {
            m.code_sums_[j] = detail::checked_i8_row_sum("i8_block_sparse_matrix", q + j * ld, k_in, scales[j], j);
            m.scales_[j] = scales[j];
        }
        for (std::size_t g = 0; g < row_groups; ++g) {
            for (std::size_t c = 0; c < kg; ++c) {
                std::int8_t word[GR * GC] = {};
                bool any = false;
                for (std::size_t r = 0; r < GR; ++r)
                    for (std::size_t t = 0; t < GC; ++t) {
                        const std::size_t row = g * GR + r, col = c * GC + t;
                        if (row < n_out && col < k_in) word[r * GC + t] = q[row * ld + col];
                        any = any || word[r * GC + t] != 0;
                    }
                if (!any) continue;
                m.col_group_.push_back(std::uint32_t(c));
                m.codes_.insert(m.codes_.end(), word, word + GR * GC);
            }
            m.group_ptr_.push_back(std::uint32_t(m.col_group_.size()));
        }
        return m;
    }

    std::size_t k() const noexcept { return k_; }
    std::size_t n() const noexcept { return n_; }
    std::size_t row_groups() const noexcept { return group_ptr_.empty() ? 0 : group_ptr_.size() - 1; }
    /// Stored 4 x 4 groups.
    std::size_t entries() const noexcept { return col_group_.size(); }
    /// Stored groups / all groups (1 for a dense matrix; 0 for an empty one).
    double density() const noexcept {
        const std::size_t all = row_groups() * ((k_ + group_cols - 1) / group_cols);
        return all ? double(entries()) / double(all) : 0.0;
    }
    const std::uint32_t* group_ptr() const noexcept { return group_ptr_.data(); }  ///< [row groups + 1]
    const std::uint32_t* col_groups() const noexcept { return col_group_.data(); }  ///< [entries]: k group of each
    const std::int8_t* codes() const noexcept { return codes_.data(); }             ///< [entries x 16]
    const float* scales() const noexcept { return scales_.data(); }                 ///< [row groups · 4], 0 past n
    const std::int32_t* code_sums() const noexcept { return code_sums_.data(); }    ///< [row groups · 4]: sum_k q[n][k]
    /// The int8 code of W[nn][kk] (0 where pruned).
    std::int8_t code(std::size_t kk, std::size_t nn) const {
        if (kk >= k_ || nn >= n_) throw shape_error("i8_block_sparse_matrix::code: index out of range");
        const std::size_t g = nn / group_rows, c = kk / group_cols;
        const auto* b = col_group_.data() + group_ptr_[g];
        const auto* e = col_group_.data() + group_ptr_[g + 1];
        const auto* it = std::lower_bound(b, e, std::uint32_t(c));
        if (it == e || *it != c) return 0;
        return codes_[std::size_t(it - col_group_.data()) * 16 + (nn % group_rows) * group_cols + kk % group_cols];
    }
    float scale(std::size_t nn) const {
        if (nn >= n_) throw shape_error("i8_block_sparse_matrix::scale: index out of range");
        return scales_[nn];
    }
    /// W[nn][kk] as the product sees it: code · scale.
    float at(std::size_t kk, std::size_t nn) const { return float(code(kk, nn)) * scale(nn); }
    /// Held in memory: codes, column indices, offsets, scales and code sums.
    std::size_t bytes() const noexcept {
        return codes_.size() + 4 * (col_group_.size() + group_ptr_.size()) + scales_.size() * (sizeof(float) + sizeof(std::int32_t));
    }

private:
    std::size_t n_ = 0, k_ = 0;
    std::vector<std::uint32_t> group_ptr_, col_group_;
    std::vector<std::int8_t> codes_;
    std::vector<float> scales_;
    std::vector<std::int32_t> code_sums_;
};

#if defined(EDGEBERT_KERNEL_DISPATCH) && !defined(EDGEBERT_KERNEL_ISA)
/// As the header-only sparse_gemm_i8 below, on the dispatched set's integer path.
void sparse_gemm_i8(const float* x, std::size_t m, std::size_t ldx, const i8_block_sparse_matrix& w, float* y, std::size_t ldy,
                    const epilogue& ep = {}, int threads = 1);
#else

namespace detail {
EDGEBERT_ISA_BEGIN
inline namespace EDGEBERT_I8_ISA_NAMESPACE {

#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
inline constexpr std::size_t i8t_lanes = 16, i8t_vectors = 6;  // 24 accumulators + 6 token vectors + a broadcast
#elif defined(EDGEBERT_I8_ISA_AVXVNNI)
inline constexpr std::size_t i8t_lanes = 8, i8t_vectors = 3;
#elif defined(EDGEBERT_I8_ISA_AVX2)
inline constexpr std::size_t i8t_lanes = 8, i8t_vectors = 2;  // 8 accumulators + tokens, |tokens|, temporaries
#elif defined(EDGEBERT_I8_ISA_NEON_DOTPROD)
inline constexpr std::size_t i8t_lanes = 4, i8t_vectors = 6;
#else
inline constexpr std::size_t i8t_lanes = 4, i8t_vectors = 4;
#endif

/// X quantized per row into Xᵀ groups: bytes (g · mp + t) · 4 + j hold token t's byte for column 4g + j; tokens
/// padded to mp (a multiple of the lanes) and columns to whole groups with the value of zero.
struct i8_transposed_activations {
    const std::uint8_t* data = nullptr;
    std::size_t mp = 0;
    const float* scales = nullptr;  ///< [mp], 0 for padding tokens
};

/// Token rows are quantized in jobs of 16 on up to `threads` threads (done by the calling thread alone, this pass
/// kept a 2-thread 768 x 768 product at 1.25x the speed of one thread).
inline i8_transposed_activations quantize_activations_transposed(const float* x, std::size_t m, std::size_t ldx, std::size_t k,
                                                                 int threads = 1) {
    thread_local aligned_buffer<std::uint8_t> bytes;
    thread_local std::vector<float> scales;
    const std::size_t mp = (m + i8t_lanes - 1) / i8t_lanes * i8t_lanes, kg = (k + 3) / 4;
    const std::uint8_t pad = i8_unsigned_activations ? 128 : 0;
    bytes.reserve_scratch(std::max<std::size_t>(1, kg * mp * 4));
    scales.assign(mp, 0.f);
    if (kg == 0) return {bytes.data(), mp, scales.data()};
    std::uint8_t* out = bytes.data();
    float* scale = scales.data();
    // A job quantizes 16 token rows into a row-major block, then fills each k group's 64-byte run of 16 tokens,
    // one line at a time. Written token by token, every 4-byte store went to another cache line of a buffer
    // larger than L1 (a seventh of a block-pruned model's time). The run is written in place: gathered into a
    // stack line first and copied as one vector, the vector load waited on sixteen 4-byte stores it could not
    // forward (a third of this pass's time in perf annotate).
    constexpr std::size_t job_tokens = 16;
    parallel_for(threads, (mp + job_tokens - 1) / job_tokens, [&](std::size_t job) {
        thread_local std::vector<std::uint8_t> block_buffer;
        const std::size_t row_bytes = kg * 4, t_begin = job * job_tokens, t_end = std::min(mp, t_begin + job_tokens);
        block_buffer.resize(job_tokens * row_bytes);
        std::uint8_t* const block = block_buffer.data();
        for (std::size_t t = t_begin; t < t_end; ++t) {
            std::uint8_t* row = block + (t - t_begin) * row_bytes;
            if (t >= m) {  // a padding token (scale 0, never stored): no stale bytes from an earlier call
                std::fill_n(row, row_bytes, pad);
                continue;
            }
            const float mx = i8_max_abs(x + t * ldx, k);
            scale[t] = mx / 127.f;
            i8_quantize_row(x + t * ldx, k, mx > 0.f ? 127.f / mx : 0.f, i8_unsigned_activations, row);
            std::fill(row + k, row + row_bytes, pad);  // the columns past k meet zero weight codes; set, not stale
        }
        for (std::size_t g = 0; g < kg; ++g) {
            std::uint8_t* line = out + (g * mp + t_begin) * 4;
            for (std::size_t tt = 0; tt < t_end - t_begin; ++tt) std::memcpy(line + tt * 4, block + tt * row_bytes + g * 4, 4);
        }
    });
    return {bytes.data(), mp, scales.data()};
}

/// out[r][v·L + l] (r < 4, row stride T·L) = sum over a row group's entries [e0, e1) of output r's 4 weights ·
/// token (t0 + v·L + l)'s 4 bytes of the entry's k group.
template <std::size_t T>
inline void i8t_kernel(const i8_transposed_activations& a, std::size_t t0, const std::uint32_t* col_group, const std::int8_t* codes,
                       std::size_t e0, std::size_t e1, std::int32_t* out) noexcept {
    constexpr std::size_t L = i8t_lanes, GR = i8_block_sparse_matrix::group_rows;
    const std::size_t stride = a.mp * 4;  // bytes between k groups
    const std::uint8_t* base = a.data + t0 * 4;
#if defined(EDGEBERT_I8_ISA_AVX512VNNI)
    __m512i acc[GR][T];
    for (std::size_t r = 0; r < GR; ++r)
        for (std::size_t v = 0; v < T; ++v) acc[r][v] = _mm512_setzero_si512();
    for (std::size_t e = e0; e < e1; ++e) {
        const std::uint8_t* p = base + col_group[e] * stride;
        __m512i x[T];
        for (std::size_t v = 0; v < T; ++v) x[v] = _mm512_loadu_si512(reinterpret_cast<const void*>(p + v * 64));
        for (std::size_t r = 0; r < GR; ++r) {
            std::int32_t four;
            std::memcpy(&four, codes + e * 16 + r * 4, 4);
            const __m512i wb = _mm512_set1_epi32(four);
            for (std::size_t v = 0; v < T; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], x[v], wb);
        }
    }
    for (std::size_t r = 0; r < GR; ++r)
        for (std::size_t v = 0; v < T; ++v) _mm512_storeu_si512(reinterpret_cast<void*>(out + r * T * L + v * L), acc[r][v]);
#elif defined(EDGEBERT_I8_ISA_AVXVNNI) || defined(EDGEBERT_I8_ISA_AVX2)
    __m256i acc[GR][T];
    for (std::size_t r = 0; r < GR; ++r)
        for (std::size_t v = 0; v < T; ++v) acc[r][v] = _mm256_setzero_si256();
#if defined(EDGEBERT_I8_ISA_AVX2)
    const __m256i ones = _mm256_set1_epi16(1);
#endif
    for (std::size_t e = e0; e < e1; ++e) {
        const std::uint8_t* p = base + col_group[e] * stride;
        __m256i x[T];
        for (std::size_t v = 0; v < T; ++v) x[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + v * 32));
#if defined(EDGEBERT_I8_ISA_AVX2)
        __m256i ax[T];  // vpmaddubsw takes |x| as its unsigned operand and the sign over to the weights
        for (std::size_t v = 0; v < T; ++v) ax[v] = _mm256_abs_epi8(x[v]);
#endif
        for (std::size_t r = 0; r < GR; ++r) {
            std::int32_t four;
            std::memcpy(&four, codes + e * 16 + r * 4, 4);
            const __m256i wb = _mm256_set1_epi32(four);
            for (std::size_t v = 0; v < T; ++v) {
#if defined(EDGEBERT_I8_ISA_AVXVNNI)
                acc[r][v] = _mm256_dpbusd_avx_epi32(acc[r][v], x[v], wb);
#else
                const __m256i pairs = _mm256_maddubs_epi16(ax[v], _mm256_sign_epi8(wb, x[v]));
                acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(pairs, ones));
#endif
            }
        }
    }
    for (std::size_t r = 0; r < GR; ++r)
        for (std::size_t v = 0; v < T; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * T * L + v * L), acc[r][v]);
#elif defined(EDGEBERT_I8_ISA_NEON_DOTPROD) || defined(EDGEBERT_I8_ISA_NEON)
    int32x4_t acc[GR][T];
    for (std::size_t r = 0; r < GR; ++r)
        for (std::size_t v = 0; v < T; ++v) acc[r][v] = vdupq_n_s32(0);
    for (std::size_t e = e0; e < e1; ++e) {
        const std::uint8_t* p = base + col_group[e] * stride;
        int8x16_t x[T];
        for (std::size_t v = 0; v < T; ++v) x[v] = vreinterpretq_s8_u8(vld1q_u8(p + v * 16));
        for (std::size_t r = 0; r < GR; ++r) {
            std::int32_t four;
            std::memcpy(&four, codes + e * 16 + r * 4, 4);
            const int8x16_t wb = vreinterpretq_s8_s32(vdupq_n_s32(four));
            for (std::size_t v = 0; v < T; ++v) {
#if defined(EDGEBERT_I8_ISA_NEON_DOTPROD)
                acc[r][v] = vdotq_s32(acc[r][v], x[v], wb);
#else
                const int16x8_t lo = vmull_s8(vget_low_s8(x[v]), vget_low_s8(wb));  // tokens 0, 1
                const int16x8_t hi = vmull_high_s8(x[v], wb);                       // tokens 2, 3
                acc[r][v] = vaddq_s32(acc[r][v], vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
            }
        }
    }
    for (std::size_t r = 0; r < GR; ++r)
        for (std::size_t v = 0; v < T; ++v) vst1q_s32(out + r * T * L + v * L, acc[r][v]);
#else
    for (std::size_t i = 0; i < GR * T * L; ++i) out[i] = 0;
    for (std::size_t e = e0; e < e1; ++e) {
        const std::int8_t* p = reinterpret_cast<const std::int8_t*>(base + col_group[e] * stride);
        for (std::size_t r = 0; r < GR; ++r)
            for (std::size_t l = 0; l < T * L; ++l) {
                std::int32_t s = 0;
                for (std::size_t j = 0; j < 4; ++j) s += std::int32_t(p[l * 4 + j]) * std::int32_t(codes[e * 16 + r * 4 + j]);
                out[r * T * L + l] += s;
            }
    }
#endif
}

/// i8t_kernel<nv> for nv in 1 .. i8t_vectors.
inline void run_i8t_kernel(std::size_t nv, const i8_transposed_activations& a, std::size_t t0, const std::uint32_t* col_group,
                           const std::int8_t* codes, std::size_t e0, std::size_t e1, std::int32_t* out) noexcept {
    static_assert(i8t_vectors >= 1 && i8t_vectors <= 6, "run_i8t_kernel covers 1 to 6 vectors");
    switch (nv) {
        case 1: i8t_kernel<1>(a, t0, col_group, codes, e0, e1, out); break;
        case 2: if constexpr (i8t_vectors >= 2) i8t_kernel<2>(a, t0, col_group, codes, e0, e1, out); break;
        case 3: if constexpr (i8t_vectors >= 3) i8t_kernel<3>(a, t0, col_group, codes, e0, e1, out); break;
        case 4: if constexpr (i8t_vectors >= 4) i8t_kernel<4>(a, t0, col_group, codes, e0, e1, out); break;
        case 5: if constexpr (i8t_vectors >= 5) i8t_kernel<5>(a, t0, col_group, codes, e0, e1, out); break;
        default: if constexpr (i8t_vectors >= 6) i8t_kernel<6>(a, t0, col_group, codes, e0, e1, out); break;
    }
}

/// dst[t · ld + r] = src[r · tl + t] for r < 4, t < h rounded up to 4 (tl: a multiple of 4, src 16-byte aligned;
/// dst has room for the rounded rows). Four tokens at a time in registers: element by element, the
/// transposition took a third of the product's time.
inline void i8t_transpose4(const float* src, std::size_t tl, std::size_t h, float* dst, std::size_t ld) noexcept {
    for (std::size_t t = 0; t < h; t += 4) {
#if defined(__SSE2__)
        __m128 r0 = _mm_load_ps(src + t), r1 = _mm_load_ps(src + tl + t), r2 = _mm_load_ps(src + 2 * tl + t),
               r3 = _mm_load_ps(src + 3 * tl + t);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(dst + t * ld, r0);
        _mm_storeu_ps(dst + (t + 1) * ld, r1);
        _mm_storeu_ps(dst + (t + 2) * ld, r2);
        _mm_storeu_ps(dst + (t + 3) * ld, r3);
#elif defined(__aarch64__) && defined(__ARM_NEON)
        const float32x4x2_t a = vtrnq_f32(vld1q_f32(src + t), vld1q_f32(src + tl + t));
        const float32x4x2_t b = vtrnq_f32(vld1q_f32(src + 2 * tl + t), vld1q_f32(src + 3 * tl + t));
        vst1q_f32(dst + t * ld, vcombine_f32(vget_low_f32(a.val[0]), vget_low_f32(b.val[0])));
        vst1q_f32(dst + (t + 1) * ld, vcombine_f32(vget_low_f32(a.val[1]), vget_low_f32(b.val[1])));
        vst1q_f32(dst + (t + 2) * ld, vcombine_f32(vget_high_f32(a.val[0]), vget_high_f32(b.val[0])));
        vst1q_f32(dst + (t + 3) * ld, vcombine_f32(vget_high_f32(a.val[1]), vget_high_f32(b.val[1])));
#else
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t r = 0; r < 4; ++r) dst[(t + i) * ld + r] = src[r * tl + t + i];
#endif
    }
}

inline constexpr std::size_t i8t_strip_groups = 16;  ///< row groups per strip: 64 outputs share one epilogue pass

/// The token vectors of chunk c of `chunks`: near-equal shares of at most i8t_vectors each (8 vectors run as
/// 4 + 4, not 6 + 2: a narrow kernel is limited by its broadcasts).
inline std::size_t i8t_chunk_begin(std::size_t c, std::size_t chunks, std::size_t vectors) noexcept { return vectors * c / chunks; }

/// Token chunks [c0, c1) of at most T·L tokens x strips [s0, s1) of 64 outputs. A strip's results gather in a small
/// token-major buffer and go out a row at a time: stored straight from the kernel's output-major tile, each
/// value would land on its own cache line (rows of Y are ldy floats apart).
inline void compute_i8t_tiles(const i8_transposed_activations& a, std::size_t m, const i8_block_sparse_matrix& w, std::size_t s0,
                              std::size_t s1, std::size_t c0, std::size_t c1, float* y, std::size_t ldy, const epilogue& ep) noexcept {
    constexpr std::size_t L = i8t_lanes, T = i8t_vectors, GR = i8_block_sparse_matrix::group_rows, SW = i8t_strip_groups * GR;
    alignas(64) std::int32_t tile[GR * T * L];
    alignas(64) float strip_out[T * L * SW];
    const std::size_t n = w.n(), groups = w.row_groups(), vectors = a.mp / L, chunks = (vectors + T - 1) / T;
    const std::uint32_t* ptr = w.group_ptr();
    for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t v0 = i8t_chunk_begin(c, chunks, vectors), nv = i8t_chunk_begin(c + 1, chunks, vectors) - v0;
        const std::size_t t0 = v0 * L, h = std::min(m, t0 + nv * L) - t0;
        const std::size_t tl = nv * L;  // the tile's row stride for this chunk
        const std::size_t h4 = (h + 3) / 4 * 4;  // <= tl; tokens past h are padding (scale 0), converted but not stored
        const float* sa = a.scales + t0;
        for (std::size_t s = s0; s < s1; ++s) {
            const std::size_t g0 = s * i8t_strip_groups, g1 = std::min(groups, g0 + i8t_strip_groups);
            const std::size_t n0 = g0 * GR, width = std::min(n, g1 * GR) - n0;
            for (std::size_t g = g0; g < g1; ++g) {
                run_i8t_kernel(nv, a, t0, w.col_groups(), w.codes(), ptr[g], ptr[g + 1], tile);
                // scaled along the tokens (vectorizable), then four outputs at a time into each token's row
                alignas(64) float scaled[GR * T * L];
                for (std::size_t r = 0; r < GR; ++r) {
                    const std::size_t j = g * GR + r;  // past n: scale 0, code sum 0 (never stored)
                    const float sw = w.scales()[j];
                    const std::int32_t correction = i8_unsigned_activations ? 128 * w.code_sums()[j] : 0;
                    const std::int32_t* acc = tile + r * tl;
                    float* out = scaled + r * tl;
                    for (std::size_t t = 0; t < h4; ++t) out[t] = float(acc[t] - correction) * (sa[t] * sw);
                }
                i8t_transpose4(scaled, tl, h, strip_out + (g - g0) * GR, SW);
            }
            // The epilogue runs on the strip while it is in L1, and each row of Y is then written once (Y used to
            // be written, then read and written again by the epilogue). A full strip's row is a copy of constant
            // size, inlined as vector stores.
            apply_epilogue(strip_out, SW, h, width, t0, n0, ep);
            if (width == SW) {
                for (std::size_t t = 0; t < h; ++t) std::memcpy(y + (t0 + t) * ldy + n0, strip_out + t * SW, SW * sizeof(float));
            } else {
                for (std::size_t t = 0; t < h; ++t) std::memcpy(y + (t0 + t) * ldy + n0, strip_out + t * SW, width * sizeof(float));
            }
        }
    }
}

}  // inline namespace EDGEBERT_I8_ISA_NAMESPACE
EDGEBERT_ISA_END
}  // namespace detail

EDGEBERT_ISA_BEGIN
inline namespace EDGEBERT_I8_ISA_NAMESPACE {

/// Y[m x n] (row stride ldy) = epilogue(X[m x k] (row stride ldx) · Wᵀ), W block-sparse int8 (w.k() == k): the
/// contract of kernels::gemm_i8 (m == 0 or n == 0: nothing is touched; k == 0: Y = epilogue(0); columns past n
/// never touched; shape_error for ldx < k, ldy < n, ld_residual < n). The result does not depend on the
/// thread count, and equals gemm_i8 on the same codes.
inline void sparse_gemm_i8(const float* x, std::size_t m, std::size_t ldx, const i8_block_sparse_matrix& w, float* y, std::size_t ldy,
                           const epilogue& ep = {}, int threads = 1) {
    const std::size_t k = w.k(), n = w.n();
    detail::check_gemm_args("sparse_gemm_i8", k, ldx, n, ldy, ep);
    if (m == 0 || n == 0) return;
    const detail::i8_transposed_activations qa = detail::quantize_activations_transposed(x, m, ldx, k, threads);
    const std::size_t strips = (w.row_groups() + detail::i8t_strip_groups - 1) / detail::i8t_strip_groups;
    const std::size_t vectors = (m + detail::i8t_lanes - 1) / detail::i8t_lanes;
    const std::size_t chunks = (vectors + detail::i8t_vectors - 1) / detail::i8t_vectors;
    detail::for_each_tile_block(threads, strips, chunks, [&](std::size_t s0, std::size_t s1, std::size_t c0, std::size_t c1) {
        detail::compute_i8t_tiles(qa, m, w, s0, s1, c0, c1, y, ldy, ep);
    });
}

}  // inline namespace EDGEBERT_I8_ISA_NAMESPACE
EDGEBERT_ISA_END
#endif  // EDGEBERT_KERNEL_DISPATCH && !EDGEBERT_KERNEL_ISA

}  // namespace edgebert::kernels
