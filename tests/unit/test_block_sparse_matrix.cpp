// sparse/block_sparse_matrix.hpp: BSR layout with edge blocks, exact bytes, block pruning, validation.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/sparse/block_sparse_matrix.hpp>
#include <edgebert/compress.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using sparse::block_sparse_matrix;

TEST_CASE("block_sparse_matrix stores the blocks holding a nonzero, edge blocks zero-padded", "[block_sparse_matrix]") {
    // 5 x 7 in 2 x 3 blocks: 3 block rows, 3 block columns; the last block row and column are partial.
    std::vector<float> w(5 * 7, 0.f);
    w[0 * 7 + 1] = 1.f;  // block (0, 0)
    w[1 * 7 + 6] = 2.f;  // block (0, 2), column 6 is the only real one in that block
    w[4 * 7 + 3] = 3.f;  // block (2, 1), row 4 is the only real one
    const auto m = block_sparse_matrix::from_dense(w.data(), 5, 7, 7, 2, 3);
    CHECK(m.row_blocks() == 3);
    CHECK(m.col_blocks() == 3);
    CHECK(m.blocks() == 3);
    CHECK(m.row_ptr() == std::vector<std::uint32_t>{0, 2, 2, 3});
    CHECK(m.col_index() == std::vector<std::uint32_t>{0, 2, 1});
    CHECK(m.values().size() == 3 * 6);
    CHECK(m.values()[1] == 1.f);            // block 0, (0, 1)
    CHECK(m.values()[6 + 3 + 0] == 2.f);    // block 1, (1, 0)
    CHECK(m.values()[12 + 0] == 3.f);       // block 2, (0, 0)
    CHECK(m.values()[12 + 3] == 0.f);       // padding row
    CHECK(m.nonzeros() == 3);
    // bytes = 4 (block rows + 1) + 4 blocks + 4 R C blocks
    CHECK(m.bytes() == 4 * 4 + 4 * 3 + 4 * 6 * 3);
    CHECK(m.to_dense() == w);
    CHECK(m.at(4, 3) == 3.f);
    CHECK(m.at(2, 2) == 0.f);
    CHECK_THROWS_AS(m.at(5, 0), shape_error);
    CHECK(m.block_density() == Approx(3.0 / 9.0));
}

TEST_CASE("block_sparse_matrix round trips for many block shapes", "[block_sparse_matrix]") {
    for (auto rc : std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {1, 8}, {4, 4}, {16, 1}, {3, 5}, {64, 64}}) {
        const std::size_t rows = 37, cols = 50, ld = 53;
        auto w = test_util::normal_values(rows * ld, 5, 1.f);
        compress::prune_by_magnitude(w.data(), rows, cols, ld, {0.6, rc.first, rc.second});
        std::vector<float> dense(rows * cols);
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j) dense[i * cols + j] = w[i * ld + j];
        const auto m = block_sparse_matrix::from_dense(w.data(), rows, cols, ld, rc.first, rc.second);
        CAPTURE(rc.first, rc.second);
        CHECK(m.to_dense() == dense);
        const std::size_t nblocks = m.row_blocks() * m.col_blocks();
        CHECK(m.blocks() == nblocks - std::size_t(std::floor(0.6 * double(nblocks))));
        CHECK(m.bytes() == 4 * (m.row_blocks() + 1) + 4 * m.blocks() + 4 * rc.first * rc.second * m.blocks());
        const auto again = block_sparse_matrix::from_blocks(rows, cols, rc.first, rc.second, m.row_ptr(), m.col_index(), m.values());
        CHECK(again.to_dense() == dense);
    }
}

TEST_CASE("quantized block_sparse_matrix", "[block_sparse_matrix]") {
    auto w = test_util::normal_values(9 * 20, 8, 1.f);
    compress::prune_by_magnitude(w.data(), 9, 20, 20, {0.5, 4, 4});
    const auto f = numeric::parse_format("e4m3");
    numeric::quantize_options opt;
    opt.per_row = true;
    const auto m = block_sparse_matrix::quantize(w.data(), 9, 20, 20, 4, 4, f, opt);
    CHECK(m.quantized());
    CHECK(m.bytes() == 4 * (3 + 1) + 4 * m.blocks() + 16 * m.blocks() + 9 * 4);
    const auto q = numeric::quantized_tensor::quantize(w.data(), {9, 20}, f, opt);
    CHECK(m.to_dense() == q.dequantize());
    // padding rows (rows 9..11 of the last block row) hold a zero code
    for (std::size_t b = m.row_ptr()[2]; b < m.row_ptr()[3]; ++b)
        for (std::size_t i = 16 / 4; i < 16; ++i) CHECK(m.tables().value(8, m.codes()[b * 16 + i]) == 0.f);
}

TEST_CASE("block_sparse_matrix validation errors are typed", "[block_sparse_matrix]") {
    using V = std::vector<std::uint32_t>;
    const std::vector<float> one(4, 1.f), two(8, 1.f);
    // 4 x 4 in 2 x 2 blocks: 2 block rows, 2 block columns
    CHECK_NOTHROW(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1, 2}, V{1, 0}, two));
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1}, V{1}, one), shape_error);      // row_ptr size
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{1, 1, 2}, V{1, 0}, two), format_error);  // row_ptr[0]
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 2, 1}, V{1, 0}, two), format_error);  // decreasing
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1, 3}, V{1, 0}, two), shape_error);   // ends past
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1, 2}, V{2, 0}, two), format_error);  // column out of range
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 2, 2}, V{1, 1}, two), format_error);  // not increasing
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1, 2}, V{1, 0}, one), shape_error);   // value count
    // 3 x 3 in 2 x 2 blocks: a nonzero in the padding is an error
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(3, 3, 2, 2, V{0, 0, 1}, V{1}, std::vector<float>{1, 1, 1, 1}), format_error);
    CHECK_NOTHROW(block_sparse_matrix::from_blocks(3, 3, 2, 2, V{0, 0, 1}, V{1}, std::vector<float>{1, 0, 0, 0}));
    CHECK_THROWS_AS(block_sparse_matrix::from_dense(one.data(), 2, 2, 2, 0, 1), config_error);
    CHECK_THROWS_AS(block_sparse_matrix::from_dense(one.data(), 2, 2, 2, 1, 65), config_error);
    const sparse::code_tables t(numeric::parse_format("af6e2"), {numeric::quant_param::of_bias(0)}, 4);
    CHECK_THROWS_AS(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1, 2}, V{1, 0}, std::vector<std::uint8_t>(8, 70), t), format_error);
    CHECK_NOTHROW(block_sparse_matrix::from_blocks(4, 4, 2, 2, V{0, 1, 2}, V{1, 0}, std::vector<std::uint8_t>(8, 7), t));
}
