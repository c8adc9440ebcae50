#include <catch2/catch.hpp>
#include <edgebert/exit/predictor.hpp>

using namespace edgebert::exit;

namespace {
// key, predicted entropies of layers 2..5
const char* const table = "0.0,0.05,0.04,0.03,0.02\n0.1,0.20,0.12,0.08,0.05\n0.2,0.30,0.25,0.15,0.09\n";
}

TEST_CASE("lookup takes the nearest key (ties to the lower row) and the first column below T", "[predictor]") {
    const auto p = exit_predictor::parse_csv(table, "lut.csv");
    CHECK(p.rows() == 3);
    CHECK(p.predicted_layers() == 4);
    CHECK(p.row_for(0.04) == 0);
    CHECK(p.row_for(0.05) == 0);  // tie between 0.0 and 0.1
    CHECK(p.row_for(0.06) == 1);
    CHECK(p.row_for(5.0) == 2);
    CHECK(p.predicted_exit_layer(0.1, 0.10) == 4);  // 0.20, 0.12, 0.08 < 0.10 -> third column -> layer 4
    CHECK(p.predicted_exit_layer(0.0, 0.10) == 2);
    CHECK(p.predicted_exit_layer(0.2, 0.01) == 5);  // none below: last column
}

TEST_CASE("predictor policy: early exit before, forced exit, extra layer, checks only up to L-2", "[predictor]") {
    predictor_policy pol;
    pol.lut = exit_predictor::parse_csv(table, "lut.csv");
    pol.threshold = 0.10;
    const double early[7] = {0.05, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    CHECK(first_exit_layer(pol, early, 7) == 1);  // below T at layer 1
    CHECK(pol.predicted_layer(early) == 0);
    const double dip[7] = {0.1, 0.5, 0.01, 0.5, 0.5, 0.5, 0.5};  // predicted 4; real entropy dips at 3
    CHECK(pol.predicted_layer(dip) == 4);
    CHECK(first_exit_layer(pol, dip, 7) == 3);
    pol.early_exit_before = false;
    CHECK(first_exit_layer(pol, dip, 7) == 4);  // forced at the prediction
    pol.extra_layer = true;
    CHECK(first_exit_layer(pol, dip, 7) == 5);  // H4 >= T: one more layer
    const double low4[7] = {0.1, 0.5, 0.5, 0.05, 0.5, 0.5, 0.5};
    CHECK(first_exit_layer(pol, low4, 7) == 4);
    CHECK(first_exit_layer(pol, dip, 5) == 5);  // with 5 layers checks stop at layer 3: run to the end
    pol.early_exit_before = true;        // EdgeBERT's extra-layer branch makes no early-exit check before
    CHECK(first_exit_layer(pol, dip, 7) == 5);
}

TEST_CASE("bad tables and modes", "[predictor]") {
    REQUIRE_THROWS_WITH(exit_predictor::parse_csv("0.1\n0.2\n", "lut.csv"), Catch::Contains("lut.csv"));
    REQUIRE_THROWS_WITH(exit_predictor::parse_csv("0.2,1\n0.1,1\n", "lut.csv"), Catch::Contains("line 2: keys must increase"));
    REQUIRE_THROWS_WITH(exit_predictor::parse_csv("0.1,1\n0.2,x\n", "lut.csv"), Catch::Contains("line 2 column 2"));
    bool ee = true, extra = false;
    parse_predictor_modes("no-ee-before,extra-layer", ee, extra);
    CHECK_FALSE(ee);
    CHECK(extra);
    REQUIRE_THROWS_AS(parse_predictor_modes("sometimes", ee, extra), edgebert::config_error);
}
