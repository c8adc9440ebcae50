// SPDX-License-Identifier: Apache-2.0
#pragma once
// Packing routines of kernels/gemm.hpp.
//
// B panel layout (NR = panel width): panel p holds columns [p*NR, p*NR + NR) of B [k x n]; row kk of the
// panel is NR consecutive floats at panel + kk * NR, zero past n. Panel p starts at p * k * NR, so with a
// 64-byte aligned base and NR a multiple of the SIMD width every row is aligned for the micro-kernel.
// A micro-panel layout (MR rows): value (r, kk) at kk * MR + r, rows past m zero.

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "../../core/config.hpp"

namespace edgebert::kernels::detail {

/// Ask for the row 8 rows on while packing `row` (len floats, row stride ld; rows_left counts it and the rows
/// after it), when rows are short: short rows far apart (attention's keys and values, 64 floats every 2304) are
/// a stride the hardware prefetcher does not follow. Long rows are sequential streams it already follows.
inline void prefetch_short_row_ahead(const float* row, std::size_t ld, std::size_t len, std::size_t rows_left) noexcept {
#if defined(__GNUC__)
    constexpr std::size_t ahead = 8, longest = 256, floats_per_line = 16;
    if (len > longest || rows_left <= ahead) return;
    for (std::size_t j = 0; j < len; j += floats_per_line) __builtin_prefetch(row + ahead * ld + j);
#else
    (void)row, (void)ld, (void)len, (void)rows_left;
#endif
}

/// Pack row-major B [k x n] (row stride ldb) into panels nr wide, nr known at run time (packing at load, for
/// a panel width the active kernels choose).
inline void pack_kn_panels(std::size_t nr, const float* b, std::size_t k, std::size_t n, std::size_t ldb, float* dst) noexcept {
    const std::size_t npanels = (n + nr - 1) / nr;
    for (std::size_t p = 0; p < npanels; ++p) {
        const std::size_t j0 = p * nr, w = std::min(nr, n - j0);
        float* out = dst + p * k * nr;
        for (std::size_t kk = 0; kk < k; ++kk) {
            std::memcpy(out + kk * nr, b + kk * ldb + j0, w * sizeof(float));
            std::fill(out + kk * nr + w, out + kk * nr + nr, 0.f);
        }
    }
}

/// Pack Bᵀ, B [n x k] row-major (a PyTorch Linear weight), into panels nr wide, nr known at run time.
inline void pack_transposed(std::size_t nr, const float* b, std::size_t n, std::size_t k, std::size_t ldb, float* dst) noexcept {
    const std::size_t npanels = (n + nr - 1) / nr;
    for (std::size_t p = 0; p < npanels; ++p) {
        float* out = dst + p * k * nr;
        const std::size_t j0 = p * nr, w = std::min(nr, n - j0);
        for (std::size_t j = 0; j < w; ++j) {
            const float* src = b + (j0 + j) * ldb;
            for (std::size_t kk = 0; kk < k; ++kk) out[kk * nr + j] = src[kk];
        }
        if (w < nr)
            for (std::size_t kk = 0; kk < k; ++kk) std::fill(out + kk * nr + w, out + kk * nr + nr, 0.f);
    }
}

EDGEBERT_ISA_BEGIN

/// Pack row-major B [k x n] (row stride ldb) into panels NR wide at dst (ceil(n/NR) * k * NR floats),
/// zero-padding the last panel.
template <std::size_t NR>
inline void pack_kn_panels(const float* b, std::size_t k, std::size_t n, std::size_t ldb, float* dst) noexcept {
    const std::size_t npanels = (n + NR - 1) / NR;
    // Row by row: each row of B is read once, start to end (attention's values: 64 floats every 2304).
    for (std::size_t kk = 0; kk < k; ++kk) {
        const float* src = b + kk * ldb;
        prefetch_short_row_ahead(src, ldb, n, k - kk);
        for (std::size_t p = 0; p < npanels; ++p) {
            const std::size_t j0 = p * NR, w = std::min(NR, n - j0);
            float* out = dst + p * k * NR + kk * NR;
            std::memcpy(out, src + j0, w * sizeof(float));
            std::fill(out + w, out + NR, 0.f);
        }
    }
}

/// Pack Bᵀ where B is [n x k] row-major (row stride ldb), i.e. a PyTorch Linear weight [out x in] or the
/// keys of attention, into panels NR wide: panel p, row kk holds B[p*NR + j][kk] for j < NR.
template <std::size_t NR>
inline void pack_transposed(const float* b, std::size_t n, std::size_t k, std::size_t ldb, float* dst) noexcept {
    const std::size_t npanels = (n + NR - 1) / NR;
    for (std::size_t p = 0; p < npanels; ++p) {
        float* out = dst + p * k * NR;
        const std::size_t j0 = p * NR, w = std::min(NR, n - j0);
        // Read each row of B sequentially and write one column of the panel (k * NR floats: for attention's
        // head size the whole panel stays in L1).
        for (std::size_t j = 0; j < w; ++j) {
            const float* src = b + (j0 + j) * ldb;
            prefetch_short_row_ahead(src, ldb, k, n - (j0 + j));
            for (std::size_t kk = 0; kk < k; ++kk) out[kk * NR + j] = src[kk];
        }
        if (w < NR)
            for (std::size_t kk = 0; kk < k; ++kk) std::fill(out + kk * NR + w, out + kk * NR + NR, 0.f);
    }
}

/// Pack `rows` (<= MR) rows of A (row stride lda, k columns) into one MR-high micro-panel, scaled by alpha,
/// zero-padded to MR rows.
template <std::size_t MR>
inline void pack_a_panel(const float* a, std::size_t lda, std::size_t rows, std::size_t k, float alpha,
                         float* dst) noexcept {
    for (std::size_t kk = 0; kk < k; ++kk) {
        float* d = dst + kk * MR;
        std::size_t r = 0;
        for (; r < rows; ++r) d[r] = alpha * a[r * lda + kk];
        for (; r < MR; ++r) d[r] = 0.f;
    }
}

EDGEBERT_ISA_END
}  // namespace edgebert::kernels::detail
