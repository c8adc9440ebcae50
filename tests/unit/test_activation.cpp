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
