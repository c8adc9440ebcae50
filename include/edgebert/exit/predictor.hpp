// SPDX-License-Identifier: Apache-2.0
#pragma once
// EdgeBERT's early-exit predictor: a look-up table keyed by the entropy at `predict_layer` (layer 1 in the
// released SST-2 table) holding the predicted entropies of the following layers. The predicted exit layer is
// the first whose predicted entropy is below the threshold; it drives the sentence's DVFS setting.
// Semantics follow EdgeBERT's modeling_highway_albert.py (reference/edgebert.md §4.2-4.3).

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "detail/numeric_table.hpp"
#include "policy.hpp"

namespace edgebert::exit {

class exit_predictor {
public:
    /// rows: [key, predicted entropy of layer predict_layer+1, +2, ...]; keys ascending (0.00, 0.01, ...).
    static exit_predictor parse_csv(const std::string& text, const std::string& name = "predictor table",
                                    std::size_t predict_layer = 1) {
        detail::numeric_table t = detail::parse_numeric_table(text, name);
        if (t.columns < 2) throw format_error(name + ": needs a key column and at least one predicted layer");
        for (std::size_t r = 1; r < t.rows(); ++r)
            if (!(t.values[r * t.columns] > t.values[(r - 1) * t.columns]))
                throw format_error(name + " line " + std::to_string(r + 1) + ": keys must increase");
        if (predict_layer == 0) throw config_error("predict_layer must be at least 1");
        exit_predictor p;
        p.table_ = std::move(t);
        p.predict_layer_ = predict_layer;
        return p;
    }
    static exit_predictor load_csv(const std::string& path, std::size_t predict_layer = 1) {
        return parse_csv(edgebert::detail::read_text_file(path), path, predict_layer);
    }

    std::size_t predict_layer() const noexcept { return predict_layer_; }

    /// config_error naming the table, its key layer and the key layer its shape fits, unless it predicts
    /// exactly the layers predict_layer()+1 .. layers-1 of a `layers`-layer model (EdgeBERT's tables stop
    /// at layer L-1: SST-2's, keyed on layer 1, has 10 predicted columns; MNLI's, keyed on layer 3, has 8).
    void check_shape(std::size_t layers, const std::string& name = "predictor table") const {
        const std::size_t want = layers > predict_layer_ + 1 ? layers - 1 - predict_layer_ : 0;
        if (predicted_layers() == want) return;
        std::string fits = "no key layer of a " + std::to_string(layers) + "-layer model";
        if (predicted_layers() + 2 <= layers) fits = "key layer " + std::to_string(layers - 1 - predicted_layers());
        throw config_error(name + " has " + std::to_string(predicted_layers()) + " predicted columns; keyed on layer " +
                           std::to_string(predict_layer_) + " of " + std::to_string(layers) + " layers it needs " +
                           std::to_string(want) + " (layers " + std::to_string(predict_layer_ + 1) + ".." +
                           std::to_string(layers - 1) + "); its shape fits " + fits);
    }
    std::size_t rows() const noexcept { return table_.rows(); }
    std::size_t predicted_layers() const noexcept { return table_.columns - 1; }

    /// The row whose key is nearest (ties to the lower row, as numpy's argmin).
    std::size_t row_for(double key) const noexcept {
        std::size_t best = 0;
        double best_d = std::abs(table_.values[0] - key);
        for (std::size_t r = 1; r < rows(); ++r) {
            const double d = std::abs(table_.values[r * table_.columns] - key);
            if (d < best_d) best = r, best_d = d;
        }
        return best;
    }

    /// predict_layer + 1 + k, k the first column below T (the last column when none is).
    std::size_t predicted_exit_layer(double key, double threshold) const noexcept {
        const double* row = table_.values.data() + row_for(key) * table_.columns + 1;
        std::size_t k = predicted_layers() - 1;
        for (std::size_t c = 0; c < predicted_layers(); ++c)
            if (row[c] < threshold) {
                k = c;
                break;
            }
        return predict_layer_ + 1 + k;
    }

private:
    detail::numeric_table table_;
    std::size_t predict_layer_ = 1;
};

/// Parse a predictor mode list such as "no-ee-before,extra-layer" into the two switches of reference §4.3:
/// early exit before the predicted layer (on by default; "ee-before" / "no-ee-before") and what happens at it
/// (a forced exit by default; "extra-layer": exit only if H < T, otherwise one more layer and exit there;
/// EdgeBERT's code makes no early-exit checks before the predicted layer in that mode, whatever ee-before says).
inline void parse_predictor_modes(const std::string& list, bool& early_exit_before, bool& extra_layer) {
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = list.find(',', start);
        const std::string m = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (m == "ee-before") early_exit_before = true;
        else if (m == "no-ee-before") early_exit_before = false;
        else if (m == "extra-layer") extra_layer = true;
        else if (m == "forced") extra_layer = false;
        else throw config_error("unknown predictor mode \"" + m + "\" (ee-before, no-ee-before, forced, extra-layer)");
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
}

/// Entropy exit up to the prediction layer, then the predictor's forced exit. As in EdgeBERT's code, the
/// checks after the prediction run only up to `layers - 2` (layers 2..10 of 12): a sentence predicted to
/// exit later always finishes at the last layer with the final classifier.
struct predictor_policy {
    exit_predictor lut;
    double threshold = 0.0;
    bool early_exit_before = true;  ///< exit whenever H_i < T before the predicted layer (forced mode only)
    bool extra_layer = false;       ///< at the predicted layer: exit if H < T, else one more layer, then exit;
                                    ///< as in EdgeBERT's code this mode makes no early-exit checks before it

    /// The layer the predictor names for these entropies (or 0 when the sentence exits before predicting).
    std::size_t predicted_layer(const double* entropies) const noexcept {
        const std::size_t p = lut.predict_layer();
        if (p == 0) return 0;  // never for a loaded table (its key layer is >= 1); lets GCC prove p - 1 >= 0
        for (std::size_t i = 1; i <= p; ++i)
            if (entropies[i - 1] < threshold) return 0;
        return lut.predicted_exit_layer(entropies[p - 1], threshold);
    }

    bool exits_at(std::size_t layer, const double* entropies, std::size_t layers) const noexcept {
        const std::size_t p = lut.predict_layer();
        if (p == 0) return false;  // as above
        if (layer <= p) return entropies[layer - 1] < threshold;
        if (layer + 2 > layers) return false;  // no checks after layer L-2 (EdgeBERT's loop bound)
        const std::size_t predicted = lut.predicted_exit_layer(entropies[p - 1], threshold);
        const bool below = entropies[layer - 1] < threshold;
        if (extra_layer) return layer == predicted ? below : layer == predicted + 1;
        return (early_exit_before && below) || layer == predicted;
    }
};

}  // namespace edgebert::exit
