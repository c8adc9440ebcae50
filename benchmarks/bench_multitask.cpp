// adapter-ALBERT's claim on a CPU: one ALBERT-base backbone, several tasks. Measures (1) how much resident
// memory each added task costs against its own parameter bytes (the backbone is never copied), and (2) the
// latency of one 128-token inference with a Houlsby task (adapters + head + off-ramps) against the plain model.
// Run: build/benchmarks/bench_multitask --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <cstdio>
#include <fstream>
#include <malloc.h>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <edgebert/edgebert.hpp>

using namespace edgebert;

namespace {
std::size_t resident_bytes() {  // /proc/self/statm: resident pages
    std::ifstream f("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    f >> size >> resident;
    return resident * 4096;
}
std::size_t heap_bytes() { return mallinfo2().uordblks; }  // bytes the allocator has handed out and not got back
model::albert_config base_config() {
    model::albert_config c;  // albert-base-v2 shapes
    c.vocab_size = 30000, c.embedding_size = 128, c.hidden_size = 768, c.num_hidden_layers = 12;
    c.num_attention_heads = 12, c.intermediate_size = 3072, c.max_position_embeddings = 512, c.num_labels = 2;
    return c;
}
nn::linear random_linear(std::size_t out, std::size_t in, std::mt19937& rng) {
    std::normal_distribution<float> nd(0.f, 0.02f);
    std::vector<float> w(out * in), b(out);
    for (auto& x : w) x = nd(rng);
    for (auto& x : b) x = nd(rng);
    return nn::linear(w.data(), out, in, b.data());
}
/// A Houlsby task with reduction factor 16, a two-layer head and 12 off-ramps (AdapterHub and EdgeBERT sizes).
model::task houlsby_task(const model::albert_config& c, const std::string& name, unsigned seed) {
    std::mt19937 rng(seed);
    const std::size_t H = c.hidden_size, m = H / 16;
    model::task t;
    t.name = name;
    t.encoder.layers.resize(1);
    auto adapter = [&] {
        return nn::bottleneck_adapter(nn::bottleneck_config::houlsby(), random_linear(m, H, rng), random_linear(H, m, rng), {1.f});
    };
    t.encoder.layers[0].attention_adapter = adapter();
    t.encoder.layers[0].output_adapter = adapter();
    std::vector<nn::linear> head;
    head.push_back(random_linear(H, H, rng));
    head.push_back(random_linear(2, H, rng));
    t.head = nn::classification_head(std::move(head), kernels::activation::tanh, false);
    for (std::size_t i = 0; i < c.num_hidden_layers; ++i) t.off_ramps.emplace_back(random_linear(H, H, rng), random_linear(2, H, rng));
    return t;
}
std::vector<std::int64_t> ids(std::size_t n) {
    std::vector<std::int64_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::int64_t((i * 7919 + 13) % 30000);
    return v;
}
}  // namespace

// Memory added by each task against the task's own parameter bytes (counters in MB): heap bytes in use (exact:
// what the task holds) and resident size (what the OS sees; includes freed memory the allocator keeps).
static void BM_task_memory(benchmark::State& state) {
    const auto cfg = base_config();
    for (auto _ : state) {
        const std::size_t heap0 = heap_bytes(), rss0 = resident_bytes();
        model::multi_task_model mt(model::albert_model::random(cfg, 1));
        const std::size_t heap1 = heap_bytes(), rss1 = resident_bytes();
        std::size_t task_bytes = 0, adapter_bytes = 0;
        for (int t = 0; t < 3; ++t) {
            const auto& task = mt.add_task(houlsby_task(cfg, "task" + std::to_string(t), unsigned(10 + t)));
            task_bytes += task.bytes();
            adapter_bytes += task.encoder.layers[0].attention_adapter->bytes() + task.encoder.layers[0].output_adapter->bytes();
        }
        const std::size_t heap2 = heap_bytes(), rss2 = resident_bytes();
        state.counters["backbone_param_MB"] = double(mt.backbone_bytes()) / 1e6;
        state.counters["backbone_heap_MB"] = double(heap1 - heap0) / 1e6;
        state.counters["backbone_rss_MB"] = double(rss1 - rss0) / 1e6;
        state.counters["3tasks_param_MB"] = double(task_bytes) / 1e6;
        state.counters["3tasks_adapters_MB"] = double(adapter_bytes) / 1e6;
        state.counters["3tasks_heap_MB"] = double(heap2 - heap1) / 1e6;
        state.counters["3tasks_rss_MB"] = double(rss2 - rss1) / 1e6;
    }
}
BENCHMARK(BM_task_memory)->Iterations(1)->Unit(benchmark::kMillisecond);

// One sentence of `seq` tokens: the plain backbone with its classifier (task "plain") or a Houlsby task.
static void BM_infer(benchmark::State& state) {
    static const auto cfg = base_config();
    static const model::multi_task_model mt = [] {
        model::multi_task_model m(model::albert_model::random(cfg, 2));
        model::task plain;
        plain.name = "plain";
        m.add_task(std::move(plain));
        m.add_task(houlsby_task(cfg, "houlsby", 3));
        return m;
    }();
    const std::string task = state.range(1) ? "houlsby" : "plain";
    const auto sentence = ids(std::size_t(state.range(0)));
    model::infer_options opt;
    opt.threads = 2;
    opt.exit = exit::no_exit{};
    for (auto _ : state) benchmark::DoNotOptimize(mt.infer(task, sentence, opt));
}
BENCHMARK(BM_infer)->ArgsProduct({{16, 128}, {0, 1}})->ArgNames({"seq", "houlsby"})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
