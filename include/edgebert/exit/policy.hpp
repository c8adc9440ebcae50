// SPDX-License-Identifier: Apache-2.0
#pragma once
// Exit policies that decide from off-ramp entropies, as small value types. Layers are 1-based; a sentence
// that no off-ramp lets out finishes at the last layer with the final classifier. Every policy answers
// exits_at(layer, entropies, layers): after `layer`, given the entropies of layers 1..layer, does the sentence
// leave here? The model asks it online; first_exit_layer() replays it over a recorded trace.

#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/parse.hpp"

namespace edgebert::exit {

/// Never exit early: every sentence runs all layers.
struct no_exit {
    bool exits_at(std::size_t, const double*, std::size_t) const noexcept { return false; }
};

/// Always exit after `depth` layers (depth 0 is taken as 1).
struct fixed_depth {
    std::size_t depth = 1;
    bool exits_at(std::size_t layer, const double*, std::size_t) const noexcept { return layer >= depth; }
};

/// DeeBERT/EdgeBERT rule: exit at the first layer i whose entropy H_i < T_i (strict). One threshold for all
/// layers, or one per layer (the last one repeats for deeper layers).
struct entropy_threshold {
    std::vector<double> thresholds{0.0};

    double at(std::size_t layer) const noexcept {
        return thresholds[layer - 1 < thresholds.size() ? layer - 1 : thresholds.size() - 1];
    }
    bool exits_at(std::size_t layer, const double* entropies, std::size_t) const noexcept {
        return entropies[layer - 1] < at(layer);
    }
};

/// The layer a policy lets a sentence out at, replayed over its recorded entropies of layers 1..layers.
template <class Policy>
std::size_t first_exit_layer(const Policy& policy, const double* entropies, std::size_t layers) noexcept {
    for (std::size_t i = 1; i < layers; ++i)
        if (policy.exits_at(i, entropies, layers)) return i;
    return layers;
}

namespace detail {
inline double parse_number(const std::string& s, const std::string& what) { return edgebert::parse_number(s, what); }
}  // namespace detail

/// "entropy:T" or "entropy:T1,T2,...": thresholds must be finite and non-negative.
inline entropy_threshold parse_entropy_threshold(const std::string& spec) {
    entropy_threshold p;
    p.thresholds.clear();
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = spec.find(',', start);
        const double t = detail::parse_number(spec.substr(start, comma - start), "entropy threshold");
        if (t < 0 || t > 1e30) throw config_error("entropy threshold " + std::to_string(t) + " must be non-negative and finite");
        p.thresholds.push_back(t);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return p;
}

}  // namespace edgebert::exit
