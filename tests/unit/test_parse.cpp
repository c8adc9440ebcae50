// SPDX-License-Identifier: Apache-2.0
// Numbers from text do not depend on the C locale (core/parse.hpp): under a locale whose decimal separator is a
// comma, strtod reads "1.18" as 1, and the bundled model's "entropy:1.18" would not load.
#include <clocale>
#include <string>

#include <catch2/catch.hpp>
#include <edgebert/core/parse.hpp>
#include <edgebert/exit/logit_policy.hpp>
#include <edgebert/model/multi_task_model.hpp>

using namespace edgebert;

namespace {
/// Switch the C locale for one scope; the test fails (not skips) where the locale is missing, since
/// scripts/install-deps.sh --test installs it (locales-all).
struct comma_locale {
    std::string before;
    comma_locale() {
        before = std::setlocale(LC_ALL, nullptr);
        const char* got = std::setlocale(LC_ALL, "de_DE.UTF-8");
        if (!got) FAIL("the de_DE.UTF-8 locale is not installed (apt-get install locales-all; scripts/install-deps.sh --test)");
        REQUIRE(std::localeconv()->decimal_point[0] == ',');
    }
    ~comma_locale() { std::setlocale(LC_ALL, before.c_str()); }
};
}  // namespace

TEST_CASE("to_number reads whole numbers and nothing else", "[parse]") {
    CHECK(*to_number("1.18") == 1.18);
    CHECK(*to_number("+2e-3") == 0.002);
    CHECK(*to_number("-0") == 0.0);
    CHECK(std::isinf(*to_number("inf")));
    for (const char* bad : {"", "+", "1,18", "1.18x", " 1", "0x10", "--1", "e5"}) CHECK_FALSE(to_number(bad));
    CHECK_THROWS_WITH(parse_number("nan", "threshold"), Catch::Contains("threshold") && Catch::Contains("not a number"));
    CHECK(format_number(0.45) == "0.45");
    CHECK(*to_number(format_number(0.1 + 0.2)) == 0.1 + 0.2);
}

TEST_CASE("under a comma-decimal locale numbers parse and print as in C", "[parse]") {
    const comma_locale de;
    CHECK(parse_number("1.18", "x") == 1.18);
    const auto p = exit::parse_exit_policy("entropy:0.45,1.18");
    CHECK(exit::describe(p) == "entropy:0.45,1.18");
    CHECK(exit::parse_max_probability("0.9").threshold == 0.9);
    // the bundled model's task.json says "entropy:1.18" and its predictor tables are CSV numbers
    const auto mt = model::multi_task_model::load(std::string(EDGEBERT_SOURCE_DIR) + "/models/albert-tiny-sst2-lang");
    CHECK(exit::describe(mt.get("lang").policy) == "entropy:1.18");
    CHECK(exit::describe(mt.get("sst2").policy) == "entropy:0.6");
}
