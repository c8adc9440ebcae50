// SPDX-License-Identifier: Apache-2.0
// The run tool's input JSON (io/input_json.hpp), read as read_token_batch does, then checked against a
// small model's limits as the tool does before inference.

#include <string>

#include <edgebert/core/read_file.hpp>
#include <edgebert/io/input_json.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const model::token_batch b = io::parse_token_batch(detail::parse_json_text<input_error>(text, "input.json"), "input.json");
    FUZZ_REQUIRE(b.input_ids.size() == b.batch * b.seq);
    FUZZ_REQUIRE(b.attention_mask.empty() || b.attention_mask.size() == b.batch * b.seq);
    FUZZ_REQUIRE(b.token_type_ids.empty() || b.token_type_ids.size() == b.batch * b.seq);
    model::albert_config c;
    c.vocab_size = 100;
    c.max_position_embeddings = 64;
    b.validate(c);
    for (std::size_t i = 0; i < b.batch; ++i)
        for (std::size_t s = 0; s < b.seq; ++s) {
            FUZZ_REQUIRE(b.mask(i, s) == 0 || b.mask(i, s) == 1);
            FUZZ_REQUIRE(b.token_type(i, s) >= 0 && std::uint64_t(b.token_type(i, s)) < c.type_vocab_size);
        }
}
