// SPDX-License-Identifier: Apache-2.0
#pragma once
// Recorded per-sentence off-ramp entropies (EdgeBERT's `dataset_sst2_eval.txt` format): one line per
// sentence, one comma-separated natural-log entropy per layer 1..L. Lets exit policies and the energy model
// be evaluated without running the model.

#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "detail/numeric_table.hpp"

namespace edgebert::exit {

struct entropy_traces {
    std::size_t layers = 0;
    std::vector<double> values;  ///< [sentences x layers], row-major
    std::size_t sentences() const noexcept { return layers ? values.size() / layers : 0; }
    const double* sentence(std::size_t i) const noexcept { return values.data() + i * layers; }

    /// Parse the text; format_error naming line and column for a bad number, a NaN, a negative value or a
    /// line whose layer count differs from the first.
    static entropy_traces parse(const std::string& text, const std::string& name = "traces") {
        detail::numeric_table table = detail::parse_numeric_table(text, name);
        entropy_traces t;
        t.layers = table.columns;
        t.values = std::move(table.values);
        return t;
    }

    static entropy_traces load(const std::string& path) { return parse(edgebert::detail::read_text_file(path), path); }
};

}  // namespace edgebert::exit
