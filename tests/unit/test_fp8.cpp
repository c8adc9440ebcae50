// SPDX-License-Identifier: Apache-2.0
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/core/dtype.hpp>
#include <edgebert/numeric/fp8.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using namespace edgebert::numeric;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr fp8_overflow sat = fp8_overflow::saturate, nosat = fp8_overflow::non_saturating;

using test_util::rng;

bool same_bits(float a, float b) {
    std::uint32_t x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    return x == y;
}

// The value of an FP8 code from its definition (sign, exponent field, mantissa; subnormals at field 0),
// written independently of fp8_decode. Specials are reported by the flags.
double definition_value(fp8_kind k, std::uint8_t c, bool& is_nan, bool& is_inf) {
    const int mb = k == fp8_kind::e4m3 ? 3 : 2, bias = k == fp8_kind::e4m3 ? 7 : 15, eb = 7 - mb;
    const int field = (c >> mb) & ((1 << eb) - 1), mant = c & ((1 << mb) - 1);
    const double sign = (c & 0x80) ? -1.0 : 1.0;
    is_nan = is_inf = false;
    if (k == fp8_kind::e4m3 && field == 15 && mant == 7) is_nan = true;
    if (k == fp8_kind::e5m2 && field == 31) (mant ? is_nan : is_inf) = true;
    if (field == 0) return sign * std::ldexp(double(mant), 1 - bias - mb);
    return sign * std::ldexp(1.0 + std::ldexp(double(mant), -mb), field - bias);
}

// Reference encoder by search: the nearest finite code to |x| (ties to the even code); overflow when
// the nearest "code" is the one past the max, treating the value 2^(emax+1)·(odd/even rule) as IEEE does:
// the candidate above max is max + one spacing, whose code is odd for E4M3 (0x7F) and even for E5M2 (0x7C).
std::uint8_t search_encode(fp8_kind k, float x, fp8_overflow mode) {
    const std::uint8_t max_mag = k == fp8_kind::e4m3 ? 0x7E : 0x7B;
    const std::uint8_t sign = std::signbit(x) ? 0x80 : 0;
    if (std::isnan(x)) return sign | (k == fp8_kind::e4m3 ? 0x7F : 0x7E);
    const std::uint8_t overflow = mode == sat ? max_mag : (k == fp8_kind::e4m3 ? 0x7F : 0x7C);
    if (std::isinf(x)) return sign | overflow;
    const double a = std::fabs(double(x));
    bool n, i;
    std::uint8_t best = 0;
    for (std::uint8_t c = 0; c <= max_mag; ++c)
        if (definition_value(k, c, n, i) <= a) best = c;
    const double below = definition_value(k, best, n, i);
    const double spacing = best == max_mag ? definition_value(k, max_mag, n, i) - definition_value(k, max_mag - 1, n, i) : 0;
    const double above = best == max_mag ? below + spacing : definition_value(k, std::uint8_t(best + 1), n, i);
    std::uint32_t code = best;
    if (a - below > above - a || (a - below == above - a && (best & 1))) code = best + 1u;
    if (code > max_mag) code = overflow;
    return std::uint8_t(sign | code);
}

}  // namespace

TEST_CASE("E4M3 known values (OCP OFP8 table)", "[fp8]") {
    CHECK(e4m3_to_float(0x7E) == 448.0f);
    CHECK(e4m3_to_float(0xFE) == -448.0f);
    CHECK(e4m3_to_float(0x08) == std::ldexp(1.0f, -6));  // min normal
    CHECK(e4m3_to_float(0x07) == 7 * std::ldexp(1.0f, -9));  // max subnormal
    CHECK(e4m3_to_float(0x01) == std::ldexp(1.0f, -9));  // min subnormal
    CHECK(e4m3_to_float(0x38) == 1.0f);
    CHECK(e4m3_to_float(0x39) == 1.125f);
    CHECK(e4m3_to_float(0x40) == 2.0f);
    CHECK(e4m3_to_float(0x78) == 256.0f);  // S.1111.000 is a number, not infinity
    CHECK(e4m3_to_float(0xC0) == -2.0f);
    CHECK(same_bits(e4m3_to_float(0x80), -0.0f));
    CHECK(same_bits(e4m3_to_float(0x00), 0.0f));
    CHECK(std::isnan(e4m3_to_float(0x7F)));
    CHECK(std::isnan(e4m3_to_float(0xFF)));
    int nans = 0, infs = 0;
    for (int c = 0; c < 256; ++c) nans += std::isnan(e4m3_to_float(std::uint8_t(c))), infs += std::isinf(e4m3_to_float(std::uint8_t(c)));
    CHECK(nans == 2);
    CHECK(infs == 0);
    CHECK(fp8_max(fp8_kind::e4m3) == 448.0f);
    CHECK(fp8_min_normal(fp8_kind::e4m3) == std::ldexp(1.0f, -6));
    CHECK(fp8_min_subnormal(fp8_kind::e4m3) == std::ldexp(1.0f, -9));
}

TEST_CASE("E5M2 known values (OCP OFP8 table)", "[fp8]") {
    CHECK(e5m2_to_float(0x7B) == 57344.0f);
    CHECK(e5m2_to_float(0x04) == std::ldexp(1.0f, -14));  // min normal
    CHECK(e5m2_to_float(0x01) == std::ldexp(1.0f, -16));  // min subnormal
    CHECK(e5m2_to_float(0x03) == 3 * std::ldexp(1.0f, -16));
    CHECK(e5m2_to_float(0x3C) == 1.0f);
    CHECK(e5m2_to_float(0x3D) == 1.25f);
    CHECK(e5m2_to_float(0x7C) == inf);
    CHECK(e5m2_to_float(0xFC) == -inf);
    for (std::uint8_t c : {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF}) CHECK(std::isnan(e5m2_to_float(c)));
    CHECK(same_bits(e5m2_to_float(0x80), -0.0f));
    int nans = 0;
    for (int c = 0; c < 256; ++c) nans += std::isnan(e5m2_to_float(std::uint8_t(c)));
    CHECK(nans == 6);
    CHECK(fp8_max(fp8_kind::e5m2) == 57344.0f);
    CHECK(fp8_min_normal(fp8_kind::e5m2) == std::ldexp(1.0f, -14));
    CHECK(fp8_min_subnormal(fp8_kind::e5m2) == std::ldexp(1.0f, -16));
}

TEST_CASE("fp8_decode agrees with the definition for all 256 codes", "[fp8]") {
    for (fp8_kind k : {fp8_kind::e4m3, fp8_kind::e5m2}) {
        for (int c = 0; c < 256; ++c) {
            INFO(to_string(k) << " code " << c);
            bool is_nan, is_inf;
            const double v = definition_value(k, std::uint8_t(c), is_nan, is_inf);
            const float got = fp8_decode(k, std::uint8_t(c));
            if (is_nan) CHECK(std::isnan(got));
            else if (is_inf) CHECK(got == ((c & 0x80) ? -inf : inf));
            else CHECK(same_bits(got, float(v)));  // includes the sign of zero
            if (std::isnan(got)) CHECK(std::signbit(got) == bool(c & 0x80));
        }
    }
}

TEST_CASE("every code round-trips: decode then encode (NaN and infinity as documented)", "[fp8]") {
    for (fp8_kind k : {fp8_kind::e4m3, fp8_kind::e5m2}) {
        for (fp8_overflow mode : {sat, nosat}) {
            for (int c = 0; c < 256; ++c) {
                INFO(to_string(k) << " code " << c << (mode == sat ? " saturate" : " non-saturating"));
                const float v = fp8_decode(k, std::uint8_t(c));
                const std::uint8_t back = fp8_encode(k, v, mode);
                const std::uint8_t s = std::uint8_t(c & 0x80);
                if (k == fp8_kind::e5m2 && (c & 0x7F) > 0x7C) CHECK(back == (s | 0x7E));  // NaNs: canonical quiet NaN
                else if (k == fp8_kind::e5m2 && (c & 0x7F) == 0x7C) CHECK(back == (mode == sat ? (s | 0x7B) : c));  // inf
                else CHECK(back == c);  // E4M3's only NaN pattern, both zeros and all numbers
            }
        }
    }
}

TEST_CASE("E4M3 encode edge values", "[fp8]") {
    CHECK(float_to_e4m3(448.0f) == 0x7E);
    CHECK(float_to_e4m3(464.0f) == 0x7E);  // tie between 448 (even) and the nonexistent 480
    CHECK(float_to_e4m3(464.0f, nosat) == 0x7E);
    CHECK(float_to_e4m3(std::nextafter(464.0f, 1e9f)) == 0x7E);
    CHECK(float_to_e4m3(std::nextafter(464.0f, 1e9f), nosat) == 0x7F);  // overflow: NaN (no infinity)
    CHECK(float_to_e4m3(-480.0f, nosat) == 0xFF);
    CHECK(float_to_e4m3(1e30f) == 0x7E);
    CHECK(float_to_e4m3(inf) == 0x7E);
    CHECK(float_to_e4m3(-inf) == 0xFE);
    CHECK(float_to_e4m3(inf, nosat) == 0x7F);
    CHECK(float_to_e4m3(qnan) == 0x7F);
    CHECK(float_to_e4m3(-qnan) == 0xFF);
    CHECK(float_to_e4m3(-0.0f) == 0x80);
    // Subnormals: half the smallest subnormal ties to 0, just above rounds up, 1.5 and 2.5 units tie to even.
    const float u = std::ldexp(1.0f, -9);
    CHECK(float_to_e4m3(u / 2) == 0x00);
    CHECK(float_to_e4m3(-u / 2) == 0x80);
    CHECK(float_to_e4m3(std::nextafter(u / 2, 1.0f)) == 0x01);
    CHECK(float_to_e4m3(1.5f * u) == 0x02);
    CHECK(float_to_e4m3(2.5f * u) == 0x02);
    CHECK(float_to_e4m3(7.5f * u) == 0x08);  // carries into the smallest normal
    CHECK(float_to_e4m3(1.0625f) == 0x38);  // tie: 1 (mantissa 0) vs 1.125
    CHECK(float_to_e4m3(1.1875f) == 0x3A);  // tie: 1.125 vs 1.25 (mantissa 2)
    CHECK(float_to_e4m3(1e-30f) == 0x00);
}

TEST_CASE("E5M2 encode edge values", "[fp8]") {
    CHECK(float_to_e5m2(57344.0f) == 0x7B);
    CHECK(float_to_e5m2(61440.0f, nosat) == 0x7C);  // tie between 57344 (odd) and 65536: overflow to infinity
    CHECK(float_to_e5m2(61440.0f) == 0x7B);
    CHECK(float_to_e5m2(std::nextafter(61440.0f, 0.0f), nosat) == 0x7B);
    CHECK(float_to_e5m2(-1e9f, nosat) == 0xFC);
    CHECK(float_to_e5m2(inf, nosat) == 0x7C);
    CHECK(float_to_e5m2(inf) == 0x7B);
    CHECK(float_to_e5m2(-inf) == 0xFB);
    CHECK(float_to_e5m2(qnan) == 0x7E);
    CHECK(float_to_e5m2(-qnan) == 0xFE);
    CHECK(float_to_e5m2(-0.0f) == 0x80);
    const float u = std::ldexp(1.0f, -16);
    CHECK(float_to_e5m2(u / 2) == 0x00);
    CHECK(float_to_e5m2(std::nextafter(u / 2, 1.0f)) == 0x01);
    CHECK(float_to_e5m2(1.5f * u) == 0x02);
    CHECK(float_to_e5m2(3.5f * u) == 0x04);  // carries into the smallest normal 2^-14
    CHECK(float_to_e5m2(1.125f) == 0x3C);
    CHECK(float_to_e5m2(1.375f) == 0x3E);
}

TEST_CASE("encode equals a brute-force nearest-even search on random and midpoint inputs", "[fp8]") {
    rng g(8);
    for (fp8_kind k : {fp8_kind::e4m3, fp8_kind::e5m2}) {
        std::vector<float> inputs;
        // Every midpoint between adjacent finite codes, and one float either side of it.
        for (int c = 0; c < 0x7F; ++c) {
            const float lo = fp8_decode(k, std::uint8_t(c)), hi = fp8_decode(k, std::uint8_t(c + 1));
            if (!std::isfinite(hi)) break;
            const float mid = (lo + hi) / 2;
            inputs.insert(inputs.end(), {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f), -mid});
        }
        // Random floats over the format's range and beyond.
        for (int i = 0; i < 20000; ++i) {
            const float m = float(g.next()) / 4294967296.0f;
            const int e = int(g.next() % 44) - (k == fp8_kind::e4m3 ? 14 : 20);
            inputs.push_back((g.next() & 1 ? -1 : 1) * std::ldexp(1.0f + m, e));
        }
        for (fp8_overflow mode : {sat, nosat}) {
            std::size_t mismatches = 0;
            for (float x : inputs) mismatches += fp8_encode(k, x, mode) != search_encode(k, x, mode);
            INFO(to_string(k));
            CHECK(mismatches == 0);
        }
    }
}

TEST_CASE("E5M2 encode equals rounding the binary16 code to its top byte, for every half", "[fp8]") {
    // E5M2 is binary16 with 8 fewer mantissa bits: rounding a half's 15-bit magnitude to nearest even at
    // bit 8 is exactly float -> E5M2 (subnormals and the overflow to infinity included).
    std::size_t mismatches = 0;
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const std::uint32_t mag = h & 0x7FFF;
        if (mag > 0x7C00) continue;  // NaN
        std::uint32_t r = mag == 0x7C00 ? 0x7C : (mag + 0x7F + ((mag >> 8) & 1)) >> 8;
        const std::uint8_t expect = std::uint8_t(((h >> 8) & 0x80) | r);
        mismatches += fp8_encode(fp8_kind::e5m2, io::half_to_float(std::uint16_t(h)), nosat) != expect;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("scale selection maps amax onto the format max", "[fp8]") {
    const std::vector<float> x{0.5f, -896.0f, 3.0f, inf};
    CHECK(fp8_select_scale(fp8_kind::e4m3, x.data(), x.size()) == 2.0f);  // infinity left out
    CHECK(fp8_select_scale(fp8_kind::e5m2, x.data(), x.size()) == 896.0f / 57344.0f);
    const std::vector<float> zeros(4, 0.0f);
    CHECK(fp8_select_scale(fp8_kind::e4m3, zeros.data(), zeros.size()) == 1.0f);
    const std::vector<float> tiny{1e-40f};
    CHECK(fp8_select_scale(fp8_kind::e4m3, tiny.data(), 1) == std::numeric_limits<float>::min());
    const std::vector<float> bad{1.0f, qnan};
    CHECK_THROWS_WITH(fp8_select_scale(fp8_kind::e4m3, bad.data(), 2), Catch::Contains("element 1"));
    CHECK_THROWS_AS(fp8_scale_for_amax(fp8_kind::e4m3, -1.0f), input_error);

    // On random tensors of many scales the largest magnitude lands on the max code and nothing saturates
    // spuriously.
    rng g(3);
    for (fp8_kind k : {fp8_kind::e4m3, fp8_kind::e5m2}) {
        for (int e = -30; e <= 30; e += 3) {
            std::vector<float> t(257);
            for (auto& v : t) v = float((double(g.next()) / 4294967296.0 - 0.5) * std::ldexp(1.0, e));
            const float s = fp8_select_scale(k, t.data(), t.size());
            std::vector<std::uint8_t> codes(t.size());
            fp8_encode_scaled(k, t.data(), t.size(), s, codes.data(), nosat);
            std::size_t at_max = 0;
            for (std::size_t i = 0; i < t.size(); ++i) {
                CHECK(std::isfinite(fp8_decode(k, codes[i])));
                at_max += (codes[i] & 0x7F) == (k == fp8_kind::e4m3 ? 0x7E : 0x7B);
            }
            CHECK(at_max >= 1);
        }
    }
    // Per row.
    const std::vector<float> m{1.0f, -2.0f, 448.0f, 0.0f, 0.0f, 0.0f};
    const std::vector<float> rs = fp8_select_scale_per_row(fp8_kind::e4m3, m.data(), 3, 2);
    CHECK(rs == std::vector<float>{2.0f / 448.0f, 1.0f, 1.0f});
}

TEST_CASE("scaled encode divides by the scale and rejects bad scales and NaN", "[fp8]") {
    const std::vector<float> x{1.0f, -3.0f, 0.001f};
    std::vector<std::uint8_t> codes(3);
    fp8_encode_scaled(fp8_kind::e4m3, x.data(), 3, 0.5f, codes.data());
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(codes[i] == float_to_e4m3(x[i] / 0.5f));
        CHECK(fp8_decode_scaled(fp8_kind::e4m3, codes[i], 0.5f) == e4m3_to_float(codes[i]) * 0.5f);
    }
    for (float s : {0.0f, -1.0f, inf, qnan, 1e-40f})
        CHECK_THROWS_AS(fp8_encode_scaled(fp8_kind::e4m3, x.data(), 3, s, codes.data()), config_error);
    const std::vector<float> bad{1.0f, qnan};
    CHECK_THROWS_WITH(fp8_encode_scaled(fp8_kind::e5m2, bad.data(), 2, 1.0f, codes.data()), Catch::Contains("element 1"));
}
