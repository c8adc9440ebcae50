// SPDX-License-Identifier: Apache-2.0
#pragma once
// Adaptive attention span (Sukhbaatar et al. 2019; EdgeBERT's variant), per head: a soft mask on the
// attention probabilities, then renormalisation
//   p'_ij = p_ij m_h(i, j) / (Σ_j p_ij m_h(i, j) + 1e-8)
// with ramp R and span z_h:
//   distance (the original, made two-sided for a bidirectional encoder): m = clamp((R + z − |i − j|) / R, 0, 1)
//   absolute (EdgeBERT's adaptive_span.py): m = clamp((j − (S − 1) + z) / R + 1, 0, 1) on the key position j
//     alone, S the template length (the padded length the model was trained at; 0 = this batch's padded
//     length), so the last key positions are kept and the first ones fade out as z shrinks.
// Keys whose mask is zero are not computed and a head whose mask is zero everywhere is skipped (its context
// is zero); with every mask value 1 the result equals plain attention bit for bit (no renormalisation is done).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace edgebert::kernels {

enum class span_variant { distance, absolute };

inline const char* span_variant_name(span_variant v) noexcept { return v == span_variant::distance ? "distance" : "absolute"; }

inline span_variant parse_span_variant(const std::string& name) {
    if (name == "distance") return span_variant::distance;
    if (name == "absolute") return span_variant::absolute;
    throw config_error("unknown attention span mode \"" + name + "\" (distance, absolute)");
}

/// The span parameters of every head of one attention layer.
struct attention_span {
    span_variant variant = span_variant::distance;
    double ramp = 32;               ///< R > 0, in tokens
    std::vector<double> spans;      ///< z per head, in tokens (may be negative: the head is switched off)
    std::size_t template_length = 0;  ///< absolute variant: S (0 = the batch's padded sequence length)

    /// Spans from learned values in [0, 1] scaled by max_span (the original: z = value * max_span; EdgeBERT's
    /// applied mask uses value * template length).
    static attention_span from_values(span_variant v, double ramp, const std::vector<double>& values, double scale,
                                      std::size_t template_length = 0) {
        attention_span s{v, ramp, {}, template_length};
        for (double x : values) s.spans.push_back(x * scale);
        s.validate(values.size());
        return s;
    }

    void validate(std::size_t heads) const {
        if (!(ramp > 0) || !std::isfinite(ramp))
            throw config_error("attention span ramp " + std::to_string(ramp) + " must be positive and finite");
        if (spans.size() != heads)
            throw shape_error("attention span has " + std::to_string(spans.size()) + " head spans, the layer has " +
                              std::to_string(heads) + " heads");
        for (std::size_t h = 0; h < spans.size(); ++h)
            if (!std::isfinite(spans[h]))
                throw config_error("attention span of head " + std::to_string(h) + " is not finite");
    }

    std::size_t template_for(std::size_t seq) const noexcept { return template_length ? template_length : seq; }

    /// m_h(i, j) for a batch padded to `seq` tokens.
    float mask(std::size_t head, std::size_t i, std::size_t j, std::size_t seq) const noexcept {
        const double z = spans[head];
        double m;
        if (variant == span_variant::distance) {
            const double x = i > j ? double(i - j) : double(j - i);
            m = (ramp + z - x) / ramp;
        } else {
            m = (double(j) - double(template_for(seq)) + 1.0 + z) / ramp + 1.0;
        }
        return float(std::clamp(m, 0.0, 1.0));
    }

    /// Keys [lo, hi) (within [0, keys)) where query i's mask is nonzero; lo >= hi when none.
    void nonzero_keys(std::size_t head, std::size_t i, std::size_t keys, std::size_t seq, std::size_t& lo,
                      std::size_t& hi) const noexcept {
        const double z = spans[head];
        if (variant == span_variant::distance) {
            const double w = ramp + z;  // nonzero iff |i - j| < w
            if (!(w > 0)) {
                lo = hi = 0;
                return;
            }
            const double reach = std::ceil(w) - 1;  // largest integer distance below w
            const std::size_t r = reach >= double(i + keys) ? i + keys : std::size_t(reach);
            lo = i > r ? i - r : 0;
            hi = std::min(keys, i + r + 1);
        } else {
            // nonzero iff j > S - 1 - z - R
            const double bound = double(template_for(seq)) - 1.0 - z - ramp;
            const double first = std::floor(bound) + 1;
            lo = first <= 0 ? 0 : first >= double(keys) ? keys : std::size_t(first);
            hi = keys;
        }
        if (lo > hi) lo = hi;
    }
};

/// Work the attention did: for the hardware trace and for tests of the skipping.
struct attention_stats {
    std::size_t heads_computed = 0;  ///< (sequence, head) pairs with a nonzero mask somewhere
    std::size_t keys_computed = 0;   ///< Σ over computed (sequence, head, query) of keys with a nonzero mask
};

}  // namespace edgebert::kernels
