// SPDX-License-Identifier: Apache-2.0
// The three schemes side by side, on synthetic entropies and on EdgeBERT's SST-2 traces.
#include <cmath>
#include <fstream>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "support/skip.hpp"

#include <edgebert/hw/energy_report.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
const double inf = std::numeric_limits<double>::infinity();
const std::string data_dir = std::string(EDGEBERT_SHARED_DATA_DIR) + "/edgebert-sst2";
bool have_data() { return std::ifstream(data_dir + "/dataset_sst2_eval.txt").good(); }

// The ideal controller returning to nominal between sentences: the semantics these tests pin
// (test_hw_options.cpp covers the hardware's LUT and the other between-sentence policies).
hw_params ideal_params() {
    hw_params p;
    p.controller = dvfs_policy::ideal;
    p.between = between_sentences::nominal;
    return p;
}

sentence_costs base_costs(const hw_params& p = {}) { return cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 12)); }

// An 11-column predictor table whose rows predict entropy `x - 0.05 * k` at layer 2 + k: with threshold
// 0.2, a layer-1 entropy of 0.5 predicts layer 2 + 7 = 9 (0.5 - 0.05 * 6 = 0.2 is not below 0.2).
exit::exit_predictor linear_lut() {
    std::string csv;
    for (int r = 0; r < 100; ++r) {
        const double x = r / 100.0;
        csv += std::to_string(x);
        for (int k = 0; k < 10; ++k) csv += "," + std::to_string(std::max(0.0, x - 0.05 * k));
        csv += "\n";
    }
    return exit::exit_predictor::parse_csv(csv);
}

exit::predictor_policy predictor(double T) {
    exit::predictor_policy p;
    p.lut = linear_lut();
    p.threshold = T;
    return p;
}
exit::entropy_threshold entropy(double T) {
    exit::entropy_threshold e;
    e.thresholds = {T};
    return e;
}
std::vector<double> flat(double h1, double rest) {
    std::vector<double> v(12, rest);
    v[0] = h1;
    return v;
}
}  // namespace

TEST_CASE("(a) runs every layer, (b) leaves by entropy, both at nominal", "[energy_report]") {
    const hw_params p = ideal_params();
    const sentence_costs s = base_costs(p);
    energy_options o;
    o.target_ms = inf;
    const energy_reporter rep(p, entropy(0.2), predictor(0.2), o);
    std::vector<double> h = flat(0.5, 0.5);
    h[3] = 0.1;  // layer 4 is confident
    const sentence_energy e = rep.price(s, h.data());
    CHECK(e.all_layers.exit_layer == 12);
    CHECK(e.early_exit.exit_layer == 4);
    CHECK(e.all_layers.voltage_v == p.points.nominal().voltage_v);
    CHECK(e.early_exit.switches == 0);
    double t = s.embedding.time_us(1000) + s.head.time_us(1000);
    for (const work_cost& w : s.layers) t += w.time_us(1000);
    CHECK(e.all_layers.latency_ms == Approx(t * 1e-3));
    CHECK(e.early_exit.energy.total_uj() < e.all_layers.energy.total_uj());
    // (c): predicted 9, but the real entropy exits at 4 first (early exit before the prediction)
    CHECK(e.predicted_layer == 9);
    CHECK(e.planned_layer == 9);
    CHECK(e.edgebert.exit_layer == 4);
    CHECK(e.edgebert.point == 0);  // no bound: the lowest point
    CHECK(e.edgebert.switches == 2);  // down after layer 1, back up after the sentence
    CHECK(e.edgebert.energy.switching_uj() > 0);
    CHECK(e.edgebert.energy.total_uj() < e.early_exit.energy.total_uj());
}

TEST_CASE("with the target at infinity (c) uses the lowest operating point", "[energy_report]") {
    const hw_params p = ideal_params();
    energy_options o;
    o.target_ms = inf;
    const energy_reporter rep(p, entropy(0.2), predictor(0.2), o);
    const sentence_costs s = base_costs(p);
    std::vector<sentence_energy> v;
    for (double h1 : {0.3, 0.5, 0.7, 0.9}) {
        const auto h = flat(h1, 0.6);
        v.push_back(rep.price(s, h.data()));
        CHECK(v.back().edgebert.point == 0);
        CHECK(v.back().edgebert.voltage_v == p.points[0].voltage_v);
    }
    const energy_summary sum = rep.summarize(v);
    CHECK(sum.point_histogram[0] == 4);
    CHECK(sum.edgebert.deadline_misses == 0);
}

TEST_CASE("a sentence that leaves at layer 1 never switches", "[energy_report]") {
    const hw_params p = ideal_params();
    const energy_reporter rep(p, entropy(0.2), predictor(0.2), energy_options{});
    const auto h = flat(0.1, 0.6);
    const sentence_energy e = rep.price(base_costs(p), h.data());
    CHECK(e.edgebert.exit_layer == 1);
    CHECK(e.edgebert.switches == 0);
    CHECK(e.predicted_layer == 0);
    CHECK(e.edgebert.energy.total_uj() == Approx(e.early_exit.energy.total_uj()));
}

TEST_CASE("a target below the nominal-speed latency: every sentence misses and the report says so", "[energy_report]") {
    const hw_params p = ideal_params();
    const sentence_costs s = base_costs(p);
    energy_options o;
    // below the time of the embeddings and layer 1 at nominal: nothing can meet it
    o.target_ms = 0.5 * (s.embedding.time_us(1000) + s.layers[0].time_us(1000)) * 1e-3;
    const energy_reporter rep(p, entropy(0.2), predictor(0.2), o);
    std::vector<sentence_energy> v;
    for (double h1 : {0.1, 0.3, 0.5, 0.9}) {
        const auto h = flat(h1, 0.6);
        v.push_back(rep.price(s, h.data()));
        CHECK(v.back().edgebert.deadline_miss);
        CHECK(v.back().edgebert.point == p.points.nominal_index());
    }
    const energy_summary sum = rep.summarize(v);
    CHECK(sum.edgebert.deadline_misses == 4);
    CHECK(sum.all_layers.deadline_misses == 4);
    CHECK(sum.unreachable == 4);
    CHECK_THAT(sum.note, Catch::Contains("every sentence misses"));
    CHECK(to_json(sum, p)["note"].get<std::string>() == sum.note);
}

TEST_CASE("a looser target never costs more energy", "[energy_report]") {
    const hw_params p = ideal_params();
    const sentence_costs s = base_costs(p);
    const auto h = flat(0.5, 0.6);
    double last = std::numeric_limits<double>::infinity();
    for (double target : {20.0, 40.0, 60.0, 80.0, 120.0, 200.0, 400.0}) {
        energy_options o;
        o.target_ms = target;
        const sentence_energy e = energy_reporter(p, entropy(0.2), predictor(0.2), o).price(s, h.data());
        CHECK(e.edgebert.energy.total_uj() <= last * (1 + 1e-12));
        last = e.edgebert.energy.total_uj();
        if (e.plan_feasible) CHECK_FALSE(e.edgebert.deadline_miss);
    }
}

TEST_CASE("misprediction: forced exit, boost back, or stay", "[energy_report]") {
    const hw_params p = ideal_params();
    const sentence_costs s = base_costs(p);
    std::vector<double> h = flat(0.5, 0.6);  // predicted 9, but entropy stays high until layer 10
    h[9] = 0.1;
    energy_options o;
    o.target_ms = 150;
    o.on_mispredict = misprediction::forced_exit;
    const sentence_energy forced = energy_reporter(p, entropy(0.2), predictor(0.2), o).price(s, h.data());
    CHECK(forced.edgebert.exit_layer == 9);
    CHECK_FALSE(forced.overrun);
    o.on_mispredict = misprediction::stay;
    const sentence_energy stay = energy_reporter(p, entropy(0.2), predictor(0.2), o).price(s, h.data());
    CHECK(stay.edgebert.exit_layer == 10);
    CHECK(stay.overrun);
    CHECK(stay.edgebert.switches == 2);
    o.on_mispredict = misprediction::boost;
    const sentence_energy boost = energy_reporter(p, entropy(0.2), predictor(0.2), o).price(s, h.data());
    CHECK(boost.edgebert.exit_layer == 10);
    CHECK(boost.edgebert.switches == 2);  // down, back up for layer 10; already nominal afterwards
    CHECK(boost.edgebert.latency_ms < stay.edgebert.latency_ms);
    CHECK(boost.edgebert.energy.total_uj() > stay.edgebert.energy.total_uj());
}

TEST_CASE("without a predictor the controller plans for every layer", "[energy_report]") {
    const hw_params p = ideal_params();
    energy_options o;
    o.target_ms = 200;
    const auto h = flat(0.5, 0.6);
    const sentence_energy e = energy_reporter(p, entropy(0.2), entropy(0.2), o).price(base_costs(p), h.data());
    CHECK(e.predicted_layer == 0);
    CHECK(e.planned_layer == 12);
    CHECK(e.edgebert.exit_layer == 12);
    CHECK_FALSE(e.edgebert.deadline_miss);
    CHECK(e.edgebert.point < p.points.nominal_index());
}

TEST_CASE("bad inputs are typed errors", "[energy_report]") {
    const hw_params p = ideal_params();
    energy_options o;
    o.target_ms = -1;
    CHECK_THROWS_AS(energy_reporter(p, entropy(0.2), predictor(0.2), o), config_error);
    const energy_reporter rep(p, entropy(0.2), predictor(0.2), energy_options{});
    auto h = flat(0.5, 0.6);
    h[3] = std::nan("");
    CHECK_THROWS_AS(rep.price(base_costs(p), h.data()), input_error);
    CHECK_THROWS_AS(cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 3)), input_error);
}

TEST_CASE("SST-2 traces: the exit layers are the policies' and DVFS saves energy", "[energy_report][sst2]") {
    if (!have_data()) EDGEBERT_SKIP_TEST("no EdgeBERT SST-2 traces in " << data_dir);
    const auto traces = exit::entropy_traces::load(data_dir + "/dataset_sst2_eval.txt");
    exit::predictor_policy pp;
    pp.lut = exit::exit_predictor::load_csv(data_dir + "/sst2_lookup_table_opt.csv");
    pp.threshold = 0.16;
    const hw_params p = ideal_params();
    const sentence_costs s = base_costs(p);
    double last_c = std::numeric_limits<double>::infinity();
    for (double target : {60.0, 100.0, inf}) {
        energy_options o;
        o.target_ms = target;
        const energy_reporter rep(p, entropy(0.23), pp, o);
        std::vector<sentence_energy> v;
        for (std::size_t i = 0; i < traces.sentences(); ++i) v.push_back(rep.price(s, traces.sentence(i)));
        const energy_summary sum = rep.summarize(v);
        // exits equal those of exit::evaluate (reference §3.3: 4.30 at T = 0.23; §4.3: EP 0.16 gives 3.90)
        CHECK(sum.early_exit.mean_exit_layer == Approx(exit::evaluate(entropy(0.23), traces).mean_exit_layer));
        CHECK(sum.edgebert.mean_exit_layer == Approx(exit::evaluate(pp, traces).mean_exit_layer));
        CHECK(sum.all_layers.mean_exit_layer == 12);
        CHECK(sum.edgebert.deadline_misses == 0);
        CHECK(sum.ratio_all_layers == Approx(sum.all_layers.energy.total_uj() / sum.edgebert.energy.total_uj()));
        CHECK(sum.edgebert.energy.total_uj() < sum.early_exit.energy.total_uj());
        CHECK(sum.edgebert.energy.total_uj() <= last_c);
        last_c = sum.edgebert.energy.total_uj();
        // DVFS cannot beat the V^2 bound between the extreme points, layer for layer
        const double v2 = std::pow(p.points.nominal().voltage_v / p.points[0].voltage_v, 2);
        CHECK(sum.ratio_all_layers < v2 * 12.0 / sum.edgebert.mean_exit_layer);
    }
}
