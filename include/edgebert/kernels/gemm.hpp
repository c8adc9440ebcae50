// SPDX-License-Identifier: Apache-2.0
#pragma once
// Single-precision matrix product C = epilogue(A · B) in the GotoBLAS/BLIS manner:
//   * B is packed into column panels NR wide (zero-padded past n), K-major inside a panel: row kk of a panel
//     is NR consecutive floats, 64-byte aligned. Weights are packed once at load (packed_matrix); ALBERT
//     reuses one layer's weights at every depth.
//   * A is read in place: the micro-kernel broadcasts A[r][kk] from MR row streams. Only a partial last
//     micro-panel (m not a multiple of MR) is packed, zero-padded, into thread-local scratch (K-major, MR
//     values per kk); gemm_nt with alpha != 1 packs all of A, scaled.
//   * K is cut into blocks of KC. While a thread's rows of A fit in L2 (512 KiB), or can be cut into blocks of
//     >= 128 rows that do, each B panel is walked start to end (one sequential stream) and every A
//     micro-panel of the rows (row block) passes each KC x NR block of it. Otherwise the K blocks are the
//     outer loop: one K block of all of A stays in L2 while every panel passes. The MR x NR accumulator tile lives
//     in registers (detail/gemm_microkernel.hpp).
//   * The epilogue (bias, activation, residual) is applied to each full tile's accumulators in registers
//     after its last K block, so C is stored once; edge tiles (m or n not multiples of MR/NR) go through a
//     scratch tile and get it right after, while they are in L1.
//   * Threads split the column panels (rows too when there are fewer panels than threads); every element of
//     C is computed by one thread in one order, so the result does not depend on the thread count.
// MR and NR follow the SIMD width xsimd picked at compile time (SSE2: 6 x 8, AVX2: 6 x 16, AVX-512: 8 x 48).
// No allocation in steady state: the scratch buffers are thread_local and only grow.
// C must not overlap A, B, the bias or the residual.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "../core/aligned_buffer.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/thread_pool.hpp"
#include "activation.hpp"
#include "detail/gemm_microkernel.hpp"
#include "detail/gemm_pack.hpp"

namespace edgebert::kernels {

#if defined(EDGEBERT_KERNEL_DISPATCH)
/// The panel width of the kernels chosen at start (kernels/dispatch.hpp): weights are packed for them.
std::size_t dispatched_panel_width() noexcept;
#endif

/// Columns per B panel that packing uses: the micro-kernel's NR, fixed when the kernels are compiled for one
/// instruction set, chosen at start with runtime dispatch.
inline std::size_t packing_panel_width() noexcept {
#if defined(EDGEBERT_KERNEL_DISPATCH)
    return dispatched_panel_width();
#else
    return detail::gemm_nr;
#endif
}

/// B operand of C = A·B, packed once into the micro-kernel's panel layout.
class packed_matrix {
public:
#if !defined(EDGEBERT_KERNEL_DISPATCH)
    static constexpr std::size_t panel_width = detail::gemm_nr;
#endif

    packed_matrix() = default;

    /// From a PyTorch Linear weight W [n_out x k_in] (row stride ld): the product computes X·Wᵀ.
    /// panel_columns: 0 = the kernels' own (a test of runtime dispatch packs for a given kernel set).
    static packed_matrix from_weight(const float* w, std::size_t n_out, std::size_t k_in, std::size_t ld,
                                     std::size_t panel_columns = 0) {
        if (n_out && k_in && ld < k_in)
            throw shape_error("packed_matrix::from_weight: row stride " + std::to_string(ld) + " < in_features " +
                              std::to_string(k_in));
        packed_matrix p(k_in, n_out, panel_columns ? panel_columns : packing_panel_width());
        detail::pack_transposed(p.nr_, w, n_out, k_in, ld, p.data_.data());
        return p;
    }

    /// From a row-major [k x n] matrix with row stride ld.
    static packed_matrix from_kn(const float* b, std::size_t k, std::size_t n, std::size_t ld) {
        if (k && n && ld < n)
            throw shape_error("packed_matrix::from_kn: row stride " + std::to_string(ld) + " < columns " +
                              std::to_string(n));
        packed_matrix p(k, n, packing_panel_width());
        detail::pack_kn_panels(p.nr_, b, k, n, ld, p.data_.data());
        return p;
    }

    std::size_t k() const noexcept { return k_; }
    std::size_t n() const noexcept { return n_; }
    /// Columns per panel (the micro-kernel's NR when packed).
    std::size_t panel_columns() const noexcept { return nr_; }
    std::size_t panels() const noexcept { return (n_ + nr_ - 1) / nr_; }
    std::size_t bytes() const noexcept { return data_.size() * sizeof(float); }
    bool empty() const noexcept { return n_ == 0 || k_ == 0; }
    /// Element (kk, nn) of B.
    float at(std::size_t kk, std::size_t nn) const {
        if (kk >= k_ || nn >= n_) throw shape_error("packed_matrix::at: index out of range");
        return data_[(nn / nr_) * k_ * nr_ + kk * nr_ + nn % nr_];
    }
    /// Panel p: k() rows of panel_columns() floats.
    const float* panel(std::size_t p) const noexcept { return data_.data() + p * k_ * nr_; }

private:
    packed_matrix(std::size_t k, std::size_t n, std::size_t nr) : k_(k), n_(n), nr_(nr), data_(((n + nr - 1) / nr) * nr * k) {}
    std::size_t k_ = 0, n_ = 0, nr_ = packing_panel_width();
    aligned_buffer<float> data_;
};

/// What happens to each output element after the product: c = act(acc + bias[n]) + residual[m][n].
struct epilogue {
    const float* bias = nullptr;            ///< [n], or nullptr
    activation act = activation::identity;  ///< applied after the bias
    const float* residual = nullptr;        ///< [m x n] with row stride ld_residual, added after the activation
    std::size_t ld_residual = 0;
    /// Nothing to do: c = acc.
    bool empty() const noexcept { return !bias && act == activation::identity && !residual; }
};

namespace detail {
EDGEBERT_ISA_BEGIN

/// One whole batch of outputs: act(x + bias) + residual, with bias and residual at the batch's first column (or
/// nullptr). The one place that orders bias, activation and residual: write_epilogue and register_epilogue both
/// finish through it, so every tile rounds alike and as the references do.
template <activation A>
EDGEBERT_ALWAYS_INLINE gemm_batch finish_batch(gemm_batch x, const float* bias, const float* residual) noexcept {
    if (bias) x += gemm_batch::load_unaligned(bias);
    x = activate<A>(x);
    if (residual) x += gemm_batch::load_unaligned(residual);
    return x;
}

/// rows x cols of C starting at (m0, n0) = epilogue(x), where value(r, j, count) gives x for row r, columns
/// [j, j + count) as a batch (count < the lanes only at a row's end; lanes past it are zeros and never stored).
/// Edge tiles and the activations register_epilogue does not take go through it.
template <class Value>
inline void write_epilogue(float* c, std::size_t ldc, std::size_t rows, std::size_t cols, std::size_t m0,
                           std::size_t n0, const epilogue& ep, Value&& value) noexcept {
    dispatch_activation(ep.act, [&](auto tag) {
        constexpr activation A = decltype(tag)::value;
        using B = gemm_batch;
        constexpr std::size_t W = gemm_lanes;
        for (std::size_t r = 0; r < rows; ++r) {
            float* row = c + r * ldc;
            const float* res = ep.residual ? ep.residual + (m0 + r) * ep.ld_residual + n0 : nullptr;
            std::size_t j = 0;
            for (; j + W <= cols; j += W)
                finish_batch<A>(value(r, j, W), ep.bias ? ep.bias + n0 + j : nullptr, res ? res + j : nullptr)
                    .store_unaligned(row + j);
            if (j < cols) {  // the tail goes through the same SIMD code, padded
                alignas(64) float t[W] = {}, bias[W] = {};
                const std::size_t rest = cols - j;
                if (ep.bias) std::copy_n(ep.bias + n0 + j, rest, bias);
                B v = value(r, j, rest);
                if (ep.bias) v += B::load_aligned(bias);
                activate<A>(v).store_aligned(t);
                for (std::size_t q = 0; q < rest; ++q) row[j + q] = t[q] + (res ? res[j + q] : 0.f);
            }
        }
    });
}

/// The epilogue of one full MR x NR tile, applied by micro_kernel to its accumulators before their only store.
/// Before, the tile was stored, read back and stored again: at 384 tokens C's lines are not in cache yet, and
/// the read-back waited for them (docs/performance.md, session 19).
template <activation A>
struct register_epilogue {
    const float* bias;      ///< at the tile's first column, or nullptr
    const float* residual;  ///< at the tile's first element, or nullptr
    std::size_t ld_residual;

    template <std::size_t MR, std::size_t NV>
    EDGEBERT_ALWAYS_INLINE void operator()(gemm_batch (&acc)[MR][NV]) const noexcept {
        constexpr std::size_t W = gemm_lanes;
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v)
                acc[r][v] = finish_batch<A>(acc[r][v], bias ? bias + v * W : nullptr,
                                            residual ? residual + r * ld_residual + v * W : nullptr);
    }
};

/// Call f(register_epilogue<A>) for the tile at (m0, n0) when its activation is one that is finished in
/// registers (those of BERT-family FFNs and adapters: identity, ReLU, both GELUs; each is another copy of the
/// micro-kernel); returns false, calling nothing, for the others.
template <class F>
inline bool with_register_epilogue(const epilogue& ep, std::size_t m0, std::size_t n0, F&& f) {
    const float* bias = ep.bias ? ep.bias + n0 : nullptr;
    const float* residual = ep.residual ? ep.residual + m0 * ep.ld_residual + n0 : nullptr;
    auto finish_with = [&](auto act) {
        f(register_epilogue<decltype(act)::value>{bias, residual, ep.ld_residual});
        return true;
    };
    using A = activation;
    switch (ep.act) {
        case A::identity: return finish_with(std::integral_constant<A, A::identity>{});
        case A::relu: return finish_with(std::integral_constant<A, A::relu>{});
        case A::gelu_erf: return finish_with(std::integral_constant<A, A::gelu_erf>{});
        case A::gelu_tanh: return finish_with(std::integral_constant<A, A::gelu_tanh>{});
        default: return false;
    }
}

/// Apply the epilogue to rows x cols of C starting at (m0, n0), in place.
inline void apply_epilogue(float* c, std::size_t ldc, std::size_t rows, std::size_t cols, std::size_t m0,
                           std::size_t n0, const epilogue& ep) noexcept {
    if (ep.empty()) return;
    using B = gemm_batch;
    write_epilogue(c, ldc, rows, cols, m0, n0, ep, [&](std::size_t r, std::size_t j, std::size_t count) {
        if (count == B::size) return B::load_unaligned(c + r * ldc + j);
        alignas(64) float t[B::size] = {};
        std::copy_n(c + r * ldc + j, count, t);
        return B::load_aligned(t);
    });
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

/// Compute the tiles of C in column panels [p_begin, p_end) and row micro-panels [i_begin, i_end) (units of
/// MR rows; m is the total row count) from A and B packed in panels of NV vectors.
template <std::size_t NV = gemm_nv>
inline void compute_tiles(const a_operand& a, std::size_t m, std::size_t k, const float* bpanels, std::size_t n,
                          std::size_t p_begin, std::size_t p_end, std::size_t i_begin, std::size_t i_end, float* c,
                          std::size_t ldc, const epilogue& ep) noexcept {
    constexpr std::size_t MR = gemm_mr, NR = NV * gemm_lanes, KC = gemm_kc;
    if (p_begin >= p_end || i_begin >= i_end) return;
    const std::size_t r_begin = i_begin * MR, r_end = std::min(m, i_end * MR);
    if (k == 0) {  // C = epilogue(0)
        for (std::size_t p = p_begin; p < p_end; ++p) {
            const std::size_t n0 = p * NR, w = std::min(NR, n - n0);
            for (std::size_t i = r_begin; i < r_end; ++i) std::fill_n(c + i * ldc + n0, w, 0.f);
            apply_epilogue(c + r_begin * ldc + n0, ldc, r_end - r_begin, w, r_begin, n0, ep);
        }
        return;
    }
    // When this thread's rows of A fit in L2, walk each B panel start to end (one sequential stream from
    // memory, which the hardware prefetcher follows) while every A micro-panel passes each KC x NR block.
    // Otherwise, if blocks of at least gemm_min_row_block rows fit, do that block after block: B is streamed
    // once per block, at >= 64 flops per byte of B, and this measured 3-5% faster (384 x 768 x 2304/3072)
    // than the K-outer order. The columns are cut into chunks of at most gemm_b_reuse_bytes of B first, so
    // that the second and later row blocks find their panels in cache rather than in memory (3 % faster on
    // the whole model at 384 tokens, 1 thread; with 2 threads the thread chunks were that small already).
    // With shorter blocks (long rows, k = 3072) re-streaming the weights from memory costs more than it saves
    // (measured on the whole layer), so one K block of A stays in L2 while every panel passes, and B is
    // streamed once.
    const bool panel_outer = (r_end - r_begin) * k * sizeof(float) <= gemm_a_l2_bytes;
    if (!panel_outer) {
        const std::size_t block = gemm_a_l2_bytes / (k * sizeof(float) * MR);  // micro-panels per L2 block
        if (block * MR >= gemm_min_row_block) {
            const std::size_t panels = p_end - p_begin, panel_bytes = k * NR * sizeof(float);
            const std::size_t chunks =
                std::min(panels, (panels * panel_bytes + gemm_b_reuse_bytes - 1) / gemm_b_reuse_bytes);
            for (std::size_t j = 0; j < chunks; ++j) {
                const std::size_t p0 = p_begin + panels * j / chunks, p1 = p_begin + panels * (j + 1) / chunks;
                for (std::size_t ib = i_begin; ib < i_end; ib += block)
                    compute_tiles<NV>(a, m, k, bpanels, n, p0, p1, ib, std::min(i_end, ib + block), c, ldc, ep);
            }
            return;
        }
    }
    alignas(64) float tile[MR * NR];
    const std::size_t kblocks = (k + KC - 1) / KC, panels = p_end - p_begin;
    const std::size_t outer_n = panel_outer ? panels : kblocks, inner_n = panel_outer ? kblocks : panels;
    for (std::size_t outer = 0; outer < outer_n; ++outer)
        for (std::size_t inner = 0; inner < inner_n; ++inner) {
            const std::size_t p = p_begin + (panel_outer ? outer : inner), k0 = (panel_outer ? inner : outer) * KC;
            const std::size_t kc = std::min(KC, k - k0);
            const bool first = k0 == 0, last = k0 + kc == k;
            const std::size_t n0 = p * NR, w = std::min(NR, n - n0);
            const float* bp = bpanels + p * k * NR + k0 * NR;
            for (std::size_t ip = i_begin; ip < i_end; ++ip) {
                const std::size_t m0 = ip * MR, h = std::min(MR, m - m0);
                const bool direct = ip < a.direct_panels;
                const float* ap =
                    direct ? a.rows + m0 * a.lda + k0 : a.packed + (ip - a.direct_panels) * MR * k + k0 * MR;
                auto kernel = [&](float* out, std::size_t ld_out, const auto& finish) {
                    using Finish = std::decay_t<decltype(finish)>;
                    if (direct) micro_kernel<false, NV, Finish>(kc, ap, a.lda, bp, out, ld_out, !first, finish);
                    else micro_kernel<true, NV, Finish>(kc, ap, 0, bp, out, ld_out, !first, finish);
                };
                float* ct = c + m0 * ldc + n0;
                if (h == MR && w == NR) {
                    if (last && !ep.empty() &&
                        with_register_epilogue(ep, m0, n0, [&](const auto& finish) { kernel(ct, ldc, finish); }))
                        continue;
                    kernel(ct, ldc, no_finish{});
                } else {  // edge tile: compute in a full-size scratch tile, copy the valid part
                    if (!first)
                        for (std::size_t r = 0; r < h; ++r) std::memcpy(tile + r * NR, ct + r * ldc, w * sizeof(float));
                    kernel(tile, NR, no_finish{});
                    for (std::size_t r = 0; r < h; ++r) std::memcpy(ct + r * ldc, tile + r * NR, w * sizeof(float));
                }
                if (last) apply_epilogue(ct, ldc, h, w, m0, n0, ep);
            }
        }
}

/// Split `threads` over a grid of column panels x row micro-panels: columns first (B streams once and A is
/// shared), rows only when there are fewer panels than threads. Returns {column groups, row groups}.
inline std::pair<std::size_t, std::size_t> thread_grid(std::size_t threads, std::size_t npanels,
                                                       std::size_t mpanels) noexcept {
    const std::size_t tn = std::max<std::size_t>(1, std::min(threads, npanels));
    const std::size_t tm = std::max<std::size_t>(1, std::min(threads / tn, mpanels));
    return {tn, tm};
}

/// Run tiles(p0, p1, i0, i1) over column panels [p0, p1) and row micro-panels [i0, i1) on up to `threads`
/// threads (core/thread_pool.hpp); one thread calls it once for everything. The grid of thread_grid is cut
/// into about four column chunks per thread, handed out one at a time, so a thread the OS does not schedule
/// (a busy machine) holds the others up by one chunk at most; chunks stay several panels wide where there are
/// many, so the K-outer order of compute_tiles still streams A once per chunk, not once per panel.
template <class Tiles>
inline void for_each_tile_block(int threads, std::size_t npanels, std::size_t mpanels, Tiles&& tiles) {
    const std::pair<std::size_t, std::size_t> grid = thread_grid(std::size_t(std::max(threads, 1)), npanels, mpanels);
    const std::size_t tn = grid.first, tm = grid.second;
    if (tn * tm == 1) {
        tiles(std::size_t(0), npanels, std::size_t(0), mpanels);
        return;
    }
    const std::size_t chunks = std::min(npanels, tn * 4);
    parallel_for(int(tn * tm), chunks * tm, [&](std::size_t job) {
        const std::size_t jn = job % chunks, jm = job / chunks;
        tiles(npanels * jn / chunks, npanels * (jn + 1) / chunks, mpanels * jm / tm, mpanels * (jm + 1) / tm);
    });
}

/// Call f(std::integral_constant<size_t, NV>) with the panel width (in vectors) for a B packed per call:
/// the default NV, or 2 vectors when that pads n less (a 64-wide head or 128 keys fit 32-wide panels
/// exactly, where 48-wide panels would compute a third / an eighth of zeros).
template <class F>
inline void with_panel_vectors(std::size_t n, F&& f) {
    constexpr std::size_t NV = gemm_nv, L = gemm_lanes;
    if constexpr (NV != 2) {
        const std::size_t waste_default = (n + NV * L - 1) / (NV * L) * NV * L - n;
        const std::size_t waste_two = (n + 2 * L - 1) / (2 * L) * 2 * L - n;
        if (waste_two < waste_default) {
            f(std::integral_constant<std::size_t, 2>{});
            return;
        }
    }
    f(std::integral_constant<std::size_t, NV>{});
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
            pack_a_panel<MR>(a + r0 * lda, lda, std::min(MR, m - r0), k, alpha, dst + ip * MR * k);
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

/// The B operand was packed for these kernels' panel width (a program with runtime dispatch packs for the
/// kernels chosen at start; a matrix packed before another choice would be read wrongly).
inline void check_panel_width(const char* who, std::size_t packed) {
    if (packed != gemm_nr)
        throw shape_error(std::string(who) + ": B was packed in panels of " + std::to_string(packed) +
                          " columns, these kernels use " + std::to_string(gemm_nr));
}

EDGEBERT_ISA_END
}  // namespace detail

EDGEBERT_ISA_BEGIN

/// C[m x n] (row stride ldc) = epilogue(A[m x k] (row stride lda) · B), B packed (b.k() == k).
/// threads >= 1 (callers resolve 0 with resolve_threads); more threads than tiles are not used.
/// m == 0 or n == 0: nothing is touched; k == 0: C = epilogue(0). Columns of C past n are never touched.
/// Safe to call concurrently from several threads (scratch is thread_local). C must not overlap A or the
/// residual. Throws shape_error if lda < k, ldc < n, or a residual is given with ld_residual < n.
EDGEBERT_KERNEL_API
void gemm(const float* a, std::size_t m, std::size_t lda, const packed_matrix& b, float* c, std::size_t ldc,
          const epilogue& ep = {}, int threads = 1)
#if EDGEBERT_KERNEL_BODIES
{
    const std::size_t k = b.k(), n = b.n();
    detail::check_gemm_args("gemm", k, lda, n, ldc, ep);
    detail::check_panel_width("gemm", b.panel_columns());
    if (m == 0 || n == 0) return;
    const std::size_t npanels = b.panels(), mpanels = (m + detail::gemm_mr - 1) / detail::gemm_mr;
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, 1.f);
    detail::for_each_tile_block(threads, npanels, mpanels, [&](std::size_t p0, std::size_t p1, std::size_t i0, std::size_t i1) {
        detail::compute_tiles(a_op, m, k, b.panel(0), n, p0, p1, i0, i1, c, ldc, ep);
    });
}
#else
;
#endif

/// C[m x n] = alpha · A[m x k] · Bᵀ with B [n x k] row-major (row stride ldb): attention scores Q·Kᵀ.
/// Single-threaded; callers parallelise over heads. Throws shape_error if lda < k, ldb < k or ldc < n.
EDGEBERT_KERNEL_API
void gemm_nt(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float* c, std::size_t ldc)
#if EDGEBERT_KERNEL_BODIES
{
    detail::check_gemm_args("gemm_nt", k, lda, n, ldc, {});
    if (k && n && ldb < k) throw shape_error("gemm_nt: ldb " + std::to_string(ldb) + " < k " + std::to_string(k));
    if (m == 0 || n == 0) return;
    thread_local aligned_buffer<float> b_buffer;
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, alpha);
    const std::size_t mpanels = (m + detail::gemm_mr - 1) / detail::gemm_mr;
    detail::with_panel_vectors(n, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value, NR = NV * detail::gemm_lanes;
        const std::size_t npanels = (n + NR - 1) / NR;
        float* bpack = detail::scratch(b_buffer, npanels * NR * std::max<std::size_t>(k, 1));
        detail::pack_transposed<NR>(b, n, k, ldb, bpack);
        detail::compute_tiles<NV>(a_op, m, k, bpack, n, 0, npanels, 0, mpanels, c, ldc, {});
    });
}
#else
;
#endif

/// C[m x n] = A[m x k] · B[k x n], B row-major (row stride ldb): attention context P·V. Single-threaded.
/// Throws shape_error if lda < k, ldb < n or ldc < n.
EDGEBERT_KERNEL_API
void gemm_nn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
             std::size_t ldb, float* c, std::size_t ldc)
#if EDGEBERT_KERNEL_BODIES
{
    detail::check_gemm_args("gemm_nn", k, lda, n, ldc, {});
    if (k && n && ldb < n) throw shape_error("gemm_nn: ldb " + std::to_string(ldb) + " < n " + std::to_string(n));
    if (m == 0 || n == 0) return;
    thread_local aligned_buffer<float> b_buffer;
    const detail::a_operand a_op = detail::make_a_operand(a, m, lda, k, 1.f);
    const std::size_t mpanels = (m + detail::gemm_mr - 1) / detail::gemm_mr;
    detail::with_panel_vectors(n, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value, NR = NV * detail::gemm_lanes;
        const std::size_t npanels = (n + NR - 1) / NR;
        float* bpack = detail::scratch(b_buffer, npanels * NR * std::max<std::size_t>(k, 1));
        detail::pack_kn_panels<NR>(b, k, n, ldb, bpack);
        detail::compute_tiles<NV>(a_op, m, k, bpack, n, 0, npanels, 0, mpanels, c, ldc, {});
    });
}
#else
;
#endif

EDGEBERT_ISA_END

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
