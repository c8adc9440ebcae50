#include <cmath>
#include <fstream>

#include <catch2/catch.hpp>
#include <edgebert/exit/calibrate.hpp>

using namespace edgebert::exit;

TEST_CASE("calibration finds the smallest threshold reaching a mean depth", "[calibrate]") {
    const auto t = entropy_traces::parse("0.4,0.2,0.1\n0.3,0.3,0.3\n0.2,0.1,0.05\n");
    // T = 0: every sentence runs 3 layers.
    CHECK(calibrate_for_mean_depth(t, 3.0).threshold == 0.0);
    const auto c = calibrate_for_mean_depth(t, 2.0);
    CHECK(c.mean_exit_layer <= 2.0);
    // Just below the found T the target is missed: it is the smallest.
    entropy_threshold below;
    below.thresholds = {std::nextafter(c.threshold, 0.0)};
    CHECK(evaluate(below, t).mean_exit_layer > 2.0);
    CHECK(calibrate_for_mean_depth(t, 1.0).mean_exit_layer == 1.0);
    REQUIRE_THROWS_AS(calibrate_for_mean_depth(t, 0.5), edgebert::config_error);
}

TEST_CASE("calibration on EdgeBERT's SST-2 traces recovers the published depths", "[calibrate][sst2]") {
    const std::string file = std::string(EDGEBERT_SHARED_DATA_DIR) + "/edgebert-sst2/dataset_sst2_eval.txt";
    if (!std::ifstream(file).good()) {
        WARN("no " << file << "; skipping");
        return;
    }
    const auto t = entropy_traces::load(file);
    const auto c = calibrate_for_mean_depth(t, 3.94151376146789);  // the mean at T = 0.28
    CHECK(c.mean_exit_layer <= 3.94151376146789);
    CHECK(c.threshold <= 0.28);
    CHECK(c.threshold > 0.2);
}
