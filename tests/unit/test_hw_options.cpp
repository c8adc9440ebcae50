// SPDX-License-Identifier: Apache-2.0
// Each hardware option of issue 16 pinned against a value derived by hand (the arithmetic is in the comments).
#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/exit/predictor.hpp>
#include <edgebert/hw/adapter_memory.hpp>
#include <edgebert/hw/dvfs.hpp>
#include <edgebert/hw/energy_report.hpp>
#include <edgebert/hw/provenance.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
const double inf = std::numeric_limits<double>::infinity();
exit::entropy_threshold entropy(double t) {
    exit::entropy_threshold e;
    e.thresholds = {t};
    return e;
}
}  // namespace

TEST_CASE("either-operand gating: an all-zero activation gates every product-sum", "[hw_options][gating]") {
    hw_params p;
    REQUIRE(p.gating == zero_gating::either_vector);
    // (32 x 32) x (32 x 32), dense weights, activations all zero: Datapath_Top.h:159 skips every ProductSum.
    const work_cost zero_in = cycle_model{p}.product(32, 32, 32, 1.0, weight_source::none, 0.0);
    CHECK(zero_in.macs == 32768.0);
    CHECK(zero_in.macs_executed == 0.0);
    CHECK(zero_in.pu_cycles == 8 * 33.0);  // 2 x 2 x 2 tiles of 2n+1: zeros save energy, not cycles
    // half-dense activations: a 16-vector of independent zeros is all zero with probability 0.5^16
    const work_cost half = cycle_model{p}.product(32, 32, 32, 1.0, weight_source::none, 0.5);
    CHECK(half.macs_executed == Approx(32768.0 * (1.0 - std::pow(0.5, 16))));
    // the weight-only model (the previous default) sees none of it
    p.gating = zero_gating::weight_vector;
    CHECK(cycle_model{p}.product(32, 32, 32, 1.0, weight_source::none, 0.0).macs_executed == 32768.0);
    // an all-zero weight gates under both
    CHECK(cycle_model{p}.product(32, 32, 32, 0.0, weight_source::none, 1.0).macs_executed == 0.0);
    p.gating = zero_gating::either_vector;
    CHECK(cycle_model{p}.product(32, 32, 32, 0.0, weight_source::none, 1.0).macs_executed == 0.0);
    // a trace's input_density reaches the product
    model::matmul_work m{trace::product::qkv, 32, 32, 32, 32 * 32, 8};
    m.input_density = 0.0;
    CHECK(cycle_model{p}.matmul(m).macs_executed == 0.0);
    m.input_density = 1.5;
    CHECK_THROWS_AS(cycle_model{p}.matmul(m), input_error);
}

TEST_CASE("weight fetch: sequential (released testbench) or overlapped", "[hw_options][fetch]") {
    hw_params p;
    REQUIRE(p.fetch == weight_fetch::sequential);
    // One 16 x 16 x 16 tile with a dense 16 x 16 weight from the SRAM: 256 mask bits + 256 x 8 bits = 2304 bits
    // = 36 beats of the 64-bit AXI bus (AxiSpec.h:24), one burst (<= 256 beats) = one SRAM latency, 4.684 ns.
    const work_cost w = cycle_model{p}.product(16, 16, 16, 1.0, weight_source::sram);
    CHECK(w.fetch_beats == 36.0);
    CHECK(w.overlapped_ns == Approx(4.684));
    CHECK(w.cycles() == 33.0);
    // at 1 GHz: 33 + 36 cycles + 4.684 ns one after the other
    CHECK(w.time_us(1000) == Approx((33 + 36) / 1000.0 + 0.004684));
    p.fetch = weight_fetch::overlapped;
    const work_cost o = cycle_model{p}.product(16, 16, 16, 1.0, weight_source::sram);
    CHECK(o.time_us(1000) == Approx(std::max(0.033, 0.036 + 0.004684)));
    // a long compute hides the transfer
    CHECK(cycle_model{p}.product(256, 16, 16, 1.0, weight_source::sram).time_us(1000) == Approx(16 * 33 / 1000.0));
}

TEST_CASE("the 16-bin entropy LUT bins as Dvfs.h does", "[hw_options][lut]") {
    // fixed point with 10 fraction bits, truncated (Spec.h:75): 0.2499 -> 255, 0.25 -> 256
    CHECK(entropy_lut::to_fixed(0.2499) == 255);
    CHECK(entropy_lut::bin_of(0.2499, 1) == 0);
    CHECK(entropy_lut::bin_of(0.25, 1) == 1);
    CHECK(entropy_lut::bin_of(0.4999, 1) == 1);
    CHECK(entropy_lut::bin_of(0.5, 1) == 2);
    CHECK(entropy_lut::bin_of(std::log(2.0), 1) == 2);   // 709: a binary task reaches bins 0..2 only
    CHECK(entropy_lut::bin_of(std::log(3.0), 1) == 3);   // 1124: MNLI reaches bin 3
    CHECK(entropy_lut::bin_of(2.0, 1) == 4);             // 2048
    CHECK(entropy_lut::bin_of(27.999, 1) == 14);         // 28670 < 28672
    CHECK(entropy_lut::bin_of(28.0, 1) == 15);
    CHECK(entropy_lut::bin_of(100.0, 1) == 15);          // saturates at 32767
    CHECK(entropy_lut::bin_of(0.5, 2) == 1);             // enpy_scale 2: 512 / 2 = 256
    CHECK(entropy_lut::dco_slot(14) == 14);
    CHECK(entropy_lut::dco_slot(15) == 14);              // bins 14 and 15 push the same DCO code (Dvfs.h:334, 340)
    CHECK(entropy_lut::lower_edge(3, 1) == 1.0);
}

TEST_CASE("the LUT controller uses the bin's programmed point, the ideal one the sentence's", "[hw_options][lut]") {
    hw_params p;
    p.between = between_sentences::nominal;
    const sentence_costs s = cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 12));
    energy_options o;
    o.target_ms = inf;
    // no predictor: every bin plans all 12 layers; with no bound every bin gets the lowest point
    energy_reporter r(p, entropy(0.1), entropy(0.1), o);
    const entropy_lut lut = r.program_lut(s, 2);
    for (std::size_t b = 0; b <= 2; ++b) CHECK(lut.point[b] == 0);
    for (std::size_t b = 3; b < 16; ++b) CHECK(lut.planned[b] == 0);  // unreachable at 2 labels
    std::vector<double> h(12, 0.6);
    const sentence_energy e = r.price(s, h.data());
    CHECK(e.lut_bin == 2);
    CHECK(e.edgebert.point == 0);
}

TEST_CASE("between sentences: stay keeps the point, nominal pays a switch, idle leakage over a period", "[hw_options][between]") {
    hw_params p;
    p.controller = dvfs_policy::ideal;
    const sentence_costs s = cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 12));
    std::vector<double> h(12, 0.6);
    energy_options o;
    o.target_ms = inf;
    {
        const energy_reporter r(p, entropy(0.1), entropy(0.1), o);
        const sentence_energy first = r.price(s, h.data());
        CHECK(first.end_point == 0);  // stays at the lowest point
        const sentence_energy second = r.price(s, h.data(), first.end_point);
        CHECK(second.edgebert.switches == 0);  // already there: layer 1 ran at 0.5 V
        CHECK(second.edgebert.latency_ms > first.edgebert.latency_ms);
        CHECK(second.edgebert.energy.switching_uj() == 0);
    }
    p.between = between_sentences::nominal;
    {
        const energy_reporter r(p, entropy(0.1), entropy(0.1), o);
        const sentence_energy e = r.price(s, h.data());
        CHECK(e.end_point == p.points.nominal_index());
        CHECK(e.edgebert.switches == 2);
        // two 0.8 <-> 0.5 V transitions: 10 nF x 0.8 V x 0.3 V + 1 mW x 5 us = 7.4 nJ each
        CHECK(e.edgebert.energy.switching_uj() == Approx(2 * 0.0074));
    }
    // a 1 s period: (a) idles 1000 - latency ms at 0.8 V, leaking 2.5 x 0.8 mW of logic + the buffers'
    p.sentence_period_ms = 1000;
    {
        const energy_reporter r(p, entropy(0.1), entropy(0.1), o);
        const sentence_energy e = r.price(s, h.data());
        const double leak_mw = 2.5 * 0.8 + p.buffer_memory().capacity_mib * p.buffer.leakage_mw_per_mib;
        CHECK(e.all_layers.energy.idle_uj == Approx(leak_mw * (1000 - e.all_layers.latency_ms)));
    }
    p.between = between_sentences::power_gate;
    {
        const energy_reporter r(p, entropy(0.1), entropy(0.1), o);
        CHECK(r.price(s, h.data()).all_layers.energy.idle_uj == 0);
    }
}

TEST_CASE("lowest-energy feasible point against lowest voltage, by hand", "[hw_options][choice]") {
    hw_params p;
    p.points.points = {{0.35, 300}, {0.8, 1000}};
    p.c_eff_mac_pf = 0, p.c_eff_sfu_op_pf = 0, p.c_eff_cycle_pf = 1, p.leakage_mw_per_v = 2.5;
    p.buffer.leakage_mw_per_mib = 0;
    work_cost w;
    w.pu_cycles = 1e6;
    // at 0.35 V: 0.35^2 x 1 pF x 1e6 = 0.1225 uJ + 2.5 x 0.35 mW x 3333.3 us = 2.9167 uJ, plus the switch from
    // 0.8 V: 10 nF x 0.8 x 0.45 = 3.6 nJ + 5 nJ relock + 5 us of 2 mW leakage = 10 nJ
    // at 0.8 V: 0.64 uJ + 2.5 x 0.8 x 1000 us = 2.0 uJ
    const double low = 0.1225 + 2.5 * 0.35 * (1e6 / 300.0) * 1e-3 + 0.0036 + 0.005 + 0.010;
    const dvfs_controller v(p);
    CHECK(v.planned_energy_uj({w}, 1, 0) == Approx(low));
    CHECK(v.planned_energy_uj({w}, 1, 1) == Approx(0.64 + 2.0));
    CHECK(v.choose(inf, 0, {w}, 1).point == 0);  // lowest voltage
    p.choice = point_choice::lowest_energy;
    const dvfs_controller e(p);
    CHECK(e.choose(inf, 0, {w}, 1).point == 1);
    // without leakage the low point wins both ways
    p.leakage_mw_per_v = 0;
    CHECK(dvfs_controller(p).choose(inf, 0, {w}, 1).point == 0);
}

TEST_CASE("energy at the load and at the LDO input", "[hw_options][ldo]") {
    hw_params p;
    p.buffer.leakage_mw_per_mib = 0;
    work_cost w;
    w.pu_cycles = 1e6;
    w.traffic.sram_read_bits = 1e6;  // off the rail: no regulator loss
    const energy_breakdown e = price(p, w, {0.5, 404.8}, 10.0);
    const double rail = 0.25 * 4.7 * 1e6 * 1e-6 + 2.5 * 0.5 * 10 * 1e-3;  // clock + logic leakage
    CHECK(e.ldo_loss_uj == Approx(rail * (0.9 / 0.5 - 1)));
    CHECK(e.at_ldo_input_uj() == Approx(e.total_uj() + rail * 0.8));
    CHECK(e.sram_dynamic_uj == Approx(1e6 * 1.128 / 64 * 1e-6));
    p.ldo_input_v = 0.7;  // below the 0.8 V nominal output: an LDO cannot do that
    CHECK_THROWS_WITH(p.validate(), Catch::Contains("dvfs.ldo_input_v"));
}

TEST_CASE("a predictor table whose shape does not fit its key layer is an error naming both", "[hw_options][key_layer]") {
    std::string nine_columns;  // key + 8 predicted layers, as MNLI's layer-3 table
    for (int r = 0; r < 3; ++r) {
        nine_columns += std::to_string(0.01 * r);
        for (int c = 0; c < 8; ++c) nine_columns += ",0.5";
        nine_columns += "\n";
    }
    const auto as_layer1 = exit::exit_predictor::parse_csv(nine_columns, "mnli.csv", 1);
    CHECK_THROWS_WITH(as_layer1.check_shape(12, "mnli.csv"),
                      Catch::Contains("mnli.csv") && Catch::Contains("keyed on layer 1") && Catch::Contains("key layer 3"));
    const auto as_layer3 = exit::exit_predictor::parse_csv(nine_columns, "mnli.csv", 3);
    CHECK_NOTHROW(as_layer3.check_shape(12, "mnli.csv"));
    CHECK(as_layer3.predicted_exit_layer(0.0, 0.6) == 4);  // first predicted layer is 4
}

TEST_CASE("a key layer other than 1: exits on real entropies up to it, the decision after it", "[hw_options][key_layer]") {
    std::string table;
    for (int r = 0; r < 100; ++r) {
        table += std::to_string(0.01 * r);
        for (int c = 0; c < 8; ++c) table += c < 2 ? ",0.9" : ",0.1";  // predicted exit: layer 6 at T = 0.5
        table += "\n";
    }
    exit::predictor_policy pp;
    pp.lut = exit::exit_predictor::parse_csv(table, "t.csv", 3);
    pp.threshold = 0.5;
    hw_params p;
    p.controller = dvfs_policy::ideal;
    const sentence_costs s = cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 12));
    energy_reporter r(p, entropy(0.5), pp, energy_options{});
    CHECK(r.key_layer() == 3);
    std::vector<double> h(12, 0.9);
    const sentence_energy e = r.price(s, h.data());
    CHECK(e.predicted_layer == 6);
    CHECK(e.edgebert.exit_layer == 6);
    h[1] = 0.2;  // below T at layer 2: leaves before the key layer
    const sentence_energy early = r.price(s, h.data());
    CHECK(early.edgebert.exit_layer == 2);
    CHECK(early.planned_layer == 0);
}

TEST_CASE("per-unit breakdown adds up; TOPS/W and power", "[hw_options][units]") {
    const hw_params p;
    const sentence_costs s = cost_sentence(cycle_model{p}, build_trace(albert_shape{}, 12));
    const auto prof = profile_points(p, s);
    REQUIRE(prof.size() == p.points.size());
    for (const auto& q : prof) {
        CHECK(q.power_mw == Approx(q.energy_uj / q.latency_ms));
        CHECK(q.energy_at_ldo_input_uj > q.energy_uj);
    }
    // 2 x 12 layers x 931,135,488 MACs + embedding projection and head, over the all-layers energy
    energy_breakdown e;
    for (const auto& w : s.layers) e += price(p, w, p.points.nominal(), w.time_us(1000));
    CHECK(e.total_uj() == Approx(e.mac_uj + e.sfu_uj + e.clock_uj + e.logic_leakage_uj + e.buffer_dynamic_uj + e.sram_dynamic_uj +
                                 e.reram_dynamic_uj + e.buffer_leakage_uj + e.sram_leakage_uj + e.reram_leakage_uj));
    CHECK(e.sram_leakage_uj == 0);  // not charged by default
}

TEST_CASE("nothing labelled read without a location; every parameter has a label", "[hw_options][provenance]") {
    const std::regex location(R"(([A-Za-z_./]+\.(h|cpp|csv|md)|Makefile):\d+|figure images/)");
    std::set<std::string> keys;
    for (const provenance_entry& e : provenance()) {
        keys.insert(e.key);
        if (e.kind == source_kind::read) CHECK(std::regex_search(e.source, location));
        CHECK_FALSE(e.source.empty());
    }
    // every second-level key of the JSON form (datapath.n, sfu.softmax, memory.sram, ...) has an entry
    const auto j = hw_params{}.to_json();
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.value().is_object()) {
            CHECK(keys.count(it.key()));
            continue;
        }
        for (auto jt = it.value().begin(); jt != it.value().end(); ++jt) {
            const std::string k = it.key() + "." + jt.key();
            INFO(k);
            CHECK(keys.count(k));
        }
    }
}

TEST_CASE("adapter-ALBERT memory: leakage and area from the per-MiB figures", "[hw_options][adapter_memory]") {
    adapter_memory_config c;
    c.shape.sparsity = 0.5, c.shape.embedding_sparsity = 0.6, c.tasks = 8;
    const hw_params p;
    const adapter_memory_report r = map_adapter_albert(c, p);
    const double mib = 1048576.0;
    CHECK(r.adapter.sram_leakage_mw == Approx(r.adapter_sram_bytes / mib * 56.345 / 2));
    CHECK(r.adapter.reram_area_mm2 == Approx(r.adapter_reram_bytes / mib * 0.44250725799999996 / 2));
    CHECK(r.separate.reram_bytes == Approx(r.separate_reram_bytes));
    // separate models keep only the embeddings in ReRAM: the word table (60 % sparse) and dense position/type rows
    CHECK(r.separate_reram_bytes == Approx((3840000.0 + 1536000 * 8 + (512 + 2 + 2) * 128 * 8) / 8));
    CHECK(r.separate.power_mw(0) == Approx(r.separate.leakage_mw()));
    c.separate_embeddings_in_reram = false;
    const adapter_memory_report all_sram = map_adapter_albert(c, p);
    CHECK(all_sram.separate_reram_bytes == 0);
    CHECK(all_sram.separate.sram_bytes == Approx(r.separate.sram_bytes + 8 * r.separate_reram_bytes));
    // at eight tasks the shared backbone in ReRAM leaks less than eight encoders in SRAM
    CHECK(r.adapter.leakage_mw() < r.separate.leakage_mw());
}
