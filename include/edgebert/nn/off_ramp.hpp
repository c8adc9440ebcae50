// SPDX-License-Identifier: Apache-2.0
#pragma once
// EdgeBERT / DeeBERT off-ramp ("highway"): logits = W_c tanh(W_p h[CLS] + b_p) + b_c, after an encoder
// layer, read from a checkpoint as `<prefix>encoder.highway.{i}.pooler.{weight,bias}` and
// `<prefix>encoder.highway.{i}.classifier.{weight,bias}` (EdgeBERT's modeling_highway_albert.py), or with
// DeeBERT's `pooler.dense.{weight,bias}`.

#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "linear.hpp"

namespace edgebert::nn {

class off_ramp {
public:
    off_ramp() = default;
    off_ramp(linear pooler, linear classifier) : pooler_(std::move(pooler)), classifier_(std::move(classifier)) {
        if (pooler_.in_features() != pooler_.out_features() || classifier_.in_features() != pooler_.out_features())
            throw shape_error("off-ramp: pooler [" + std::to_string(pooler_.out_features()) + " x " +
                              std::to_string(pooler_.in_features()) + "] does not feed classifier [" +
                              std::to_string(classifier_.out_features()) + " x " +
                              std::to_string(classifier_.in_features()) + "]");
    }

    std::size_t hidden() const noexcept { return pooler_.in_features(); }
    std::size_t num_labels() const noexcept { return classifier_.out_features(); }
    const linear& pooler() const noexcept { return pooler_; }
    const linear& classifier() const noexcept { return classifier_; }

    /// logits [rows x num_labels] from `rows` [CLS] vectors with row stride ld.
    void forward(const float* cls, std::size_t rows, std::size_t ld, float* logits) const {
        std::vector<float> pooled(rows * hidden());
        pooler_.forward(cls, rows, ld, pooled.data(), hidden(), 1, kernels::activation::tanh);
        classifier_.forward(pooled.data(), rows, hidden(), logits, num_labels(), 1);
    }

private:
    linear pooler_, classifier_;
};

}  // namespace edgebert::nn
