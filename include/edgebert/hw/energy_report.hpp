// SPDX-License-Identifier: Apache-2.0
#pragma once
// Prices sentences on the accelerator three ways, side by side (DESIGN.md §6):
//   (a) all_layers_nominal  every layer and the final classifier at the nominal point;
//   (b) early_exit_nominal  early exit (an entropy threshold) at the nominal point, latency unbounded;
//   (c) edgebert_dvfs       EdgeBERT: the layers up to the key layer (the predictor's, 1 or 3) at the point the
//                           supply holds (nominal, or the previous sentence's with between_sentences::stay),
//                           then the DVFS decision (the hardware's 16-bin entropy LUT or the ideal
//                           controller) for the layers up to the predicted exit under the target latency.
// Energy is split into compute, memory and switching; every run records latency and whether it missed
// the target (the unbounded baselines are checked against the same target for comparison).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
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
    std::size_t labels = 2;         ///< classes of the off-ramps (the largest entropy is ln labels)
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
    for (const model::layer_work& w : full.layers) s.labels = std::max(s.labels, w.entropy_labels);
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
    std::size_t switches = 0;            ///< V/f transitions (a return to nominal after the sentence included)
    double macs = 0, macs_executed = 0;  ///< the products' multiply-accumulates (dense count) and those not gated
};

struct sentence_energy {
    run_result all_layers, early_exit, edgebert;
    std::size_t predicted_layer = 0;  ///< the predictor's layer (0: left before predicting, or no predictor)
    std::size_t planned_layer = 0;    ///< the layer the controller budgeted up to (0: no decision)
    bool plan_feasible = true;        ///< the controller found a point meeting the target
    bool overrun = false;             ///< ran past the planned layer (boost / stay, or extra-layer mode)
    double f_required_mhz = 0;
    double nominal_latency_ms = 0;    ///< (c)'s layers all at the nominal point: the fastest it can be
    std::size_t start_point = 0;      ///< (c)'s point when the sentence started (the previous one's, with `stay`)
    std::size_t end_point = 0;        ///< (c)'s point when the next sentence starts
    std::size_t lut_bin = 0;          ///< the entropy bin (entropy_lut controller; 0 otherwise)
};

struct baseline_summary {
    energy_breakdown energy;  ///< mean per sentence
    double latency_ms_mean = 0, latency_ms_max = 0;
    std::size_t deadline_misses = 0;
    double mean_exit_layer = 0;
    double macs_mean = 0, macs_executed_mean = 0;
    std::vector<std::size_t> histogram;  ///< sentences per exit layer (index 0 = layer 1)
    /// Mean power while running (mW): energy / latency, both per sentence.
    double power_mw() const noexcept { return latency_ms_mean > 0 ? energy.total_uj() / latency_ms_mean : 0; }
    /// Dense-equivalent operations (2 per MAC, gated ones included) per joule, in TOPS/W, at the load.
    double tops_per_w() const noexcept { return energy.total_uj() > 0 ? 2 * macs_mean / (energy.total_uj() * 1e-6) * 1e-12 : 0; }
};

struct energy_summary {
    std::size_t sentences = 0;
    double target_ms = 0;
    baseline_summary all_layers, early_exit, edgebert;
    double ratio_all_layers = 0;  ///< (a) / (c) energy per sentence at the load
    double ratio_early_exit = 0;  ///< (b) / (c)
    double ratio_all_layers_ldo_input = 0, ratio_early_exit_ldo_input = 0;  ///< the same at the LDO's input
    std::vector<std::size_t> point_histogram;  ///< (c): sentences per operating point after the decision
    std::vector<std::size_t> bin_histogram;    ///< (c) with the entropy LUT: sentences per bin (16)
    std::size_t infeasible_plans = 0, overruns = 0;
    std::size_t unreachable = 0;  ///< sentences whose (c) latency at the nominal point already exceeds the target
    std::string note;
};

class energy_reporter {
public:
    /// early_exit: the policy of baseline (b); edgebert: the policy of (c) (a predictor_policy plans up to its
    /// predicted layer; any other policy gives no prediction, so the controller plans for every layer).
    /// `costs` (optional) programs the entropy LUT's bins for sentences of that shape; without it the LUT is
    /// programmed on the first sentence priced.
    energy_reporter(hw_params p, exit::trace_policy early_exit, exit::trace_policy edgebert, energy_options o = {})
        : p_(std::move(p)), dvfs_(p_), ee_(std::move(early_exit)), eb_(std::move(edgebert)), o_(o) {
        p_.validate();
        if (std::isnan(o_.target_ms) || !(o_.target_ms > 0)) throw config_error("target latency must be positive (ms)");
    }
    const hw_params& params() const noexcept { return p_; }
    const energy_options& options() const noexcept { return o_; }

    /// The layer whose entropy keys the DVFS decision: the predictor's key layer, or 1 without a predictor.
    std::size_t key_layer() const noexcept {
        const auto* pred = std::get_if<exit::predictor_policy>(&eb_);
        return pred ? pred->lut.predict_layer() : 1;
    }

    /// Program the 16 bins for sentences costing `s` (see dvfs.hpp): each bin gets the controller's point for
    /// the latest exit the predictor gives for any entropy in the bin, the key layers run at nominal. With
    /// between_sentences::stay the key layers run at whatever point the previous sentence left, so a second
    /// pass programs every bin as if they had run at the slowest point the first pass programmed (the codes
    /// can only rise, so that start is never slower than any real one: every bin stays feasible).
    entropy_lut program_lut(const sentence_costs& s, std::size_t labels) const {
        const std::size_t L = s.layers.size(), p = std::min(key_layer(), L), nom = p_.points.nominal_index();
        const auto* pred = std::get_if<exit::predictor_policy>(&eb_);
        entropy_lut lut;
        lut.planned.fill(0);
        // Every fixed-point entropy a sentence of `labels` classes can produce (H <= ln C).
        const int top = std::min(entropy_lut::max_fixed, entropy_lut::to_fixed(std::log(double(std::max<std::size_t>(labels, 2)))) + 1);
        for (int v = 0; v <= top; ++v) {
            const double h = double(v) / double(1 << entropy_lut::frac_bits);
            const std::size_t b = entropy_lut::bin_of(h, p_.enpy_scale);
            std::size_t planned = L;
            if (pred) {
                const std::size_t e = pred->lut.predicted_exit_layer(h, pred->threshold);
                planned = e + 2 > L ? L : e;
            }
            lut.planned[b] = std::max(lut.planned[b], planned);
        }
        std::size_t start = nom;
        for (int pass = 0; pass < 2; ++pass) {
            const double f = p_.points[start].freq_mhz;
            double elapsed = s.embedding.time_us(f) + double(p_.dvfs_unit_cycles) / f;
            for (std::size_t i = 0; i < p; ++i) elapsed += s.layers[i].time_us(f);
            std::size_t lowest = nom;
            for (std::size_t b = 0; b < entropy_lut::bins; ++b) {
                if (lut.planned[b] == 0) {  // unreachable for this label count: program the nominal point
                    lut.point[b] = nom;
                    continue;
                }
                const std::vector<work_cost> remaining(lut.planned[b] > p ? lut.planned[b] - p : 0, s.layers[p - 1]);
                lut.point[b] = dvfs_.choose(o_.target_ms * 1e3, elapsed, remaining, start).point;
                lowest = std::min(lowest, lut.point[b]);
            }
            if (p_.between != between_sentences::stay || lowest == start) break;
            start = lowest;
        }
        return lut;
    }
    void set_lut(const entropy_lut& lut) { lut_ = lut; }
    const std::optional<entropy_lut>& lut() const noexcept { return lut_; }

    /// The point the accelerator holds before the first sentence: the nominal one [assumed: what the reset
    /// codes of Control.h:262-263 (DCO 63, LDO 0) produce is not documented].
    std::size_t initial_point() const noexcept { return p_.points.nominal_index(); }

    /// entropies: one per layer (layers_total values), as recorded or as the model computed them. The first
    /// sentence of a run (or every sentence when the supply returns to nominal in between).
    sentence_energy price(const sentence_costs& s, const double* entropies) const { return price(s, entropies, initial_point()); }

    /// The same, starting (c) at `start_point` (the previous sentence's end_point with between_sentences::stay).
    sentence_energy price(const sentence_costs& s, const double* entropies, std::size_t start_point) const {
        const std::size_t L = s.layers.size();
        if (L == 0) throw input_error("price: a sentence without layers");
        if (start_point >= p_.points.size()) throw config_error("price: start point " + std::to_string(start_point) + " is not in the table");
        for (std::size_t i = 0; i < L; ++i)
            if (!(entropies[i] >= 0) || !std::isfinite(entropies[i]))
                throw input_error("price: entropy of layer " + std::to_string(i + 1) + " is not a finite non-negative number");
        const std::size_t nom = p_.points.nominal_index();
        sentence_energy r;
        r.start_point = start_point;
        r.all_layers = run_at_nominal(s, L);
        r.early_exit = run_at_nominal(s, std::visit([&](const auto& pol) { return exit::first_exit_layer(pol, entropies, L); }, ee_));

        // (c) EdgeBERT
        const auto* pred = std::get_if<exit::predictor_policy>(&eb_);
        const std::size_t p = key_layer();
        if (pred && p + pred->lut.predicted_layers() > L)
            throw config_error("the predictor table predicts up to layer " + std::to_string(p + pred->lut.predicted_layers()) +
                               ", the model has " + std::to_string(L));
        const std::size_t forced_exit = std::visit([&](const auto& pol) { return exit::first_exit_layer(pol, entropies, L); }, eb_);
        run_result& c = r.edgebert;
        double elapsed = 0;
        std::size_t cur = start_point;
        auto run = [&](const work_cost& w, std::size_t point) {
            const operating_point& op = p_.points[point];
            const double t = w.time_us(op.freq_mhz);
            c.energy += hw::price(p_, w, op, t);
            c.macs += w.macs, c.macs_executed += w.macs_executed;
            elapsed += t;
        };
        auto change = [&](std::size_t to, bool stall) {
            if (to == cur) return;
            const double v0 = p_.points[cur].voltage_v, v1 = p_.points[to].voltage_v;
            c.energy.ldo_switch_uj += p_.ldo_decap_nf * std::max(v0, v1) * std::fabs(v0 - v1) * 1e-3;
            c.energy.adpll_switch_uj += p_.adpll_power_mw * p_.adpll_relock_us * 1e-3;
            if (stall) {
                add_leakage(p_, c.energy, std::max(v0, v1), p_.switch_time_us());
                elapsed += p_.switch_time_us();
            }
            ++c.switches;
            cur = to;
        };
        run(s.embedding, cur);
        const std::size_t first = std::min(p, L);
        // Up to the key layer the sentence exits on its real entropies (it may leave before the key layer).
        for (std::size_t i = 0; i < std::min(first, forced_exit); ++i) run(s.layers[i], cur);
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
            run(decide, cur);
            const std::vector<work_cost> remaining(r.planned_layer - first, s.layers[first - 1]);
            std::size_t target_point = cur;
            if (p_.controller == dvfs_policy::entropy_lut) {
                const entropy_lut lut = lut_ ? *lut_ : program_lut(s, labels_of(s));
                r.lut_bin = entropy_lut::bin_of(entropies[p - 1], p_.enpy_scale);
                target_point = lut.point[r.lut_bin];
                // The bin's code holds whatever the sentence needs: feasibility is known only afterwards.
                double t = target_point == cur ? 0.0 : p_.switch_time_us();
                for (const work_cost& w : remaining) t += w.time_us(p_.points[target_point].freq_mhz);
                r.plan_feasible = elapsed + t <= o_.target_ms * 1e3;
            } else {
                const dvfs_choice ch = dvfs_.choose(o_.target_ms * 1e3, elapsed, remaining, cur);
                r.plan_feasible = ch.feasible;
                r.f_required_mhz = ch.f_required_mhz;
                target_point = ch.point;
            }
            change(target_point, true);
            c.point = cur;
            for (std::size_t i = first; i < exit_layer; ++i) {
                if (i + 1 > r.planned_layer) {
                    r.overrun = true;
                    if (o_.on_mispredict == misprediction::boost) change(nom, true);
                }
                run(s.layers[i], cur);
            }
        } else {
            c.point = cur;
        }
        if (exit_layer == L) run(s.head, cur);
        c.latency_ms = elapsed * 1e-3;
        if (p_.between == between_sentences::nominal) change(nom, false);  // off the critical path
        add_idle(c, p_.points[cur].voltage_v);
        r.end_point = cur;
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
        s.bin_histogram.assign(entropy_lut::bins, 0);
        const std::size_t L = v.empty() ? 0 : std::max({max_exit(v, &sentence_energy::all_layers), std::size_t(1)});
        for (baseline_summary* b : {&s.all_layers, &s.early_exit, &s.edgebert}) b->histogram.assign(L, 0);
        auto add = [&](baseline_summary& b, const run_result& x) {
            b.energy += x.energy;
            b.latency_ms_mean += x.latency_ms;
            b.latency_ms_max = std::max(b.latency_ms_max, x.latency_ms);
            b.deadline_misses += x.deadline_miss;
            b.mean_exit_layer += double(x.exit_layer);
            b.macs_mean += x.macs, b.macs_executed_mean += x.macs_executed;
            if (x.exit_layer >= 1 && x.exit_layer <= L) ++b.histogram[x.exit_layer - 1];
        };
        for (const sentence_energy& e : v) {
            add(s.all_layers, e.all_layers);
            add(s.early_exit, e.early_exit);
            add(s.edgebert, e.edgebert);
            ++s.point_histogram[e.edgebert.point];
            if (p_.controller == dvfs_policy::entropy_lut && e.planned_layer) ++s.bin_histogram[e.lut_bin];
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
                b->macs_mean *= k, b->macs_executed_mean *= k;
            }
            const double c = s.edgebert.energy.total_uj(), ci = s.edgebert.energy.at_ldo_input_uj();
            s.ratio_all_layers = c > 0 ? s.all_layers.energy.total_uj() / c : 0;
            s.ratio_early_exit = c > 0 ? s.early_exit.energy.total_uj() / c : 0;
            s.ratio_all_layers_ldo_input = ci > 0 ? s.all_layers.energy.at_ldo_input_uj() / ci : 0;
            s.ratio_early_exit_ldo_input = ci > 0 ? s.early_exit.energy.at_ldo_input_uj() / ci : 0;
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
    /// Classes of the off-ramps (the largest entropy a sentence can have is ln of it).
    static std::size_t labels_of(const sentence_costs& s) noexcept { return s.labels; }

    /// Leakage while the accelerator waits for the next sentence of a fixed period, at voltage v.
    void add_idle(run_result& r, double v) const {
        if (!(p_.sentence_period_ms > 0) || p_.between == between_sentences::power_gate) return;
        const double idle_ms = std::max(0.0, p_.sentence_period_ms - r.latency_ms);
        r.energy.idle_uj += leakage_power_mw(p_, v) * idle_ms;  // mW x ms = uJ
    }

    run_result run_at_nominal(const sentence_costs& s, std::size_t exit_layer) const {
        run_result r;
        const std::size_t nom = p_.points.nominal_index();
        const operating_point& op = p_.points[nom];
        double t = 0;
        auto run = [&](const work_cost& w) {
            const double dt = w.time_us(op.freq_mhz);
            r.energy += hw::price(p_, w, op, dt);
            r.macs += w.macs, r.macs_executed += w.macs_executed;
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
        add_idle(r, op.voltage_v);
        return r;
    }

    hw_params p_;
    dvfs_controller dvfs_;
    exit::trace_policy ee_, eb_;
    energy_options o_;
    std::optional<entropy_lut> lut_;
};

/// Every recorded sentence priced in order, all of the same shape `costs`: the entropy LUT programmed once,
/// and with between_sentences::stay each sentence starting where the previous one left the supply.
template <class Traces>
std::vector<sentence_energy> price_sequence(energy_reporter& r, const sentence_costs& costs, const Traces& traces) {
    if (r.params().controller == dvfs_policy::entropy_lut) r.set_lut(r.program_lut(costs, costs.labels));
    std::vector<sentence_energy> out;
    out.reserve(traces.sentences());
    std::size_t point = r.initial_point();
    for (std::size_t i = 0; i < traces.sentences(); ++i) {
        out.push_back(r.price(costs, traces.sentence(i), point));
        point = out.back().end_point;
    }
    return out;
}

/// Average power and efficiency of one all-layers sentence run entirely at each operating point.
struct point_profile {
    double voltage_v = 0, freq_mhz = 0;
    double energy_uj = 0, energy_at_ldo_input_uj = 0, latency_ms = 0;
    double power_mw = 0, tops_per_w = 0;
};
inline std::vector<point_profile> profile_points(const hw_params& p, const sentence_costs& s) {
    std::vector<point_profile> out;
    for (const operating_point& op : p.points.points) {
        energy_breakdown e;
        double t = 0, macs = 0;
        auto run = [&](const work_cost& w) {
            const double dt = w.time_us(op.freq_mhz);
            e += price(p, w, op, dt);
            t += dt, macs += w.macs;
        };
        run(s.embedding);
        for (const work_cost& w : s.layers) run(w);
        run(s.head);
        point_profile q;
        q.voltage_v = op.voltage_v, q.freq_mhz = op.freq_mhz;
        q.energy_uj = e.total_uj(), q.energy_at_ldo_input_uj = e.at_ldo_input_uj(), q.latency_ms = t * 1e-3;
        q.power_mw = q.latency_ms > 0 ? q.energy_uj / q.latency_ms : 0;
        q.tops_per_w = q.energy_uj > 0 ? 2 * macs / (q.energy_uj * 1e-6) * 1e-12 : 0;
        out.push_back(q);
    }
    return out;
}

// --- JSON --------------------------------------------------------------------------------------------

inline nlohmann::ordered_json to_json(const energy_breakdown& e) {
    return {{"total_uj", e.total_uj()},
            {"total_at_ldo_input_uj", e.at_ldo_input_uj()},
            {"compute_uj", e.compute_uj()},
            {"memory_uj", e.memory_uj()},
            {"switching_uj", e.switching_uj()},
            {"idle_uj", e.idle_uj},
            {"compute_dynamic_uj", e.compute_dynamic_uj()},
            {"compute_leakage_uj", e.compute_leakage_uj()},
            {"memory_dynamic_uj", e.memory_dynamic_uj()},
            {"memory_leakage_uj", e.memory_leakage_uj()},
            {"units", {{"mac_array", {{"dynamic_uj", e.mac_uj}}},
                       {"sfu", {{"dynamic_uj", e.sfu_uj}}},
                       {"clock_control", {{"dynamic_uj", e.clock_uj}}},
                       {"logic", {{"leakage_uj", e.logic_leakage_uj}}},
                       {"pu_buffers", {{"dynamic_uj", e.buffer_dynamic_uj}, {"leakage_uj", e.buffer_leakage_uj}}},
                       {"sram", {{"dynamic_uj", e.sram_dynamic_uj}, {"leakage_uj", e.sram_leakage_uj}}},
                       {"reram", {{"dynamic_uj", e.reram_dynamic_uj}, {"leakage_uj", e.reram_leakage_uj}}},
                       {"ldo_switching", {{"dynamic_uj", e.ldo_switch_uj}}},
                       {"adpll_switching", {{"dynamic_uj", e.adpll_switch_uj}}},
                       {"ldo_loss", {{"uj", e.ldo_loss_uj}}}}}};
}

inline nlohmann::ordered_json to_json(const run_result& r) {
    return {{"energy_uj", r.energy.total_uj()}, {"energy", to_json(r.energy)}, {"latency_ms", r.latency_ms},
            {"exit_layer", r.exit_layer},       {"deadline_miss", r.deadline_miss}, {"voltage_v", r.voltage_v},
            {"freq_mhz", r.freq_mhz},           {"switches", r.switches},
            {"energy_at_ldo_input_uj", r.energy.at_ldo_input_uj()}};
}

inline nlohmann::ordered_json to_json(const sentence_energy& s) {
    nlohmann::ordered_json j{{"all_layers_nominal", to_json(s.all_layers)},
                             {"early_exit_nominal", to_json(s.early_exit)},
                             {"edgebert_dvfs", to_json(s.edgebert)},
                             {"predicted_layer", s.predicted_layer},
                             {"planned_layer", s.planned_layer},
                             {"plan_feasible", s.plan_feasible},
                             {"overrun", s.overrun},
                             {"nominal_latency_ms", s.nominal_latency_ms},
                             {"lut_bin", s.lut_bin}};
    j["f_required_mhz"] = std::isfinite(s.f_required_mhz) ? nlohmann::ordered_json(s.f_required_mhz) : nlohmann::ordered_json(nullptr);
    return j;
}

inline nlohmann::ordered_json to_json(const baseline_summary& b) {
    return {{"energy_uj_per_sentence", b.energy.total_uj()},
            {"compute_uj_per_sentence", b.energy.compute_uj()},
            {"memory_uj_per_sentence", b.energy.memory_uj()},
            {"switching_uj_per_sentence", b.energy.switching_uj()},
            {"energy_at_ldo_input_uj_per_sentence", b.energy.at_ldo_input_uj()},
            {"energy", to_json(b.energy)},
            {"average_power_mw", b.power_mw()},
            {"tops_per_w", b.tops_per_w()},
            {"gmacs_per_sentence", b.macs_mean * 1e-9},
            {"gmacs_executed_per_sentence", b.macs_executed_mean * 1e-9},
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
    j["ratios"] = {{"all_layers_over_edgebert", s.ratio_all_layers}, {"early_exit_over_edgebert", s.ratio_early_exit},
                   {"at_ldo_input", {{"all_layers_over_edgebert", s.ratio_all_layers_ldo_input},
                                     {"early_exit_over_edgebert", s.ratio_early_exit_ldo_input}}}};
    j["edgebert_operating_points"] = pts;
    if (p.controller == dvfs_policy::entropy_lut) j["entropy_lut_bins"] = s.bin_histogram;
    j["backing_memory_standby_mw"] = backing_standby_mw(p);
    j["infeasible_plans"] = s.infeasible_plans;
    j["overruns"] = s.overruns;
    j["unreachable_sentences"] = s.unreachable;
    if (!s.note.empty()) j["note"] = s.note;
    return j;
}

}  // namespace edgebert::hw
