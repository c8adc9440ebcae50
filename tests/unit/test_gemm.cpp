// kernels/gemm.hpp: the packed-weight GEMM and the attention products against the scalar references.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <tuple>
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

// |fast - ref| <= 1e-5 * bound + 1e-6 per element, bound = sum_k |a||b| (+1): the rounding bound of an fp32
// dot product. Padding columns have bound 0 and a sentinel in both, so they must match exactly.
void check_close(const std::vector<float>& fast, const std::vector<float>& ref, const std::vector<float>& bound,
                 const std::string& what) {
    REQUIRE(fast.size() == ref.size());
    for (std::size_t i = 0; i < fast.size(); ++i) {
        if (!(std::abs(fast[i] - ref[i]) <= 1e-5f * bound[i] + 1e-6f)) {
            INFO(what << " element " << i << ": fast " << fast[i] << " ref " << ref[i]);
            REQUIRE(std::abs(fast[i] - ref[i]) <= 1e-5f * bound[i] + 1e-6f);
        }
    }
}

// Sum of |a||w| per output (W is [n x k], PyTorch layout), for the tolerance; padding columns get 0.
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

std::string shape_name(std::size_t m, std::size_t k, std::size_t n, int threads) {
    return "m=" + std::to_string(m) + " k=" + std::to_string(k) + " n=" + std::to_string(n) +
           " threads=" + std::to_string(threads);
}

bool bitwise_equal(const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// One strided product: fast path with 1/2/3 threads against the reference; C's padding must stay untouched
// and every thread count must give the same bits.
void check_product(std::size_t m, std::size_t k, std::size_t n, unsigned seed) {
    const std::size_t lda = k + 3, ldw = k + 1, ldc = n + 5;
    const auto a = random_vector(m * lda, seed), w = random_vector(n * ldw, seed + 1000);
    const auto packed = packed_matrix::from_weight(w.data(), n, k, ldw);
    std::vector<float> ref(m * ldc, 42.f);
    reference::gemm(a.data(), m, k, lda, w.data(), n, ldw, ref.data(), ldc);
    const auto bound = magnitude(a, m, k, lda, w, n, ldw, ldc);
    std::vector<float> one_thread;
    for (int threads : {1, 2, 3}) {
        std::vector<float> fast(m * ldc, 42.f);  // padding columns must stay 42
        gemm(a.data(), m, lda, packed, fast.data(), ldc, {}, threads);
        check_close(fast, ref, bound, shape_name(m, k, n, threads));
        if (threads == 1) one_thread = fast;
        else REQUIRE(bitwise_equal(fast, one_thread));
    }
}
}  // namespace

TEST_CASE("gemm matches the scalar reference on odd sizes, strides and thread counts", "[gemm]") {
    unsigned seed = 1;
    const std::size_t kc = detail::gemm_kc;  // the last two: more than one K block, with a partial one
    for (std::size_t m : {1u, 7u, 13u, 33u, 100u})
        for (std::size_t k : {std::size_t{1}, std::size_t{13}, std::size_t{65}, kc + 1, kc + 44})
            for (std::size_t n : {1u, 3u, 7u, 13u, 17u, 31u, 33u, 65u, 100u, 257u}) check_product(m, k, n, seed++);
}

TEST_CASE("gemm with A too large for L2 (row blocks, K blocks outer) and rows split over threads", "[gemm]") {
    check_product(257, 600, 100, 7);  // 600 KB of A: two row blocks (216 + 41 rows) that fit L2
    // The same row blocks over 2.4 MB of B: two column chunks (of at most gemm_b_reuse_bytes), the last panel
    // partial.
    REQUIRE(std::size_t{1000} * 600 * sizeof(float) > detail::gemm_b_reuse_bytes);
    check_product(257, 600, 1000, 12);
    check_product(300, 1000, 33, 8);  // fewer panels than threads: rows split, each part still past L2
    check_product(67, 31, 3, 9);      // one narrow panel, rows split
    check_product(100, 2000, 70, 10);  // row blocks would be < 128 rows: K blocks outer, A's K block in L2
    check_product(20, 8200, 17, 11);   // not even one micro-panel of A fits: K blocks outer
}

TEST_CASE("every epilogue: bias, each activation, residual", "[gemm]") {
    struct shape {
        std::size_t m, k, n;
    };
    for (const shape s : {shape{19, 37, 45}, shape{21, detail::gemm_kc + 44, 100}}) {  // partial tiles; 2 K blocks
        const std::size_t m = s.m, k = s.k, n = s.n, ld = n + 2, ldr = n + 7;
        const auto a = random_vector(m * k, 7), w = random_vector(n * k, 8, 0.3f), bias = random_vector(n, 9),
                   residual = random_vector(m * ldr, 10);
        const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
        const auto bound = magnitude(a, m, k, k, w, n, k, ld);
        for (int act = 0; act <= int(activation::sigmoid); ++act)
            for (bool with_bias : {false, true})
                for (bool with_residual : {false, true}) {
                    epilogue ep;
                    ep.act = activation(act);
                    ep.bias = with_bias ? bias.data() : nullptr;
                    ep.residual = with_residual ? residual.data() : nullptr;
                    ep.ld_residual = ldr;
                    std::vector<float> ref(m * ld, -1.f);
                    reference::gemm(a.data(), m, k, k, w.data(), n, k, ref.data(), ld, ep);
                    for (int threads : {1, 2, 3}) {
                        std::vector<float> fast(m * ld, -1.f);
                        gemm(a.data(), m, k, packed, fast.data(), ld, ep, threads);
                        check_close(fast, ref, bound,
                                    shape_name(m, k, n, threads) + " " + to_string(activation(act)) +
                                        (with_bias ? " +bias" : "") + (with_residual ? " +residual" : ""));
                    }
                }
    }
}

TEST_CASE("full tiles (epilogue in registers) and edge tiles give the same bits", "[gemm]") {
    // Full tiles finish in the micro-kernel's registers, edge tiles in memory afterwards. An output must not
    // depend on which kind of tile it falls in (that changes with the batch, and logits_only relies on it), so
    // each column slice is recomputed alone, NR - 1 columns wide (edge tiles only), and must match bit for bit.
    const std::size_t m = 2 * detail::gemm_mr + 5, n = 2 * detail::gemm_nr + 7, ldr = n + 3;
    const std::size_t slice = detail::gemm_nr - 1;
    for (const std::size_t k : {std::size_t(37), detail::gemm_kc + 44}) {  // one K block; two
        const auto a = random_vector(m * k, 21), w = random_vector(n * k, 22, 0.3f), bias = random_vector(n, 23),
                   residual = random_vector(m * ldr, 24);
        const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
        for (int act = 0; act <= int(activation::sigmoid); ++act) {
            epilogue ep;
            ep.act = activation(act);
            ep.bias = bias.data();
            ep.residual = residual.data();
            ep.ld_residual = ldr;
            std::vector<float> expected(m * n);
            for (std::size_t j0 = 0; j0 < n; j0 += slice) {
                const std::size_t cols = std::min(slice, n - j0);
                const auto part = packed_matrix::from_weight(w.data() + j0 * k, cols, k, k);
                epilogue shifted = ep;
                shifted.bias += j0;
                shifted.residual += j0;
                gemm(a.data(), m, k, part, expected.data() + j0, n, shifted);
            }
            for (int threads : {1, 2}) {
                std::vector<float> fused(m * n);
                gemm(a.data(), m, k, packed, fused.data(), n, ep, threads);
                INFO(to_string(activation(act)) << " k=" << k << " threads=" << threads);
                REQUIRE(bitwise_equal(fused, expected));
            }
        }
    }
}

TEST_CASE("edge values: zeros, huge and tiny magnitudes, negatives", "[gemm]") {
    const std::size_t m = 9, k = 21, n = 35;
    std::vector<float> a(m * k, 0.f), w = random_vector(n * k, 11);
    for (std::size_t i = 0; i < a.size(); i += 3) a[i] = (i % 2 ? 1e18f : -1e-18f);
    for (std::size_t i = 1; i < a.size(); i += 7) a[i] = (i % 2 ? -3e17f : 2e-30f);
    for (std::size_t i = 0; i < w.size(); i += 5) w[i] = 0.f;
    const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
    std::vector<float> ref(m * n), fast(m * n);
    reference::gemm(a.data(), m, k, k, w.data(), n, k, ref.data(), n);
    for (int threads : {1, 2}) {
        gemm(a.data(), m, k, packed, fast.data(), n, {}, threads);
        check_close(fast, ref, magnitude(a, m, k, k, w, n, k, n), "huge/tiny");
    }
    // All-zero A: exactly zero, then exactly the epilogue of zero.
    std::vector<float> zeros(m * k, 0.f), c(m * n, 1.f);
    gemm(zeros.data(), m, k, packed, c.data(), n);
    for (float x : c) REQUIRE(x == 0.f);
}

TEST_CASE("k == 0 gives epilogue(0); m == 0 and n == 0 touch nothing", "[gemm]") {
    const std::size_t m = 11, n = 53, ld = n + 3;
    const auto bias = random_vector(n, 12), residual = random_vector(m * ld, 13);
    epilogue ep;
    ep.bias = bias.data();
    ep.act = activation::relu;
    ep.residual = residual.data();
    ep.ld_residual = ld;
    const std::vector<float> a(4, 1.f);
    const auto empty_k = packed_matrix::from_weight(a.data(), n, 0, 0);
    CHECK(empty_k.k() == 0);
    CHECK(empty_k.n() == n);
    for (int threads : {1, 3}) {
        std::vector<float> c(m * ld, 5.f);
        gemm(a.data(), m, 0, empty_k, c.data(), ld, ep, threads);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < ld; ++j)
                REQUIRE(c[i * ld + j] == (j < n ? std::max(0.f, bias[j]) + residual[i * ld + j] : 5.f));
    }

    const auto w = random_vector(n * 4, 14);
    const auto packed = packed_matrix::from_weight(w.data(), n, 4, 4);
    std::vector<float> untouched(4, 3.f);
    gemm(a.data(), 0, 4, packed, untouched.data(), n, ep, 2);
    CHECK(untouched == std::vector<float>(4, 3.f));
    const packed_matrix none;
    CHECK(none.empty());
    CHECK(none.bytes() == 0);
    gemm(a.data(), 1, 0, none, untouched.data(), 0);
    CHECK(untouched == std::vector<float>(4, 3.f));
}

TEST_CASE("from_kn and from_weight pack the same matrix; at() reads it back", "[gemm]") {
    const std::size_t k = 29, n = 101, ldw = k + 4, ldb = n + 6;
    const auto w = random_vector(n * ldw, 13);
    std::vector<float> bt(k * ldb, 7.f);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t t = 0; t < k; ++t) bt[t * ldb + j] = w[j * ldw + t];
    const auto p1 = packed_matrix::from_weight(w.data(), n, k, ldw), p2 = packed_matrix::from_kn(bt.data(), k, n, ldb);
    CHECK(p1.k() == k);
    CHECK(p1.n() == n);
    CHECK(p2.k() == k);
    CHECK(p2.n() == n);
    CHECK_FALSE(p1.empty());
    for (std::size_t t = 0; t < k; ++t)
        for (std::size_t j = 0; j < n; ++j) {
            REQUIRE(p1.at(t, j) == w[j * ldw + t]);
            REQUIRE(p2.at(t, j) == p1.at(t, j));
        }
    CHECK(p1.bytes() >= k * n * sizeof(float));
    CHECK(p1.bytes() == p2.bytes());
    REQUIRE_THROWS_AS(p1.at(k, 0), edgebert::shape_error);
    REQUIRE_THROWS_AS(p1.at(0, n), edgebert::shape_error);

    const std::size_t m = 13;
    const auto a = random_vector(m * k, 14);
    std::vector<float> c1(m * n), c2(m * n);
    gemm(a.data(), m, k, p1, c1.data(), n);
    gemm(a.data(), m, k, p2, c2.data(), n);
    CHECK(bitwise_equal(c1, c2));
}

TEST_CASE("attention-shaped products gemm_nt and gemm_nn match the references", "[gemm]") {
    for (std::size_t s : {std::size_t{1}, std::size_t{5}, std::size_t{17}, std::size_t{40}, std::size_t{128},
                          detail::gemm_kc + 44})  // more keys than one K block of P·V
        for (std::size_t d : {1u, 9u, 48u, 64u}) {
            const std::size_t ld = 3 * d + 1, ldc = s + 3, ldc2 = d + 2;
            const auto q = random_vector(s * ld, 14), kk = random_vector(s * ld, 15);
            for (float alpha : {1.f, 0.125f}) {
                std::vector<float> ref(s * ldc, 9.f), fast(s * ldc, 9.f);
                reference::gemm_nt(s, s, d, alpha, q.data(), ld, kk.data(), ld, ref.data(), ldc);
                gemm_nt(s, s, d, alpha, q.data(), ld, kk.data(), ld, fast.data(), ldc);
                for (std::size_t i = 0; i < s; ++i)
                    for (std::size_t j = 0; j < ldc; ++j)
                        REQUIRE(std::abs(fast[i * ldc + j] - ref[i * ldc + j]) <= 1e-5f * (1.f + float(d)));
                for (std::size_t i = 0; i < s; ++i)
                    for (std::size_t j = s; j < ldc; ++j) REQUIRE(fast[i * ldc + j] == 9.f);
            }
            const auto p = random_vector(s * s, 16), v = random_vector(s * ld, 17);
            std::vector<float> ref2(s * ldc2, 9.f), fast2(s * ldc2, 9.f);
            reference::gemm_nn(s, d, s, p.data(), s, v.data(), ld, ref2.data(), ldc2);
            gemm_nn(s, d, s, p.data(), s, v.data(), ld, fast2.data(), ldc2);
            for (std::size_t i = 0; i < s; ++i)
                for (std::size_t j = 0; j < ldc2; ++j) {
                    REQUIRE(std::abs(fast2[i * ldc2 + j] - ref2[i * ldc2 + j]) <= 1e-5f * (1.f + float(s)));
                    if (j >= d) REQUIRE(fast2[i * ldc2 + j] == 9.f);
                }
        }
    // Non-square, m == 0, n == 0, k == 0.
    const auto a = random_vector(64, 18), b = random_vector(64, 19);
    std::vector<float> c(64, 4.f);
    gemm_nt(0, 3, 2, 1.f, a.data(), 2, b.data(), 2, c.data(), 3);
    gemm_nn(3, 0, 2, a.data(), 2, b.data(), 0, c.data(), 0);
    CHECK(c == std::vector<float>(64, 4.f));
    gemm_nt(3, 5, 0, 1.f, a.data(), 0, b.data(), 0, c.data(), 5);
    for (std::size_t i = 0; i < 15; ++i) REQUIRE(c[i] == 0.f);
    std::vector<float> r(7 * 3), f(7 * 3);
    reference::gemm_nn(7, 3, 5, a.data(), 5, b.data(), 3, r.data(), 3);
    gemm_nn(7, 3, 5, a.data(), 5, b.data(), 3, f.data(), 3);
    for (std::size_t i = 0; i < r.size(); ++i) REQUIRE(std::abs(f[i] - r[i]) <= 1e-5f * 6.f);
}

TEST_CASE("concurrent calls from several user threads", "[gemm]") {
    // Each thread has its own thread_local scratch; results must equal the single-threaded ones bit for bit.
    struct job {
        std::size_t m, k, n;
        std::vector<float> a, w, expected;
        packed_matrix packed;
    };
    std::vector<job> jobs;
    unsigned seed = 100;
    const std::tuple<std::size_t, std::size_t, std::size_t> shapes[] = {{37, 300, 70}, {5, 64, 129}, {130, 33, 50},
                                                                        {9, 513, 17}};
    for (const auto& [m, k, n] : shapes) {
        job j{m, k, n, random_vector(m * k, seed), random_vector(n * k, seed + 1), std::vector<float>(m * n), {}};
        seed += 2;
        j.packed = packed_matrix::from_weight(j.w.data(), n, k, k);
        gemm(j.a.data(), m, k, j.packed, j.expected.data(), n);
        jobs.push_back(std::move(j));
    }
    std::vector<int> ok(jobs.size(), 0);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < jobs.size(); ++t)
        pool.emplace_back([&, t] {
            const job& j = jobs[t];
            std::vector<float> c(j.m * j.n), scores(j.m * j.m);
            bool good = true;
            for (int rep = 0; rep < 20; ++rep) {
                gemm(j.a.data(), j.m, j.k, j.packed, c.data(), j.n, {}, 1 + rep % 2);
                good = good && bitwise_equal(c, j.expected);
                gemm_nt(j.m, j.m, j.k, 0.5f, j.a.data(), j.k, j.a.data(), j.k, scores.data(), j.m);  // churn scratch
            }
            ok[t] = good;
        });
    for (auto& th : pool) th.join();
    for (int good : ok) CHECK(good == 1);
}

TEST_CASE("gemm called inside a parallel region gets a smaller team than asked", "[gemm]") {
    const std::size_t m = 45, k = 70, n = 20;  // one panel: the rows would be split
    const auto a = random_vector(m * k, 21), w = random_vector(n * k, 22);
    const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
    std::vector<float> expected(m * n);
    gemm(a.data(), m, k, packed, expected.data(), n);
    std::vector<std::vector<float>> out(2, std::vector<float>(m * n, -1.f));
    EDGEBERT_OMP(parallel for num_threads(2))
    for (int i = 0; i < 2; ++i) gemm(a.data(), m, k, packed, out[std::size_t(i)].data(), n, {}, 3);
    for (const auto& c : out) CHECK(bitwise_equal(c, expected));
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
    REQUIRE_THROWS_AS(gemm(a.data(), 2, 4, p, c.data(), 3, ep), edgebert::shape_error);  // ld_residual < n
    REQUIRE_THROWS_AS(packed_matrix::from_weight(w.data(), 3, 4, 2), edgebert::shape_error);
    REQUIRE_THROWS_AS(packed_matrix::from_kn(w.data(), 4, 3, 2), edgebert::shape_error);
    REQUIRE_THROWS_AS(gemm_nt(2, 2, 4, 1.f, a.data(), 3, w.data(), 4, c.data(), 2), edgebert::shape_error);  // lda
    REQUIRE_THROWS_AS(gemm_nt(2, 2, 4, 1.f, a.data(), 4, w.data(), 3, c.data(), 2), edgebert::shape_error);  // ldb
    REQUIRE_THROWS_AS(gemm_nt(2, 2, 4, 1.f, a.data(), 4, w.data(), 4, c.data(), 1), edgebert::shape_error);  // ldc
    REQUIRE_THROWS_AS(gemm_nn(2, 3, 2, a.data(), 1, w.data(), 3, c.data(), 3), edgebert::shape_error);       // lda
    REQUIRE_THROWS_AS(gemm_nn(2, 3, 2, a.data(), 2, w.data(), 2, c.data(), 3), edgebert::shape_error);       // ldb
    REQUIRE_THROWS_AS(gemm_nn(2, 3, 2, a.data(), 2, w.data(), 3, c.data(), 2), edgebert::shape_error);       // ldc
    // The valid calls next to them do not throw.
    REQUIRE_NOTHROW(gemm(a.data(), 2, 4, p, c.data(), 3, {}, 2));
    REQUIRE_NOTHROW(gemm_nt(2, 2, 4, 1.f, a.data(), 4, w.data(), 4, c.data(), 2));
    REQUIRE_NOTHROW(gemm_nn(2, 3, 2, a.data(), 2, w.data(), 3, c.data(), 3));
}
