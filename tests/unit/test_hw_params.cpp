// SPDX-License-Identifier: Apache-2.0
#include <cstdio>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <edgebert/hw/hw_params.hpp>

using namespace edgebert;
using namespace edgebert::hw;
using json = nlohmann::json;

TEST_CASE("defaults are valid and the buffers match Spec.h", "[hw_params]") {
    const hw_params p;
    p.validate();
    // n = 16: input buffer 16 banks x 4096 x 8 bit = 64 KiB, mask 4096 x 16 bit = 8 KiB, two decoders, aux 4 KiB
    CHECK(p.input_buffer_bytes() == 65536);
    CHECK(p.buffer_bytes() == 2 * (65536 + 8192) + 4096);
    CHECK(p.buffer_memory().capacity_mib == Approx(p.buffer_bytes() / 1048576.0));
    hw_params q;
    q.n = 32;  // the figure's 128 KB data / 16 KB mask per decoder
    CHECK(q.input_buffer_bytes() == 131072);
}

TEST_CASE("JSON round trip keeps every value", "[hw_params]") {
    hw_params p;
    p.n = 32;
    p.overlap_load = true;
    p.gating = zero_gating::element;
    p.points.points = {{0.6, 500}, {0.9, 1200}};
    p.c_eff_mac_pf = 0.2;
    p.sram.capacity_mib = 3;
    p.reram.on_dvfs_rail = true;
    p.backbone_in_reram = true;
    p.softmax.ii = 2;
    const std::string path = "/tmp/edgebert_test_hw_params.json";
    p.save(path);
    const hw_params q = hw_params::load(path);
    std::remove(path.c_str());
    CHECK(q.to_json() == p.to_json());
    CHECK(q.n == 32);
    CHECK(q.gating == zero_gating::element);
    CHECK(q.points.size() == 2);
    CHECK(q.backbone_in_reram);
}

TEST_CASE("absent keys keep their defaults", "[hw_params]") {
    const hw_params p = hw_params::from_json(json::parse(R"({"power": {"c_eff_mac_pf": 0.5}, "datapath": {"n": 8}})"));
    const hw_params d;
    CHECK(p.c_eff_mac_pf == 0.5);
    CHECK(p.n == 8);
    CHECK(p.c_eff_cycle_pf == d.c_eff_cycle_pf);
    CHECK(p.points.size() == d.points.size());
    CHECK(hw_params::from_json(json::object()).to_json() == d.to_json());
}

TEST_CASE("unknown keys, wrong types and values out of range name the key", "[hw_params]") {
    auto err = [](const char* text) -> std::string {
        try {
            hw_params::from_json(json::parse(text), "hw.json");
        } catch (const config_error& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK_THAT(err(R"({"power": {"c_eff_mac": 1}})"), Catch::Contains("unknown key 'power.c_eff_mac'") && Catch::Contains("hw.json"));
    CHECK_THAT(err(R"({"powr": {}})"), Catch::Contains("unknown key 'powr'"));
    CHECK_THAT(err(R"({"memory": {"buffer": {"capacity_mib": 1}}})"), Catch::Contains("memory.buffer.capacity_mib"));
    CHECK_THAT(err(R"({"datapath": {"n": 0}})"), Catch::Contains("datapath.n"));
    CHECK_THAT(err(R"({"datapath": {"n": -3}})"), Catch::Contains("datapath.n"));
    CHECK_THAT(err(R"({"datapath": {"n": 2.5}})"), Catch::Contains("datapath.n"));
    CHECK_THAT(err(R"({"datapath": {"zero_gating": "row"}})"), Catch::Contains("datapath.zero_gating"));
    CHECK_THAT(err(R"({"power": {"leakage_mw_per_v": -1}})"), Catch::Contains("power.leakage_mw_per_v"));
    CHECK_THAT(err(R"({"power": {"c_eff_mac_pf": "big"}})"), Catch::Contains("power.c_eff_mac_pf"));
    CHECK_THAT(err(R"({"dvfs": {"ldo_settle_us": -1}})"), Catch::Contains("dvfs.ldo_settle_us"));
    CHECK_THAT(err(R"({"operating_points": []})"), Catch::Contains("operating_points"));
    CHECK_THAT(err(R"({"operating_points": [{"voltage_v": 0.8}]})"), Catch::Contains("operating_points[0]"));
    CHECK_THAT(err(R"({"operating_points": [{"voltage_v": 0.8, "freq_mhz": 900, "mhz": 1}]})"),
               Catch::Contains("operating_points[0].mhz"));
    CHECK_THAT(err(R"({"operating_points": [{"voltage_v": 0.8, "freq_mhz": 900}, {"voltage_v": 0.7, "freq_mhz": 950}]})"),
               Catch::Contains("operating_points[1].voltage_v"));
    CHECK_THAT(err(R"({"sfu": {"softmax": {"ii": 0}}})"), Catch::Contains("sfu.softmax.ii"));
    CHECK_THAT(err(R"({"memory": {"sram": {"on_dvfs_rail": 1}}})"), Catch::Contains("memory.sram.on_dvfs_rail"));
    CHECK_THAT(err(R"([1, 2])"), Catch::Contains("top level"));
    CHECK_THROWS_AS(hw_params::load("/nonexistent/hw.json"), io_error);
}

TEST_CASE("switching cost: stall is the longer of settle and relock, energy from decap and ADPLL", "[hw_params]") {
    hw_params p;
    p.ldo_settle_us = 2, p.adpll_relock_us = 3, p.ldo_decap_nf = 10, p.adpll_power_mw = 1;
    CHECK(p.switch_time_us() == 3);
    // 10 nF * 0.8 V * 0.3 V = 2.4 nJ, plus 1 mW * 3 us = 3 nJ
    CHECK(p.switch_energy_nj(0.8, 0.5) == Approx(5.4));
    CHECK(p.switch_energy_nj(0.5, 0.8) == Approx(5.4));
    CHECK(p.switch_energy_nj(0.8, 0.8) == Approx(3.0));
}
