// SPDX-License-Identifier: Apache-2.0
#pragma once
// The accelerator's memories as the energy model sees them: per-bit read and write energy, access width
// and latency, leakage per MiB, and whether the memory sits on the DVFS rail (then its dynamic energy
// scales with V^2 and its leakage with V, like the logic). Three memories: the PU operand buffers (inside
// the accelerator, sizes from EdgeBERT's Spec.h), a large on-chip SRAM for task parameters and spilled
// activations, and the ReRAM (eNVM) holding the shared, bit-mask sparse parameters.

#include <cmath>
#include <string>

#include "../core/error.hpp"

namespace edgebert::hw {

struct memory_tech {
    double read_pj_per_bit = 0;
    double write_pj_per_bit = 0;
    double access_bits = 64;        ///< bits delivered per access (bank width x banks read in parallel)
    double read_latency_ns = 1;     ///< per access; accesses are taken as sequential (a conservative bound)
    double leakage_mw_per_mib = 0;  ///< at the nominal voltage
    double capacity_mib = 0;        ///< for leakage and capacity checks (derived for the PU buffers)
    bool on_dvfs_rail = false;
    double area_mm2_per_mib = 0;    ///< array area, for the area reports

    /// config_error naming `where` for negative, non-finite or zero-width values.
    void validate(const std::string& where) const {
        auto check = [&](double v, const char* key, bool positive) {
            if (!std::isfinite(v) || v < 0 || (positive && v == 0) || v > 1e9)
                throw config_error(where + "." + key + " must be " + (positive ? "positive" : "non-negative") +
                                   " and finite, got " + std::to_string(v));
        };
        check(read_pj_per_bit, "read_pj_per_bit", false);
        check(write_pj_per_bit, "write_pj_per_bit", false);
        check(access_bits, "access_bits", true);
        check(read_latency_ns, "read_latency_ns", false);
        check(leakage_mw_per_mib, "leakage_mw_per_mib", false);
        check(capacity_mib, "capacity_mib", false);
        check(area_mm2_per_mib, "area_mm2_per_mib", false);
    }
    double leakage_at_nominal_mw() const noexcept { return capacity_mib * leakage_mw_per_mib; }
    double area_mm2() const noexcept { return capacity_mib * area_mm2_per_mib; }

    /// Time to read `bits` with one access at a time.
    double read_time_ns(double bits) const noexcept { return std::ceil(bits / access_bits) * read_latency_ns; }
};

/// NVMExplorer's 22 nm SRAM array (github lpentecost/NVMExplorer at 16eb289, SRAM_1BPC-combined.csv as
/// ../shared/data/nvmexplorer/SRAM.csv line 317: SRAM_best_case.cell, 2 MB, 64-bit word, optimised for
/// ReadDynamicEnergy): 1.128 pJ read / 17.016 pJ write per 64-bit access, 4.684 ns read latency, 56.345 mW
/// leakage, 1.309 mm2. Per bit and per MiB (NVSim's MB taken as MiB) with `capacity_mib` of it.
inline memory_tech nvmexplorer_sram(double capacity_mib, bool on_dvfs_rail) {
    return {1.128 / 64.0, 17.016 / 64.0, 64, 4.684, 56.345 / 2.0, capacity_mib, on_dvfs_rail, 1.309 / 2.0};
}
/// NVMExplorer's 22 nm RRAM array (RRAM.csv line 197: RRAM_best_case.cell, 2 MB, 64-bit word, optimised for
/// ReadDynamicEnergy): 1.118 pJ read / 83.81 pJ write per access, 13.737 ns, 1.316 mW leakage, 0.4425 mm2.
/// (The worst-case cell has no valid result at this capacity: its rows are -1.)
inline memory_tech nvmexplorer_reram(double capacity_mib) {
    return {1.118 / 64.0, 83.81 / 64.0, 64, 13.737, 1.316 / 2.0, capacity_mib, false, 0.44250725799999996 / 2.0};
}

/// Bits moved in each memory by some piece of work.
struct memory_traffic {
    double buffer_read_bits = 0, buffer_write_bits = 0;  ///< PU operand buffers (incl. mask words) and aux buffer
    double sram_read_bits = 0, sram_write_bits = 0;      ///< task-parameter / activation SRAM
    double reram_read_bits = 0;                          ///< eNVM (never written at inference)

    memory_traffic& operator+=(const memory_traffic& o) noexcept {
        buffer_read_bits += o.buffer_read_bits, buffer_write_bits += o.buffer_write_bits;
        sram_read_bits += o.sram_read_bits, sram_write_bits += o.sram_write_bits;
        reram_read_bits += o.reram_read_bits;
        return *this;
    }
    memory_traffic scaled(double k) const noexcept {
        memory_traffic t = *this;
        t.buffer_read_bits *= k, t.buffer_write_bits *= k, t.sram_read_bits *= k, t.sram_write_bits *= k;
        t.reram_read_bits *= k;
        return t;
    }
};

/// Dynamic access energy of `t` in one memory (pJ). Memories on the DVFS rail scale as (V / V_nom)^2: the
/// per-bit figures are given at the nominal voltage.
inline double access_energy_pj(const memory_tech& m, double read_bits, double write_bits, double v, double v_nom) noexcept {
    const double k = m.on_dvfs_rail ? (v / v_nom) * (v / v_nom) : 1.0;
    return (read_bits * m.read_pj_per_bit + write_bits * m.write_pj_per_bit) * k;
}

/// Leakage power of one memory (mW); scales with V on the DVFS rail (leakage current taken as constant).
inline double leakage_mw(const memory_tech& m, double v, double v_nom) noexcept {
    return m.capacity_mib * m.leakage_mw_per_mib * (m.on_dvfs_rail ? v / v_nom : 1.0);
}

/// Bit-mask storage of `elements` values of which `nonzeros` are stored (EdgeBERT's encoding, reference
/// §9.3): one mask bit per element plus `word_bits` per nonzero.
inline double bitmask_bits(double elements, double nonzeros, double word_bits) noexcept {
    return elements + nonzeros * word_bits;
}

}  // namespace edgebert::hw
