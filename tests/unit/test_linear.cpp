#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/nn/linear.hpp>

using namespace edgebert;

TEST_CASE("linear computes act(x Wᵀ + b) + residual with PyTorch's weight layout", "[linear]") {
    const float w[6] = {1, 2, 3, -1, 0, 1};  // out 2, in 3
    const float b[2] = {0.5f, -0.5f};
    const nn::linear lin(w, 2, 3, b);
    CHECK(lin.in_features() == 3);
    CHECK(lin.out_features() == 2);
    CHECK(lin.has_bias());
    const float x[6] = {1, 1, 1, 2, 0, -1};
    float y[4];
    lin.forward(x, 2, 3, y, 2);
    CHECK(y[0] == 6.5f);   // 1+2+3 + .5
    CHECK(y[1] == -0.5f);  // -1+0+1 - .5
    CHECK(y[2] == -0.5f);  // 2+0-3 + .5
    CHECK(y[3] == -3.5f);  // -2+0-1 - .5
    const float res[4] = {1, 1, 1, 1};
    lin.forward(x, 2, 3, y, 2, 2, kernels::activation::relu, res, 2);
    CHECK(y[0] == 7.5f);
    CHECK(y[1] == 1.f);
    CHECK(y[3] == 1.f);
    const nn::linear no_bias(w, 2, 3, nullptr);
    CHECK_FALSE(no_bias.has_bias());
    no_bias.forward(x, 1, 3, y, 2);
    CHECK(y[0] == 6.f);
    CHECK(lin.bytes() >= 6 * sizeof(float));
}
