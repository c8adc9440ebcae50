// SPDX-License-Identifier: Apache-2.0
#pragma once
// Energy of priced work at an operating point, unit by unit. Dynamic energy is C_eff V^2 per unit of work
// (executed MAC, SFU vector operation, clock cycle) and per bit for memories on the DVFS rail; leakage power
// is taken as proportional to V (constant leakage current) and burns for the wall time of the work; memories
// off the DVFS rail (the SRAM and ReRAM by default) pay fixed per-bit energies, and their leakage is charged
// to the sentence only with `charge_backing_leakage` (they hold their contents and leak whether the
// accelerator runs or not). Energies are at the load; the LDO that makes the DVFS rail from `ldo_input_v`
// loses (V_in / V_out - 1) of what the rail delivers, reported separately as `ldo_loss_uj`.

#include "cycle_model.hpp"
#include "hw_params.hpp"
#include "operating_points.hpp"

namespace edgebert::hw {

/// Energy in microjoules by unit. Everything except ldo_loss_uj is at the load; at_ldo_input_uj() adds it.
struct energy_breakdown {
    double mac_uj = 0, sfu_uj = 0, clock_uj = 0;                       ///< dynamic logic (clock: tree, control, registers)
    double logic_leakage_uj = 0;
    double buffer_dynamic_uj = 0, sram_dynamic_uj = 0, reram_dynamic_uj = 0;
    double buffer_leakage_uj = 0, sram_leakage_uj = 0, reram_leakage_uj = 0;
    double ldo_switch_uj = 0, adpll_switch_uj = 0;                     ///< V/f transitions: decap recharge, relock
    double idle_uj = 0;                                                ///< leakage between sentences (a sentence period)
    double ldo_loss_uj = 0;                                            ///< regulator loss for the rail's energy

    double compute_dynamic_uj() const noexcept { return mac_uj + sfu_uj + clock_uj; }
    double compute_leakage_uj() const noexcept { return logic_leakage_uj; }
    double memory_dynamic_uj() const noexcept { return buffer_dynamic_uj + sram_dynamic_uj + reram_dynamic_uj; }
    double memory_leakage_uj() const noexcept { return buffer_leakage_uj + sram_leakage_uj + reram_leakage_uj; }
    double switching_uj() const noexcept { return ldo_switch_uj + adpll_switch_uj; }
    double compute_uj() const noexcept { return compute_dynamic_uj() + compute_leakage_uj(); }
    double memory_uj() const noexcept { return memory_dynamic_uj() + memory_leakage_uj(); }
    double dynamic_uj() const noexcept { return compute_dynamic_uj() + memory_dynamic_uj(); }
    double leakage_uj() const noexcept { return compute_leakage_uj() + memory_leakage_uj() + idle_uj; }
    /// At the load (what the units consume).
    double total_uj() const noexcept { return compute_uj() + memory_uj() + switching_uj() + idle_uj; }
    /// At the LDO's input: the load plus the regulator's loss.
    double at_ldo_input_uj() const noexcept { return total_uj() + ldo_loss_uj; }

    energy_breakdown& operator+=(const energy_breakdown& o) noexcept {
        double* a = &mac_uj;
        const double* b = &o.mac_uj;
        for (std::size_t i = 0; i < fields; ++i) a[i] += b[i];
        return *this;
    }
    energy_breakdown scaled(double k) const noexcept {
        energy_breakdown e = *this;
        double* a = &e.mac_uj;
        for (std::size_t i = 0; i < fields; ++i) a[i] *= k;
        return e;
    }
    static constexpr std::size_t fields = 14;
};
static_assert(sizeof(energy_breakdown) == energy_breakdown::fields * sizeof(double), "energy_breakdown: doubles only");

/// Power (mW) at voltage v of the leakage charged to a running sentence: logic, the PU buffers, and the SRAM
/// and ReRAM when `charge_backing_leakage`.
inline double leakage_power_mw(const hw_params& p, double v) noexcept {
    const double v_nom = p.points.nominal().voltage_v;
    double mw = p.leakage_mw_per_v * v + leakage_mw(p.buffer_memory(), v, v_nom);
    if (p.charge_backing_leakage) mw += leakage_mw(p.sram, v, v_nom) + leakage_mw(p.reram, v, v_nom);
    return mw;
}

/// Standby power (mW) of the SRAM and ReRAM arrays at the nominal voltage: what they leak per second of
/// holding their contents, charged or not.
inline double backing_standby_mw(const hw_params& p) noexcept {
    return p.sram.leakage_at_nominal_mw() + p.reram.leakage_at_nominal_mw();
}

/// Leakage of `mw` (at v) for `time_us`, split by unit into `e` (scaled from leakage_power_mw's terms).
inline void add_leakage(const hw_params& p, energy_breakdown& e, double v, double time_us) noexcept {
    const double v_nom = p.points.nominal().voltage_v, k = time_us * 1e-3;  // mW x us = nJ
    e.logic_leakage_uj += p.leakage_mw_per_v * v * k;
    e.buffer_leakage_uj += leakage_mw(p.buffer_memory(), v, v_nom) * k;
    if (p.charge_backing_leakage) {
        e.sram_leakage_uj += leakage_mw(p.sram, v, v_nom) * k;
        e.reram_leakage_uj += leakage_mw(p.reram, v, v_nom) * k;
    }
}

/// The regulator loss for `rail_uj` delivered at v: rail x (V_in / V_out - 1).
inline double ldo_loss_uj(const hw_params& p, double rail_uj, double v) noexcept { return rail_uj * (p.ldo_input_v / v - 1.0); }

/// Energy of `c` run at `op` for `time_us` of wall time (pass c.time_us(op.freq_mhz)).
inline energy_breakdown price(const hw_params& p, const work_cost& c, const operating_point& op, double time_us) {
    const double v = op.voltage_v, v_nom = p.points.nominal().voltage_v, v2 = v * v;
    energy_breakdown e;
    // pF x V^2 = pJ; 1e-6 pJ = 1 uJ
    e.mac_uj = v2 * p.c_eff_mac_pf * c.macs_executed * 1e-6;
    e.sfu_uj = v2 * p.c_eff_sfu_op_pf * c.sfu_ops * 1e-6;
    e.clock_uj = v2 * p.c_eff_cycle_pf * c.cycles() * 1e-6;
    add_leakage(p, e, v, time_us);
    const memory_traffic& t = c.traffic;
    e.buffer_dynamic_uj = access_energy_pj(p.buffer, t.buffer_read_bits, t.buffer_write_bits, v, v_nom) * 1e-6;
    e.sram_dynamic_uj = access_energy_pj(p.sram, t.sram_read_bits, t.sram_write_bits, v, v_nom) * 1e-6;
    e.reram_dynamic_uj = access_energy_pj(p.reram, t.reram_read_bits, 0, v, v_nom) * 1e-6;
    // What the LDO delivers: the logic, and the memories on the DVFS rail.
    double rail = e.compute_uj();
    if (p.buffer.on_dvfs_rail) rail += e.buffer_dynamic_uj + e.buffer_leakage_uj;
    if (p.sram.on_dvfs_rail) rail += e.sram_dynamic_uj + e.sram_leakage_uj;
    if (p.reram.on_dvfs_rail) rail += e.reram_dynamic_uj + e.reram_leakage_uj;
    e.ldo_loss_uj = ldo_loss_uj(p, rail, v);
    return e;
}

}  // namespace edgebert::hw
