// Exit policies on EdgeBERT's own SST-2 off-ramp entropies (../shared/data/edgebert-sst2, present in CI).
#include <cmath>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/skip.hpp"

#include <edgebert/exit/evaluate.hpp>

using namespace edgebert::exit;

namespace {
const std::string data_dir = std::string(EDGEBERT_SHARED_DATA_DIR) + "/edgebert-sst2";
bool have_data() { return std::ifstream(data_dir + "/dataset_sst2_eval.txt").good(); }

// reference/edgebert.md §4.2-4.3 written out plainly, independent of predictor_policy.
double straightforward_mean(const entropy_traces& t, const std::vector<std::vector<double>>& lut, double T,
                            bool ee_before, bool extra) {
    double total = 0;
    for (std::size_t s = 0; s < t.sentences(); ++s) {
        const double* h = t.sentence(s);
        std::size_t exit_at = 12;
        if (h[0] < T) {
            total += 1;
            continue;
        }
        std::size_t best = 0;
        for (std::size_t r = 0; r < lut.size(); ++r)
            if (std::abs(lut[r][0] - h[0]) < std::abs(lut[best][0] - h[0])) best = r;
        std::size_t k = 9;
        for (std::size_t c = 0; c < 10; ++c)
            if (lut[best][c + 1] < T) { k = c; break; }
        const std::size_t predicted = 2 + k;
        bool pending = false;
        for (std::size_t layer = 2; layer <= 10; ++layer) {
            if (pending) { exit_at = layer; break; }
            if (ee_before && !extra && h[layer - 1] < T) { exit_at = layer; break; }  // extra_layer: no EE before
            if (layer == predicted) {
                if (!extra || h[layer - 1] < T) { exit_at = layer; break; }
                pending = true;
            }
        }
        total += double(exit_at);
    }
    return total / double(t.sentences());
}
}  // namespace

TEST_CASE("evaluate builds a histogram and the mean", "[evaluate]") {
    const auto t = entropy_traces::parse("0.1,0.1,0.1\n0.5,0.1,0.1\n0.5,0.5,0.5\n");
    entropy_threshold p;
    p.thresholds = {0.2};
    const auto s = evaluate(p, t);
    CHECK(s.exit_layers == std::vector<std::size_t>{1, 2, 3});
    CHECK(s.histogram == std::vector<std::size_t>{1, 1, 1});
    CHECK(s.mean_exit_layer == Approx(2.0));
    const trace_policy v = fixed_depth{2};
    CHECK(evaluate(v, t).mean_exit_layer == Approx(2.0));
}

TEST_CASE("EdgeBERT SST-2 traces: plain entropy exit gives 4.30, 3.94, 2.70", "[evaluate][sst2]") {
    if (!have_data()) EDGEBERT_SKIP_TEST("no " << data_dir << " (a user's clone has no ../shared)");
    const auto t = entropy_traces::load(data_dir + "/dataset_sst2_eval.txt");
    REQUIRE(t.sentences() == 872);
    REQUIRE(t.layers == 12);
    const std::pair<double, double> expected[] = {{0.23, 4.30}, {0.28, 3.94}, {0.46, 2.70}};
    for (const auto& [T, mean] : expected) {
        entropy_threshold p;
        p.thresholds = {T};
        const auto s = evaluate(p, t);
        INFO("T = " << T);
        CHECK(std::round(s.mean_exit_layer * 100) / 100 == Approx(mean));
        std::size_t total = 0;
        for (auto c : s.histogram) total += c;
        CHECK(total == 872);
    }
    entropy_threshold zero;  // T = 0: every sentence runs all 12 layers
    CHECK(evaluate(zero, t).mean_exit_layer == 12.0);
}

TEST_CASE("EdgeBERT SST-2 predictor modes equal a straightforward implementation", "[evaluate][sst2]") {
    if (!have_data()) EDGEBERT_SKIP_TEST("no " << data_dir << " (a user's clone has no ../shared)");
    const auto t = entropy_traces::load(data_dir + "/dataset_sst2_eval.txt");
    predictor_policy pol;
    pol.lut = exit_predictor::load_csv(data_dir + "/sst2_lookup_table_opt.csv");
    REQUIRE(pol.lut.rows() == 100);
    REQUIRE(pol.lut.predicted_layers() == 10);
    std::vector<std::vector<double>> lut;  // the same CSV, read by hand for the straightforward version
    {
        std::ifstream in(data_dir + "/sst2_lookup_table_opt.csv");
        std::string line;
        while (std::getline(in, line)) {
            std::vector<double> row;
            std::size_t start = 0;
            while (true) {
                const auto comma = line.find(',', start);
                row.push_back(std::stod(line.substr(start, comma - start)));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
            lut.push_back(row);
        }
    }
    // reference §4.3 regression vectors: {T, with early exit before, forced only}
    const double expected[][3] = {{0.09, 5.25, 7.78}, {0.16, 3.90, 4.91}, {0.28, 3.05, 3.65}};
    for (const auto& e : expected)
        for (bool ee_before : {true, false})
            for (bool extra : {false, true}) {
                pol.threshold = e[0];
                pol.early_exit_before = ee_before;
                pol.extra_layer = extra;
                const double mean = evaluate(pol, t).mean_exit_layer;
                INFO("T = " << e[0] << " ee_before " << ee_before << " extra " << extra);
                CHECK(mean == Approx(straightforward_mean(t, lut, e[0], ee_before, extra)).epsilon(1e-12));
                if (!extra) CHECK(std::round(mean * 100) / 100 == Approx(ee_before ? e[1] : e[2]));
            }
}
