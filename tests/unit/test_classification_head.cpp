#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/nn/classification_head.hpp>

using namespace edgebert;

TEST_CASE("a two-layer head is Linear, tanh, Linear", "[head]") {
    const std::vector<float> w1{1.f, 0.f, 0.f, -2.f}, b1{0.5f, 0.f}, w2{1.f, 1.f, 3.f, -1.f, 0.f, 2.f}, b2{0.f, 0.1f, 0.f};
    std::vector<nn::linear> layers;
    layers.emplace_back(w1.data(), 2, 2, b1.data());
    layers.emplace_back(w2.data(), 3, 2, b2.data());
    const nn::classification_head head(std::move(layers), kernels::activation::tanh, false);
    CHECK(head.num_labels() == 3);
    const std::vector<float> x{0.3f, 0.2f, 9.f, -1.f, 0.1f, 9.f};  // two rows, row stride 3
    std::vector<float> y(6);
    head.forward(x.data(), 2, 3, y.data());
    for (std::size_t r = 0; r < 2; ++r) {
        const float h0 = std::tanh(x[r * 3] + 0.5f), h1 = std::tanh(-2.f * x[r * 3 + 1]);
        CHECK(y[r * 3 + 0] == Approx(h0 + h1));
        CHECK(y[r * 3 + 1] == Approx(3 * h0 - h1 + 0.1f));
        CHECK(y[r * 3 + 2] == Approx(2 * h1));
    }
}

TEST_CASE("head layers must chain", "[head]") {
    const std::vector<float> w(12, 0.f);
    std::vector<nn::linear> layers;
    layers.emplace_back(w.data(), 3, 2, nullptr);
    layers.emplace_back(w.data(), 2, 4, nullptr);
    CHECK_THROWS_AS(nn::classification_head(std::move(layers), kernels::activation::tanh, false), shape_error);
    CHECK_THROWS_AS(nn::classification_head({}, kernels::activation::tanh, false), config_error);
}
