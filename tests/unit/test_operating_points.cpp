// SPDX-License-Identifier: Apache-2.0
#include <cmath>

#include <catch2/catch.hpp>
#include <edgebert/hw/operating_points.hpp>

using namespace edgebert;
using namespace edgebert::hw;

TEST_CASE("the default table follows the alpha-power law it claims", "[operating_points]") {
    const operating_point_table t = default_operating_points();
    REQUIRE(t.size() == 7);
    t.validate();
    for (const operating_point& p : t.points) {
        // f = 1000 MHz * ((V - 0.3)^1.5 / V) / ((0.8 - 0.3)^1.5 / 0.8), written out independently
        const double expect = 1000.0 * (std::pow(p.voltage_v - 0.3, 1.5) / p.voltage_v) / (std::pow(0.5, 1.5) / 0.8);
        CHECK(p.freq_mhz == Approx(expect).margin(0.05));
    }
    CHECK(t.points.front().voltage_v == Approx(0.5));
    CHECK(t.nominal().voltage_v == Approx(0.8));
    CHECK(t.nominal().freq_mhz == Approx(1000.0));
    CHECK(t.points.front().freq_mhz == Approx(404.8).margin(0.05));
}

TEST_CASE("lowest_meeting picks the lowest voltage fast enough", "[operating_points]") {
    operating_point_table t;
    t.points = {{0.5, 400}, {0.6, 600}, {0.7, 600}, {0.8, 1000}};
    t.validate();
    CHECK(t.lowest_meeting(0) == 0);
    CHECK(t.lowest_meeting(400) == 0);
    CHECK(t.lowest_meeting(400.001) == 1);
    CHECK(t.lowest_meeting(600) == 1);  // two points at 600 MHz: the lower voltage
    CHECK(t.lowest_meeting(999) == 3);
    CHECK(t.lowest_meeting(1001) == t.size());
    // monotone: a higher frequency never gets a lower index
    std::size_t last = 0;
    for (double f = 0; f < 1100; f += 7.5) {
        const std::size_t i = t.lowest_meeting(f);
        CHECK(i >= last);
        last = i;
    }
}

TEST_CASE("bad tables are config errors naming the entry", "[operating_points]") {
    operating_point_table t;
    CHECK_THROWS_AS(t.validate(), config_error);
    t.points = {{0.5, 400}, {0.5, 500}};
    CHECK_THROWS_WITH(t.validate(), Catch::Contains("operating_points[1].voltage_v"));
    t.points = {{0.5, 400}, {0.6, 300}};
    CHECK_THROWS_WITH(t.validate(), Catch::Contains("operating_points[1].freq_mhz"));
    t.points = {{-0.5, 400}};
    CHECK_THROWS_WITH(t.validate(), Catch::Contains("operating_points[0].voltage_v"));
    t.points = {{0.5, std::nan("")}};
    CHECK_THROWS_WITH(t.validate(), Catch::Contains("operating_points[0].freq_mhz"));
    CHECK_THROWS_AS(alpha_power_table(0.2, 0.8, 0.05, 0.8, 1000, 0.3, 1.5), config_error);  // v_min below v_th
}
