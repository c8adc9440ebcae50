#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/exit/logit_policy.hpp>

using namespace edgebert;
using namespace edgebert::exit;

namespace {
// 4 layers x 2 labels; predictions 1, 1, 0, 0; max probabilities rising
const std::vector<float> logits{0.f, 0.2f, 0.f, 1.f, 3.f, 0.f, 4.f, 0.f};
const std::vector<double> entropies{0.69, 0.5, 0.2, 0.1};
ramp_history history() { return {entropies.data(), logits.data(), 2, 4}; }
}  // namespace

TEST_CASE("ramp history answers argmax and max probability", "[exit]") {
    const auto h = history();
    CHECK(h.argmax_at(1) == 1);
    CHECK(h.argmax_at(3) == 0);
    CHECK(h.max_probability_at(2) == Approx(1.0 / (1.0 + std::exp(-1.0))));
    CHECK(h.max_probability_at(4) == Approx(1.0 / (1.0 + std::exp(-4.0))));
}

TEST_CASE("max probability exits above the threshold", "[exit]") {
    const auto h = history();
    const max_probability p{0.7};  // layer 2: 0.731
    CHECK_FALSE(p.exits_at(1, h));
    CHECK(p.exits_at(2, h));
    CHECK_FALSE(max_probability{0.99}.exits_at(3, h));
}

TEST_CASE("patience counts agreements with the previous ramp", "[exit]") {
    const auto h = history();
    CHECK(patience{0}.exits_at(1, h));
    CHECK_FALSE(patience{1}.exits_at(1, h));
    CHECK(patience{1}.exits_at(2, h));       // layers 1 and 2 agree
    CHECK_FALSE(patience{1}.exits_at(3, h));  // 3 disagrees with 2
    CHECK(patience{1}.exits_at(4, h));
    CHECK_FALSE(patience{2}.exits_at(2, h));
    CHECK_FALSE(patience{2}.exits_at(4, h));
}

TEST_CASE("decide dispatches either signature", "[exit]") {
    const auto h = history();
    CHECK(decide(exit_policy(entropy_threshold{{0.3}}), 3, h));
    CHECK_FALSE(decide(exit_policy(entropy_threshold{{0.3}}), 2, h));
    CHECK(decide(exit_policy(fixed_depth{2}), 2, h));
    CHECK_FALSE(decide(exit_policy(no_exit{}), 3, h));
    CHECK(decide(exit_policy(patience{1}), 2, h));
}

TEST_CASE("policies parse from text and only entropy ones replay on traces", "[exit]") {
    CHECK(std::holds_alternative<no_exit>(parse_exit_policy("none")));
    CHECK(std::get<fixed_depth>(parse_exit_policy("fixed:3")).depth == 3);
    CHECK(std::get<entropy_threshold>(parse_exit_policy("entropy:0.2,0.3")).thresholds.size() == 2);
    CHECK(std::get<max_probability>(parse_exit_policy("maxprob:0.9")).threshold == 0.9);
    CHECK(std::get<patience>(parse_exit_policy("patience:2")).count == 2);
    CHECK_THROWS_WITH(parse_exit_policy("soon"), Catch::Contains("\"soon\""));
    CHECK_THROWS_WITH(parse_exit_policy("maxprob:1.5"), Catch::Contains("[0, 1)"));
    CHECK_THROWS_WITH(parse_exit_policy("patience:-1"), Catch::Contains("non-negative"));
    CHECK_THROWS_WITH(parse_exit_policy("fixed:0"), Catch::Contains("K >= 1"));
    CHECK_THROWS_WITH(parse_exit_policy("predictor:0.3"), Catch::Contains("table"));
    CHECK_THROWS_WITH(parse_exit_policy("entropy:"), Catch::Contains("entropy:T"));
    CHECK_THROWS_WITH(to_trace_policy(parse_exit_policy("patience:1")), Catch::Contains("logits"));
    CHECK(std::holds_alternative<entropy_threshold>(to_trace_policy(parse_exit_policy("entropy:0.1"))));
}

TEST_CASE("policies describe themselves in their text form", "[exit]") {
    for (const char* spec : {"none", "fixed:3", "entropy:0.25", "entropy:0.1,0.2", "maxprob:0.9", "patience:2"})
        CHECK(describe(parse_exit_policy(spec)) == spec);
}
