#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/activation.hpp>

using namespace edgebert::kernels;

TEST_CASE("every HuggingFace activation name parses; unknown names are a config_error naming them", "[activation]") {
    CHECK(parse_activation("gelu_new") == activation::gelu_tanh);
    CHECK(parse_activation("gelu_pytorch_tanh") == activation::gelu_tanh);
    CHECK(parse_activation("gelu") == activation::gelu_erf);
    CHECK(parse_activation("relu") == activation::relu);
    CHECK(parse_activation("silu") == activation::silu);
    CHECK(parse_activation("swish") == activation::silu);
    CHECK(parse_activation("linear") == activation::identity);
    REQUIRE_THROWS_AS(parse_activation("gelu_newest"), edgebert::config_error);
    REQUIRE_THROWS_WITH(parse_activation("gelu_newest"), Catch::Contains("gelu_newest"));
}

TEST_CASE("reference formulas match hand-computed values", "[activation]") {
    CHECK(activate_reference(activation::gelu_erf, 1.f) == Approx(0.8413447f).margin(1e-6));
    CHECK(activate_reference(activation::gelu_tanh, 1.f) == Approx(0.8411920f).margin(1e-6));
    CHECK(activate_reference(activation::silu, 1.f) == Approx(0.7310586f).margin(1e-6));
    CHECK(activate_reference(activation::quick_gelu, 1.f) == Approx(0.8457957f).margin(1e-6));
    CHECK(activate_reference(activation::relu6, 7.f) == 6.f);
    CHECK(activate_reference(activation::leaky_relu, -2.f) == Approx(-0.02f));
    CHECK(activate_reference(activation::mish, 1.f) == Approx(0.8650984f).margin(1e-6));
}

TEST_CASE("SIMD activations match the scalar reference on odd lengths and edge values", "[activation]") {
    std::vector<float> x;
    for (int i = -400; i <= 400; ++i) x.push_back(float(i) * 0.0371f);
    for (float v : {0.f, -0.f, 1e-30f, -1e-30f, 20.f, -20.f, 80.f, -80.f}) x.push_back(v);
    for (std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(13), x.size()}) {
        for (int a = 0; a <= int(activation::sigmoid); ++a) {
            const auto act = activation(a);
            std::vector<float> y(x.begin(), x.begin() + std::ptrdiff_t(n));
            apply_activation(act, y.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                INFO(to_string(act) << " x=" << x[i]);
                const float ref = activate_reference(act, x[i]);
                CHECK(std::abs(y[i] - ref) <= 2e-6f * (1.f + std::abs(ref)));
            }
        }
    }
}

/// Largest distance, in ulp of the float result, of exp_simd(x) from the double-precision exp over xs (padded
/// to whole batches with the first value).
template <class ExpSimd>
double largest_exp_error_ulp(std::vector<float> xs, ExpSimd&& exp_simd) {
    using B = xsimd::batch<float>;
    constexpr std::size_t W = B::size;
    xs.resize((xs.size() + W - 1) / W * W, xs.front());
    double worst = 0;
    for (std::size_t i = 0; i < xs.size(); i += W) {
        alignas(64) float y[W];
        exp_simd(B::load_unaligned(&xs[i])).store_aligned(y);
        for (std::size_t l = 0; l < W; ++l) {
            const double ref = std::exp(double(xs[i + l]));
            const double ulp = std::ldexp(1.0, std::ilogb(float(ref)) - 23);
            worst = std::max(worst, std::abs(double(y[l]) - ref) / ulp);
        }
    }
    return worst;
}

TEST_CASE("exp_float is within 2 ulp of exp for -87.3 <= x <= 88.3; +inf above, 0 below, NaN stays NaN", "[activation]") {
    using B = xsimd::batch<float>;
    std::vector<float> x;
    for (float v = -87.2f; v < 88.2f; v += 0.00731f) x.push_back(v);
    for (float v : {0.f, -0.f, 1e-30f, -1e-30f, 0.3465f, -0.3466f, 88.29f, -87.29f}) x.push_back(v);
    const double worst = largest_exp_error_ulp(x, [](const B& v) { return detail::exp_float(v); });
    INFO("largest error " << worst << " ulp");
    CHECK(worst <= 2.0);
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> edges = {89.f, 1e30f, inf, -88.f, -104.f, -1e30f, -inf, nan};
    for (float v : edges) {
        const float y = detail::exp_float(B(v)).get(0);
        INFO("x=" << v << " exp_float=" << y);
        if (std::isnan(v)) CHECK(std::isnan(y));
        else if (v > 0) CHECK(y == inf);
        else CHECK((y == 0.f || std::fpclassify(std::exp(v)) == FP_SUBNORMAL));
    }
}

TEST_CASE("exp_nonpositive is within 2 ulp of exp for -87.3 <= z <= 0; 0 below and at -inf, NaN stays NaN", "[activation]") {
    using B = xsimd::batch<float>;
    std::vector<float> z;
    for (float v = -87.29f; v < 0.f; v += 0.00417f) z.push_back(v);
    for (float v : {0.f, -0.f, -1e-30f, -0.3466f, -0.3465f, -87.29f, -87.3f}) z.push_back(v);
    const double worst = largest_exp_error_ulp(z, [](const B& v) { return detail::exp_nonpositive(v); });
    INFO("largest error " << worst << " ulp");
    CHECK(worst <= 2.0);
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    for (float v : {-87.31f, -88.f, -104.f, -1e30f, -inf}) {
        INFO("z=" << v);
        CHECK(detail::exp_nonpositive(B(v)).get(0) == 0.f);
    }
    CHECK(std::isnan(detail::exp_nonpositive(B(nan)).get(0)));
    CHECK(std::isnan(detail::exp_nonpositive(B(-nan)).get(0)));
}

TEST_CASE("SIMD activations keep NaN and the limits at +-inf", "[activation]") {
    const float inf = std::numeric_limits<float>::infinity();
    for (activation act : {activation::gelu_tanh, activation::silu, activation::quick_gelu, activation::sigmoid}) {
        std::vector<float> y = {std::numeric_limits<float>::quiet_NaN(), inf, -inf, -1e30f, 1e30f};
        apply_activation(act, y.data(), y.size());
        INFO(to_string(act));
        CHECK(std::isnan(y[0]));
        CHECK(y[1] == (act == activation::sigmoid ? 1.f : inf));
        CHECK(y[3] == 0.f);
        CHECK(y[4] == (act == activation::sigmoid ? 1.f : 1e30f));
    }
}

TEST_CASE("SIMD gelu_new is within 16 ulp of a double-precision GELU, also where 1 + tanh(u) cancels", "[activation]") {
    std::vector<float> x;
    for (int i = -20000; i <= 20000; ++i) x.push_back(float(i) * 1e-3f);
    std::vector<float> y = x;
    apply_activation(activation::gelu_tanh, y.data(), y.size());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double v = x[i], ref = 0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
        worst = std::max(worst, std::abs(double(y[i]) - ref) / (std::max(std::abs(ref), 1e-3) * 0x1p-23));
    }
    INFO("largest error " << worst << " ulp of max(|GELU(x)|, 1e-3)");
    CHECK(worst <= 16.0);
}
