// SPDX-License-Identifier: Apache-2.0
#pragma once
// A task's final classifier: Linear layers with an activation between them, on the [CLS] hidden state or on
// the model's pooler output (AdapterHub's ClassificationHead; with two layers and tanh it has the shape of an
// EdgeBERT off-ramp).

#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "linear.hpp"

namespace edgebert::nn {

class classification_head {
public:
    classification_head() = default;
    classification_head(std::vector<linear> layers, kernels::activation act, bool use_pooler)
        : layers_(std::move(layers)), act_(act), use_pooler_(use_pooler) {
        if (layers_.empty()) throw config_error("classification head without layers");
        for (std::size_t i = 1; i < layers_.size(); ++i)
            if (layers_[i].in_features() != layers_[i - 1].out_features())
                throw shape_error("classification head: layer " + std::to_string(i) + " takes " +
                                  std::to_string(layers_[i].in_features()) + " inputs, layer " + std::to_string(i - 1) +
                                  " gives " + std::to_string(layers_[i - 1].out_features()));
    }

    bool empty() const noexcept { return layers_.empty(); }
    std::size_t hidden() const noexcept { return layers_.front().in_features(); }
    std::size_t num_labels() const noexcept { return layers_.back().out_features(); }
    bool use_pooler() const noexcept { return use_pooler_; }
    const std::vector<linear>& layers() const noexcept { return layers_; }
    std::size_t bytes() const noexcept {
        std::size_t b = 0;
        for (const auto& l : layers_) b += (l.in_features() * l.out_features() + l.bias().size()) * sizeof(float);
        return b;
    }

    /// logits [rows x num_labels] from `rows` input vectors with row stride ld.
    void forward(const float* x, std::size_t rows, std::size_t ld, float* logits) const {
        std::vector<float> a, b;
        const float* in = x;
        std::size_t ld_in = ld;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            const linear& l = layers_[i];
            const bool last = i + 1 == layers_.size();
            float* out = last ? logits : (b.assign(rows * l.out_features(), 0.f), b.data());
            l.forward(in, rows, ld_in, out, l.out_features(), 1, last ? kernels::activation::identity : act_);
            if (!last) {
                a.swap(b);
                in = a.data();
                ld_in = l.out_features();
            }
        }
    }

private:
    std::vector<linear> layers_;
    kernels::activation act_ = kernels::activation::tanh;
    bool use_pooler_ = false;
};

}  // namespace edgebert::nn
