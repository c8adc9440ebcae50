// sparse/bitmask_matrix.hpp: EdgeBERT bit-mask layout, exact bytes, round trips and validation.
#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/sparse/bitmask_matrix.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using sparse::bitmask_matrix;

TEST_CASE("bitmask_matrix lays out one mask word per vector and the nonzeros in order", "[bitmask_matrix]") {
    // 2 x 20 with 16-lane vectors: two vectors per row, the second partial (4 columns).
    std::vector<float> w(2 * 20, 0.f);
    w[0 * 20 + 1] = 1.f;
    w[0 * 20 + 15] = 2.f;
    w[0 * 20 + 17] = 3.f;
    w[1 * 20 + 0] = -4.f;
    w[1 * 20 + 19] = 5.f;
    const auto m = bitmask_matrix::from_dense(w.data(), 2, 20, 20);
    CHECK(m.lanes() == 16);
    CHECK(m.vectors_per_row() == 2);
    CHECK(m.nonzeros() == 5);
    CHECK(m.mask_word(0, 0) == ((1u << 1) | (1u << 15)));
    CHECK(m.mask_word(0, 1) == (1u << 1));
    CHECK(m.mask_word(1, 0) == 1u);
    CHECK(m.mask_word(1, 1) == (1u << 3));
    CHECK(m.values() == std::vector<float>{1, 2, 3, -4, 5});
    CHECK(m.row_begin(1) == 3);
    // little-endian 16-bit words: bytes of word (0,0) are 0x02 0x80
    CHECK(m.mask_bytes().size() == 8);
    CHECK(m.mask_bytes()[0] == 0x02);
    CHECK(m.mask_bytes()[1] == 0x80);
    // bytes = rows * ceil(cols/n) * n/8 + 4 * nonzeros
    CHECK(m.bytes() == 2 * 2 * 2 + 5 * 4);
    CHECK(m.at(0, 17) == 3.f);
    CHECK(m.at(0, 16) == 0.f);
    CHECK(m.at(1, 19) == 5.f);
    CHECK(m.to_dense() == w);
    CHECK_THROWS_AS(m.at(2, 0), shape_error);
    CHECK(m.density() == Approx(5.0 / 40.0));
}

TEST_CASE("bitmask_matrix round trips for every vector length, strides and sparsities", "[bitmask_matrix]") {
    test_util::rng r(11);
    for (std::size_t lanes : {8, 16, 32, 64})
        for (double s : {0.0, 0.5, 0.95, 1.0}) {
            const std::size_t rows = 13, cols = 71, ld = 75;
            std::vector<float> w(rows * ld, 9.f);  // 9 in the stride padding must be ignored
            std::vector<float> dense(rows * cols);
            std::size_t nz = 0;
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < cols; ++j) {
                    const float v = r.uniform() < s ? 0.f : r.normal(1.0);
                    w[i * ld + j] = dense[i * cols + j] = v;
                    nz += v != 0.f;
                }
            const auto m = bitmask_matrix::from_dense(w.data(), rows, cols, ld, lanes);
            CAPTURE(lanes, s);
            CHECK(m.nonzeros() == nz);
            CHECK(m.to_dense() == dense);
            CHECK(m.bytes() == rows * ((cols + lanes - 1) / lanes) * (lanes / 8) + 4 * nz);
            // the compressed file's flat mask converts back to the same matrix
            const auto flat = m.element_mask();
            std::vector<std::uint8_t> codes(nz, 1);
            const sparse::code_tables t(numeric::parse_format("af8e3"), {numeric::quant_param::of_bias(0)}, rows);
            const auto back = bitmask_matrix::from_element_mask(rows, cols, lanes, flat.data(), flat.size(), codes, t);
            CHECK(back.mask_bytes() == m.mask_bytes());
            // and the masks + values constructor gives it back too
            const auto again = bitmask_matrix::from_masks(rows, cols, lanes, m.mask_bytes(), m.values());
            CHECK(again.to_dense() == dense);
        }
}

TEST_CASE("quantized bitmask_matrix: one byte per nonzero, per-row parameters counted", "[bitmask_matrix]") {
    const auto w = test_util::normal_values(6 * 40, 3, 1.f);
    std::vector<float> pruned = w;
    for (std::size_t i = 0; i < pruned.size(); i += 2) pruned[i] = 0.f;
    const auto f = numeric::parse_format("af8e3");
    const auto m = bitmask_matrix::quantize(pruned.data(), 6, 40, 40, f);
    CHECK(m.quantized());
    CHECK(m.nonzeros() <= 120);
    CHECK(m.nonzeros() >= 100);  // a few small values may quantize to zero and are dropped
    CHECK(m.bytes() == 6 * 3 * 2 + m.nonzeros());
    numeric::quantize_options opt;
    opt.per_row = true;
    const auto pr = bitmask_matrix::quantize(pruned.data(), 6, 40, 40, f, opt);
    CHECK(pr.bytes() == 6 * 3 * 2 + pr.nonzeros() + 6 * 4);
    // decoded values are the format's
    const auto q = numeric::quantized_tensor::quantize(pruned.data(), {6, 40}, f);
    const auto d = q.dequantize();
    const auto got = m.to_dense();
    for (std::size_t i = 0; i < d.size(); ++i) CHECK(got[i] == d[i]);
    CHECK(m.memory_bytes() > m.bytes());
}

TEST_CASE("bitmask_matrix edge cases: all zero, fully dense, NaN kept", "[bitmask_matrix]") {
    const std::vector<float> zeros(5 * 17, 0.f);
    const auto z = bitmask_matrix::from_dense(zeros.data(), 5, 17, 17);
    CHECK(z.nonzeros() == 0);
    CHECK(z.bytes() == 5 * 2 * 2);
    std::vector<float> full(3 * 16, 1.f);
    full[4] = std::numeric_limits<float>::quiet_NaN();
    const auto f = bitmask_matrix::from_dense(full.data(), 3, 16, 16);
    CHECK(f.nonzeros() == 48);
    CHECK(f.mask_word(0, 0) == 0xFFFFu);
    CHECK(std::isnan(f.at(0, 4)));
    const auto empty = bitmask_matrix::from_dense(nullptr, 0, 0, 0);
    CHECK(empty.bytes() == 0);
}

TEST_CASE("bitmask_matrix validation errors are typed", "[bitmask_matrix]") {
    const sparse::code_tables t6(numeric::parse_format("af6e2"), {numeric::quant_param::of_bias(0)}, 2);
    // 2 x 10, 8 lanes: 2 words of 1 byte per row
    const std::vector<std::uint8_t> mask = {0x03, 0x01, 0x00, 0x02};  // 4 bits set
    CHECK_NOTHROW(bitmask_matrix::from_masks(2, 10, 8, mask, std::vector<std::uint8_t>{1, 2, 3, 4}, t6));
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 8, {0x03, 0x01, 0x00}, std::vector<std::uint8_t>{1, 2, 3}, t6), shape_error);
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 8, mask, std::vector<std::uint8_t>{1, 2, 3}, t6), shape_error);
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 8, {0x03, 0x04, 0x00, 0x02}, std::vector<std::uint8_t>{1, 2, 3, 4}, t6),
                    format_error);  // bit 2 of the last vector = column 10, past the end
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 8, mask, std::vector<std::uint8_t>{1, 2, 64, 4}, t6), format_error);  // > 6 bits
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 12, mask, std::vector<float>{1, 2, 3, 4}), config_error);
    const sparse::code_tables t3(numeric::parse_format("af6e2"), {numeric::quant_param::of_bias(0)}, 3);
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 8, mask, std::vector<std::uint8_t>{1, 2, 3, 4}, t3), shape_error);
    CHECK_THROWS_AS(bitmask_matrix::from_masks(2, 10, 8, mask, std::vector<float>{1, 2, 3}), shape_error);
    const float w[4] = {1, 2, 3, 4};
    CHECK_THROWS_AS(bitmask_matrix::from_dense(w, 2, 2, 1), shape_error);
    // flat mask: wrong size, stray bit
    const std::uint8_t flat[3] = {0xFF, 0xFF, 0x0F};  // 20 elements = 2 x 10
    CHECK_NOTHROW(bitmask_matrix::from_element_mask(2, 10, 16, flat, 3, std::vector<std::uint8_t>(20, 1), t6));
    CHECK_THROWS_AS(bitmask_matrix::from_element_mask(2, 10, 16, flat, 2, std::vector<std::uint8_t>(20, 1), t6), shape_error);
    const std::uint8_t stray[3] = {0xFF, 0xFF, 0x1F};
    CHECK_THROWS_AS(bitmask_matrix::from_element_mask(2, 10, 16, stray, 3, std::vector<std::uint8_t>(21, 1), t6), format_error);
    CHECK_THROWS_AS(bitmask_matrix::from_element_mask(2, 10, 16, flat, 3, std::vector<std::uint8_t>(19, 1), t6), shape_error);
}
