// SPDX-License-Identifier: Apache-2.0
#pragma once
// Threshold calibration on recorded traces: the smallest entropy threshold whose mean exit layer does not
// exceed a target depth. The mean exit layer of the entropy rule only changes when T passes one of the
// recorded entropies, so the search is exact over those values (no grid, no tolerance).

#include <algorithm>
#include <cmath>
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

}  // namespace edgebert::exit
