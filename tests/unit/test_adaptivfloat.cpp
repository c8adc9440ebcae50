// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/numeric/adaptivfloat.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using namespace edgebert::numeric;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

using test_util::rng;

bool same_bits(float a, float b) {
    std::uint32_t x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    return x == y;
}

// ---------------------------------------------------------------------------------------------------
// Independent re-implementations of the Python references, step by step, in double precision (every
// intermediate of the float32 originals is exact, so double gives the same numbers). No bit tricks.

// numpy.round / torch.round: round half to even.
double round_half_even(double v) {
    const double fl = std::floor(v), d = v - fl;
    if (d > 0.5) return fl + 1;
    if (d < 0.5) return fl;
    return std::fmod(fl, 2.0) == 0.0 ? fl : fl + 1;
}

double np_sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

int frexp_exponent(double v) {
    int e = 0;
    std::frexp(v, &e);
    return e;
}

// adaptivfloat.py @1a6f7cc, quantize_adaptivfloat(float_arr, n_bits, n_exp, bias).
std::vector<float> python_2020(const std::vector<float>& in, int n_bits, int n_exp, std::optional<int> bias_arg, int* bias_used) {
    const int n_mant = n_bits - 1 - n_exp;
    // 1. sign, then work on magnitudes
    std::vector<double> sign(in.size()), a(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) sign[i] = np_sign(in[i]), a[i] = std::fabs(double(in[i]));
    // 1.5 bias from the maximum
    int bias;
    if (!bias_arg) {
        double mx = 0;
        for (double v : a) mx = std::max(mx, v);
        const int bias_temp = frexp_exponent(mx) - 1;
        bias = bias_temp - ((1 << n_exp) - 1);
    } else {
        bias = *bias_arg;
    }
    if (bias_used) *bias_used = bias;
    // 2. range
    const int min_exp = 0 + bias, max_exp = (1 << n_exp) - 1 + bias;
    const double min_value = std::ldexp(1.0, min_exp) * (1 + std::ldexp(1.0, -n_mant));
    const double max_value = std::ldexp(1.0, max_exp) * (2 - std::ldexp(1.0, -n_mant));
    // 2.1 / 2.2, in the reference's order (each assignment sees the previous one's result)
    for (double& v : a) if (v < 0.5 * min_value) v = 0;
    for (double& v : a) if (v > 0.5 * min_value && v < min_value) v = min_value;
    for (double& v : a) if (v > max_value) v = max_value;
    // 3. mantissa in [1, 2) and exponent; 4. round the mantissa to n_mant bits
    std::vector<float> out(in.size());
    const double scale = std::ldexp(1.0, -n_mant);
    for (std::size_t i = 0; i < a.size(); ++i) {
        int e = 0;
        double mant = std::frexp(a[i], &e);
        mant = 2 * mant;
        e = e - 1;
        const double power_exp = std::exp2(double(e));
        mant = round_half_even(mant / scale) * scale;
        out[i] = float(sign[i] * power_exp * mant);
    }
    return out;
}

// adaptivfloat.py @e107ec4 (PyTorch), same structure.
std::vector<float> python_2022(const std::vector<float>& in, int n_bits, int n_exp, std::optional<int> bias_arg, int* bias_used) {
    const int n_mant = n_bits - 1 - n_exp;
    std::vector<double> sign(in.size()), a(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) sign[i] = np_sign(in[i]), a[i] = std::fabs(double(in[i]));
    int bias;
    if (!bias_arg) {
        double mx = 0;
        for (double v : a) mx = std::max(mx, v);
        const int bias_temp = frexp_exponent(mx) - 1;
        bias = ((1 << (n_exp - 1)) - 1) - bias_temp;
    } else {
        bias = *bias_arg;
    }
    if (bias_used) *bias_used = bias;
    const int min_exp = -(1 << (n_exp - 1)) + 2 - bias, max_exp = (1 << (n_exp - 1)) - 1 - bias;
    const double min_value = std::ldexp(1.0, min_exp);
    const double max_value = std::ldexp(1.0, max_exp) * (2 - std::ldexp(1.0, -n_mant));
    for (double& v : a) if (v < min_value) v = 0;
    for (double& v : a) if (v > max_value) v = max_value;
    std::vector<float> out(in.size());
    const double scale = std::ldexp(1.0, -n_mant);
    for (std::size_t i = 0; i < a.size(); ++i) {
        int e = 0;
        double mant = std::frexp(a[i], &e);
        mant = 2 * mant;
        e = e - 1;
        mant = round_half_even(mant / scale) * scale;
        out[i] = float(sign[i] * std::exp2(double(e)) * mant);
    }
    return out;
}

// EdgeBERT hw/cmod AdpfloatType<8,3>::set_value, by value arithmetic instead of its bit slicing:
// saturate / min / flush, then exponent field = floor(log2 |x|) - (bias - 10), mantissa truncated.
std::uint8_t cmod_set_value(float value, int bias) {
    const bool sign = value < 0;
    double a = std::fabs(double(value));
    const double min_value = std::ldexp(1.0, bias - 10) * (1 + 1.0 / 16);
    const double max_value = std::ldexp(1.0, 7 + bias - 10) * (2 - 1.0 / 16);
    if (a < 0.5 * min_value) return 0;
    if (a < min_value) a = min_value;
    else if (a > max_value) a = max_value;
    int e = 0;
    const double m = std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
    const int exp_field = (e - 1) - (bias - 10);
    const int man = int(std::floor((2 * m - 1) * 16));
    return std::uint8_t((sign ? 0x80 : 0) | (exp_field << 4) | man);
}

std::vector<float> random_tensor(rng& g, std::size_t n, double scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = float(g.normal() * scale);
    return v;
}

std::vector<float> decode_encode(const af_format& f, const std::vector<float>& x, int bias) {
    const af_codec c = f.codec(bias);
    std::vector<float> out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = c.decode(c.encode(x[i]));
    return out;
}

std::vector<af_format> all_formats() {
    std::vector<af_format> out;
    for (int n = 4; n <= 16; ++n)
        for (int e = 1; e <= 7; ++e)
            for (af_variant v : {af_variant::reference_2020, af_variant::ieee_like_2022})
                if (af_format::is_valid(n, e, v)) out.emplace_back(n, e, v);
    out.emplace_back(8, 3, af_variant::edgebert_hw);
    return out;
}

}  // namespace

TEST_CASE("af_format validates N, E and the variant", "[adaptivfloat]") {
    CHECK_NOTHROW(af_format(4, 1));
    CHECK_NOTHROW(af_format(16, 7));
    CHECK_NOTHROW(af_format(8, 7));  // no mantissa bits
    CHECK_THROWS_AS(af_format(3, 1), config_error);
    CHECK_THROWS_AS(af_format(17, 5), config_error);
    CHECK_THROWS_AS(af_format(8, 0), config_error);
    CHECK_THROWS_AS(af_format(8, 8), config_error);
    CHECK_THROWS_AS(af_format(4, 4), config_error);  // E > N-1
    CHECK_THROWS_AS(af_format(8, 1, af_variant::ieee_like_2022), config_error);
    CHECK_THROWS_AS(af_format(16, 5, af_variant::edgebert_hw), config_error);
    CHECK_THROWS_WITH(af_format(20, 3), Catch::Contains("20 bits"));
    CHECK(af8e3::format().man_bits() == 4);
    CHECK(adaptivfloat<16, 5>::bits == 16);
    CHECK(std::is_same<adaptivfloat<9, 3>::code_type, std::uint16_t>::value);
    CHECK(std::is_same<af8e3::code_type, std::uint8_t>::value);
}

TEST_CASE("bias ranges keep every value a normal float and reject others", "[adaptivfloat]") {
    for (const af_format& f : all_formats()) {
        INFO(f.describe());
        for (int b : {f.min_bias(), f.max_bias()}) {
            const af_codec c = f.codec(b);
            CHECK(std::isnormal(c.min_value()));
            CHECK(std::isfinite(c.max_value()));
            CHECK(c.max_value() <= std::numeric_limits<float>::max());
        }
        CHECK_THROWS_AS(f.codec(f.min_bias() - 1), config_error);
        CHECK_THROWS_AS(f.codec(f.max_bias() + 1), config_error);
        CHECK_THROWS_AS(f.encode(1.0f, f.max_bias() + 1), config_error);
    }
    CHECK(af8_hw::format().min_bias() == 0);
    CHECK(af8_hw::format().max_bias() == 7);
}

TEST_CASE("every code of every format round-trips (decode then encode), aliases as documented", "[adaptivfloat]") {
    for (const af_format& f : all_formats()) {
        const int m = f.man_bits();
        const std::uint32_t ncodes = 1u << f.bits(), sign_bit = ncodes >> 1;
        const std::uint32_t top_field = (1u << f.exp_bits()) - 1;
        for (int bias : {f.min_bias(), (f.min_bias() + f.max_bias()) / 2, f.max_bias()}) {
            INFO(f.describe() << " bias " << bias);
            const af_codec c = f.codec(bias);
            float previous = -1.0f;
            std::size_t failures = 0;
            for (std::uint32_t code = 0; code < ncodes; ++code) {
                const std::uint32_t mag = code & (sign_bit - 1), field = mag >> m, mant = mag & ((1u << m) - 1);
                const float v = c.decode(code);
                std::uint32_t expect = code;
                if (f.variant() == af_variant::edgebert_hw && mag == 0) {
                    expect = 0;  // 0x80 is +0 in the hardware; the encoder writes 0x00
                    CHECK(same_bits(v, 0.0f));
                } else if (f.variant() == af_variant::ieee_like_2022 && field == 0) {
                    expect = code & sign_bit;  // no denormals: the whole field is signed zero
                    CHECK(v == 0.0f);
                    CHECK(std::signbit(v) == bool(code & sign_bit));
                } else if (f.variant() == af_variant::ieee_like_2022 && field == top_field) {
                    // IEEE infinity / NaN: never produced; infinity saturates, NaN is refused.
                    if (mant == 0) {
                        CHECK(std::isinf(v));
                        CHECK(c.encode(v) == ((code & sign_bit) | c.max_code()));
                    } else {
                        CHECK(std::isnan(v));
                        CHECK_THROWS_AS(c.encode(v), input_error);
                    }
                    continue;
                }
                if (c.encode(v) != expect) ++failures;
                // Codes are monotonic in value for a sign: each positive canonical value exceeds the last.
                if (!(code & sign_bit) && v != 0.0f) {
                    if (!(v > previous)) ++failures;
                    previous = v;
                }
                if ((code & sign_bit) && mag != 0 && !(f.variant() == af_variant::ieee_like_2022 && field == 0))
                    if (!same_bits(v, -c.decode(mag))) ++failures;
            }
            CHECK(failures == 0);
            CHECK(previous == c.max_value());
        }
    }
}

TEST_CASE("af8e3 (2020) edge values at bias -7 match the hand-computed rule", "[adaptivfloat]") {
    // bias -7: exponents -7 .. 0, values 2^k (1 + f/16). min = 2^-7 × 17/16, max = 1.9375.
    const af_codec c = af8e3::codec(-7);
    const float min = 0.00830078125f, max = 1.9375f, half_min = min / 2;
    REQUIRE(c.min_value() == min);
    REQUIRE(c.max_value() == max);
    CHECK(c.decode(0x01) == min);
    CHECK(c.decode(0x7F) == max);
    CHECK(c.decode(0x70) == 1.0f);  // field 7 = exponent 0
    CHECK(c.decode(0x10) == 0.015625f);

    // min/2: the midpoint between the zero code and min goes to the even code, 0; around it nearest wins.
    CHECK(c.encode(half_min) == 0x00);
    CHECK(c.encode(-half_min) == 0x80);
    CHECK(c.encode(std::nextafter(half_min, 1.0f)) == 0x01);
    CHECK(c.encode(std::nextafter(half_min, 0.0f)) == 0x00);
    CHECK(c.encode(-std::nextafter(half_min, 1.0f)) == 0x81);
    CHECK(c.encode(std::nextafter(min, 0.0f)) == 0x01);
    CHECK(c.encode(min) == 0x01);
    CHECK(c.encode(1e-30f) == 0x00);

    // Ties to even: 1 + 1/32 lies between 1 (mantissa 0) and 1 + 1/16 (mantissa 1) -> 1.
    CHECK(c.encode(1.03125f) == 0x70);
    CHECK(c.encode(std::nextafter(1.03125f, 2.0f)) == 0x71);
    // 1 + 3/32 lies between mantissas 1 and 2 -> 2.
    CHECK(c.encode(1.09375f) == 0x72);
    CHECK(c.encode(std::nextafter(1.09375f, 0.0f)) == 0x71);
    // Mantissa carry: 0.984375 lies between 0.96875 (field 6, mantissa 15) and 1.0 (field 7, mantissa 0).
    CHECK(c.encode(0.984375f) == 0x70);
    CHECK(c.encode(std::nextafter(0.984375f, 0.0f)) == 0x6F);

    // Saturation: just above max, the tie above max, huge values and infinities.
    CHECK(c.encode(std::nextafter(max, 2.0f)) == 0x7F);
    CHECK(c.encode(1.96875f) == 0x7F);
    CHECK(c.encode(1e30f) == 0x7F);
    CHECK(c.encode(inf) == 0x7F);
    CHECK(c.encode(-inf) == 0xFF);
    CHECK(c.encode(-max) == 0xFF);

    // Zero keeps its sign.
    CHECK(c.encode(0.0f) == 0x00);
    CHECK(c.encode(-0.0f) == 0x80);
    CHECK(same_bits(c.decode(0x80), -0.0f));
    CHECK(same_bits(c.decode(0x00), 0.0f));

    CHECK_THROWS_AS(c.encode(qnan), input_error);
    CHECK_THROWS_AS(c.encode(-qnan), input_error);
    CHECK_THROWS_AS(c.decode(0x100), input_error);
}

TEST_CASE("af8-hw edge values at register 7 match the cmod rule (min/2 -> min, truncation)", "[adaptivfloat]") {
    // register 7: exponents -3 .. 4. min = 2^-3 × 17/16, max = 16 × 1.9375 = 31.
    const af_codec c = af8_hw::codec(7);
    const float min = 0.1328125f, max = 31.0f;
    REQUIRE(c.min_value() == min);
    REQUIRE(c.max_value() == max);
    CHECK(c.encode(min / 2) == 0x01);  // not < min/2: becomes min
    CHECK(c.encode(-min / 2) == 0x81);
    CHECK(c.encode(std::nextafter(min / 2, 0.0f)) == 0x00);
    CHECK(c.encode(-std::nextafter(min / 2, 0.0f)) == 0x00);  // flushed values lose their sign
    CHECK(c.encode(-0.0f) == 0x00);
    CHECK(same_bits(c.decode(0x80), 0.0f));
    // Truncation: 1 + 1/16 - tiny stays at 1 (RNE would give 1 + 1/16), and ties go down.
    CHECK(c.encode(1.0f) == 0x30);  // exponent 0 = field 3 + (7 - 10)
    CHECK(c.decode(0x30) == 1.0f);
    CHECK(c.encode(std::nextafter(1.0625f, 0.0f)) == 0x30);
    CHECK(c.encode(1.03125f) == 0x30);
    CHECK(c.encode(1.0625f) == 0x31);
    CHECK(c.encode(std::nextafter(2.0f, 0.0f)) == 0x3F);
    CHECK(c.encode(std::nextafter(max, 100.0f)) == 0x7F);
    CHECK(c.encode(-inf) == 0xFF);
    CHECK_THROWS_AS(c.encode(qnan), input_error);
}

TEST_CASE("af8e3-2022 edge values at bias 0 match the reference rule (flush below min)", "[adaptivfloat]") {
    // bias 0 is IEEE's bias 3: exponents -2 .. 3, min 0.25, max 8 × 1.9375 = 15.5.
    const af_codec c = af8e3_2022::codec(0);
    REQUIRE(c.min_value() == 0.25f);
    REQUIRE(c.max_value() == 15.5f);
    CHECK(c.encode(0.25f) == 0x10);
    CHECK(c.encode(std::nextafter(0.25f, 0.0f)) == 0x00);  // no min/2 rule in 2022
    CHECK(c.encode(-0.2f) == 0x80);
    CHECK(c.encode(1.0f) == 0x30);
    CHECK(c.encode(1.03125f) == 0x30);  // tie to even
    CHECK(c.encode(1.09375f) == 0x32);
    CHECK(c.encode(15.75f) == 0x6F);  // above max: saturate, never the infinity field
    CHECK(c.encode(inf) == 0x6F);
    CHECK(std::isinf(c.decode(0x70)));
    CHECK(std::isnan(c.decode(0x71)));
    CHECK(c.decode(0x01) == 0.0f);
    CHECK_THROWS_AS(c.encode(qnan), input_error);
}

TEST_CASE("bias selection follows floor(log2 amax) at and around powers of two", "[adaptivfloat]") {
    const af_format f2020(8, 3), f2022(8, 3, af_variant::ieee_like_2022), fhw(8, 3, af_variant::edgebert_hw), f84(8, 4);
    for (int k = -5; k <= 4; ++k) {
        const float p = std::ldexp(1.0f, k);
        for (float amax : {p, std::nextafter(p, 0.0f), std::nextafter(p, 1e9f), -p, 1.5f * p}) {
            INFO("amax " << amax);
            const std::vector<float> x{0.01f * amax, amax, -0.5f * amax, 0.0f};
            const int e_max = frexp_exponent(std::fabs(amax)) - 1;  // the references' own computation
            CHECK(e_max == (std::fabs(amax) < p ? k - 1 : k));
            int ref_bias = 0;
            python_2020(x, 8, 3, std::nullopt, &ref_bias);
            CHECK(f2020.select_bias(x.data(), x.size()) == ref_bias);
            CHECK(ref_bias == e_max - 7);
            python_2020(x, 8, 4, std::nullopt, &ref_bias);
            CHECK(f84.select_bias(x.data(), x.size()) == ref_bias);
            python_2022(x, 8, 3, std::nullopt, &ref_bias);
            CHECK(f2022.select_bias(x.data(), x.size()) == ref_bias);
            CHECK(fhw.select_bias(x.data(), x.size()) == std::min(7, std::max(0, e_max + 3)));
            // The window's top exponent is E_max: amax itself is representable or saturates to max.
            const float q = f2020.codec(f2020.select_bias(x.data(), x.size())).max_value();
            CHECK(q >= std::ldexp(1.0f, e_max));
            CHECK(q < std::ldexp(1.0f, e_max + 1));
        }
    }
    // All zeros: frexp(0) has exponent 0, so E_max = -1 as in the references.
    const std::vector<float> zeros(5, 0.0f);
    CHECK(f2020.select_bias(zeros.data(), zeros.size()) == -1 - 7);
    CHECK(f2022.select_bias(zeros.data(), zeros.size()) == 3 + 1);
    CHECK(fhw.select_bias(zeros.data(), 0) == 2);
    // The hardware register clamps to 0..7.
    const std::vector<float> big{1e6f}, small{1e-6f};
    CHECK(fhw.select_bias(big.data(), 1) == 7);
    CHECK(fhw.select_bias(small.data(), 1) == 0);
    // Tiny tensors clamp to the smallest bias that keeps the format inside normal floats.
    const std::vector<float> tiny{1e-40f, -3e-39f};
    CHECK(f2020.select_bias(tiny.data(), 2) == f2020.min_bias());
    CHECK(f2022.select_bias(tiny.data(), 2) == f2022.max_bias());
    // Infinities are left out of the maximum (and saturate); NaN is refused with its index.
    const std::vector<float> with_inf{0.5f, inf, -inf, 0.25f};
    CHECK(f2020.select_bias(with_inf.data(), 4) == -1 - 7);
    const std::vector<float> with_nan{0.5f, 1.0f, qnan};
    CHECK_THROWS_AS(f2020.select_bias(with_nan.data(), 3), input_error);
    CHECK_THROWS_WITH(f2020.select_bias(with_nan.data(), 3), Catch::Contains("element 2"));
    CHECK_THROWS_AS(f2020.bias_for_amax(-1.0f), input_error);
    CHECK_THROWS_AS(f2020.bias_for_amax(inf), input_error);
}

TEST_CASE("per-row bias selection equals per-tensor selection on each row", "[adaptivfloat]") {
    rng g(7);
    const std::size_t rows = 5, cols = 13;
    std::vector<float> x(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) x[r * cols + c] = float(g.normal() * std::ldexp(1.0, int(r) * 3 - 6));
    for (const af_format& f : {af_format(8, 3), af_format(8, 3, af_variant::ieee_like_2022), af_format(8, 3, af_variant::edgebert_hw)}) {
        const std::vector<int> b = f.select_bias_per_row(x.data(), rows, cols);
        REQUIRE(b.size() == rows);
        for (std::size_t r = 0; r < rows; ++r) CHECK(b[r] == f.select_bias(x.data() + r * cols, cols));
        CHECK(b.front() != b.back());
    }
    x[2 * cols + 4] = qnan;
    CHECK_THROWS_WITH(af_format(8, 3).select_bias_per_row(x.data(), rows, cols), Catch::Contains("element 30") && Catch::Contains("row 2"));
}

TEST_CASE("2020 and 2022 match a step-by-step re-implementation of the Python references", "[adaptivfloat]") {
    struct nf {
        int n, e;
    };
    const nf shapes[] = {{8, 3}, {8, 4}, {8, 2}, {6, 2}, {4, 2}, {5, 3}, {10, 4}, {12, 5}, {16, 5}, {8, 7}};
    const double scales[] = {1e-4, 0.02, 1.0, 37.0, 3e4};
    rng g(2020);
    int compared = 0;
    for (const nf& s : shapes) {
        for (double scale : scales) {
            std::vector<float> x = random_tensor(g, 301, scale);
            x[7] = 0.0f, x[8] = -0.0f;
            x[9] = float(scale * 1e-6);  // deep in the flush range
            INFO("af" << s.n << "e" << s.e << " scale " << scale);
            for (af_variant v : {af_variant::reference_2020, af_variant::ieee_like_2022}) {
                if (!af_format::is_valid(s.n, s.e, v)) continue;
                INFO(to_string(v));
                const af_format f(s.n, s.e, v);
                const bool v2020 = v == af_variant::reference_2020;
                int ref_bias = 0;
                const std::vector<float> ref = v2020 ? python_2020(x, s.n, s.e, std::nullopt, &ref_bias)
                                                     : python_2022(x, s.n, s.e, std::nullopt, &ref_bias);
                const int bias = f.select_bias(x.data(), x.size());
                if (ref_bias < f.min_bias() || ref_bias > f.max_bias()) {
                    // The window would leave float's normal range: clamped (documented), not compared.
                    CHECK(bias == (ref_bias < f.min_bias() ? f.min_bias() : f.max_bias()));
                    continue;
                }
                ++compared;
                REQUIRE(bias == ref_bias);
                const std::vector<float> got = decode_encode(f, x, bias);
                std::size_t mismatches = 0;
                for (std::size_t i = 0; i < x.size(); ++i)
                    if (!same_bits(got[i], ref[i]) && !(x[i] == 0.0f && got[i] == 0.0f && ref[i] == 0.0f)) ++mismatches;
                CHECK(mismatches == 0);
            }
        }
    }
    CHECK(compared >= 85);  // of 95 (format, variant, scale) triples, only E = 7 at small scales is clamped
}

TEST_CASE("a given bias matches the references too (values saturating and flushing)", "[adaptivfloat]") {
    rng g(99);
    const std::vector<float> x = random_tensor(g, 500, 1.0);
    for (int bias = -12; bias <= 2; ++bias) {
        INFO("bias " << bias);
        const std::vector<float> ref = python_2020(x, 8, 3, bias, nullptr);
        const std::vector<float> got = decode_encode(af_format(8, 3), x, bias);
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < x.size(); ++i) mismatches += !same_bits(got[i], ref[i]);
        CHECK(mismatches == 0);
        const std::vector<float> ref22 = python_2022(x, 8, 3, bias, nullptr);
        const std::vector<float> got22 = decode_encode(af_format(8, 3, af_variant::ieee_like_2022), x, bias);
        mismatches = 0;
        for (std::size_t i = 0; i < x.size(); ++i) mismatches += !same_bits(got22[i], ref22[i]);
        CHECK(mismatches == 0);
    }
}

TEST_CASE("exactly min/2: ours gives zero where the 2020 reference passes the value through", "[adaptivfloat]") {
    const int bias = -7;
    const float half_min = af8e3::codec(bias).min_value() / 2;
    const std::vector<float> x{half_min, -half_min, 1.0f};
    const std::vector<float> ref = python_2020(x, 8, 3, bias, nullptr);
    CHECK(ref[0] == half_min);  // not representable in the format: the reference's gap (reference/edgebert.md §10.1)
    CHECK(ref[1] == -half_min);
    const std::vector<float> got = decode_encode(af_format(8, 3), x, bias);
    CHECK(got[0] == 0.0f);
    CHECK(std::signbit(got[1]));
    CHECK(got[1] == 0.0f);
    CHECK(got[2] == ref[2]);
}

TEST_CASE("af8-hw matches the cmod float-to-AdaptivFloat conversion for every register", "[adaptivfloat]") {
    rng g(11);
    for (int reg = 0; reg <= 7; ++reg) {
        INFO("register " << reg);
        // Spread magnitudes across the register's whole window and beyond it on both sides.
        std::vector<float> x(2000);
        for (auto& v : x) v = float(g.normal() * std::ldexp(1.0, reg - 10 + int(g.next() % 12)));
        const af_codec c = af8_hw::codec(reg);
        std::size_t mismatches = 0;
        for (float v : x) mismatches += c.encode(v) != cmod_set_value(v, reg);
        CHECK(mismatches == 0);
        // Truncation never increases a magnitude within range.
        for (float v : x)
            if (std::fabs(v) >= c.min_value() && std::fabs(v) <= c.max_value()) CHECK(std::fabs(c.decode(c.encode(v))) <= std::fabs(v));
    }
}

TEST_CASE("2020 encoding is round-to-nearest-even in code space at every midpoint", "[adaptivfloat]") {
    for (const af_format& f : {af_format(8, 3), af_format(8, 4), af_format(6, 2), af_format(12, 4), af_format(8, 3, af_variant::ieee_like_2022)}) {
        for (int bias : {f.min_bias(), 0, f.max_bias() - 3}) {
            INFO(f.describe() << " bias " << bias);
            const af_codec c = f.codec(bias);
            const std::uint32_t first = f.variant() == af_variant::ieee_like_2022 ? (1u << f.man_bits()) : 0u;
            std::size_t failures = 0;
            for (std::uint32_t code = first; code < c.max_code(); ++code) {
                const double lo = c.decode(code), hi = c.decode(code + 1);
                const float mid = float((lo + hi) / 2);  // exact: one more bit than the format has
                if (double(mid) != (lo + hi) / 2) ++failures;
                const std::uint32_t even = (code & 1u) ? code + 1 : code;
                if (c.encode(mid) != even) ++failures;
                if (c.encode(std::nextafter(mid, float(hi))) != code + 1) ++failures;
                if (c.encode(std::nextafter(mid, float(lo))) != code) ++failures;
            }
            CHECK(failures == 0);
        }
    }
}

TEST_CASE("tensor encode writes the scalar codes and reports NaN by index", "[adaptivfloat]") {
    rng g(5);
    const std::vector<float> x = random_tensor(g, 77, 0.1);
    const af_format f(8, 3);
    const int bias = f.select_bias(x.data(), x.size());
    std::vector<std::uint8_t> codes(x.size());
    f.encode(x.data(), x.size(), bias, codes.data());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(codes[i] == af8e3::encode(x[i], bias));
    std::vector<std::uint16_t> wide(x.size());
    const af_format f12(12, 4);
    f12.encode(x.data(), x.size(), -10, wide.data());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(wide[i] == f12.encode(x[i], -10));
    CHECK_THROWS_AS(f12.encode(x.data(), x.size(), -10, codes.data()), config_error);  // 12-bit codes into bytes
    std::vector<float> bad = x;
    bad[40] = qnan;
    CHECK_THROWS_WITH(f.encode(bad.data(), bad.size(), bias, codes.data()), Catch::Contains("element 40"));
}
