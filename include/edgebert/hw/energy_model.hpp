// SPDX-License-Identifier: Apache-2.0
#pragma once
// Energy of priced work at an operating point. Dynamic energy is C_eff V^2 per unit of work (executed MAC,
// SFU vector operation, clock cycle) and per bit for memories on the DVFS rail; leakage power is taken as
// proportional to V (constant leakage current) and burns for the wall time of the work; memories off the
// DVFS rail (the SRAM and ReRAM by default) pay fixed per-bit energies. The accelerator is taken as power
// gated between sentences, so a sentence pays leakage only while it runs.

#include "cycle_model.hpp"
#include "hw_params.hpp"
#include "operating_points.hpp"

namespace edgebert::hw {

/// Energy in microjoules, split as the report shows it.
struct energy_breakdown {
    double compute_dynamic_uj = 0;  ///< MACs, SFU operations, clock tree and control
    double compute_leakage_uj = 0;  ///< logic leakage
    double memory_dynamic_uj = 0;   ///< buffer, SRAM and ReRAM accesses
    double memory_leakage_uj = 0;   ///< buffer and SRAM leakage (ReRAM's is a parameter, 0 by default)
    double switching_uj = 0;        ///< LDO and ADPLL transitions

    double compute_uj() const noexcept { return compute_dynamic_uj + compute_leakage_uj; }
    double memory_uj() const noexcept { return memory_dynamic_uj + memory_leakage_uj; }
    double total_uj() const noexcept { return compute_uj() + memory_uj() + switching_uj; }

    energy_breakdown& operator+=(const energy_breakdown& o) noexcept {
        compute_dynamic_uj += o.compute_dynamic_uj, compute_leakage_uj += o.compute_leakage_uj;
        memory_dynamic_uj += o.memory_dynamic_uj, memory_leakage_uj += o.memory_leakage_uj;
        switching_uj += o.switching_uj;
        return *this;
    }
    energy_breakdown scaled(double k) const noexcept {
        return {compute_dynamic_uj * k, compute_leakage_uj * k, memory_dynamic_uj * k, memory_leakage_uj * k, switching_uj * k};
    }
};

/// Logic plus memory leakage power (mW) at voltage v.
inline double leakage_power_mw(const hw_params& p, double v) noexcept {
    const double v_nom = p.points.nominal().voltage_v;
    return p.leakage_mw_per_v * v + leakage_mw(p.buffer_memory(), v, v_nom) + leakage_mw(p.sram, v, v_nom) +
           leakage_mw(p.reram, v, v_nom);
}

/// Energy of `c` run at `op` for `time_us` of wall time (pass c.time_us(op.freq_mhz)).
inline energy_breakdown price(const hw_params& p, const work_cost& c, const operating_point& op, double time_us) {
    const double v = op.voltage_v, v_nom = p.points.nominal().voltage_v, v2 = v * v;
    energy_breakdown e;
    // pF x V^2 = pJ; 1e-6 pJ = 1 uJ
    e.compute_dynamic_uj = v2 * (p.c_eff_mac_pf * c.macs_executed + p.c_eff_sfu_op_pf * c.sfu_ops + p.c_eff_cycle_pf * c.cycles()) * 1e-6;
    // mW x us = nJ
    e.compute_leakage_uj = p.leakage_mw_per_v * v * time_us * 1e-3;
    const memory_traffic& t = c.traffic;
    e.memory_dynamic_uj = (access_energy_pj(p.buffer, t.buffer_read_bits, t.buffer_write_bits, v, v_nom) +
                           access_energy_pj(p.sram, t.sram_read_bits, t.sram_write_bits, v, v_nom) +
                           access_energy_pj(p.reram, t.reram_read_bits, 0, v, v_nom)) * 1e-6;
    e.memory_leakage_uj = (leakage_mw(p.buffer_memory(), v, v_nom) + leakage_mw(p.sram, v, v_nom) + leakage_mw(p.reram, v, v_nom)) *
                          time_us * 1e-3;
    return e;
}

}  // namespace edgebert::hw
