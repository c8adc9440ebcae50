#include <catch2/catch.hpp>
#include <edgebert/exit/policy.hpp>

using namespace edgebert::exit;

TEST_CASE("entropy threshold exits at the first layer strictly below T", "[policy]") {
    const double h[4] = {0.5, 0.3, 0.2, 0.1};
    entropy_threshold p;
    p.thresholds = {0.3};
    CHECK(first_exit_layer(p, h, 4) == 3);  // 0.3 is not < 0.3
    p.thresholds = {0.0};            // T = 0: nobody exits early
    CHECK(first_exit_layer(p, h, 4) == 4);
    p.thresholds = {0.6, 0.1, 0.1};  // per layer
    CHECK(first_exit_layer(p, h, 4) == 1);
    p.thresholds = {0.1, 0.1, 0.25};  // the last threshold repeats for deeper layers
    CHECK(first_exit_layer(p, h, 4) == 3);
    CHECK(p.at(4) == 0.25);
}

TEST_CASE("no_exit and fixed_depth", "[policy]") {
    const double h[3] = {0, 0, 0};
    CHECK(first_exit_layer(no_exit{}, h, 3) == 3);
    CHECK(first_exit_layer(fixed_depth{2}, h, 3) == 2);
    CHECK(first_exit_layer(fixed_depth{9}, h, 3) == 3);
    CHECK(first_exit_layer(fixed_depth{0}, h, 3) == 1);
}

TEST_CASE("threshold specs parse; bad ones are config_errors", "[policy]") {
    CHECK(parse_entropy_threshold("0.23").thresholds == std::vector<double>{0.23});
    CHECK(parse_entropy_threshold("0.1,0.2").thresholds == std::vector<double>{0.1, 0.2});
    REQUIRE_THROWS_AS(parse_entropy_threshold("abc"), edgebert::config_error);
    REQUIRE_THROWS_AS(parse_entropy_threshold("0.1,"), edgebert::config_error);
    REQUIRE_THROWS_AS(parse_entropy_threshold("-1"), edgebert::config_error);
    REQUIRE_THROWS_AS(parse_entropy_threshold("nan"), edgebert::config_error);
}
