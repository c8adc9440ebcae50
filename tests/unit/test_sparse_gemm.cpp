// kernels/sparse_gemm.hpp: bit-mask and block-sparse products against the scalar references and the dense gemm,
// on odd sizes, sparsities (0 %, 50 %, 95 %, all zero), block shapes, fp32 and 8-bit values, thread counts.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/sparse_gemm.hpp>
#include <edgebert/compress.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using namespace edgebert::kernels;

namespace {

// W [n x k] with about `sparsity` of its elements zero (unstructured).
std::vector<float> sparse_weight(std::size_t n, std::size_t k, double sparsity, unsigned seed) {
    test_util::rng r(seed);
    std::vector<float> w(n * k);
    for (auto& x : w) x = r.uniform() < sparsity ? 0.f : r.normal(0.5);
    return w;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// fast (threads 1, 2, 3 on every third case: identical bits) vs the scalar reference (and, given the dense decoded weight, the
// dense reference gemm): |diff| <= 1e-5 * sum|x||w| + 1e-5; padding columns of Y untouched.
template <class M>
void check_product(const M& w, const std::vector<float>& wd, std::size_t m, unsigned seed, bool with_epilogue) {
    const std::size_t n = w.rows(), k = w.cols(), ldx = k + 3, ldy = n + 2;
    CAPTURE(m, n, k, with_epilogue);
    const auto x = test_util::normal_values(m * ldx, seed, 1.f);
    const auto bias = test_util::normal_values(n, seed + 1, 1.f);
    const auto res = test_util::normal_values(m * (n + 1), seed + 2, 1.f);
    epilogue ep;
    if (with_epilogue) ep = {bias.data(), activation::gelu_tanh, res.data(), n + 1};
    std::vector<float> ref(m * ldy, 5.f), dense(m * ldy, 5.f);
    reference::sparse_gemm(x.data(), m, ldx, w, ref.data(), ldy, ep);
    reference::gemm(x.data(), m, k, ldx, wd.data(), n, k, dense.data(), ldy, ep);
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
        if (threads > 1 && seed % 3 != 0) continue;  // thread-count invariance on a third of the cases (keeps the file fast)
        std::vector<float> got(m * ldy, 5.f);
        sparse_gemm(x.data(), m, ldx, w, got.data(), ldy, ep, threads);
        CAPTURE(threads);
        if (threads == 1) first = got;
        else REQUIRE(same_bits(got, first));
    }
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < ldy; ++j) {
            if (j >= n) {
                REQUIRE(first[i * ldy + j] == 5.f);
                continue;
            }
            double bound = 1.0;
            for (std::size_t t = 0; t < k; ++t) bound += std::abs(double(x[i * ldx + t]) * wd[j * k + t]);
            const double tol = 1e-5 * bound;
            const float got = first[i * ldy + j];
            if (!(std::abs(got - ref[i * ldy + j]) <= tol) || !(std::abs(ref[i * ldy + j] - dense[i * ldy + j]) <= tol)) {
                INFO("row " << i << " col " << j << ": fast " << got << " sparse reference " << ref[i * ldy + j] << " dense reference "
                            << dense[i * ldy + j]);
                REQUIRE(false);
            }
        }
}

}  // namespace

TEST_CASE("bit-mask sparse_gemm matches the references on odd sizes and sparsities", "[sparse_gemm]") {
    unsigned seed = 100;
    const std::vector<std::pair<std::size_t, std::size_t>> shapes = {{1, 1}, {17, 13}, {33, 65}, {40, 150}};
    for (std::size_t m : {1, 7, 33, 130})
        for (const auto& nk : shapes)
            for (double s : {0.0, 0.5, 0.95, 1.0}) {
                const std::size_t lanes = std::size_t(8) << (seed % 4);
                const auto wd = sparse_weight(nk.first, nk.second, s, seed);
                const auto w = sparse::bitmask_matrix::from_dense(wd.data(), nk.first, nk.second, nk.second, lanes);
                CAPTURE(lanes, s);
                check_product(w, wd, m, seed, seed % 2 == 0);
                ++seed;
            }
}

TEST_CASE("block-sparse sparse_gemm matches the references for block shapes with edges", "[sparse_gemm]") {
    unsigned seed = 500;
    const std::vector<std::pair<std::size_t, std::size_t>> blocks = {{1, 8}, {4, 4}, {16, 1}, {3, 5}, {2, 3}, {5, 2}};
    const std::vector<std::pair<std::size_t, std::size_t>> shapes = {{1, 1}, {17, 13}, {33, 65}, {40, 150}};
    for (const auto& b : blocks)
        for (const auto& nk : shapes)
            for (double s : {0.0, 0.5, 0.95, 1.0}) {
                const std::size_t m = std::vector<std::size_t>{1, 7, 33, 130}[seed % 4];
                auto wd = sparse_weight(nk.first, nk.second, 0.2, seed);
                compress::prune_by_magnitude(wd.data(), nk.first, nk.second, nk.second, {s >= 1.0 ? 0.0 : s, b.first, b.second});
                if (s >= 1.0) std::fill(wd.begin(), wd.end(), 0.f);
                const auto w = sparse::block_sparse_matrix::from_dense(wd.data(), nk.first, nk.second, nk.second, b.first, b.second);
                CAPTURE(b.first, b.second, s);
                check_product(w, wd, m, seed, seed % 2 == 1);
                ++seed;
            }
}

TEST_CASE("sparse_gemm with 8-bit codes (per tensor and per row)", "[sparse_gemm]") {
    unsigned seed = 900;
    for (const char* name : {"af8e3", "e4m3", "af6e2"})
        for (bool per_row : {false, true}) {
            const auto f = numeric::parse_format(name);
            numeric::quantize_options opt;
            opt.per_row = per_row;
            const std::size_t n = 37, k = 70;
            const auto w0 = sparse_weight(n, k, 0.7, seed);
            CAPTURE(name, per_row);
            const auto bm = sparse::bitmask_matrix::quantize(w0.data(), n, k, k, f, opt, 16);
            check_product(bm, bm.to_dense(), 33, seed, true);
            auto wb = w0;
            compress::prune_by_magnitude(wb.data(), n, k, k, {0.6, 4, 4});
            const auto bs = sparse::block_sparse_matrix::quantize(wb.data(), n, k, k, 4, 4, f, opt);
            check_product(bs, bs.to_dense(), 7, seed + 1, false);
            const auto b1 = sparse::block_sparse_matrix::quantize(wb.data(), n, k, k, 1, 8, f, opt);
            check_product(b1, b1.to_dense(), 130, seed + 2, true);
            seed += 3;
        }
}

TEST_CASE("sparse_gemm edge cases", "[sparse_gemm]") {
    const std::vector<float> w = {0, 2, 0, 0, 0, -1};  // 2 x 3
    const auto bm = sparse::bitmask_matrix::from_dense(w.data(), 2, 3, 3);
    const auto bs = sparse::block_sparse_matrix::from_dense(w.data(), 2, 3, 3, 2, 2);
    const float x[6] = {1, 1, 1, 3, 4, 5};
    for (int which = 0; which < 2; ++which) {
        auto run = [&](const float* xx, std::size_t m, std::size_t ldx, float* y, std::size_t ldy, const epilogue& ep) {
            if (which == 0) sparse_gemm(xx, m, ldx, bm, y, ldy, ep, 2);
            else sparse_gemm(xx, m, ldx, bs, y, ldy, ep, 2);
        };
        float y[4] = {9, 9, 9, 9};
        run(x, 0, 3, y, 2, {});
        CHECK(y[0] == 9.f);  // m == 0: untouched
        run(x, 2, 3, y, 2, {});
        CHECK(y[0] == 2.f);
        CHECK(y[1] == -1.f);
        CHECK(y[2] == 8.f);
        CHECK(y[3] == -5.f);
        CHECK_THROWS_AS(run(x, 2, 2, y, 2, {}), shape_error);  // ldx < k
        CHECK_THROWS_AS(run(x, 2, 3, y, 1, {}), shape_error);  // ldy < n
    }
    // k == 0: epilogue(0)
    const auto e = sparse::bitmask_matrix::from_dense(w.data(), 2, 0, 0);
    const auto eb = sparse::block_sparse_matrix::from_dense(w.data(), 2, 0, 0, 4, 4);
    const float bias[2] = {1.f, -1.f};
    float y[2] = {9, 9};
    sparse_gemm(x, 1, 0, e, y, 2, epilogue{bias, activation::relu, nullptr, 0});
    CHECK(y[0] == 1.f);
    CHECK(y[1] == 0.f);
    y[0] = 9;
    sparse_gemm(x, 1, 0, eb, y, 2, epilogue{bias, activation::identity, nullptr, 0});
    CHECK(y[0] == 1.f);
    CHECK(y[1] == -1.f);
}

TEST_CASE("sparse_gemm does not crash on NaN and infinity", "[sparse_gemm]") {
    auto wd = sparse_weight(40, 30, 0.5, 3);
    wd[5] = std::numeric_limits<float>::quiet_NaN();
    wd[31] = std::numeric_limits<float>::infinity();
    auto x = test_util::normal_values(9 * 30, 6, 1.f);
    x[2] = std::numeric_limits<float>::infinity();
    const auto bm = sparse::bitmask_matrix::from_dense(wd.data(), 40, 30, 30);
    const auto bs = sparse::block_sparse_matrix::from_dense(wd.data(), 40, 30, 30, 4, 4);
    std::vector<float> y(9 * 40);
    sparse_gemm(x.data(), 9, 30, bm, y.data(), 40, {}, 2);
    CHECK(std::isnan(y[0]));  // row 0 of W holds the NaN
    sparse_gemm(x.data(), 9, 30, bs, y.data(), 40, {}, 2);
    CHECK(std::isnan(y[0]));
}
