// SPDX-License-Identifier: Apache-2.0
#pragma once
// A fully connected layer y = act(x Wᵀ + b) (+ residual) with the weight packed once for the GEMM
// micro-kernel: ALBERT reuses one layer's weights at every depth, so packing at load pays off 12 times.

#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../kernels/activation.hpp"
#include "../kernels/gemm.hpp"

namespace edgebert::nn {

class linear {
public:
    linear() = default;
    /// weight: PyTorch layout [out_features x in_features], row-major; bias: [out_features] or nullptr.
    linear(const float* weight, std::size_t out_features, std::size_t in_features, const float* bias)
        : in_(in_features), out_(out_features),
          weight_(kernels::packed_matrix::from_weight(weight, out_features, in_features, in_features)),
          bias_(bias ? std::vector<float>(bias, bias + out_features) : std::vector<float>()) {
        for (std::size_t i = 0; i < out_features * in_features; ++i) nonzeros_ += weight[i] != 0.f;
    }

    std::size_t in_features() const noexcept { return in_; }
    std::size_t out_features() const noexcept { return out_; }
    bool has_bias() const noexcept { return !bias_.empty(); }
    /// Nonzero weights (pruned ones are zero): what a zero-skipping accelerator touches.
    std::size_t nonzeros() const noexcept { return nonzeros_; }
    const kernels::packed_matrix& packed_weight() const noexcept { return weight_; }
    const std::vector<float>& bias() const noexcept { return bias_; }
    std::size_t bytes() const noexcept { return weight_.bytes() + bias_.size() * sizeof(float); }

    /// y[rows x out] (row stride ldy) = act(x[rows x in] (row stride ldx) Wᵀ + b) + residual.
    void forward(const float* x, std::size_t rows, std::size_t ldx, float* y, std::size_t ldy, int threads = 1,
                 kernels::activation act = kernels::activation::identity, const float* residual = nullptr,
                 std::size_t ld_residual = 0) const {
        kernels::epilogue ep;
        ep.bias = bias_.empty() ? nullptr : bias_.data();
        ep.act = act;
        ep.residual = residual;
        ep.ld_residual = ld_residual;
        kernels::gemm(x, rows, ldx, weight_, y, ldy, ep, threads);
    }

private:
    std::size_t in_ = 0, out_ = 0, nonzeros_ = 0;
    kernels::packed_matrix weight_;
    std::vector<float> bias_;
};

}  // namespace edgebert::nn
