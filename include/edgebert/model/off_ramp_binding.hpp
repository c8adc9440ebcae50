// SPDX-License-Identifier: Apache-2.0
#pragma once
// Binding a checkpoint's EdgeBERT off-ramps ("highway" modules, names/tensor_names.hpp) to nn::off_ramp.

#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/weight_source.hpp"
#include "../names/tensor_names.hpp"
#include "../nn/off_ramp.hpp"

namespace edgebert::model {

/// Take the off-ramps of a checkpoint, if it has any: one per layer, or one per hidden group (EdgeBERT's
/// `one_class`). Any other count, or a gap in the indices, is an error naming it.
inline std::vector<nn::off_ramp> bind_off_ramps(io::tensor_binder& bind, const std::string& prefix, std::size_t hidden,
                                                std::size_t labels, std::size_t layers, std::size_t groups,
                                                const std::string& source) {
    std::size_t count = 0;
    while (bind.has(names::weight(names::off_ramp(prefix, count) + names::off_ramp_classifier))) ++count;
    if (count == 0) return {};
    if (count != layers && count != groups)
        throw shape_error(source + " has " + std::to_string(count) + " off-ramps ('" + names::off_ramp(prefix, 0) + "..'), expected " +
                          std::to_string(layers) + " (one per layer) or " + std::to_string(groups) + " (one per group)");
    std::vector<nn::off_ramp> ramps;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string r = names::off_ramp(prefix, i);
        const std::string pooler = r + (bind.has(names::weight(r + names::off_ramp_pooler_dense)) ? names::off_ramp_pooler_dense
                                                                                                 : names::off_ramp_pooler);
        const const_matrix pw = bind.take(names::weight(pooler), {hidden, hidden}), pb = bind.take(names::bias(pooler), {hidden});
        const const_matrix cw = bind.take(names::weight(r + names::off_ramp_classifier), {labels, hidden}),
                           cb = bind.take(names::bias(r + names::off_ramp_classifier), {labels});
        ramps.emplace_back(nn::linear(pw.data(), hidden, hidden, pb.data()), nn::linear(cw.data(), labels, hidden, cb.data()));
    }
    return ramps;
}

}  // namespace edgebert::model
