// SPDX-License-Identifier: Apache-2.0
// Pricing the model's own runs: an early-exit run priced from what it recorded costs what the same sentence costs
// when priced from a full run's trace (the off-ramp after the last layer dropped: the final classifier answers
// there) and every entropy; padded entropies never move an exit.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/hw/run_pricer.hpp>
#include <edgebert/model/multi_task_model.hpp>
#include <nlohmann/json.hpp>

using namespace edgebert;

namespace {
const std::string model_dir = std::string(EDGEBERT_SOURCE_DIR) + "/models/albert-tiny-sst2-lang";

std::vector<std::vector<std::int64_t>> reference_ids(const std::string& task, std::size_t n) {
    std::ifstream in(model_dir + "/reference/" + task + "_dev.jsonl");
    REQUIRE(in);
    std::vector<std::vector<std::int64_t>> out;
    for (std::string line; out.size() < n && std::getline(in, line);)
        out.push_back(nlohmann::json::parse(line).at("input_ids").get<std::vector<std::int64_t>>());
    return out;
}
}  // namespace

TEST_CASE("pad_entropies fills unreached layers with the largest entropy", "[hw][run_pricer]") {
    const auto p = hw::pad_entropies({0.1, 0.2}, 4, 4);
    REQUIRE(p.size() == 4);
    CHECK(p[0] == 0.1);
    CHECK(p[1] == 0.2);
    CHECK(p[2] == Approx(std::log(4.0)));
    CHECK(p[3] == Approx(std::log(4.0)));
    CHECK_THROWS_AS(hw::pad_entropies({0.1, 0.2, 0.3}, 2, 2), input_error);
    CHECK_THROWS_AS(hw::pad_entropies({}, 2, 1), input_error);
}

TEST_CASE("an early-exit run costs what the full run's trace says for the same exits", "[hw][run_pricer]") {
    const auto mt = model::multi_task_model::load(model_dir);
    hw::energy_options eo;
    eo.target_ms = 1.0;
    const hw::run_pricer pricer(hw::hw_params{}, eo);
    const hw::cycle_model cycles{hw::hw_params{}};
    std::size_t early = 0;
    for (const std::string task : {"sst2", "lang"}) {
        const exit::exit_policy policy = mt.get(task).policy;
        const exit::trace_policy replay = exit::to_trace_policy(policy);
        const hw::energy_reporter reporter(hw::hw_params{}, replay, replay, eo);
        model::infer_options full;
        full.exit = exit::no_exit{};
        for (const auto& ids : reference_ids(task, 60)) {
            const auto r = mt.infer(task, ids);
            const auto f = mt.infer(task, ids, full);
            REQUIRE(f.entropies.size() == f.trace.layers_total);
            const hw::sentence_energy got = pricer.price(r.trace, r.entropies, policy);
            const hw::sentence_energy want = reporter.price(hw::cost_sentence(cycles, hw::extend_to_all_layers(f.trace)), f.entropies.data());
            CHECK(got.early_exit.exit_layer == r.exit_layer);
            CHECK(got.edgebert.exit_layer == want.edgebert.exit_layer);
            CHECK(got.all_layers.energy.total_uj() == Approx(want.all_layers.energy.total_uj()).epsilon(1e-12));
            CHECK(got.early_exit.energy.total_uj() == Approx(want.early_exit.energy.total_uj()).epsilon(1e-12));
            CHECK(got.edgebert.energy.total_uj() == Approx(want.edgebert.energy.total_uj()).epsilon(1e-12));
            CHECK(got.edgebert.latency_ms == Approx(want.edgebert.latency_ms).epsilon(1e-12));
            early += r.exit_layer < r.trace.layers_total;
        }
    }
    CHECK(early > 30);  // the comparison covers runs that left early, not only full ones
}

TEST_CASE("policies that need logits are priced at the run's exit layer", "[hw][run_pricer]") {
    const auto mt = model::multi_task_model::load(model_dir);
    const hw::run_pricer pricer(hw::hw_params{});
    model::infer_options o;
    o.exit = exit::patience{2};
    for (const auto& ids : reference_ids("sst2", 10)) {
        const auto r = mt.infer("sst2", ids, o);
        const auto e = pricer.price(r.trace, r.entropies, *o.exit);
        CHECK(e.early_exit.exit_layer == r.exit_layer);
        CHECK(e.edgebert.exit_layer == r.exit_layer);
        CHECK(e.all_layers.exit_layer == r.trace.layers_total);
    }
}

TEST_CASE("run_pricer refuses traces without work and mismatched policies", "[hw][run_pricer]") {
    const hw::run_pricer pricer(hw::hw_params{});
    CHECK_THROWS_AS(pricer.price(model::inference_trace{}, {}, exit::no_exit{}), input_error);
    const auto mt = model::multi_task_model::load(model_dir);
    const auto ids = reference_ids("sst2", 1).front();
    model::infer_options o;
    o.exit = exit::fixed_depth{2};
    const auto r = mt.infer("sst2", ids, o);
    // Replaying a different policy than the run's cannot reproduce its exit.
    CHECK_THROWS_WITH(pricer.price(r.trace, r.entropies, exit::fixed_depth{4}), Catch::Contains("the run exited at 2"));
    hw::energy_options bad;
    bad.target_ms = 0;
    CHECK_THROWS_AS(hw::run_pricer(hw::hw_params{}, bad), config_error);
}
