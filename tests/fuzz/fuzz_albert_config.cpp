// SPDX-License-Identifier: Apache-2.0
// config.json (model/albert_config.hpp) read as the file reader does (detail::parse_json_text, then
// albert_config::from_json). An accepted config survives to_json/from_json unchanged and its layer-to-group
// map stays inside the groups.

#include <string>

#include <edgebert/core/read_file.hpp>
#include <edgebert/core/albert_config.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const model::albert_config c =
        model::albert_config::from_json(detail::parse_json_text<config_error>(text, "config.json"), "config.json");
    fuzz_must_succeed("round trip of an accepted config", [&] {
    const model::albert_config d = model::albert_config::from_json(c.to_json(), "round trip");
    FUZZ_REQUIRE(d.vocab_size == c.vocab_size && d.hidden_size == c.hidden_size &&
                 d.num_hidden_layers == c.num_hidden_layers && d.num_hidden_groups == c.num_hidden_groups &&
                 d.num_attention_heads == c.num_attention_heads && d.intermediate_size == c.intermediate_size &&
                 d.inner_group_num == c.inner_group_num && d.hidden_act == c.hidden_act &&
                 d.max_position_embeddings == c.max_position_embeddings && d.type_vocab_size == c.type_vocab_size &&
                 d.layer_norm_eps == c.layer_norm_eps && d.num_labels == c.num_labels && d.id2label == c.id2label &&
                 d.embedding_size == c.embedding_size);
    FUZZ_REQUIRE(c.head_size() * c.num_attention_heads == c.hidden_size);
    (void)c.activation();
    });
}
