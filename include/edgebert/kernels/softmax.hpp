// SPDX-License-Identifier: Apache-2.0
#pragma once
// Numerically stable softmax over a row, with an optional key mask, and the entropy of softmax(logits).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <xsimd/xsimd.hpp>

#include "../core/config.hpp"
#include "activation.hpp"

namespace edgebert::kernels {

namespace reference {
/// p = softmax(x) over keys with keep[j] != 0 (all keys if keep is null); masked keys get 0. If every
/// key is masked, HuggingFace's additive float-min mask leaves all scores equal, so p is uniform.
inline void softmax(const float* x, std::size_t n, const std::uint8_t* keep, float* p) {
    double mx = -std::numeric_limits<double>::infinity();
    std::size_t kept = 0;
    for (std::size_t j = 0; j < n; ++j)
        if (!keep || keep[j]) mx = std::max(mx, double(x[j])), ++kept;
    if (kept == 0) {
        for (std::size_t j = 0; j < n; ++j) p[j] = 1.f / float(n);
        return;
    }
    double sum = 0;
    for (std::size_t j = 0; j < n; ++j) sum += (!keep || keep[j]) ? std::exp(double(x[j]) - mx) : 0.0;
    for (std::size_t j = 0; j < n; ++j) p[j] = (!keep || keep[j]) ? float(std::exp(double(x[j]) - mx) / sum) : 0.f;
}

/// Entropy (natural log) of softmax(logits), computed from the logits without forming log(0).
inline double softmax_entropy(const float* logits, std::size_t n) {
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < n; ++j) mx = std::max(mx, double(logits[j]));
    double z = 0, s = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const double e = std::exp(double(logits[j]) - mx);
        z += e;
        s += e * (double(logits[j]) - mx);
    }
    return std::log(z) - s / z;
}
}  // namespace reference

EDGEBERT_ISA_BEGIN
/// Largest of x[0..n) (-inf for n = 0). Four running maxima: one would chain every load of the row on the
/// latency of the one before it, and attention calls this for every query row of every key block.
inline float row_max(const float* x, std::size_t n) noexcept {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    batch m0(neg_inf), m1(neg_inf), m2(neg_inf), m3(neg_inf);
    std::size_t j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
        m0 = xsimd::max(m0, batch::load_unaligned(x + j));
        m1 = xsimd::max(m1, batch::load_unaligned(x + j + W));
        m2 = xsimd::max(m2, batch::load_unaligned(x + j + 2 * W));
        m3 = xsimd::max(m3, batch::load_unaligned(x + j + 3 * W));
    }
    for (; j + W <= n; j += W) m0 = xsimd::max(m0, batch::load_unaligned(x + j));
    m0 = xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3));
    alignas(64) float lanes[W];
    m0.store_aligned(lanes);
    float mx = neg_inf;
    for (std::size_t l = 0; l < W; ++l) mx = std::max(mx, lanes[l]);
    for (; j < n; ++j) mx = std::max(mx, x[j]);
    return mx;
}

/// x[j] = exp(scale * (x[j] - mx)) in place, for mx >= every x[j] and scale > 0 (detail::exp_nonpositive; the tail
/// padded through the same code so a value's result never depends on its position); returns the sum. -inf
/// entries become 0.
inline float exp_shifted(float* x, std::size_t n, float mx, float scale) noexcept {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    const std::size_t nv = n - n % W;
    const batch vmx(mx), vscale(scale);
    batch vsum(0.f);
    std::size_t j = 0;
    for (; j < nv; j += W) {
        const batch e = detail::exp_nonpositive((batch::load_unaligned(x + j) - vmx) * vscale);
        e.store_unaligned(x + j);
        vsum += e;
    }
    float sum = xsimd::hadd(vsum);
    if (j < n) {
        alignas(64) float tail[W];
        for (std::size_t l = 0; l < W; ++l) tail[l] = j + l < n ? x[j + l] : -std::numeric_limits<float>::infinity();
        const batch e = detail::exp_nonpositive((batch::load_aligned(tail) - vmx) * vscale);
        e.store_aligned(tail);
        for (std::size_t l = 0; j + l < n; ++l) x[j + l] = tail[l], sum += tail[l];
    }
    return sum;
}

/// In-place softmax(scale * x) of a row (SIMD exp); scale > 0 lets attention fold its 1/sqrt(d) in here.
/// keep: optional per-key mask (nonzero = attend).
inline void softmax_row(float* x, std::size_t n, const std::uint8_t* keep = nullptr, float scale = 1.f) noexcept {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    if (keep) {
        bool any = false;
        for (std::size_t j = 0; j < n; ++j) {
            if (keep[j]) any = true;
            else x[j] = -std::numeric_limits<float>::infinity();
        }
        if (!any) {
            for (std::size_t j = 0; j < n; ++j) x[j] = 1.f / float(n);
            return;
        }
    }
    const float sum = exp_shifted(x, n, row_max(x, n), scale);
    const std::size_t nv = n - n % W;
    const batch vinv(1.f / sum);
    std::size_t j = 0;
    for (; j < nv; j += W) (batch::load_unaligned(x + j) * vinv).store_unaligned(x + j);
    for (; j < n; ++j) x[j] *= 1.f / sum;
}

EDGEBERT_ISA_END
}  // namespace edgebert::kernels
