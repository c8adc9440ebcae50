// SPDX-License-Identifier: Apache-2.0
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/core/dtype.hpp>
#include <edgebert/numeric/format.hpp>

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

const char* const all_names[] = {"af8e3", "af8e4", "af8e2", "af8e1", "af8e7", "af4e1", "af4e2", "af6e2", "af16e5", "af16e7", "af12e4",
                                 "af8e3-2022", "af8e4-2022", "af4e2-2022", "af16e7-2022", "af8-hw", "e4m3", "e5m2", "fp16", "bf16"};

// A parameter that suits the format, varied by i.
quant_param some_param(const number_format& f, int i) {
    quant_param p;
    if (f.is_adaptivfloat()) {
        const af_format& af = f.af();
        p.exp_bias = af.min_bias() + (i * 37) % (af.max_bias() - af.min_bias() + 1);
    } else if (f.is_fp8()) {
        p.scale = std::ldexp(1.0f, i % 9 - 4) * (i % 2 ? 1.0f : 0.7f);
    }
    return p;
}
}  // namespace

TEST_CASE("format names parse, and canonical names round-trip", "[format]") {
    for (const char* n : all_names) {
        INFO(n);
        const number_format f = parse_format(n);
        CHECK(f.name() == n);
        CHECK(parse_format(f.name()) == f);
    }
    CHECK(parse_format("af8") == parse_format("af8e3"));
    CHECK(parse_format("af8").name() == "af8e3");
    const number_format af = parse_format("af10e4-2022");
    CHECK(af.kind() == format_kind::adaptivfloat);
    CHECK(af.af().bits() == 10);
    CHECK(af.af().exp_bits() == 4);
    CHECK(af.af().variant() == af_variant::ieee_like_2022);
    CHECK(af.bits() == 10);
    CHECK_FALSE(af.byte_codes());
    CHECK(parse_format("af8-hw").af().variant() == af_variant::edgebert_hw);
    CHECK(parse_format("e4m3").fp8() == fp8_kind::e4m3);
    CHECK(parse_format("e5m2").bits() == 8);
    CHECK(parse_format("bf16").bits() == 16);
    CHECK(parse_format("fp16") != parse_format("bf16"));
    CHECK(parse_format("af8e3") != parse_format("af8e3-2022"));
    CHECK_THROWS_AS(parse_format("e4m3").af(), config_error);
    CHECK_THROWS_AS(parse_format("af8").fp8(), config_error);
}

TEST_CASE("unknown and unsupported names are config errors naming the name and the valid ones", "[format]") {
    for (const char* bad : {"", "af", "af8e", "afe3", "AF8E3", "af8e3-2021", "af8e3-hw", "af16-hw", "af8-2022", "af08e3", "af8e03",
                            "af8e3 ", " e4m3", "e4m3fn", "fp32", "int8", "af3e1", "af17e5", "af8e0", "af8e8", "af4e4", "af8e1-2022",
                            "af1000e3", "af99999999999e3"}) {
        INFO("'" << bad << "'");
        CHECK_THROWS_AS(parse_format(bad), config_error);
        CHECK_THROWS_WITH(parse_format(bad), Catch::Contains("'" + std::string(bad) + "'") && Catch::Contains("e4m3") &&
                                                 Catch::Contains("af8-hw") && Catch::Contains("bf16"));
    }
}

TEST_CASE("parameters a format does not use are refused, never ignored", "[format]") {
    const number_format af = parse_format("af8e3"), e4 = parse_format("e4m3"), h = parse_format("fp16");
    CHECK_NOTHROW(check_param(af, {-7, 1.0f}));
    CHECK_THROWS_AS(check_param(af, {-7, 2.0f}), config_error);
    CHECK_THROWS_AS(check_param(af, {121, 1.0f}), config_error);
    CHECK_THROWS_AS(check_param(af, {-127, 1.0f}), config_error);
    CHECK_THROWS_AS(check_param(parse_format("af8-hw"), {8, 1.0f}), config_error);
    CHECK_NOTHROW(check_param(e4, {0, 0.25f}));
    CHECK_THROWS_AS(check_param(e4, {3, 1.0f}), config_error);
    CHECK_THROWS_AS(check_param(e4, {0, 0.0f}), config_error);
    CHECK_THROWS_AS(check_param(e4, {0, -1.0f}), config_error);
    CHECK_THROWS_AS(check_param(e4, {0, qnan}), config_error);
    CHECK_THROWS_AS(check_param(h, {0, 2.0f}), config_error);
    CHECK_THROWS_AS(check_param(h, {1, 1.0f}), config_error);
    CHECK_THROWS_AS(encode(af, 1.0f, {0, 3.0f}), config_error);
    CHECK_THROWS_AS(decode(h, 0x3C00, {5, 1.0f}), config_error);
}

TEST_CASE("scalar encode/decode dispatch to the format's own conversions", "[format]") {
    rng g(1);
    for (int i = 0; i < 2000; ++i) {
        const float x = g.normal(std::ldexp(1.0, int(g.next() % 20) - 10));
        CHECK(encode(parse_format("fp16"), x) == io::float_to_half(x));
        CHECK(encode(parse_format("bf16"), x) == io::float_to_bfloat16(x));
        CHECK(encode(parse_format("e4m3"), x, {0, 0.5f}) == float_to_e4m3(x / 0.5f));
        CHECK(encode(parse_format("e5m2"), x, {}, fp8_overflow::non_saturating) == float_to_e5m2(x, fp8_overflow::non_saturating));
        CHECK(encode(parse_format("af8e3"), x, {-9}) == af8e3::encode(x, -9));
        CHECK(encode(parse_format("af8-hw"), x, {4}) == af8_hw::encode(x, 4));
    }
    CHECK(decode(parse_format("fp16"), 0x3C00) == 1.0f);
    CHECK(decode(parse_format("bf16"), 0x3F80) == 1.0f);
    CHECK(decode(parse_format("e4m3"), 0x38, {0, 4.0f}) == 4.0f);
    CHECK(decode(parse_format("af8e3"), 0x70, {-7}) == 1.0f);
    CHECK_THROWS_AS(decode(parse_format("e4m3"), 0x100), input_error);
    CHECK_THROWS_AS(decode(parse_format("af6e2"), 64, {0}), input_error);
    CHECK_THROWS_AS(encode(parse_format("af8e3"), qnan), input_error);
    CHECK(std::isnan(decode(parse_format("e4m3"), encode(parse_format("e4m3"), qnan))));
    CHECK(max_value(parse_format("e4m3"), {0, 2.0f}) == 896.0f);
    CHECK(max_value(parse_format("af8e3"), {-7}) == 1.9375f);
    CHECK(max_value(parse_format("fp16")) == 65504.0f);
    CHECK(min_positive_value(parse_format("e4m3"), {0, 2.0f}) == std::ldexp(1.0f, -8));
    CHECK(min_positive_value(parse_format("e5m2")) == std::ldexp(1.0f, -16));
    CHECK(min_positive_value(parse_format("af8e3"), {-7}) == 0.00830078125f);
    CHECK(min_positive_value(parse_format("af8-hw"), {0}) == std::ldexp(17.0f, -14));
    CHECK(min_positive_value(parse_format("fp16")) == std::ldexp(1.0f, -24));
    CHECK(min_positive_value(parse_format("bf16")) == std::ldexp(1.0f, -133));
    CHECK(max_value(parse_format("bf16")) == std::numeric_limits<float>::max() * (1.0f - std::ldexp(1.0f, -8)) / (1.0f - std::ldexp(1.0f, -24)));
}

TEST_CASE("decode_table is bit-for-bit decode for every 8-bit format and parameter", "[format]") {
    for (const char* n : all_names) {
        const number_format f = parse_format(n);
        if (f.bits() > 8) {
            CHECK_THROWS_AS(decode_table(f), config_error);
            continue;
        }
        for (int i = 0; i < 6; ++i) {
            const quant_param p = some_param(f, i);
            INFO(n << " bias " << p.exp_bias << " scale " << p.scale);
            const std::array<float, 256> t = decode_table(f, p);
            std::size_t mismatches = 0;
            for (std::uint32_t c = 0; c < 256; ++c) {
                if (c >> f.bits()) {
                    mismatches += !std::isnan(t[c]);
                    continue;
                }
                const float v = decode(f, c, p);
                mismatches += !(same_bits(t[c], v) || (std::isnan(t[c]) && std::isnan(v)));
            }
            CHECK(mismatches == 0);
        }
    }
    CHECK(decode_table(parse_format("af8e3"), quant_param::of_bias(-7))[0x70] == 1.0f);
    CHECK(decode_table(parse_format("e4m3"), quant_param::of_scale(0.5f))[0x38] == 0.5f);
    CHECK_THROWS_AS(decode_table(parse_format("af8e3"), {500}), config_error);
    CHECK_THROWS_AS(decode_table(parse_format("e5m2"), {0, -2.0f}), config_error);
}

TEST_CASE("quantized_tensor per tensor: codes, parameter and decode equal the scalar functions", "[format]") {
    rng g(42);
    const std::vector<std::size_t> shape{3, 5, 7};
    std::vector<float> x(3 * 5 * 7);
    for (auto& v : x) v = g.normal(0.05);
    x[3] = 0.0f, x[4] = -0.0f;
    for (const char* n : all_names) {
        INFO(n);
        const number_format f = parse_format(n);
        const quantized_tensor q = quantized_tensor::quantize(x, shape, f);
        CHECK(q.shape() == shape);
        CHECK(q.size() == x.size());
        CHECK(q.rows() == 15);
        CHECK(q.cols() == 7);
        CHECK_FALSE(q.per_row());
        REQUIRE(q.params().size() == 1);
        const quant_param p = q.params()[0];
        if (f.is_adaptivfloat()) CHECK(p.exp_bias == f.af().select_bias(x.data(), x.size()));
        if (f.is_fp8()) CHECK(p.scale == fp8_select_scale(f.fp8(), x.data(), x.size()));
        CHECK(q.code_bytes() == x.size() * (f.bits() <= 8 ? 1 : 2));
        if (f.byte_codes()) {
            CHECK(q.codes8().size() == x.size());
            CHECK_THROWS_AS(q.codes16(), config_error);
        } else {
            CHECK(q.codes16().size() == x.size());
            CHECK_THROWS_AS(q.codes8(), config_error);
        }
        const std::vector<float> y = q.dequantize();
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            mismatches += q.code(i) != encode(f, x[i], p);
            mismatches += !same_bits(y[i], decode(f, q.code(i), p));
        }
        CHECK(mismatches == 0);
    }
}

TEST_CASE("quantized_tensor per row uses one parameter per row", "[format]") {
    rng g(9);
    const std::size_t rows = 6, cols = 11;
    std::vector<float> x(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) x[r * cols + c] = g.normal(std::ldexp(1.0, int(r) * 4 - 12));
    for (const char* n : {"af8e3", "af8e3-2022", "af8-hw", "af12e4", "e4m3", "e5m2"}) {
        INFO(n);
        const number_format f = parse_format(n);
        quantize_options opt;
        opt.per_row = true;
        const quantized_tensor q = quantized_tensor::quantize(x, {rows, cols}, f, opt);
        REQUIRE(q.params().size() == rows);
        CHECK(q.per_row());
        const std::vector<float> y = q.dequantize();
        for (std::size_t r = 0; r < rows; ++r) {
            const quant_param& p = q.param_of_row(r);
            if (f.is_adaptivfloat()) CHECK(p.exp_bias == f.af().select_bias(x.data() + r * cols, cols));
            else CHECK(p.scale == fp8_select_scale(f.fp8(), x.data() + r * cols, cols));
            for (std::size_t c = 0; c < cols; ++c) {
                const std::size_t i = r * cols + c;
                CHECK(q.code(i) == encode(f, x[i], p));
                CHECK(same_bits(y[i], decode(f, q.code(i), p)));
            }
        }
        CHECK(q.params().front() != q.params().back());
        // Per-row error is never worse than per-tensor on data whose rows differ in scale.
        const std::vector<float> yt = quantized_tensor::quantize(x, {rows, cols}, f).dequantize();
        double err_row = 0, err_tensor = 0;
        for (std::size_t i = 0; i < x.size(); ++i) err_row += std::fabs(y[i] - x[i]), err_tensor += std::fabs(yt[i] - x[i]);
        CHECK(err_row <= err_tensor);
    }
}

TEST_CASE("quantize options: given bias or scale, bare FP8, and options that do not apply", "[format]") {
    const std::vector<float> x{0.5f, -1.5f, 3.0f, 1e-3f};
    quantize_options opt;
    opt.exp_bias = -4;
    const quantized_tensor q = quantized_tensor::quantize(x, {4}, parse_format("af8e3"), opt);
    CHECK(q.params()[0].exp_bias == -4);
    CHECK(q.code(2) == af8e3::encode(3.0f, -4));
    opt.exp_bias = 200;
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {4}, parse_format("af8e3"), opt), config_error);
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {4}, parse_format("e4m3"), opt), config_error);

    quantize_options so;
    so.scale = 0.125f;
    const quantized_tensor qs = quantized_tensor::quantize(x, {2, 2}, parse_format("e5m2"), so);
    CHECK(qs.params()[0].scale == 0.125f);
    CHECK(qs.code(1) == float_to_e5m2(-1.5f / 0.125f));
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {4}, parse_format("af8e3"), so), config_error);
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {4}, parse_format("fp16"), so), config_error);
    so.scale = 0.0f;
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {4}, parse_format("e5m2"), so), config_error);

    quantize_options bare;
    bare.fp8_amax_scale = false;
    CHECK(quantized_tensor::quantize(x, {4}, parse_format("e4m3"), bare).params()[0].scale == 1.0f);

    quantize_options pr;
    pr.per_row = true;
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {2, 2}, parse_format("fp16"), pr), config_error);
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {2, 2}, parse_format("bf16"), pr), config_error);
    CHECK_THROWS_AS(quantized_tensor::quantize(x, {3}, parse_format("af8e3")), shape_error);
}

TEST_CASE("quantize refuses NaN naming the element; infinities follow each format's rule", "[format]") {
    std::vector<float> x{0.5f, -1.5f, 3.0f, 1e-3f, 2.0f, 1.0f};
    x[4] = qnan;
    for (const char* n : all_names) {
        INFO(n);
        CHECK_THROWS_AS(quantized_tensor::quantize(x, {2, 3}, parse_format(n)), input_error);
        CHECK_THROWS_WITH(quantized_tensor::quantize(x, {2, 3}, parse_format(n)),
                          Catch::Contains("element 4") && Catch::Contains("row 1, column 1") && Catch::Contains(n));
    }
    x[4] = -inf;
    const std::vector<float> af = quantized_tensor::quantize(x, {2, 3}, parse_format("af8e3")).dequantize();
    CHECK(af[4] == -af8e3::codec(af8e3::select_bias(x.data(), x.size())).max_value());
    CHECK(af[2] == 3.0f);  // the bias came from the finite values
    CHECK(quantized_tensor::quantize(x, {2, 3}, parse_format("e4m3")).dequantize()[4] == -3.0f);  // saturates at amax
    quantize_options nosat;
    nosat.overflow = fp8_overflow::non_saturating;
    CHECK(std::isnan(quantized_tensor::quantize(x, {2, 3}, parse_format("e4m3"), nosat).dequantize()[4]));
    CHECK(quantized_tensor::quantize(x, {2, 3}, parse_format("e5m2"), nosat).dequantize()[4] == -inf);
    CHECK(quantized_tensor::quantize(x, {2, 3}, parse_format("fp16")).dequantize()[4] == -inf);
    CHECK(quantized_tensor::quantize(x, {2, 3}, parse_format("bf16")).dequantize()[4] == -inf);
}

TEST_CASE("quantized_tensor shapes: 0-d, 1-d, empty", "[format]") {
    const float one = 0.75f;
    const quantized_tensor s = quantized_tensor::quantize(&one, {}, parse_format("af8e3"));
    CHECK(s.size() == 1);
    CHECK(s.rows() == 1);
    CHECK(s.dequantize()[0] == 0.75f);
    quantize_options pr;
    pr.per_row = true;
    const std::vector<float> v{1.0f, 2.0f, 4.0f};
    const quantized_tensor r = quantized_tensor::quantize(v, {3}, parse_format("e4m3"), pr);
    CHECK(r.rows() == 1);
    CHECK(r.params().size() == 1);
    const quantized_tensor e = quantized_tensor::quantize(nullptr, {4, 0}, parse_format("af8e3"), pr);
    CHECK(e.size() == 0);
    CHECK(e.rows() == 4);
    CHECK(e.params().size() == 4);
    CHECK(e.dequantize().empty());
    CHECK_THROWS_AS(quantized_tensor::quantize(nullptr, {std::size_t(1) << 40, std::size_t(1) << 40, 0}, parse_format("af8e3")), shape_error);
    const quantized_tensor d;
    CHECK(d.size() == 1);
    CHECK(d.dequantize() == std::vector<float>{0.0f});
}

TEST_CASE("quantized_tensor from stored codes is validated and decodes like the original", "[format]") {
    rng g(4);
    std::vector<float> x(24);
    for (auto& v : x) v = g.normal(0.3);
    for (const char* n : {"af8e3", "af8-hw", "e4m3", "af12e4", "bf16", "af6e2"}) {
        INFO(n);
        const number_format f = parse_format(n);
        quantize_options opt;
        opt.per_row = f.is_adaptivfloat() || f.is_fp8();
        const quantized_tensor q = quantized_tensor::quantize(x, {4, 6}, f, opt);
        if (f.byte_codes()) {
            const quantized_tensor back(f, {4, 6}, q.params(), opt.per_row, q.codes8());
            CHECK(back.dequantize() == q.dequantize());
            CHECK_THROWS_AS(quantized_tensor(f, {4, 5}, q.params(), opt.per_row, q.codes8()), shape_error);
            CHECK_THROWS_AS(quantized_tensor(f, {4, 6}, q.params(), opt.per_row, std::vector<std::uint16_t>(24)), config_error);
            if (opt.per_row) CHECK_THROWS_AS(quantized_tensor(f, {4, 6}, q.params(), false, q.codes8()), shape_error);
        } else {
            const quantized_tensor back(f, {4, 6}, q.params(), opt.per_row, q.codes16());
            CHECK(back.dequantize() == q.dequantize());
            CHECK_THROWS_AS(quantized_tensor(f, {4, 6}, q.params(), opt.per_row, std::vector<std::uint8_t>(24)), config_error);
        }
    }
    CHECK_THROWS_AS(quantized_tensor(parse_format("af6e2"), {2}, {quant_param{}}, false, std::vector<std::uint8_t>{1, 64}), input_error);
    CHECK_THROWS_AS(quantized_tensor(parse_format("af8e3"), {2}, {quant_param{0, 2.0f}}, false, std::vector<std::uint8_t>{1, 2}), config_error);
    CHECK_THROWS_AS(quantized_tensor(parse_format("fp16"), {2}, {quant_param{}, quant_param{}}, true, std::vector<std::uint16_t>{1, 2}), config_error);
}

TEST_CASE("quantization error is bounded by half a step (RNE formats) on in-range data", "[format]") {
    rng g(77);
    std::vector<float> x(4096);
    for (auto& v : x) v = g.normal(0.02);
    for (const char* n : {"af8e3", "af8e4", "af8e3-2022", "e4m3", "e5m2", "fp16", "bf16", "af16e5"}) {
        INFO(n);
        const number_format f = parse_format(n);
        const quantized_tensor q = quantized_tensor::quantize(x, {64, 64}, f);
        const std::vector<float> y = q.dequantize();
        const float top = max_value(f, q.params()[0]);
        std::size_t bad = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (y[i] == 0.0f || std::fabs(x[i]) > top) continue;  // flushed or saturated: other rules
            // Relative error of round-to-nearest with M mantissa bits is at most 2^-(M+1) for normal values.
            const int m = f.is_adaptivfloat() ? f.af().man_bits() : f.kind() == format_kind::e4m3 ? 3 : f.kind() == format_kind::e5m2 ? 2 : f.kind() == format_kind::fp16 ? 10 : 7;
            // Plus half the spacing at the bottom of the range: subnormals (FP8, fp16) and AdaptivFloat's gap
            // between 0 and min, which the min/2 rule splits at its midpoint.
            const double floor_step = f.is_fp8() ? fp8_min_subnormal(f.fp8()) * q.params()[0].scale
                                      : f.is_adaptivfloat() ? f.af().min_value(q.params()[0].exp_bias)
                                      : f.kind() == format_kind::fp16 ? std::ldexp(1.0, -24) : 0.0;
            const double tol = std::ldexp(std::fabs(double(x[i])), -(m + 1)) * (1 + 1e-6) + 0.5 * floor_step;
            bad += std::fabs(double(y[i]) - x[i]) > tol;
        }
        CHECK(bad == 0);
    }
}
