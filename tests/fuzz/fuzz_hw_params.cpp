// SPDX-License-Identifier: Apache-2.0
// The accelerator parameter file (hw/hw_params.hpp, `edgebert energy --hw`), read as the file reader does.
// Accepted parameters survive to_json/from_json, and pricing a small sentence with them gives finite,
// non-negative energies and latencies.

#include <cmath>
#include <string>

#include <edgebert/core/read_file.hpp>
#include <edgebert/hw/energy_report.hpp>
#include <edgebert/hw/hw_params.hpp>
#include <edgebert/hw/trace_builder.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const hw::hw_params p = hw::hw_params::from_json(detail::parse_json_text<config_error>(text, "hw.json"), "hw.json");
    fuzz_must_succeed("using accepted parameters", [&] {
        const hw::hw_params q = hw::hw_params::from_json(p.to_json(), "round trip");
        FUZZ_REQUIRE(q.to_json() == p.to_json());
        hw::albert_shape s;
        s.hidden = 64, s.intermediate = 128, s.embedding = 16, s.heads = 4, s.layers = 3, s.seq_len = 8, s.vocab = 100;
        const hw::cycle_model cycles(p);
        exit::entropy_threshold t;
        t.thresholds = {0.5};
        hw::energy_options o;
        o.target_ms = 1.0;
        const hw::energy_reporter r(p, t, t, o);
        const double entropies[3] = {0.9, 0.4, 0.1};
        const hw::sentence_energy e = r.price(hw::cost_sentence(cycles, hw::build_trace(s, 3)), entropies);
        for (const hw::run_result* x : {&e.all_layers, &e.early_exit, &e.edgebert}) {
            FUZZ_REQUIRE(std::isfinite(x->energy.total_uj()) && x->energy.total_uj() >= 0);
            FUZZ_REQUIRE(std::isfinite(x->latency_ms) && x->latency_ms >= 0);
        }
    });
}
