// SPDX-License-Identifier: Apache-2.0
#pragma once
// EdgeBERT's sentence-level DVFS controller (reference/edgebert.md §4.3 step 5 and §5; the paper's exact
// formula is not public, this is our reading of its figure and abstract): after the predicting layer has run
// at the nominal point, take the work still to do up to the predicted exit layer, the time left
// (target - elapsed - the switching stall), and pick the lowest-voltage operating point whose clock finishes
// that work in time. If none does, stay at the nominal (fastest) point and report the plan infeasible.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "cycle_model.hpp"
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
        for (const work_cost& w : remaining) cycles += w.cycles(), fixed_us += w.fixed_ns * 1e-3;
        const double left = target_us - elapsed_us - p_.switch_time_us() - fixed_us;
        c.f_required_mhz = left > 0 ? cycles / left : std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < t.size(); ++i) {
            const double stall = i == from ? 0.0 : p_.switch_time_us();
            double time = stall;
            for (const work_cost& w : remaining) time += w.time_us(t[i].freq_mhz);
            if (elapsed_us + time <= target_us) {
                c.point = i;
                c.switched = i != from;
                c.planned_time_us = time;
                return c;
            }
        }
        // Nothing fits: go as fast as the table allows and let the sentence miss.
        c.point = t.nominal_index();
        c.switched = c.point != from;
        c.feasible = false;
        c.planned_time_us = c.switched ? p_.switch_time_us() : 0.0;
        for (const work_cost& w : remaining) c.planned_time_us += w.time_us(t[c.point].freq_mhz);
        return c;
    }

private:
    hw_params p_;
};

}  // namespace edgebert::hw
