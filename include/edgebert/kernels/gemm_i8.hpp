// SPDX-License-Identifier: Apache-2.0
#pragma once
// C = epilogue(A · Wᵀ) in integers: W quantized per output channel to symmetric int8 at load, A quantized per
// row at run time, int32 sums, one float scale per output. The convention of ONNX Runtime's dynamic
// quantization and TFLite (weights w ≈ sw[n]·qw, qw in [-127, 127]), with the activation's scale per row
// rather than per tensor (an outlier token does not coarsen the others).
//
//   weights (once, at load)   sw[n] = max_k |W[n][k]| / 127, qw = round-to-even(W / sw) (an all-zero row: sw 0)
//   activations (every call)  sa[i] = max_k |A[i][k]| / 127, qa = clamp(round-to-even(A · (127 / max)), ±127)
//   product                   C[i][n] = epilogue(float(sum_k qa·qw) · (sa[i] · sw[n]))
// The integer sum is exact, so the fast paths equal the scalar reference (reference::gemm_i8) bit for bit
// before the epilogue, whatever the instruction set or thread count.
//
// The packed layout and the micro-kernels (AVX-512 VNNI, AVX-VNNI, AVX2, NEON dot product, NEON, portable;
// chosen at compile time, or at start with runtime dispatch on x86) are
// in detail/gemm_i8_microkernel.hpp. The activations are quantized once per product into a thread-local
// buffer, before the threads start; the Q, K and V projections are one product (nn::linear stacks them), so
// they share it. Threads split the tiles like kernels::gemm (detail::for_each_tile_block).
//
// A format whose values are not int8 times a per-row scale (AdaptivFloat, FP8: up to 12 significant bits) is
// requantized from its decoded values: an approximation, stated where it is used (model/weight_storage.hpp).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/error.hpp"
#include "activation.hpp"
#include "detail/amx_tiles.hpp"
#include "detail/gemm_i8_microkernel.hpp"
#include "gemm.hpp"

// The AMX-INT8 path lives beside the AVX-512 VNNI one: every processor with AMX has AVX-512 VNNI, and both
// multiply unsigned activation bytes by signed weights (tdpbusd, vpdpbusd), so they share the packed weights,
// the quantized activations and the epilogue, and give the same int32 sums. EDGEBERT_I8_AMX_SOFTWARE_MODEL
// (tests only) drives the tiles' C++ model instead of the instructions, and takes that path always.
#if defined(EDGEBERT_I8_ISA_AVX512VNNI) && (EDGEBERT_AMX_HARDWARE || defined(EDGEBERT_I8_AMX_SOFTWARE_MODEL))
#define EDGEBERT_I8_AMX 1
#else
#define EDGEBERT_I8_AMX 0
#endif

namespace edgebert::kernels {

/// Longest k whose int32 sums cannot overflow: |u8 · s8| <= 255 · 127 per product (the VNNI paths' unsigned
/// activations), plus the 128·colsum correction of the same size.
inline constexpr std::size_t gemm_i8_max_k = std::size_t(std::numeric_limits<std::int32_t>::max()) / (2 * 255 * 127);

/// Per-row symmetric int8 quantization of W [n x k] (row stride ld): q [n x k] (row stride k), scales [n].
/// The rule of every int8 weight here (i8_packed_matrix::quantize); an all-zero row gets scale 0, codes 0.
inline void quantize_rows_i8(const float* w, std::size_t n, std::size_t k, std::size_t ld, std::int8_t* q, float* scales) {
    for (std::size_t j = 0; j < n; ++j) {
        const float* row = w + j * ld;
        float m = 0.f;
        for (std::size_t t = 0; t < k; ++t) {
            if (!std::isfinite(row[t]))
                throw config_error("quantize_rows_i8: weight row " + std::to_string(j) + " holds a non-finite value at column " +
                                   std::to_string(t));
            m = std::max(m, std::fabs(row[t]));
        }
        scales[j] = m / 127.f;
        const float inv = m > 0.f ? 127.f / m : 0.f;
        for (std::size_t t = 0; t < k; ++t) q[j * k + t] = std::int8_t(detail::i8_quantize_value(row[t], inv));
    }
}

namespace detail {
/// The shape checks of every int8 weight storage; `who` names the storage and the call.
inline void check_i8_weight_shape(const std::string& who, std::size_t n_out, std::size_t k_in, std::size_t ld) {
    if (n_out && k_in && ld < k_in)
        throw shape_error(who + ": row stride " + std::to_string(ld) + " < in_features " + std::to_string(k_in));
    if (k_in > gemm_i8_max_k)
        throw shape_error(who + ": in_features " + std::to_string(k_in) + " > " + std::to_string(gemm_i8_max_k) +
                          " (int32 sums could overflow)");
}

/// Row j of int8 codes and its scale, checked (format_error for a code of -128, which the AVX2 path cannot
/// negate, or a negative or non-finite scale); returns the sum of the row's codes.
inline std::int32_t checked_i8_row_sum(const std::string& who, const std::int8_t* row, std::size_t k, float scale, std::size_t j) {
    if (!(scale >= 0.f) || !std::isfinite(scale))
        throw format_error(who + ": row " + std::to_string(j) + " has scale " + std::to_string(scale));
    std::int32_t sum = 0;
    for (std::size_t t = 0; t < k; ++t) {
        if (row[t] == -128)
            throw format_error(who + ": row " + std::to_string(j) + " column " + std::to_string(t) +
                               " holds -128 (symmetric int8 is [-127, 127])");
        sum += row[t];
    }
    return sum;
}

/// quantize_rows_i8 into new buffers, handed to make(codes, scales) (a storage's from_int8).
template <class Make>
inline auto quantized_i8(const float* w, std::size_t n_out, std::size_t k_in, std::size_t ld, Make&& make) {
    std::vector<std::int8_t> q(n_out * k_in);
    std::vector<float> s(n_out);
    quantize_rows_i8(w, n_out, k_in, ld, q.data(), s.data());
    return make(q.data(), s.data());
}
}  // namespace detail

/// W [n_out x k_in] as per-output-channel symmetric int8 in the micro-kernels' layout, with its scales and the
/// column sums the unsigned-activation paths subtract.
class i8_packed_matrix {
public:
    static constexpr std::size_t panel_width = detail::i8_panel_width;

    i8_packed_matrix() = default;

    /// Quantize a PyTorch Linear weight [n_out x k_in] (row stride ld) per output row (quantize_rows_i8).
    /// shape_error for ld < k_in or k_in > gemm_i8_max_k; config_error for a non-finite weight.
    static i8_packed_matrix quantize(const float* w, std::size_t n_out, std::size_t k_in, std::size_t ld) {
        detail::check_i8_weight_shape("i8_packed_matrix::quantize", n_out, k_in, ld);
        return detail::quantized_i8(w, n_out, k_in, ld,
                                    [&](const std::int8_t* q, const float* s) { return from_int8(q, n_out, k_in, k_in, s); });
    }

    /// From int8 codes [n_out x k_in] (row stride ld) and one scale per row: W[n][k] = q[n][k] · scales[n].
    /// format_error for a code of -128 (symmetric int8 is [-127, 127]; the AVX2 path negates weights) or a
    /// negative or non-finite scale; shape_error as quantize().
    static i8_packed_matrix from_int8(const std::int8_t* q, std::size_t n_out, std::size_t k_in, std::size_t ld, const float* scales) {
        detail::check_i8_weight_shape("i8_packed_matrix::from_int8", n_out, k_in, ld);
        constexpr std::size_t NR = panel_width, G = detail::i8_k_group;
        i8_packed_matrix p;
        p.n_ = n_out;
        p.k_ = k_in;
        p.kp_ = (k_in + G - 1) / G * G;
        const std::size_t np = p.panels();
        p.data_.resize(np * NR * p.kp_);  // zero: padding columns and k past k_in
        p.scales_.assign(np * NR, 0.f);
        p.colsum_.assign(np * NR, 0);
        for (std::size_t j = 0; j < n_out; ++j) {
            p.colsum_[j] = detail::checked_i8_row_sum("i8_packed_matrix", q + j * ld, k_in, scales[j], j);
            p.scales_[j] = scales[j];
            std::int8_t* panel = p.data_.data() + (j / NR) * p.panel_bytes();
            for (std::size_t t = 0; t < k_in; ++t) panel[(t / G) * NR * G + (j % NR) * G + t % G] = q[j * ld + t];
        }
        return p;
    }

    std::size_t k() const noexcept { return k_; }
    std::size_t n() const noexcept { return n_; }
    std::size_t panels() const noexcept { return (n_ + panel_width - 1) / panel_width; }
    bool empty() const noexcept { return n_ == 0 || k_ == 0; }
    /// Bytes of one panel (k padded to 4, times 16 columns).
    std::size_t panel_bytes() const noexcept { return kp_ * panel_width; }
    const std::int8_t* panel(std::size_t p) const noexcept { return data_.data() + p * panel_bytes(); }
    /// The int8 code of W[nn][kk] (element (kk, nn) of B = Wᵀ).
    std::int8_t code(std::size_t kk, std::size_t nn) const {
        if (kk >= k_ || nn >= n_) throw shape_error("i8_packed_matrix::code: index out of range");
        constexpr std::size_t NR = panel_width, G = detail::i8_k_group;
        return data_[(nn / NR) * panel_bytes() + (kk / G) * NR * G + (nn % NR) * G + kk % G];
    }
    float scale(std::size_t nn) const {
        if (nn >= n_) throw shape_error("i8_packed_matrix::scale: index out of range");
        return scales_[nn];
    }
    /// W[nn][kk] as the product sees it: code · scale.
    float at(std::size_t kk, std::size_t nn) const { return float(code(kk, nn)) * scale(nn); }
    /// Held in memory: the packed codes (padding included) + scales and column sums.
    std::size_t bytes() const noexcept { return data_.size() + scales_.size() * (sizeof(float) + sizeof(std::int32_t)); }

    const float* scales() const noexcept { return scales_.data(); }      ///< [panels · 16], 0 past n
    const std::int32_t* colsums() const noexcept { return colsum_.data(); }  ///< [panels · 16], sum_k q[n][k]

private:
    std::size_t k_ = 0, kp_ = 0, n_ = 0;
    aligned_buffer<std::int8_t> data_;
    std::vector<float> scales_;
    std::vector<std::int32_t> colsum_;
};

#if defined(EDGEBERT_KERNEL_DISPATCH) && !defined(EDGEBERT_KERNEL_ISA)
// Runtime dispatch (kernels/dispatch.hpp): the entry points below are defined by dispatcher.inc, as calls into
// the integer path of the instruction set it chose.

/// Name of the integer path in use: "amx-int8" (only with EDGEBERT_AMX=1), "avx512-vnni", "avx-vnni",
/// "avx2", "neon-dotprod", "neon" or "portable".
const char* gemm_i8_isa() noexcept;
/// As the header-only gemm_i8 below, on the dispatched set's integer path.
void gemm_i8(const float* a, std::size_t m, std::size_t lda, const i8_packed_matrix& b, float* c, std::size_t ldc,
             const epilogue& ep = {}, int threads = 1);
#else

namespace detail {
EDGEBERT_ISA_BEGIN
inline namespace EDGEBERT_I8_ISA_NAMESPACE {

/// A quantized per row: rows padded to a multiple of MR (zero rows), k to a multiple of 4; scales per row.
struct i8_activations {
    const std::uint8_t* data = nullptr;
    std::size_t ld = 0;  ///< bytes per row
    const float* scales = nullptr;
};

/// Quantize A [m x k] (row stride lda) into this thread's scratch, in the micro-kernel's form, rows padded to a
/// multiple of row_multiple (the micro-kernel's rows, or the AMX path's 32). On the calling
/// thread alone: quantized in row jobs on the product's threads, a 2-thread int8 pass was 2 % faster on an idle
/// machine and 9 % slower with the other core busy (one more region per product for a descheduled thread to
/// hold up; docs/performance.md).
inline i8_activations quantize_activations(const float* a, std::size_t m, std::size_t lda, std::size_t k,
                                           std::size_t row_multiple = i8_mr) {
    const std::size_t MR = row_multiple;
    constexpr std::size_t G = i8_k_group;
    thread_local aligned_buffer<std::uint8_t> bytes;
    thread_local std::vector<float> scales;
    static_assert(64 % G == 0, "rows padded to 64 bytes hold whole k groups");
    const std::size_t ld = (k + 63) / 64 * 64;  // rows 64-byte aligned
    const std::size_t rows = (m + MR - 1) / MR * MR;
    bytes.reserve_scratch(rows * ld);
    scales.resize(rows);
    const std::uint8_t pad = i8_unsigned_activations ? 128 : 0;  // the value of 0: adds nothing beyond the colsum term
    if (ld == 0) {  // k == 0: no bytes (and no buffer: memset of a null pointer is undefined even for 0 bytes)
        std::fill(scales.begin(), scales.end(), 0.f);
        return {bytes.data(), ld, scales.data()};
    }
    for (std::size_t i = 0; i < rows; ++i) {
        std::uint8_t* out = bytes.data() + i * ld;
        if (i >= m) {
            std::memset(out, pad, ld);
            scales[i] = 0.f;
            continue;
        }
        const float mx = i8_max_abs(a + i * lda, k);
        scales[i] = mx / 127.f;
        i8_quantize_row(a + i * lda, k, mx > 0.f ? 127.f / mx : 0.f, i8_unsigned_activations, out);
        std::memset(out + k, pad, ld - k);
    }
    return {bytes.data(), ld, scales.data()};
}

/// v as it is, kept from being fused into what follows: with -ffp-contract=fast (GCC's default outside strict
/// ISO mode) a product followed by an addition may become one FMA, which rounds once instead of twice. The
/// dequantized outputs must round as apply_epilogue's (the product stored to C, then read back), so that the
/// result does not depend on the compiler's flags; the empty asm makes the product a value GCC and Clang cannot
/// see into. Other compilers do not contract across statements by default.
template <class B>
inline B rounded(B v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    auto r = static_cast<typename B::register_type>(v);
    if constexpr (sizeof r == 64) __asm__("" : "+v"(r));
    else __asm__("" : "+x"(r));
    return B(r);
#elif defined(__GNUC__) && defined(__aarch64__)
    auto r = static_cast<typename B::register_type>(v);
    __asm__("" : "+w"(r));
    return B(r);
#else
    return v;
#endif
}

/// C[m0 + r][n0 + j] = epilogue(float(tile[r][j] - 128·colsum[j]) · (sa[r] · sw[j])) for r < h, j < w, in one
/// pass while the int32 tile (row stride nr) is in L1: C is written once, instead of dequantized and then read
/// back by apply_epilogue (0.985x of an int8 pass's time on 1 thread, within the noise on 2). The product is
/// rounded before the bias is added (rounded()), and write_epilogue does the rest, so the results are those of
/// the two passes bit for bit (test_gemm_i8 compares them to the scalar reference bit for bit).
inline void store_i8_tile(const std::int32_t* tile, std::size_t nr, std::size_t h, std::size_t w, const float* sa,
                          const float* sw, const std::int32_t* cs, float* c, std::size_t ldc, std::size_t m0,
                          std::size_t n0, const epilogue& ep) noexcept {
    using B = gemm_batch;
    using I = xsimd::batch<std::int32_t, typename B::arch_type>;
    constexpr std::size_t W = gemm_lanes;
    static_assert(I::size == W, "int32 and float batches of one width");
    auto product = [&](const std::int32_t* t, const std::int32_t* colsum, const float* scale_w, float scale_a) {
        I acc = I::load_unaligned(t);
        if constexpr (i8_unsigned_activations) acc -= I(128) * I::load_unaligned(colsum);
        return rounded(xsimd::to_float(acc) * (B(scale_a) * B::load_unaligned(scale_w)));
    };
    write_epilogue(c + m0 * ldc + n0, ldc, h, w, m0, n0, ep, [&](std::size_t r, std::size_t j, std::size_t count) {
        if (count == W) return product(tile + r * nr + j, cs + j, sw + j, sa[r]);
        alignas(64) std::int32_t tt[W] = {}, ct[W] = {};  // a row's end, padded with zeros
        alignas(64) float wt[W] = {};
        std::copy_n(tile + r * nr + j, count, tt);
        std::copy_n(cs + j, count, ct);
        std::copy_n(sw + j, count, wt);
        return product(tt, ct, wt, sa[r]);
    });
}

/// Tiles of C in column blocks [q_begin, q_end) (i8_nv panels each) x row micro-panels [i_begin, i_end).
inline void compute_i8_tiles(const i8_activations& a, std::size_t m, const i8_packed_matrix& b, std::size_t q_begin,
                             std::size_t q_end, std::size_t i_begin, std::size_t i_end, float* c, std::size_t ldc,
                             const epilogue& ep) noexcept {
    constexpr std::size_t MR = i8_mr, NV = i8_nv, P = i8_panel_width;
    const std::size_t n = b.n(), np = b.panels(), kg = (b.k() + i8_k_group - 1) / i8_k_group;
    alignas(64) std::int32_t tile[MR * NV * P];
    for (std::size_t q = q_begin; q < q_end; ++q) {
        const std::size_t p0 = q * NV, nv = std::min(NV, np - p0), n0 = p0 * P, w = std::min(nv * P, n - n0);
        const std::size_t nr = nv * P;
        const float* sw = b.scales() + n0;
        const std::int32_t* cs = b.colsums() + n0;
        for (std::size_t ip = i_begin; ip < i_end; ++ip) {
            const std::size_t m0 = ip * MR, h = std::min(MR, m - m0);
            const std::uint8_t* ap = a.data + m0 * a.ld;
            switch (nv) {  // the last block may hold fewer panels
                case NV: i8_micro_kernel<NV>(kg, ap, a.ld, b.panel(p0), b.panel_bytes(), tile); break;
                default:
                    if constexpr (NV > 1) {
                        if (nv == 1) i8_micro_kernel<1>(kg, ap, a.ld, b.panel(p0), b.panel_bytes(), tile);
                        else if constexpr (NV > 2) i8_micro_kernel<2>(kg, ap, a.ld, b.panel(p0), b.panel_bytes(), tile);
                    }
            }
            store_i8_tile(tile, nr, h, w, a.scales + m0, sw, cs, c, ldc, m0, n0, ep);
        }
    }
}

#if EDGEBERT_I8_AMX
#if defined(EDGEBERT_I8_AMX_SOFTWARE_MODEL)
using amx_tiles = amx_software_tiles;
inline bool amx_path() noexcept { return true; }
#else
using amx_tiles = amx_hardware_tiles;
inline bool amx_path() noexcept { return amx_int8_enabled(); }
#endif

/// C in blocks of 32 rows x 2 panels (32 columns): four int32 tiles of 16 x 16 (tiles 0-3), fed per 64 values of
/// k by two A tiles of 16 rows x 64 activation bytes (4, 5) and two B tiles of 16 k groups x 16 columns (6, 7).
/// A B tile is 16 consecutive 64-byte k groups of a packed panel: the panel is read in place, row stride 64.
inline constexpr std::size_t amx_block_rows = 32, amx_block_panels = 2;

inline amx_tile_config amx_config() noexcept {
    amx_tile_config cfg;
    for (std::size_t t = 0; t < 8; ++t) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    return cfg;
}

/// compute_i8_tiles on AMX tiles: column blocks [q_begin, q_end) of amx_block_panels panels x row blocks
/// [i_begin, i_end) of amx_block_rows rows; `a` quantized with rows padded to amx_block_rows. The int32 sums
/// are those of the other paths, so are the results, bit for bit.
template <class Tiles>
inline void compute_i8_tiles_amx(const i8_activations& a, std::size_t m, const i8_packed_matrix& b, std::size_t q_begin,
                                 std::size_t q_end, std::size_t i_begin, std::size_t i_end, float* c, std::size_t ldc,
                                 const epilogue& ep) noexcept {
    constexpr std::size_t P = i8_panel_width, G = 16, NR = amx_block_panels * P, row_bytes = NR * sizeof(std::int32_t);
    const std::size_t n = b.n(), np = b.panels(), kg = (b.k() + i8_k_group - 1) / i8_k_group;
    const std::size_t full = kg / G, tail = kg % G, steps = full + (tail ? 1 : 0);
    alignas(64) std::int8_t b_tail[amx_block_panels][G * 64];
    alignas(64) std::int32_t tile[amx_block_rows * NR];
    Tiles::configure(amx_config());
    for (std::size_t q = q_begin; q < q_end; ++q) {
        const std::size_t p0 = q * amx_block_panels, nv = std::min(amx_block_panels, np - p0), n0 = p0 * P;
        const std::size_t w = std::min(nv * P, n - n0);
        const bool two_cols = nv > 1;
        // The last k groups, zero-padded to a whole tile: reading on would cross into the next panel. The
        // activations' padding bytes meet zero weights there.
        if (tail)
            for (std::size_t v = 0; v < nv; ++v) {
                std::memset(b_tail[v], 0, sizeof b_tail[v]);
                std::memcpy(b_tail[v], b.panel(p0 + v) + full * G * 64, tail * 64);
            }
        const std::int8_t* panel0 = b.panel(p0);
        const std::int8_t* panel1 = two_cols ? b.panel(p0 + 1) : panel0;
        for (std::size_t ib = i_begin; ib < i_end; ++ib) {
            const std::size_t m0 = ib * amx_block_rows, h = std::min(amx_block_rows, m - m0);
            const bool two_rows = h > 16;
            const std::uint8_t* a0 = a.data + m0 * a.ld;
            Tiles::template zero<0>();
            Tiles::template zero<1>();
            Tiles::template zero<2>();
            Tiles::template zero<3>();
            for (std::size_t s = 0; s < steps; ++s) {
                const bool partial = s == full;
                Tiles::template load<4>(a0 + s * 64, a.ld);
                Tiles::template load<6>(partial ? b_tail[0] : panel0 + s * G * 64, 64);
                Tiles::template dpbusd<0, 4, 6>();
                if (two_cols) {
                    Tiles::template load<7>(partial ? b_tail[1] : panel1 + s * G * 64, 64);
                    Tiles::template dpbusd<1, 4, 7>();
                }
                if (two_rows) {
                    Tiles::template load<5>(a0 + 16 * a.ld + s * 64, a.ld);
                    Tiles::template dpbusd<2, 5, 6>();
                    if (two_cols) Tiles::template dpbusd<3, 5, 7>();
                }
            }
            Tiles::template store<0>(tile, row_bytes);
            if (two_cols) Tiles::template store<1>(tile + P, row_bytes);
            if (two_rows) {
                Tiles::template store<2>(tile + 16 * NR, row_bytes);
                if (two_cols) Tiles::template store<3>(tile + 16 * NR + P, row_bytes);
            }
            store_i8_tile(tile, NR, h, w, a.scales + m0, b.scales() + n0, b.colsums() + n0, c, ldc, m0, n0, ep);
        }
    }
    Tiles::release();
}
#endif  // EDGEBERT_I8_AMX

}  // inline namespace EDGEBERT_I8_ISA_NAMESPACE
EDGEBERT_ISA_END
}  // namespace detail

EDGEBERT_ISA_BEGIN
inline namespace EDGEBERT_I8_ISA_NAMESPACE {

/// Name of the integer path in use: "amx-int8" (taken only with EDGEBERT_AMX=1, detail/amx_tiles.hpp),
/// "avx512-vnni", "avx-vnni", "avx2", "neon-dotprod", "neon" or "portable".
inline const char* gemm_i8_isa() noexcept {
#if EDGEBERT_I8_AMX
    if (detail::amx_path()) return "amx-int8";
#endif
    return detail::i8_isa_name;
}

/// C[m x n] (row stride ldc) = epilogue(A[m x k] (row stride lda) · Wᵀ) with W int8 (b.k() == k), the contract
/// of kernels::gemm: threads >= 1; m == 0 or n == 0: nothing is touched; k == 0: C = epilogue(0); columns of C
/// past n are never touched; shape_error if lda < k, ldc < n, or a residual is given with ld_residual < n.
/// The result does not depend on the thread count.
inline void gemm_i8(const float* a, std::size_t m, std::size_t lda, const i8_packed_matrix& b, float* c, std::size_t ldc,
                    const epilogue& ep = {}, int threads = 1) {
    const std::size_t k = b.k(), n = b.n();
    detail::check_gemm_args("gemm_i8", k, lda, n, ldc, ep);
    if (m == 0 || n == 0) return;
#if EDGEBERT_I8_AMX
    if (detail::amx_path()) {
        constexpr std::size_t R = detail::amx_block_rows, P = detail::amx_block_panels;
        const detail::i8_activations qa = detail::quantize_activations(a, m, lda, k, R);
        detail::for_each_tile_block(threads, (b.panels() + P - 1) / P, (m + R - 1) / R,
                                    [&](std::size_t q0, std::size_t q1, std::size_t i0, std::size_t i1) {
                                        detail::compute_i8_tiles_amx<detail::amx_tiles>(qa, m, b, q0, q1, i0, i1, c, ldc, ep);
                                    });
        return;
    }
#endif
    const detail::i8_activations qa = detail::quantize_activations(a, m, lda, k);
    const std::size_t blocks = (b.panels() + detail::i8_nv - 1) / detail::i8_nv, mpanels = (m + detail::i8_mr - 1) / detail::i8_mr;
    detail::for_each_tile_block(threads, blocks, mpanels, [&](std::size_t q0, std::size_t q1, std::size_t i0, std::size_t i1) {
        detail::compute_i8_tiles(qa, m, b, q0, q1, i0, i1, c, ldc, ep);
    });
}

}  // inline namespace EDGEBERT_I8_ISA_NAMESPACE
EDGEBERT_ISA_END
#endif  // EDGEBERT_KERNEL_DISPATCH && !EDGEBERT_KERNEL_ISA

namespace reference {

/// Scalar: C = epilogue(float(sum_k qa·qw) · (sa · sw)) with W given as int8 codes [n x k] (row stride ldw) and
/// one scale per row, A quantized per row by the same rule as the fast path, 64-bit sums.
inline void gemm_i8(const float* a, std::size_t m, std::size_t k, std::size_t lda, const std::int8_t* w, std::size_t n,
                    std::size_t ldw, const float* w_scales, float* c, std::size_t ldc, const epilogue& ep = {}) {
    std::vector<int> qa(k);
    for (std::size_t i = 0; i < m; ++i) {
        float mx = 0.f;
        for (std::size_t t = 0; t < k; ++t) mx = std::max(mx, std::fabs(a[i * lda + t]));
        const float sa = mx / 127.f, inv = mx > 0.f ? 127.f / mx : 0.f;
        for (std::size_t t = 0; t < k; ++t) qa[t] = kernels::detail::i8_quantize_value(a[i * lda + t], inv);
        for (std::size_t j = 0; j < n; ++j) {
            long long s = 0;
            for (std::size_t t = 0; t < k; ++t) s += (long long)qa[t] * w[j * ldw + t];
            // volatile: the fast path rounds the product before adding the bias; no fused multiply-add here
            volatile float product = float(std::int32_t(s)) * (sa * w_scales[j]);
            float v = product + (ep.bias ? ep.bias[j] : 0.f);
            v = activate_reference(ep.act, v);
            if (ep.residual) v += ep.residual[i * ep.ld_residual + j];
            c[i * ldc + j] = v;
        }
    }
}

}  // namespace reference

}  // namespace edgebert::kernels
