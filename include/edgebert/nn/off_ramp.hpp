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
#include "../io/weight_source.hpp"
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

    /// logits [rows x num_labels] from `rows` [CLS] vectors with row stride ld.
    void forward(const float* cls, std::size_t rows, std::size_t ld, float* logits) const {
        std::vector<float> pooled(rows * hidden());
        pooler_.forward(cls, rows, ld, pooled.data(), hidden(), 1, kernels::activation::tanh);
        classifier_.forward(pooled.data(), rows, hidden(), logits, num_labels(), 1);
    }

private:
    linear pooler_, classifier_;
};

/// Take the off-ramps of a checkpoint, if it has any: one per layer, or one per hidden group (EdgeBERT's
/// `one_class`). Any other count, or a gap in the indices, is an error naming it.
inline std::vector<off_ramp> bind_off_ramps(io::tensor_binder& bind, const std::string& prefix, std::size_t hidden,
                                            std::size_t labels, std::size_t layers, std::size_t groups,
                                            const std::string& source) {
    const std::string base = prefix + "encoder.highway.";
    std::size_t count = 0;
    while (bind.has(base + std::to_string(count) + ".classifier.weight")) ++count;
    if (count == 0) return {};
    if (count != layers && count != groups)
        throw shape_error(source + " has " + std::to_string(count) + " off-ramps ('" + base + "0..'), expected " +
                          std::to_string(layers) + " (one per layer) or " + std::to_string(groups) + " (one per group)");
    std::vector<off_ramp> ramps;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string r = base + std::to_string(i) + ".";
        // EdgeBERT's AlbertHighway holds an nn.Linear "pooler"; DeeBERT's BertHighway a BertPooler ("pooler.dense")
        const std::string pooler = bind.has(r + "pooler.dense.weight") ? r + "pooler.dense." : r + "pooler.";
        const const_matrix pw = bind.take(pooler + "weight", {hidden, hidden}), pb = bind.take(pooler + "bias", {hidden});
        const const_matrix cw = bind.take(r + "classifier.weight", {labels, hidden}),
                           cb = bind.take(r + "classifier.bias", {labels});
        ramps.emplace_back(linear(pw.data(), hidden, hidden, pb.data()), linear(cw.data(), labels, hidden, cb.data()));
    }
    return ramps;
}

}  // namespace edgebert::nn
