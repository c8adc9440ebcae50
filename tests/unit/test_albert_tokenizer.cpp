// SPDX-License-Identifier: Apache-2.0
// ALBERT's conventions over the unigram tokenizer: golden ids from HF AlbertTokenizer's logic on the
// SentencePiece library (python/tools/spm_reference.py) for every SST-2 dev sentence and the mixed text,
// cased/uncased options, pairs with token types; preprocessing cases; truncation; loading a folder.
#include <catch2/catch.hpp>

#include "support/skip.hpp"
#include "support/text_corpus.hpp"

#include <edgebert/text/albert_tokenizer.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <filesystem>
#include <unistd.h>

using namespace edgebert;
using namespace edgebert::text;

using namespace test_text;

namespace {

const std::string spm_dir = std::string(EDGEBERT_TEST_DATA_DIR) + "/spm/";
const std::string repo_dir = std::string(EDGEBERT_SOURCE_DIR) + "/";

std::size_t compare(const albert_tokenizer& tok, const std::vector<std::string>& texts,
                    const std::vector<std::string>& expected, const std::string& what) {
    REQUIRE(texts.size() == expected.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::string got = join(tok.encode(texts[i]));
        if (got != expected[i] && ++bad <= 5)
            UNSCOPED_INFO(what << " line " << i << ": '" << texts[i] << "'\n  got      " << got << "\n  expected "
                               << expected[i]);
    }
    return bad;
}

albert_tokenizer albert(bool lower = true, bool keep_accents = false) {
    albert_options o;
    o.do_lower_case = lower;
    o.keep_accents = keep_accents;
    return albert_tokenizer(unigram_tokenizer::load(spm_dir + "albert.model"), o);
}

}  // namespace

TEST_CASE("albert_tokenizer: golden ids (HF AlbertTokenizer logic on the SentencePiece library)", "[text][golden]") {
    const auto mixed = read_lines(spm_dir + "mixed.txt");
    CHECK(compare(albert(), mixed, read_lines(spm_dir + "albert.mixed.albert.ids"), "mixed") == 0);
    CHECK(compare(albert(false, true), mixed, read_lines(spm_dir + "albert.mixed.albert-cased.ids"), "cased") == 0);
    CHECK(compare(albert(), read_lines(spm_dir + "random.txt"), read_lines(spm_dir + "albert.random.albert.ids"), "random") == 0);
    // Pairs: lines 2k and 2k+1, "ids<TAB>types".
    const auto pairs = read_lines(spm_dir + "albert.mixed.albert-pairs.ids");
    REQUIRE(pairs.size() == mixed.size() / 2);
    const auto tok = albert();
    std::size_t bad = 0;
    for (std::size_t k = 0; k < pairs.size(); ++k) {
        const auto e = tok.encode_pair(mixed[2 * k], mixed[2 * k + 1]);
        const std::string got = join(e.ids) + "\t" + join(e.token_type_ids);
        if (got != pairs[k] && ++bad <= 5) UNSCOPED_INFO("pair " << k << "\n  got      " << got << "\n  expected " << pairs[k]);
    }
    CHECK(bad == 0);
}

TEST_CASE("albert_tokenizer: golden ids on every SST-2 dev sentence (../shared/data)", "[text][golden][shared]") {
    const auto dev = sst2_dev();
    if (dev.empty()) EDGEBERT_SKIP_TEST("no glue-sst2/dev.tsv in " << EDGEBERT_SHARED_DATA_DIR);
    REQUIRE(dev.size() == 872);
    CHECK(compare(albert(), dev, read_lines(spm_dir + "albert.sst2_dev.albert.ids"), "sst2") == 0);
}

TEST_CASE("albert_tokenizer: the bundled model's ids equal the SentencePiece library's (committed goldens)", "[text][golden]") {
    // Goldens written by python/tools/spm_reference.py (python3-sentencepiece 0.1.97) on the bundled
    // spiece.model: bundled.<corpus>.plain.ids (the library's encode) and bundled.<corpus>.albert.ids
    // (AlbertTokenizer's preprocessing + [CLS]/[SEP]), for the model's two dev sets and the mixed text.
    const std::string model = repo_dir + "models/albert-tiny-sst2-lang";
    albert_options untruncated = albert_tokenizer::read_options(model + "/tokenizer_config.json");
    untruncated.max_length = 0;  // the library script does not truncate; the model's max_length is 128
    const albert_tokenizer tok(unigram_tokenizer::load(model + "/spiece.model"), untruncated);
    const unigram_tokenizer spm = unigram_tokenizer::load(model + "/spiece.model");
    auto texts_of = [&](const std::string& tsv) {
        std::vector<std::string> out;
        for (const auto& row : read_lines(tsv)) out.push_back(row.substr(row.find('\t') + 1));
        return out;
    };
    const std::vector<std::pair<std::string, std::vector<std::string>>> corpora{
        {"sst2", texts_of(model + "/reference/sst2_dev.tsv")},
        {"lang", texts_of(model + "/reference/lang_dev.tsv")},
        {"mixed", read_lines(spm_dir + "mixed.txt")}};
    for (const auto& [name, texts] : corpora) {
        CHECK(compare(tok, texts, read_lines(spm_dir + "bundled." + name + ".albert.ids"), name + " albert") == 0);
        const auto plain = read_lines(spm_dir + "bundled." + name + ".plain.ids");
        REQUIRE(plain.size() == texts.size());
        std::size_t bad = 0;
        for (std::size_t i = 0; i < texts.size(); ++i)
            if (join(spm.encode(texts[i])) != plain[i] && ++bad <= 5)
                UNSCOPED_INFO(name << " plain line " << i << ": got " << join(tok.encode_plain(texts[i])) << "\n  expected " << plain[i]);
        CHECK(bad == 0);
    }
    CHECK(corpora[0].second.size() == 872);  // every SST-2 dev sentence
}

TEST_CASE("albert_tokenizer: fresh comparison with the Python library when installed", "[text][python]") {
    std::string py;
    for (const char* p : {"python3", "/usr/bin/python3"})
        if (std::system((std::string(p) + " -c 'import sentencepiece' > /dev/null 2>&1").c_str()) == 0) {
            py = p;
            break;
        }
    if (py.empty()) EDGEBERT_SKIP_TEST("python3 with sentencepiece is not installed (apt-get install python3-sentencepiece)");
    const std::string bundled = repo_dir + "models/albert-tiny-sst2-lang/spiece.model";
    REQUIRE(file_exists(bundled));
    std::vector<std::string> texts = read_lines(spm_dir + "mixed.txt");
    for (const auto& s : sst2_dev()) texts.push_back(s);
    for (const auto& s : read_lines(spm_dir + "random.txt")) texts.push_back(s);
    const std::string tmp_in = "/tmp/edgebert_albert_test_" + std::to_string(::getpid()) + ".txt";
    const std::string tmp_out = tmp_in + ".ids";
    {
        std::ofstream out(tmp_in, std::ios::binary);
        for (const auto& t : texts) out << t << '\n';
    }
    const std::string cmd = py + " " + repo_dir + "python/tools/spm_reference.py --mode albert " + bundled + " " + tmp_in + " " + tmp_out;
    REQUIRE(std::system(cmd.c_str()) == 0);
    const albert_tokenizer tok(unigram_tokenizer::load(bundled));
    CHECK(compare(tok, texts, read_lines(tmp_out), "bundled") == 0);
    std::remove(tmp_in.c_str());
    std::remove(tmp_out.c_str());
}

TEST_CASE("albert_tokenizer: preprocessing", "[text]") {
    const auto tok = albert();
    CHECK(tok.preprocess("  Hello \t\xC2\xA0 World\xE3\x80\x80 ") == "hello world");
    CHECK(tok.preprocess("``quoted'' ```x''' ") == "\"quoted\" \"`x\"'");
    CHECK(tok.preprocess("\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9") == "unicode");          // Ünïcödé
    CHECK(tok.preprocess("e\xCC\x81t\xC3\xA9") == "ete");                                   // combining and precomposed
    CHECK(tok.preprocess("\xEF\xAC\x81 \xC2\xBD \xE2\x91\xA0") == "fi 1\xE2\x81\x84" "2 1");   // ﬁ ½ ① (NFKD)
    CHECK(tok.preprocess("\xED\x95\x9C") == "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB");           // 한 -> jamo
    // Final sigma: ΟΔΥΣΣΕΥΣ ΣΑΣ -> οδυσσευς σας
    CHECK(tok.preprocess("\xCE\x9F\xCE\x94\xCE\xA5\xCE\xA3\xCE\xA3\xCE\x95\xCE\xA5\xCE\xA3 \xCE\xA3\xCE\x91\xCE\xA3") ==
          "\xCE\xBF\xCE\xB4\xCF\x85\xCF\x83\xCF\x83\xCE\xB5\xCF\x85\xCF\x82 \xCF\x83\xCE\xB1\xCF\x82");
    // İ with accents kept lower-cases to i + U+0307, as Python's str.lower().
    CHECK(albert(true, true).preprocess("\xC4\xB0") == "i\xCC\x87");
    CHECK(albert(true, false).preprocess("\xC4\xB0") == "i");
    CHECK(albert(false, true).preprocess("\xC3\x89t\xC3\xA9  X") == "\xC3\x89t\xC3\xA9 X");
    CHECK(tok.preprocess("") == "");
    CHECK(tok.preprocess(" \t\n ") == "");
}

TEST_CASE("albert_tokenizer: digit-comma pieces are split off", "[text]") {
    const auto tok = albert();
    const auto pieces = tok.tokenize("it cost 1,000,000 , 3,5 and 2019, then 7,");
    for (const auto& p : pieces) {
        const bool digit_comma = p.size() > 1 && p.back() == ',' && p[p.size() - 2] >= '0' && p[p.size() - 2] <= '9';
        CHECK_FALSE(digit_comma);
    }
    // The comma survives as its own piece, and the digits are still there.
    CHECK(std::count(pieces.begin(), pieces.end(), std::string(",")) >= 4);
    std::string joined;
    for (const auto& p : pieces) joined += p;
    CHECK(joined.find("2019") != std::string::npos);
}

TEST_CASE("albert_tokenizer: special tokens, pairs and truncation", "[text]") {
    auto tok = albert();
    CHECK(tok.cls_id() == 2);
    CHECK(tok.sep_id() == 3);
    CHECK(tok.mask_id() == 4);
    CHECK(tok.pad_id() == 0);
    const auto ids = tok.encode("a fine film");
    REQUIRE(ids.size() >= 3);
    CHECK(ids.front() == 2);
    CHECK(ids.back() == 3);
    CHECK(tok.encode("") == token_ids{2, 3});
    CHECK(tok.decode(ids) == "a fine film");
    CHECK(tok.decode(ids, false) == "[CLS] a fine film[SEP]");  // HF joins pieces as they are
    CHECK(tok.decode_pieces({2, 3}) == std::vector<std::string>{"[CLS]", "[SEP]"});

    const std::string long_a = "the quick brown fox jumps over the lazy dog again and again and again";
    const std::string short_b = "yes it does";
    const auto full = tok.encode_pair(long_a, short_b);
    const std::size_t na = tok.encode_plain(long_a).size(), nb = tok.encode_plain(short_b).size();
    REQUIRE(full.ids.size() == na + nb + 3);
    CHECK(std::count(full.token_type_ids.begin(), full.token_type_ids.end(), 1) == long(nb + 1));

    tok.options().max_length = 12;
    const auto t1 = tok.encode(long_a);
    CHECK(t1.size() == 12);
    CHECK(t1.back() == 3);
    const auto plain = tok.encode_plain(long_a);
    CHECK(std::equal(t1.begin() + 1, t1.end() - 1, plain.begin()));
    // longest_first: the long text is cut down to the short one's length before the short one loses any.
    const auto t2 = tok.encode_pair(long_a, short_b);
    CHECK(t2.ids.size() == 12);
    const long ones = std::count(t2.token_type_ids.begin(), t2.token_type_ids.end(), 1);
    CHECK(std::size_t(ones - 1) == std::min(nb, std::size_t(4)));
    tok.options().max_length = 0;
    CHECK(tok.encode(long_a).size() == plain.size() + 2);
}

TEST_CASE("albert_tokenizer: loading a folder reads tokenizer_config.json", "[text]") {
    const std::string dir = "/tmp/edgebert_albert_cfg_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    {
        std::ifstream src(spm_dir + "albert.model", std::ios::binary);
        std::ofstream dst(dir + "/spiece.model", std::ios::binary);
        dst << src.rdbuf();
    }
    // Without a config: ALBERT's defaults.
    auto d = albert_tokenizer::load(dir);
    CHECK(d.options().do_lower_case);
    CHECK_FALSE(d.options().keep_accents);
    CHECK(d.options().max_length == 0);
    {
        std::ofstream cfg(dir + "/tokenizer_config.json");
        cfg << R"({"do_lower_case": false, "keep_accents": true, "model_max_length": 64})";
    }
    auto c = albert_tokenizer::load(dir);
    CHECK_FALSE(c.options().do_lower_case);
    CHECK(c.options().keep_accents);
    CHECK(c.options().max_length == 64);
    CHECK(c.preprocess("\xC3\x89t\xC3\xA9") == "\xC3\x89t\xC3\xA9");
    {
        std::ofstream cfg(dir + "/tokenizer_config.json");
        cfg << R"({"do_lower_case": "yes"})";
    }
    CHECK_THROWS_AS(albert_tokenizer::load(dir), config_error);
    {
        std::ofstream cfg(dir + "/tokenizer_config.json");
        cfg << R"({"do_lower_case": tru)";
    }
    CHECK_THROWS_AS(albert_tokenizer::load(dir), format_error);
    std::remove((dir + "/tokenizer_config.json").c_str());
    std::remove((dir + "/spiece.model").c_str());
    ::rmdir(dir.c_str());
    CHECK_THROWS_AS(albert_tokenizer::load(dir), io_error);
    // A SentencePiece model without [CLS]/[SEP] is not an ALBERT model.
    CHECK_THROWS_WITH(albert_tokenizer(unigram_tokenizer::load(spm_dir + "nfkc.model")), Catch::Contains("[CLS]"));

    const std::string bundled = repo_dir + "models/albert-tiny-sst2-lang";
    if (file_exists(bundled + "/spiece.model")) {
        const auto b = albert_tokenizer::load(bundled);
        CHECK(b.cls_id() == 2);
        CHECK(b.sep_id() == 3);
    }
}
