// SPDX-License-Identifier: Apache-2.0
// AdapterHub adapter_config.json and head_config.json (io/adapterhub.hpp), read as the file readers do.
// The same bytes go to both parsers: each must reject what is not its kind of file with a typed error.

#include <string>

#include <edgebert/core/read_file.hpp>
#include <edgebert/model/adapterhub.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const nlohmann::json j = detail::parse_json_text<config_error>(text, "fuzz.json");
    try {
        io::adapter_config a = io::parse_adapter_config(j, "adapter_config.json");
        if (a.hidden_size == 0) a.hidden_size = 64;
        for (std::size_t layer = 0; layer < 4; ++layer) {
            if (a.reduction_for(layer) <= 0) continue;  // a per-layer map without this layer: rejected when binding
            const std::size_t m = a.bottleneck_size(layer);
            FUZZ_REQUIRE(m >= 1);
            (void)a.left_out(layer);
        }
        (void)a.attention_prefix(0, 0);
        (void)a.depth_output_prefix(1, 0);
    } catch (const error&) {
    }
    const io::head_config h = io::parse_head_config(j, "head_config.json");
    FUZZ_REQUIRE(h.labels.size() == h.num_labels && h.layers >= 1);
    (void)h.linear_prefix(h.layers - 1);
}
