// SPDX-License-Identifier: Apache-2.0
// The normaliser's whitespace rules on hand-worked cases (no charsmap), the nmt_nfkc and nfkc_cf
// precompiled charsmaps of the test models on characters whose NFKC form is known, user-defined symbols
// passing through, malformed UTF-8, and broken charsmap blobs.
#include <catch2/catch.hpp>

#include <edgebert/text/normalizer.hpp>
#include <edgebert/text/sentencepiece_model.hpp>

#include <string>

using namespace edgebert;
using namespace edgebert::text;

namespace {
const std::string spm_dir = std::string(EDGEBERT_TEST_DATA_DIR) + "/spm/";
const std::string WS = "\xE2\x96\x81";  // U+2581

normalizer plain(bool dummy = true, bool remove = true, bool escape = true, bool suffix = false) {
    normalizer_spec s;
    s.add_dummy_prefix = dummy;
    s.remove_extra_whitespaces = remove;
    s.escape_whitespaces = escape;
    return normalizer(s, suffix);
}

normalizer from_model(const std::string& name) {
    const auto m = read_model_proto(spm_dir + name);
    std::vector<std::string> user;
    for (const auto& p : m.pieces)
        if (p.type == piece_type::user_defined) user.push_back(p.piece);
    return normalizer(m.normalizer, m.trainer.treat_whitespace_as_suffix, user, name);
}
}  // namespace

TEST_CASE("normalizer: whitespace options", "[text]") {
    CHECK(plain().normalize("  hello   world  ") == WS + "hello" + WS + "world");
    CHECK(plain().normalize("") == "");
    CHECK(plain().normalize("   ") == "");
    CHECK(plain(true, false).normalize(" a  b ") == WS + WS + "a" + WS + WS + "b" + WS);
    CHECK(plain(true, true, false).normalize(" a  b ") == " a b");
    CHECK(plain(false).normalize("a b") == "a" + WS + "b");
    CHECK(plain(true, true, true, true).normalize(" a b ") == "a" + WS + "b" + WS);
    // Only U+0020 is a space to the normaliser itself; a tab stays (a charsmap may map it).
    CHECK(plain().normalize("a\tb") == WS + "a\tb");
}

TEST_CASE("normalizer: malformed UTF-8 becomes U+FFFD per byte", "[text]") {
    const std::string R = "\xEF\xBF\xBD";
    CHECK(plain().normalize("a\xFF" "b") == WS + "a" + R + "b");
    CHECK(plain().normalize("\xE2\x82") == WS + R + R);          // truncated 3-byte sequence
    CHECK(plain().normalize("\xC0\xAF") == WS + R + R);          // overlong
    CHECK(plain().normalize("\xED\xA0\x80") == WS + R + R + R);  // surrogate
    CHECK(plain().normalize("x" + R) == WS + "x" + R);           // a real U+FFFD is kept
    CHECK(plain().normalize("\xF0\x9F\x98\x80") == WS + "\xF0\x9F\x98\x80");
}

TEST_CASE("normalizer: nmt_nfkc charsmap", "[text]") {
    const auto n = from_model("nfkc.model");
    REQUIRE(n.has_charsmap());
    CHECK(n.normalize("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3") == WS + "ABC");  // full-width ＡＢＣ
    CHECK(n.normalize("\xEF\xAC\x81") == WS + "fi");                           // ﬁ ligature
    CHECK(n.normalize("\xE2\x91\xA0") == WS + "1");                            // ①
    CHECK(n.normalize("e\xCC\x81") == WS + "\xC3\xA9");                        // e + U+0301 composes
    CHECK(n.normalize("a\xE3\x80\x80" "b") == WS + "a" + WS + "b");            // U+3000 -> space
    CHECK(n.normalize("a\xC2\xA0\xC2\xA0" "b") == WS + "a" + WS + "b");        // NBSP, collapsed
    CHECK(n.normalize("\xEF\xBD\xB6\xEF\xBE\x80") == WS + "\xE3\x82\xAB\xE3\x82\xBF");  // ｶﾀ -> カタ
    // The user-defined symbol ＵＳＥＲ passes through untouched; a prefix of it is normalised.
    CHECK(n.normalize("\xEF\xBC\xB5\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2") ==
          WS + "\xEF\xBC\xB5\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2");
    CHECK(n.normalize("\xEF\xBC\xB5\xEF\xBC\xB3\xEF\xBC\xA5") == WS + "USE");
}

TEST_CASE("normalizer: nfkc_cf charsmap with suffix whitespace and no dummy prefix", "[text]") {
    const auto n = from_model("flags.model");
    CHECK(n.normalize("Hello World") == "hello" + WS + "world");
    // Simple case folding: capital sharp s U+1E9E folds to U+00DF, which stays (as the library does).
    CHECK(n.normalize("STRASSE \xC3\x9F \xE1\xBA\x9E") == "strasse" + WS + "\xC3\x9F" + WS + "\xC3\x9F");
    CHECK(n.normalize("  a  ") == WS + WS + "a" + WS + WS);  // remove_extra_whitespaces is off
}

TEST_CASE("normalizer: broken precompiled charsmap", "[text]") {
    normalizer_spec s;
    s.precompiled_charsmap = std::string("\x01\x00", 2);
    CHECK_THROWS_WITH(normalizer(s), Catch::Contains("too short"));
    s.precompiled_charsmap = std::string("\xFF\x00\x00\x00" "abcd", 8);
    CHECK_THROWS_WITH(normalizer(s), Catch::Contains("exceeds the blob"));

    // A real charsmap whose replacement-string table is cut off is refused at load (not when a rule is first
    // used: a fuzzed model showed the lazy check let an accepted model fail while tokenizing).
    auto m = read_model_proto(spm_dir + "nfkc.model");
    const auto& blob = m.normalizer.precompiled_charsmap;
    const std::uint32_t trie_bytes = std::uint32_t((unsigned char)blob[0]) | (std::uint32_t((unsigned char)blob[1]) << 8) |
                                     (std::uint32_t((unsigned char)blob[2]) << 16) |
                                     (std::uint32_t((unsigned char)blob[3]) << 24);
    s.precompiled_charsmap = blob.substr(0, 4 + trie_bytes + 1);
    CHECK_THROWS_WITH(normalizer(s), Catch::Contains("-byte string table"));
    // The whole table is accepted, and so is a table with bytes after the last string.
    s.precompiled_charsmap = blob;
    CHECK(normalizer(s).normalize("\xEF\xBC\xA1") == WS + "A");
    s.precompiled_charsmap = blob + std::string("xyz", 3);
    CHECK_NOTHROW(normalizer(s));
}
