// SPDX-License-Identifier: Apache-2.0
#pragma once
// Row-wise LayerNorm, y = (x - mean) / sqrt(var + eps) * gamma + beta with the biased variance, as
// torch.nn.LayerNorm. Two passes over a row that sits in L1; the SIMD path sums in float lanes.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "../core/config.hpp"
#include "../core/thread_pool.hpp"

namespace edgebert::kernels {

namespace reference {
/// Scalar reference (double accumulation): rows x[r*ld .. r*ld+n) normalised into y (may alias x).
inline void layer_norm(const float* x, std::size_t rows, std::size_t n, std::size_t ldx, const float* gamma,
                       const float* beta, float eps, float* y, std::size_t ldy) {
    for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * ldx;
        float* yr = y + r * ldy;
        double mean = 0;
        for (std::size_t i = 0; i < n; ++i) mean += xr[i];
        mean /= double(n);
        double var = 0;
        for (std::size_t i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
        var /= double(n);
        const double inv = 1.0 / std::sqrt(var + double(eps));
        for (std::size_t i = 0; i < n; ++i) yr[i] = float((xr[i] - mean) * inv * gamma[i] + beta[i]);
    }
}
}  // namespace reference

EDGEBERT_ISA_BEGIN
/// One row, SIMD. y may alias x.
inline void layer_norm_row(const float* x, std::size_t n, const float* gamma, const float* beta, float eps,
                           float* y) noexcept {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    const std::size_t nv = n - n % W;
    batch acc(0.f);
    std::size_t i = 0;
    for (; i < nv; i += W) acc += batch::load_unaligned(x + i);
    float sum = xsimd::hadd(acc);
    for (; i < n; ++i) sum += x[i];
    const float mean = sum / float(n);
    const batch vmean(mean);
    batch acc2(0.f);
    for (i = 0; i < nv; i += W) {
        const batch d = batch::load_unaligned(x + i) - vmean;
        acc2 = xsimd::fma(d, d, acc2);
    }
    float sq = xsimd::hadd(acc2);
    for (; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
    const float inv = 1.f / std::sqrt(sq / float(n) + eps);
    const batch vinv(inv);
    for (i = 0; i < nv; i += W) {
        const batch d = (batch::load_unaligned(x + i) - vmean) * vinv;
        xsimd::fma(d, batch::load_unaligned(gamma + i), batch::load_unaligned(beta + i)).store_unaligned(y + i);
    }
    for (; i < n; ++i) y[i] = (x[i] - mean) * inv * gamma[i] + beta[i];
}

/// Many rows, split across threads.
EDGEBERT_KERNEL_API
void layer_norm(const float* x, std::size_t rows, std::size_t n, std::size_t ldx, const float* gamma,
                const float* beta, float eps, float* y, std::size_t ldy, int threads = 1) noexcept
#if EDGEBERT_KERNEL_BODIES
{
    // core/thread_pool.hpp: a few chunks of rows per thread, handed out one at a time
    const std::size_t chunks = threads > 1 && rows * n > 16384 ? std::min<std::size_t>(rows, std::size_t(threads) * 4) : 1;
    parallel_for(threads, chunks, [&](std::size_t c) {
        for (std::size_t r = rows * c / chunks; r < rows * (c + 1) / chunks; ++r)
            layer_norm_row(x + r * ldx, n, gamma, beta, eps, y + r * ldy);
    });
}
#else
;
#endif
EDGEBERT_ISA_END

}  // namespace edgebert::kernels
