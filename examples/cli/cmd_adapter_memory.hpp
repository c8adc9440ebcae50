// SPDX-License-Identifier: Apache-2.0
#pragma once
// `edgebert energy --adapter-memory`: adapter-ALBERT's memory (backbone once in ReRAM, T task parts in SRAM)
// against T separately fine-tuned ALBERTs, for T = 1..--tasks-max: capacity, area, leakage, read energy per
// inference and power at --rate inferences per second, with the crossovers, as JSON; --svg FILE plots power
// and area against T.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <edgebert/hw/adapter_memory.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"

namespace edgebert_cli {

namespace detail {
/// --option as a number in [lo, hi); a usage_error naming the option otherwise.
inline double option_number(const args& a, const std::string& option, double fallback, double lo, double hi) {
    if (!a.has(option)) return fallback;
    const std::string s = a.get(option);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !(v >= lo) || !(v < hi))
        throw usage_error("option '--" + option + "' expects a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                          "), got '" + s + "'");
    return v;
}

inline void write_adapter_svg(const std::string& path, const std::vector<edgebert::hw::adapter_memory_report>& rows, double rate) {
    const double W = 820, H = 340, left = 60, top = 30, pw = 320, ph = 240, gap = 90;
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    auto panel = [&](double x0, const char* title, auto value_a, auto value_s) {
        double ymax = 0;
        for (const auto& r : rows) ymax = std::max({ymax, value_a(r), value_s(r)});
        ymax *= 1.1;
        const std::size_t n = rows.size();
        auto X = [&](std::size_t t) { return x0 + (n > 1 ? double(t - 1) / double(n - 1) : 0.5) * pw; };
        auto Y = [&](double v) { return top + ph - v / ymax * ph; };
        s << "<text x=\"" << x0 << "\" y=\"" << top - 10 << "\">" << title << "</text>\n";
        s << "<line x1=\"" << x0 << "\" y1=\"" << top + ph << "\" x2=\"" << x0 + pw << "\" y2=\"" << top + ph << "\" stroke=\"black\"/>\n";
        s << "<line x1=\"" << x0 << "\" y1=\"" << top << "\" x2=\"" << x0 << "\" y2=\"" << top + ph << "\" stroke=\"black\"/>\n";
        for (int k = 0; k <= 4; ++k) {
            const double v = ymax * k / 4;
            char b[32];
            std::snprintf(b, sizeof b, "%.3g", v);
            s << "<text x=\"" << x0 - 5 << "\" y=\"" << Y(v) + 4 << "\" text-anchor=\"end\">" << b << "</text>\n";
        }
        for (std::size_t t = 1; t <= n; ++t)
            s << "<text x=\"" << X(t) << "\" y=\"" << top + ph + 15 << "\" text-anchor=\"middle\">" << t << "</text>\n";
        s << "<text x=\"" << x0 + pw / 2 << "\" y=\"" << top + ph + 30 << "\" text-anchor=\"middle\">tasks T</text>\n";
        for (int which = 0; which < 2; ++which) {
            s << "<polyline fill=\"none\" stroke=\"" << (which ? "#c03020" : "#2060c0") << "\" stroke-width=\"2\" points=\"";
            for (std::size_t t = 1; t <= n; ++t) s << X(t) << "," << Y(which ? value_s(rows[t - 1]) : value_a(rows[t - 1])) << " ";
            s << "\"/>\n";
        }
    };
    char title[128];
    std::snprintf(title, sizeof title, "memory power (mW) at %g inferences/s: reads + leakage", rate);
    panel(left, title, [&](const auto& r) { return r.adapter.power_mw(rate); }, [&](const auto& r) { return r.separate.power_mw(rate); });
    panel(left + pw + gap, "memory area (mm2)", [](const auto& r) { return r.adapter.area_mm2(); }, [](const auto& r) { return r.separate.area_mm2(); });
    s << "<text x=\"" << left << "\" y=\"" << H - 8 << "\" fill=\"#2060c0\">adapter-ALBERT (backbone in ReRAM, tasks in SRAM)</text>\n"
      << "<text x=\"" << left + 380 << "\" y=\"" << H - 8 << "\" fill=\"#c03020\">T separate ALBERTs</text>\n</svg>\n";
    std::ofstream out(path);
    if (!out) throw edgebert::io_error("cannot write '" + path + "'");
    out << s.str();
}
}  // namespace detail

inline int cmd_adapter_memory(const args& a, const edgebert::hw::hw_params& params) {
    namespace hw = edgebert::hw;
    hw::adapter_memory_config c;
    const std::size_t tmax = std::size_t(a.integer("tasks-max", 8, 1));
    c.inferences_per_s = detail::option_number(a, "rate", 1.0, 0.0, 1e12);
    const std::string sep = a.get("separate", "reram-embeddings");
    if (sep == "reram-embeddings") c.separate_embeddings_in_reram = true;
    else if (sep == "all-sram") c.separate_embeddings_in_reram = false;
    else throw usage_error("--separate takes reram-embeddings or all-sram");
    c.shape.sparsity = detail::option_number(a, "sparsity", 0.5, 0.0, 1.0);
    c.shape.embedding_sparsity = detail::option_number(a, "embedding-sparsity", 0.6, 0.0, 1.0);
    std::vector<hw::adapter_memory_report> rows;
    nlohmann::ordered_json table = nlohmann::ordered_json::array();
    long power_cross = -1, area_cross = -1;
    for (std::size_t t = 1; t <= tmax; ++t) {
        c.tasks = t;
        rows.push_back(hw::map_adapter_albert(c, params));
        const auto& r = rows.back();
        if (power_cross < 0 && r.adapter.power_mw(c.inferences_per_s) < r.separate.power_mw(c.inferences_per_s)) power_cross = long(t);
        if (area_cross < 0 && r.adapter.area_mm2() < r.separate.area_mm2()) area_cross = long(t);
        table.push_back({{"tasks", t},
                         {"adapter_albert", hw::to_json(r.adapter, c.inferences_per_s)},
                         {"separate_albert", hw::to_json(r.separate, c.inferences_per_s)}});
    }
    nlohmann::ordered_json j;
    j["command"] = "energy --adapter-memory";
    j["hw"] = a.has("hw") ? a.get("hw") : "defaults";
    j["sparsity"] = c.shape.sparsity;
    j["embedding_sparsity"] = c.shape.embedding_sparsity;
    j["separate"] = sep;
    j["inferences_per_s"] = c.inferences_per_s;
    j["memories"] = {{"sram", {{"read_pj_per_bit", params.sram.read_pj_per_bit}, {"leakage_mw_per_mib", params.sram.leakage_mw_per_mib},
                               {"area_mm2_per_mib", params.sram.area_mm2_per_mib}}},
                     {"reram", {{"read_pj_per_bit", params.reram.read_pj_per_bit}, {"leakage_mw_per_mib", params.reram.leakage_mw_per_mib},
                                {"area_mm2_per_mib", params.reram.area_mm2_per_mib}}}};
    j["rows"] = table;
    j["power_crossover_tasks"] = power_cross > 0 ? nlohmann::ordered_json(power_cross) : nlohmann::ordered_json(nullptr);
    j["area_crossover_tasks"] = area_cross > 0 ? nlohmann::ordered_json(area_cross) : nlohmann::ordered_json(nullptr);
    // The rate at which reads and leakage balance for one task: above it the cheaper reads matter more.
    const auto& one = rows.front();
    const double dread = one.adapter.read_uj - one.separate.read_uj, dleak = one.separate.leakage_mw() - one.adapter.leakage_mw();
    j["t1_break_even_rate_per_s"] = dread > 0 ? nlohmann::ordered_json(dleak / (dread * 1e-3)) : nlohmann::ordered_json(nullptr);
    if (a.has("svg")) detail::write_adapter_svg(a.get("svg"), rows, c.inferences_per_s), j["svg"] = a.get("svg");
    std::cout << j.dump() << "\n";
    return 0;
}

}  // namespace edgebert_cli
