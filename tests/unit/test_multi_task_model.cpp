#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/multi_task_model.hpp>

#include "support/albert_test_util.hpp"
#include "support/test_random.hpp"

using namespace edgebert;

namespace {
// The raw numbers behind every random layer, so that the independent reference below can rebuild them.
struct raw_linear {
    std::vector<float> w, b;  // w: [out x in]
    std::size_t out = 0, in = 0;
};
raw_linear random_raw(std::size_t out, std::size_t in, unsigned seed, float scale = 0.3f) {
    return {test_util::normal_values(out * in, seed, scale), test_util::normal_values(out, seed + 1, 0.1f), out, in};
}
nn::linear random_linear(std::size_t out, std::size_t in, unsigned seed, float scale = 0.3f) {
    const raw_linear r = random_raw(out, in, seed, scale);
    return nn::linear(r.w.data(), out, in, r.b.data());
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

// An independent scalar reference of three_tasks' tasks for one unpadded sentence, written from the papers'
// equations rather than from the library: the backbone from its raw tensors with the hidden groups written out
// (5 layers in 3 groups: 0 0 1 1 2); Houlsby adapters (AdapterHub, ALBERT: the attention adapter reads the
// block input h, y = LN(up(silu(down(h))) + h + s)) and Pfeiffer adapters (z = LN(f + a), y = LN(up(relu(down(z)))
// + f + a)); EdgeBERT's off-ramps (tanh pooler, classifier on [CLS]) after every layer; the entropy rule (leave
// at the first layer whose ramp entropy, in nats, is below T) and PABEE's patience 1 (leave at the first layer
// whose ramp label equals the previous layer's); the last layer answers with the task's head. Only the
// attention itself comes from the library, as kernels::reference::attention (the project's scalar oracle).
namespace ref {

using vec = std::vector<double>;

vec linear(const vec& x, std::size_t rows, const std::vector<float>& w, const std::vector<float>& b, std::size_t out) {
    const std::size_t in = w.size() / out;
    vec y(rows * out);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < out; ++o) {
            double acc = b[o];
            for (std::size_t k = 0; k < in; ++k) acc += x[r * in + k] * double(w[o * in + k]);
            y[r * out + o] = acc;
        }
    return y;
}
vec linear(const vec& x, std::size_t rows, const raw_linear& l) { return linear(x, rows, l.w, l.b, l.out); }

vec layer_norm(const vec& x, std::size_t rows, const std::vector<float>& g, const std::vector<float>& b, double eps) {
    const std::size_t H = g.size();
    vec y(x.size());
    for (std::size_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (std::size_t i = 0; i < H; ++i) mean += x[r * H + i];
        mean /= double(H);
        for (std::size_t i = 0; i < H; ++i) var += (x[r * H + i] - mean) * (x[r * H + i] - mean);
        var /= double(H);
        for (std::size_t i = 0; i < H; ++i) y[r * H + i] = (x[r * H + i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
    }
    return y;
}

template <class F>
vec map(vec x, F f) {
    for (double& v : x) v = f(v);
    return x;
}
double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double silu(double x) { return x / (1 + std::exp(-x)); }
double relu(double x) { return x > 0 ? x : 0; }
vec add(vec a, const vec& b) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    return a;
}

double entropy(const vec& logits) {
    const double mx = *std::max_element(logits.begin(), logits.end());
    double z = 0;
    for (double l : logits) z += std::exp(l - mx);
    double h = 0;
    for (double l : logits) {
        const double p = std::exp(l - mx) / z;
        if (p > 0) h -= p * std::log(p);
    }
    return h;
}
std::size_t argmax(const vec& v) { return std::size_t(std::max_element(v.begin(), v.end()) - v.begin()); }

struct adapter {
    bool houlsby = true;  // else Pfeiffer
    raw_linear down, up;
};
struct task {
    std::vector<std::optional<adapter>> attention_adapter, output_adapter;  // per AlbertLayer module
    std::vector<std::optional<std::pair<std::vector<float>, std::vector<float>>>> full_layer_norm;
    std::optional<kernels::attention_span> span;
    std::vector<raw_linear> head;  // empty: the backbone's pooler and classifier
    bool head_on_pooler = false;
    std::vector<std::pair<raw_linear, raw_linear>> ramps;
    enum { none, entropy_below, patience_one } policy = none;
    double threshold = 0;
};

struct answer {
    vec logits;
    std::size_t exit_layer = 0;
};

answer infer(const model::albert_config& c, const io::memory_source& weights, const task& t,
             const std::vector<std::int64_t>& ids) {
    auto W = [&](const std::string& n) -> const std::vector<float>& { return weights.tensors().at(n).values; };
    const std::vector<std::size_t> group_of_layer{0, 0, 1, 1, 2};
    REQUIRE(c.num_hidden_layers == 5);
    REQUIRE(c.num_hidden_groups == 3);
    const std::size_t S = ids.size(), E = c.embedding_size, H = c.hidden_size, L = c.num_hidden_layers;
    const double eps = c.layer_norm_eps;
    vec x(S * E);
    for (std::size_t s = 0; s < S; ++s)
        for (std::size_t i = 0; i < E; ++i)
            x[s * E + i] = double(W("albert.embeddings.word_embeddings.weight")[std::size_t(ids[s]) * E + i]) +
                           W("albert.embeddings.token_type_embeddings.weight")[i] +
                           W("albert.embeddings.position_embeddings.weight")[s * E + i];
    x = layer_norm(x, S, W("albert.embeddings.LayerNorm.weight"), W("albert.embeddings.LayerNorm.bias"), eps);
    vec h = linear(x, S, W("albert.encoder.embedding_hidden_mapping_in.weight"),
                   W("albert.encoder.embedding_hidden_mapping_in.bias"), H);
    auto run_adapter = [&](const adapter& ad, const vec& in) {
        return linear(map(linear(in, S, ad.down), ad.houlsby ? silu : relu), S, ad.up);
    };
    std::vector<std::size_t> ramp_labels;
    for (std::size_t i = 0; i < L; ++i) {
        for (std::size_t j = 0; j < c.inner_group_num; ++j) {
            const std::size_t module = group_of_layer[i] * c.inner_group_num + j;
            const std::string l = "albert.encoder.albert_layer_groups." + std::to_string(group_of_layer[i]) +
                                  ".albert_layers." + std::to_string(j) + ".";
            auto B = [&](const std::string& n) { return W(l + n + ".bias"); };
            const vec q = linear(h, S, W(l + "attention.query.weight"), B("attention.query"), H),
                      k = linear(h, S, W(l + "attention.key.weight"), B("attention.key"), H),
                      v = linear(h, S, W(l + "attention.value.weight"), B("attention.value"), H);
            std::vector<float> qkv(S * 3 * H), ctx(S * H);
            for (std::size_t r = 0; r < S; ++r)
                for (std::size_t u = 0; u < H; ++u)
                    qkv[r * 3 * H + u] = float(q[r * H + u]), qkv[r * 3 * H + H + u] = float(k[r * H + u]),
                                    qkv[r * 3 * H + 2 * H + u] = float(v[r * H + u]);
            kernels::reference::attention({1, S, c.num_attention_heads, c.head_size()}, qkv.data(), 3 * H, nullptr,
                                          ctx.data(), H, t.span ? &*t.span : nullptr);
            const vec sub = linear(vec(ctx.begin(), ctx.end()), S, W(l + "attention.dense.weight"), B("attention.dense"), H);
            auto ln_att = [&](const vec& z) {
                return layer_norm(z, S, W(l + "attention.LayerNorm.weight"), B("attention.LayerNorm"), eps);
            };
            const auto& task_ln = t.full_layer_norm[module];
            auto ln_full = [&](const vec& z) {
                return task_ln ? layer_norm(z, S, task_ln->first, task_ln->second, eps)
                               : layer_norm(z, S, W(l + "full_layer_layer_norm.weight"), B("full_layer_layer_norm"), eps);
            };
            const auto& mh = t.attention_adapter[module];
            const vec a = mh ? ln_att(add(add(run_adapter(*mh, h), h), sub)) : ln_att(add(h, sub));
            const vec f = linear(map(linear(a, S, W(l + "ffn.weight"), B("ffn"), c.intermediate_size), gelu), S,
                                 W(l + "ffn_output.weight"), B("ffn_output"), H);
            const auto& out = t.output_adapter[module];
            if (!out) h = ln_full(add(f, a));
            else if (out->houlsby) h = ln_full(add(add(run_adapter(*out, f), f), a));
            else h = ln_full(add(add(run_adapter(*out, ln_full(add(f, a))), f), a));
        }
        if (t.ramps.empty()) continue;
        const vec cls(h.begin(), h.begin() + std::ptrdiff_t(H));
        const vec logits = linear(map(linear(cls, 1, t.ramps[i].first), [](double z) { return std::tanh(z); }), 1, t.ramps[i].second);
        ramp_labels.push_back(argmax(logits));
        const bool leave = (t.policy == task::entropy_below && entropy(logits) < t.threshold) ||
                           (t.policy == task::patience_one && i >= 1 && ramp_labels[i] == ramp_labels[i - 1]);
        if (leave && i + 1 < L) return {logits, i + 1};
    }
    const vec cls(h.begin(), h.begin() + std::ptrdiff_t(H));
    const vec pooled = map(linear(cls, 1, W("albert.pooler.weight"), W("albert.pooler.bias"), H), [](double z) { return std::tanh(z); });
    if (t.head.empty()) return {linear(pooled, 1, W("classifier.weight"), W("classifier.bias"), c.num_labels), L};
    vec z = t.head_on_pooler ? pooled : cls;
    for (std::size_t k = 0; k < t.head.size(); ++k) {
        z = linear(z, 1, t.head[k]);
        if (k + 1 < t.head.size()) z = map(z, [](double v) { return std::tanh(v); });
    }
    return {z, L};
}

}  // namespace ref

// three_tasks' tasks, rebuilt for ref::infer from the same seeds.
std::map<std::string, ref::task> three_reference_tasks(const model::albert_config& cfg) {
    const std::size_t H = cfg.hidden_size, modules = cfg.num_hidden_groups * cfg.inner_group_num, L = cfg.num_hidden_layers;
    std::map<std::string, ref::task> out;
    auto sized = [&](ref::task& t) {
        t.attention_adapter.resize(modules), t.output_adapter.resize(modules), t.full_layer_norm.resize(modules);
    };
    auto ramps = [&](ref::task& t, std::size_t C, unsigned seed) {
        for (std::size_t i = 0; i < L; ++i)
            t.ramps.emplace_back(random_raw(H, H, seed + 10 * unsigned(i)), random_raw(C, H, seed + 10 * unsigned(i) + 5, 1.5f));
    };
    {
        ref::task& t = out["sentiment"];
        sized(t);
        for (std::size_t i = 0; i < modules; ++i) {
            t.attention_adapter[i] = ref::adapter{true, random_raw(4, H, 100 + unsigned(i)), random_raw(H, 4, 107 + unsigned(i))};
            t.output_adapter[i] = ref::adapter{true, random_raw(4, H, 200 + unsigned(i)), random_raw(H, 4, 207 + unsigned(i))};
        }
        t.head = {random_raw(H, H, 300), random_raw(2, H, 301)};
        ramps(t, 2, 400);
        t.policy = ref::task::entropy_below, t.threshold = 0.45;
    }
    {
        ref::task& t = out["topic"];
        sized(t);
        for (std::size_t i = 0; i < modules; ++i)
            t.output_adapter[i] = ref::adapter{false, random_raw(6, H, 500 + unsigned(i)), random_raw(H, 6, 507 + unsigned(i))};
        t.span = kernels::attention_span{kernels::span_variant::distance, 2.0, {1.0, 3.0, -5.0, 40.0}, 0};
        t.head = {random_raw(3, H, 600)};
        t.head_on_pooler = true;
        ramps(t, 3, 700);
        t.policy = ref::task::patience_one;
    }
    {
        ref::task& t = out["plain"];
        sized(t);
        t.full_layer_norm[0] = std::make_pair(test_util::normal_values(H, 800, 0.1f, 1.f), test_util::normal_values(H, 801, 0.1f));
    }
    return out;
}

TEST_CASE("three tasks share one backbone; infer equals an independent scalar reference", "[multitask]") {
    const auto cfg = test_util::odd_config();
    const auto mt = three_tasks(cfg);
    const auto backbone_weights = model::albert_model::random_weights(cfg, 5);  // three_tasks' backbone
    const auto reference_tasks = three_reference_tasks(cfg);
    CHECK(mt.task_names() == std::vector<std::string>{"plain", "sentiment", "topic"});
    std::map<std::string, std::set<std::size_t>> exits_seen;
    auto check = [&](const model::inference_result& r, const ref::answer& want) {
        REQUIRE(r.logits.size() == want.logits.size());
        CHECK(r.exit_layer == want.exit_layer);
        double worst = 0;
        for (std::size_t k = 0; k < want.logits.size(); ++k) worst = std::max(worst, std::abs(r.logits[k] - want.logits[k]));
        CHECK(worst < 1e-4);
        CHECK(r.label == ref::argmax(want.logits));
        double z = 0;  // confidence: the softmax probability of the label
        for (double l : want.logits) z += std::exp(l - want.logits[r.label]);
        CHECK(r.confidence == Approx(1 / z).epsilon(1e-5));
        exits_seen[r.task].insert(r.exit_layer);
    };
    for (const auto& name : mt.task_names()) {
        CHECK(mt.task_bytes(name) > 0);
        CHECK(mt.task_bytes(name) < mt.backbone_bytes() / 4);
        ref::task every_layer = reference_tasks.at(name);
        every_layer.policy = ref::task::none;
        model::infer_options no_exit;
        no_exit.exit = exit::no_exit{};
        for (unsigned seed = 1; seed <= 12; ++seed) {
            const auto ids = sentence(cfg, seed, 3 + seed % 9);
            INFO("task " << name << ", sentence " << seed);
            check(mt.infer(name, ids), ref::infer(cfg, backbone_weights, reference_tasks.at(name), ids));  // its policy
            check(mt.infer(name, ids, no_exit), ref::infer(cfg, backbone_weights, every_layer, ids));  // its head
        }
    }
    // Both ways of answering ran: a ramp before the last layer (the tasks' policies) and the final head.
    CHECK(exits_seen["plain"] == std::set<std::size_t>{5});
    for (const char* name : {"sentiment", "topic"}) {
        CAPTURE(name);
        CHECK(*exits_seen[name].begin() < 5);
        CHECK(*exits_seen[name].rbegin() == 5);
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
