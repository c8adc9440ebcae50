// SPDX-License-Identifier: Apache-2.0
// EdgeBERT's CSV tables: the exit-predictor look-up table (exit/predictor.hpp) and recorded entropy traces
// (exit/entropy_trace.hpp), which share one parser; and the exit-policy strings of task.json and the
// command line (exit/logit_policy.hpp), taken from the first line.

#include <string>

#include <edgebert/exit/entropy_trace.hpp>
#include <edgebert/exit/logit_policy.hpp>
#include <edgebert/exit/predictor.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert;
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const std::string first = text.substr(0, text.find('\n'));
        (void)exit::parse_exit_policy(first);
        bool before = true, extra = false;
        exit::parse_predictor_modes(first, before, extra);
    } catch (const error&) {
    }
    try {
        const exit::entropy_traces t = exit::entropy_traces::parse(text, "traces");
        FUZZ_REQUIRE(t.layers > 0 && t.values.size() % t.layers == 0 && t.sentences() * t.layers == t.values.size());
    } catch (const error&) {
    }
    const std::size_t predict_layer = size ? 1 + data[0] % 4 : 1;
    const exit::exit_predictor p = exit::exit_predictor::parse_csv(text, "predictor.csv", predict_layer);
    FUZZ_REQUIRE(p.rows() >= 1 && p.predicted_layers() >= 1);
    for (double key : {0.0, 0.05, 0.5, 1e300})
        for (double threshold : {0.0, 0.01, 0.3, 1e9}) {
            const std::size_t layer = p.predicted_exit_layer(key, threshold);
            FUZZ_REQUIRE(layer > predict_layer && layer <= predict_layer + p.predicted_layers());
            FUZZ_REQUIRE(p.row_for(key) < p.rows());
        }
}
