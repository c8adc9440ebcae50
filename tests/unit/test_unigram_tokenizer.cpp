// SPDX-License-Identifier: Apache-2.0
// The unigram tokenizer against the SentencePiece library (0.1.97): committed golden ids for four small
// models over every SST-2 dev sentence, a few hundred mixed-language lines, malformed UTF-8 and random
// strings of tricky characters; and, when python3 with sentencepiece is installed, a fresh comparison
// that includes the bundled model.
#include <catch2/catch.hpp>

#include "support/skip.hpp"
#include "support/text_corpus.hpp"

#include <edgebert/text/unigram_tokenizer.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace edgebert;
using namespace edgebert::text;

using namespace test_text;

namespace {

const std::string spm_dir = std::string(EDGEBERT_TEST_DATA_DIR) + "/spm/";
const std::string repo_dir = std::string(EDGEBERT_SOURCE_DIR) + "/";

std::vector<int> parse_ids(const std::string& line) {
    std::vector<int> ids;
    std::istringstream in(line);
    int x;
    while (in >> x) ids.push_back(x);
    return ids;
}

// Compares encode() with reference id lines; returns the number of differing lines (reporting a few).
std::size_t compare(const unigram_tokenizer& tok, const std::vector<std::string>& texts,
                    const std::vector<std::string>& expected, const std::string& what) {
    REQUIRE(texts.size() == expected.size());
    std::size_t bad = 0;
    encode_workspace ws;
    std::vector<int> ids;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        ids.clear();
        tok.encode(texts[i], ids, ws);
        if (join(ids) != join(parse_ids(expected[i]))) {
            if (++bad <= 5)
                UNSCOPED_INFO(what << " line " << i << ": '" << texts[i] << "'\n  got      " << join(ids)
                                   << "\n  expected " << expected[i]);
        }
    }
    return bad;
}

// python3 with the sentencepiece module, or "" if there is none.
std::string python_with_sentencepiece() {
    for (const char* py : {"python3", "/usr/bin/python3"}) {
        const std::string cmd = std::string(py) + " -c 'import sentencepiece' > /dev/null 2>&1";
        if (std::system(cmd.c_str()) == 0) return py;
    }
    return "";
}

}  // namespace

TEST_CASE("unigram_tokenizer: golden ids of SentencePiece for every model and corpus", "[text][golden]") {
    const auto mixed = read_lines(spm_dir + "mixed.txt");
    const auto invalid = read_lines(spm_dir + "invalid_utf8.txt");
    const auto random = read_lines(spm_dir + "random.txt");
    REQUIRE(mixed.size() > 300);
    REQUIRE(random.size() == 1500);
    REQUIRE(invalid.size() >= 10);
    for (const std::string model : {"nfkc", "bytefb", "albert", "flags"}) {
        DYNAMIC_SECTION(model) {
            const auto tok = unigram_tokenizer::load(spm_dir + model + ".model");
            CHECK(compare(tok, mixed, read_lines(spm_dir + model + ".mixed.ids"), model + " mixed") == 0);
            CHECK(compare(tok, invalid, read_lines(spm_dir + model + ".invalid.ids"), model + " invalid") == 0);
            CHECK(compare(tok, random, read_lines(spm_dir + model + ".random.ids"), model + " random") == 0);
        }
    }
}

TEST_CASE("unigram_tokenizer: golden ids of SentencePiece on every SST-2 dev sentence (../shared/data)", "[text][golden][shared]") {
    const auto dev = sst2_dev();
    if (dev.empty()) EDGEBERT_SKIP_TEST("no glue-sst2/dev.tsv in " << EDGEBERT_SHARED_DATA_DIR);
    REQUIRE(dev.size() == 872);
    for (const std::string model : {"nfkc", "bytefb", "albert", "flags"}) {
        const auto tok = unigram_tokenizer::load(spm_dir + model + ".model");
        CHECK(compare(tok, dev, read_lines(spm_dir + model + ".sst2_dev.ids"), model + " sst2") == 0);
    }
}

TEST_CASE("unigram_tokenizer: decode matches SentencePiece's decode", "[text][golden]") {
    const auto tok = unigram_tokenizer::load(spm_dir + "nfkc.model");
    const auto mixed = read_lines(spm_dir + "mixed.txt");
    const auto decoded = read_lines(spm_dir + "nfkc.mixed.decoded.jsonl");
    REQUIRE(decoded.size() == mixed.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < mixed.size(); ++i) {
        // The golden lines are JSON strings with \uXXXX escapes; compare through the same escaping.
        const std::string got = tok.decode(tok.encode(mixed[i]));
        std::string esc = "\"";
        const std::u32string cps = [&] {
            std::u32string u;
            for (std::size_t k = 0; k < got.size();) {
                std::size_t n = 0;
                u.push_back(text::detail::decode_utf8(got.data() + k, got.data() + got.size(), n));
                k += n;
            }
            return u;
        }();
        char buf[16];
        for (char32_t c : cps) {
            auto hex = [&](unsigned v) {
                std::snprintf(buf, sizeof buf, "\\u%04x", v);
                esc += buf;
            };
            if (c == '"') esc += "\\\"";
            else if (c == '\\') esc += "\\\\";
            else if (c == '\n') esc += "\\n";
            else if (c == '\r') esc += "\\r";
            else if (c == '\t') esc += "\\t";
            else if (c == '\b') esc += "\\b";
            else if (c == '\f') esc += "\\f";
            else if (c >= 0x20 && c < 0x7F) esc += char(c);
            else if (c < 0x10000) hex(unsigned(c));
            else {
                const unsigned v = unsigned(c) - 0x10000;
                hex(0xD800 + (v >> 10));
                hex(0xDC00 + (v & 0x3FF));
            }
        }
        esc += "\"";
        if (esc != decoded[i] && ++bad <= 5) UNSCOPED_INFO("line " << i << "\n  got      " << esc << "\n  expected " << decoded[i]);
    }
    CHECK(bad == 0);
}

TEST_CASE("unigram_tokenizer: fresh comparison with the Python library when installed", "[text][python]") {
    const std::string py = python_with_sentencepiece();
    if (py.empty()) EDGEBERT_SKIP_TEST("python3 with sentencepiece is not installed (apt-get install python3-sentencepiece)");
    const std::string tmp_in = "/tmp/edgebert_text_test_in_" + std::to_string(::getpid()) + ".txt";
    const std::string tmp_out = tmp_in + ".ids";
    std::vector<std::string> texts = read_lines(spm_dir + "mixed.txt");
    for (const auto& s : sst2_dev()) texts.push_back(s);
    for (const auto& s : read_lines(spm_dir + "invalid_utf8.txt")) texts.push_back(s);
    for (const auto& s : read_lines(spm_dir + "random.txt")) texts.push_back(s);
    {
        std::ofstream out(tmp_in, std::ios::binary);
        for (const auto& t : texts) out << t << '\n';
    }
    std::vector<std::string> models = {spm_dir + "nfkc.model", spm_dir + "bytefb.model"};
    const std::string bundled = repo_dir + "models/albert-tiny-sst2-lang/spiece.model";
    REQUIRE(file_exists(bundled));
    models.push_back(bundled);
    for (const auto& m : models) {
        const std::string cmd = py + " " + repo_dir + "python/tools/spm_reference.py " + m + " " + tmp_in + " " + tmp_out;
        REQUIRE(std::system(cmd.c_str()) == 0);
        const auto tok = unigram_tokenizer::load(m);
        CHECK(compare(tok, texts, read_lines(tmp_out), m) == 0);
    }
    std::remove(tmp_in.c_str());
    std::remove(tmp_out.c_str());
}

TEST_CASE("unigram_tokenizer: special pieces, ids and edge inputs", "[text]") {
    const auto tok = unigram_tokenizer::load(spm_dir + "albert.model");
    CHECK(tok.pad_id() == 0);
    CHECK(tok.unk_id() == 1);
    CHECK(tok.piece_to_id("[CLS]") == 2);
    CHECK(tok.piece_to_id("[SEP]") == 3);
    CHECK(tok.piece_to_id("[MASK]") == 4);
    CHECK(tok.type(2) == piece_type::control);
    CHECK(tok.type(4) == piece_type::user_defined);
    CHECK(tok.piece_to_id("no such piece at all") == tok.unk_id());
    for (int id = 0; id < tok.size(); ++id) {
        if (tok.type(id) == piece_type::unused) continue;
        REQUIRE(tok.piece_to_id(tok.id_to_piece(id)) == id);
    }
    CHECK_THROWS_AS(tok.id_to_piece(-1), input_error);
    CHECK_THROWS_AS(tok.id_to_piece(tok.size()), input_error);
    CHECK_THROWS_AS(tok.decode({tok.size()}), input_error);

    CHECK(tok.encode("").empty());
    CHECK(tok.encode(" \t  ").empty());
    // Control symbols written in the text are ordinary text; user-defined ones are always one piece.
    const auto cls_text = tok.encode("[CLS]");
    CHECK(std::find(cls_text.begin(), cls_text.end(), 2) == cls_text.end());
    const auto mask_text = tok.encode("a[MASK]b");
    CHECK(std::find(mask_text.begin(), mask_text.end(), 4) != mask_text.end());

    // A run of characters without pieces is one <unk>, not one per character.
    const auto unk_run = tok.encode("\xF0\x9F\x98\x80\xF0\x9F\x98\x81\xF0\x9F\x98\x82");
    CHECK(std::count(unk_run.begin(), unk_run.end(), tok.unk_id()) == 1);

    // Encoding into a reused workspace appends and gives the same ids as a fresh call.
    encode_workspace ws;
    std::vector<int> ids;
    tok.encode("first sentence", ids, ws);
    const std::size_t n1 = ids.size();
    tok.encode("second one", ids, ws);
    CHECK(std::vector<int>(ids.begin() + long(n1), ids.end()) == tok.encode("second one"));
}

TEST_CASE("unigram_tokenizer: byte fallback round-trips any UTF-8 through decode", "[text]") {
    const auto tok = unigram_tokenizer::load(spm_dir + "bytefb.model");
    for (const std::string s : {"plain ascii words", "漢字とかな", "emoji \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD ok",
                                "ĞÜŞİÖÇ ğüşiöç"}) {
        const auto ids = tok.encode(s);
        CHECK(std::find(ids.begin(), ids.end(), tok.unk_id()) == ids.end());
        CHECK(tok.decode(ids) == s);
    }
    // Malformed bytes were replaced by U+FFFD before segmentation, so they decode as U+FFFD.
    CHECK(tok.decode(tok.encode("a\xFF" "b")) == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("unigram_tokenizer: models that break SentencePiece's rules are format errors", "[text]") {
    auto base = read_model_proto(spm_dir + "nfkc.model");
    SECTION("no unknown piece") {
        for (auto& p : base.pieces)
            if (p.type == piece_type::unknown) p.type = piece_type::control;
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("no UNKNOWN piece"));
    }
    SECTION("two unknown pieces") {
        base.pieces[5].type = piece_type::unknown;
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("second UNKNOWN"));
    }
    SECTION("duplicate piece") {
        base.pieces[10].piece = base.pieces[11].piece;
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("already defined"));
    }
    SECTION("empty piece") {
        base.pieces[12].piece.clear();
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("piece 12 is empty"));
    }
    SECTION("byte piece without byte_fallback") {
        base.pieces[13] = {"<0x41>", 0.0f, piece_type::byte};
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("byte_fallback is false"));
    }
    SECTION("byte_fallback without all bytes") {
        base.trainer.byte_fallback = true;
        base.pieces[13] = {"<0x41>", 0.0f, piece_type::byte};
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("no piece for byte 0"));
    }
    SECTION("malformed byte piece") {
        base.trainer.byte_fallback = true;
        base.pieces[13] = {"<0x4g>", 0.0f, piece_type::byte};
        CHECK_THROWS_WITH(unigram_tokenizer(base), Catch::Contains("invalid byte piece"));
    }
}

TEST_CASE("unigram_tokenizer: unused pieces are never produced", "[text]") {
    auto proto = read_model_proto(spm_dir + "nfkc.model");
    const unigram_tokenizer before(proto);
    const auto ids = before.encode("the movie is good");
    REQUIRE(!ids.empty());
    const int target = ids.front();
    proto.pieces[std::size_t(target)].type = piece_type::unused;
    const unigram_tokenizer after(proto);
    const auto ids2 = after.encode("the movie is good");
    CHECK(std::find(ids2.begin(), ids2.end(), target) == ids2.end());
    CHECK(after.decode(ids2) == "the movie is good");
}
