// sparse/code_tables.hpp: decode tables of 8-bit weight codes, per tensor and per row, bit-exact with
// numeric::decode_table; the shared-table-times-scale form; validation.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/sparse/code_tables.hpp>

using namespace edgebert;

TEST_CASE("code_tables: per-row AdaptivFloat and FP8 share one table times exact scales", "[code_tables]") {
    for (const char* name : {"af8e3", "af8e4", "e4m3", "e5m2", "af8-hw"}) {
        const auto f = numeric::parse_format(name);
        std::vector<numeric::quant_param> p;
        for (int r = 0; r < 4; ++r) p.push_back(f.is_fp8() ? numeric::quant_param::of_scale(0.37f * float(r + 1)) : numeric::quant_param::of_bias(f.af().min_bias() + 3 + r));
        const sparse::code_tables t(f, p, 4);
        CAPTURE(name);
        CHECK(t.shared_base());
        for (std::size_t r = 0; r < 4; ++r) {
            const auto want = numeric::decode_table(f, p[r]);
            for (std::uint32_t c = 0; c < t.code_limit(); ++c) {
                const float got = t.value(r, std::uint8_t(c));
                if (std::isnan(want[c])) CHECK(std::isnan(got));
                else CHECK(got == want[c]);
            }
        }
        CHECK(t.parameter_bytes() == 16);
    }
}

TEST_CASE("code_tables keeps one table per row when no exact scale exists, and validates", "[code_tables]") {
    const auto f = numeric::parse_format("af8e3");
    // biases 2^226 apart: the scale would overflow float
    const sparse::code_tables t(f, {numeric::quant_param::of_bias(-126), numeric::quant_param::of_bias(100)}, 2);
    CHECK_FALSE(t.shared_base());
    CHECK(t.per_row());
    for (std::uint32_t c = 0; c < 256; ++c) {
        CHECK(t.value(0, std::uint8_t(c)) == numeric::decode_table(f, numeric::quant_param::of_bias(-126))[c]);
        CHECK(t.value(1, std::uint8_t(c)) == numeric::decode_table(f, numeric::quant_param::of_bias(100))[c]);
    }
    const sparse::code_tables one(f, {numeric::quant_param::of_bias(-3)}, 5);
    CHECK_FALSE(one.per_row());
    CHECK(one.shared_base());
    CHECK(one.scales() == nullptr);
    CHECK(one.parameter_bytes() == 0);
    CHECK(one.code_limit() == 256);
    const sparse::code_tables six(numeric::parse_format("af6e2"), {numeric::quant_param::of_bias(0)}, 1);
    CHECK(six.code_limit() == 64);
    const std::uint8_t ok[3] = {0, 63, 5}, bad[3] = {0, 64, 5};
    CHECK_NOTHROW(six.check_codes(ok, 3, "t"));
    CHECK_THROWS_AS(six.check_codes(bad, 3, "t"), format_error);
    CHECK_THROWS_AS(sparse::code_tables(numeric::parse_format("fp16"), {numeric::quant_param{}}, 1), config_error);
    CHECK_THROWS_AS(sparse::code_tables(f, {numeric::quant_param::of_bias(0), numeric::quant_param::of_bias(0)}, 3), shape_error);
    CHECK_THROWS_AS(sparse::code_tables(f, {numeric::quant_param::of_scale(2.f)}, 1), config_error);
    CHECK_THROWS_AS(sparse::code_tables(f, {numeric::quant_param::of_bias(1000)}, 1), config_error);
}
