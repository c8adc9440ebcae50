// SPDX-License-Identifier: Apache-2.0
#pragma once
// Magnitude pruning, by element or by R x C block: the one place that decides which weights become zero.
// A weight that is NaN or infinite has no magnitude to rank, so it is an error naming the tensor and the
// element, never a silent choice (std::nth_element on NaN has no strict weak order).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace edgebert::compress {

struct prune_spec {
    double fraction = 0;         ///< of the elements (1 x 1) or of the blocks to zero, in [0, 1)
    std::size_t block_rows = 1;  ///< R
    std::size_t block_cols = 1;  ///< C
};

/// Zero exactly floor(fraction * count) elements, or R x C blocks (edge blocks may be smaller), of the smallest
/// magnitude (mean |w| of a block); ties go to the lower position. w: [rows x cols] with row stride ld.
inline void prune_by_magnitude(float* w, std::size_t rows, std::size_t cols, std::size_t ld, const prune_spec& spec,
                               const std::string& tensor = "weight") {
    if (!(spec.fraction >= 0 && spec.fraction < 1))
        throw config_error("sparsity " + std::to_string(spec.fraction) + " for '" + tensor + "' must be in [0, 1)");
    if (spec.block_rows < 1 || spec.block_cols < 1) throw config_error("pruning '" + tensor + "': block sides must be positive");
    if (ld < cols) throw shape_error("pruning '" + tensor + "': row stride " + std::to_string(ld) + " < " + std::to_string(cols) + " columns");
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            if (!std::isfinite(w[r * ld + c]))
                throw input_error("cannot prune '" + tensor + "': element [" + std::to_string(r) + ", " + std::to_string(c) +
                                  "] is " + (std::isnan(w[r * ld + c]) ? "NaN" : "infinite"));
    const std::size_t R = spec.block_rows, C = spec.block_cols;
    const std::size_t brows = (rows + R - 1) / R, bcols = (cols + C - 1) / C, n = brows * bcols;
    const std::size_t k = std::size_t(std::floor(spec.fraction * double(n)));
    if (k == 0) return;
    std::vector<double> magnitude(n, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) magnitude[(r / R) * bcols + c / C] += std::abs(double(w[r * ld + c]));
    for (std::size_t b = 0; b < n; ++b)
        magnitude[b] /= double(std::min(R, rows - b / bcols * R) * std::min(C, cols - b % bcols * C));
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::nth_element(order.begin(), order.begin() + std::ptrdiff_t(k - 1), order.end(), [&](std::size_t a, std::size_t b) {
        return magnitude[a] < magnitude[b] || (magnitude[a] == magnitude[b] && a < b);
    });
    for (std::size_t i = 0; i < k; ++i) {
        const std::size_t br = order[i] / bcols, bc = order[i] % bcols;
        for (std::size_t r = br * R; r < std::min(rows, br * R + R); ++r)
            for (std::size_t c = bc * C; c < std::min(cols, bc * C + C); ++c) w[r * ld + c] = 0.0f;
    }
}

}  // namespace edgebert::compress
