// SPDX-License-Identifier: Apache-2.0
#pragma once
// Single-precision matrix product C = epilogue(A · B) in the GotoBLAS/BLIS manner:
//   * B is packed into column panels NR wide (zero-padded), K-major inside a panel. Weights are packed
//     once at load (packed_matrix); ALBERT reuses one layer's weights at every depth.
//   * A is packed per call into micro-panels MR rows high (zero-padded), K-major inside a micro-panel.
//   * K is cut into blocks of kc so that a B micro-panel (kc x NR) stays in L1 while every A micro-panel
//     (kc x MR, the whole block in L2) streams past it; the MR x NR accumulator tile lives in registers.
//   * The epilogue (bias, activation, residual) is applied to each tile right after its last K block,
//     while the tile is still in L1.
//   * Threads split the column panels (and pack A cooperatively), so no two threads write one tile and the
//     result does not depend on the thread count.
// MR and NR follow the SIMD width xsimd picked at compile time (SSE2: 6 x 8, AVX2: 6 x 16, AVX-512: 8 x 48).

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "../core/aligned_buffer.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "activation.hpp"

namespace edgebert::kernels {

namespace detail {
using gemm_batch = xsimd::batch<float>;
inline constexpr std::size_t gemm_lanes = gemm_batch::size;
// Tile MR x (NV * lanes). With 32 registers (AVX-512) 8 x 48 measured fastest here (24 accumulators, 3 B
// loads and 8 broadcasts per 24 FMAs; 12 x 32 and 6 x 64 were 5-10% slower); with 16 registers (SSE/AVX2)
// 6 x 2 vectors is the classic fit. Overridable for experiments.
#ifndef EDGEBERT_GEMM_NV
#define EDGEBERT_GEMM_NV (gemm_lanes >= 16 ? 3 : 2)
#endif
#ifndef EDGEBERT_GEMM_MR
#define EDGEBERT_GEMM_MR (gemm_lanes >= 16 ? 8 : 6)
#endif
inline constexpr std::size_t gemm_nv = EDGEBERT_GEMM_NV;                  // SIMD vectors per panel row
inline constexpr std::size_t gemm_nr = gemm_nv * gemm_lanes;              // columns per panel
inline constexpr std::size_t gemm_mr = EDGEBERT_GEMM_MR;                  // rows per micro-panel
#ifndef EDGEBERT_GEMM_KC
#define EDGEBERT_GEMM_KC 256
#endif
inline constexpr std::size_t gemm_kc = EDGEBERT_GEMM_KC;                           // K block
inline constexpr std::size_t gemm_a_l2_bytes = 512 * 1024;              // packed A kept in L2
}  // namespace detail

/// B operand of C = A·B, packed once into the micro-kernel's panel layout.
class packed_matrix {
public:
    static constexpr std::size_t panel_width = detail::gemm_nr;

    packed_matrix() = default;

    /// From a PyTorch Linear weight W [n_out x k_in] (row stride ld): the product computes X·Wᵀ.
    static packed_matrix from_weight(const float* w, std::size_t n_out, std::size_t k_in, std::size_t ld) {
        if (n_out && k_in && ld < k_in)
            throw shape_error("packed_matrix::from_weight: row stride " + std::to_string(ld) + " < in_features " +
                              std::to_string(k_in));
        packed_matrix p(k_in, n_out);
        for (std::size_t j = 0; j < n_out; ++j) {
            float* dst = p.data_.data() + (j / panel_width) * k_in * panel_width + j % panel_width;
            const float* src = w + j * ld;
            for (std::size_t k = 0; k < k_in; ++k) dst[k * panel_width] = src[k];
        }
        return p;
    }

    /// From a row-major [k x n] matrix with row stride ld.
    static packed_matrix from_kn(const float* b, std::size_t k, std::size_t n, std::size_t ld) {
        if (k && n && ld < n)
            throw shape_error("packed_matrix::from_kn: row stride " + std::to_string(ld) + " < columns " +
                              std::to_string(n));
        packed_matrix p(k, n);
        pack_kn(b, k, n, ld, p.data_.data());
        return p;
    }

    std::size_t k() const noexcept { return k_; }
    std::size_t n() const noexcept { return n_; }
    std::size_t panels() const noexcept { return (n_ + panel_width - 1) / panel_width; }
    std::size_t bytes() const noexcept { return data_.size() * sizeof(float); }
    bool empty() const noexcept { return n_ == 0 || k_ == 0; }
    /// Element (kk, nn) of B.
    float at(std::size_t kk, std::size_t nn) const {
        if (kk >= k_ || nn >= n_) throw shape_error("packed_matrix::at: index out of range");
        return data_[(nn / panel_width) * k_ * panel_width + kk * panel_width + nn % panel_width];
    }
    /// Panel p: k() rows of panel_width floats.
    const float* panel(std::size_t p) const noexcept { return data_.data() + p * k_ * panel_width; }

    /// Pack a row-major [k x n] block into panel layout at dst (size panels * k * panel_width, zeroed).
    static void pack_kn(const float* b, std::size_t k, std::size_t n, std::size_t ld, float* dst) {
        for (std::size_t p = 0; p * panel_width < n; ++p) {
            const std::size_t j0 = p * panel_width, w = std::min(panel_width, n - j0);
            float* out = dst + p * k * panel_width;
            for (std::size_t kk = 0; kk < k; ++kk) std::memcpy(out + kk * panel_width, b + kk * ld + j0, w * sizeof(float));
        }
    }

private:
    packed_matrix(std::size_t k, std::size_t n) : k_(k), n_(n), data_(((n + panel_width - 1) / panel_width) * panel_width * k) {}
    std::size_t k_ = 0, n_ = 0;
    aligned_buffer<float> data_;
};

/// What happens to each output element after the product: c = act(acc + bias[n]) + residual[m][n].
struct epilogue {
    const float* bias = nullptr;            ///< [n], or nullptr
    activation act = activation::identity;  ///< applied after the bias
    const float* residual = nullptr;        ///< [m x n] with row stride ld_residual, added after the activation
    std::size_t ld_residual = 0;
};

namespace detail {

/// acc(MR x NR) (+)= A micro-panel · B micro-panel over kc steps; c is a tile with row stride ldc.
/// A is either packed (MR values per k, lda ignored) or read in place from rows with stride lda.
template <bool PackedA, std::size_t NV = gemm_nv>
EDGEBERT_ALWAYS_INLINE void micro_kernel(std::size_t kc, const float* EDGEBERT_RESTRICT a, std::size_t lda,
                                         const float* EDGEBERT_RESTRICT b, float* c, std::size_t ldc,
                                         bool accumulate) noexcept {
    using B = gemm_batch;
    constexpr std::size_t W = gemm_lanes, MR = gemm_mr;
    B acc[MR][NV];
    if (accumulate) {
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = B::load_unaligned(c + r * ldc + v * W);
    } else {
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = B(0.f);
    }
    for (std::size_t k = 0; k < kc; ++k) {
        B bv[NV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) bv[v] = B::load_aligned(b + v * W);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            const B ar(PackedA ? a[r] : a[r * lda]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(ar, bv[v], acc[r][v]);
        }
        a += PackedA ? MR : 1;
        b += NV * W;
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_unaligned(c + r * ldc + v * W);
}

/// Apply the epilogue to rows x cols of C starting at (m0, n0).
inline void apply_epilogue(float* c, std::size_t ldc, std::size_t rows, std::size_t cols, std::size_t m0,
                           std::size_t n0, const epilogue& ep) noexcept {
    if (!ep.bias && ep.act == activation::identity && !ep.residual) return;
    dispatch_activation(ep.act, [&](auto tag) {
        constexpr activation A = decltype(tag)::value;
        using B = gemm_batch;
        constexpr std::size_t W = gemm_lanes;
        for (std::size_t r = 0; r < rows; ++r) {
            float* row = c + r * ldc;
            const float* res = ep.residual ? ep.residual + (m0 + r) * ep.ld_residual + n0 : nullptr;
            std::size_t j = 0;
            for (; j + W <= cols; j += W) {
                B v = B::load_unaligned(row + j);
                if (ep.bias) v += B::load_unaligned(ep.bias + n0 + j);
                v = activate<A>(v);
                if (res) v += B::load_unaligned(res + j);
                v.store_unaligned(row + j);
            }
            if (j < cols) {  // the tail goes through the same SIMD code, padded
                alignas(64) float t[W] = {};
                const std::size_t rest = cols - j;
                for (std::size_t q = 0; q < rest; ++q) t[q] = row[j + q] + (ep.bias ? ep.bias[n0 + j + q] : 0.f);
                activate<A>(B::load_aligned(t)).store_aligned(t);
                for (std::size_t q = 0; q < rest; ++q) row[j + q] = t[q] + (res ? res[j + q] : 0.f);
            }
        }
    });
}

/// Pack rows [i0, i0+rows) of A (all K) into one MR-high micro-panel, scaled by alpha, zero-padded.
inline void pack_a_panel(const float* a, std::size_t lda, std::size_t rows, std::size_t k, float alpha, float* dst) noexcept {
    constexpr std::size_t MR = gemm_mr;
    for (std::size_t kk = 0; kk < k; ++kk) {
        float* d = dst + kk * MR;
        std::size_t r = 0;
        for (; r < rows; ++r) d[r] = alpha * a[r * lda + kk];
        for (; r < MR; ++r) d[r] = 0.f;
    }
}

/// Thread-local scratch that only grows (no allocation in steady state).
inline float* scratch(aligned_buffer<float>& buf, std::size_t n) {
    buf.reserve_scratch(n);
    return buf.data();
}

/// The A operand: its first `direct_panels` micro-panels are read in place from row-major `rows`
/// (no packing pass: the micro-kernel broadcasts from MR row streams that stay in L1), the rest from
/// `packed` (the partial last micro-panel, zero-padded; or everything when A must be scaled).
struct a_operand {
    const float* rows = nullptr;
    std::size_t lda = 0;
    std::size_t direct_panels = 0;
    const float* packed = nullptr;
};

/// Compute panels [p_begin, p_end) of C from A and B packed in panels of NV vectors.
template <std::size_t NV = gemm_nv>
inline void compute_panels(const a_operand& a, std::size_t m, std::size_t k, const float* bpanels,
                           std::size_t n, std::size_t p_begin, std::size_t p_end, float* c, std::size_t ldc,
                           const epilogue& ep) noexcept {
    constexpr std::size_t MR = gemm_mr, NR = NV * gemm_lanes, KC = gemm_kc;
    const std::size_t mpanels = (m + MR - 1) / MR;
    alignas(64) float tile[MR * NR];
    if (k == 0) {  // C = epilogue(0)
        for (std::size_t p = p_begin; p < p_end; ++p) {
            const std::size_t n0 = p * NR, w = std::min(NR, n - n0);
            for (std::size_t i = 0; i < m; ++i) std::fill_n(c + i * ldc + n0, w, 0.f);
            apply_epilogue(c + n0, ldc, m, w, 0, n0, ep);
        }
        return;
    }
    // When all of packed A fits in L2, walk each B panel start to end (one sequential stream from memory,
    // which the hardware prefetcher follows); otherwise keep one K block of A in L2 across all panels.
    const bool panel_outer = m * k * sizeof(float) <= gemm_a_l2_bytes;
    const std::size_t outer_n = panel_outer ? p_end - p_begin : (k + KC - 1) / KC;
    const std::size_t inner_n = panel_outer ? (k + KC - 1) / KC : p_end - p_begin;
    for (std::size_t outer = 0; outer < outer_n; ++outer)
    for (std::size_t inner = 0; inner < inner_n; ++inner) {
        const std::size_t p = p_begin + (panel_outer ? outer : inner), k0 = (panel_outer ? inner : outer) * KC;
        const std::size_t kc = std::min(KC, k - k0);
        const bool first = k0 == 0, last = k0 + kc == k;
        {
            const std::size_t n0 = p * NR, w = std::min(NR, n - n0);
            const float* bp = bpanels + p * k * NR + k0 * NR;
            for (std::size_t ip = 0; ip < mpanels; ++ip) {
                const std::size_t m0 = ip * MR, h = std::min(MR, m - m0);
                const bool direct = ip < a.direct_panels;
                const float* ap = direct ? a.rows + m0 * a.lda + k0 : a.packed + (ip - a.direct_panels) * MR * k + k0 * MR;
                auto kernel = [&](float* out, std::size_t ld_out) {
                    if (direct) micro_kernel<false, NV>(kc, ap, a.lda, bp, out, ld_out, !first);
                    else micro_kernel<true, NV>(kc, ap, 0, bp, out, ld_out, !first);
                };
                float* ct = c + m0 * ldc + n0;
                if (h == MR && w == NR) {
                    kernel(ct, ldc);
                } else {  // edge tile: compute in a full-size scratch tile, copy the valid part
                    if (!first)
                        for (std::size_t r = 0; r < h; ++r) std::memcpy(tile + r * NR, ct + r * ldc, w * sizeof(float));
                    kernel(tile, NR);
                    for (std::size_t r = 0; r < h; ++r) std::memcpy(ct + r * ldc, tile + r * NR, w * sizeof(float));
                }
                if (last) apply_epilogue(ct, ldc, h, w, m0, n0, ep);
            }
        }
    }
}

/// A operand for m rows: full micro-panels read in place, the partial last one packed (zero-padded) into
/// this thread's scratch. With alpha != 1 everything is packed, scaled.
inline a_operand make_a_operand(const float* a, std::size_t m, std::size_t lda, std::size_t k, float alpha) {
    constexpr std::size_t MR = gemm_mr;
    thread_local aligned_buffer<float> buffer;
    const std::size_t direct = alpha == 1.f ? m / MR : 0, first_packed = direct * MR;
    a_operand op{a, lda, direct, nullptr};
    if (first_packed < m) {
        const std::size_t panels = (m - first_packed + MR - 1) / MR;
        float* dst = scratch(buffer, panels * MR * std::max<std::size_t>(k, 1));
        for (std::size_t ip = 0; ip < panels; ++ip) {
            const std::size_t r0 = first_packed + ip * MR;
            pack_a_panel(a + r0 * lda, lda, std::min(MR, m - r0), k, alpha, dst + ip * MR * k);
        }
        op.packed = dst;
    }
    return op;
}

inline void check_gemm_args(const char* who, std::size_t k, std::size_t lda, std::size_t n, std::size_t ldc,
                            const epilogue& ep) {
    if (lda < k) throw shape_error(std::string(who) + ": lda " + std::to_string(lda) + " < k " + std::to_string(k));
    if (ldc < n) throw shape_error(std::string(who) + ": ldc " + std::to_string(ldc) + " < n " + std::to_string(n));
    if (ep.residual && ep.ld_residual < n)
        throw shape_error(std::string(who) + ": ld_residual " + std::to_string(ep.ld_residual) + " < n " +
                          std::to_string(n));
}

}  // namespace detail

/// C[m x n] (row stride ldc) = epilogue(A[m x k] (row stride lda) · B). Safe to call from several threads.
inline void gemm(const float* a, std::size_t m, std::size_t lda, const packed_matrix& b, float* c, std::size_t ldc,
                 const epilogue& ep = {}, int threads = 1) {
    const std::size_t k = b.k(), n = b.n();
    detail::check_gemm_args("gemm", k, lda, n, ldc, ep);
    if (m == 0 || n == 0) return;
    const std::size_t npanels = b.panels();
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, 1.f);
    const int t = std::max(1, std::min<int>(threads, int(npanels)));
    if (t == 1) {
        detail::compute_panels(a_op, m, k, b.panel(0), n, 0, npanels, c, ldc, ep);
        return;
    }
    EDGEBERT_OMP(parallel num_threads(t)) {
#if EDGEBERT_HAS_OPENMP
        const std::size_t id = std::size_t(omp_get_thread_num()), nt = std::size_t(omp_get_num_threads());
#else
        const std::size_t id = 0, nt = 1;
#endif
        const std::size_t p0 = npanels * id / nt, p1 = npanels * (id + 1) / nt;
        detail::compute_panels(a_op, m, k, b.panel(0), n, p0, p1, c, ldc, ep);
    }
}

/// C[m x n] = alpha · A[m x k] · Bᵀ with B [n x k] row-major (row stride ldb): attention scores Q·Kᵀ.
/// Single-threaded; callers parallelise over heads.
inline void gemm_nt(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                    const float* b, std::size_t ldb, float* c, std::size_t ldc) {
    detail::check_gemm_args("gemm_nt", k, lda, n, ldc, {});
    if (k && n && ldb < k) throw shape_error("gemm_nt: ldb " + std::to_string(ldb) + " < k " + std::to_string(k));
    if (m == 0 || n == 0) return;
    constexpr std::size_t NR = detail::gemm_nr;
    const std::size_t npanels = (n + NR - 1) / NR;
    thread_local aligned_buffer<float> b_buffer;
    float* bpack = detail::scratch(b_buffer, npanels * NR * std::max<std::size_t>(k, 1));
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, alpha);
    for (std::size_t p = 0; p < npanels; ++p) {  // B panel p holds rows p*NR.. of the [n x k] operand, transposed
        float* dst = bpack + p * k * NR;
        const std::size_t j0 = p * NR, w = std::min(NR, n - j0);
        for (std::size_t kk = 0; kk < k; ++kk) {
            float* d = dst + kk * NR;
            std::size_t j = 0;
            for (; j < w; ++j) d[j] = b[(j0 + j) * ldb + kk];
            for (; j < NR; ++j) d[j] = 0.f;
        }
    }
    detail::compute_panels(a_op, m, k, bpack, n, 0, npanels, c, ldc, {});
}

/// C[m x n] = A[m x k] · B[k x n], B row-major (row stride ldb): attention context P·V. Single-threaded.
inline void gemm_nn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                    std::size_t ldb, float* c, std::size_t ldc) {
    detail::check_gemm_args("gemm_nn", k, lda, n, ldc, {});
    if (k && n && ldb < n) throw shape_error("gemm_nn: ldb " + std::to_string(ldb) + " < n " + std::to_string(n));
    if (m == 0 || n == 0) return;
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, 1.f);
    thread_local aligned_buffer<float> b_buffer;
    // B is packed per call, so the panel width can follow n: a head of 64 fits two 32-wide panels
    // exactly, where 48-wide panels would compute a third of zeros.
    auto run = [&](auto nv) {
        constexpr std::size_t NR = decltype(nv)::value * detail::gemm_lanes;
        const std::size_t npanels = (n + NR - 1) / NR;
        float* bpack = detail::scratch(b_buffer, npanels * NR * std::max<std::size_t>(k, 1));
        std::fill_n(bpack, npanels * NR * k, 0.f);
        for (std::size_t p = 0; p < npanels; ++p) {
            const std::size_t j0 = p * NR, w = std::min(NR, n - j0);
            for (std::size_t kk = 0; kk < k; ++kk) std::memcpy(bpack + p * k * NR + kk * NR, b + kk * ldb + j0, w * sizeof(float));
        }
        detail::compute_panels<decltype(nv)::value>(a_op, m, k, bpack, n, 0, npanels, c, ldc, {});
    };
    constexpr std::size_t NV = detail::gemm_nv, L = detail::gemm_lanes;
    const std::size_t waste_default = (n + NV * L - 1) / (NV * L) * NV * L - n, waste_two = (n + 2 * L - 1) / (2 * L) * 2 * L - n;
    if (NV != 2 && waste_two < waste_default) run(std::integral_constant<std::size_t, 2>{});
    else run(std::integral_constant<std::size_t, NV>{});
}

namespace reference {

/// Plain triple loop, double accumulation: C = epilogue(A · Wᵀ) with W [n x k] (row stride ldw).
inline void gemm(const float* a, std::size_t m, std::size_t k, std::size_t lda, const float* w, std::size_t n,
                 std::size_t ldw, float* c, std::size_t ldc, const epilogue& ep = {}) {
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t t = 0; t < k; ++t) s += double(a[i * lda + t]) * double(w[j * ldw + t]);
            float v = float(s) + (ep.bias ? ep.bias[j] : 0.f);
            v = activate_reference(ep.act, v);
            if (ep.residual) v += ep.residual[i * ep.ld_residual + j];
            c[i * ldc + j] = v;
        }
}

/// C = alpha · A · Bᵀ, B [n x k].
inline void gemm_nt(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                    const float* b, std::size_t ldb, float* c, std::size_t ldc) {
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t t = 0; t < k; ++t) s += double(a[i * lda + t]) * double(b[j * ldb + t]);
            c[i * ldc + j] = float(double(alpha) * s);
        }
}

/// C = A · B, B [k x n].
inline void gemm_nn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                    std::size_t ldb, float* c, std::size_t ldc) {
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t t = 0; t < k; ++t) s += double(a[i * lda + t]) * double(b[t * ldb + j]);
            c[i * ldc + j] = float(s);
        }
}

}  // namespace reference

}  // namespace edgebert::kernels
