#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/gemm.hpp>

using namespace edgebert::kernels;

namespace {
std::vector<float> random_vector(std::size_t n, unsigned seed, float scale = 1.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}

// |fast - ref| <= 1e-5 * sum_k |a||b| + 1e-6, per element (the rounding bound of an fp32 dot product).
void check_close(const std::vector<float>& fast, const std::vector<float>& ref, const std::vector<float>& bound,
                 const std::string& what) {
    REQUIRE(fast.size() == ref.size());
    for (std::size_t i = 0; i < fast.size(); ++i) {
        INFO(what << " element " << i << ": fast " << fast[i] << " ref " << ref[i]);
        REQUIRE(std::abs(fast[i] - ref[i]) <= 1e-5f * bound[i] + 1e-6f);
    }
}

// Sum of |a||w| per output, for the tolerance; padding columns get 0 (must match exactly).
std::vector<float> magnitude(const std::vector<float>& a, std::size_t m, std::size_t k, std::size_t lda,
                             const std::vector<float>& w, std::size_t n, std::size_t ldw, std::size_t ldc) {
    std::vector<float> out(m * ldc, 0.f);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t t = 0; t < k; ++t) s += std::abs(double(a[i * lda + t]) * w[j * ldw + t]);
            out[i * ldc + j] = float(s) + 1.f;  // + 1 for bias/activation/residual rounding
        }
    return out;
}
}  // namespace

TEST_CASE("gemm matches the scalar reference on odd sizes, strides and thread counts", "[gemm]") {
    const std::size_t sizes[] = {1, 3, 7, 13, 17, 31, 33, 65, 100, 257};
    unsigned seed = 1;
    for (std::size_t m : {1u, 7u, 13u, 33u, 100u})
        for (std::size_t k : {1u, 13u, 65u, 257u, 300u})  // 300 > one K block of 256
            for (std::size_t n : sizes) {
                const std::size_t lda = k + 3, ldw = k + 1, ldc = n + 5;
                const auto a = random_vector(m * lda, seed++), w = random_vector(n * ldw, seed++);
                const auto packed = packed_matrix::from_weight(w.data(), n, k, ldw);
                std::vector<float> ref(m * ldc, 42.f);
                reference::gemm(a.data(), m, k, lda, w.data(), n, ldw, ref.data(), ldc);
                const auto bound = magnitude(a, m, k, lda, w, n, ldw, ldc);
                for (int threads : {1, 2, 3}) {
                    std::vector<float> fast(m * ldc, 42.f);  // padding columns must stay 42
                    gemm(a.data(), m, lda, packed, fast.data(), ldc, {}, threads);
                    check_close(fast, ref, bound,
                                "m=" + std::to_string(m) + " k=" + std::to_string(k) + " n=" + std::to_string(n) +
                                    " threads=" + std::to_string(threads));
                }
            }
}

TEST_CASE("every epilogue: bias, each activation, residual", "[gemm]") {
    const std::size_t m = 19, k = 37, n = 45, ld = n + 2;
    const auto a = random_vector(m * k, 7), w = random_vector(n * k, 8, 0.3f), bias = random_vector(n, 9),
               residual = random_vector(m * ld, 10);
    const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
    const auto bound = magnitude(a, m, k, k, w, n, k, ld);
    for (int act = 0; act <= int(activation::sigmoid); ++act)
        for (bool with_bias : {false, true})
            for (bool with_residual : {false, true}) {
                epilogue ep;
                ep.act = activation(act);
                ep.bias = with_bias ? bias.data() : nullptr;
                ep.residual = with_residual ? residual.data() : nullptr;
                ep.ld_residual = ld;
                std::vector<float> ref(m * ld, -1.f), fast(m * ld, -1.f);
                reference::gemm(a.data(), m, k, k, w.data(), n, k, ref.data(), ld, ep);
                gemm(a.data(), m, k, packed, fast.data(), ld, ep, 2);
                check_close(fast, ref, bound, std::string(to_string(activation(act))) + (with_bias ? " +bias" : "") +
                                                  (with_residual ? " +residual" : ""));
            }
}

TEST_CASE("edge values: zeros, huge and tiny magnitudes, k == 0, m == 0", "[gemm]") {
    const std::size_t m = 9, k = 21, n = 35;
    std::vector<float> a(m * k, 0.f), w = random_vector(n * k, 11);
    for (std::size_t i = 0; i < a.size(); i += 3) a[i] = (i % 2 ? 1e18f : -1e-18f);
    const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
    std::vector<float> ref(m * n), fast(m * n);
    reference::gemm(a.data(), m, k, k, w.data(), n, k, ref.data(), n);
    gemm(a.data(), m, k, packed, fast.data(), n);
    check_close(fast, ref, magnitude(a, m, k, k, w, n, k, n), "huge/tiny");

    const auto bias = random_vector(n, 12);
    epilogue ep;
    ep.bias = bias.data();
    ep.act = activation::relu;
    const auto empty_k = packed_matrix::from_weight(w.data(), n, 0, k);
    std::vector<float> c(m * n, 5.f);
    gemm(a.data(), m, 0, empty_k, c.data(), n, ep, 2);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) CHECK(c[i * n + j] == std::max(0.f, bias[j]));

    std::vector<float> untouched(4, 3.f);
    gemm(a.data(), 0, k, packed, untouched.data(), n);
    CHECK(untouched == std::vector<float>(4, 3.f));
}

TEST_CASE("from_kn and from_weight pack the same matrix; at() reads it back", "[gemm]") {
    const std::size_t k = 29, n = 41;
    const auto w = random_vector(n * k, 13);
    std::vector<float> bt(k * n);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t t = 0; t < k; ++t) bt[t * n + j] = w[j * k + t];
    const auto p1 = packed_matrix::from_weight(w.data(), n, k, k), p2 = packed_matrix::from_kn(bt.data(), k, n, n);
    CHECK(p1.k() == k);
    CHECK(p1.n() == n);
    for (std::size_t t = 0; t < k; ++t)
        for (std::size_t j = 0; j < n; ++j) {
            REQUIRE(p1.at(t, j) == w[j * k + t]);
            REQUIRE(p2.at(t, j) == p1.at(t, j));
        }
    CHECK(p1.bytes() >= k * n * sizeof(float));
    REQUIRE_THROWS_AS(p1.at(k, 0), edgebert::shape_error);
}

TEST_CASE("attention-shaped products gemm_nt and gemm_nn match the references", "[gemm]") {
    for (std::size_t s : {1u, 5u, 17u, 40u})
        for (std::size_t d : {1u, 9u, 48u, 64u}) {
            const std::size_t ld = 3 * d + 1;
            const auto q = random_vector(s * ld, 14), kk = random_vector(s * ld, 15);
            std::vector<float> ref(s * s), fast(s * s);
            reference::gemm_nt(s, s, d, 0.125f, q.data(), ld, kk.data(), ld, ref.data(), s);
            gemm_nt(s, s, d, 0.125f, q.data(), ld, kk.data(), ld, fast.data(), s);
            for (std::size_t i = 0; i < s * s; ++i) REQUIRE(std::abs(fast[i] - ref[i]) <= 1e-5f * (1.f + float(d)));
            const auto p = random_vector(s * s, 16), v = random_vector(s * ld, 17);
            std::vector<float> ref2(s * d), fast2(s * d);
            reference::gemm_nn(s, d, s, p.data(), s, v.data(), ld, ref2.data(), d);
            gemm_nn(s, d, s, p.data(), s, v.data(), ld, fast2.data(), d);
            for (std::size_t i = 0; i < s * d; ++i) REQUIRE(std::abs(fast2[i] - ref2[i]) <= 1e-5f * (1.f + float(s)));
        }
}

TEST_CASE("bad leading dimensions are shape_errors", "[gemm]") {
    const std::vector<float> w(12, 1.f), a(12, 1.f);
    std::vector<float> c(16);
    const auto p = packed_matrix::from_weight(w.data(), 3, 4, 4);
    REQUIRE_THROWS_AS(gemm(a.data(), 2, 3, p, c.data(), 3), edgebert::shape_error);  // lda < k
    REQUIRE_THROWS_AS(gemm(a.data(), 2, 4, p, c.data(), 2), edgebert::shape_error);  // ldc < n
    epilogue ep;
    ep.residual = a.data();
    ep.ld_residual = 1;
    REQUIRE_THROWS_AS(gemm(a.data(), 2, 4, p, c.data(), 3, ep), edgebert::shape_error);
    REQUIRE_THROWS_AS(packed_matrix::from_weight(w.data(), 3, 4, 2), edgebert::shape_error);
}
