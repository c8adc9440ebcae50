// SPDX-License-Identifier: Apache-2.0
#pragma once
// Y = epilogue(X · Wᵀ) for a sparse weight W [n x k] (PyTorch Linear layout) held as an EdgeBERT bit-mask matrix
// or a block-sparse (BSR) matrix, fp32 values or 8-bit codes; the epilogue is gemm's (bias, activation, residual).
//
// Work is proportional to the stored elements. Rows of X are taken in chunks of MC = MV SIMD vectors (MV = 4,
// 64 rows with AVX-512, for m > 2 vectors' worth of rows; fewer for short inputs), transposed once per call
// into Xᵀ chunks [k x MC] so that one input column of the chunk is MV aligned vectors. For each stored weight
// w(j, kk) the kernel broadcasts w and adds w · Xᵀ[kk] into output j's MV accumulators:
//   * bit-mask rows, and 1 x C blocks: the set bits of a K block are expanded into a list of columns, consumed
//     two at a time into two accumulator sets (2·MV independent FMA chains);
//   * R x C blocks with R >= 2: groups of up to 4 rows of a block row share each load of Xᵀ[kk] (4·MV
//     accumulators, 1 load per 4 FMAs: FMA-bound, like the dense micro-kernel).
// K is cut into blocks of 8192 / MC columns of Xᵀ (32 KiB, L1) and outputs into blocks of 256, which keep their
// MC partial sums in a scratch Yᵀ; each output block is transposed into Y and the epilogue applied while it is in
// cache. Threads split the outputs (rows or block rows), balanced by stored elements; every output is computed
// by one thread in one order, so the result does not depend on the thread count.
// 8-bit codes decode through their 256-entry table (times the row's scale, exact) as they are broadcast.
// kernels::reference::sparse_gemm is the scalar reference (double accumulation).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../core/aligned_buffer.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../sparse/bitmask_matrix.hpp"
#include "../sparse/block_sparse_matrix.hpp"
#include "activation.hpp"
#include "gemm.hpp"

namespace edgebert::kernels {

namespace detail {
EDGEBERT_ISA_BEGIN

inline constexpr std::size_t sparse_xt_block_floats = 8192;  ///< floats of one Xᵀ K block (32 KiB)
inline constexpr std::size_t sparse_out_block = 256;         ///< outputs per Yᵀ block

/// Values of one output row: fp32, or codes through a table and a scale.
struct row_f32 {
    const float* v;
    EDGEBERT_ALWAYS_INLINE float operator()(std::size_t i) const noexcept { return v[i]; }
};
struct row_q8 {
    const std::uint8_t* c;
    const float* table;
    float scale;
    EDGEBERT_ALWAYS_INLINE float operator()(std::size_t i) const noexcept { return table[c[i]] * scale; }
};

/// dst[c * ldd + r] = src[r * lds + c] for a 16 x 16 tile (AVX-512: 64 shuffles; otherwise scalar).
EDGEBERT_ALWAYS_INLINE void transpose16(const float* src, std::size_t lds, float* dst, std::size_t ldd) noexcept {
#if defined(__AVX512F__)
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + std::size_t(i) * lds);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // r[4q + j] holds, in 128-bit lane l, row 4q..4q+3 of column 4l + j. Gather the lanes.
    for (int j = 0; j < 4; ++j) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);       // lanes 0,2 of rows 0-3 | 4-7
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);   // lanes 1,3
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    }
    for (int j = 0; j < 4; ++j) {
        _mm512_storeu_ps(dst + std::size_t(j) * ldd, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));          // column j
        _mm512_storeu_ps(dst + std::size_t(4 + j) * ldd, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88)); // column 4+j
        _mm512_storeu_ps(dst + std::size_t(8 + j) * ldd, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD));      // column 8+j
        _mm512_storeu_ps(dst + std::size_t(12 + j) * ldd, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD));// column 12+j
    }
#else
    for (std::size_t i = 0; i < 16; ++i)
        for (std::size_t j = 0; j < 16; ++j) dst[j * ldd + i] = src[i * lds + j];
#endif
}

/// dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols: 16 x 16 tiles, scalar edges.
inline void transpose(const float* src, std::size_t lds, std::size_t rows, std::size_t cols, float* dst, std::size_t ldd) noexcept {
    const std::size_t r16 = rows / 16 * 16, c16 = cols / 16 * 16;
    // Tiles along a row of dst next to each other: every 64-byte line of dst is written whole, once (rows of Y
    // a multiple of 4 KiB apart would otherwise keep evicting each other from one L1 set).
    for (std::size_t c = 0; c < c16; c += 16)
        for (std::size_t r = 0; r < r16; r += 16) transpose16(src + r * lds + c, lds, dst + c * ldd + r, ldd);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = r < r16 ? c16 : 0; c < cols; ++c) dst[c * ldd + r] = src[r * lds + c];
}

/// Xᵀ chunk: dst[kk * MC + r] = x[(i0 + r) * ldx + kk] for r < rows, kk < k; zero elsewhere up to kpad.
inline void pack_xt_chunk(const float* x, std::size_t ldx, std::size_t i0, std::size_t rows, std::size_t k, std::size_t kpad,
                          std::size_t MC, float* dst) noexcept {
    if (rows < MC || kpad > k) std::fill(dst, dst + kpad * MC, 0.0f);
    transpose(x + i0 * ldx, ldx, rows, k, dst, MC);
}

/// acc(MV vectors) of one output += Σ over `count` columns offs[t] of vals(first + t) · Xᵀ[offs[t]].
template <std::size_t MV, class Vals>
EDGEBERT_ALWAYS_INLINE void list_kernel(const std::uint32_t* offs, std::size_t count, std::size_t first, const Vals& vals,
                                        const float* xt, float* yt) noexcept {
    using B = gemm_batch;
    constexpr std::size_t L = gemm_lanes, MC = MV * L;
    B a0[MV], a1[MV];
    for (std::size_t q = 0; q < MV; ++q) a0[q] = B(0.f), a1[q] = B(0.f);
    std::size_t t = 0;
    for (; t + 2 <= count; t += 2) {
        const B w0(vals(first + t)), w1(vals(first + t + 1));
        const float* x0 = xt + std::size_t(offs[t]) * MC;
        const float* x1 = xt + std::size_t(offs[t + 1]) * MC;
#pragma GCC unroll 8
        for (std::size_t q = 0; q < MV; ++q) {
            a0[q] = xsimd::fma(w0, B::load_aligned(x0 + q * L), a0[q]);
            a1[q] = xsimd::fma(w1, B::load_aligned(x1 + q * L), a1[q]);
        }
    }
    if (t < count) {
        const B w0(vals(first + t));
        const float* x0 = xt + std::size_t(offs[t]) * MC;
        for (std::size_t q = 0; q < MV; ++q) a0[q] = xsimd::fma(w0, B::load_aligned(x0 + q * L), a0[q]);
    }
    for (std::size_t q = 0; q < MV; ++q) (B::load_aligned(yt + q * L) + (a0[q] + a1[q])).store_aligned(yt + q * L);
}

/// RG rows (g .. g+RG-1) of an R x C block row: blocks [b0, b1) add into yt (RG rows of MC floats).
template <std::size_t RG, std::size_t MV, class Vals>
EDGEBERT_ALWAYS_INLINE void group_kernel(const std::uint32_t* col_idx, std::size_t b0, std::size_t b1, std::size_t R,
                                         std::size_t C, std::size_t g, const Vals* vals, const float* xt, float* yt) noexcept {
    using B = gemm_batch;
    constexpr std::size_t L = gemm_lanes, MC = MV * L;
    B acc[RG][MV];
    for (std::size_t r = 0; r < RG; ++r)
        for (std::size_t q = 0; q < MV; ++q) acc[r][q] = B(0.f);
    const std::size_t RC = R * C;
    for (std::size_t b = b0; b < b1; ++b) {
        const float* xb = xt + std::size_t(col_idx[b]) * C * MC;
        const std::size_t e0 = b * RC + g * C;
        for (std::size_t c = 0; c < C; ++c) {
            B xv[MV];
#pragma GCC unroll 8
            for (std::size_t q = 0; q < MV; ++q) xv[q] = B::load_aligned(xb + c * MC + q * L);
#pragma GCC unroll 4
            for (std::size_t r = 0; r < RG; ++r) {
                const B wv(vals[r](e0 + r * C + c));
#pragma GCC unroll 8
                for (std::size_t q = 0; q < MV; ++q) acc[r][q] = xsimd::fma(wv, xv[q], acc[r][q]);
            }
        }
    }
    for (std::size_t r = 0; r < RG; ++r)
        for (std::size_t q = 0; q < MV; ++q)
            (B::load_aligned(yt + r * MC + q * L) + acc[r][q]).store_aligned(yt + r * MC + q * L);
}

/// Split [0, units) into `parts` contiguous ranges of about equal work (work(u) = stored elements of unit u).
template <class Work>
inline std::vector<std::size_t> balanced_split(std::size_t units, std::size_t parts, Work&& work) {
    std::vector<std::size_t> bounds(parts + 1, units);
    bounds[0] = 0;
    double total = 0;
    for (std::size_t u = 0; u < units; ++u) total += double(work(u)) + 1.0;
    double acc = 0;
    std::size_t p = 1;
    for (std::size_t u = 0; u < units && p < parts; ++u) {
        acc += double(work(u)) + 1.0;
        while (p < parts && acc >= total * double(p) / double(parts)) bounds[p++] = u + 1;
    }
    return bounds;
}

/// The driver shared by both storages. Storage-specific parts come from `Ops`:
///   units(), unit_rows(), kpad(), k_align(), work(u),
///   begin(u) -> cursor, run<MV>(u, k0, k1, cursor&, xt, yt) adding unit u's K block [k0, k1) into yt
///   (unit_rows() rows of MC floats).
template <std::size_t MV, class Ops>
inline void sparse_driver(const float* x, std::size_t m, std::size_t ldx, std::size_t k, std::size_t n, const Ops& ops, float* y,
                          std::size_t ldy, const epilogue& ep, int threads) {
    constexpr std::size_t L = gemm_lanes, MC = MV * L;
    const std::size_t units = ops.units(), urows = ops.unit_rows(), kpad = ops.kpad(), align = ops.k_align();
    const std::size_t chunks = (m + MC - 1) / MC;
    std::size_t kb = std::max<std::size_t>(align, sparse_xt_block_floats / MC / align * align);
    thread_local aligned_buffer<float> xt_buffer;
    float* xt = scratch(xt_buffer, std::max<std::size_t>(1, chunks * kpad * MC));
    const std::size_t nt = std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(std::max(threads, 1)), units));
    const std::vector<std::size_t> bounds = balanced_split(units, nt, [&](std::size_t u) { return ops.work(u); });

    auto work = [&](std::size_t u_begin, std::size_t u_end) {
        thread_local aligned_buffer<float> yt_buffer;
        thread_local std::vector<std::size_t> cursors;
        const std::size_t ub_units = std::max<std::size_t>(1, sparse_out_block / urows);
        float* yt = scratch(yt_buffer, ub_units * urows * MC);
        cursors.resize(ub_units);
        // Output blocks outside, row chunks inside: an output block's weights are reused from cache by every chunk.
        for (std::size_t ub = u_begin; ub < u_end; ub += ub_units) {
            const std::size_t ue = std::min(u_end, ub + ub_units);
            for (std::size_t ci = 0; ci < chunks; ++ci) {
                const std::size_t i0 = ci * MC, mc = std::min(MC, m - i0);
                const float* xc = xt + ci * kpad * MC;
                std::fill(yt, yt + (ue - ub) * urows * MC, 0.0f);
                for (std::size_t u = ub; u < ue; ++u) cursors[u - ub] = ops.begin(u);
                for (std::size_t k0 = 0; k0 < kpad; k0 += kb) {
                    const std::size_t k1 = std::min(kpad, k0 + kb);
                    for (std::size_t u = ub; u < ue; ++u)
                        ops.template run<MV>(u, k0, k1, cursors[u - ub], xc, yt + (u - ub) * urows * MC);
                }
                // Yᵀ block -> Y, then the epilogue while it is in cache
                const std::size_t j0 = ub * urows, j1 = std::min(n, ue * urows);
                transpose(yt, MC, j1 - j0, mc, y + i0 * ldy + j0, ldy);
                apply_epilogue(y + i0 * ldy + j0, ldy, mc, j1 - j0, i0, j0, ep);
            }
        }
    };

    if (nt == 1) {
        for (std::size_t ci = 0; ci < chunks; ++ci)
            pack_xt_chunk(x, ldx, ci * MC, std::min(MC, m - ci * MC), k, kpad, MC, xt + ci * kpad * MC);
        work(0, units);
        return;
    }
    EDGEBERT_OMP(parallel num_threads(int(nt))) {
#if EDGEBERT_HAS_OPENMP
        const std::size_t id = std::size_t(omp_get_thread_num()), team = std::size_t(omp_get_num_threads());
#else
        const std::size_t id = 0, team = 1;
#endif
        for (std::size_t ci = id; ci < chunks; ci += team)
            pack_xt_chunk(x, ldx, ci * MC, std::min(MC, m - ci * MC), k, kpad, MC, xt + ci * kpad * MC);
        EDGEBERT_OMP(barrier)
        // The team may be smaller than asked (nested regions): each member takes its share of the ranges.
        for (std::size_t p = id; p < nt; p += team) work(bounds[p], bounds[p + 1]);
    }
}

/// Call f(std::integral_constant<size_t, MV>) with the chunk width for m rows.
template <class F>
inline void with_chunk_vectors(std::size_t m, F&& f) {
    constexpr std::size_t L = gemm_lanes;
    if (m > 2 * L) f(std::integral_constant<std::size_t, 4>{});
    else if (m > L) f(std::integral_constant<std::size_t, 2>{});
    else f(std::integral_constant<std::size_t, 1>{});
}

template <std::size_t LaneBytes, class RowVals>
struct bitmask_ops {
    const sparse::bitmask_matrix& w;
    RowVals row_vals;  // (j) -> row_f32 / row_q8
    std::size_t units() const noexcept { return w.rows(); }
    std::size_t unit_rows() const noexcept { return 1; }
    std::size_t kpad() const noexcept { return w.vectors_per_row() * w.lanes(); }
    std::size_t k_align() const noexcept { return w.lanes(); }
    std::size_t work(std::size_t u) const noexcept { return w.row_begin(u + 1) - w.row_begin(u); }
    std::size_t begin(std::size_t u) const noexcept { return w.row_begin(u); }
    template <std::size_t MV>
    void run(std::size_t j, std::size_t k0, std::size_t k1, std::size_t& cursor, const float* xt, float* yt) const noexcept {
        constexpr std::size_t n = LaneBytes * 8;
        std::uint32_t offs[sparse_xt_block_floats + 16];  // + 16: the compressing stores write whole vectors
        const std::uint8_t* words = w.mask_bytes().data() + j * w.vectors_per_row() * LaneBytes;
        std::size_t count = 0;
#if defined(__AVX512F__)
        // Expand the mask words into column indices 16 bits at a time: vpcompressd of 16 consecutive indices.
        const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (std::size_t v = k0 / n; v < k1 / n; ++v) {
            std::uint64_t word = 0;
            std::memcpy(&word, words + v * LaneBytes, LaneBytes);
            // No data-dependent branches here: at high sparsity whether a piece is empty is a coin toss.
            for (std::size_t piece = 0; piece < n; piece += 16, word >>= 16) {
                const __mmask16 bits = __mmask16(word & 0xFFFFu);
                const __m512i cols = _mm512_add_epi32(iota, _mm512_set1_epi32(int(v * n + piece)));
                _mm512_storeu_si512(reinterpret_cast<void*>(offs + count), _mm512_maskz_compress_epi32(bits, cols));
                count += std::size_t(sparse::detail::popcount64(word & 0xFFFFu));
            }
        }
#else
        for (std::size_t v = k0 / n; v < k1 / n; ++v) {
            std::uint64_t word = 0;
            std::memcpy(&word, words + v * LaneBytes, LaneBytes);
            for (; word; word &= word - 1) offs[count++] = std::uint32_t(v * n + std::size_t(sparse::detail::ctz64(word)));
        }
#endif
        if (!count) return;
        list_kernel<MV>(offs, count, cursor, row_vals(j), xt, yt);
        cursor += count;
    }
};

template <class RowVals>
struct block_ops {
    const sparse::block_sparse_matrix& w;
    RowVals row_vals;
    std::size_t units() const noexcept { return w.row_blocks(); }
    std::size_t unit_rows() const noexcept { return w.block_rows(); }
    std::size_t kpad() const noexcept { return w.col_blocks() * w.block_cols(); }
    std::size_t k_align() const noexcept { return w.block_cols(); }
    std::size_t work(std::size_t u) const noexcept {
        return std::size_t(w.row_ptr()[u + 1] - w.row_ptr()[u]) * w.block_rows() * w.block_cols();
    }
    std::size_t begin(std::size_t u) const noexcept { return w.row_ptr()[u]; }
    template <std::size_t MV>
    void run(std::size_t br, std::size_t k0, std::size_t k1, std::size_t& cursor, const float* xt, float* yt) const noexcept {
        constexpr std::size_t MC = MV * gemm_lanes;
        const std::uint32_t* col = w.col_index().data();
        const std::size_t R = w.block_rows(), C = w.block_cols(), end_blocks = w.row_ptr()[br + 1];
        const std::size_t b0 = cursor;
        std::size_t b1 = b0;
        while (b1 < end_blocks && std::size_t(col[b1]) * C < k1) ++b1;
        (void)k0;
        cursor = b1;
        if (b0 == b1) return;
        const std::size_t rows = w.rows();
        if (R == 1) {  // 1 x C: the values of consecutive blocks are contiguous; one column list, two chains
            std::uint32_t offs[sparse_xt_block_floats + 16];
            std::size_t count = 0;
            for (std::size_t b = b0; b < b1; ++b)
                for (std::size_t c = 0; c < C; ++c) offs[count++] = std::uint32_t(std::size_t(col[b]) * C + c);
            list_kernel<MV>(offs, count, b0 * C, row_vals(br), xt, yt);
            return;
        }
        constexpr std::size_t G = gemm_lanes >= 16 ? 4 : 2;  // rows sharing one Xᵀ load (G·MV accumulators)
        using V = decltype(row_vals(0));
        V vals[G];
        for (std::size_t g = 0; g < R; g += G) {
            const std::size_t rg = std::min(G, R - g);
            for (std::size_t r = 0; r < rg; ++r) vals[r] = row_vals(std::min(rows - 1, br * R + g + r));
            float* out = yt + g * MC;
            switch (rg) {
                case 1: group_kernel<1, MV>(col, b0, b1, R, C, g, vals, xt, out); break;
                case 2: group_kernel<2, MV>(col, b0, b1, R, C, g, vals, xt, out); break;
                case 3: if constexpr (G >= 3) group_kernel<3, MV>(col, b0, b1, R, C, g, vals, xt, out); break;
                default: if constexpr (G >= 4) group_kernel<4, MV>(col, b0, b1, R, C, g, vals, xt, out); break;
            }
        }
    }
};

/// Row value accessors: row j of the storage (bit-mask: the row's values start at row_begin(j), indices are
/// global; block-sparse: global value indices too).
inline auto f32_rows(const float* v) {
    return [v](std::size_t) { return row_f32{v}; };
}
inline auto q8_rows(const std::uint8_t* c, const sparse::code_tables& t) {
    return [c, &t](std::size_t r) { return row_q8{c, t.table(r), t.scale(r)}; };
}

inline void check_sparse_args(const char* who, std::size_t k, std::size_t ldx, std::size_t n, std::size_t ldy, const epilogue& ep) {
    check_gemm_args(who, k, ldx, n, ldy, ep);
}

EDGEBERT_ISA_END
}  // namespace detail

EDGEBERT_ISA_BEGIN
/// Y[m x n] (row stride ldy) = epilogue(X[m x k] (row stride ldx) · Wᵀ), W a bit-mask matrix [n x k].
/// The contract of kernels::gemm: threads >= 1; m == 0 or n == 0 touch nothing; k == 0 gives epilogue(0);
/// columns of Y past n are never touched; shape_error if ldx < k, ldy < n or ld_residual < n. Y must not overlap
/// X or the residual. Safe to call concurrently (scratch is thread_local).
EDGEBERT_KERNEL_API
void sparse_gemm(const float* x, std::size_t m, std::size_t ldx, const sparse::bitmask_matrix& w, float* y, std::size_t ldy,
                 const epilogue& ep = {}, int threads = 1)
#if EDGEBERT_KERNEL_BODIES
{
    const std::size_t k = w.cols(), n = w.rows();
    detail::check_sparse_args("sparse_gemm (bit mask)", k, ldx, n, ldy, ep);
    if (m == 0 || n == 0) return;
    auto go = [&](auto row_vals) {
        using RV = decltype(row_vals);
        detail::with_chunk_vectors(m, [&](auto mv) {
            constexpr std::size_t MV = decltype(mv)::value;
            switch (w.lanes()) {
                case 8: detail::sparse_driver<MV>(x, m, ldx, k, n, detail::bitmask_ops<1, RV>{w, row_vals}, y, ldy, ep, threads); break;
                case 16: detail::sparse_driver<MV>(x, m, ldx, k, n, detail::bitmask_ops<2, RV>{w, row_vals}, y, ldy, ep, threads); break;
                case 32: detail::sparse_driver<MV>(x, m, ldx, k, n, detail::bitmask_ops<4, RV>{w, row_vals}, y, ldy, ep, threads); break;
                default: detail::sparse_driver<MV>(x, m, ldx, k, n, detail::bitmask_ops<8, RV>{w, row_vals}, y, ldy, ep, threads); break;
            }
        });
    };
    if (w.quantized()) go(detail::q8_rows(w.codes().data(), w.tables()));
    else go(detail::f32_rows(w.values().data()));
}
#else
;
#endif

/// The same for a block-sparse W [n x k].
EDGEBERT_KERNEL_API
void sparse_gemm(const float* x, std::size_t m, std::size_t ldx, const sparse::block_sparse_matrix& w, float* y,
                 std::size_t ldy, const epilogue& ep = {}, int threads = 1)
#if EDGEBERT_KERNEL_BODIES
{
    const std::size_t k = w.cols(), n = w.rows();
    detail::check_sparse_args("sparse_gemm (block sparse)", k, ldx, n, ldy, ep);
    if (m == 0 || n == 0) return;
    auto go = [&](auto row_vals) {
        using RV = decltype(row_vals);
        detail::with_chunk_vectors(m, [&](auto mv) {
            constexpr std::size_t MV = decltype(mv)::value;
            detail::sparse_driver<MV>(x, m, ldx, k, n, detail::block_ops<RV>{w, row_vals}, y, ldy, ep, threads);
        });
    };
    if (w.quantized()) go(detail::q8_rows(w.codes().data(), w.tables()));
    else go(detail::f32_rows(w.values().data()));
}
#else
;
#endif
EDGEBERT_ISA_END

namespace reference {

namespace detail {
inline float finish(double s, std::size_t i, std::size_t j, const epilogue& ep) {
    float v = float(s) + (ep.bias ? ep.bias[j] : 0.f);
    v = activate_reference(ep.act, v);
    if (ep.residual) v += ep.residual[i * ep.ld_residual + j];
    return v;
}
}  // namespace detail

/// Scalar: Y = epilogue(X · Wᵀ) walking the mask words and packed values; double accumulation.
inline void sparse_gemm(const float* x, std::size_t m, std::size_t ldx, const sparse::bitmask_matrix& w, float* y,
                        std::size_t ldy, const epilogue& ep = {}) {
    const std::size_t n = w.rows(), lanes = w.lanes();
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < m; ++i) {
            double s = 0;
            std::size_t e = w.row_begin(j);
            for (std::size_t v = 0; v < w.vectors_per_row(); ++v) {
                const std::uint64_t word = w.mask_word(j, v);
                for (std::size_t l = 0; l < lanes; ++l)
                    if ((word >> l) & 1u) {
                        const float wv = w.quantized() ? w.tables().value(j, w.codes()[e]) : w.values()[e];
                        s += double(x[i * ldx + v * lanes + l]) * double(wv);
                        ++e;
                    }
            }
            y[i * ldy + j] = detail::finish(s, i, j, ep);
        }
}

/// Scalar: Y = epilogue(X · Wᵀ) walking the stored blocks; double accumulation.
inline void sparse_gemm(const float* x, std::size_t m, std::size_t ldx, const sparse::block_sparse_matrix& w, float* y,
                        std::size_t ldy, const epilogue& ep = {}) {
    const std::size_t n = w.rows(), k = w.cols(), R = w.block_rows(), C = w.block_cols();
    std::vector<double> acc(n);
    for (std::size_t i = 0; i < m; ++i) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (std::size_t br = 0; br < w.row_blocks(); ++br)
            for (std::size_t b = w.row_ptr()[br]; b < w.row_ptr()[br + 1]; ++b)
                for (std::size_t r = 0; r < R; ++r)
                    for (std::size_t c = 0; c < C; ++c) {
                        const std::size_t j = br * R + r, kk = std::size_t(w.col_index()[b]) * C + c, e = b * R * C + r * C + c;
                        if (j >= n || kk >= k) continue;
                        const float wv = w.quantized() ? w.tables().value(j, w.codes()[e]) : w.values()[e];
                        acc[j] += double(x[i * ldx + kk]) * double(wv);
                    }
        for (std::size_t j = 0; j < n; ++j) y[i * ldy + j] = detail::finish(acc[j], i, j, ep);
    }
}

}  // namespace reference

}  // namespace edgebert::kernels
