#include <cmath>
#include <limits>

#include <catch2/catch.hpp>
#include <edgebert/io/dtype.hpp>

using namespace edgebert::io;

TEST_CASE("dtype names and sizes", "[dtype]") {
    for (int i = 0; i <= int(dtype::U64); ++i) CHECK(parse_dtype(to_string(dtype(i))) == dtype(i));
    CHECK(dtype_size(dtype::F32) == 4);
    CHECK(dtype_size(dtype::BF16) == 2);
    CHECK(dtype_size(dtype::I64) == 8);
    CHECK(dtype_size(dtype::F8_E4M3) == 1);
    REQUIRE_THROWS_AS(parse_dtype("float32"), edgebert::format_error);
    REQUIRE_THROWS_WITH(parse_dtype("float32"), Catch::Contains("float32"));
}

TEST_CASE("binary16 decoding of hand-computed codes", "[dtype]") {
    CHECK(half_to_float(0x3C00) == 1.f);
    CHECK(half_to_float(0xC000) == -2.f);
    CHECK(half_to_float(0x7BFF) == 65504.f);
    CHECK(half_to_float(0x0001) == std::ldexp(1.f, -24));  // smallest subnormal
    CHECK(half_to_float(0x03FF) == std::ldexp(1023.f, -24));
    CHECK(half_to_float(0x0400) == std::ldexp(1.f, -14));  // smallest normal
    CHECK(std::isinf(half_to_float(0x7C00)));
    CHECK(half_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(half_to_float(0x7C01)));
    CHECK(std::signbit(half_to_float(0x8000)));
}

TEST_CASE("binary16 encoding rounds to nearest even, every code round-trips", "[dtype]") {
    for (std::uint32_t c = 0; c < 0x10000; ++c) {
        const std::uint16_t h = std::uint16_t(c);
        const float f = half_to_float(h);
        if (std::isnan(f)) CHECK(std::isnan(half_to_float(float_to_half(f))));
        else REQUIRE(float_to_half(f) == h);
    }
    CHECK(float_to_half(1.f + std::ldexp(1.f, -11)) == 0x3C00);                        // tie -> even (down)
    CHECK(float_to_half(1.f + 3 * std::ldexp(1.f, -11)) == 0x3C02);                    // tie -> even (up)
    CHECK(float_to_half(1.f + std::ldexp(1.f, -11) + std::ldexp(1.f, -20)) == 0x3C01);  // above the tie
    CHECK(float_to_half(65519.f) == 0x7BFF);
    CHECK(float_to_half(65520.f) == 0x7C00);  // overflow to infinity
    CHECK(float_to_half(std::ldexp(1.f, -25)) == 0x0000);        // exactly half the smallest subnormal: even -> 0
    CHECK(float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
    CHECK(float_to_half(std::ldexp(3.f, -25)) == 0x0002);        // 1.5 ulp tie -> even 2
    CHECK(float_to_half(-0.f) == 0x8000);
}

TEST_CASE("bfloat16 conversions", "[dtype]") {
    CHECK(bfloat16_to_float(0x3F80) == 1.f);
    CHECK(bfloat16_to_float(0xC040) == -3.f);
    CHECK(float_to_bfloat16(1.f) == 0x3F80);
    CHECK(float_to_bfloat16(bits_to_float(0x3F808000u)) == 0x3F80);  // tie -> even
    CHECK(float_to_bfloat16(bits_to_float(0x3F818000u)) == 0x3F82);  // tie -> even (up)
    CHECK(float_to_bfloat16(bits_to_float(0x3F808001u)) == 0x3F81);
    CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
    CHECK(float_to_bfloat16(std::numeric_limits<float>::infinity()) == 0x7F80);
}
