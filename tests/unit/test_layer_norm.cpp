#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/layer_norm.hpp>

using namespace edgebert::kernels;

TEST_CASE("LayerNorm SIMD rows match the double-precision reference on odd widths", "[layer_norm]") {
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.f, 1.f);
    for (std::size_t n : {1u, 3u, 7u, 17u, 64u, 100u, 768u, 771u}) {
        const std::size_t rows = 5, ld = n + 3;
        std::vector<float> x(rows * ld), g(n), b(n);
        for (auto& v : x) v = 3.f + 2.f * nd(rng);  // offset mean: exercises the two-pass variance
        for (auto& v : g) v = 1.f + 0.1f * nd(rng);
        for (auto& v : b) v = 0.1f * nd(rng);
        std::vector<float> ref(rows * ld, -7.f), fast(rows * ld, -7.f);
        reference::layer_norm(x.data(), rows, n, ld, g.data(), b.data(), 1e-12f, ref.data(), ld);
        layer_norm(x.data(), rows, n, ld, g.data(), b.data(), 1e-12f, fast.data(), ld, 2);
        for (std::size_t i = 0; i < rows * ld; ++i) {
            INFO("n=" << n << " i=" << i);
            CHECK(std::abs(fast[i] - ref[i]) <= 2e-5f);
        }
    }
}

TEST_CASE("LayerNorm of a constant row is beta (eps keeps it finite)", "[layer_norm]") {
    std::vector<float> x(9, 5.f), g(9, 2.f), b(9, 0.25f), y(9);
    layer_norm(x.data(), 1, 9, 9, g.data(), b.data(), 1e-12f, y.data(), 9);
    for (float v : y) CHECK(v == Approx(0.25f));
}

TEST_CASE("LayerNorm works in place", "[layer_norm]") {
    std::vector<float> x{1, 2, 3, 4, 5}, g(5, 1.f), b(5, 0.f), ref(5);
    reference::layer_norm(x.data(), 1, 5, 5, g.data(), b.data(), 1e-5f, ref.data(), 5);
    layer_norm(x.data(), 1, 5, 5, g.data(), b.data(), 1e-5f, x.data(), 5);
    for (int i = 0; i < 5; ++i) CHECK(x[std::size_t(i)] == Approx(ref[std::size_t(i)]).margin(1e-6));
}
