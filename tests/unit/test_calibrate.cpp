#include <cmath>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/skip.hpp"

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
    if (!std::ifstream(file).good()) EDGEBERT_SKIP_TEST("no " << file);
    const auto t = entropy_traces::load(file);
    const auto c = calibrate_for_mean_depth(t, 3.94151376146789);  // the mean at T = 0.28
    CHECK(c.mean_exit_layer <= 3.94151376146789);
    CHECK(c.threshold <= 0.28);
    CHECK(c.threshold > 0.2);
}

TEST_CASE("accuracy calibration finds the largest threshold within the allowed drop", "[calibrate]") {
    // 4 sentences x 3 layers. Ramps are wrong on sentence 2 at layers 1-2 and on sentence 3 at layer 1.
    const auto traces = edgebert::exit::entropy_traces::parse("0.1,0.1,0.1\n0.2,0.05,0.1\n0.3,0.4,0.1\n0.15,0.5,0.1\n");
    edgebert::exit::correctness_traces ok{3, {1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1}};
    const auto none = edgebert::exit::calibrate_for_accuracy_drop(traces, ok, 0.0);
    CHECK(none.full_accuracy == 1.0);
    CHECK(none.accuracy == 1.0);
    // brute force: the largest recorded-entropy threshold that keeps accuracy >= full - drop
    for (double drop : {0.0, 0.25, 0.5, 1.0}) {
        const auto c = edgebert::exit::calibrate_for_accuracy_drop(traces, ok, drop);
        double best = 0;
        for (double t = 0; t <= 0.5; t += 0.001) {  // past the largest entropy every T behaves alike
            std::size_t good = 0;
            for (std::size_t i = 0; i < 4; ++i) {
                std::size_t layer = 3;
                for (std::size_t l = 1; l < 3; ++l)
                    if (traces.sentence(i)[l - 1] < t) {
                        layer = l;
                        break;
                    }
                good += ok.correct[i * 3 + layer - 1];
            }
            if (double(good) / 4 >= 1.0 - drop - 1e-12) best = t;
        }
        INFO("drop " << drop);
        CHECK(c.accuracy >= 1.0 - drop - 1e-12);
        CHECK(c.threshold >= best - 0.001);  // the exact search may sit just above the grid's last point
        CHECK(c.threshold <= best + 0.0011);
    }
    CHECK_THROWS_AS(edgebert::exit::calibrate_for_accuracy_drop(traces, edgebert::exit::correctness_traces{2, {1, 0}}, 0.1), edgebert::shape_error);
    CHECK_THROWS_AS(edgebert::exit::calibrate_for_accuracy_drop(traces, ok, -0.1), edgebert::config_error);
}
