// SPDX-License-Identifier: Apache-2.0
#pragma once
// LayerNorm parameters (gamma, beta, eps) applied row-wise.

#include <cstddef>
#include <vector>

#include "../kernels/layer_norm.hpp"

namespace edgebert::nn {

class layer_norm {
public:
    layer_norm() = default;
    layer_norm(const float* gamma, const float* beta, std::size_t n, float eps)
        : gamma_(gamma, gamma + n), beta_(beta, beta + n), eps_(eps) {}

    std::size_t size() const noexcept { return gamma_.size(); }
    float eps() const noexcept { return eps_; }
    const std::vector<float>& gamma() const noexcept { return gamma_; }
    const std::vector<float>& beta() const noexcept { return beta_; }

    /// Normalise `rows` rows of width size() in place (row stride ld).
    void forward_inplace(float* x, std::size_t rows, std::size_t ld, int threads = 1) const noexcept {
        kernels::layer_norm(x, rows, size(), ld, gamma_.data(), beta_.data(), eps_, x, ld, threads);
    }

private:
    std::vector<float> gamma_, beta_;
    float eps_ = 1e-12f;
};

}  // namespace edgebert::nn
