// SPDX-License-Identifier: Apache-2.0
// The facade and compile-time composition: an app's own exit policy and observer types plugged into the run.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/pipeline.hpp>

#include "support/albert_test_util.hpp"

using namespace edgebert;

namespace {
const std::string bundled = std::string(EDGEBERT_SOURCE_DIR) + "/models/albert-tiny-sst2-lang";

std::vector<std::string> dev_texts(const std::string& task, std::size_t stride) {
    std::ifstream in(bundled + "/reference/" + task + "_dev.tsv");
    REQUIRE(in);
    std::vector<std::string> out;
    std::size_t n = 0;
    for (std::string line; std::getline(in, line); ++n)
        if (n % stride == 0) out.push_back(line.substr(line.find('\t') + 1));
    return out;
}

/// The built-in entropy rule, re-stated by an app: leave after layer i when H_i < T.
struct my_entropy_rule {
    double threshold = 0;
    bool exits_at(std::size_t layer, const double* entropies, std::size_t /*layers*/) const {
        return entropies[layer - 1] < threshold;
    }
};
/// A policy that reads the ramps' logits: leave once the ramp's top label has probability > p.
struct my_confidence_rule {
    double p = 0.9;
    bool exits_at(std::size_t layer, const exit::ramp_history& h) const { return h.max_probability_at(layer) > p; }
};
struct not_a_policy {
    int exits_at = 0;
};

/// Counts what an app would: events per kind and multiply-adds.
struct counting_observer {
    std::size_t layers_begun = 0, layers_ended = 0, ramps = 0, exits = 0, embeddings = 0;
    double macs = 0;
    std::vector<trace::product> products;
    void on(const trace::embeddings_event&) { ++embeddings; }
    void on(const trace::layer_begin_event&) { ++layers_begun; }
    void on(const trace::layer_end_event&) { ++layers_ended; }
    void on(const trace::matmul_event& e) {
        macs += double(e.work.rows) * double(e.work.in_features) * double(e.work.out_features);
        products.push_back(e.work.what);
    }
    void on(const trace::attention_event& e) { macs += 2.0 * double(e.work.keys_computed) * double(e.work.head_size); }
    void on(const trace::off_ramp_event&) { ++ramps; }
    void on(const trace::exit_event&) { ++exits; }
};
}  // namespace

static_assert(exit::is_exit_policy_v<my_entropy_rule>);
static_assert(exit::is_exit_policy_v<my_confidence_rule>);
static_assert(exit::is_exit_policy_v<exit::exit_policy>);
static_assert(!exit::is_exit_policy_v<not_a_policy>);
static_assert(!exit::is_exit_policy_v<int>);
static_assert(trace::observes_v<counting_observer, trace::matmul_event>);
static_assert(!trace::observes_v<trace::null_observer, trace::matmul_event>);

TEST_CASE("the facade classifies text with each task's own policy, as the model does on the tokenizer's ids", "[pipeline]") {
    const pipeline nlp = pipeline::load(bundled);
    CHECK(nlp.task_names() == std::vector<std::string>{"lang", "sst2"});
    const std::string text = "a gorgeous , witty and deeply moving film .";
    const answer r = nlp.classify("sst2", text);
    const token_ids ids = nlp.tokenizer().encode(text);
    CHECK(r.ids == ids);
    const auto direct = nlp.model().infer("sst2", ids);
    CHECK(r.logits == direct.logits);
    CHECK(r.exit_layer == direct.exit_layer);
    CHECK(r.layers == 6);
    CHECK(r.label_name == direct.label_name);
    CHECK(r.entropies.size() == r.exit_layer);
    CHECK_FALSE(r.energy);
    CHECK_THROWS_AS(r.energy_uj(), config_error);  // not priced
    CHECK_THROWS_WITH(nlp.classify("nope", text), Catch::Contains("no task 'nope'") && Catch::Contains("sst2"));
}

TEST_CASE("an app's policy type re-stating the entropy rule gives bit-identical answers to the built-in one", "[pipeline]") {
    const pipeline builtin = pipeline::load(bundled);
    const auto mine = basic_pipeline<my_entropy_rule>::load(bundled, {}, my_entropy_rule{0.6});  // sst2's task.json: entropy:0.6
    std::size_t early = 0;
    for (const std::string& t : dev_texts("sst2", 7)) {
        const answer a = builtin.classify("sst2", t);
        const auto b = mine.classify("sst2", t);
        REQUIRE(a.logits == b.logits);
        REQUIRE(a.exit_layer == b.exit_layer);
        REQUIRE(a.entropies == b.entropies);
        early += a.exit_layer < a.layers;
    }
    CHECK(early > 10);  // the rule did let sentences out early, so exits were compared, not only full runs
}

TEST_CASE("a policy reading the ramps' logits plugs in too", "[pipeline]") {
    const auto nlp = basic_pipeline<my_confidence_rule>::load(bundled, {}, my_confidence_rule{0.8});
    pipeline_options o;
    o.exit = exit::max_probability{0.8};
    const pipeline builtin = pipeline::load(bundled, o);
    for (const std::string& t : dev_texts("sst2", 29)) {
        const auto a = nlp.classify("sst2", t);
        const auto b = builtin.classify("sst2", t);
        REQUIRE(a.exit_layer == b.exit_layer);
        REQUIRE(a.logits == b.logits);
    }
}

TEST_CASE("an observer sees every layer, product and exit; its multiply-adds follow the shapes", "[pipeline]") {
    // A random model without task parts: every product is dense and its shape is known from the config.
    const model::albert_config cfg = test_util::odd_config();  // 5 layers in 3 groups of 2 inner layers
    const model::albert_model m = model::albert_model::random(cfg, 3);
    const std::size_t n = 9, H = cfg.hidden_size, I = cfg.intermediate_size, E = cfg.embedding_size, L = cfg.num_hidden_layers;
    const model::token_batch in = test_util::padded_batch(cfg, 1, n);
    counting_observer seen;
    model::run_options o;
    const auto out = m.forward(in, o, exit::no_exit{}, seen);
    CHECK(seen.embeddings == 1);
    CHECK(seen.layers_begun == L * cfg.inner_group_num);
    CHECK(seen.layers_ended == seen.layers_begun);
    CHECK(seen.ramps == 0);  // no off-ramps in this model
    CHECK(seen.exits == 1);  // the final classifier answered
    // per AlbertLayer: Q, K, V, the attention output, the FFN pair, and Q·Kᵀ plus P·V over every (query, key)
    const double per_layer = double(n) * (3.0 * H * H + H * H + 2.0 * H * I) + 2.0 * double(n * n) * double(H);
    const double expected = double(n) * E * H + double(L * cfg.inner_group_num) * per_layer + 1.0 * H * H + 1.0 * H * cfg.num_labels;
    CHECK(seen.macs == Approx(expected).epsilon(1e-12));
    CHECK(seen.products.front() == trace::product::embedding_projection);
    CHECK(seen.products.back() == trace::product::classifier);
    // the observed run computes what the plain one does
    CHECK(out.logits == m.forward(in).logits);
    CHECK(2 * seen.macs == Approx(m.flops(1, n)).epsilon(1e-12));

    // logits_only: the last AlbertLayer reports its n - 1 other rows skipping the attention output and the FFN
    counting_observer cut;
    o.logits_only = true;
    const auto first = m.forward(in, o, exit::no_exit{}, cut);
    CHECK(cut.macs == Approx(expected - double(n - 1) * (1.0 * H * H + 2.0 * H * I)).epsilon(1e-12));
    CHECK(2 * cut.macs == Approx(m.flops(1, n, true)).epsilon(1e-12));
    CHECK(cut.products == seen.products);
    CHECK(first.logits == out.logits);
}

TEST_CASE("answers carry an app's observer per run", "[pipeline]") {
    const auto nlp = basic_pipeline<exit::exit_policy, counting_observer>::load(bundled);
    const auto r = nlp.classify("sst2", "the plot is a tired mess and the acting is even worse .");
    CHECK(r.observed.layers_begun == r.exit_layer);
    CHECK(r.observed.ramps == r.exit_layer);
    CHECK(r.observed.exits == 1);
    const auto again = nlp.classify("sst2", "fine .");
    CHECK(again.observed.layers_begun == again.exit_layer);  // a fresh observer, not the first one's
}

TEST_CASE("sentence pairs get token types 0 then 1", "[pipeline]") {
    const pipeline nlp = pipeline::load(bundled);
    const auto r = nlp.classify("sst2", "a fine film .", "the acting is bad .");
    const auto e = nlp.tokenizer().encode_pair("a fine film .", "the acting is bad .");
    const auto by_ids = nlp.classify_ids("sst2", e.ids, e.token_type_ids);
    CHECK(r.logits == by_ids.logits);
    const auto all_zero = nlp.classify_ids("sst2", e.ids);
    CHECK(r.logits != all_zero.logits);  // the types reached the embeddings
}

TEST_CASE("priced answers: energy, latency and the V/f point; the deadline follows each task's label count", "[pipeline]") {
    pipeline_options o;
    o.accelerator = hw::hw_params{};
    const pipeline nlp = pipeline::load(bundled, o);
    const answer r = nlp.classify("sst2", "a gorgeous , witty and deeply moving film .");
    REQUIRE(r.energy);
    CHECK(r.energy_uj() > 0);
    CHECK(r.energy->edgebert.exit_layer == r.exit_layer);
    CHECK(r.exit_layer < r.layers);                          // this sentence leaves early, and yet
    CHECK(r.energy->all_layers.exit_layer == r.layers);      // the all-layers baseline prices every layer
    CHECK(r.latency_ms() <= nlp.pricer("sst2").options().target_ms + 1e-9);
    CHECK(r.voltage_v() > 0);
    CHECK(nlp.pricer("sst2").options().target_ms == Approx(nlp.deadline_ms("sst2")));
    // the default deadline is the nominal all-layer latency at the longest input, with the task's own labels
    const auto& c = nlp.model().config();
    CHECK(nlp.deadline_ms("lang") ==
          Approx(hw::run_pricer::all_layers_latency_ms(hw::hw_params{}, hw::shape_of(c, c.max_position_embeddings, 4))));
    o.target_ms = 0.5;
    CHECK(nlp.with_options(o).pricer("lang").options().target_ms == 0.5);
}

TEST_CASE("classify_all on threads gives the sequential answers in input order", "[pipeline]") {
    const pipeline nlp = pipeline::load(bundled);
    const auto texts = dev_texts("lang", 40);
    const auto all = nlp.classify_all("lang", texts, 2);
    REQUIRE(all.size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const answer one = nlp.classify("lang", texts[i]);
        CHECK(all[i].logits == one.logits);
        CHECK(all[i].exit_layer == one.exit_layer);
    }
    CHECK_THROWS_AS(nlp.classify_all("nope", texts, 2), config_error);
}
