// SPDX-License-Identifier: Apache-2.0
#pragma once
// A fully connected layer y = act(x Wᵀ + b) (+ residual). The weight is held in one of four storages: a type
// parameter where the app knows it at compile time (basic_linear<kernels::q8_packed_matrix>), or the closed
// std::variant any_storage where a file decides (nn::linear: one dispatch per product, none in the inner loops):
//   * dense fp32, packed once for the GEMM micro-kernel (the constructor; ALBERT reuses one layer's weights at
//     every depth, so packing at load pays off 12 times)            -> kernels::gemm
//   * 8-bit codes of a number format, packed the same way, decoded a panel at a time (linear::quantized)
//                                                                    -> kernels::gemm_q8
//   * EdgeBERT bit-mask sparse, fp32 or 8-bit values (linear::bitmask) -> kernels::sparse_gemm
//   * block-sparse R x C, fp32 or 8-bit values (linear::block_sparse)   -> kernels::sparse_gemm
//   * per-output-channel symmetric int8, integer products (linear::int8) -> kernels::gemm_i8
//   * the same, block-pruned: only the 4 x 4 groups holding a nonzero (linear::int8_block_sparse)
//                                                                    -> kernels::sparse_gemm_i8

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "../core/error.hpp"
#include "../kernels/activation.hpp"
#include "../kernels/gemm.hpp"
#include "../kernels/gemm_i8.hpp"
#include "../kernels/gemm_q8.hpp"
#include "../kernels/sparse_gemm.hpp"
#include "../kernels/sparse_gemm_i8.hpp"
#include "../numeric/format.hpp"
#include "../sparse/bitmask_matrix.hpp"
#include "../sparse/block_sparse_matrix.hpp"

namespace edgebert::nn {

/// The storages a weight can be held in, and the closed set of them a file can decide between.
using any_storage = std::variant<kernels::packed_matrix, kernels::q8_packed_matrix, sparse::bitmask_matrix, sparse::block_sparse_matrix,
                                 kernels::i8_packed_matrix, kernels::i8_block_sparse_matrix>;

enum class storage_kind { dense_f32, q8, bitmask, block_sparse, int8, block_sparse_int8 };

/// "fp32", "q8", "bitmask", "block_sparse", "int8", "block_sparse_int8": the names reports use.
inline const char* to_string(storage_kind k) noexcept {
    switch (k) {
        case storage_kind::dense_f32: return "fp32";
        case storage_kind::q8: return "q8";
        case storage_kind::bitmask: return "bitmask";
        case storage_kind::block_sparse: return "block_sparse";
        case storage_kind::int8: return "int8";
        case storage_kind::block_sparse_int8: return "block_sparse_int8";
    }
    return "unknown";
}

namespace detail {
template <class S, class = void>
struct is_variant : std::false_type {};
template <class... T>
struct is_variant<std::variant<T...>> : std::true_type {};
template <class S>
inline constexpr bool is_single_storage_v =
    std::is_same_v<S, kernels::packed_matrix> || std::is_same_v<S, kernels::q8_packed_matrix> ||
    std::is_same_v<S, sparse::bitmask_matrix> || std::is_same_v<S, sparse::block_sparse_matrix> ||
    std::is_same_v<S, kernels::i8_packed_matrix> || std::is_same_v<S, kernels::i8_block_sparse_matrix>;
template <class S>
struct is_storage_variant : std::false_type {};
template <class... T>
struct is_storage_variant<std::variant<T...>> : std::bool_constant<(is_single_storage_v<T> && ...)> {};
template <class S>
inline constexpr bool is_storage_v = is_single_storage_v<S> || is_storage_variant<S>::value;

/// Call f with the storage itself: directly for one storage type, through std::visit for a variant.
template <class S, class F>
decltype(auto) with_storage(const S& s, F&& f) {
    if constexpr (is_single_storage_v<S>) return f(s);
    else return std::visit(std::forward<F>(f), s);
}
template <class S>
constexpr storage_kind kind_of() noexcept {
    if constexpr (std::is_same_v<S, kernels::packed_matrix>) return storage_kind::dense_f32;
    else if constexpr (std::is_same_v<S, kernels::q8_packed_matrix>) return storage_kind::q8;
    else if constexpr (std::is_same_v<S, sparse::bitmask_matrix>) return storage_kind::bitmask;
    else if constexpr (std::is_same_v<S, kernels::i8_packed_matrix>) return storage_kind::int8;
    else if constexpr (std::is_same_v<S, kernels::i8_block_sparse_matrix>) return storage_kind::block_sparse_int8;
    else return storage_kind::block_sparse;
}
}  // namespace detail

/// A fully connected layer over one weight storage known at compile time, or (the default) over any_storage,
/// where the file decides. Only the products the storage can hold are available: asking basic_linear<S> for
/// another storage is a compile-time error.
template <class Storage = any_storage>
class basic_linear {
    static_assert(detail::is_storage_v<Storage>,
                  "nn::basic_linear<Storage>: Storage must be kernels::packed_matrix, kernels::q8_packed_matrix, "
                  "kernels::i8_packed_matrix, kernels::i8_block_sparse_matrix, sparse::bitmask_matrix, "
                  "sparse::block_sparse_matrix, or a std::variant of them");
    template <class S>
    static constexpr bool holds = std::is_constructible_v<Storage, S>;

public:
    using storage = Storage;
    using storage_kind = nn::storage_kind;

    basic_linear() = default;
    /// Dense fp32. weight: PyTorch layout [out_features x in_features], row-major; bias: [out_features] or nullptr.
    basic_linear(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias) {
        static_assert(holds<kernels::packed_matrix>, "this basic_linear cannot hold a dense fp32 weight");
        *this = from_storage(kernels::packed_matrix::from_weight(weight, out_features, in_features, in_features), bias);
        nonzeros_ = 0;
        for (std::size_t i = 0; i < out_features * in_features; ++i) nonzeros_ += weight[i] != 0.f;
    }

    /// 8-bit codes, decoded on the fly: the weight quantized to format f (numeric::quantized_tensor rules).
    static basic_linear quantized(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias,
                                  const numeric::number_format& f, const numeric::quantize_options& opt = {}) {
        return from_storage(kernels::q8_packed_matrix::quantize(weight, out_features, in_features, in_features, f, opt), bias);
    }
    /// Per-output-channel symmetric int8 (kernels::quantize_rows_i8), run with integer products (kernels::gemm_i8).
    static basic_linear int8(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias) {
        return from_storage(kernels::i8_packed_matrix::quantize(weight, out_features, in_features, in_features), bias);
    }
    /// int8() of a pruned weight, holding only the 4 x 4 groups with a nonzero code (kernels::sparse_gemm_i8): the
    /// same results as int8(), faster where most blocks are pruned (docs/sparse.md).
    static basic_linear int8_block_sparse(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias) {
        return from_storage(kernels::i8_block_sparse_matrix::quantize(weight, out_features, in_features, in_features), bias);
    }
    /// EdgeBERT bit-mask storage of the nonzero weights (fp32 values), vectors of `lanes` elements.
    static basic_linear bitmask(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias,
                                std::size_t lanes = sparse::bitmask_matrix::default_lanes) {
        return from_storage(sparse::bitmask_matrix::from_dense(weight, out_features, in_features, in_features, lanes), bias);
    }
    /// Bit-mask storage of the weight quantized to format f (elements that quantize to zero are dropped).
    static basic_linear bitmask(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias,
                                const numeric::number_format& f, const numeric::quantize_options& opt = {},
                                std::size_t lanes = sparse::bitmask_matrix::default_lanes) {
        return from_storage(sparse::bitmask_matrix::quantize(weight, out_features, in_features, in_features, f, opt, lanes), bias);
    }
    /// Block-sparse storage (R x C blocks holding a nonzero), fp32 values.
    static basic_linear block_sparse(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias,
                                     std::size_t R, std::size_t C) {
        return from_storage(sparse::block_sparse_matrix::from_dense(weight, out_features, in_features, in_features, R, C), bias);
    }
    /// Block-sparse storage of the weight quantized to format f.
    static basic_linear block_sparse(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias,
                                     std::size_t R, std::size_t C, const numeric::number_format& f,
                                     const numeric::quantize_options& opt = {}) {
        return from_storage(sparse::block_sparse_matrix::quantize(weight, out_features, in_features, in_features, R, C, f, opt), bias);
    }
    /// A weight already in a storage this layer can hold (e.g. read from a compressed model without decoding it).
    /// bias: [out_features] or nullptr.
    template <class S>
    static basic_linear from_storage(S w, const float* bias) {
        static_assert(holds<S>, "nn::basic_linear::from_storage: this layer's Storage cannot hold that storage type");
        basic_linear l;
        detail::with_storage(w, [&](const auto& s) {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, kernels::packed_matrix> || std::is_same_v<T, kernels::q8_packed_matrix> ||
                          std::is_same_v<T, kernels::i8_packed_matrix> || std::is_same_v<T, kernels::i8_block_sparse_matrix>) {
                l.in_ = s.k();
                l.out_ = s.n();
            } else {
                l.in_ = s.cols();
                l.out_ = s.rows();
            }
            l.nonzeros_ = count_nonzeros(s);
        });
        l.weight_ = Storage(std::move(w));
        if (bias) l.bias_.assign(bias, bias + l.out_);
        return l;
    }

    std::size_t in_features() const noexcept { return in_; }
    std::size_t out_features() const noexcept { return out_; }
    bool has_bias() const noexcept { return !bias_.empty(); }
    /// Nonzero weights (pruned ones are zero): what a zero-skipping accelerator touches.
    std::size_t nonzeros() const noexcept { return nonzeros_; }
    storage_kind kind() const noexcept {
        return detail::with_storage(weight_, [](const auto& s) { return detail::kind_of<std::decay_t<decltype(s)>>(); });
    }
    /// Bits per stored weight value as held: 32 for fp32 values, 8 for 8-bit codes.
    std::size_t weight_bits() const noexcept {
        return detail::with_storage(weight_, [](const auto& s) -> std::size_t {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, kernels::packed_matrix>) return 32;
            else if constexpr (std::is_same_v<T, kernels::q8_packed_matrix> || std::is_same_v<T, kernels::i8_packed_matrix> ||
                               std::is_same_v<T, kernels::i8_block_sparse_matrix>)
                return 8;
            else return s.quantized() ? 8 : 32;
        });
    }
    const Storage& weight_storage() const noexcept { return weight_; }
    /// The packed fp32 weight; config_error if the layer holds another storage.
    const kernels::packed_matrix& packed_weight() const {
        if constexpr (std::is_same_v<Storage, kernels::packed_matrix>) return weight_;
        else if constexpr (detail::is_single_storage_v<Storage>) throw config_error("linear::packed_weight: the weight is not stored as dense fp32");
        else {
            if (const auto* p = std::get_if<kernels::packed_matrix>(&weight_)) return *p;
            throw config_error("linear::packed_weight: the weight is not stored as dense fp32");
        }
    }
    const std::vector<float>& bias() const noexcept { return bias_; }
    /// Weight bytes as held (packed fp32 or 8-bit panels: padding included; bit-mask and block-sparse: their
    /// storage formula) + the fp32 bias.
    std::size_t bytes() const noexcept {
        return detail::with_storage(weight_, [](const auto& s) { return s.bytes(); }) + bias_.size() * sizeof(float);
    }

    /// y[rows x out] (row stride ldy) = act(x[rows x in] (row stride ldx) Wᵀ + b) + residual.
    void forward(const float* x, std::size_t rows, std::size_t ldx, float* y, std::size_t ldy, int threads = 1,
                 kernels::activation act = kernels::activation::identity, const float* residual = nullptr,
                 std::size_t ld_residual = 0) const {
        kernels::epilogue ep;
        ep.bias = bias_.empty() ? nullptr : bias_.data();
        ep.act = act;
        ep.residual = residual;
        ep.ld_residual = ld_residual;
        detail::with_storage(weight_, [&](const auto& s) {
            using S = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<S, kernels::packed_matrix>) kernels::gemm(x, rows, ldx, s, y, ldy, ep, threads);
            else if constexpr (std::is_same_v<S, kernels::q8_packed_matrix>) kernels::gemm_q8(x, rows, ldx, s, y, ldy, ep, threads);
            else if constexpr (std::is_same_v<S, kernels::i8_packed_matrix>) kernels::gemm_i8(x, rows, ldx, s, y, ldy, ep, threads);
            else if constexpr (std::is_same_v<S, kernels::i8_block_sparse_matrix>) kernels::sparse_gemm_i8(x, rows, ldx, s, y, ldy, ep, threads);
            else kernels::sparse_gemm(x, rows, ldx, s, y, ldy, ep, threads);
        });
    }

private:
    template <class>
    friend class basic_linear;

    static std::size_t count_nonzeros(const kernels::packed_matrix& p) {
        std::size_t nz = 0;
        for (std::size_t kk = 0; kk < p.k(); ++kk)
            for (std::size_t j = 0; j < p.n(); ++j) nz += p.at(kk, j) != 0.f;
        return nz;
    }
    static std::size_t count_nonzeros(const kernels::q8_packed_matrix& p) {
        std::size_t nz = 0;
        for (std::size_t kk = 0; kk < p.k(); ++kk)
            for (std::size_t j = 0; j < p.n(); ++j) nz += p.at(kk, j) != 0.f;
        return nz;
    }
    static std::size_t count_nonzeros(const kernels::i8_packed_matrix& p) {
        std::size_t nz = 0;
        for (std::size_t kk = 0; kk < p.k(); ++kk)
            for (std::size_t j = 0; j < p.n(); ++j) nz += p.code(kk, j) != 0 && p.scale(j) != 0.f;
        return nz;
    }
    static std::size_t count_nonzeros(const kernels::i8_block_sparse_matrix& p) {
        std::size_t nz = 0;
        constexpr std::size_t GR = kernels::i8_block_sparse_matrix::group_rows, GC = kernels::i8_block_sparse_matrix::group_cols;
        for (std::size_t g = 0; g < p.row_groups(); ++g)
            for (std::size_t e = p.group_ptr()[g]; e < p.group_ptr()[g + 1]; ++e)
                for (std::size_t r = 0; r < GR; ++r)
                    for (std::size_t t = 0; t < GC; ++t) nz += p.codes()[e * 16 + r * GC + t] != 0 && p.scales()[g * GR + r] != 0.f;
        return nz;
    }
    static std::size_t count_nonzeros(const sparse::bitmask_matrix& b) {
        std::size_t nz = 0;
        if (b.quantized()) {
            for (std::size_t j = 0; j < b.rows(); ++j)
                for (std::size_t e = b.row_begin(j); e < b.row_begin(j + 1); ++e) nz += b.tables().value(j, b.codes()[e]) != 0.f;
        } else {
            for (float v : b.values()) nz += v != 0.f;
        }
        return nz;
    }
    static std::size_t count_nonzeros(const sparse::block_sparse_matrix& b) { return b.nonzeros(); }

    std::size_t in_ = 0, out_ = 0, nonzeros_ = 0;
    Storage weight_;
    std::vector<float> bias_;
};


/// The layer whose storage a file decides.
using linear = basic_linear<>;

}  // namespace edgebert::nn
