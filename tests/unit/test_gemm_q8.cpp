// kernels/gemm_q8.hpp: 8-bit decode-on-the-fly GEMM against gemm on the decoded weights (bit for bit) and
// against the scalar reference; the SIMD decoder against the table; validation.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/gemm_q8.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using namespace edgebert::kernels;

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Decoded W [n x k] of a q8 matrix.
std::vector<float> decoded(const q8_packed_matrix& q) {
    std::vector<float> w(q.n() * q.k());
    for (std::size_t j = 0; j < q.n(); ++j)
        for (std::size_t t = 0; t < q.k(); ++t) w[j * q.k() + t] = q.at(t, j);
    return w;
}

// One product: gemm_q8 with 1/2/3 threads == gemm(decoded) bitwise; close to the scalar reference; padding of C
// untouched.
void check_q8(std::size_t m, std::size_t k, std::size_t n, const numeric::number_format& f, bool per_row, unsigned seed,
              bool with_epilogue) {
    CAPTURE(m, k, n, f.name(), per_row, with_epilogue);
    const std::size_t lda = k + 2, ldc = n + 3;
    const auto a = test_util::normal_values(m * lda, seed, 1.f);
    auto w = test_util::normal_values(n * k, seed + 1, 0.5f);
    for (std::size_t i = 0; i < w.size(); i += 3) w[i] = 0.f;  // some exact zeros
    numeric::quantize_options opt;
    opt.per_row = per_row;
    const auto q = q8_packed_matrix::quantize(w.data(), n, k, k, f, opt);
    const auto wd = decoded(q);
    const auto dense = packed_matrix::from_weight(wd.data(), n, k, k);
    const auto bias = test_util::normal_values(n, seed + 2, 1.f);
    const auto res = test_util::normal_values(m * n, seed + 3, 1.f);
    epilogue ep;
    if (with_epilogue) ep = {bias.data(), activation::gelu_tanh, res.data(), n};

    std::vector<float> want(m * ldc, 7.f);
    gemm(a.data(), m, lda, dense, want.data(), ldc, ep, 1);
    for (int threads : {1, 2, 3}) {
        std::vector<float> got(m * ldc, 7.f);
        gemm_q8(a.data(), m, lda, q, got.data(), ldc, ep, threads);
        CAPTURE(threads);
        REQUIRE(same_bits(got, want));
    }
    // The scalar reference from the raw codes.
    std::vector<std::uint8_t> codes(n * k);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t t = 0; t < k; ++t) codes[j * k + t] = q.code(t, j);
    std::vector<float> ref(m * ldc, 7.f);
    reference::gemm_q8(a.data(), m, k, lda, codes.data(), n, k, q.tables(), ref.data(), ldc, ep);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < ldc; ++j) {
            double bound = 1.0;
            for (std::size_t t = 0; t < k && j < n; ++t) bound += std::abs(double(a[i * lda + t]) * wd[j * k + t]);
            const float x = want[i * ldc + j], y = ref[i * ldc + j];
            if (!(std::abs(x - y) <= 1e-5 * bound)) {
                INFO("row " << i << " col " << j << ": fast " << x << " reference " << y);
                REQUIRE(std::abs(x - y) <= 1e-5 * bound);
            }
        }
}

}  // namespace

TEST_CASE("gemm_q8 equals gemm on the decoded weights on odd sizes, formats and thread counts", "[gemm_q8]") {
    unsigned seed = 10;
    const std::vector<numeric::number_format> formats = {numeric::parse_format("af8e3"), numeric::parse_format("e4m3"),
                                                         numeric::parse_format("af6e2"), numeric::parse_format("e5m2")};
    for (std::size_t m : {1, 7, 33, 130})
        for (auto kn : std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {13, 17}, {65, 49}, {300, 100}}) {
            const auto& f = formats[seed % formats.size()];
            check_q8(m, kn.first, kn.second, f, seed % 3 == 0, seed, seed % 2 == 0);
            ++seed;
        }
    for (const auto& f : formats) {
        check_q8(33, 97, 65, f, true, ++seed, true);
        check_q8(9, 64, 48, f, false, ++seed, false);
    }
}

TEST_CASE("gemm_q8 with per-row biases that need one table per row", "[gemm_q8]") {
    // Biases 2^226 apart: no float scale maps one row's table onto the other's, so each row keeps its own.
    const numeric::number_format f = numeric::parse_format("af8e3");
    const std::size_t n = 3, k = 21, m = 5;
    sparse::code_tables t(f, {numeric::quant_param::of_bias(-126), numeric::quant_param::of_bias(100), numeric::quant_param::of_bias(0)}, n);
    REQUIRE_FALSE(t.shared_base());
    test_util::rng r(3);
    std::vector<std::uint8_t> codes(n * k);
    for (auto& c : codes) c = std::uint8_t(r.next() & 0xFF);
    const auto q = q8_packed_matrix::from_codes(codes.data(), n, k, k, t);
    CHECK(q.at(4, 1) == t.value(1, codes[1 * k + 4]));
    const auto a = test_util::normal_values(m * k, 4, 1e-20f);  // keep products finite
    const auto wd = decoded(q);
    std::vector<float> want(m * n), got(m * n);
    gemm(a.data(), m, k, packed_matrix::from_weight(wd.data(), n, k, k), want.data(), n);
    gemm_q8(a.data(), m, k, q, got.data(), n);
    CHECK(same_bits(got, want));
}

TEST_CASE("the SIMD code decoder matches the table for every code and length", "[gemm_q8]") {
    test_util::rng r(7);
    for (int variant = 0; variant < 2; ++variant) {
        float table[256];
        for (int c = 0; c < 256; ++c) {
            float v = float(r.normal() * 3.0);
            if (variant == 0) {  // bf16-exact values: the two-plane path
                std::uint32_t u;
                std::memcpy(&u, &v, 4);
                u &= 0xFFFF0000u;
                std::memcpy(&v, &u, 4);
            }
            table[c] = v;
        }
        table[255] = std::numeric_limits<float>::quiet_NaN();
        table[254] = -std::numeric_limits<float>::infinity();
        const detail::q8_planes planes(table);
        CHECK(planes.low_zero == (variant == 0));
        for (std::size_t n : {1, 15, 16, 17, 63, 64, 65, 127, 128, 200, 256, 1000}) {
            std::vector<std::uint8_t> codes(n);
            for (std::size_t i = 0; i < n; ++i) codes[i] = std::uint8_t(i < 256 ? i : r.next() & 0xFF);
            std::vector<float> out(n + 16, 123.f);
            detail::decode_codes(codes.data(), n, planes, out.data());
            for (std::size_t i = 0; i < n; ++i) {
                const float want = table[codes[i]];
                CAPTURE(n, i, int(codes[i]));
                REQUIRE(std::memcmp(&out[i], &want, 4) == 0);
            }
            for (std::size_t i = n; i < n + 16; ++i) REQUIRE(out[i] == 123.f);  // nothing written past n
        }
    }
}

TEST_CASE("gemm_q8 edge cases and validation", "[gemm_q8]") {
    const auto f = numeric::parse_format("af8e3");
    const std::vector<float> w = {1, 0, -2, 0.5f, 0.25f, 3};  // 2 x 3
    const auto q = q8_packed_matrix::quantize(w.data(), 2, 3, 3, f);
    CHECK(q.storage_bytes() == 6);
    CHECK(q.bytes() == q.panel_columns() * 3);
    const float x[3] = {1, 1, 1};
    float y[2] = {9, 9};
    gemm_q8(x, 0, 3, q, y, 2);  // m == 0: nothing touched
    CHECK(y[0] == 9.f);
    gemm_q8(x, 1, 3, q, y, 2);
    CHECK(y[0] == Approx(-1.f));
    CHECK(y[1] == Approx(3.75f));
    CHECK_THROWS_AS(gemm_q8(x, 1, 2, q, y, 2), shape_error);  // lda < k
    // k == 0: epilogue(0)
    const auto empty_k = q8_packed_matrix::quantize(w.data(), 2, 0, 0, f);
    const float bias[2] = {1.5f, -2.f};
    gemm_q8(x, 1, 0, empty_k, y, 2, epilogue{bias, activation::relu, nullptr, 0});
    CHECK(y[0] == 1.5f);
    CHECK(y[1] == 0.f);
    // validation
    const auto f6 = numeric::parse_format("af6e2");
    const std::vector<std::uint8_t> bad = {1, 2, 64};
    const sparse::code_tables t6(f6, {numeric::quant_param::of_bias(-3)}, 1);
    CHECK_THROWS_AS(q8_packed_matrix::from_codes(bad.data(), 1, 3, 3, t6), format_error);
    CHECK_NOTHROW(q8_packed_matrix::from_codes(bad.data(), 1, 2, 2, t6));
    CHECK_THROWS_AS(q8_packed_matrix::from_codes(bad.data(), 3, 1, 1, t6), shape_error);  // tables for 1 row
    CHECK_THROWS_AS(q8_packed_matrix::from_codes(bad.data(), 1, 3, 2, t6), shape_error);  // ld < k
    CHECK_THROWS_AS(q8_packed_matrix::quantize(w.data(), 2, 3, 3, numeric::parse_format("fp16")), config_error);
    CHECK_THROWS_AS(sparse::code_tables(f, {numeric::quant_param::of_bias(0), numeric::quant_param::of_bias(0)}, 3), shape_error);
    CHECK_THROWS_AS(sparse::code_tables(f, {numeric::quant_param::of_scale(2.f)}, 1), config_error);
}

TEST_CASE("gemm_q8 does not crash on NaN and infinity in the activations", "[gemm_q8]") {
    const auto f = numeric::parse_format("e4m3");
    const auto w = test_util::normal_values(40 * 30, 5, 1.f);
    const auto q = q8_packed_matrix::quantize(w.data(), 40, 30, 30, f);
    auto a = test_util::normal_values(9 * 30, 6, 1.f);
    a[3] = std::numeric_limits<float>::quiet_NaN();
    a[40] = std::numeric_limits<float>::infinity();
    std::vector<float> c(9 * 40);
    gemm_q8(a.data(), 9, 30, q, c.data(), 40, {}, 2);
    CHECK(std::isnan(c[0]));
    CHECK(std::isfinite(c[8 * 40]));
}
