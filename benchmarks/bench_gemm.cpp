// GEMM on ALBERT's shapes: edgebert's packed-weight gemm against OpenBLAS's cblas_sgemm, same binary,
// same run. C[m x n] = A[m x k] · Wᵀ with W [n x k] (PyTorch Linear layout); m = tokens. Weights are packed
// outside the timed loop (the model packs them at load). Also the attention products of one 64-wide head
// (gemm_nt scores, gemm_nn context, single-threaded, against sgemm on the same operands), the FMA peak and the
// micro-kernel alone in L1.
//   build/benchmarks/bench_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   scripts/bench_gemm_table.sh --reps 5      (the markdown table of docs/gemm.md and the README)
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>
#include <edgebert/kernels/gemm.hpp>
#include <xsimd/xsimd.hpp>
#if EDGEBERT_BENCH_HAVE_CBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

using namespace edgebert::kernels;

namespace {
std::vector<float> random_vector(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}
void set_flops(benchmark::State& state, double m, double n, double k) {
    state.counters["GFLOPS"] =
        benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
// Shapes: {m, k, n, threads}; 2304 = fused Q|K|V.
const std::vector<std::vector<std::int64_t>> shapes = {{16, 128, 384}, {768, 3072}, {768, 2304, 3072}, {1, 2}};
}  // namespace

static void BM_edgebert_gemm(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const int threads = int(state.range(3));
    const auto a = random_vector(m * k, 1), w = random_vector(n * k, 2);
    std::vector<float> c(m * n);
    const auto packed = packed_matrix::from_weight(w.data(), n, k, k);  // at load time: not timed
    for (auto _ : state) {
        gemm(a.data(), m, k, packed, c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

#if EDGEBERT_BENCH_HAVE_CBLAS
static void BM_openblas_sgemm(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    openblas_set_num_threads(int(state.range(3)));
    const auto a = random_vector(m * k, 1), w = random_vector(n * k, 2);
    std::vector<float> c(m * n);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.f, a.data(), int(k), w.data(),
                    int(k), 0.f, c.data(), int(n));
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}
#endif

static void apply_shapes(benchmark::internal::Benchmark* b) {
    for (auto m : shapes[0])
        for (auto t : shapes[3]) {
            b->Args({m, 768, 2304, t});
            b->Args({m, 768, 768, t});
            b->Args({m, 768, 3072, t});
            b->Args({m, 3072, 768, t});
        }
    b->ArgNames({"m", "k", "n", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK(BM_edgebert_gemm)->Apply(apply_shapes);
#if EDGEBERT_BENCH_HAVE_CBLAS
BENCHMARK(BM_openblas_sgemm)->Apply(apply_shapes);
#endif

// The same products with the weights coming from memory, as in the model (a layer's 28 MB of weights do not
// stay in cache between uses): each iteration uses the next of enough copies of W to overflow the L3.
static std::size_t cold_copies(std::size_t n, std::size_t k) {
    const std::size_t bytes = n * k * sizeof(float), budget = std::size_t(96) << 20;
    return std::max<std::size_t>(2, (budget + bytes - 1) / bytes);
}

static void BM_cold_edgebert_gemm(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const int threads = int(state.range(3));
    const auto a = random_vector(m * k, 1), w = random_vector(n * k, 2);
    std::vector<float> c(m * n);
    std::vector<packed_matrix> packed(cold_copies(n, k));
    for (auto& p : packed) p = packed_matrix::from_weight(w.data(), n, k, k);
    std::size_t i = 0;
    for (auto _ : state) {
        gemm(a.data(), m, k, packed[i++ % packed.size()], c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

#if EDGEBERT_BENCH_HAVE_CBLAS
static void BM_cold_openblas_sgemm(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    openblas_set_num_threads(int(state.range(3)));
    const auto a = random_vector(m * k, 1);
    std::vector<std::vector<float>> w(cold_copies(n, k), random_vector(n * k, 2));
    std::vector<float> c(m * n);
    std::size_t i = 0;
    for (auto _ : state) {
        const float* wi = w[i++ % w.size()].data();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(n), int(k), 1.f, a.data(), int(k), wi, int(k),
                    0.f, c.data(), int(n));
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}
#endif

static void apply_cold_shapes(benchmark::internal::Benchmark* b) {
    for (std::int64_t m : {128, 384})
        for (std::int64_t t : {1, 2}) {
            b->Args({m, 768, 2304, t});
            b->Args({m, 768, 768, t});
            b->Args({m, 768, 3072, t});
            b->Args({m, 3072, 768, t});
        }
    b->ArgNames({"m", "k", "n", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK(BM_cold_edgebert_gemm)->Apply(apply_cold_shapes);
#if EDGEBERT_BENCH_HAVE_CBLAS
BENCHMARK(BM_cold_openblas_sgemm)->Apply(apply_cold_shapes);
#endif

// Attention-shaped products (one head of 64): scores Q·Kᵀ and context P·V, single-threaded.
static void BM_gemm_nt_scores(benchmark::State& state) {
    const std::size_t s = std::size_t(state.range(0)), d = 64;
    const auto q = random_vector(s * d, 3), k = random_vector(s * d, 4);
    std::vector<float> c(s * s);
    for (auto _ : state) {
        gemm_nt(s, s, d, 1.f, q.data(), d, k.data(), d, c.data(), s);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(s), double(s), double(d));
}
BENCHMARK(BM_gemm_nt_scores)->Arg(128)->Arg(384)->ArgName("s")->Unit(benchmark::kMicrosecond);

static void BM_gemm_nn_context(benchmark::State& state) {
    const std::size_t s = std::size_t(state.range(0)), d = 64;
    const auto p = random_vector(s * s, 5), v = random_vector(s * d, 6);
    std::vector<float> c(s * d);
    for (auto _ : state) {
        gemm_nn(s, d, s, p.data(), s, v.data(), d, c.data(), d);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(s), double(d), double(s));
}
BENCHMARK(BM_gemm_nn_context)->Arg(128)->Arg(384)->ArgName("s")->Unit(benchmark::kMicrosecond);

#if EDGEBERT_BENCH_HAVE_CBLAS
static void BM_openblas_nt_scores(benchmark::State& state) {
    const std::size_t s = std::size_t(state.range(0)), d = 64;
    openblas_set_num_threads(1);
    const auto q = random_vector(s * d, 3), k = random_vector(s * d, 4);
    std::vector<float> c(s * s);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(s), int(s), int(d), 1.f, q.data(), int(d), k.data(),
                    int(d), 0.f, c.data(), int(s));
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(s), double(s), double(d));
}
BENCHMARK(BM_openblas_nt_scores)->Arg(128)->Arg(384)->ArgName("s")->Unit(benchmark::kMicrosecond);

static void BM_openblas_nn_context(benchmark::State& state) {
    const std::size_t s = std::size_t(state.range(0)), d = 64;
    openblas_set_num_threads(1);
    const auto p = random_vector(s * s, 5), v = random_vector(s * d, 6);
    std::vector<float> c(s * d);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(s), int(d), int(s), 1.f, p.data(), int(s), v.data(),
                    int(d), 0.f, c.data(), int(d));
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(s), double(d), double(s));
}
BENCHMARK(BM_openblas_nn_context)->Arg(128)->Arg(384)->ArgName("s")->Unit(benchmark::kMicrosecond);
#endif

// The machine's fp32 FMA peak at the SIMD width this binary was compiled for, measured in the same run
// so GEMM speeds can be quoted as a fraction of it: 12 independent FMA chains per thread.
static void BM_fma_peak(benchmark::State& state) {
    using B = xsimd::batch<float>;
    const int threads = int(state.range(0));
    constexpr long iters = 1 << 20;
    for (auto _ : state) {
        EDGEBERT_OMP(parallel num_threads(threads)) {
            B a0(1.0f), a1(1.1f), a2(1.2f), a3(1.3f), a4(1.4f), a5(1.5f), a6(1.6f), a7(1.7f), a8(1.8f), a9(1.9f),
                a10(2.0f), a11(2.1f);
            const B m(0.999999f), c(1e-7f);
            for (long i = 0; i < iters; ++i) {
                a0 = xsimd::fma(a0, m, c), a1 = xsimd::fma(a1, m, c), a2 = xsimd::fma(a2, m, c);
                a3 = xsimd::fma(a3, m, c), a4 = xsimd::fma(a4, m, c), a5 = xsimd::fma(a5, m, c);
                a6 = xsimd::fma(a6, m, c), a7 = xsimd::fma(a7, m, c), a8 = xsimd::fma(a8, m, c);
                a9 = xsimd::fma(a9, m, c), a10 = xsimd::fma(a10, m, c), a11 = xsimd::fma(a11, m, c);
#if defined(__GNUC__)  // twelve independent chains the compiler may neither merge nor drop
                __asm__ volatile("" : "+v"(a0.data), "+v"(a1.data), "+v"(a2.data), "+v"(a3.data), "+v"(a4.data),
                                 "+v"(a5.data), "+v"(a6.data), "+v"(a7.data), "+v"(a8.data), "+v"(a9.data),
                                 "+v"(a10.data), "+v"(a11.data));
#endif
            }
            benchmark::DoNotOptimize(xsimd::hadd(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11));
        }
    }
    state.counters["GFLOPS"] = benchmark::Counter(double(threads) * iters * 12 * 2 * B::size,
                                                  benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
    state.SetLabel(std::to_string(B::size) + " lanes");
}
BENCHMARK(BM_fma_peak)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// The register-blocked micro-kernel alone, its operands in L1 (a packed MR x kc A micro-panel, one kc x NR B
// panel, the tile accumulated in place): the ceiling of every GEMM above, to set against BM_fma_peak, whose
// chains touch no memory.
static void BM_micro_kernel(benchmark::State& state) {
    const std::size_t kc = std::size_t(state.range(0)), MR = detail::gemm_mr, NR = detail::gemm_nr;
    edgebert::aligned_buffer<float> a, b, c;
    a.reserve_scratch(MR * kc);
    b.reserve_scratch(kc * NR);
    c.reserve_scratch(MR * NR);
    const auto va = random_vector(MR * kc, 1), vb = random_vector(kc * NR, 2);
    std::copy(va.begin(), va.end(), a.data());
    std::copy(vb.begin(), vb.end(), b.data());
    std::fill_n(c.data(), MR * NR, 0.f);
    constexpr int calls = 256;
    for (auto _ : state) {
        for (int i = 0; i < calls; ++i) detail::micro_kernel<true>(kc, a.data(), 0, b.data(), c.data(), NR, i > 0);
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(2.0 * calls * double(kc * MR * NR), benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::kIs1000);
    state.SetLabel(std::to_string(MR) + " x " + std::to_string(NR) + " tile");
}
BENCHMARK(BM_micro_kernel)->Arg(64)->Arg(256)->ArgName("kc")->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
