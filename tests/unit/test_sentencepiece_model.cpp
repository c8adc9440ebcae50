// SPDX-License-Identifier: Apache-2.0
// The ModelProto wire reader: fields of the committed test models, hand-built messages (unknown fields,
// negative ids, other model types), and every truncation / many corruptions of a real model, which must
// parse or fail with format_error, never anything else.
#include <catch2/catch.hpp>

#include "support/text_corpus.hpp"

#include <edgebert/text/sentencepiece_model.hpp>
#include <edgebert/text/unigram_tokenizer.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using namespace edgebert;
using namespace edgebert::text;

using test_text::slurp;

namespace {

const std::string spm_dir = std::string(EDGEBERT_TEST_DATA_DIR) + "/spm/";

// A minimal protobuf writer for building test messages.
struct pb {
    std::string bytes;
    pb& varint(std::uint64_t v) {
        do {
            unsigned char b = v & 0x7F;
            v >>= 7;
            if (v) b |= 0x80;
            bytes.push_back(char(b));
        } while (v);
        return *this;
    }
    pb& key(std::uint32_t field, int wt) { return varint((std::uint64_t(field) << 3) | unsigned(wt)); }
    pb& int_field(std::uint32_t f, std::int64_t v) { return key(f, 0).varint(std::uint64_t(v)); }
    pb& str(std::uint32_t f, const std::string& s) {
        key(f, 2).varint(s.size());
        bytes += s;
        return *this;
    }
    pb& flt(std::uint32_t f, float x) {
        key(f, 5);
        std::uint32_t u;
        std::memcpy(&u, &x, 4);
        for (int i = 0; i < 4; ++i) bytes.push_back(char((u >> (8 * i)) & 0xFF));
        return *this;
    }
};

std::string piece(const std::string& s, float score, int type) {
    pb p;
    p.str(1, s).flt(2, score);
    if (type != 1) p.int_field(3, type);
    return p.bytes;
}

std::string tiny_model(int model_type = 1) {
    pb m;
    m.str(1, piece("<unk>", 0, 2)).str(1, piece("<s>", 0, 3)).str(1, piece("\xE2\x96\x81" "a", -1.5f, 1));
    m.str(1, piece("b", -2.0f, 1));
    pb trainer;
    trainer.int_field(3, model_type).int_field(4, 4).int_field(41, -1).int_field(43, -1).int_field(35, 0);
    trainer.str(2, "prefix").int_field(999, 7);  // model_prefix and an unknown field are skipped
    m.str(2, trainer.bytes);
    pb norm;
    norm.str(1, "identity").int_field(3, 0).int_field(4, 1);
    m.str(3, norm.bytes);
    m.key(77, 1).bytes += std::string(8, '\x01');  // unknown fixed64 field
    return m.bytes;
}

}  // namespace

TEST_CASE("sentencepiece_model: fields of the test models", "[text]") {
    const auto nfkc = read_model_proto(spm_dir + "nfkc.model");
    CHECK(nfkc.pieces.size() == 4000);
    CHECK(nfkc.trainer.model_type == 1);
    CHECK(nfkc.trainer.vocab_size == 4000);
    CHECK(nfkc.trainer.unk_id == 0);
    CHECK(nfkc.trainer.bos_id == 1);
    CHECK(nfkc.trainer.eos_id == 2);
    CHECK(nfkc.trainer.pad_id == -1);
    CHECK_FALSE(nfkc.trainer.byte_fallback);
    CHECK(nfkc.normalizer.name == "nmt_nfkc");
    CHECK(nfkc.normalizer.precompiled_charsmap.size() > 1000);
    CHECK(nfkc.normalizer.add_dummy_prefix);
    CHECK(nfkc.normalizer.remove_extra_whitespaces);
    CHECK(nfkc.normalizer.escape_whitespaces);
    CHECK(nfkc.pieces[0].piece == "<unk>");
    CHECK(nfkc.pieces[0].type == piece_type::unknown);
    CHECK(nfkc.pieces[1].type == piece_type::control);
    int user = 0;
    for (const auto& p : nfkc.pieces) user += p.type == piece_type::user_defined;
    CHECK(user == 2);
    // Scores of normal pieces are log-probabilities, sorted best first after the special pieces.
    CHECK(nfkc.pieces[10].score < 0.0f);
    CHECK(nfkc.pieces[10].score >= nfkc.pieces[3999].score);

    const auto bytefb = read_model_proto(spm_dir + "bytefb.model");
    CHECK(bytefb.trainer.byte_fallback);
    int bytes = 0;
    for (const auto& p : bytefb.pieces) bytes += p.type == piece_type::byte;
    CHECK(bytes == 256);
    CHECK(bytefb.normalizer.name == "identity");
    CHECK(bytefb.normalizer.precompiled_charsmap.empty());

    const auto albert = read_model_proto(spm_dir + "albert.model");
    CHECK(albert.trainer.pad_id == 0);
    CHECK(albert.trainer.unk_id == 1);
    CHECK(albert.trainer.bos_id == -1);
    CHECK(albert.trainer.eos_id == -1);
    CHECK(albert.pieces[2].piece == "[CLS]");
    CHECK(albert.pieces[4].type == piece_type::user_defined);

    const auto flags = read_model_proto(spm_dir + "flags.model");
    CHECK(flags.normalizer.name == "nfkc_cf");
    CHECK_FALSE(flags.normalizer.add_dummy_prefix);
    CHECK_FALSE(flags.normalizer.remove_extra_whitespaces);
    CHECK(flags.trainer.treat_whitespace_as_suffix);
    CHECK(flags.trainer.split_digits);
}

TEST_CASE("sentencepiece_model: hand-built message", "[text]") {
    const auto m = parse_model_proto(tiny_model());
    REQUIRE(m.pieces.size() == 4);
    CHECK(m.pieces[2].piece == "\xE2\x96\x81" "a");
    CHECK(m.pieces[2].score == -1.5f);
    CHECK(m.pieces[3].type == piece_type::normal);
    CHECK(m.trainer.bos_id == -1);  // ten-byte varint of a negative int32
    CHECK(m.trainer.pad_id == -1);
    CHECK(m.trainer.eos_id == 2);   // default when absent
    CHECK(m.normalizer.name == "identity");
    CHECK_FALSE(m.normalizer.add_dummy_prefix);
    const unigram_tokenizer tok(m);
    // No dummy prefix: "a▁b▁a". "a" and "▁" have no pieces, so they are one merged <unk>; then "b", "▁a".
    CHECK(tok.encode("a b a") == std::vector<int>{0, 3, 2});
}

TEST_CASE("sentencepiece_model: only unigram models", "[text]") {
    CHECK_THROWS_WITH(parse_model_proto(tiny_model(2)), Catch::Contains("BPE") && Catch::Contains("only UNIGRAM"));
    CHECK_THROWS_WITH(parse_model_proto(tiny_model(3)), Catch::Contains("WORD"));
    CHECK_THROWS_WITH(parse_model_proto(tiny_model(9)), Catch::Contains("model_type is 9"));
}

TEST_CASE("sentencepiece_model: malformed messages name the field and offset", "[text]") {
    CHECK_THROWS_WITH(parse_model_proto(""), Catch::Contains("empty"));
    CHECK_THROWS_AS(parse_model_proto("not a model at all"), format_error);
    {
        pb m;
        m.key(1, 0).varint(5);  // pieces with a varint wire type
        CHECK_THROWS_WITH(parse_model_proto(m.bytes), Catch::Contains("ModelProto.pieces[0] has wire type 0"));
    }
    {
        pb m;
        m.key(1, 2).varint(50);  // length past the end
        m.bytes += "abc";
        CHECK_THROWS_WITH(parse_model_proto(m.bytes),
                          Catch::Contains("truncated ModelProto.pieces[0]") && Catch::Contains("offset 2"));
    }
    {
        pb m;
        m.str(1, piece("x", 0, 9));
        CHECK_THROWS_WITH(parse_model_proto(m.bytes), Catch::Contains("unknown piece type 9"));
    }
    {
        std::string s = tiny_model();
        s += std::string(11, '\xFF');  // a varint that never ends
        CHECK_THROWS_WITH(parse_model_proto(s), Catch::Contains("varint"));
    }
    {
        pb m;
        m.key(3, 3);  // start-group wire type
        CHECK_THROWS_WITH(parse_model_proto(m.bytes), Catch::Contains("wire type 3"));
    }
    {
        pb m;
        m.str(1, piece("x", 0, 1));
        pb p;
        p.key(2, 5).bytes += "\x01\x02";  // score with two of its four bytes
        m.str(1, p.bytes);
        CHECK_THROWS_WITH(parse_model_proto(m.bytes), Catch::Contains("truncated 32-bit value in ModelProto.pieces[1].score"));
    }
    CHECK_THROWS_AS(read_model_proto(spm_dir + "does-not-exist.model"), io_error);
}

TEST_CASE("sentencepiece_model: truncated and corrupted real models fail with format_error only", "[text]") {
    const std::string bytes = slurp(spm_dir + "albert.model");
    auto try_load = [](const std::string& b) -> int {
        try {
            const unigram_tokenizer tok(parse_model_proto(b, "corrupt.model"));
            (void)tok.encode("A sentence, with 12,5 \xC3\xA9l\xC3\xA8ves and \xE2\x80\x94 dashes.");
            return 0;
        } catch (const format_error&) {
            return 1;
        }
    };
    // Every cut in the first and last 150 bytes (headers, trainer and normalizer specs), then every 1009th.
    int failures = 0, cuts = 0;
    for (std::size_t n = 0; n < bytes.size(); n += (n < 150 || n + 150 > bytes.size()) ? 1 : 1009) {
        failures += try_load(bytes.substr(0, n));
        ++cuts;
    }
    CHECK(failures > cuts / 2);
    CHECK(try_load(bytes) == 0);
    // Random byte corruptions (the charsmap region included).
    std::mt19937 rng(12345);
    for (int i = 0; i < 100; ++i) {
        std::string b = bytes;
        for (int k = 0; k < 4; ++k) b[rng() % b.size()] = char(rng() & 0xFF);
        try_load(b);  // may or may not fail; any other exception or a crash fails the test
    }
}
