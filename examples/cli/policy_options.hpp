// SPDX-License-Identifier: Apache-2.0
#pragma once
// --exit / --policy values of the edgebert tool: none, fixed:K, entropy:T (or T1,T2,...), predictor:T (with
// --lut and --mode), and for model runs maxprob:P and patience:K.

#include <string>

#include <edgebert/exit/logit_policy.hpp>
#include <edgebert/exit/predictor.hpp>

#include "args.hpp"

namespace edgebert_cli {

/// A policy that recorded entropies can replay.
inline edgebert::exit::trace_policy parse_trace_policy(const args& a, const std::string& option) {
    const std::string spec = a.get(option);
    const auto colon = spec.find(':');
    const std::string kind = spec.substr(0, colon), value = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (kind == "none" && colon == std::string::npos) return edgebert::exit::no_exit{};
    if (kind == "fixed") {
        std::size_t used = 0;
        long long k = 0;
        try {
            k = std::stoll(value, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != value.size() || k < 1) throw usage_error("--" + option + " fixed:K needs a depth K >= 1");
        return edgebert::exit::fixed_depth{std::size_t(k)};
    }
    if (kind == "entropy") return edgebert::exit::parse_entropy_threshold(value);
    if (kind == "predictor") {
        if (!a.has("lut")) throw usage_error("--" + option + " predictor:T needs --lut FILE.csv");
        edgebert::exit::predictor_policy p;
        p.lut = edgebert::exit::exit_predictor::load_csv(a.get("lut"), std::size_t(a.integer("key-layer", 1, 1)));
        edgebert::exit::parse_predictor_modes(a.get("mode", "ee-before"), p.early_exit_before, p.extra_layer);
        const auto t = edgebert::exit::parse_entropy_threshold(value);
        if (t.thresholds.size() != 1) throw usage_error("--" + option + " predictor:T takes one threshold");
        p.threshold = t.thresholds[0];
        return p;
    }
    throw usage_error("unknown --" + option + " \"" + spec + "\" (none, fixed:K, entropy:T, predictor:T)");
}


/// --exit for a model run: any policy, including those that need the ramps' logits.
inline edgebert::exit::exit_policy parse_exit_option(const args& a, const std::string& option) {
    const std::string spec = a.get(option);
    if (spec.rfind("maxprob:", 0) == 0 || spec.rfind("patience:", 0) == 0) {
        try {
            return edgebert::exit::parse_exit_policy(spec);
        } catch (const edgebert::config_error& e) {
            throw usage_error("--" + option + ": " + e.what());
        }
    }
    return edgebert::exit::to_exit_policy(parse_trace_policy(a, option));
}

}  // namespace edgebert_cli
