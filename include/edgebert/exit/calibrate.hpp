// SPDX-License-Identifier: Apache-2.0
#pragma once
// Threshold calibration on recorded traces: the smallest entropy threshold whose mean exit layer does not
// exceed a target depth, or the largest whose accuracy stays within a target drop of full depth. Both
// quantities of the entropy rule only change when T passes one of the recorded entropies, so the searches are
// exact over those values (no grid, no tolerance).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../core/error.hpp"
#include "evaluate.hpp"

namespace edgebert::exit {

struct calibration {
    double threshold = 0;        ///< the smallest T reaching the target
    double mean_exit_layer = 0;  ///< achieved at that T
};

/// Smallest T with mean exit layer <= target (a larger T exits earlier). config_error if the target is below
/// 1 (no policy exits before layer 1).
inline calibration calibrate_for_mean_depth(const entropy_traces& traces, double target_mean_exit_layer) {
    if (!(target_mean_exit_layer >= 1.0))
        throw config_error("target mean exit layer " + std::to_string(target_mean_exit_layer) + " is below 1");
    auto mean_at = [&](double t) {
        entropy_threshold p;
        p.thresholds = {t};
        return evaluate(p, traces).mean_exit_layer;
    };
    if (mean_at(0.0) <= target_mean_exit_layer) return {0.0, mean_at(0.0)};
    // Candidates: just above each recorded entropy (H < T must hold strictly), in increasing order.
    std::vector<double> candidates(traces.values);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (double& c : candidates) c = std::nextafter(c, std::numeric_limits<double>::infinity());
    // mean_at is non-increasing in T: binary search for the first candidate that reaches the target.
    std::size_t lo = 0, hi = candidates.size() - 1;  // the last candidate exits every sentence at layer 1
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (mean_at(candidates[mid]) <= target_mean_exit_layer) hi = mid;
        else lo = mid + 1;
    }
    return {candidates[lo], mean_at(candidates[lo])};
}

/// Per sentence and layer: whether the classifier at that layer (the off-ramp, or the final classifier at the
/// last layer) got the sentence right; with the entropies, what an accuracy calibration needs.
struct correctness_traces {
    std::size_t layers = 0;
    std::vector<std::uint8_t> correct;  ///< [sentences x layers], row-major, 0 or 1
};

struct accuracy_calibration {
    double threshold = 0;        ///< the largest T within the allowed drop (0: no early exit)
    double accuracy = 0;         ///< at that T
    double full_accuracy = 0;    ///< every sentence at the last layer
    double mean_exit_layer = 0;  ///< at that T
};

/// Largest T whose accuracy is at least full-depth accuracy - max_drop (absolute, e.g. 0.01 for one point).
/// Accuracy is not monotone in T, so every candidate is evaluated (O(candidates x sentences x layers)).
inline accuracy_calibration calibrate_for_accuracy_drop(const entropy_traces& traces, const correctness_traces& right,
                                                        double max_drop) {
    if (right.layers != traces.layers || right.correct.size() != traces.values.size())
        throw shape_error("accuracy calibration: correctness traces (" + std::to_string(right.correct.size()) +
                          " values, " + std::to_string(right.layers) + " layers) do not match the entropy traces (" +
                          std::to_string(traces.values.size()) + " values, " + std::to_string(traces.layers) + " layers)");
    if (!(max_drop >= 0) || !std::isfinite(max_drop))
        throw config_error("allowed accuracy drop " + std::to_string(max_drop) + " must be non-negative");
    const std::size_t n = traces.sentences(), L = traces.layers;
    if (n == 0) throw config_error("accuracy calibration needs at least one sentence");
    auto at = [&](double t, double& mean) {
        entropy_threshold p;
        p.thresholds = {t};
        std::size_t good = 0, depth = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t layer = first_exit_layer(p, traces.sentence(i), L);
            good += right.correct[i * L + layer - 1] != 0;
            depth += layer;
        }
        mean = double(depth) / double(n);
        return double(good) / double(n);
    };
    accuracy_calibration best;
    best.full_accuracy = at(0.0, best.mean_exit_layer);
    best.accuracy = best.full_accuracy;
    std::vector<double> candidates(traces.values);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (std::size_t k = 0; k < candidates.size(); ++k) {
        double mean = 0;
        const double acc = at(std::nextafter(candidates[k], std::numeric_limits<double>::infinity()), mean);
        // every T in (c_k, c_k+1] behaves alike on these traces; report the largest, c_k+1 (H < T is strict)
        const double t = k + 1 < candidates.size() ? candidates[k + 1]
                                                   : std::nextafter(candidates[k], std::numeric_limits<double>::infinity());
        if (acc >= best.full_accuracy - max_drop - 1e-12) best.threshold = t, best.accuracy = acc, best.mean_exit_layer = mean;
    }
    return best;
}

}  // namespace edgebert::exit
