#include <catch2/catch.hpp>
#include <edgebert/nn/layer_norm.hpp>

TEST_CASE("LayerNorm module normalises rows in place with its gamma, beta and eps", "[nn_layer_norm]") {
    const float g[4] = {1, 2, 1, 1}, b[4] = {0, 0, 1, 0};
    const edgebert::nn::layer_norm ln(g, b, 4, 1e-5f);
    CHECK(ln.size() == 4);
    CHECK(ln.eps() == 1e-5f);
    float x[8] = {1, 2, 3, 4, 0, 0, 0, 8};
    ln.forward_inplace(x, 2, 4);
    // row 0: mean 2.5, var 1.25
    CHECK(x[0] == Approx(-1.5 / std::sqrt(1.25 + 1e-5)));
    CHECK(x[1] == Approx(2 * -0.5 / std::sqrt(1.25 + 1e-5)));
    CHECK(x[2] == Approx(1 + 0.5 / std::sqrt(1.25 + 1e-5)));
    // row 1: mean 2, var 12
    CHECK(x[7] == Approx(6 / std::sqrt(12 + 1e-5)));
}
