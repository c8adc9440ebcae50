// SPDX-License-Identifier: Apache-2.0
#pragma once
// The accelerator's voltage/frequency operating points: supply voltage and the highest clock that voltage
// supports. EdgeBERT's LDO (8-bit code) and ADPLL (6-bit DCO code) can produce many more settings than a
// table lists; the table is the set the DVFS controller chooses from. The paper's V-f table is not public
// (reference/edgebert.md §5), so the default is derived from an assumed alpha-power law (docs/hw.md).

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace edgebert::hw {

struct operating_point {
    double voltage_v = 0;
    double freq_mhz = 0;  ///< highest clock the datapath closes timing at this voltage
};

struct operating_point_table {
    std::vector<operating_point> points;  ///< ascending voltage, non-decreasing frequency

    /// config_error naming `where` and the entry for an empty table, a non-positive or non-finite value, a
    /// voltage that does not increase, or a frequency that drops as the voltage rises (such a point is never
    /// worth choosing and usually a typo).
    void validate(const std::string& where = "operating_points") const {
        if (points.empty()) throw config_error(where + ": needs at least one operating point");
        for (std::size_t i = 0; i < points.size(); ++i) {
            const operating_point& p = points[i];
            const std::string at = where + "[" + std::to_string(i) + "]";
            if (!(p.voltage_v > 0) || !std::isfinite(p.voltage_v) || p.voltage_v > 5)
                throw config_error(at + ".voltage_v must be in (0, 5] V, got " + std::to_string(p.voltage_v));
            if (!(p.freq_mhz > 0) || !std::isfinite(p.freq_mhz) || p.freq_mhz > 1e5)
                throw config_error(at + ".freq_mhz must be in (0, 1e5] MHz, got " + std::to_string(p.freq_mhz));
            if (i > 0 && !(p.voltage_v > points[i - 1].voltage_v))
                throw config_error(at + ".voltage_v must be above the previous point's");
            if (i > 0 && p.freq_mhz < points[i - 1].freq_mhz)
                throw config_error(at + ".freq_mhz must not be below the previous (lower-voltage) point's");
        }
    }

    std::size_t size() const noexcept { return points.size(); }
    const operating_point& operator[](std::size_t i) const { return points.at(i); }
    /// The highest point: where layer 1 runs and the two unbounded baselines run throughout.
    std::size_t nominal_index() const noexcept { return points.empty() ? 0 : points.size() - 1; }
    const operating_point& nominal() const { return points.at(nominal_index()); }

    /// Index of the lowest-voltage point whose frequency is at least `freq_mhz`; size() when none is.
    std::size_t lowest_meeting(double freq_mhz) const noexcept {
        for (std::size_t i = 0; i < points.size(); ++i)
            if (points[i].freq_mhz >= freq_mhz) return i;
        return points.size();
    }
};

/// Alpha-power-law table (Sakurai-Newton): f_max(V) proportional to (V - v_th)^alpha / V, scaled so that
/// f_max(v_nom) = f_nom_mhz; voltages from v_min to v_max in steps of v_step, frequencies rounded to 0.1 MHz.
inline operating_point_table alpha_power_table(double v_min, double v_max, double v_step, double v_nom,
                                               double f_nom_mhz, double v_th, double alpha) {
    if (!(v_min > v_th) || !(v_max >= v_min) || !(v_step > 0) || !(v_nom > v_th) || !(f_nom_mhz > 0) || !(alpha > 0))
        throw config_error("alpha_power_table: needs v_th < v_min <= v_max, v_step > 0, v_nom > v_th, f_nom > 0, alpha > 0");
    auto g = [&](double v) { return std::pow(v - v_th, alpha) / v; };
    operating_point_table t;
    const std::size_t steps = std::size_t(std::floor((v_max - v_min) / v_step + 1e-9));
    for (std::size_t i = 0; i <= steps; ++i) {
        const double v = std::round((v_min + double(i) * v_step) * 1e6) / 1e6;
        t.points.push_back({v, std::round(f_nom_mhz * g(v) / g(v_nom) * 10.0) / 10.0});
    }
    return t;
}

/// The default table: 0.50-0.80 V in 50 mV steps, 1 GHz at 0.80 V, v_th = 0.30 V, alpha = 1.5 (all assumed
/// for a 12 nm FinFET logic process; docs/hw.md gives the reasoning and the resulting frequencies).
inline operating_point_table default_operating_points() { return alpha_power_table(0.50, 0.80, 0.05, 0.80, 1000.0, 0.30, 1.5); }

}  // namespace edgebert::hw
