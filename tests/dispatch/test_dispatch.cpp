// kernels/dispatch.hpp: runtime instruction-set dispatch. Built only with EDGEBERT_DISPATCH (the kernel tests
// themselves run once per instruction set through EDGEBERT_KERNELS, see tests/CMakeLists.txt).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/kernels/dispatch.hpp>

#include "support/test_random.hpp"

using namespace edgebert::kernels;

namespace {
std::vector<float> random_vector(std::size_t n, unsigned seed) { return test_util::normal_values(n, seed, 1.f); }
std::vector<kernel_choice> choices() {
    std::vector<kernel_choice> all(8);
    all.resize(kernel_choices(all.data(), all.size()));
    return all;
}
}  // namespace

TEST_CASE("the kernels in use are the best set this processor runs, or the one EDGEBERT_KERNELS names", "[dispatch]") {
    const auto all = choices();
    REQUIRE(all.size() == 5);
    CHECK(std::string(all[0].table->name) == "sse2");
    CHECK(all[0].supported);  // every x86-64 processor
    const kernel_table* best = nullptr;
    for (const auto& c : all)
        if (c.supported) best = c.table;
    const char* asked = std::getenv("EDGEBERT_KERNELS");
    if (asked && *asked) CHECK(std::string(active_kernels().name) == asked);
    else CHECK(&active_kernels() == best);
    CHECK(packing_panel_width() == active_kernels().panel_width);
    CHECK(packed_matrix().panel_columns() == active_kernels().panel_width);
    const std::string words = instruction_set();
    CHECK(words.find(active_kernels().name) != std::string::npos);
    INFO(words);
    // The panel widths follow each set's SIMD width (docs/gemm.md): 8, 16, 16, 48, 48.
    CHECK(all[0].table->panel_width == 8);
    CHECK(all[1].table->panel_width == 16);
    CHECK(all[2].table->panel_width == 16);
    CHECK(all[3].table->panel_width == 48);
    CHECK(all[4].table->panel_width == 48);
    // Each set's integer path: the widest multiply-add of 8-bit integers its flags allow.
    CHECK(std::string(all[0].table->gemm_i8_isa()) == "portable");
    CHECK(std::string(all[1].table->gemm_i8_isa()) == "avx2");
    CHECK(std::string(all[2].table->gemm_i8_isa()) == "avx-vnni");
    CHECK(std::string(all[3].table->gemm_i8_isa()) == "avx2");
    CHECK(std::string(all[4].table->gemm_i8_isa()) == "avx512-vnni");
    CHECK(std::string(gemm_i8_isa()) == active_kernels().gemm_i8_isa());
    CHECK(words.find(std::string("int8 ") + gemm_i8_isa()) != std::string::npos);
}

TEST_CASE("every supported set's GEMM matches the scalar reference; a matrix packed for another set is refused",
          "[dispatch]") {
    const std::size_t m = 37, k = 45, n = 53, lda = 47, ldc = 59;
    const auto a = random_vector(m * lda, 1), w = random_vector(n * k, 2), bias = random_vector(n, 3);
    const auto res = random_vector(m * ldc, 4);
    epilogue ep;
    ep.bias = bias.data();
    ep.act = activation::gelu_tanh;
    ep.residual = res.data();
    ep.ld_residual = ldc;
    std::vector<float> ref(m * ldc, 0.f);
    reference::gemm(a.data(), m, k, lda, w.data(), n, k, ref.data(), ldc, ep);
    std::size_t tested = 0;
    for (const auto& c : choices()) {
        if (!c.supported) continue;
        ++tested;
        const kernel_table& t = *c.table;
        INFO("kernel set " << t.name);
        const packed_matrix b = packed_matrix::from_weight(w.data(), n, k, k, t.panel_width);
        for (int threads : {1, 2}) {
            std::vector<float> out(m * ldc, 0.f);
            t.gemm(a.data(), m, lda, b, out.data(), ldc, ep, threads);
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j) REQUIRE(std::abs(out[i * ldc + j] - ref[i * ldc + j]) <= 1e-4f);
        }
        // Attention products and layer norm of the same set.
        std::vector<float> nt(m * n), nt_ref(m * n);
        t.gemm_nt(m, n, k, 0.5f, a.data(), lda, w.data(), k, nt.data(), n);
        reference::gemm_nt(m, n, k, 0.5f, a.data(), lda, w.data(), k, nt_ref.data(), n);
        for (std::size_t i = 0; i < nt.size(); ++i) REQUIRE(std::abs(nt[i] - nt_ref[i]) <= 1e-4f);
        std::vector<float> ln(m * lda), ln_ref(m * lda);
        const auto gamma = random_vector(k, 5), beta = random_vector(k, 6);
        t.layer_norm(a.data(), m, k, lda, gamma.data(), beta.data(), 1e-12f, ln.data(), lda, 1);
        reference::layer_norm(a.data(), m, k, lda, gamma.data(), beta.data(), 1e-12f, ln_ref.data(), lda);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < k; ++j) REQUIRE(std::abs(ln[i * lda + j] - ln_ref[i * lda + j]) <= 1e-4f);
        // A B operand in another set's panels would be read wrongly: refused, naming both widths.
        const std::size_t other = t.panel_width == 8 ? 16 : 8;
        const packed_matrix wrong = packed_matrix::from_weight(w.data(), n, k, k, other);
        std::vector<float> out(m * ldc);
        REQUIRE_THROWS_AS(t.gemm(a.data(), m, lda, wrong, out.data(), ldc, {}, 1), edgebert::shape_error);
    }
    CHECK(tested >= 1);
}

TEST_CASE("every supported set's integer GEMM equals the scalar int8 reference bit for bit", "[dispatch]") {
    const std::size_t m = 19, k = 77, n = 41, lda = 83, ldc = 45;  // odd sizes: edge tiles, k not a multiple of 4
    auto a = random_vector(m * lda, 11);
    a[3] = 0.f;
    for (std::size_t t = 0; t < k; ++t) a[5 * lda + t] = 0.f;  // an all-zero row: scale 0
    const auto w = random_vector(n * k, 12), bias = random_vector(n, 13);
    const i8_packed_matrix b = i8_packed_matrix::quantize(w.data(), n, k, k);
    std::vector<std::int8_t> codes(n * k);
    std::vector<float> scales(n);
    quantize_rows_i8(w.data(), n, k, k, codes.data(), scales.data());
    epilogue ep;
    ep.bias = bias.data();
    std::vector<float> ref(m * ldc, 0.f);
    reference::gemm_i8(a.data(), m, k, lda, codes.data(), n, k, scales.data(), ref.data(), ldc, ep);
    std::size_t tested = 0;
    for (const auto& c : choices()) {
        if (!c.supported) continue;
        ++tested;
        INFO("kernel set " << c.table->name << ", integer path " << c.table->gemm_i8_isa());
        for (int threads : {1, 2}) {
            std::vector<float> out(m * ldc, 0.f);
            c.table->gemm_i8(a.data(), m, lda, b, out.data(), ldc, ep, threads);
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j) REQUIRE(out[i * ldc + j] == ref[i * ldc + j]);
        }
    }
    CHECK(tested >= 1);
}
