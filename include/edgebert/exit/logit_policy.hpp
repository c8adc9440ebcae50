// SPDX-License-Identifier: Apache-2.0
#pragma once
// Exit policies that need the off-ramps' logits, not only their entropies, and the closed set of every policy
// the model can run online (exit_policy). Recorded entropy traces cannot replay these: use trace_policy there.
//
// A policy answers exits_at(layer, history): after `layer` (1-based), given what the ramps of layers 1..layer
// produced for this sentence, does it leave here?

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "../core/error.hpp"
#include "evaluate.hpp"
#include "policy.hpp"

namespace edgebert::exit {

/// What the off-ramps of one sentence produced so far: entropies[i] and logits + i * labels for layer i+1.
struct ramp_history {
    const double* entropies = nullptr;
    const float* logits = nullptr;  ///< [layers x labels], layer-major
    std::size_t labels = 0;
    std::size_t layers = 0;  ///< the model's depth

    const float* logits_at(std::size_t layer) const noexcept { return logits + (layer - 1) * labels; }
    std::size_t argmax_at(std::size_t layer) const noexcept {
        const float* l = logits_at(layer);
        std::size_t best = 0;
        for (std::size_t c = 1; c < labels; ++c)
            if (l[c] > l[best]) best = c;
        return best;
    }
    /// max_c softmax(logits)_c, computed stably.
    double max_probability_at(std::size_t layer) const noexcept {
        const float* l = logits_at(layer);
        const double m = l[argmax_at(layer)];
        double sum = 0;
        for (std::size_t c = 0; c < labels; ++c) sum += std::exp(double(l[c]) - m);
        return 1.0 / sum;
    }
};

/// Confidence exit (Schwartz et al. 2020, "The Right Tool for the Job"): leave at the first layer whose ramp's
/// largest softmax probability exceeds the threshold (strict).
struct max_probability {
    double threshold = 1.0;
    bool exits_at(std::size_t layer, const ramp_history& h) const noexcept {
        return h.max_probability_at(layer) > threshold;
    }
};

/// PABEE (Zhou et al. 2020): a counter of consecutive ramps that agree with the previous ramp's prediction
/// (reset to 0 on a change) exits when it reaches `patience`; so patience k leaves after k + 1 ramps in a row
/// predicted the same label, as the PABEE code does. patience 0 leaves at layer 1.
struct patience {
    std::size_t count = 1;
    bool exits_at(std::size_t layer, const ramp_history& h) const noexcept {
        if (layer <= count) return false;
        const std::size_t label = h.argmax_at(layer);
        for (std::size_t i = layer - count; i < layer; ++i)
            if (h.argmax_at(i) != label) return false;
        return true;
    }
};

/// Every policy the model runs online.
using exit_policy = std::variant<no_exit, fixed_depth, entropy_threshold, predictor_policy, max_probability, patience>;

/// What makes a type an exit policy the model can run: a const member exits_at(layer, history) -> bool, or the
/// entropy-only form exits_at(layer, entropies, layers) -> bool that recorded traces can replay too.
template <class P, class = void>
struct reads_history : std::false_type {};
template <class P>
struct reads_history<P, std::void_t<decltype(bool(std::declval<const P&>().exits_at(std::size_t(1), std::declval<const ramp_history&>())))>>
    : std::true_type {};
template <class P, class = void>
struct reads_entropies : std::false_type {};
template <class P>
struct reads_entropies<P, std::void_t<decltype(bool(std::declval<const P&>().exits_at(std::size_t(1), static_cast<const double*>(nullptr),
                                                                                    std::size_t(1))))>> : std::true_type {};
template <class P>
struct is_exit_policy : std::bool_constant<reads_history<P>::value || reads_entropies<P>::value> {};
template <class... P>
struct is_exit_policy<std::variant<P...>> : std::bool_constant<(is_exit_policy<P>::value && ...)> {};

/// Ask any policy, whichever of the two signatures it has.
template <class Policy>
bool decide(const Policy& p, std::size_t layer, const ramp_history& h) {
    static_assert(is_exit_policy<Policy>::value,
                  "an exit policy needs `bool exits_at(std::size_t layer, const exit::ramp_history&) const` or "
                  "`bool exits_at(std::size_t layer, const double* entropies, std::size_t layers) const`");
    if constexpr (reads_history<Policy>::value) return p.exits_at(layer, h);
    else return p.exits_at(layer, h.entropies, h.layers);
}
template <class... P>
bool decide(const std::variant<P...>& p, std::size_t layer, const ramp_history& h) {
    return std::visit([&](const auto& q) { return decide(q, layer, h); }, p);
}

template <class P>
inline constexpr bool is_exit_policy_v = is_exit_policy<P>::value;

/// False only for a policy that never lets a sentence out early (then the model needs no off-ramps).
template <class Policy>
bool may_exit_early(const Policy& p) {
    if constexpr (std::is_same_v<Policy, no_exit>) return false;
    else if constexpr (std::is_same_v<Policy, exit_policy>) return !std::holds_alternative<no_exit>(p);
    else return true;
}

inline exit_policy to_exit_policy(const trace_policy& p) {
    return std::visit([](const auto& q) { return exit_policy(q); }, p);
}

/// The part of a policy that replays on entropy traces; policies that need logits are a config_error.
inline trace_policy to_trace_policy(const exit_policy& p) {
    return std::visit(
        [](const auto& q) -> trace_policy {
            using Q = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<Q, max_probability> || std::is_same_v<Q, patience>)
                throw config_error(std::string(std::is_same_v<Q, patience> ? "patience" : "max-probability") +
                                   " exit needs the off-ramps' logits; recorded entropy traces only have entropies");
            else
                return q;
        },
        p);
}

/// "maxprob:P" with 0 <= P < 1 (P = 1 would never exit; use none).
inline max_probability parse_max_probability(const std::string& value) {
    const double p = detail::parse_number(value, "max-probability threshold");
    if (!(p >= 0 && p < 1)) throw config_error("max-probability threshold " + value + " must be in [0, 1)");
    return {p};
}

/// "patience:K" with K a non-negative integer.
inline patience parse_patience(const std::string& value) {
    std::size_t used = 0;
    long long k = -1;
    try {
        k = std::stoll(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size() || k < 0 || k > 1000000)
        throw config_error("patience \"" + value + "\" must be a non-negative integer");
    return {std::size_t(k)};
}

/// A policy from its text form: none | fixed:K | entropy:T | entropy:T1,T2,... | predictor:T | maxprob:P |
/// patience:K. predictor:T reads the table at lut_path with the modes of parse_predictor_modes.
inline exit_policy parse_exit_policy(const std::string& spec, const std::string& lut_path = "",
                                     const std::string& modes = "ee-before") {
    const auto colon = spec.find(':');
    const std::string kind = spec.substr(0, colon), value = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (kind == "none" && colon == std::string::npos) return no_exit{};
    if (colon == std::string::npos || value.empty())
        throw config_error("exit policy \"" + spec +
                           "\" is not one of none, fixed:K, entropy:T, predictor:T, maxprob:P, patience:K");
    if (kind == "fixed") {
        const patience k = parse_patience(value);
        if (k.count < 1) throw config_error("exit policy fixed:K needs a depth K >= 1");
        return fixed_depth{k.count};
    }
    if (kind == "entropy") return parse_entropy_threshold(value);
    if (kind == "maxprob") return parse_max_probability(value);
    if (kind == "patience") return parse_patience(value);
    if (kind == "predictor") {
        if (lut_path.empty()) throw config_error("exit policy predictor:T needs an exit-predictor table (CSV)");
        predictor_policy p;
        p.lut = exit_predictor::load_csv(lut_path);
        parse_predictor_modes(modes, p.early_exit_before, p.extra_layer);
        const auto t = parse_entropy_threshold(value);
        if (t.thresholds.size() != 1) throw config_error("exit policy predictor:T takes one threshold");
        p.threshold = t.thresholds[0];
        return p;
    }
    throw config_error("unknown exit policy \"" + spec + "\" (none, fixed:K, entropy:T, predictor:T, maxprob:P, patience:K)");
}

/// The text form parse_exit_policy reads (predictor:T with its modes in parentheses).
inline std::string describe(const exit_policy& p) {
    auto number = [](double x) { return format_number(x); };
    return std::visit(
        [&](const auto& q) -> std::string {
            using Q = std::decay_t<decltype(q)>;
            if constexpr (std::is_same_v<Q, no_exit>) return "none";
            else if constexpr (std::is_same_v<Q, fixed_depth>) return "fixed:" + std::to_string(q.depth);
            else if constexpr (std::is_same_v<Q, max_probability>) return "maxprob:" + number(q.threshold);
            else if constexpr (std::is_same_v<Q, patience>) return "patience:" + std::to_string(q.count);
            else if constexpr (std::is_same_v<Q, predictor_policy>)
                return "predictor:" + number(q.threshold) + " (" + (q.extra_layer ? "extra-layer" : "forced") +
                       (q.early_exit_before ? ", ee-before" : ", no-ee-before") + ")";
            else {
                std::string s = "entropy:";
                for (std::size_t i = 0; i < q.thresholds.size(); ++i) s += (i ? "," : "") + number(q.thresholds[i]);
                return s;
            }
        },
        p);
}

}  // namespace edgebert::exit
