// SPDX-License-Identifier: Apache-2.0
// spiece.model (text/sentencepiece_model.hpp: protobuf wire format, trainer and normaliser specs, the
// precompiled character map) and the tokenizer built on it. An accepted model must tokenize any text (here the
// input's own tail as UTF-8 or not) without throwing, give ids inside the vocabulary, and decode its ids back.

#include <string>
#include <string_view>

#include <edgebert/text/unigram_tokenizer.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert::text;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const unigram_tokenizer tok(parse_model_proto(bytes, "fuzz.model"));
    fuzz_must_succeed("tokenizing with an accepted model", [&] {
        const std::string_view text = bytes.substr(size > 64 ? size - 64 : 0);
        for (const std::string_view t : {text, std::string_view(" Hello, wörld! \t\xe2\x80\x83 x\xff")}) {
            const std::vector<int> ids = tok.encode(t);
            for (int id : ids) FUZZ_REQUIRE(id >= 0 && id < tok.size());
            (void)tok.decode(ids);
        }
    });
}
