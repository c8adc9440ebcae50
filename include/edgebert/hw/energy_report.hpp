// SPDX-License-Identifier: Apache-2.0
#pragma once
// Prices sentences on the accelerator three ways, side by side (DESIGN.md §6):
//   (a) all_layers_nominal  every layer and the final classifier at the nominal point;
//   (b) early_exit_nominal  early exit (an entropy threshold) at the nominal point, latency unbounded;
//   (c) edgebert_dvfs       EdgeBERT: the predicting layer(s) at nominal, then the DVFS controller's point
//                           for the layers up to the predicted exit under the target latency.
// Energy is split into compute, memory and switching; every run records latency and whether it missed
// the target (the unbounded baselines are checked against the same target for comparison).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../exit/evaluate.hpp"
#include "../trace/work_trace.hpp"
#include "cycle_model.hpp"
#include "dvfs.hpp"
#include "energy_model.hpp"
#include "hw_params.hpp"

namespace edgebert::hw {

/// The clock-independent cost of each segment of one sentence's complete run (all layers).
struct sentence_costs {
    work_cost embedding;
    std::vector<work_cost> layers;  ///< layer i+1, with its off-ramp (the last layer: without)
    work_cost head;                 ///< final pooler and classifier
};

/// `full` must hold every layer of the model (build_trace(shape, layers) or extend_to_all_layers()).
inline sentence_costs cost_sentence(const cycle_model& m, const model::inference_trace& full) {
    if (full.layers.empty() || full.layers.size() != full.layers_total)
        throw input_error("cost_sentence: the trace has " + std::to_string(full.layers.size()) + " of " +
                          std::to_string(full.layers_total) + " layers; complete it with extend_to_all_layers()");
    sentence_costs s;
    s.embedding = m.embedding(full);
    for (const model::layer_work& w : full.layers) s.layers.push_back(m.layer(w));
    s.head = m.head(full);
    return s;
}

struct energy_options {
    double target_ms = std::numeric_limits<double>::infinity();
    misprediction on_mispredict = misprediction::forced_exit;
};

/// One sentence under one of the three schemes.
struct run_result {
    energy_breakdown energy;
    double latency_ms = 0;
    std::size_t exit_layer = 0;
    bool deadline_miss = false;
    double voltage_v = 0, freq_mhz = 0;  ///< the point after the DVFS decision (nominal for (a), (b))
    std::size_t point = 0;               ///< its index in the table
    std::size_t switches = 0;            ///< V/f transitions, the return to nominal after the sentence included
};

struct sentence_energy {
    run_result all_layers, early_exit, edgebert;
    std::size_t predicted_layer = 0;  ///< the predictor's layer (0: left before predicting, or no predictor)
    std::size_t planned_layer = 0;    ///< the layer the controller budgeted up to (0: no decision)
    bool plan_feasible = true;        ///< the controller found a point meeting the target
    bool overrun = false;             ///< ran past the planned layer (boost / stay, or extra-layer mode)
    double f_required_mhz = 0;
    double nominal_latency_ms = 0;    ///< (c)'s layers all at the nominal point: the fastest it can be
};

struct baseline_summary {
    energy_breakdown energy;  ///< mean per sentence
    double latency_ms_mean = 0, latency_ms_max = 0;
    std::size_t deadline_misses = 0;
    double mean_exit_layer = 0;
    std::vector<std::size_t> histogram;  ///< sentences per exit layer (index 0 = layer 1)
};

struct energy_summary {
    std::size_t sentences = 0;
    double target_ms = 0;
    baseline_summary all_layers, early_exit, edgebert;
    double ratio_all_layers = 0;  ///< (a) / (c) energy per sentence
    double ratio_early_exit = 0;  ///< (b) / (c)
    std::vector<std::size_t> point_histogram;  ///< (c): sentences per operating point after the decision
    std::size_t infeasible_plans = 0, overruns = 0;
    std::size_t unreachable = 0;  ///< sentences whose (c) latency at the nominal point already exceeds the target
    std::string note;
};

class energy_reporter {
public:
    /// early_exit: the policy of baseline (b); edgebert: the policy of (c) (a predictor_policy plans up to its
    /// predicted layer; any other policy gives no prediction, so the controller plans for every layer).
    energy_reporter(hw_params p, exit::trace_policy early_exit, exit::trace_policy edgebert, energy_options o = {})
        : p_(std::move(p)), dvfs_(p_), ee_(std::move(early_exit)), eb_(std::move(edgebert)), o_(o) {
        p_.validate();
        if (std::isnan(o_.target_ms) || !(o_.target_ms > 0)) throw config_error("target latency must be positive (ms)");
    }
    const hw_params& params() const noexcept { return p_; }
    const energy_options& options() const noexcept { return o_; }

    /// entropies: one per layer (layers_total values), as recorded or as the model computed them.
    sentence_energy price(const sentence_costs& s, const double* entropies) const {
        const std::size_t L = s.layers.size();
        if (L == 0) throw input_error("price: a sentence without layers");
        for (std::size_t i = 0; i < L; ++i)
            if (!(entropies[i] >= 0) || !std::isfinite(entropies[i]))
                throw input_error("price: entropy of layer " + std::to_string(i + 1) + " is not a finite non-negative number");
        const std::size_t nom = p_.points.nominal_index();
        sentence_energy r;
        r.all_layers = run_at_nominal(s, L);
        r.early_exit = run_at_nominal(s, std::visit([&](const auto& pol) { return exit::first_exit_layer(pol, entropies, L); }, ee_));

        // (c) EdgeBERT
        const auto* pred = std::get_if<exit::predictor_policy>(&eb_);
        const std::size_t p = pred ? pred->lut.predict_layer() : 1;
        if (pred && p + pred->lut.predicted_layers() > L)
            throw config_error("the predictor table predicts up to layer " + std::to_string(p + pred->lut.predicted_layers()) +
                               ", the model has " + std::to_string(L));
        const std::size_t forced_exit = std::visit([&](const auto& pol) { return exit::first_exit_layer(pol, entropies, L); }, eb_);
        run_result& c = r.edgebert;
        double elapsed = 0;
        std::size_t cur = nom;
        auto run = [&](const work_cost& w, std::size_t point) {
            const operating_point& op = p_.points[point];
            const double t = w.time_us(op.freq_mhz);
            c.energy += price_at(w, op, t);
            elapsed += t;
        };
        auto change = [&](std::size_t to, bool stall) {
            if (to == cur) return;
            const double v0 = p_.points[cur].voltage_v, v1 = p_.points[to].voltage_v;
            c.energy.switching_uj += p_.switch_energy_nj(v0, v1) * 1e-3;
            if (stall) {
                c.energy.compute_leakage_uj += p_.leakage_mw_per_v * std::max(v0, v1) * p_.switch_time_us() * 1e-3;
                c.energy.memory_leakage_uj +=
                    (leakage_power_mw(p_, std::max(v0, v1)) - p_.leakage_mw_per_v * std::max(v0, v1)) * p_.switch_time_us() * 1e-3;
                elapsed += p_.switch_time_us();
            }
            ++c.switches;
            cur = to;
        };
        run(s.embedding, nom);
        const std::size_t first = std::min(p, L);
        for (std::size_t i = 0; i < first; ++i) run(s.layers[i], nom);
        std::size_t exit_layer = forced_exit;
        if (forced_exit > first) {
            r.predicted_layer = pred ? pred->lut.predicted_exit_layer(entropies[p - 1], pred->threshold) : 0;
            // EdgeBERT's code makes no exit checks after layer L-2: a later prediction runs to the end.
            r.planned_layer = pred ? (r.predicted_layer + 2 > L ? L : r.predicted_layer) : L;
            if (o_.on_mispredict != misprediction::forced_exit && pred) {
                exit::entropy_threshold plain;
                plain.thresholds = {pred->threshold};
                exit_layer = exit::first_exit_layer(plain, entropies, L);
            }
            work_cost decide;
            decide.control_cycles = double(p_.dvfs_unit_cycles);
            run(decide, nom);
            const std::vector<work_cost> remaining(r.planned_layer - first, s.layers[first - 1]);
            const dvfs_choice ch = dvfs_.choose(o_.target_ms * 1e3, elapsed, remaining, nom);
            r.plan_feasible = ch.feasible;
            r.f_required_mhz = ch.f_required_mhz;
            change(ch.point, true);
            c.point = cur;
            for (std::size_t i = first; i < exit_layer; ++i) {
                if (i + 1 > r.planned_layer) {
                    r.overrun = true;
                    if (o_.on_mispredict == misprediction::boost) change(nom, true);
                }
                run(s.layers[i], cur);
            }
        } else {
            c.point = nom;
        }
        if (exit_layer == L) run(s.head, cur);
        c.latency_ms = elapsed * 1e-3;
        change(nom, false);  // back to nominal for the next sentence's first layer (off the critical path)
        c.exit_layer = exit_layer;
        c.voltage_v = p_.points[c.point].voltage_v;
        c.freq_mhz = p_.points[c.point].freq_mhz;
        c.deadline_miss = c.latency_ms > o_.target_ms;
        r.nominal_latency_ms = run_at_nominal(s, exit_layer).latency_ms;
        if (exit_layer > first) r.nominal_latency_ms += double(p_.dvfs_unit_cycles) / p_.points.nominal().freq_mhz * 1e-3;
        return r;
    }

    energy_summary summarize(const std::vector<sentence_energy>& v) const {
        energy_summary s;
        s.sentences = v.size();
        s.target_ms = o_.target_ms;
        s.point_histogram.assign(p_.points.size(), 0);
        const std::size_t L = v.empty() ? 0 : std::max({max_exit(v, &sentence_energy::all_layers), std::size_t(1)});
        for (baseline_summary* b : {&s.all_layers, &s.early_exit, &s.edgebert}) b->histogram.assign(L, 0);
        auto add = [&](baseline_summary& b, const run_result& x) {
            b.energy += x.energy;
            b.latency_ms_mean += x.latency_ms;
            b.latency_ms_max = std::max(b.latency_ms_max, x.latency_ms);
            b.deadline_misses += x.deadline_miss;
            b.mean_exit_layer += double(x.exit_layer);
            if (x.exit_layer >= 1 && x.exit_layer <= L) ++b.histogram[x.exit_layer - 1];
        };
        for (const sentence_energy& e : v) {
            add(s.all_layers, e.all_layers);
            add(s.early_exit, e.early_exit);
            add(s.edgebert, e.edgebert);
            ++s.point_histogram[e.edgebert.point];
            s.infeasible_plans += !e.plan_feasible;
            s.overruns += e.overrun;
            s.unreachable += e.nominal_latency_ms > o_.target_ms;
        }
        if (!v.empty()) {
            const double k = 1.0 / double(v.size());
            for (baseline_summary* b : {&s.all_layers, &s.early_exit, &s.edgebert}) {
                b->energy = b->energy.scaled(k);
                b->latency_ms_mean *= k;
                b->mean_exit_layer *= k;
            }
            const double c = s.edgebert.energy.total_uj();
            s.ratio_all_layers = c > 0 ? s.all_layers.energy.total_uj() / c : 0;
            s.ratio_early_exit = c > 0 ? s.early_exit.energy.total_uj() / c : 0;
        }
        if (!v.empty() && s.unreachable == v.size())
            s.note = "the target is below the nominal-speed latency of every sentence: every sentence misses it";
        else if (s.unreachable)
            s.note = std::to_string(s.unreachable) + " sentences cannot meet the target even at the nominal point";
        return s;
    }

private:
    static std::size_t max_exit(const std::vector<sentence_energy>& v, run_result sentence_energy::*m) {
        std::size_t x = 0;
        for (const auto& e : v) x = std::max(x, (e.*m).exit_layer);
        return x;
    }

    energy_breakdown price_at(const work_cost& w, const operating_point& op, double t_us) const { return hw::price(p_, w, op, t_us); }

    run_result run_at_nominal(const sentence_costs& s, std::size_t exit_layer) const {
        run_result r;
        const std::size_t nom = p_.points.nominal_index();
        const operating_point& op = p_.points[nom];
        double t = 0;
        auto run = [&](const work_cost& w) {
            const double dt = w.time_us(op.freq_mhz);
            r.energy += price_at(w, op, dt);
            t += dt;
        };
        run(s.embedding);
        for (std::size_t i = 0; i < exit_layer; ++i) run(s.layers[i]);
        if (exit_layer == s.layers.size()) run(s.head);
        r.latency_ms = t * 1e-3;
        r.exit_layer = exit_layer;
        r.point = nom;
        r.voltage_v = op.voltage_v;
        r.freq_mhz = op.freq_mhz;
        r.deadline_miss = r.latency_ms > o_.target_ms;
        return r;
    }

    hw_params p_;
    dvfs_controller dvfs_;
    exit::trace_policy ee_, eb_;
    energy_options o_;
};

// --- JSON --------------------------------------------------------------------------------------------

inline nlohmann::ordered_json to_json(const energy_breakdown& e) {
    return {{"total_uj", e.total_uj()},
            {"compute_uj", e.compute_uj()},
            {"memory_uj", e.memory_uj()},
            {"switching_uj", e.switching_uj},
            {"compute_dynamic_uj", e.compute_dynamic_uj},
            {"compute_leakage_uj", e.compute_leakage_uj},
            {"memory_dynamic_uj", e.memory_dynamic_uj},
            {"memory_leakage_uj", e.memory_leakage_uj}};
}

inline nlohmann::ordered_json to_json(const run_result& r) {
    return {{"energy_uj", r.energy.total_uj()}, {"energy", to_json(r.energy)}, {"latency_ms", r.latency_ms},
            {"exit_layer", r.exit_layer},       {"deadline_miss", r.deadline_miss}, {"voltage_v", r.voltage_v},
            {"freq_mhz", r.freq_mhz},           {"switches", r.switches}};
}

inline nlohmann::ordered_json to_json(const sentence_energy& s) {
    nlohmann::ordered_json j{{"all_layers_nominal", to_json(s.all_layers)},
                             {"early_exit_nominal", to_json(s.early_exit)},
                             {"edgebert_dvfs", to_json(s.edgebert)},
                             {"predicted_layer", s.predicted_layer},
                             {"planned_layer", s.planned_layer},
                             {"plan_feasible", s.plan_feasible},
                             {"overrun", s.overrun},
                             {"nominal_latency_ms", s.nominal_latency_ms}};
    j["f_required_mhz"] = std::isfinite(s.f_required_mhz) ? nlohmann::ordered_json(s.f_required_mhz) : nlohmann::ordered_json(nullptr);
    return j;
}

inline nlohmann::ordered_json to_json(const baseline_summary& b) {
    return {{"energy_uj_per_sentence", b.energy.total_uj()},
            {"compute_uj_per_sentence", b.energy.compute_uj()},
            {"memory_uj_per_sentence", b.energy.memory_uj()},
            {"switching_uj_per_sentence", b.energy.switching_uj},
            {"energy", to_json(b.energy)},
            {"latency_ms_mean", b.latency_ms_mean},
            {"latency_ms_max", b.latency_ms_max},
            {"deadline_misses", b.deadline_misses},
            {"mean_exit_layer", b.mean_exit_layer},
            {"histogram", b.histogram}};
}

inline nlohmann::ordered_json to_json(const energy_summary& s, const hw_params& p) {
    nlohmann::ordered_json pts = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < p.points.size(); ++i)
        pts.push_back({{"voltage_v", p.points[i].voltage_v}, {"freq_mhz", p.points[i].freq_mhz},
                       {"sentences", i < s.point_histogram.size() ? s.point_histogram[i] : 0}});
    nlohmann::ordered_json j;
    j["sentences"] = s.sentences;
    j["target_ms"] = std::isfinite(s.target_ms) ? nlohmann::ordered_json(s.target_ms) : nlohmann::ordered_json("inf");
    j["baselines"] = {{"all_layers_nominal", to_json(s.all_layers)},
                      {"early_exit_nominal", to_json(s.early_exit)},
                      {"edgebert_dvfs", to_json(s.edgebert)}};
    j["ratios"] = {{"all_layers_over_edgebert", s.ratio_all_layers}, {"early_exit_over_edgebert", s.ratio_early_exit}};
    j["edgebert_operating_points"] = pts;
    j["infeasible_plans"] = s.infeasible_plans;
    j["overruns"] = s.overruns;
    j["unreachable_sentences"] = s.unreachable;
    if (!s.note.empty()) j["note"] = s.note;
    return j;
}

}  // namespace edgebert::hw
