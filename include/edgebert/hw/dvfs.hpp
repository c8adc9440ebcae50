// SPDX-License-Identifier: Apache-2.0
#pragma once
// EdgeBERT's sentence-level DVFS decision, two ways.
// The ideal controller (reference/edgebert.md §4.3 step 5 and §5; our reading of the figure and abstract):
// after the key layer, take the work still to do up to the predicted exit layer and the time left (target -
// elapsed - the switching stall), and pick the lowest-voltage operating point that finishes in time (or, with
// point_choice::lowest_energy, the feasible point of least energy). If none fits, run at the nominal point
// and report the plan infeasible.
// The hardware's controller (hw/cmod/Dvfs/Dvfs.h): the key layer's entropy, a 16-bit fixed-point value with
// 10 fraction bits (Spec.h:69-77), divided by the software-set enpy_scale (Dvfs.h:242), falls into one of 16
// fixed bins (Dvfs.h:251-342) each of which pushes one programmed LDO and DCO code. `entropy_lut` models it:
// the bins are read from the code; what each bin is programmed with is software's choice, which we derive
// here as the ideal controller's point for the latest exit the predictor table gives anywhere in the bin, with
// the key layers at nominal (a conservative programming; docs/hw.md).

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include <array>

#include "cycle_model.hpp"
#include "energy_model.hpp"
#include "hw_params.hpp"

namespace edgebert::hw {

/// What the controller does when a sentence is still running after the layer it planned for.
enum class misprediction {
    forced_exit,  ///< the sentence leaves at the planned layer (EdgeBERT's released software default)
    boost,        ///< no forced exit; switch back to the nominal point for the extra layers
    stay,         ///< no forced exit; keep the chosen point for the extra layers
};

inline const char* misprediction_name(misprediction m) noexcept {
    return m == misprediction::forced_exit ? "forced_exit" : m == misprediction::boost ? "boost" : "stay";
}
inline misprediction parse_misprediction(const std::string& s) {
    if (s == "forced_exit" || s == "forced-exit") return misprediction::forced_exit;
    if (s == "boost") return misprediction::boost;
    if (s == "stay") return misprediction::stay;
    throw config_error("misprediction policy \"" + s + "\" is not one of forced_exit, boost, stay");
}

struct dvfs_choice {
    std::size_t point = 0;        ///< index in the operating-point table
    bool switched = false;        ///< differs from the point the predicting layer ran at
    bool feasible = true;         ///< the planned work fits the target at this point
    double f_required_mhz = 0;    ///< remaining cycles / time left after the stall (inf when no time is left)
    double planned_time_us = 0;   ///< remaining work at the chosen point, stall included
};

class dvfs_controller {
public:
    explicit dvfs_controller(hw_params p) : p_(std::move(p)) { p_.validate(); }
    const hw_params& params() const noexcept { return p_; }

    /// target_us may be +infinity (no latency bound). `from` is the point the work so far ran at.
    dvfs_choice choose(double target_us, double elapsed_us, const std::vector<work_cost>& remaining, std::size_t from) const {
        if (std::isnan(target_us) || target_us <= 0) throw config_error("target latency must be positive, got " + std::to_string(target_us));
        const operating_point_table& t = p_.points;
        if (from >= t.size()) throw config_error("dvfs: operating point " + std::to_string(from) + " is not in the table");
        dvfs_choice c;
        c.point = from;
        if (remaining.empty()) {
            c.feasible = elapsed_us <= target_us;
            return c;
        }
        double cycles = 0, fixed_us = 0;
        for (const work_cost& w : remaining) {
            cycles += w.cycles() + w.fixed_beats + (w.sequential_fetch ? w.fetch_beats : 0.0);
            fixed_us += (w.fixed_ns + (w.sequential_fetch ? w.overlapped_ns : 0.0)) * 1e-3;
        }
        const double left = target_us - elapsed_us - p_.switch_time_us() - fixed_us;
        c.f_required_mhz = left > 0 ? cycles / left : std::numeric_limits<double>::infinity();
        double best_energy = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < t.size(); ++i) {
            const double stall = i == from ? 0.0 : p_.switch_time_us();
            double time = stall;
            for (const work_cost& w : remaining) time += w.time_us(t[i].freq_mhz);
            if (elapsed_us + time > target_us) continue;
            if (p_.choice == point_choice::lowest_voltage) {
                c.point = i, c.switched = i != from, c.planned_time_us = time;
                return c;
            }
            const double e = planned_energy_uj(remaining, from, i);
            if (e < best_energy) best_energy = e, c.point = i, c.switched = i != from, c.planned_time_us = time;
        }
        if (std::isfinite(best_energy)) return c;
        // Nothing fits: go as fast as the table allows and let the sentence miss.
        c.point = t.nominal_index();
        c.switched = c.point != from;
        c.feasible = false;
        c.planned_time_us = c.switched ? p_.switch_time_us() : 0.0;
        for (const work_cost& w : remaining) c.planned_time_us += w.time_us(t[c.point].freq_mhz);
        return c;
    }

    /// Energy (uJ) of running `remaining` at point `to` after coming from `from`: the work, the transition and
    /// the leakage during its stall.
    double planned_energy_uj(const std::vector<work_cost>& remaining, std::size_t from, std::size_t to) const {
        const operating_point& op = p_.points[to];
        energy_breakdown e;
        for (const work_cost& w : remaining) e += price(p_, w, op, w.time_us(op.freq_mhz));
        if (to != from) {
            const double v0 = p_.points[from].voltage_v, v1 = op.voltage_v;
            e.ldo_switch_uj += p_.ldo_decap_nf * std::max(v0, v1) * std::fabs(v0 - v1) * 1e-3;
            e.adpll_switch_uj += p_.adpll_power_mw * p_.adpll_relock_us * 1e-3;
            add_leakage(p_, e, std::max(v0, v1), p_.switch_time_us());
        }
        return e.total_uj();
    }

private:
    hw_params p_;
};

/// The hardware's 16-bin entropy look-up: bin edges (in scaled fixed-point entropy units) read from Dvfs.h.
struct entropy_lut {
    /// Dvfs.h:251-342: bin b holds [edge[b-1], edge[b]); bin 0 below 256, bin 15 from 28672.
    static constexpr std::array<int, 15> edges{256, 512, 1024, 2048, 3072, 4096, 5120, 6144, 8192, 10240, 12288, 16384, 20480, 24576, 28672};
    static constexpr std::size_t bins = 16;
    static constexpr int frac_bits = 10;      ///< Spec.h:75 kActNumFrac
    static constexpr int max_fixed = 32767;   ///< Spec.h:69 kActWordWidth = 16, signed

    /// The entropy as the Enpy unit hands it over: 16-bit fixed point, 10 fraction bits (truncated, saturated).
    static int to_fixed(double entropy) noexcept {
        const double v = std::floor(entropy * double(1 << frac_bits));
        return v >= double(max_fixed) ? max_fixed : v <= 0 ? 0 : int(v);
    }
    /// Dvfs.h:242 (integer division by enpy_scale), then the bin search of lines 251-342.
    static std::size_t bin_of(double entropy, std::size_t enpy_scale) noexcept {
        const int scaled = to_fixed(entropy) / int(enpy_scale ? enpy_scale : 1);
        std::size_t b = 0;
        while (b < edges.size() && scaled >= edges[b]) ++b;
        return b;
    }
    /// The DCO code slot a bin pushes (Dvfs.h:253-340: bins 14 and 15 share dco_val_config_c[4]); the LDO slot is the bin.
    static std::size_t dco_slot(std::size_t bin) noexcept { return bin < 15 ? bin : 14; }
    /// The smallest entropy that lands in `bin` at this scale.
    static double lower_edge(std::size_t bin, std::size_t enpy_scale) noexcept {
        return bin == 0 ? 0.0 : double(edges[bin - 1]) * double(enpy_scale) / double(1 << frac_bits);
    }

    std::array<std::size_t, bins> point{};    ///< programmed operating point per bin
    std::array<std::size_t, bins> planned{};  ///< the exit layer the bin's programming budgets for
};

}  // namespace edgebert::hw
