// SPDX-License-Identifier: Apache-2.0
#pragma once
// Every number the accelerator model uses, in one plain struct with JSON load and save. Defaults are the
// EdgeBERT released SystemC model where it fixes a value (hw/cmod, n = 16) and assumptions for a 12 nm
// FinFET design where the paper's values are not public; docs/hw.md lists the provenance of each, and the
// comments below carry the short form: [code FILE] read from harvard-acc/EdgeBERT at 1249ed7, [figure]
// from the paper figure shipped there, [derived] arithmetic shown in docs/hw.md, [assumed] our choice.
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
    none,     ///< every product-sum toggles
    vector,   ///< an n-element product-sum is clock-gated when its weight vector is all zeros [code Datapath_Top]
    element,  ///< each zero weight saves its own multiply (a finer-grained design)
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
    zero_gating gating = zero_gating::vector;  ///< [code Datapath_Top, figure "Gate MAC for null vectors"]
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

    // --- memories [assumed per-bit energies and leakage; capacities from the figure where shown] -------
    memory_tech buffer{0.06, 0.07, 128, 1.0, 0.3, 0, true};    ///< PU buffers; capacity derived from n and entries
    memory_tech sram{0.15, 0.18, 256, 1.5, 0.1, 8.0, false};   ///< task parameters and spilled activations
    memory_tech reram{1.0, 0.0, 128, 10.0, 0.0, 2.0, false};   ///< shared parameters; 2 MB [figure]
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
                 {"leakage_mw_per_mib", m.leakage_mw_per_mib}};
            if (with_capacity) j["capacity_mib"] = m.capacity_mib;
            j["on_dvfs_rail"] = m.on_dvfs_rail;
            return j;
        };
        oj pts = oj::array();
        for (const operating_point& p : points.points) pts.push_back(oj{{"voltage_v", p.voltage_v}, {"freq_mhz", p.freq_mhz}});
        return oj{
            {"datapath", {{"n", n}, {"overlap_load", overlap_load}, {"zero_gating", gating_name(gating)},
                          {"skip_zero_work", skip_zero_work}, {"word_bits", word_bits}, {"accum_bits", accum_bits}}},
            {"buffers", {{"decoders", decoders}, {"entries_per_bank", entries_per_bank}, {"aux_entries_per_bank", aux_entries_per_bank}}},
            {"sfu", {{"softmax", sfu(softmax)}, {"layer_norm", sfu(layer_norm)}, {"elem_add", sfu(elem_add)},
                     {"entropy", sfu(entropy)}, {"dvfs_unit_cycles", dvfs_unit_cycles}}},
            {"operating_points", pts},
            {"dvfs", {{"ldo_settle_us", ldo_settle_us}, {"adpll_relock_us", adpll_relock_us},
                      {"ldo_decap_nf", ldo_decap_nf}, {"adpll_power_mw", adpll_power_mw}}},
            {"power", {{"c_eff_mac_pf", c_eff_mac_pf}, {"c_eff_sfu_op_pf", c_eff_sfu_op_pf},
                       {"c_eff_cycle_pf", c_eff_cycle_pf}, {"leakage_mw_per_v", leakage_mw_per_v}}},
            {"memory", {{"buffer", mem(buffer, false)}, {"sram", mem(sram, true)}, {"reram", mem(reram, true)},
                        {"backbone_in_reram", backbone_in_reram}}},
        };
    }

    /// Defaults overridden by the keys present in `j`; `source` names the file in messages.
    static hw_params from_json(const nlohmann::json& j, const std::string& source = "hw.json") {
        hw_params p;
        reader r{source};
        r.object(j, "", {"datapath", "buffers", "sfu", "operating_points", "dvfs", "power", "memory"});
        if (const auto* d = r.child(j, "", "datapath")) {
            r.object(*d, "datapath", {"n", "overlap_load", "zero_gating", "skip_zero_work", "word_bits", "accum_bits"});
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
            r.object(*d, "dvfs", {"ldo_settle_us", "adpll_relock_us", "ldo_decap_nf", "adpll_power_mw"});
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
            r.object(*m, "memory", {"buffer", "sram", "reram", "backbone_in_reram"});
            for (auto& u : {std::make_pair("buffer", &p.buffer), std::make_pair("sram", &p.sram), std::make_pair("reram", &p.reram)})
                if (const auto* o = r.child(*m, "memory", u.first)) {
                    const std::string at = std::string("memory.") + u.first;
                    const bool cap = std::string(u.first) != "buffer";  // the buffers' size follows from the datapath
                    std::set<std::string> keys{"read_pj_per_bit", "write_pj_per_bit", "access_bits", "read_latency_ns",
                                               "leakage_mw_per_mib", "on_dvfs_rail"};
                    if (cap) keys.insert("capacity_mib");
                    r.object(*o, at, keys);
                    r.number(*o, at, "read_pj_per_bit", u.second->read_pj_per_bit);
                    r.number(*o, at, "write_pj_per_bit", u.second->write_pj_per_bit);
                    r.number(*o, at, "access_bits", u.second->access_bits);
                    r.number(*o, at, "read_latency_ns", u.second->read_latency_ns);
                    r.number(*o, at, "leakage_mw_per_mib", u.second->leakage_mw_per_mib);
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
        return g == zero_gating::none ? "none" : g == zero_gating::vector ? "vector" : "element";
    }
    static zero_gating parse_gating(const std::string& s, const std::string& where) {
        if (s == "none") return zero_gating::none;
        if (s == "vector") return zero_gating::vector;
        if (s == "element") return zero_gating::element;
        throw config_error(where + ": \"" + s + "\" is not one of none, vector, element");
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
        void boolean(const nlohmann::json& j, const std::string& at, const char* key, bool& out) const {
            if (!j.contains(key)) return;
            if (!j[key].is_boolean()) throw config_error(source + ": " + join(at, key) + " must be true or false");
            out = j[key].get<bool>();
        }
    };
};

}  // namespace edgebert::hw
