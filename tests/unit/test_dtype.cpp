#include <cmath>
#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>
#include <edgebert/core/dtype.hpp>

using namespace edgebert::io;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();

// Deterministic pseudo-random bits (xorshift64*), so failures reproduce.
struct rng {
    std::uint64_t s = 0x9E3779B97F4A7C15ull;
    std::uint32_t next() {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        return std::uint32_t((s * 0x2545F4914F6CDD1Dull) >> 32);
    }
};

// Reference narrowing by exhaustive comparison, independent of the bit tricks under test: the two
// candidate codes bracketing |f|, the nearer one, ties to the even code. Codes are monotonic in value
// for a fixed sign; the code after the largest finite one (Inf) is treated as the next power of two,
// which is exactly IEEE's overflow rule.
template <class Decode>
std::uint16_t reference_round(float f, std::uint16_t sign, std::uint16_t max_finite, double inf_as, Decode decode) {
    const double a = std::fabs(double(f));
    std::uint32_t lo = 0, hi = max_finite;  // largest code with value <= a
    if (a >= inf_as) return std::uint16_t(sign | (max_finite + 1));
    while (lo < hi) {
        const std::uint32_t mid = (lo + hi + 1) / 2;
        if (double(decode(std::uint16_t(mid))) <= a) lo = mid;
        else hi = mid - 1;
    }
    const double below = decode(std::uint16_t(lo));
    const double above = lo == max_finite ? inf_as : double(decode(std::uint16_t(lo + 1)));
    std::uint32_t code = lo;
    if (a - below > above - a || (a - below == above - a && (lo & 1u))) code = lo + 1;
    return std::uint16_t(sign | code);
}
}  // namespace

TEST_CASE("dtype names, sizes and parsing", "[dtype]") {
    for (int i = 0; i <= int(dtype::U64); ++i) CHECK(parse_dtype(to_string(dtype(i))) == dtype(i));
    CHECK(std::string(to_string(dtype::F8_E4M3)) == "F8_E4M3");
    CHECK(dtype_size(dtype::BOOL) == 1);
    CHECK(dtype_size(dtype::F8_E5M2) == 1);
    CHECK(dtype_size(dtype::U16) == 2);
    CHECK(dtype_size(dtype::BF16) == 2);
    CHECK(dtype_size(dtype::F32) == 4);
    CHECK(dtype_size(dtype::U32) == 4);
    CHECK(dtype_size(dtype::F64) == 8);
    CHECK(dtype_size(dtype::U64) == 8);
    REQUIRE_THROWS_AS(parse_dtype("float32"), edgebert::format_error);
    REQUIRE_THROWS_WITH(parse_dtype("float32"), Catch::Contains("'float32'"));
    REQUIRE_THROWS_AS(parse_dtype("f32"), edgebert::format_error);  // names are case-sensitive
    REQUIRE_THROWS_AS(parse_dtype(""), edgebert::format_error);
    REQUIRE_THROWS_AS(parse_dtype(std::string_view("F32\0", 4)), edgebert::format_error);
}

TEST_CASE("binary16 decoding of hand-computed codes", "[dtype]") {
    CHECK(half_to_float(0x3C00) == 1.f);
    CHECK(half_to_float(0xC000) == -2.f);
    CHECK(half_to_float(0x7BFF) == 65504.f);                  // largest finite
    CHECK(half_to_float(0x0001) == 5.9604644775390625e-08f);  // smallest subnormal, 2^-24
    CHECK(half_to_float(0x03FF) == 6.09755516052246094e-05f); // largest subnormal, 1023 * 2^-24
    CHECK(half_to_float(0x0400) == 6.103515625e-05f);         // smallest normal, 2^-14
    CHECK(half_to_float(0x3555) == 0.333251953125f);
    CHECK(half_to_float(0x7C00) == inf);
    CHECK(half_to_float(0xFC00) == -inf);
    CHECK(std::isnan(half_to_float(0x7E00)));
    CHECK(std::isnan(half_to_float(0x7C01)));  // signalling NaN, smallest payload: must not become Inf
    CHECK(std::isnan(half_to_float(0xFFFF)));
    CHECK(half_to_float(0x8000) == 0.f);
    CHECK(std::signbit(half_to_float(0x8000)));
}

TEST_CASE("binary16 encoding: hand-computed values and round-to-nearest-even ties", "[dtype]") {
    CHECK(float_to_half(1.f) == 0x3C00);
    CHECK(float_to_half(-2.f) == 0xC000);
    CHECK(float_to_half(65504.f) == 0x7BFF);
    CHECK(float_to_half(5.9604644775390625e-08f) == 0x0001);
    CHECK(float_to_half(inf) == 0x7C00);
    CHECK(float_to_half(-inf) == 0xFC00);
    CHECK(float_to_half(0.f) == 0x0000);
    CHECK(float_to_half(-0.f) == 0x8000);
    const std::uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
    CHECK((nan & 0x7C00) == 0x7C00);
    CHECK((nan & 0x03FF) != 0);
    // A float NaN whose payload lies only in the bits that are dropped must stay a NaN.
    CHECK(std::isnan(half_to_float(float_to_half(bits_to_float(0x7F800001u)))));
    CHECK(std::isnan(half_to_float(float_to_half(bits_to_float(0xFF800001u)))));

    // Ties: halfway between two codes goes to the even one.
    CHECK(float_to_half(1.f + std::ldexp(1.f, -11)) == 0x3C00);                        // 1 + ulp/2 -> 1.0 (even)
    CHECK(float_to_half(1.f + 3 * std::ldexp(1.f, -11)) == 0x3C02);                    // 1 + 3ulp/2 -> 1+2ulp (even)
    CHECK(float_to_half(1.f + std::ldexp(1.f, -11) + std::ldexp(1.f, -20)) == 0x3C01);  // just above the tie
    CHECK(float_to_half(1.f + std::ldexp(1.f, -11) - std::ldexp(1.f, -23)) == 0x3C00);  // just below the tie
    CHECK(float_to_half(2047.f + 0.5f) == float_to_half(2048.f));                      // carry into the exponent
    CHECK(float_to_half(65519.f) == 0x7BFF);
    CHECK(float_to_half(65520.f) == 0x7C00);  // the tie between 65504 and "65536" goes to Inf (even)
    CHECK(float_to_half(1e10f) == 0x7C00);
    CHECK(float_to_half(std::ldexp(1.f, -25)) == 0x0000);   // half the smallest subnormal: tie -> 0 (even)
    CHECK(float_to_half(std::nextafter(std::ldexp(1.f, -25), 1.f)) == 0x0001);
    CHECK(float_to_half(std::ldexp(1.5f, -24)) == 0x0002);  // 1.5 ulp subnormal: tie -> 2 (even)
    CHECK(float_to_half(std::ldexp(2.5f, -24)) == 0x0002);  // 2.5 ulp: tie -> 2 (even)
    CHECK(float_to_half(std::ldexp(1023.5f, -24)) == 0x0400);  // largest subnormal + ulp/2 -> smallest normal
    CHECK(float_to_half(std::numeric_limits<float>::denorm_min()) == 0x0000);
    CHECK(float_to_half(-std::numeric_limits<float>::denorm_min()) == 0x8000);
}

TEST_CASE("binary16: every code round-trips, and narrowing matches a reference on random floats", "[dtype]") {
    for (std::uint32_t c = 0; c < 0x10000; ++c) {
        const auto h = std::uint16_t(c);
        const float f = half_to_float(h);
        if (std::isnan(f)) REQUIRE(std::isnan(half_to_float(float_to_half(f))));
        else REQUIRE(float_to_half(f) == h);
    }
    rng r;
    for (int i = 0; i < 300000; ++i) {
        // Half the samples in the float exponent range where binary16 is not all zero or Inf.
        std::uint32_t u = r.next();
        if (i % 2) u = (u & 0x807FFFFFu) | ((100u + r.next() % 45u) << 23);
        const float f = bits_to_float(u);
        if (std::isnan(f)) continue;
        const auto sign = std::uint16_t((u >> 16) & 0x8000u);
        INFO("float bits " << std::hex << u);
        REQUIRE(float_to_half(f) == reference_round(f, sign, 0x7BFF, 65536.0, half_to_float));
    }
}

TEST_CASE("bfloat16 conversions", "[dtype]") {
    CHECK(bfloat16_to_float(0x3F80) == 1.f);
    CHECK(bfloat16_to_float(0xC000) == -2.f);
    CHECK(bfloat16_to_float(0xC040) == -3.f);
    CHECK(bfloat16_to_float(0x7F80) == inf);
    CHECK(bfloat16_to_float(0x0001) == bits_to_float(0x00010000u));  // smallest subnormal, 2^-133
    CHECK(std::isnan(bfloat16_to_float(0x7FC0)));
    CHECK(std::isnan(bfloat16_to_float(0x7F81)));

    CHECK(float_to_bfloat16(1.f) == 0x3F80);
    CHECK(float_to_bfloat16(-2.f) == 0xC000);
    CHECK(float_to_bfloat16(bits_to_float(0x3F808000u)) == 0x3F80);  // tie -> even (down)
    CHECK(float_to_bfloat16(bits_to_float(0x3F818000u)) == 0x3F82);  // tie -> even (up)
    CHECK(float_to_bfloat16(bits_to_float(0x3F808001u)) == 0x3F81);
    CHECK(float_to_bfloat16(std::numeric_limits<float>::max()) == 0x7F80);  // rounds past the largest: Inf
    CHECK(float_to_bfloat16(inf) == 0x7F80);
    CHECK(float_to_bfloat16(-inf) == 0xFF80);
    CHECK(float_to_bfloat16(bits_to_float(0x00008000u)) == 0x0000);  // subnormal tie -> even
    CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
    CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(bits_to_float(0x7FFFFFFFu)))));  // would carry to Inf
    CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(bits_to_float(0x7F800001u)))));  // would truncate to Inf

    for (std::uint32_t c = 0; c < 0x10000; ++c) {
        const float f = bfloat16_to_float(std::uint16_t(c));
        if (!std::isnan(f)) REQUIRE(float_to_bfloat16(f) == c);
    }
    rng r;
    for (int i = 0; i < 300000; ++i) {
        const std::uint32_t u = r.next();
        const float f = bits_to_float(u);
        if (std::isnan(f)) continue;
        const auto sign = std::uint16_t((u >> 16) & 0x8000u);
        INFO("float bits " << std::hex << u);
        REQUIRE(float_to_bfloat16(f) == reference_round(f, sign, 0x7F7F, std::ldexp(1.0, 128), bfloat16_to_float));
    }
}
