// kernels/gemm_i8.hpp: the integer GEMM against its scalar reference (bit for bit before the epilogue) on odd
// shapes, thread counts and edge values; the weight quantizer; the packed layout; validation. And
// kernels/sparse_gemm_i8.hpp, its block-sparse form, against the same reference. The same file is
// compiled for each instruction-set path (tests/CMakeLists.txt: test_gemm_i8_<isa>), so every path is checked
// on this machine as far as it can run them.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include <catch2/catch.hpp>
#include <edgebert/kernels/cpu_features.hpp>
#include <edgebert/kernels/gemm_i8.hpp>
#include <edgebert/kernels/sparse_gemm_i8.hpp>
#include <edgebert/sparse/block_sparse_matrix.hpp>

#include "support/test_random.hpp"

using namespace edgebert;
using namespace edgebert::kernels;

namespace {

// The variants built for other targets (tests/CMakeLists.txt) say which path they must have compiled, and skip
// (exit 77) on a CPU without its instructions.
// The two AMX variants (compiled for AVX-512 VNNI, which every AMX processor has): "amx" turns the path on
// (EDGEBERT_AMX=1, read at the first product) and needs the tile instructions; "amx_model" runs the same kernel
// on the C++ model of the tiles (EDGEBERT_I8_AMX_SOFTWARE_MODEL), wherever AVX-512 VNNI runs.
#ifdef EDGEBERT_TEST_EXPECT_I8_ISA
[[maybe_unused]] const bool cpu_runs_this_target = [] {  // evaluated at start-up for its exit
#if defined(__x86_64__) && defined(__AVX512VNNI__)
    bool ok = cpu_runs("avx512_icl");
    if (ok && std::strcmp(EDGEBERT_TEST_EXPECT_I8_ISA, "amx") == 0) {
        ok = detail::amx_int8_usable();
        setenv("EDGEBERT_AMX", "1", 1);
    }
#elif defined(__x86_64__) && defined(__AVXVNNI__)
    const bool ok = cpu_runs("avx2_vnni");
#elif defined(__x86_64__) && defined(__AVX2__)
    const bool ok = cpu_runs("avx2");
#elif defined(__x86_64__)
    const bool ok = true;
#elif defined(__aarch64__) && defined(__linux__) && defined(__ARM_FEATURE_DOTPROD)
    const bool ok = (getauxval(AT_HWCAP) & (1ul << 20)) != 0;  // HWCAP_ASIMDDP: the dot-product instructions
#else
    const bool ok = true;
#endif
    if (!ok) {
        std::fprintf(stderr, "this CPU cannot run the %s path: skipped\n", EDGEBERT_TEST_EXPECT_I8_ISA);
        std::_Exit(77);
    }
    return ok;
}();

TEST_CASE("the variant compiled the integer path it was built for", "[gemm_i8]") {
    const std::string want = EDGEBERT_TEST_EXPECT_I8_ISA;
    const std::string path = want == "avxvnni" ? "avx-vnni" : want == "neon_dotprod" ? "neon-dotprod" : want.rfind("amx", 0) == 0 ? "amx-int8" : want;
    REQUIRE(std::string(gemm_i8_isa()) == path);
}
#endif

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct quantized_weight {
    std::vector<std::int8_t> q;
    std::vector<float> s;
};
quantized_weight quantize(const std::vector<float>& w, std::size_t n, std::size_t k) {
    quantized_weight r{std::vector<std::int8_t>(n * k), std::vector<float>(n)};
    quantize_rows_i8(w.data(), n, k, k, r.q.data(), r.s.data());
    return r;
}

// run(threads, ep, c, ldc) with 1, 2 and 3 threads == the scalar reference: bit for bit with an identity
// activation (bias and residual are plain float additions in the same order), within float rounding of the
// activation otherwise; C's padding columns untouched.
template <class Run>
void check_against_reference(const std::vector<float>& a, std::size_t m, std::size_t k, std::size_t lda, const std::vector<float>& w,
                             std::size_t n, activation act, bool with_bias_residual, unsigned seed, Run&& run) {
    CAPTURE(m, k, n, int(act), with_bias_residual, gemm_i8_isa());
    const std::size_t ldc = n + 3;
    const auto qw = quantize(w, n, k);
    const auto bias = test_util::normal_values(n, seed + 2, 1.f);
    const auto res = test_util::normal_values(m * n + 1, seed + 3, 1.f);
    epilogue ep;
    ep.act = act;
    if (with_bias_residual) ep.bias = bias.data(), ep.residual = res.data(), ep.ld_residual = n;
    std::vector<float> want(m * ldc, 7.f);
    reference::gemm_i8(a.data(), m, k, lda, qw.q.data(), n, k, qw.s.data(), want.data(), ldc, ep);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = n; j < ldc; ++j) want[i * ldc + j] = 7.f;
    for (int threads : {1, 2, 3}) {
        CAPTURE(threads);
        std::vector<float> got(m * ldc, 7.f);
        run(threads, ep, got.data(), ldc);
        if (act == activation::identity) {
            REQUIRE(same_bits(got, want));
        } else {
            for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
        }
    }
}

void check_i8(const std::vector<float>& a, std::size_t m, std::size_t k, std::size_t lda, const std::vector<float>& w,
              std::size_t n, activation act, bool with_bias_residual, unsigned seed) {
    const auto packed = i8_packed_matrix::quantize(w.data(), n, k, k);
    check_against_reference(a, m, k, lda, w, n, act, with_bias_residual, seed, [&](int threads, const epilogue& ep, float* c, std::size_t ldc) {
        gemm_i8(a.data(), m, lda, packed, c, ldc, ep, threads);
    });
}

}  // namespace

TEST_CASE("gemm_i8 equals its scalar reference on odd shapes and thread counts", "[gemm_i8]") {
    unsigned seed = 11;
    for (std::size_t m : {1, 3, 8, 9, 16, 17, 33, 40})  // 16 / 32: AMX's tile rows and row block
        for (std::size_t k : {1, 3, 4, 5, 17, 64, 131, 263})  // 64: one AMX step; 131, 263: a partial last one
            for (std::size_t n : {1, 15, 16, 17, 47, 49, 100}) {
                const std::size_t lda = k + 5;
                const auto a = test_util::normal_values(m * lda, seed, 1.f);
                const auto w = test_util::normal_values(n * k, seed + 1, 0.05f);
                check_i8(a, m, k, lda, w, n, activation::identity, (m + k + n) % 2 == 0, seed);
                ++seed;
            }
}

TEST_CASE("gemm_i8 epilogue: bias, GELU and residual as kernels::epilogue", "[gemm_i8]") {
    for (activation act : {activation::gelu_tanh, activation::relu, activation::identity}) {
        const std::size_t m = 13, k = 70, n = 50;
        const auto a = test_util::normal_values(m * k, 5, 2.f);
        const auto w = test_util::normal_values(n * k, 6, 0.1f);
        check_i8(a, m, k, k, w, n, act, true, 7);
    }
}

TEST_CASE("gemm_i8 edge values: zero rows, all-equal rows, extremes, zero weight rows", "[gemm_i8]") {
    const std::size_t m = 11, k = 37, n = 33;
    auto a = test_util::normal_values(m * k, 21, 1.f);
    auto w = test_util::normal_values(n * k, 22, 0.1f);
    for (std::size_t t = 0; t < k; ++t) {
        a[0 * k + t] = 0.f;                             // zero row: scale 0
        a[1 * k + t] = 3.25f;                           // all equal: every code 127
        a[2 * k + t] = t % 2 ? -1e30f : 1e30f;          // huge
        a[3 * k + t] = t % 3 ? 1e-30f : -2e-30f;        // tiny (subnormal-free but far below 1)
        a[4 * k + t] = t == 5 ? 1.f : 0.f;              // one nonzero
        a[5 * k + t] = float(int(t) - 18) * 0.5f;       // exact ties at the rounding boundary
        w[0 * k + t] = 0.f;                             // zero weight row: scale 0
        w[1 * k + t] = -0.75f;                          // all equal
    }
    for (bool br : {false, true}) check_i8(a, m, k, k, w, n, activation::identity, br, 23);

    // The zero row of A and the zero row of W give exactly the bias.
    const auto packed = i8_packed_matrix::quantize(w.data(), n, k, k);
    const auto bias = test_util::normal_values(n, 24, 1.f);
    epilogue ep;
    ep.bias = bias.data();
    std::vector<float> c(m * n);
    gemm_i8(a.data(), m, k, packed, c.data(), n, ep, 2);
    for (std::size_t j = 0; j < n; ++j) REQUIRE(c[j] == bias[j]);
    for (std::size_t i = 0; i < m; ++i) REQUIRE(c[i * n + 0] == bias[0]);
    // All-equal rows: 127 · (-127) · k, scaled by (3.25 / 127) · (0.75 / 127).
    REQUIRE(c[1 * n + 1] == float(std::int32_t(-127 * 127 * std::int32_t(k))) * ((3.25f / 127.f) * (0.75f / 127.f)) + bias[1]);
}

#if defined(EDGEBERT_TEST_AMX_HARDWARE)  // test_gemm_i8_amx only, which exits 77 without AMX
// On an AMX processor (test_gemm_i8_amx): the instructions against the model the other variant is tested on,
// one tdpbusd on random bytes, extremes included, with the loads and the store around it.
TEST_CASE("AMX tiles: the instructions do what amx_software_tiles models", "[gemm_i8][amx]") {
    test_util::rng r(91);
    alignas(64) std::uint8_t a[16 * 64], b[16 * 64], c[16 * 64], want[16 * 64], got[16 * 64];
    for (auto* t : {a, b, c})
        for (int i = 0; i < 16 * 64; ++i) t[i] = std::uint8_t(r.next());
    a[0] = a[1] = a[2] = a[3] = 255, b[0] = b[1] = b[2] = b[3] = 0x80;  // 255 · -128, four times
    const auto run = [&](auto tiles, std::uint8_t* out) {
        using T = decltype(tiles);
        T::configure(detail::amx_config());
        T::template load<0>(c, 64), T::template load<4>(a, 64), T::template load<6>(b, 64);
        T::template dpbusd<0, 4, 6>();
        T::template store<0>(out, 64);
        T::release();
    };
    run(detail::amx_software_tiles{}, want);
    run(detail::amx_hardware_tiles{}, got);
    REQUIRE(std::memcmp(want, got, sizeof got) == 0);
}
#endif

TEST_CASE("gemm_i8: the longest k allowed does not overflow int32", "[gemm_i8]") {
    // Every product at its largest magnitude: +-127 · 127 on every k; on the VNNI paths the unsigned activation
    // is 255 and the correction 128·colsum is as large again.
    const std::size_t m = 9, k = gemm_i8_max_k, n = 18;
    std::vector<float> a(m * k), w(n * k);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = (i / k) % 2 ? -1.f : 1.f;
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = (i / k) % 3 ? 2.f : -2.f;
    check_i8(a, m, k, k, w, n, activation::identity, false, 31);
    const auto packed = i8_packed_matrix::quantize(w.data(), n, k, k);
    std::vector<float> c(m * n);
    gemm_i8(a.data(), m, k, packed, c.data(), n, {}, 1);
    const float expect = float(std::int32_t(127 * 127 * std::int32_t(k))) * ((1.f / 127.f) * (2.f / 127.f));
    REQUIRE(c[0 * n + 1] == expect);   // + · +
    REQUIRE(c[1 * n + 1] == -expect);  // - · +
    REQUIRE(c[1 * n + 0] == expect);   // - · -
}

TEST_CASE("gemm_i8 is close to the fp32 product", "[gemm_i8]") {
    const std::size_t m = 64, k = 768, n = 96;
    const auto a = test_util::normal_values(m * k, 41, 1.f);
    const auto w = test_util::normal_values(n * k, 42, 0.03f);
    const auto packed = i8_packed_matrix::quantize(w.data(), n, k, k);
    std::vector<float> c(m * n), ref(m * n);
    gemm_i8(a.data(), m, k, packed, c.data(), n, {}, 2);
    reference::gemm(a.data(), m, k, k, w.data(), n, k, ref.data(), n);
    double dot = 0, n1 = 0, n2 = 0;
    for (std::size_t i = 0; i < c.size(); ++i) dot += double(c[i]) * ref[i], n1 += double(c[i]) * c[i], n2 += double(ref[i]) * ref[i];
    const double cosine = dot / std::sqrt(n1 * n2);
    CAPTURE(cosine);
    REQUIRE(cosine > 0.9995);  // 8-bit both sides on Gaussian data: about 0.9998
    REQUIRE(cosine < 1.0);     // and it is quantized: not the fp32 product itself
}

TEST_CASE("gemm_i8: m == 0, n == 0, k == 0 and the contract's errors", "[gemm_i8]") {
    const std::vector<float> w(5 * 3, 0.5f), bias = {1.f, 2.f, 3.f, 4.f, 5.f};
    const auto b = i8_packed_matrix::quantize(w.data(), 5, 3, 3);
    std::vector<float> c(4 * 5, 9.f);
    const std::vector<float> a(4 * 3, 1.f);
    gemm_i8(a.data(), 0, 3, b, c.data(), 5);
    REQUIRE(c[0] == 9.f);
    const auto empty_k = i8_packed_matrix::quantize(nullptr, 5, 0, 0);
    epilogue ep;
    ep.bias = bias.data();
    gemm_i8(a.data(), 4, 0, empty_k, c.data(), 5, ep, 2);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j) REQUIRE(c[i * 5 + j] == bias[j]);
    REQUIRE_THROWS_AS(gemm_i8(a.data(), 4, 2, b, c.data(), 5), shape_error);  // lda < k
    REQUIRE_THROWS_AS(gemm_i8(a.data(), 4, 3, b, c.data(), 4), shape_error);  // ldc < n
    epilogue bad;
    bad.residual = c.data();
    bad.ld_residual = 2;
    REQUIRE_THROWS_AS(gemm_i8(a.data(), 4, 3, b, c.data(), 5, bad), shape_error);
}

TEST_CASE("i8_packed_matrix: quantizer rule, layout, validation", "[gemm_i8]") {
    // Per-row scale max|w| / 127, round to nearest even: 63.5 -> 64, 31.75 -> 32, 0.5 -> 0.
    const std::vector<float> w = {1.f, -0.5f, 0.25f, 0.f, 0.5f / 127.f, 1.5f / 127.f};
    std::vector<std::int8_t> q(6);
    float s = 0;
    quantize_rows_i8(w.data(), 1, 6, 6, q.data(), &s);
    REQUIRE(s == 1.f / 127.f);
    REQUIRE(q == std::vector<std::int8_t>{127, -64, 32, 0, 0, 2});

    // Layout: code(k, n) and at(k, n) give back what went in, on a shape with partial panels and k groups.
    const std::size_t n = 37, k = 23;
    std::vector<std::int8_t> codes(n * (k + 1));
    std::vector<float> scales(n);
    for (std::size_t j = 0; j < n; ++j) {
        scales[j] = 0.01f * float(j + 1);
        for (std::size_t t = 0; t < k; ++t) codes[j * (k + 1) + t] = std::int8_t(int((j * 31 + t * 7) % 255) - 127);
    }
    const auto p = i8_packed_matrix::from_int8(codes.data(), n, k, k + 1, scales.data());
    REQUIRE(p.panels() == 3);
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t t = 0; t < k; ++t) {
            REQUIRE(p.code(t, j) == codes[j * (k + 1) + t]);
            REQUIRE(p.at(t, j) == float(codes[j * (k + 1) + t]) * scales[j]);
        }
    REQUIRE_THROWS_AS(p.code(k, 0), shape_error);
    REQUIRE_THROWS_AS(p.scale(n), shape_error);

    codes[5] = -128;
    REQUIRE_THROWS_AS(i8_packed_matrix::from_int8(codes.data(), n, k, k + 1, scales.data()), format_error);
    codes[5] = 0;
    scales[3] = -1.f;
    REQUIRE_THROWS_AS(i8_packed_matrix::from_int8(codes.data(), n, k, k + 1, scales.data()), format_error);
    REQUIRE_THROWS_AS(i8_packed_matrix::quantize(w.data(), 2, 4, 3), shape_error);                   // ld < k
    REQUIRE_THROWS_AS(i8_packed_matrix::quantize(nullptr, 0, gemm_i8_max_k + 1, 0), shape_error);    // overflow
    std::vector<float> nan_w = {1.f, std::numeric_limits<float>::quiet_NaN()};
    REQUIRE_THROWS_AS(i8_packed_matrix::quantize(nan_w.data(), 1, 2, 2), config_error);
}

TEST_CASE("activation quantization: the SIMD row quantizer equals the scalar rule", "[gemm_i8]") {
    std::vector<float> x = test_util::normal_values(203, 51, 3.f);
    for (std::size_t i = 0; i < 40; ++i) x[i] = float(int(i) - 20) + 0.5f;  // ties with inv = 1
    x[41] = std::numeric_limits<float>::quiet_NaN();
    x[42] = 1e9f;
    x[43] = -1e9f;
    for (float inv : {1.f, 0.37f, 127.f / 9.f})
        for (bool u : {false, true}) {
            CAPTURE(inv, u);
            std::vector<std::uint8_t> got(x.size());
            detail::i8_quantize_row(x.data(), x.size(), inv, u, got.data());
            for (std::size_t i = 0; i < x.size(); ++i) {
                CAPTURE(i, x[i]);
                REQUIRE(int(got[i]) == ((detail::i8_quantize_value(x[i], inv) + (u ? 128 : 0)) & 0xFF));
            }
        }
    REQUIRE(detail::i8_quantize_value(2.5f, 1.f) == 2);
    REQUIRE(detail::i8_quantize_value(-3.5f, 1.f) == -4);
    REQUIRE(detail::i8_quantize_value(1e9f, 1.f) == 127);
    REQUIRE(detail::i8_quantize_value(-1e9f, 1.f) == -127);
    std::vector<float> y = {-3.f, 1.f, 2.5f, -0.f, 7.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, -8.f, 0.f, 0.f, 0.f, 0.f, 0.f, -9.5f};
    REQUIRE(detail::i8_max_abs(y.data(), y.size()) == 9.5f);
    REQUIRE(detail::i8_max_abs(y.data(), 0) == 0.f);
}

TEST_CASE("activation quantization: the SIMD row maximum equals the scalar rule at every length, NaN skipped", "[gemm_i8]") {
    // The scalar rule of the reference: m = std::max(m, |x|) from m = 0, which skips a NaN.
    auto scalar_max = [](const std::vector<float>& v, std::size_t k) {
        float m = 0.f;
        for (std::size_t i = 0; i < k; ++i) m = std::max(m, std::fabs(v[i]));
        return m;
    };
    const std::vector<float> base = test_util::normal_values(200, 52, 2.f);
    for (std::size_t k = 0; k <= 200; ++k) {
        CAPTURE(k);
        REQUIRE(detail::i8_max_abs(base.data(), k) == scalar_max(base, k));
        if (k == 0) continue;
        for (std::size_t at = 0; at < k; ++at) {  // in each running maximum and in the tail
            CAPTURE(at);
            std::vector<float> peak = base;
            peak[at] = -50.f;
            REQUIRE(detail::i8_max_abs(peak.data(), k) == 50.f);
            std::vector<float> nan = base;  // a NaN anywhere is skipped
            nan[at] = std::numeric_limits<float>::quiet_NaN();
            REQUIRE(detail::i8_max_abs(nan.data(), k) == scalar_max(nan, k));
        }
    }
}

namespace {

// W [n x k] with R x C blocks kept with probability `keep` (the others zero), Gaussian values.
std::vector<float> block_pruned(std::size_t n, std::size_t k, std::size_t R, std::size_t C, double keep, unsigned seed) {
    auto w = test_util::normal_values(n * k, seed, 0.05f);
    test_util::rng pick(seed + 1000);
    for (std::size_t br = 0; br < (n + R - 1) / R; ++br)
        for (std::size_t bc = 0; bc < (k + C - 1) / C; ++bc) {
            if (pick.uniform() < keep) continue;
            for (std::size_t r = br * R; r < std::min(n, br * R + R); ++r)
                for (std::size_t c = bc * C; c < std::min(k, bc * C + C); ++c) w[r * k + c] = 0.f;
        }
    return w;
}

// sparse_gemm_i8 == the scalar reference (check_against_reference) and == the dense gemm_i8 on the same codes,
// bit for bit whatever the activation: the same arithmetic in the same order.
void check_block_i8(const std::vector<float>& a, std::size_t m, std::size_t k, std::size_t lda, const std::vector<float>& w,
                    std::size_t n, activation act, bool with_bias_residual, unsigned seed) {
    const auto sparse = i8_block_sparse_matrix::quantize(w.data(), n, k, k);
    const auto dense = i8_packed_matrix::quantize(w.data(), n, k, k);
    check_against_reference(a, m, k, lda, w, n, act, with_bias_residual, seed, [&](int threads, const epilogue& ep, float* c, std::size_t ldc) {
        std::vector<float> dense_out(m * ldc, 7.f);
        gemm_i8(a.data(), m, lda, dense, dense_out.data(), ldc, ep, 1);
        std::fill(c, c + m * ldc, 7.f);
        sparse_gemm_i8(a.data(), m, lda, sparse, c, ldc, ep, threads);
        REQUIRE(std::memcmp(c, dense_out.data(), m * ldc * sizeof(float)) == 0);
    });
}

}  // namespace

TEST_CASE("sparse_gemm_i8 equals the scalar reference on block-pruned weights, odd shapes and thread counts", "[gemm_i8][sparse]") {
    struct block {
        std::size_t R, C;
    };
    const block shapes[] = {{4, 8}, {1, 8}, {16, 1}, {4, 4}, {3, 5}, {2, 2}, {1, 1}};
    unsigned seed = 101;
    std::size_t which = 0;
    for (std::size_t m : {1, 5, 16, 17, 97, 130})
        for (std::size_t k : {1, 3, 4, 9, 33, 130})
            for (std::size_t n : {1, 4, 5, 17, 70}) {
                const block b = shapes[which++ % (sizeof(shapes) / sizeof(shapes[0]))];
                const double keep = (seed % 4) * 0.3;  // 0 (all pruned), 0.3, 0.6, 0.9
                CAPTURE(b.R, b.C, keep);
                const std::size_t lda = k + 3;
                const auto a = test_util::normal_values(m * lda, seed, 1.f);
                check_block_i8(a, m, k, lda, block_pruned(n, k, b.R, b.C, keep, seed + 1), n, activation::identity, (m + k + n) % 2 == 1,
                               seed);
                ++seed;
            }
}

TEST_CASE("sparse_gemm_i8: epilogue, edge values, and an ALBERT-sized product", "[gemm_i8][sparse]") {
    for (activation act : {activation::gelu_tanh, activation::relu}) {
        const std::size_t m = 29, k = 70, n = 50;
        check_block_i8(test_util::normal_values(m * k, 5, 2.f), m, k, k, block_pruned(n, k, 4, 8, 0.4, 6), n, act, true, 7);
    }
    const std::size_t m = 11, k = 37, n = 33;
    auto a = test_util::normal_values(m * k, 21, 1.f);
    auto w = block_pruned(n, k, 4, 4, 0.5, 22);
    for (std::size_t t = 0; t < k; ++t) {
        a[0 * k + t] = 0.f;                                                         // zero row: scale 0
        a[1 * k + t] = 3.25f;                                                       // every code 127
        a[2 * k + t] = t % 2 ? -1e30f : 1e30f;                                      // huge
        a[3 * k + t] = t == 4 ? std::numeric_limits<float>::quiet_NaN() : 0.5f;    // NaN: -127, as the reference
        w[0 * k + t] = 0.f;                                                         // zero weight row
        w[1 * k + t] = -0.75f;                                                      // all equal
    }
    for (bool br : {false, true}) check_block_i8(a, m, k, k, w, n, activation::identity, br, 23);
    // ALBERT-base's FFN shape at 80 % of 4 x 8 blocks pruned
    check_block_i8(test_util::normal_values(128 * 768, 8, 1.f), 128, 768, 768, block_pruned(3072, 768, 4, 8, 0.2, 9), 3072,
                   activation::identity, true, 10);
}

TEST_CASE("i8_block_sparse_matrix: storage, conversion from BSR, validation and the contract", "[gemm_i8][sparse]") {
    // 4 x 8 blocks map to two stored 4 x 4 groups each; a 1 x 8 block to two groups shared with its neighbours.
    const std::size_t n = 10, k = 21;
    const auto w = block_pruned(n, k, 4, 8, 0.5, 61);
    const auto m = i8_block_sparse_matrix::quantize(w.data(), n, k, k);
    const auto qw = quantize(w, n, k);
    std::size_t groups = 0;
    for (std::size_t g = 0; g < (n + 3) / 4; ++g)
        for (std::size_t c = 0; c < (k + 3) / 4; ++c) {
            bool any = false;
            for (std::size_t r = g * 4; r < std::min(n, g * 4 + 4); ++r)
                for (std::size_t t = c * 4; t < std::min(k, c * 4 + 4); ++t) any = any || qw.q[r * k + t] != 0;
            groups += any;
        }
    REQUIRE(m.entries() == groups);
    REQUIRE(m.row_groups() == 3);
    REQUIRE(m.density() == Approx(double(groups) / (3 * 6)));
    for (std::size_t j = 0; j < n; ++j) {
        REQUIRE(m.scale(j) == qw.s[j]);
        for (std::size_t t = 0; t < k; ++t) {
            REQUIRE(m.code(t, j) == qw.q[j * k + t]);
            REQUIRE(m.at(t, j) == float(qw.q[j * k + t]) * qw.s[j]);
        }
    }
    REQUIRE(m.bytes() == 16 * groups + 4 * (groups + 4) + 12 * (4 + 4));
    REQUIRE_THROWS_AS(m.code(k, 0), shape_error);
    REQUIRE_THROWS_AS(m.scale(n), shape_error);

    // From a block-sparse matrix (fp32 values): the same codes as from its dense form.
    const auto bsr = sparse::block_sparse_matrix::from_dense(w.data(), n, k, k, 4, 8);
    const auto from_bsr = i8_block_sparse_matrix::quantize(bsr);
    REQUIRE(from_bsr.entries() == m.entries());
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t t = 0; t < k; ++t) REQUIRE(from_bsr.code(t, j) == m.code(t, j));

    // Validation as i8_packed_matrix's.
    std::vector<std::int8_t> codes(qw.q);
    std::vector<float> scales(qw.s);
    codes[3] = -128;
    REQUIRE_THROWS_AS(i8_block_sparse_matrix::from_int8(codes.data(), n, k, k, scales.data()), format_error);
    codes[3] = 0;
    scales[2] = std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_AS(i8_block_sparse_matrix::from_int8(codes.data(), n, k, k, scales.data()), format_error);
    REQUIRE_THROWS_AS(i8_block_sparse_matrix::quantize(w.data(), n, k, k - 1), shape_error);
    REQUIRE_THROWS_AS(i8_block_sparse_matrix::quantize(nullptr, 0, gemm_i8_max_k + 1, 0), shape_error);
    std::vector<float> nan_w = {1.f, std::numeric_limits<float>::quiet_NaN()};
    REQUIRE_THROWS_AS(i8_block_sparse_matrix::quantize(nan_w.data(), 1, 2, 2), config_error);

    // m == 0 touches nothing; k == 0 gives the epilogue of 0; the contract's shape errors.
    const std::vector<float> bias = {1.f, 2.f, 3.f, 4.f, 5.f};
    const std::vector<float> a(4 * 3, 1.f), w5(5 * 3, 0.5f);
    const auto b = i8_block_sparse_matrix::quantize(w5.data(), 5, 3, 3);
    std::vector<float> c(4 * 5, 9.f);
    sparse_gemm_i8(a.data(), 0, 3, b, c.data(), 5);
    REQUIRE(c[0] == 9.f);
    const auto empty_k = i8_block_sparse_matrix::quantize(nullptr, 5, 0, 0);
    REQUIRE(empty_k.entries() == 0);
    epilogue ep;
    ep.bias = bias.data();
    sparse_gemm_i8(a.data(), 4, 0, empty_k, c.data(), 5, ep, 2);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j) REQUIRE(c[i * 5 + j] == bias[j]);
    REQUIRE_THROWS_AS(sparse_gemm_i8(a.data(), 4, 2, b, c.data(), 5), shape_error);  // ldx < k
    REQUIRE_THROWS_AS(sparse_gemm_i8(a.data(), 4, 3, b, c.data(), 4), shape_error);  // ldy < n
}
