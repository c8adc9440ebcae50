// SPDX-License-Identifier: Apache-2.0
// Zero-copy Eigen views of outputs (edgebert/eigen.hpp): built only where Eigen is found.
#include <catch2/catch.hpp>
#include <edgebert/eigen.hpp>

#include "support/albert_test_util.hpp"

using namespace edgebert;

TEST_CASE("Eigen views alias the outputs, row-major, with their shapes", "[eigen]") {
    const auto cfg = test_util::odd_config();
    const auto m = model::albert_model::random(cfg, 4);
    model::run_options o;
    o.output_hidden_states = true;
    const auto in = test_util::padded_batch(cfg, 2, 7);
    const auto out = m.forward(in, o);
    const auto logits = eigen::logits(out);
    CHECK(logits.rows() == 2);
    CHECK(logits.cols() == Eigen::Index(cfg.num_labels));
    CHECK(logits.data() == out.logits.data());
    CHECK(logits(1, 2) == out.logits[1 * cfg.num_labels + 2]);
    const auto last = eigen::last_hidden_state(out);
    CHECK(last.rows() == 14);
    CHECK(last(8, 5) == out.last_hidden_state[8 * cfg.hidden_size + 5]);
    CHECK(eigen::hidden_state(out, cfg.num_hidden_layers) == last);
    CHECK(eigen::hidden_state(out, 0)(0, 0) == out.hidden_states[0]);
    CHECK(eigen::pooler_output(out).row(1).norm() > 0);
    CHECK_THROWS_AS(eigen::hidden_state(out, cfg.num_hidden_layers + 1), input_error);
    const auto plain = m.forward(in);
    CHECK_THROWS_AS(eigen::hidden_state(plain, 1), config_error);
}
