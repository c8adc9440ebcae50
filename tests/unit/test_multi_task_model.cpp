#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/multi_task_model.hpp>

#include "support/albert_test_util.hpp"
#include "support/test_random.hpp"

using namespace edgebert;

namespace {
nn::linear random_linear(std::size_t out, std::size_t in, unsigned seed, float scale = 0.3f) {
    const auto w = test_util::normal_values(out * in, seed, scale), b = test_util::normal_values(out, seed + 1, 0.1f);
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

model::multi_task_model three_tasks(const model::albert_config& cfg) {
    model::multi_task_model mt(model::albert_model::random(cfg, 5));
    const std::size_t H = cfg.hidden_size, modules = cfg.num_hidden_groups * cfg.inner_group_num, L = cfg.num_hidden_layers;
    {  // Houlsby adapters, a two-layer head, off-ramps, entropy exit
        model::task t;
        t.name = "sentiment";
        t.labels = {"negative", "positive"};
        t.encoder.layers.resize(modules);
        for (std::size_t i = 0; i < modules; ++i) {
            t.encoder.layers[i].attention_adapter = random_adapter(nn::bottleneck_config::houlsby(), H, 4, 100 + unsigned(i));
            t.encoder.layers[i].output_adapter = random_adapter(nn::bottleneck_config::houlsby(), H, 4, 200 + unsigned(i));
        }
        std::vector<nn::linear> head;
        head.push_back(random_linear(H, H, 300));
        head.push_back(random_linear(2, H, 301));
        t.head = nn::classification_head(std::move(head), kernels::activation::tanh, false);
        t.off_ramps = random_ramps(L, H, 2, 400);
        t.policy = exit::entropy_threshold{{0.45}};
        mt.add_task(std::move(t));
    }
    {  // Pfeiffer adapters, an adaptive span, off-ramps, patience
        model::task t;
        t.name = "topic";
        t.encoder.layers.resize(modules);
        for (std::size_t i = 0; i < modules; ++i)
            t.encoder.layers[i].output_adapter = random_adapter(nn::bottleneck_config::pfeiffer(), H, 6, 500 + unsigned(i));
        t.encoder.span = kernels::attention_span{kernels::span_variant::distance, 2.0, {1.0, 3.0, -5.0, 40.0}, 0};
        std::vector<nn::linear> head;
        head.push_back(random_linear(3, H, 600));
        t.head = nn::classification_head(std::move(head), kernels::activation::tanh, true);
        t.off_ramps = random_ramps(L, H, 3, 700);
        t.policy = exit::patience{1};
        mt.add_task(std::move(t));
    }
    {  // only task LayerNorms and the backbone's classifier
        model::task t;
        t.name = "plain";
        t.encoder.layers.resize(modules);
        const auto g = test_util::normal_values(H, 800, 0.1f, 1.f), b = test_util::normal_values(H, 801, 0.1f);
        t.encoder.layers[0].full_layer_norm = nn::layer_norm(g.data(), b.data(), H, cfg.layer_norm_eps);
        mt.add_task(std::move(t));
    }
    return mt;
}

std::vector<std::int64_t> sentence(const model::albert_config& cfg, unsigned seed, std::size_t len) {
    std::mt19937 rng(seed);
    std::vector<std::int64_t> ids(len);
    for (auto& x : ids) x = std::int64_t(rng() % cfg.vocab_size);
    return ids;
}
}  // namespace

TEST_CASE("three tasks share one backbone; infer agrees with a batch run", "[multitask]") {
    const auto cfg = test_util::odd_config();
    const auto mt = three_tasks(cfg);
    CHECK(mt.task_names() == std::vector<std::string>{"plain", "sentiment", "topic"});
    for (const auto& name : mt.task_names()) {
        CHECK(mt.task_bytes(name) > 0);
        CHECK(mt.task_bytes(name) < mt.backbone_bytes() / 4);
        const auto ids = sentence(cfg, 3, 10);
        const auto r = mt.infer(name, ids);
        model::run_options opt;
        opt.exit = mt.get(name).policy;
        opt.off_ramps = true;
        const auto b = mt.run(name, model::token_batch::from_rows({ids}), opt);
        CHECK(r.logits == b.logits);
        CHECK(r.exit_layer == b.exit_layers[0]);
        CHECK(r.label < r.logits.size());
        CHECK(r.confidence > 0.0);
        CHECK(r.confidence <= 1.0);
    }
    CHECK(mt.infer("sentiment", sentence(cfg, 4, 6)).label_name.find("tive") != std::string::npos);
    CHECK_THROWS_WITH(mt.infer("nope", {1, 2}), Catch::Contains("no task 'nope'") && Catch::Contains("sentiment"));
    CHECK_THROWS_AS(mt.infer("plain", {}), input_error);
    CHECK_THROWS_AS(mt.infer("plain", {std::int64_t(cfg.vocab_size)}), input_error);
}

TEST_CASE("concurrent infer on mixed tasks equals single-threaded results", "[multitask]") {
    const auto cfg = test_util::odd_config();
    const auto mt = three_tasks(cfg);
    const auto names = mt.task_names();
    const std::size_t jobs = 60;
    std::vector<model::inference_result> expected;
    for (std::size_t j = 0; j < jobs; ++j) expected.push_back(mt.infer(names[j % 3], sentence(cfg, unsigned(j), 3 + j % 11)));
    for (int threads : {2, 4, 8}) {
        std::vector<std::vector<float>> got(jobs);
        std::vector<std::size_t> exits(jobs);
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                for (std::size_t j = std::size_t(t); j < jobs; j += std::size_t(threads)) {
                    const auto r = mt.infer(names[j % 3], sentence(cfg, unsigned(j), 3 + j % 11));
                    got[j] = r.logits;
                    exits[j] = r.exit_layer;
                }
            });
        for (auto& th : pool) th.join();
        for (std::size_t j = 0; j < jobs; ++j) {
            INFO("threads " << threads << " job " << j);
            CHECK(got[j] == expected[j].logits);
            CHECK(exits[j] == expected[j].exit_layer);
        }
    }
}

TEST_CASE("early exit changes nothing else", "[multitask][exit]") {
    const auto cfg = test_util::odd_config();
    const auto mt = three_tasks(cfg);
    const std::size_t L = cfg.num_hidden_layers;
    for (unsigned s = 0; s < 8; ++s) {
        const auto ids = sentence(cfg, 40 + s, 4 + s);
        model::infer_options none, zero;
        none.exit = exit::no_exit{};
        zero.exit = exit::entropy_threshold{{0.0}};
        const auto a = mt.infer("sentiment", ids, none), b = mt.infer("sentiment", ids, zero);
        CHECK(b.exit_layer == L);
        CHECK(a.logits == b.logits);
        // full run with every ramp evaluated: the exit at layer k returns ramp k's logits exactly
        model::run_options full;
        full.off_ramps = true;
        const auto f = mt.run("sentiment", model::token_batch::from_rows({ids}), full);
        for (std::size_t k = 1; k < L; ++k) {
            model::infer_options at_k;
            at_k.exit = exit::fixed_depth{k};
            const auto r = mt.infer("sentiment", ids, at_k);
            REQUIRE(r.exit_layer == k);
            const std::vector<float> ramp(f.off_ramp_logits.begin() + std::ptrdiff_t((k - 1) * 2),
                                          f.off_ramp_logits.begin() + std::ptrdiff_t(k * 2));
            CHECK(r.logits == ramp);
            CHECK(r.entropies.size() == k);
            CHECK(r.entropies.back() == f.off_ramp_entropies[k - 1]);
        }
    }
}

TEST_CASE("max-probability and patience policies act on the ramps' logits", "[multitask][exit]") {
    const auto cfg = test_util::odd_config();
    const auto mt = three_tasks(cfg);
    const auto ids = sentence(cfg, 77, 9);
    model::run_options full;
    full.off_ramps = true;
    const auto f = mt.run("topic", model::token_batch::from_rows({ids}), full);
    const std::size_t L = cfg.num_hidden_layers, C = 3;
    std::vector<std::size_t> labels;
    std::vector<double> maxp;
    for (std::size_t k = 0; k < L; ++k) {
        const float* l = f.off_ramp_logits.data() + k * C;
        std::size_t best = 0;
        double z = 0;
        for (std::size_t c = 1; c < C; ++c)
            if (l[c] > l[best]) best = c;
        for (std::size_t c = 0; c < C; ++c) z += std::exp(double(l[c]) - double(l[best]));
        labels.push_back(best);
        maxp.push_back(1.0 / z);
    }
    for (std::size_t patience = 0; patience < 4; ++patience) {
        std::size_t expect = L, run = 0;  // PABEE: counter of agreements with the previous ramp
        for (std::size_t k = 0; k + 1 < L; ++k) {
            run = k > 0 && labels[k] == labels[k - 1] ? run + 1 : 0;
            if (run == patience) {
                expect = k + 1;
                break;
            }
        }
        model::infer_options o;
        o.exit = exit::patience{patience};
        CHECK(mt.infer("topic", ids, o).exit_layer == expect);
    }
    for (double p : {0.34, 0.5, 0.8, 0.99}) {
        std::size_t expect = L;
        for (std::size_t k = 0; k + 1 < L; ++k)
            if (maxp[k] > p) {
                expect = k + 1;
                break;
            }
        model::infer_options o;
        o.exit = exit::max_probability{p};
        CHECK(mt.infer("topic", ids, o).exit_layer == expect);
    }
}

TEST_CASE("the work trace says what ran", "[multitask][trace]") {
    const auto cfg = test_util::odd_config();
    const auto mt = three_tasks(cfg);
    const auto ids = sentence(cfg, 9, 12);
    model::infer_options all;
    all.exit = exit::no_exit{};
    const auto r = mt.infer("topic", ids, all);
    const auto& t = r.trace;
    CHECK(t.seq_len == 12);
    CHECK(t.exit_layer == cfg.num_hidden_layers);
    CHECK(t.layers.size() == cfg.num_hidden_layers * cfg.inner_group_num);
    CHECK(t.embedding_matmuls.size() == 1);
    CHECK(t.head_matmuls.size() == 2);  // the pooler, then the one-layer head on it
    CHECK(t.entropies.size() == cfg.num_hidden_layers);
    const auto& span = *mt.get("topic").encoder.span;
    std::size_t keys = 0, heads = 0;
    for (std::size_t h = 0; h < cfg.num_attention_heads; ++h) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < 12; ++i)
            for (std::size_t j = 0; j < 12; ++j) n += span.mask(h, i, j, 12) > 0.f;
        keys += n;
        heads += n > 0;
    }
    for (const auto& l : t.layers) {
        CHECK(l.seq_len == 12);
        CHECK(l.attention.keys_computed == keys);
        CHECK(l.attention.heads_computed == heads);
        CHECK(l.attention.keys_dense == cfg.num_attention_heads * 144);
        bool has_adapter = false;
        for (const auto& m : l.matmuls) {
            CHECK(m.weight_nonzeros <= m.in_features * m.out_features);
            has_adapter = has_adapter || (m.what == trace::product::adapter_down && m.home == trace::weight_home::task);
        }
        CHECK(has_adapter);
    }
    // an early exit: only the layers run, ramps' products recorded, no final head
    model::infer_options one;
    one.exit = exit::fixed_depth{2};
    const auto e = mt.infer("sentiment", ids, one);
    CHECK(e.trace.exit_layer == 2);
    CHECK(e.trace.layers.size() == 2 * cfg.inner_group_num);
    CHECK(e.trace.head_matmuls.empty());
    CHECK(e.trace.layers.back().matmuls.back().what == trace::product::off_ramp_classifier);
    CHECK(e.trace.layers.back().entropy_labels == 2);
}

TEST_CASE("tasks are checked against the backbone", "[multitask]") {
    const auto cfg = test_util::odd_config();
    model::multi_task_model mt(model::albert_model::random(cfg, 1));
    model::task bad;
    bad.name = "bad";
    bad.off_ramps = random_ramps(2, cfg.hidden_size, 2, 1);
    CHECK_THROWS_WITH(mt.add_task(bad), Catch::Contains("2 off-ramps"));
    model::task policy_without_ramps;
    policy_without_ramps.name = "p";
    policy_without_ramps.policy = exit::entropy_threshold{{0.3}};
    CHECK_THROWS_WITH(mt.add_task(policy_without_ramps), Catch::Contains("no off-ramps"));
    model::task span;
    span.name = "s";
    span.encoder.span = kernels::attention_span{kernels::span_variant::distance, 2.0, {1.0}, 0};
    CHECK_THROWS_AS(mt.add_task(span), shape_error);
    model::task ok;
    ok.name = "ok";
    mt.add_task(ok);
    CHECK_THROWS_WITH(mt.add_task(ok), Catch::Contains("exists already"));
}
