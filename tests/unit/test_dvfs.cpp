// SPDX-License-Identifier: Apache-2.0
#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/hw/dvfs.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
std::vector<work_cost> layers(std::size_t k) {
    const work_cost w = cycle_model{hw_params{}}.layer(build_trace(albert_shape{}, 12).layers[0]);
    return std::vector<work_cost>(k, w);
}
const double inf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("with no latency bound the lowest operating point is chosen", "[dvfs]") {
    const hw_params p;
    const dvfs_controller c(p);
    const dvfs_choice ch = c.choose(inf, 5000, layers(10), p.points.nominal_index());
    CHECK(ch.point == 0);
    CHECK(ch.switched);
    CHECK(ch.feasible);
}

TEST_CASE("a tighter target never picks a lower frequency", "[dvfs]") {
    const hw_params p;
    const dvfs_controller c(p);
    const auto rest = layers(5);
    double last_f = 0;
    std::size_t changes = 0;
    std::size_t last_point = 0;
    for (double target_ms = 200; target_ms > 1; target_ms *= 0.97) {
        const dvfs_choice ch = c.choose(target_ms * 1e3, 8000, rest, p.points.nominal_index());
        const double f = p.points[ch.point].freq_mhz;
        CHECK(f >= last_f);
        changes += ch.point != last_point;
        last_f = f, last_point = ch.point;
        if (ch.feasible) CHECK(8000 + ch.planned_time_us <= target_ms * 1e3 + 1e-6);
        // the chosen point is the lowest that fits: the one below it would not
        if (ch.feasible && ch.point > 0) {
            double t = p.switch_time_us();
            for (const work_cost& w : rest) t += w.time_us(p.points[ch.point - 1].freq_mhz);
            CHECK(8000 + t > target_ms * 1e3);
        }
    }
    CHECK(changes >= p.points.size() - 1);  // the sweep went through every point
}

TEST_CASE("an impossible target stays at nominal and says so", "[dvfs]") {
    const hw_params p;
    const dvfs_controller c(p);
    const dvfs_choice ch = c.choose(1000, 900, layers(3), p.points.nominal_index());
    CHECK_FALSE(ch.feasible);
    CHECK(ch.point == p.points.nominal_index());
    CHECK_FALSE(ch.switched);
    CHECK(std::isfinite(ch.f_required_mhz));
    CHECK(ch.f_required_mhz > p.points.nominal().freq_mhz);
    CHECK(std::isinf(c.choose(1000, 2000, layers(3), p.points.nominal_index()).f_required_mhz));
}

TEST_CASE("the switching stall counts against the budget", "[dvfs]") {
    hw_params p;
    p.points.points = {{0.5, 500}, {0.8, 1000}};
    p.ldo_settle_us = 0, p.adpll_relock_us = 100;
    work_cost w;
    w.pu_cycles = 1e6;  // 2000 us at 500 MHz, 1000 us at 1 GHz
    const dvfs_controller c(p);
    CHECK(c.choose(2100, 0, {w}, 1).point == 0);   // 100 + 2000 fits
    CHECK(c.choose(2099, 0, {w}, 1).point == 1);   // it does not: stay at nominal, no stall needed
    CHECK(c.choose(2099, 0, {w}, 1).feasible);
    CHECK(c.choose(2100, 0, {w}, 1).f_required_mhz == Approx(1e6 / 2000.0));
}

TEST_CASE("nothing left to run: no change", "[dvfs]") {
    const hw_params p;
    const dvfs_controller c(p);
    const dvfs_choice ch = c.choose(10, 5, {}, p.points.nominal_index());
    CHECK(ch.point == p.points.nominal_index());
    CHECK(ch.feasible);
    CHECK_THROWS_AS(c.choose(0, 0, {}, 0), config_error);
    CHECK_THROWS_AS(c.choose(std::nan(""), 0, {}, 0), config_error);
    CHECK_THROWS_AS(c.choose(10, 0, {}, 99), config_error);
}

TEST_CASE("misprediction policy names", "[dvfs]") {
    CHECK(parse_misprediction("forced_exit") == misprediction::forced_exit);
    CHECK(parse_misprediction("boost") == misprediction::boost);
    CHECK(parse_misprediction("stay") == misprediction::stay);
    CHECK(std::string(misprediction_name(misprediction::boost)) == "boost");
    CHECK_THROWS_AS(parse_misprediction("panic"), config_error);
}
