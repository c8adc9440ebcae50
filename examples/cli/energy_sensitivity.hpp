// SPDX-License-Identifier: Apache-2.0
#pragma once
// `edgebert energy --sensitivity`: the headline ratios (a)/(c) and (b)/(c) re-priced under each modelling
// assumption that moves them, one at a time from the defaults and then in the combination that reaches the
// abstract's figures, printed as a Markdown table (docs/hw.md carries it).

#include <cstdio>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <edgebert/exit/entropy_trace.hpp>
#include <edgebert/exit/policy.hpp>
#include <edgebert/exit/predictor.hpp>
#include <edgebert/hw/energy_report.hpp>
#include <edgebert/hw/trace_builder.hpp>

namespace edgebert_cli {

struct sensitivity_case {
    std::string name;
    edgebert::hw::hw_params params;
    edgebert::exit::entropy_threshold early_exit;
    edgebert::exit::trace_policy edgebert;
    edgebert::hw::energy_options options;
};

inline void print_sensitivity(std::ostream& out, const edgebert::hw::hw_params& base, const edgebert::exit::entropy_threshold& ee,
                              const edgebert::exit::trace_policy& eb, const edgebert::hw::energy_options& opt,
                              const edgebert::hw::albert_shape& shape, const edgebert::exit::entropy_traces& traces) {
    namespace hw = edgebert::hw;
    namespace ex = edgebert::exit;
    std::vector<sensitivity_case> cases;
    auto add = [&](const std::string& name, const std::function<void(sensitivity_case&)>& change) {
        sensitivity_case c{name, base, ee, eb, opt};
        change(c);
        cases.push_back(c);
    };
    auto thresholds = [](sensitivity_case& c, double ep, double eet) {
        c.early_exit.thresholds = {eet};
        if (auto* p = std::get_if<ex::predictor_policy>(&c.edgebert)) p->threshold = ep;
        else if (auto* t = std::get_if<ex::entropy_threshold>(&c.edgebert)) t->thresholds = {ep};
    };
    auto no_leakage = [](hw::hw_params& p) {
        p.leakage_mw_per_v = 0, p.buffer.leakage_mw_per_mib = 0, p.sram.leakage_mw_per_mib = 0, p.reram.leakage_mw_per_mib = 0;
    };
    auto all_on_rail = [](hw::hw_params& p) { p.buffer.on_dvfs_rail = p.sram.on_dvfs_rail = p.reram.on_dvfs_rail = true; };
    auto range_05_09 = [](hw::hw_params& p) { p.points = hw::alpha_power_table(0.50, 0.90, 0.05, 0.80, 1000.0, 0.30, 1.5); };

    add("defaults (sourced; entropy LUT, stay, sequential fetch, lowest voltage)", [](sensitivity_case&) {});
    add("controller: ideal (per-sentence) instead of the 16-bin LUT", [](sensitivity_case& c) { c.params.controller = hw::dvfs_policy::ideal; });
    add("choice: lowest-energy feasible point", [](sensitivity_case& c) { c.params.choice = hw::point_choice::lowest_energy; });
    add("between sentences: return to nominal", [](sensitivity_case& c) { c.params.between = hw::between_sentences::nominal; });
    add("between sentences: stay, one sentence per 250 ms (idle leakage)", [](sensitivity_case& c) { c.params.sentence_period_ms = 250; });
    add("between sentences: power-gate, one sentence per 250 ms", [](sensitivity_case& c) {
        c.params.sentence_period_ms = 250, c.params.between = hw::between_sentences::power_gate;
    });
    add("weight fetch overlapped with compute (double-buffered)", [](sensitivity_case& c) { c.params.fetch = hw::weight_fetch::overlapped; });
    add("zero gating on the weight vector only", [](sensitivity_case& c) { c.params.gating = hw::zero_gating::weight_vector; });
    add("leakage x 0 (logic and every memory)", [&](sensitivity_case& c) { no_leakage(c.params); });
    add("logic leakage x 4 (8 mW at 0.8 V)", [](sensitivity_case& c) { c.params.leakage_mw_per_v *= 4; });
    add("SRAM and ReRAM leakage charged to the sentence", [](sensitivity_case& c) { c.params.charge_backing_leakage = true; });
    add("every memory on the DVFS rail", [&](sensitivity_case& c) { all_on_rail(c.params); });
    add("V range 0.50-0.90 V (nominal 0.9 V)", [&](sensitivity_case& c) { range_05_09(c.params); });
    add("V range 0.35-0.80 V", [](sensitivity_case& c) { c.params.points = hw::alpha_power_table(0.35, 0.80, 0.05, 0.80, 1000.0, 0.30, 1.5); });
    add("V range 0.35-0.80 V, lowest-energy choice", [](sensitivity_case& c) {
        c.params.points = hw::alpha_power_table(0.35, 0.80, 0.05, 0.80, 1000.0, 0.30, 1.5);
        c.params.choice = hw::point_choice::lowest_energy;
    });
    add("no DVFS (one operating point): the predictor's forced exits alone", [](sensitivity_case& c) {
        c.params.points.points = {c.params.points.nominal()};
    });
    add("thresholds: EP 0.16 / EE 0.28 (the scripts' pair)", [&](sensitivity_case& c) { thresholds(c, 0.16, 0.28); });
    add("thresholds: EP 0.28 / EE 0.28", [&](sensitivity_case& c) { thresholds(c, 0.28, 0.28); });
    add("thresholds: EP 0.46 / EE 0.46", [&](sensitivity_case& c) { thresholds(c, 0.46, 0.46); });
    add("leakage x 0 + every memory on the rail", [&](sensitivity_case& c) { no_leakage(c.params), all_on_rail(c.params); });
    add("leakage x 0 + every memory on the rail + 0.50-0.90 V", [&](sensitivity_case& c) {
        no_leakage(c.params), all_on_rail(c.params), range_05_09(c.params);
    });
    add("leakage x 0 + rail + 0.50-0.90 V + ideal controller + overlapped fetch", [&](sensitivity_case& c) {
        no_leakage(c.params), all_on_rail(c.params), range_05_09(c.params);
        c.params.controller = hw::dvfs_policy::ideal, c.params.fetch = hw::weight_fetch::overlapped;
    });

    out << "| assumption | (a) uJ | (b) uJ | (c) uJ | (a)/(c) | (b)/(c) | (a)/(c) at LDO in | (b)/(c) at LDO in | (c) mean exit | (c) misses |\n"
        << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (sensitivity_case& c : cases) {
        c.params.validate();
        const hw::cycle_model cycles(c.params);
        const hw::sentence_costs costs = hw::cost_sentence(cycles, hw::build_trace(shape, shape.layers));
        hw::energy_reporter r(c.params, c.early_exit, c.edgebert, c.options);
        const hw::energy_summary s = r.summarize(hw::price_sequence(r, costs, traces));
        char line[512];
        std::snprintf(line, sizeof line, "| %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %zu |\n", c.name.c_str(),
                      s.all_layers.energy.total_uj(), s.early_exit.energy.total_uj(), s.edgebert.energy.total_uj(), s.ratio_all_layers,
                      s.ratio_early_exit, s.ratio_all_layers_ldo_input, s.ratio_early_exit_ldo_input, s.edgebert.mean_exit_layer,
                      s.edgebert.deadline_misses);
        out << line;
    }
}

}  // namespace edgebert_cli
