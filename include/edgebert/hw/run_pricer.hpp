// SPDX-License-Identifier: Apache-2.0
#pragma once
// Prices runs of the model itself (not recorded traces) on the accelerator, one sentence at a time: the trace
// the runtime recorded and the off-ramp entropies it saw become the three schemes of energy_report.hpp, with
// the exits the run actually took. The classify tool and the demo use it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "../core/error.hpp"
#include "../exit/logit_policy.hpp"
#include "../core/albert_config.hpp"
#include "../trace/recorder.hpp"
#include "energy_report.hpp"
#include "trace_builder.hpp"

namespace edgebert::hw {

/// Entropies for energy_reporter::price from a run that stopped early: the ones it evaluated, then, for the
/// layers it never reached, log(labels), the largest entropy `labels` classes can have. No threshold below
/// log(labels) accepts it, so a threshold policy replayed on the result exits where the run did.
inline std::vector<double> pad_entropies(const std::vector<double>& seen, std::size_t layers, std::size_t labels) {
    if (labels < 2) throw input_error("pad_entropies: a classifier needs at least 2 labels, got " + std::to_string(labels));
    if (seen.size() > layers)
        throw input_error("pad_entropies: " + std::to_string(seen.size()) + " entropies for " + std::to_string(layers) + " layers");
    std::vector<double> out(seen);
    out.resize(layers, std::log(double(labels)));
    return out;
}

/// The work shape of a model with this config on sentences of seq_len tokens.
inline albert_shape shape_of(const model::albert_config& c, std::size_t seq_len, std::size_t labels = 2) {
    albert_shape s;
    s.hidden = c.hidden_size, s.intermediate = c.intermediate_size, s.embedding = c.embedding_size;
    s.heads = c.num_attention_heads, s.layers = c.num_hidden_layers, s.vocab = c.vocab_size;
    s.seq_len = seq_len, s.labels = std::max<std::size_t>(labels, 2);
    return s;
}

class run_pricer {
public:
    explicit run_pricer(hw_params p, energy_options o = {}) : params_(std::move(p)), cycles_(params_), options_(o) {
        params_.validate();
        if (std::isnan(o.target_ms) || !(o.target_ms > 0)) throw config_error("target latency must be positive (ms)");
    }
    const hw_params& params() const noexcept { return params_; }
    const energy_options& options() const noexcept { return options_; }

    /// One run: `trace` as recorded (record_work), `entropies` the off-ramp entropies it evaluated, `policy` the
    /// exit policy it ran with. (b) and (c) replay that policy, so they exit where the run did; (c) plans with
    /// the predictor when the policy is one, else for every layer. A policy that needs logits (max
    /// probability, patience) is replayed as a fixed depth at the run's exit layer.
    sentence_energy price(const model::inference_trace& trace, const std::vector<double>& entropies,
                          const exit::exit_policy& policy) const {
        if (trace.layers.empty()) throw input_error("run_pricer: the trace has no layers (was the run observed?)");
        const model::inference_trace full = extend_to_all_layers(trace);
        std::size_t labels = 0;
        for (const auto& l : full.layers) labels = std::max(labels, l.entropy_labels);
        const std::vector<double> padded = pad_entropies(entropies, full.layers_total, labels ? labels : 2);
        exit::trace_policy replay = exit::fixed_depth{trace.exit_layer};
        if (!std::holds_alternative<exit::max_probability>(policy) && !std::holds_alternative<exit::patience>(policy))
            replay = exit::to_trace_policy(policy);
        const energy_reporter reporter(params_, replay, replay, options_);
        sentence_energy e = reporter.price(cost_sentence(cycles_, full), padded.data());
        if (e.early_exit.exit_layer != trace.exit_layer)
            throw input_error("run_pricer: the policy replayed on the run's entropies exits at layer " +
                              std::to_string(e.early_exit.exit_layer) + ", the run exited at " + std::to_string(trace.exit_layer) +
                              " (were the entropies and the policy those of the run?)");
        return e;
    }

    /// The summary of priced runs, as energy_reporter::summarize.
    energy_summary summarize(const std::vector<sentence_energy>& runs) const {
        return energy_reporter(params_, exit::no_exit{}, exit::no_exit{}, options_).summarize(runs);
    }

    /// Latency of a sentence of `shape` through every layer at the nominal operating point: a deadline
    /// every such sentence meets without voltage scaling (the default target of the classify tool).
    static double all_layers_latency_ms(const hw_params& p, const albert_shape& shape) {
        const cycle_model cycles(p);
        const energy_reporter r(p, exit::no_exit{}, exit::no_exit{});
        const std::vector<double> entropies(shape.layers, 0.0);
        return r.price(cost_sentence(cycles, build_trace(shape, shape.layers)), entropies.data()).all_layers.latency_ms;
    }

private:
    hw_params params_;
    cycle_model cycles_;
    energy_options options_;
};

/// The accelerator's observer: hand it to a run (multi_task_model::infer, albert_model::forward with batch 1) and
/// it records the work; price() then gives the run's three-way energy with the exits it took. A policy of an
/// app's own type is replayed as a fixed depth at the run's exit layer.
class pricing_observer : public trace::recorder {
public:
    explicit pricing_observer(const run_pricer& pricer) : pricer_(&pricer) { }
    template <class Policy>
    sentence_energy price(const Policy& policy) const {
        if constexpr (std::is_same_v<Policy, exit::exit_policy>) return pricer_->price(trace(), entropies(), policy);
        else return pricer_->price(trace(), entropies(), exit::exit_policy(exit::fixed_depth{trace().exit_layer}));
    }

private:
    const run_pricer* pricer_;
};

}  // namespace edgebert::hw
