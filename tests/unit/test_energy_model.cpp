// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <edgebert/hw/energy_model.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
work_cost some_work() { return cycle_model{hw_params{}}.layer(build_trace(albert_shape{}, 12).layers[0]); }
}  // namespace

TEST_CASE("at fixed work, dynamic energy scales with V^2", "[energy_model]") {
    hw_params p;
    p.buffer.on_dvfs_rail = true;
    p.sram.on_dvfs_rail = true;
    p.reram.on_dvfs_rail = true;
    const work_cost w = some_work();
    const energy_breakdown lo = price(p, w, {0.4, 500}, w.time_us(500));
    const energy_breakdown hi = price(p, w, {0.8, 500}, w.time_us(500));
    CHECK(hi.compute_dynamic_uj() == Approx(4 * lo.compute_dynamic_uj()));
    CHECK(hi.memory_dynamic_uj() == Approx(4 * lo.memory_dynamic_uj()));
    // leakage at the same time scales with V
    CHECK(hi.compute_leakage_uj() == Approx(2 * lo.compute_leakage_uj()));
    CHECK(lo.compute_dynamic_uj() > 0);
    CHECK(lo.switching_uj() == 0);
}

TEST_CASE("memories off the DVFS rail keep their per-bit energy", "[energy_model]") {
    hw_params p;
    p.buffer.on_dvfs_rail = false;
    const work_cost w = some_work();
    CHECK(price(p, w, {0.4, 500}, 1).memory_dynamic_uj() == Approx(price(p, w, {0.8, 500}, 1).memory_dynamic_uj()));
}

TEST_CASE("latency: cycles and AXI beats scale with 1/f, memory latency does not", "[energy_model]") {
    const work_cost w = some_work();
    REQUIRE(w.fixed_ns == 0);
    REQUIRE(w.sequential_fetch);
    CHECK(w.time_us(1000) == Approx((w.cycles() + w.fetch_beats) / 1000.0 + w.overlapped_ns * 1e-3));
    CHECK(w.time_us(500) - w.overlapped_ns * 1e-3 == Approx(2 * (w.time_us(1000) - w.overlapped_ns * 1e-3)));
    // at a fixed voltage, leakage energy follows the time
    const hw_params p;
    CHECK(price(p, w, {0.8, 500}, w.time_us(500)).compute_leakage_uj() ==
          Approx(w.time_us(500) / w.time_us(1000) * price(p, w, {0.8, 1000}, w.time_us(1000)).compute_leakage_uj()));
    CHECK(price(p, w, {0.8, 1000}, 1000.0).compute_leakage_uj() == Approx(2.5 * 0.8 * 1000 * 1e-3));
}

TEST_CASE("a transfer longer than the compute sets the time", "[energy_model]") {
    work_cost w;
    w.pu_cycles = 1000;
    w.overlapped_ns = 5000;
    w.fixed_ns = 100;
    w.sequential_fetch = false;
    CHECK(w.time_us(1000) == Approx(0.1 + 5.0));
    CHECK(w.time_us(100) == Approx(0.1 + 10.0));
}

TEST_CASE("energy terms by hand", "[energy_model]") {
    hw_params p;
    p.c_eff_mac_pf = 1, p.c_eff_sfu_op_pf = 2, p.c_eff_cycle_pf = 3, p.leakage_mw_per_v = 4;
    p.buffer = {0.5, 0.25, 64, 1, 0, 0, true};
    p.sram = {1, 2, 64, 1, 1, 2, false};
    p.reram = {3, 0, 64, 1, 0, 1, false};
    p.charge_backing_leakage = true;
    work_cost w;
    w.macs_executed = 1e6, w.sfu_ops = 1e5, w.pu_cycles = 2e5;
    w.traffic = {1e6, 1e6, 1e5, 1e5, 1e4};
    const energy_breakdown e = price(p, w, {0.4, 1000}, 10.0);  // V nominal is 0.8
    CHECK(e.compute_dynamic_uj() == Approx(0.16 * (1e6 + 2e5 + 6e5) * 1e-6));
    CHECK(e.compute_leakage_uj() == Approx(4 * 0.4 * 10 * 1e-3));
    CHECK(e.memory_dynamic_uj() == Approx(((1e6 * 0.5 + 1e6 * 0.25) * 0.25 + 1e5 * 1 + 1e5 * 2 + 1e4 * 3) * 1e-6));
    CHECK(e.memory_leakage_uj() == Approx(2 * 1 * 10 * 1e-3));
    CHECK(e.total_uj() == Approx(e.compute_uj() + e.memory_uj()));
    // the LDO delivers the logic's and the (on-rail) buffers' energy from 0.9 V
    CHECK(e.ldo_loss_uj == Approx((e.compute_uj() + e.buffer_dynamic_uj) * (0.9 / 0.4 - 1)));
}
