// SPDX-License-Identifier: Apache-2.0
#pragma once
// Every number the accelerator model uses, in one plain struct with JSON load and save. Defaults are the
// EdgeBERT released SystemC model where it fixes a value (hw/cmod, n = 16), NVMExplorer's published array
// characterisations for the memories, and assumptions for a 12 nm FinFET design where nothing public says
// more. hw/provenance.hpp gives every default its label (read, with file:line; derived, with the
// derivation; assumed) and docs/hw.md prints that table.
//
// JSON: any subset of the keys of to_json(); absent keys keep their defaults, unknown keys and values out
// of range are a config_error naming the key ("power.c_eff_mac_pf").

#include <cmath>
#include <cstddef>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "memory_model.hpp"
#include "operating_points.hpp"

namespace edgebert::hw {

/// What makes a product-sum's energy disappear.
enum class zero_gating {
    none,           ///< every product-sum toggles
    weight_vector,  ///< gated when the weight n-vector is all zeros (activations ignored)
    either_vector,  ///< gated when either operand n-vector is all zeros (Datapath_Top.h:154-161, the released design)
    element,        ///< each zero weight saves its own multiply (a finer-grained design)
};

/// How weight (and spilled-activation) transfers relate to compute.
enum class weight_fetch {
    sequential,  ///< DMA over the AXI bus, then compute (the released testbench, TopAccel/testbench.cpp:203-307)
    overlapped,  ///< double-buffered: a segment takes max(compute, transfer)
};

/// Which DVFS decision the EdgeBERT scheme uses.
enum class dvfs_policy {
    entropy_lut,  ///< the hardware's: the key layer's entropy falls in one of 16 fixed bins (Dvfs.h:251-342),
                  ///< each bin programmed with one V/f code pair
    ideal,        ///< per sentence, the point that finishes the predicted layers in time (an idealised controller)
};

/// How the controller picks among the points that meet the target.
enum class point_choice {
    lowest_voltage,  ///< the lowest feasible voltage (EdgeBERT's stated rule)
    lowest_energy,   ///< the feasible point of least energy for the planned work (leakage can make it higher)
};

/// What the supply does between one sentence and the next.
enum class between_sentences {
    stay,        ///< keep the last V/f codes (Control.h:262-263 reset, 297-306: codes change only on a DVFS push)
    nominal,     ///< switch back to the nominal point after each sentence
    power_gate,  ///< keep the codes and power-gate the accelerator: no idle leakage
};

/// One special-function unit as an FSM: `states_per_vector` states per n-vector of a row, `states_per_row`
/// once per row, one state every `ii` cycles (the HLS pipeline initiation interval).
struct sfu_timing {
    std::size_t ii = 1;
    std::size_t states_per_vector = 1;
    std::size_t states_per_row = 0;
    /// FSM states (vector operations) for `rows` rows of `width` elements at vector size n.
    double states(double rows, double width, std::size_t n) const noexcept {
        return rows * (double(states_per_vector) * std::ceil(width / double(n)) + double(states_per_row));
    }
    double cycles(double rows, double width, std::size_t n) const noexcept { return double(ii) * states(rows, width, n); }
};

struct hw_params {
    // --- datapath -------------------------------------------------------------------------------------
    std::size_t n = 16;            ///< vector size: n x n multipliers [code include/Spec.h, TopAccel/Makefile VECTOR_SIZE=16]
    bool overlap_load = false;     ///< false: 2n+1 cycles per n x n x n tile (load, then compute) [code Datapath_Top];
                                   ///< true: n cycles per tile (an ideally pipelined datapath)
    zero_gating gating = zero_gating::either_vector;  ///< Datapath_Top.h:154-161
    weight_fetch fetch = weight_fetch::sequential;    ///< TopAccel/testbench.cpp:203-307
    std::size_t axi_data_bits = 64;                   ///< AxiSpec.h:24 (64-bit AXI master), one beat per cycle
    std::size_t axi_burst_beats = 256;                ///< AxiSpec.h:29 maxBurstSize: one memory latency per burst
    bool skip_zero_work = false;   ///< false: zeros save energy, not cycles (released design); true: a design that
                                   ///< also skips gated product-sums and masked attention keys in time
    std::size_t word_bits = 8;     ///< AdaptivFloat<8,3> weights and activations [code include/Spec.h]
    std::size_t accum_bits = 16;   ///< accumulator word [code include/Spec.h]

    // --- buffers [code include/Spec.h: Entries = 4096, AuxEntries = 256; figure: two decoders] ---------
    std::size_t decoders = 2;
    std::size_t entries_per_bank = 4096;
    std::size_t aux_entries_per_bank = 256;
    /// One decoder's input/weight buffer: n banks x entries x word.
    double input_buffer_bytes() const noexcept { return double(n * entries_per_bank * word_bits) / 8.0; }
    /// All PU buffers: per decoder input buffer + mask buffer (entries x n bits), plus the aux buffer.
    double buffer_bytes() const noexcept {
        return double(decoders) * (input_buffer_bytes() + double(entries_per_bank * n) / 8.0) +
               double(n * aux_entries_per_bank * word_bits) / 8.0;
    }

    // --- special function units [code SMax.h, LayerNorm.h, ElemAdd.h, Enpy.h, Dvfs.h: FSM states, II] -
    sfu_timing softmax{3, 9, 1};     ///< FINDMAX,FINDMAX2 | SFM1,SFM1b | SFM2,SFM2b,SPAN_MASK,SPAN_MASK2,OUT ; NEXT
    sfu_timing layer_norm{3, 9, 2};  ///< MEAN,MEAN2 | NORM,NORM2,GAMMA,GAMMA2,BETA,BETA2,BETA3 ; VAR, NEXT
    sfu_timing elem_add{1, 6, 1};    ///< REQ,RSP,REQ2,RSP2,EADD,SEND ; NEXT (HEAD, with the EADD state)
    sfu_timing entropy{4, 4, 2};     ///< FINDMAX,FINDMAX2 | RSUM,RSUMb ; EVAL, NEXT
    std::size_t dvfs_unit_cycles = 12;  ///< SCALE_ENPY, PUSH_VF, NEXT at II 4 [code Dvfs.h]

    // --- operating points and DVFS [assumed; the paper's values are not public] -----------------------
    operating_point_table points = default_operating_points();
    dvfs_policy controller = dvfs_policy::entropy_lut;
    point_choice choice = point_choice::lowest_voltage;
    between_sentences between = between_sentences::stay;
    double sentence_period_ms = 0;     ///< one sentence starts every period (0: back to back); idle time leaks
    std::size_t enpy_scale = 1;        ///< Dvfs.h:242 divisor of the entropy before binning (software-set, Spec.h:175)
    double ldo_input_v = 0.9;          ///< [assumed] the LDO's input supply; efficiency V_out / V_in
    double ldo_settle_us = 1.0;        ///< [assumed] fast integrated LDO
    double adpll_relock_us = 5.0;      ///< [assumed] ADPLL frequency relock
    double ldo_decap_nf = 10.0;        ///< [assumed] on-die decoupling the LDO recharges: E = C * V_high * |dV|
    double adpll_power_mw = 1.0;       ///< [assumed] ADPLL power while relocking: E = P * t_relock

    /// Stall while the supply settles and the clock relocks (both run in parallel).
    double switch_time_us() const noexcept { return std::max(ldo_settle_us, adpll_relock_us); }
    /// Energy of one transition between two voltages (nJ): decap recharge plus the ADPLL relock.
    double switch_energy_nj(double v_from, double v_to) const noexcept {
        return ldo_decap_nf * std::max(v_from, v_to) * std::fabs(v_from - v_to) + adpll_power_mw * adpll_relock_us;
    }

    // --- power [assumed energies per operation at the nominal voltage, divided by V_nom^2] -------------
    double c_eff_mac_pf = 0.125;       ///< per executed 8-bit AdaptivFloat MAC (0.08 pJ at 0.8 V)
    double c_eff_sfu_op_pf = 2.5;      ///< per SFU n-vector operation (FSM state; 1.6 pJ at 0.8 V)
    double c_eff_cycle_pf = 4.7;       ///< per clock cycle: clock tree, control, pipeline registers (3 pJ at 0.8 V)
    double leakage_mw_per_v = 2.5;     ///< logic leakage current: P_leak = this * V (2 mW at 0.8 V)

    // --- memories: NVMExplorer rows (hw/provenance.hpp names them; 22 nm, 2 MB arrays, 64-bit words) ---
    memory_tech buffer = nvmexplorer_sram(0, true);   ///< PU buffers; capacity derived from n and entries
    memory_tech sram = nvmexplorer_sram(8.0, false);  ///< task parameters and spilled activations; 8 MiB [assumed]
    memory_tech reram = nvmexplorer_reram(2.0);       ///< shared parameters; 2 MB [figure]
    /// Charge the SRAM's and ReRAM's leakage to the sentence for its wall time (they sit on the SoC side of the
    /// AXI bus, hold their contents whatever the accelerator does, and leak whether or not it runs: by default
    /// their standby power is reported beside the sentence energy, not inside it).
    bool charge_backing_leakage = false;
    bool backbone_in_reram = false;  ///< encoder (shared-layer) weights read from ReRAM (adapter-ALBERT mapping)
                                     ///< instead of the SRAM; the embeddings are always in ReRAM [figure]

    /// The buffer memory with its capacity filled in from the datapath geometry.
    memory_tech buffer_memory() const {
        memory_tech m = buffer;
        m.capacity_mib = buffer_bytes() / (1024.0 * 1024.0);
        return m;
    }

    /// config_error naming the key for any value out of range.
    void validate() const {
        auto positive_int = [](std::size_t v, const char* key, std::size_t lo, std::size_t hi) {
            if (v < lo || v > hi)
                throw config_error(std::string(key) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                   "], got " + std::to_string(v));
        };
        positive_int(n, "datapath.n", 1, 1023);
        positive_int(word_bits, "datapath.word_bits", 1, 64);
        positive_int(accum_bits, "datapath.accum_bits", 1, 64);
        positive_int(decoders, "buffers.decoders", 1, 64);
        positive_int(entries_per_bank, "buffers.entries_per_bank", 1, std::size_t(1) << 30);
        positive_int(aux_entries_per_bank, "buffers.aux_entries_per_bank", 1, std::size_t(1) << 30);
        for (const auto& s : {std::make_pair("sfu.softmax", &softmax), std::make_pair("sfu.layer_norm", &layer_norm),
                              std::make_pair("sfu.elem_add", &elem_add), std::make_pair("sfu.entropy", &entropy)}) {
            positive_int(s.second->ii, (std::string(s.first) + ".ii").c_str(), 1, 1024);
            positive_int(s.second->states_per_vector, (std::string(s.first) + ".states_per_vector").c_str(), 1, 1024);
            positive_int(s.second->states_per_row, (std::string(s.first) + ".states_per_row").c_str(), 0, 1024);
        }
        positive_int(dvfs_unit_cycles, "sfu.dvfs_unit_cycles", 0, 1u << 20);
        points.validate("operating_points");
        auto nonneg = [](double v, const char* key) {
            if (!std::isfinite(v) || v < 0 || v > 1e9)
                throw config_error(std::string(key) + " must be non-negative and finite, got " + std::to_string(v));
        };
        nonneg(sentence_period_ms, "dvfs.sentence_period_ms");
        positive_int(enpy_scale, "dvfs.enpy_scale", 1, 255);
        positive_int(axi_data_bits, "datapath.axi_data_bits", 8, 4096);
        positive_int(axi_burst_beats, "datapath.axi_burst_beats", 1, 1u << 20);
        if (!(ldo_input_v >= points.points.back().voltage_v) || ldo_input_v > 5)
            throw config_error("dvfs.ldo_input_v must be at least the highest operating voltage and at most 5 V, got " +
                               std::to_string(ldo_input_v));
        nonneg(ldo_settle_us, "dvfs.ldo_settle_us");
        nonneg(adpll_relock_us, "dvfs.adpll_relock_us");
        nonneg(ldo_decap_nf, "dvfs.ldo_decap_nf");
        nonneg(adpll_power_mw, "dvfs.adpll_power_mw");
        nonneg(c_eff_mac_pf, "power.c_eff_mac_pf");
        nonneg(c_eff_sfu_op_pf, "power.c_eff_sfu_op_pf");
        nonneg(c_eff_cycle_pf, "power.c_eff_cycle_pf");
        nonneg(leakage_mw_per_v, "power.leakage_mw_per_v");
        buffer.validate("memory.buffer");
        sram.validate("memory.sram");
        reram.validate("memory.reram");
    }

    // --- JSON ------------------------------------------------------------------------------------------
    nlohmann::ordered_json to_json() const {
        using oj = nlohmann::ordered_json;
        auto sfu = [](const sfu_timing& s) {
            return oj{{"ii", s.ii}, {"states_per_vector", s.states_per_vector}, {"states_per_row", s.states_per_row}};
        };
        auto mem = [](const memory_tech& m, bool with_capacity) {
            oj j{{"read_pj_per_bit", m.read_pj_per_bit}, {"write_pj_per_bit", m.write_pj_per_bit},
                 {"access_bits", m.access_bits}, {"read_latency_ns", m.read_latency_ns},
                 {"leakage_mw_per_mib", m.leakage_mw_per_mib}, {"area_mm2_per_mib", m.area_mm2_per_mib}};
            if (with_capacity) j["capacity_mib"] = m.capacity_mib;
            j["on_dvfs_rail"] = m.on_dvfs_rail;
            return j;
        };
        oj pts = oj::array();
        for (const operating_point& p : points.points) pts.push_back(oj{{"voltage_v", p.voltage_v}, {"freq_mhz", p.freq_mhz}});
        return oj{
            {"datapath", {{"n", n}, {"overlap_load", overlap_load}, {"zero_gating", gating_name(gating)},
                          {"weight_fetch", fetch == weight_fetch::sequential ? "sequential" : "overlapped"},
                          {"axi_data_bits", axi_data_bits}, {"axi_burst_beats", axi_burst_beats},
                          {"skip_zero_work", skip_zero_work}, {"word_bits", word_bits}, {"accum_bits", accum_bits}}},
            {"buffers", {{"decoders", decoders}, {"entries_per_bank", entries_per_bank}, {"aux_entries_per_bank", aux_entries_per_bank}}},
            {"sfu", {{"softmax", sfu(softmax)}, {"layer_norm", sfu(layer_norm)}, {"elem_add", sfu(elem_add)},
                     {"entropy", sfu(entropy)}, {"dvfs_unit_cycles", dvfs_unit_cycles}}},
            {"operating_points", pts},
            {"dvfs", {{"controller", controller_name(controller)}, {"choice", choice_name(choice)},
                      {"between_sentences", between_name(between)}, {"sentence_period_ms", sentence_period_ms},
                      {"enpy_scale", enpy_scale}, {"ldo_input_v", ldo_input_v},
                      {"ldo_settle_us", ldo_settle_us}, {"adpll_relock_us", adpll_relock_us},
                      {"ldo_decap_nf", ldo_decap_nf}, {"adpll_power_mw", adpll_power_mw}}},
            {"power", {{"c_eff_mac_pf", c_eff_mac_pf}, {"c_eff_sfu_op_pf", c_eff_sfu_op_pf},
                       {"c_eff_cycle_pf", c_eff_cycle_pf}, {"leakage_mw_per_v", leakage_mw_per_v}}},
            {"memory", {{"buffer", mem(buffer, false)}, {"sram", mem(sram, true)}, {"reram", mem(reram, true)},
                        {"backbone_in_reram", backbone_in_reram}, {"charge_backing_leakage", charge_backing_leakage}}},
        };
    }

    /// Defaults overridden by the keys present in `j`; `source` names the file in messages.
    static hw_params from_json(const nlohmann::json& j, const std::string& source = "hw.json") {
        hw_params p;
        reader r{source};
        r.object(j, "", {"datapath", "buffers", "sfu", "operating_points", "dvfs", "power", "memory"});
        if (const auto* d = r.child(j, "", "datapath")) {
            r.object(*d, "datapath", {"n", "overlap_load", "zero_gating", "weight_fetch", "axi_data_bits", "axi_burst_beats",
                                      "skip_zero_work", "word_bits", "accum_bits"});
            r.size(*d, "datapath", "axi_data_bits", p.axi_data_bits);
            r.size(*d, "datapath", "axi_burst_beats", p.axi_burst_beats);
            if (d->contains("weight_fetch")) {
                const std::string f = r.text(*d, "datapath", "weight_fetch");
                if (f == "sequential") p.fetch = weight_fetch::sequential;
                else if (f == "overlapped") p.fetch = weight_fetch::overlapped;
                else throw config_error(source + ": datapath.weight_fetch: \"" + f + "\" is not one of sequential, overlapped");
            }
            r.size(*d, "datapath", "n", p.n);
            r.boolean(*d, "datapath", "overlap_load", p.overlap_load);
            r.boolean(*d, "datapath", "skip_zero_work", p.skip_zero_work);
            r.size(*d, "datapath", "word_bits", p.word_bits);
            r.size(*d, "datapath", "accum_bits", p.accum_bits);
            if (d->contains("zero_gating")) {
                const auto& g = (*d)["zero_gating"];
                if (!g.is_string()) throw config_error(source + ": datapath.zero_gating must be a string");
                p.gating = parse_gating(g.get<std::string>(), source + ": datapath.zero_gating");
            }
        }
        if (const auto* b = r.child(j, "", "buffers")) {
            r.object(*b, "buffers", {"decoders", "entries_per_bank", "aux_entries_per_bank"});
            r.size(*b, "buffers", "decoders", p.decoders);
            r.size(*b, "buffers", "entries_per_bank", p.entries_per_bank);
            r.size(*b, "buffers", "aux_entries_per_bank", p.aux_entries_per_bank);
        }
        if (const auto* s = r.child(j, "", "sfu")) {
            r.object(*s, "sfu", {"softmax", "layer_norm", "elem_add", "entropy", "dvfs_unit_cycles"});
            for (auto& u : {std::make_pair("softmax", &p.softmax), std::make_pair("layer_norm", &p.layer_norm),
                            std::make_pair("elem_add", &p.elem_add), std::make_pair("entropy", &p.entropy)})
                if (const auto* o = r.child(*s, "sfu", u.first)) {
                    const std::string at = std::string("sfu.") + u.first;
                    r.object(*o, at, {"ii", "states_per_vector", "states_per_row"});
                    r.size(*o, at, "ii", u.second->ii);
                    r.size(*o, at, "states_per_vector", u.second->states_per_vector);
                    r.size(*o, at, "states_per_row", u.second->states_per_row);
                }
            r.size(*s, "sfu", "dvfs_unit_cycles", p.dvfs_unit_cycles);
        }
        if (j.contains("operating_points")) {
            const auto& a = j["operating_points"];
            if (!a.is_array()) throw config_error(source + ": operating_points must be an array");
            p.points.points.clear();
            for (std::size_t i = 0; i < a.size(); ++i) {
                const std::string at = "operating_points[" + std::to_string(i) + "]";
                r.object(a[i], at, {"voltage_v", "freq_mhz"});
                operating_point op;
                if (!a[i].contains("voltage_v") || !a[i].contains("freq_mhz"))
                    throw config_error(source + ": " + at + " needs voltage_v and freq_mhz");
                r.number(a[i], at, "voltage_v", op.voltage_v);
                r.number(a[i], at, "freq_mhz", op.freq_mhz);
                p.points.points.push_back(op);
            }
        }
        if (const auto* d = r.child(j, "", "dvfs")) {
            r.object(*d, "dvfs", {"controller", "choice", "between_sentences", "sentence_period_ms", "enpy_scale", "ldo_input_v",
                                  "ldo_settle_us", "adpll_relock_us", "ldo_decap_nf", "adpll_power_mw"});
            if (d->contains("controller")) p.controller = parse_controller(r.text(*d, "dvfs", "controller"), source + ": dvfs.controller");
            if (d->contains("choice")) p.choice = parse_choice(r.text(*d, "dvfs", "choice"), source + ": dvfs.choice");
            if (d->contains("between_sentences"))
                p.between = parse_between(r.text(*d, "dvfs", "between_sentences"), source + ": dvfs.between_sentences");
            r.number(*d, "dvfs", "sentence_period_ms", p.sentence_period_ms);
            r.size(*d, "dvfs", "enpy_scale", p.enpy_scale);
            r.number(*d, "dvfs", "ldo_input_v", p.ldo_input_v);
            r.number(*d, "dvfs", "ldo_settle_us", p.ldo_settle_us);
            r.number(*d, "dvfs", "adpll_relock_us", p.adpll_relock_us);
            r.number(*d, "dvfs", "ldo_decap_nf", p.ldo_decap_nf);
            r.number(*d, "dvfs", "adpll_power_mw", p.adpll_power_mw);
        }
        if (const auto* w = r.child(j, "", "power")) {
            r.object(*w, "power", {"c_eff_mac_pf", "c_eff_sfu_op_pf", "c_eff_cycle_pf", "leakage_mw_per_v"});
            r.number(*w, "power", "c_eff_mac_pf", p.c_eff_mac_pf);
            r.number(*w, "power", "c_eff_sfu_op_pf", p.c_eff_sfu_op_pf);
            r.number(*w, "power", "c_eff_cycle_pf", p.c_eff_cycle_pf);
            r.number(*w, "power", "leakage_mw_per_v", p.leakage_mw_per_v);
        }
        if (const auto* m = r.child(j, "", "memory")) {
            r.object(*m, "memory", {"buffer", "sram", "reram", "backbone_in_reram", "charge_backing_leakage"});
            r.boolean(*m, "memory", "charge_backing_leakage", p.charge_backing_leakage);
            for (auto& u : {std::make_pair("buffer", &p.buffer), std::make_pair("sram", &p.sram), std::make_pair("reram", &p.reram)})
                if (const auto* o = r.child(*m, "memory", u.first)) {
                    const std::string at = std::string("memory.") + u.first;
                    const bool cap = std::string(u.first) != "buffer";  // the buffers' size follows from the datapath
                    std::set<std::string> keys{"read_pj_per_bit", "write_pj_per_bit", "access_bits", "read_latency_ns",
                                               "leakage_mw_per_mib", "area_mm2_per_mib", "on_dvfs_rail"};
                    if (cap) keys.insert("capacity_mib");
                    r.object(*o, at, keys);
                    r.number(*o, at, "read_pj_per_bit", u.second->read_pj_per_bit);
                    r.number(*o, at, "write_pj_per_bit", u.second->write_pj_per_bit);
                    r.number(*o, at, "access_bits", u.second->access_bits);
                    r.number(*o, at, "read_latency_ns", u.second->read_latency_ns);
                    r.number(*o, at, "leakage_mw_per_mib", u.second->leakage_mw_per_mib);
                    r.number(*o, at, "area_mm2_per_mib", u.second->area_mm2_per_mib);
                    if (cap) r.number(*o, at, "capacity_mib", u.second->capacity_mib);
                    r.boolean(*o, at, "on_dvfs_rail", u.second->on_dvfs_rail);
                }
            r.boolean(*m, "memory", "backbone_in_reram", p.backbone_in_reram);
        }
        try {
            p.validate();
        } catch (const config_error& e) {
            throw config_error(source + ": " + e.what());
        }
        return p;
    }

    static hw_params load(const std::string& path) {
        return from_json(edgebert::detail::read_json_file<config_error>(path), path);
    }
    void save(const std::string& path) const {
        std::ofstream out(path);
        if (!out) throw io_error("cannot write '" + path + "'");
        out << to_json().dump(2) << "\n";
        if (!out) throw io_error("cannot write '" + path + "'");
    }

    static const char* gating_name(zero_gating g) noexcept {
        switch (g) {
            case zero_gating::none: return "none";
            case zero_gating::weight_vector: return "weight_vector";
            case zero_gating::either_vector: return "either_vector";
            case zero_gating::element: return "element";
        }
        return "?";
    }
    static zero_gating parse_gating(const std::string& s, const std::string& where) {
        if (s == "none") return zero_gating::none;
        if (s == "weight_vector") return zero_gating::weight_vector;
        if (s == "either_vector") return zero_gating::either_vector;
        if (s == "element") return zero_gating::element;
        throw config_error(where + ": \"" + s + "\" is not one of none, weight_vector, either_vector, element");
    }
    static const char* controller_name(dvfs_policy c) noexcept { return c == dvfs_policy::ideal ? "ideal" : "entropy_lut"; }
    static dvfs_policy parse_controller(const std::string& s, const std::string& where) {
        if (s == "ideal") return dvfs_policy::ideal;
        if (s == "entropy_lut") return dvfs_policy::entropy_lut;
        throw config_error(where + ": \"" + s + "\" is not one of entropy_lut, ideal");
    }
    static const char* choice_name(point_choice c) noexcept { return c == point_choice::lowest_energy ? "lowest_energy" : "lowest_voltage"; }
    static point_choice parse_choice(const std::string& s, const std::string& where) {
        if (s == "lowest_voltage") return point_choice::lowest_voltage;
        if (s == "lowest_energy") return point_choice::lowest_energy;
        throw config_error(where + ": \"" + s + "\" is not one of lowest_voltage, lowest_energy");
    }
    static const char* between_name(between_sentences b) noexcept {
        return b == between_sentences::stay ? "stay" : b == between_sentences::nominal ? "nominal" : "power_gate";
    }
    static between_sentences parse_between(const std::string& s, const std::string& where) {
        if (s == "stay") return between_sentences::stay;
        if (s == "nominal") return between_sentences::nominal;
        if (s == "power_gate" || s == "power-gate") return between_sentences::power_gate;
        throw config_error(where + ": \"" + s + "\" is not one of stay, nominal, power_gate");
    }

private:
    struct reader {
        std::string source;
        static std::string join(const std::string& at, const std::string& key) { return at.empty() ? key : at + "." + key; }
        void object(const nlohmann::json& j, const std::string& at, const std::set<std::string>& keys) const {
            if (!j.is_object()) throw config_error(source + ": " + (at.empty() ? "the top level" : at) + " must be an object");
            for (auto it = j.begin(); it != j.end(); ++it)
                if (!keys.count(it.key())) throw config_error(source + ": unknown key '" + join(at, it.key()) + "'");
        }
        const nlohmann::json* child(const nlohmann::json& j, const std::string&, const char* key) const {
            return j.contains(key) ? &j[key] : nullptr;
        }
        void number(const nlohmann::json& j, const std::string& at, const char* key, double& out) const {
            if (!j.contains(key)) return;
            const auto& v = j[key];
            if (!v.is_number()) throw config_error(source + ": " + join(at, key) + " must be a number");
            out = v.get<double>();
        }
        void size(const nlohmann::json& j, const std::string& at, const char* key, std::size_t& out) const {
            if (!j.contains(key)) return;
            const auto& v = j[key];
            if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<long long>() < 0))
                throw config_error(source + ": " + join(at, key) + " must be a non-negative integer");
            out = v.get<std::size_t>();
        }
        std::string text(const nlohmann::json& j, const std::string& at, const char* key) const {
            if (!j[key].is_string()) throw config_error(source + ": " + join(at, key) + " must be a string");
            return j[key].get<std::string>();
        }
        void boolean(const nlohmann::json& j, const std::string& at, const char* key, bool& out) const {
            if (!j.contains(key)) return;
            if (!j[key].is_boolean()) throw config_error(source + ": " + join(at, key) + " must be true or false");
            out = j[key].get<bool>();
        }
    };
};

}  // namespace edgebert::hw
