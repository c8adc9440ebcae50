// SPDX-License-Identifier: Apache-2.0
#pragma once
// Evaluate an exit policy on recorded entropy traces: the exit layer of every sentence, its mean and the
// histogram. No model runs; used for threshold calibration and by the energy model.

#include <cstddef>
#include <variant>
#include <vector>

#include "entropy_trace.hpp"
#include "policy.hpp"
#include "predictor.hpp"

namespace edgebert::exit {

/// The policies that decide from entropies alone (a command line or a file picks one).
using trace_policy = std::variant<no_exit, fixed_depth, entropy_threshold, predictor_policy>;

struct exit_summary {
    std::vector<std::size_t> exit_layers;  ///< per sentence, 1-based
    std::vector<std::size_t> histogram;    ///< [layers]: sentences exiting at layer i+1
    double mean_exit_layer = 0;
};

template <class Policy>
exit_summary evaluate(const Policy& policy, const entropy_traces& traces) {
    exit_summary s;
    s.histogram.assign(traces.layers, 0);
    double total = 0;
    for (std::size_t i = 0; i < traces.sentences(); ++i) {
        const std::size_t layer = first_exit_layer(policy, traces.sentence(i), traces.layers);
        s.exit_layers.push_back(layer);
        ++s.histogram[layer - 1];
        total += double(layer);
    }
    s.mean_exit_layer = traces.sentences() ? total / double(traces.sentences()) : 0;
    return s;
}

inline exit_summary evaluate(const trace_policy& policy, const entropy_traces& traces) {
    return std::visit([&](const auto& p) { return evaluate(p, traces); }, policy);
}

}  // namespace edgebert::exit
