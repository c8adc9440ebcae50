// SPDX-License-Identifier: Apache-2.0
// Load test (docs/reliability.md): one multi_task_model shared by 2, 4, 8 and 16 threads, each issuing
// inferences of mixed tasks and lengths for a bounded time. Every result must equal, bit for bit, the
// single-threaded result for the same (task, sentence), and the resident set must stay flat after warm-up.
//
//   load_test [--seconds S] [--threads 2,4,8,16] [--rss-slack-kib K]
//
// Exit status 0 when every result matched and RSS grew by at most K KiB (default 4096) between the end of
// warm-up and the end (not enforced in sanitizer builds, whose runtimes grow on their own); 1 otherwise.
// Prints one line per thread count and the RSS samples.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <edgebert/model/multi_task_model.hpp>

#include "support/sanitized.hpp"

using namespace edgebert;

// Sanitizer runtimes grow their own memory (ASan's quarantine, TSan's shadow and histories) as the program
// runs, so under them (EDGEBERT_TEST_SANITIZED) the RSS bound measures the tool, not us: it is reported but not
// enforced.

namespace {

std::vector<float> normal(std::size_t n, unsigned seed, float scale, float mean = 0.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = mean + scale * d(rng);
    return v;
}
nn::linear random_linear(std::size_t out, std::size_t in, unsigned seed, float scale = 0.3f) {
    const auto w = normal(out * in, seed, scale), b = normal(out, seed + 1, 0.1f);
    return nn::linear(w.data(), out, in, b.data());
}
nn::bottleneck_adapter random_adapter(const nn::bottleneck_config& c, std::size_t H, std::size_t m, unsigned seed) {
    return nn::bottleneck_adapter(c, random_linear(m, H, seed), random_linear(H, m, seed + 7), {1.f});
}
std::vector<nn::off_ramp> random_ramps(std::size_t layers, std::size_t H, std::size_t C, unsigned seed) {
    std::vector<nn::off_ramp> r;
    for (std::size_t i = 0; i < layers; ++i)
        r.emplace_back(random_linear(H, H, seed + 10 * unsigned(i)), random_linear(C, H, seed + 10 * unsigned(i) + 5, 1.5f));
    return r;
}

model::albert_config load_config() {
    model::albert_config c;
    c.vocab_size = 211, c.embedding_size = 32, c.hidden_size = 64, c.num_hidden_layers = 6;
    c.num_hidden_groups = 2, c.inner_group_num = 1, c.num_attention_heads = 4, c.intermediate_size = 96;
    c.max_position_embeddings = 48, c.type_vocab_size = 2, c.hidden_act = "gelu_new";
    c.num_labels = 2, c.id2label = {"LABEL_0", "LABEL_1"};
    return c;
}

// Four tasks exercising every per-task part: adapters of both kinds, heads, spans, ramps and exit policies.
model::multi_task_model build_model(const model::albert_config& cfg) {
    model::multi_task_model mt(model::albert_model::random(cfg, 11));
    const std::size_t H = cfg.hidden_size, modules = cfg.num_hidden_groups * cfg.inner_group_num, L = cfg.num_hidden_layers;
    {
        model::task t;
        t.name = "houlsby-entropy";
        t.encoder.layers.resize(modules);
        for (std::size_t i = 0; i < modules; ++i) {
            t.encoder.layers[i].attention_adapter = random_adapter(nn::bottleneck_config::houlsby(), H, 8, 100 + unsigned(i));
            t.encoder.layers[i].output_adapter = random_adapter(nn::bottleneck_config::houlsby(), H, 8, 200 + unsigned(i));
        }
        std::vector<nn::linear> head;
        head.push_back(random_linear(H, H, 300));
        head.push_back(random_linear(2, H, 301));
        t.head = nn::classification_head(std::move(head), kernels::activation::tanh, false);
        t.off_ramps = random_ramps(L, H, 2, 400);
        t.policy = exit::entropy_threshold{{0.45}};
        mt.add_task(std::move(t));
    }
    {
        model::task t;
        t.name = "pfeiffer-span-patience";
        t.encoder.layers.resize(modules);
        for (std::size_t i = 0; i < modules; ++i)
            t.encoder.layers[i].output_adapter = random_adapter(nn::bottleneck_config::pfeiffer(), H, 16, 500 + unsigned(i));
        t.encoder.span = kernels::attention_span{kernels::span_variant::distance, 2.0, {1.0, 3.0, 8.0, 40.0}, 0};
        std::vector<nn::linear> head;
        head.push_back(random_linear(3, H, 600));
        t.head = nn::classification_head(std::move(head), kernels::activation::tanh, true);
        t.off_ramps = random_ramps(L, H, 3, 700);
        t.policy = exit::patience{1};
        mt.add_task(std::move(t));
    }
    {
        model::task t;
        t.name = "layernorm-only";
        t.encoder.layers.resize(modules);
        const auto g = normal(H, 800, 0.1f, 1.f), b = normal(H, 801, 0.1f);
        t.encoder.layers[0].full_layer_norm = nn::layer_norm(g.data(), b.data(), H, cfg.layer_norm_eps);
        mt.add_task(std::move(t));
    }
    {
        model::task t;
        t.name = "ramps-no-exit";
        t.off_ramps = random_ramps(L, H, 2, 900);
        mt.add_task(std::move(t));
    }
    return mt;
}

struct job {
    std::string task;
    std::vector<std::int64_t> ids;
};

// Everything an inference returns that a caller may compare, as bytes.
std::string fingerprint(const model::inference_result& r) {
    std::string s = r.task + '|' + r.label_name + '|' + std::to_string(r.label) + '|' + std::to_string(r.exit_layer) + '|';
    s.append(reinterpret_cast<const char*>(r.logits.data()), r.logits.size() * sizeof(float));
    s.append(reinterpret_cast<const char*>(r.entropies.data()), r.entropies.size() * sizeof(double));
    s.append(reinterpret_cast<const char*>(&r.confidence), sizeof r.confidence);
    s += '|' + std::to_string(r.trace.layers.size()) + '|' + std::to_string(r.trace.exit_layer);
    return s;
}

long rss_kib() {
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

struct round_result {
    std::size_t inferences = 0, mismatches = 0, errors = 0;
};

// `threads` threads, each walking the job list from its own start with its own stride, until `seconds` pass.
round_result run_round(const model::multi_task_model& mt, const std::vector<job>& jobs, const std::vector<std::string>& want,
                       int threads, double seconds) {
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> done{0}, bad{0}, errors{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            std::size_t j = std::size_t(t) * 7 % jobs.size(), n = 0, b = 0, e = 0;
            const std::size_t stride = 1 + 2 * std::size_t(t) % (jobs.size() - 1);
            while (!stop.load(std::memory_order_relaxed)) {
                try {
                    if (fingerprint(mt.infer(jobs[j].task, jobs[j].ids)) != want[j]) ++b;
                } catch (const std::exception& ex) {
                    if (e++ == 0) std::fprintf(stderr, "thread %d: %s\n", t, ex.what());
                }
                ++n;
                j = (j + stride) % jobs.size();
            }
            done += n, bad += b, errors += e;
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& th : pool) th.join();
    return {done.load(), bad.load(), errors.load()};
}

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(std::atoi(item.c_str()));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 5;
    std::vector<int> thread_counts{2, 4, 8, 16};
    long slack_kib = 4096;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--seconds") seconds = std::atof(argv[i + 1]);
        else if (a == "--threads") thread_counts = parse_list(argv[i + 1]);
        else if (a == "--rss-slack-kib") slack_kib = std::atol(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: load_test [--seconds S] [--threads 2,4,8,16] [--rss-slack-kib K]\n");
            return 2;
        }
    }
    const model::albert_config cfg = load_config();
    const model::multi_task_model mt = build_model(cfg);
    const std::vector<std::string> names = mt.task_names();

    // Mixed tasks and lengths (1 token to the full 48 positions); expected results single-threaded.
    std::vector<job> jobs;
    std::mt19937 rng(2024);
    for (std::size_t j = 0; j < 64; ++j) {
        job jb{names[j % names.size()], std::vector<std::int64_t>(1 + rng() % cfg.max_position_embeddings)};
        for (auto& id : jb.ids) id = std::int64_t(rng() % cfg.vocab_size);
        jobs.push_back(std::move(jb));
    }
    std::vector<std::string> want;
    for (const job& jb : jobs) want.push_back(fingerprint(mt.infer(jb.task, jb.ids)));

    int max_threads = 1;
    for (int t : thread_counts) max_threads = std::max(max_threads, t);
    // Warm-up at the largest thread count: allocator arenas and thread stacks reach their steady size.
    const round_result warm = run_round(mt, jobs, want, max_threads, std::max(0.2, seconds / 4));
    const long rss_warm = rss_kib();
    std::printf("warm-up: %d threads, %zu inferences, %zu mismatches, RSS %ld KiB\n", max_threads, warm.inferences,
                warm.mismatches, rss_warm);
    bool ok = warm.mismatches == 0 && warm.errors == 0;
    long rss_max = rss_warm;
    for (int t : thread_counts) {
        const round_result r = run_round(mt, jobs, want, t, seconds);
        const long rss = rss_kib();
        rss_max = std::max(rss_max, rss);
        std::printf("threads %2d: %8zu inferences in %.1f s, %zu mismatches, %zu errors, RSS %ld KiB\n", t, r.inferences,
                    seconds, r.mismatches, r.errors, rss);
        ok = ok && r.mismatches == 0 && r.errors == 0 && r.inferences > 0;
    }
    const long rss_end = rss_kib();
    const long growth = rss_end - rss_warm;
    std::printf("RSS after warm-up %ld KiB, at the end %ld KiB (growth %ld KiB, largest sample %ld KiB, bound %ld KiB)\n",
                rss_warm, rss_end, growth, rss_max, slack_kib);
    if (EDGEBERT_TEST_SANITIZED) {
        std::printf("sanitizer build: RSS bound not enforced\n");
    } else if (growth > slack_kib) {
        std::printf("FAIL: resident memory grew after warm-up\n");
        ok = false;
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
