// Compressed-weight products on ALBERT-base shapes (rows x in x out = 128 x 768 x 768, 128 x 768 x 3072,
// 128 x 3072 x 768): fp32 dense gemm against the 8-bit decode-on-the-fly gemm_q8 (af8e3), the EdgeBERT bit-mask
// sparse_gemm (unstructured random sparsity) and the block-sparse sparse_gemm (random blocks pruned) at sparsity
// 0 .. 95 %; and in integers, the dense int8 gemm_i8 against the block-sparse int8 sparse_gemm_i8 on the same
// block-pruned weights (BM_int8_dense takes the same arguments so the rows pair up). Weights are packed / encoded outside the timed loop (the model does it at load).
//   build/benchmarks/bench_sparse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// The GFLOPS counter is the dense-equivalent rate (2·m·k·n / time) so every row compares directly with dense.
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>
#include <edgebert/kernels/gemm.hpp>
#include <edgebert/kernels/gemm_i8.hpp>
#include <edgebert/kernels/gemm_q8.hpp>
#include <edgebert/kernels/sparse_gemm.hpp>
#include <edgebert/kernels/sparse_gemm_i8.hpp>
#include <edgebert/compress.hpp>

using namespace edgebert;
using namespace edgebert::kernels;

namespace {
std::vector<float> random_vector(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}
// W [n x k] with a fraction `sparsity` of its elements zero at random positions.
std::vector<float> unstructured(std::size_t n, std::size_t k, double sparsity, unsigned seed) {
    std::vector<float> w = random_vector(n * k, seed);
    std::mt19937 rng(seed + 1);
    std::uniform_real_distribution<double> u(0, 1);
    for (auto& x : w)
        if (u(rng) < sparsity) x = 0.f;
    return w;
}
// W [n x k] random with the fraction s of its R x C blocks of smallest magnitude zero (random positions).
std::vector<float> block_pruned(std::size_t n, std::size_t k, double s, std::size_t R, std::size_t C) {
    std::vector<float> w = random_vector(n * k, 2);
    compress::prune_by_magnitude(w.data(), n, k, k, {s, R, C});
    return w;
}
void set_flops(benchmark::State& state, double m, double n, double k) {
    state.counters["GFLOPS"] =
        benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
// {m, k, n}
const std::vector<std::vector<std::int64_t>> shapes = {{128, 768, 768}, {128, 768, 3072}, {128, 3072, 768}};
const std::vector<std::int64_t> sparsities = {0, 50, 70, 80, 90, 95};
}  // namespace

static void BM_dense_f32(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const int threads = int(state.range(3));
    const auto a = random_vector(m * k, 1), w = random_vector(n * k, 2);
    std::vector<float> c(m * n);
    const auto packed = packed_matrix::from_weight(w.data(), n, k, k);
    for (auto _ : state) {
        gemm(a.data(), m, k, packed, c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

static void BM_q8_af8e3(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const int threads = int(state.range(3));
    const auto a = random_vector(m * k, 1), w = random_vector(n * k, 2);
    std::vector<float> c(m * n);
    numeric::quantize_options opt;
    opt.per_row = state.range(4) != 0;
    const auto q = q8_packed_matrix::quantize(w.data(), n, k, k, numeric::parse_format("af8e3"), opt);
    for (auto _ : state) {
        gemm_q8(a.data(), m, k, q, c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

static void BM_bitmask_f32(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const double s = double(state.range(3)) / 100.0;
    const int threads = int(state.range(4));
    const auto a = random_vector(m * k, 1), w = unstructured(n, k, s, 2);
    std::vector<float> c(m * n);
    const auto bm = sparse::bitmask_matrix::from_dense(w.data(), n, k, k, 16);
    for (auto _ : state) {
        sparse_gemm(a.data(), m, k, bm, c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

static void BM_bitmask_q8(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const double s = double(state.range(3)) / 100.0;
    const int threads = int(state.range(4));
    const auto a = random_vector(m * k, 1), w = unstructured(n, k, s, 2);
    std::vector<float> c(m * n);
    const auto bm = sparse::bitmask_matrix::quantize(w.data(), n, k, k, numeric::parse_format("af8e3"), {}, 16);
    for (auto _ : state) {
        sparse_gemm(a.data(), m, k, bm, c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

static void BM_block_f32(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const double s = double(state.range(3)) / 100.0;
    const std::size_t R = std::size_t(state.range(4)), C = std::size_t(state.range(5));
    const int threads = int(state.range(6));
    const auto a = random_vector(m * k, 1);
    const auto w = block_pruned(n, k, s, R, C);
    std::vector<float> c(m * n);
    const auto bs = sparse::block_sparse_matrix::from_dense(w.data(), n, k, k, R, C);
    for (auto _ : state) {
        sparse_gemm(a.data(), m, k, bs, c.data(), n, {}, threads);
        benchmark::DoNotOptimize(c.data());
    }
    set_flops(state, double(m), double(n), double(k));
}

// Block-pruned weights in int8: dense gemm_i8 (zeros multiplied) or sparse_gemm_i8 (pruned groups skipped).
template <bool Sparse>
static void BM_int8_blocks(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)), n = std::size_t(state.range(2));
    const double s = double(state.range(3)) / 100.0;
    const std::size_t R = std::size_t(state.range(4)), C = std::size_t(state.range(5));
    const int threads = int(state.range(6));
    const auto a = random_vector(m * k, 1);
    const auto w = block_pruned(n, k, s, R, C);
    std::vector<float> c(m * n);
    if constexpr (Sparse) {
        const auto bs = i8_block_sparse_matrix::quantize(w.data(), n, k, k);
        state.counters["group_density"] = bs.density();
        for (auto _ : state) {
            sparse_gemm_i8(a.data(), m, k, bs, c.data(), n, {}, threads);
            benchmark::DoNotOptimize(c.data());
        }
    } else {
        const auto packed = i8_packed_matrix::quantize(w.data(), n, k, k);
        for (auto _ : state) {
            gemm_i8(a.data(), m, k, packed, c.data(), n, {}, threads);
            benchmark::DoNotOptimize(c.data());
        }
    }
    set_flops(state, double(m), double(n), double(k));
}
static void BM_int8_dense(benchmark::State& state) { BM_int8_blocks<false>(state); }
static void BM_int8_block_sparse(benchmark::State& state) { BM_int8_blocks<true>(state); }

static void dense_args(benchmark::internal::Benchmark* b) {
    for (int t : {1, 2})
        for (const auto& s : shapes) b->Args({s[0], s[1], s[2], t});
    b->ArgNames({"m", "k", "n", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
static void q8_args(benchmark::internal::Benchmark* b) {
    for (int t : {1, 2})
        for (const auto& s : shapes)
            for (int per_row : {0, 1}) b->Args({s[0], s[1], s[2], t, per_row});
    b->ArgNames({"m", "k", "n", "threads", "per_row"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
static void bitmask_args(benchmark::internal::Benchmark* b) {
    for (int t : {1, 2})
        for (const auto& s : shapes)
            for (auto sp : sparsities) b->Args({s[0], s[1], s[2], sp, t});
    b->ArgNames({"m", "k", "n", "sparsity", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
static void block_args(benchmark::internal::Benchmark* b) {
    const std::vector<std::pair<int, int>> blocks = {{1, 8}, {1, 16}, {4, 4}, {4, 8}, {8, 4}, {16, 1}};
    for (int t : {1, 2})
        for (const auto& s : shapes)
            for (const auto& bl : blocks)
                for (auto sp : sparsities) b->Args({s[0], s[1], s[2], sp, bl.first, bl.second, t});
    b->ArgNames({"m", "k", "n", "sparsity", "R", "C", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK(BM_dense_f32)->Apply(dense_args);
BENCHMARK(BM_q8_af8e3)->Apply(q8_args);
BENCHMARK(BM_bitmask_f32)->Apply(bitmask_args);
BENCHMARK(BM_bitmask_q8)->Apply(bitmask_args);
BENCHMARK(BM_block_f32)->Apply(block_args);
static void int8_block_args(benchmark::internal::Benchmark* b) {
    const std::vector<std::pair<int, int>> blocks = {{1, 8}, {4, 4}, {4, 8}, {16, 1}};
    for (int t : {1, 2})
        for (const auto& s : shapes)
            for (const auto& bl : blocks)
                for (auto sp : {0, 30, 50, 70, 80, 90}) b->Args({s[0], s[1], s[2], sp, bl.first, bl.second, t});
    b->ArgNames({"m", "k", "n", "sparsity", "R", "C", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK(BM_int8_dense)->Apply(int8_block_args);
BENCHMARK(BM_int8_block_sparse)->Apply(int8_block_args);

BENCHMARK_MAIN();
