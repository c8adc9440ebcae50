// SPDX-License-Identifier: Apache-2.0
#pragma once
// Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2020) with the algebra of AdapterHub's
// `adapters` library (methods/modeling.py: Adapter.pre_forward / forward / post_forward), so that adapters
// trained there compute the same here. At a sublayer, with h the tensor the model hands the adapter as its
// input, t the residual input ("input_tensor") and LN the model's own LayerNorm of that sublayer:
//   pre:  r = h                                   (residual_before_ln = true)
//         if original_ln_before: h = h + t; (r = h if residual_before_ln = "post_add"); h = LN(h)
//         r = h                                   (residual_before_ln = false)
//   core: u = scaling * Up(act(Down(LN_before?(h))))
//         o = LN_after?(u + r) if adapter_residual_before_ln, else LN_after?(u) + r
//   post: y = LN(o + t) if original_ln_after, else o + t
// Houlsby ("double_seq_bn") and Pfeiffer ("seq_bn") are presets of these switches. Gating, PHM layers,
// parallel and invertible adapters are not supported (the loader says so).

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/error.hpp"
#include "../kernels/activation.hpp"
#include "layer_norm.hpp"
#include "linear.hpp"

namespace edgebert::nn {

/// AdapterHub's residual_before_ln: true, false or "post_add".
enum class adapter_residual { before_ln, after_ln, post_add };

struct bottleneck_config {
    kernels::activation non_linearity = kernels::activation::relu;
    bool original_ln_before = false;
    bool original_ln_after = true;
    adapter_residual residual_before_ln = adapter_residual::before_ln;
    bool ln_before = false;
    bool ln_after = false;
    bool adapter_residual_before_ln = false;

    /// AdapterHub's "pfeiffer" / "seq_bn": one adapter after the FFN, the model's LayerNorm applied before
    /// the adapter and again after it.
    static bottleneck_config pfeiffer() {
        bottleneck_config c;
        c.original_ln_before = true;
        return c;
    }
    /// AdapterHub's "houlsby" / "double_seq_bn": adapters after attention and after the FFN, swish.
    static bottleneck_config houlsby() {
        bottleneck_config c;
        c.non_linearity = kernels::activation::silu;
        return c;
    }
};

class bottleneck_adapter {
public:
    bottleneck_adapter() = default;
    /// down: [m x H], up: [H x m]; scaling: one value or H values; norms as the config asks for.
    bottleneck_adapter(const bottleneck_config& cfg, linear down, linear up, std::vector<float> scaling,
                       std::optional<layer_norm> norm_before = std::nullopt,
                       std::optional<layer_norm> norm_after = std::nullopt)
        : cfg_(cfg), down_(std::move(down)), up_(std::move(up)), scaling_(std::move(scaling)),
          norm_before_(std::move(norm_before)), norm_after_(std::move(norm_after)) {
        const std::size_t H = down_.in_features();
        if (up_.in_features() != down_.out_features() || up_.out_features() != H)
            throw shape_error("adapter: down [" + std::to_string(down_.out_features()) + " x " + std::to_string(H) +
                              "] and up [" + std::to_string(up_.out_features()) + " x " +
                              std::to_string(up_.in_features()) + "] do not fit");
        if (scaling_.size() != 1 && scaling_.size() != H)
            throw shape_error("adapter: scaling has " + std::to_string(scaling_.size()) + " values, expected 1 or " +
                              std::to_string(H));
        if (cfg_.residual_before_ln == adapter_residual::post_add && !cfg_.original_ln_before)
            throw config_error("adapter: residual_before_ln \"post_add\" needs original_ln_before (AdapterHub takes "
                               "the residual after adding the sublayer input, which only happens then)");
        if (cfg_.ln_before != norm_before_.has_value() || cfg_.ln_after != norm_after_.has_value())
            throw config_error("adapter: ln_before / ln_after do not match the LayerNorms given");
        if ((norm_before_ && norm_before_->size() != H) || (norm_after_ && norm_after_->size() != H))
            throw shape_error("adapter: LayerNorm width differs from the hidden size " + std::to_string(H));
        unit_scaling_ = std::all_of(scaling_.begin(), scaling_.end(), [](float s) { return s == 1.f; });
    }

    const bottleneck_config& config() const noexcept { return cfg_; }
    std::size_t hidden() const noexcept { return down_.in_features(); }
    std::size_t bottleneck() const noexcept { return down_.out_features(); }
    const linear& down() const noexcept { return down_; }
    const linear& up() const noexcept { return up_; }
    /// Parameter bytes (fp32), for the memory report.
    std::size_t bytes() const noexcept {
        std::size_t b = (down_.in_features() * down_.out_features() + down_.out_features() +
                         up_.in_features() * up_.out_features() + up_.out_features() + scaling_.size()) *
                        sizeof(float);
        if (norm_before_) b += 2 * hidden() * sizeof(float);
        if (norm_after_) b += 2 * hidden() * sizeof(float);
        return b;
    }

    /// y [rows x H] = the sublayer's output with this adapter (see the top of this file); h, t, y contiguous
    /// (row stride H). y may alias neither h nor t.
    void apply(const float* h, const float* t, const layer_norm& ln, float* y, std::size_t rows, int threads) const {
        const std::size_t H = hidden(), m = bottleneck(), n = rows * H;
        thread_local aligned_buffer<float> hs_buf, r_buf, x_buf, down_buf;
        hs_buf.reserve_scratch(n);
        r_buf.reserve_scratch(n);
        down_buf.reserve_scratch(rows * m);
        float* hs = hs_buf.data();
        float* r = r_buf.data();
        std::copy(h, h + n, hs);
        if (cfg_.residual_before_ln == adapter_residual::before_ln) std::copy(hs, hs + n, r);
        if (cfg_.original_ln_before) {
            for (std::size_t i = 0; i < n; ++i) hs[i] += t[i];
            if (cfg_.residual_before_ln == adapter_residual::post_add) std::copy(hs, hs + n, r);
            ln.forward_inplace(hs, rows, H, threads);
        }
        if (cfg_.residual_before_ln == adapter_residual::after_ln) std::copy(hs, hs + n, r);
        const float* x = hs;
        if (norm_before_) {
            x_buf.reserve_scratch(n);
            std::copy(hs, hs + n, x_buf.data());
            norm_before_->forward_inplace(x_buf.data(), rows, H, threads);
            x = x_buf.data();
        }
        down_.forward(x, rows, H, down_buf.data(), m, threads, cfg_.non_linearity);
        // y = o: the residual joins inside the up-projection's epilogue when nothing comes between them
        const bool fuse = unit_scaling_ && (cfg_.adapter_residual_before_ln || !norm_after_);
        if (fuse) {
            up_.forward(down_buf.data(), rows, m, y, H, threads, kernels::activation::identity, r, H);
            if (norm_after_) norm_after_->forward_inplace(y, rows, H, threads);
        } else {
            up_.forward(down_buf.data(), rows, m, y, H, threads);
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < H; ++j) y[i * H + j] *= scaling_.size() == 1 ? scaling_[0] : scaling_[j];
            if (cfg_.adapter_residual_before_ln) {
                for (std::size_t i = 0; i < n; ++i) y[i] += r[i];
                if (norm_after_) norm_after_->forward_inplace(y, rows, H, threads);
            } else {
                if (norm_after_) norm_after_->forward_inplace(y, rows, H, threads);
                for (std::size_t i = 0; i < n; ++i) y[i] += r[i];
            }
        }
        for (std::size_t i = 0; i < n; ++i) y[i] += t[i];
        if (cfg_.original_ln_after) ln.forward_inplace(y, rows, H, threads);
    }

private:
    bottleneck_config cfg_;
    linear down_, up_;
    std::vector<float> scaling_{1.f};
    std::optional<layer_norm> norm_before_, norm_after_;
    bool unit_scaling_ = true;
};

}  // namespace edgebert::nn
