// Attention, LayerNorm and softmax kernels at ALBERT-base shapes (12 heads of 64), and one whole
// encoder layer. Run: build/benchmarks/bench_attention --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>
#include <edgebert/edgebert.hpp>

using namespace edgebert;

static std::vector<float> random_vector(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
}

// Self-attention of one sequence, all heads: 2·S²·H multiply-adds for scores, the same for the context.
// keep:1 passes a keep mask of ones, as the model does for an unpadded sentence; keep:0 passes none.
static void BM_attention(benchmark::State& state) {
    const std::size_t S = std::size_t(state.range(0)), heads = 12, d = 64, H = heads * d;
    const int threads = int(state.range(1));
    const auto qkv = random_vector(S * 3 * H, 1);
    std::vector<float> ctx(S * H);
    const std::vector<std::uint8_t> ones(S, 1);
    const std::uint8_t* keep = state.range(2) ? ones.data() : nullptr;
    const kernels::attention_shape shape{1, S, heads, d};
    for (auto _ : state) {
        kernels::attention(shape, qkv.data(), 3 * H, keep, ctx.data(), H, threads);
        benchmark::DoNotOptimize(ctx.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(4.0 * double(S * S * H), benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::kIs1000);
}
BENCHMARK(BM_attention)->ArgsProduct({{16, 128, 384, 512}, {1, 2}, {0, 1}})->ArgNames({"seq", "threads", "keep"})->Unit(benchmark::kMicrosecond)->UseRealTime();

// Adaptive span (distance variant, ramp 16) with every head's span z: keys outside R + z are not computed, so
// the time should follow the keys_computed counter (span 0 = plain attention for comparison). The counter
// keys_fraction is keys computed / S² per head.
static void BM_span_attention(benchmark::State& state) {
    const std::size_t S = std::size_t(state.range(0)), heads = 12, d = 64, H = heads * d;
    const double z = double(state.range(1));
    const auto qkv = random_vector(S * 3 * H, 1);
    std::vector<float> ctx(S * H);
    const kernels::attention_shape shape{1, S, heads, d};
    const kernels::attention_span span{kernels::span_variant::distance, 16.0, std::vector<double>(heads, z), 0};
    kernels::attention_stats stats;
    kernels::attention(shape, qkv.data(), 3 * H, nullptr, ctx.data(), H, 1, z > 0 ? &span : nullptr, &stats);
    for (auto _ : state) {
        kernels::attention(shape, qkv.data(), 3 * H, nullptr, ctx.data(), H, 1, z > 0 ? &span : nullptr);
        benchmark::DoNotOptimize(ctx.data());
    }
    state.counters["keys_fraction"] = double(stats.keys_computed) / double(heads * S * S);
}
BENCHMARK(BM_span_attention)
    ->ArgsProduct({{128, 384}, {0, 8, 32, 64, 128, 512}})
    ->ArgNames({"seq", "span"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

static void BM_layer_norm(benchmark::State& state) {
    const std::size_t rows = std::size_t(state.range(0)), n = 768;
    auto x = random_vector(rows * n, 2);
    const auto g = random_vector(n, 3), b = random_vector(n, 4);
    for (auto _ : state) {
        kernels::layer_norm(x.data(), rows, n, n, g.data(), b.data(), 1e-12f, x.data(), n, 1);
        benchmark::DoNotOptimize(x.data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(rows * n * 8));
}
BENCHMARK(BM_layer_norm)->Arg(128)->Arg(384)->Unit(benchmark::kMicrosecond);

// A fresh copy of the same inputs each time: GELU applied over and over in place drives the values towards 0
// and denormals, where exp- and tanh-based code take different paths than on real FFN activations.
static void BM_gelu_new(benchmark::State& state) {
    const auto input = random_vector(128 * 3072, 5);
    auto x = input;
    for (auto _ : state) {
        state.PauseTiming();
        std::copy(input.begin(), input.end(), x.begin());
        state.ResumeTiming();
        kernels::apply_activation(kernels::activation::gelu_tanh, x.data(), x.size());
        benchmark::DoNotOptimize(x.data());
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(x.size()));
}
BENCHMARK(BM_gelu_new)->Unit(benchmark::kMicrosecond);

// One ALBERT-base encoder layer (the shared layer, as run 12 times per inference).
static void BM_albert_base_layer(benchmark::State& state) {
    model::albert_config cfg;
    cfg.vocab_size = 100, cfg.embedding_size = 128, cfg.hidden_size = 768, cfg.num_hidden_layers = 1;
    cfg.num_attention_heads = 12, cfg.intermediate_size = 3072, cfg.max_position_embeddings = 512;
    static const auto m = model::albert_model::random(cfg, 7);
    const std::size_t S = std::size_t(state.range(0));
    const int threads = int(state.range(1));
    model::encoder_workspace ws;
    ws.qkv.reserve_scratch(S * 3 * 768);
    ws.context.reserve_scratch(S * 768);
    ws.attention_out.reserve_scratch(S * 768);
    ws.intermediate.reserve_scratch(S * 3072);
    ws.keep.assign(S, 1);
    auto hidden = random_vector(S * 768, 8);
    const kernels::attention_shape shape{1, S, 12, 64};
    for (auto _ : state) {
        m.encoder().run_layer(m.encoder().groups()[0][0], shape, ws, hidden.data(), threads);
        benchmark::DoNotOptimize(hidden.data());
    }
    const double flop = 8.0 * S * 768 * 768 + 4.0 * S * S * 768 + 4.0 * S * 768 * 3072;
    state.counters["GFLOPS"] = benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_albert_base_layer)->ArgsProduct({{16, 128, 384}, {1, 2}})->ArgNames({"seq", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
