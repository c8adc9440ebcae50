// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <edgebert/compress/pruning.hpp>

using namespace edgebert;

TEST_CASE("element pruning zeroes exactly floor(fraction * n) of the smallest magnitudes, ties by position", "[pruning]") {
    std::vector<float> w = {0.5f, -0.1f, 0.3f, -0.3f, 0.0f, 2.0f, 0.1f};
    compress::prune_by_magnitude(w.data(), 1, w.size(), w.size(), {0.5});  // floor(3.5) = 3: 0.0, -0.1 (index 1), 0.1 (index 6)
    CHECK(w == std::vector<float>{0.5f, 0.0f, 0.3f, -0.3f, 0.0f, 2.0f, 0.0f});
    // |0.3| twice: the lower position goes first
    std::vector<float> t = {0.3f, 1.0f, -0.3f, 2.0f};
    compress::prune_by_magnitude(t.data(), 2, 2, 2, {0.25});
    CHECK(t == std::vector<float>{0.0f, 1.0f, -0.3f, 2.0f});
    // a row stride wider than the row: the gap is never touched
    std::vector<float> g = {1, 2, 99, 3, 4, 99};
    compress::prune_by_magnitude(g.data(), 2, 2, 3, {0.5});
    CHECK(g == std::vector<float>{0, 0, 99, 3, 4, 99});
}

TEST_CASE("block pruning zeroes the blocks of smallest mean magnitude", "[pruning]") {
    // 4 x 4 in 2 x 2 blocks with norms 4, 40, 0.4, 400 (block order (0,0), (0,1), (1,0), (1,1))
    std::vector<float> w = {1, 1, 10, 10,  //
                            1, 1, 10, 10,  //
                            0.1f, 0.1f, 100, 100,  //
                            0.1f, 0.1f, 100, 100};
    auto a = w;
    compress::prune_by_magnitude(a.data(), 4, 4, 4, {0.5, 2, 2});
    CHECK(a == std::vector<float>{0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 100, 100, 0, 0, 100, 100});
    auto b = w;
    compress::prune_by_magnitude(b.data(), 4, 4, 4, {0.0, 2, 2});
    CHECK(b == w);
    CHECK_THROWS_AS(compress::prune_by_magnitude(b.data(), 4, 4, 4, {1.0, 2, 2}), config_error);
    CHECK_THROWS_AS(compress::prune_by_magnitude(b.data(), 4, 4, 4, {0.5, 0, 2}), config_error);
    // 3 x 3 in 2 x 2 blocks: the edge blocks hold 2, 2 and 1 elements. By mean magnitude the full block (1) and
    // the bottom edge (2) go; by L1 norm the corner (5) and the bottom edge (4) would tie with the full one (4)
    std::vector<float> e = {1, 1, 3,  //
                            1, 1, 3,  //
                            2, 2, 5};
    compress::prune_by_magnitude(e.data(), 3, 3, 3, {0.5, 2, 2});
    CHECK(e == std::vector<float>{0, 0, 3, 0, 0, 3, 0, 0, 5});
}

TEST_CASE("pruning a weight that is NaN or infinite is an error naming the tensor and the element", "[pruning]") {
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        std::vector<float> w = {0.1f, 0.2f, 0.3f, 0.4f, bad, 0.6f};
        const auto before = w;
        for (const compress::prune_spec spec : {compress::prune_spec{0.5}, compress::prune_spec{0.5, 1, 2}}) {
            CHECK_THROWS_AS(compress::prune_by_magnitude(w.data(), 2, 3, 3, spec, "encoder.ffn.weight"), input_error);
            CHECK_THROWS_WITH(compress::prune_by_magnitude(w.data(), 2, 3, 3, spec, "encoder.ffn.weight"),
                              Catch::Contains("encoder.ffn.weight") && Catch::Contains("[1, 1]"));
        }
        CHECK(std::equal(w.begin(), w.end(), before.begin(), [](float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }));
    }
}
