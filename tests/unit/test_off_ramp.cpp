#include <cmath>

#include <catch2/catch.hpp>

#include "support/albert_test_util.hpp"

using namespace edgebert;

namespace {
// EdgeBERT highway tensors for `count` ramps, seeded.
void add_ramps(std::map<std::string, io::memory_source::tensor>& t, std::size_t count, std::size_t H, std::size_t C) {
    unsigned x = 7;
    auto values = [&](std::size_t n) {
        std::vector<float> v(n);
        for (auto& f : v) f = float(int((x = x * 1103515245u + 12345u) >> 16) % 2001 - 1000) * 2e-4f;
        return v;
    };
    for (std::size_t i = 0; i < count; ++i) {
        const std::string r = "albert.encoder.highway." + std::to_string(i) + ".";
        t[r + "pooler.weight"] = {{H, H}, values(H * H)};
        t[r + "pooler.bias"] = {{H}, values(H)};
        t[r + "classifier.weight"] = {{C, H}, values(C * H)};
        t[r + "classifier.bias"] = {{C}, values(C)};
    }
}
}  // namespace

TEST_CASE("an off-ramp computes W_c tanh(W_p h + b_p) + b_c", "[off_ramp]") {
    const float pw[4] = {1, 0, 0, 2}, pb[2] = {0, -1}, cw[2] = {1, -1}, cb[1] = {0.5f};
    const nn::off_ramp ramp(nn::linear(pw, 2, 2, pb), nn::linear(cw, 1, 2, cb));
    const float h[2] = {0.3f, 0.7f};
    float logit = 0;
    ramp.forward(h, 1, 2, &logit);
    CHECK(logit == Approx(std::tanh(0.3f) - std::tanh(2 * 0.7f - 1) + 0.5f));
    REQUIRE_THROWS_AS(nn::off_ramp(nn::linear(pw, 2, 2, pb), nn::linear(cw, 1, 1, cb)), shape_error);
}

TEST_CASE("EdgeBERT highway tensors load; each ramp reads its layer's [CLS] state", "[off_ramp]") {
    const auto cfg = test_util::odd_config();  // 5 layers, 3 groups
    auto t = model::albert_model::random_weights(cfg, 3).tensors();
    add_ramps(t, cfg.num_hidden_layers, cfg.hidden_size, cfg.num_labels);
    const auto m = model::albert_model::from_source(cfg, io::memory_source(t));
    REQUIRE(m.off_ramps().size() == cfg.num_hidden_layers);
    const auto in = test_util::padded_batch(cfg, 3, 9);
    model::run_options opt;
    opt.off_ramps = opt.output_hidden_states = true;
    const auto out = m.forward(in, opt);
    const std::size_t B = in.batch, C = cfg.num_labels, H = cfg.hidden_size, M = in.tokens();
    REQUIRE(out.off_ramp_logits.size() == cfg.num_hidden_layers * B * C);
    for (std::size_t l = 1; l <= cfg.num_hidden_layers; ++l) {
        std::vector<float> expect(B * C);
        m.off_ramps()[l - 1].forward(out.hidden_states.data() + l * M * H, B, in.seq * H, expect.data());
        for (std::size_t i = 0; i < B * C; ++i) CHECK(out.off_ramp_logits[(l - 1) * B * C + i] == expect[i]);
        for (std::size_t b = 0; b < B; ++b)
            CHECK(out.off_ramp_entropies[(l - 1) * B + b] ==
                  Approx(kernels::reference::softmax_entropy(expect.data() + b * C, C)));
    }
    // Off-ramps change nothing else.
    const auto plain = model::albert_model::random(cfg, 3).forward(in, {});
    CHECK(plain.logits == m.forward(in, {}).logits);
    CHECK(m.forward(in, {}).off_ramp_logits.empty());
}

TEST_CASE("one ramp per group (EdgeBERT one_class); wrong counts and missing parts are named", "[off_ramp]") {
    const auto cfg = test_util::odd_config();
    auto t = model::albert_model::random_weights(cfg, 4).tensors();
    add_ramps(t, cfg.num_hidden_groups, cfg.hidden_size, cfg.num_labels);
    const auto m = model::albert_model::from_source(cfg, io::memory_source(t));
    CHECK(m.off_ramps().size() == cfg.num_hidden_groups);
    model::run_options opt;
    opt.off_ramps = true;
    CHECK(m.forward(test_util::padded_batch(cfg, 2, 5), opt).off_ramp_entropies.size() == cfg.num_hidden_layers * 2);

    auto two = model::albert_model::random_weights(cfg, 4).tensors();
    add_ramps(two, 2, cfg.hidden_size, cfg.num_labels);
    REQUIRE_THROWS_WITH(model::albert_model::from_source(cfg, io::memory_source(two)),
                        Catch::Contains("2 off-ramps") && Catch::Contains("expected 5"));
    t.erase("albert.encoder.highway.1.pooler.bias");
    REQUIRE_THROWS_AS(model::albert_model::from_source(cfg, io::memory_source(t)), missing_tensor_error);
    REQUIRE_THROWS_WITH(model::albert_model::from_source(cfg, io::memory_source(t)),
                        Catch::Contains("albert.encoder.highway.1.pooler.bias"));
}

TEST_CASE("early exit: threshold 0 changes nothing; an exit at layer k returns ramp k's logits of a full run", "[off_ramp]") {
    const auto cfg = test_util::odd_config();
    auto t = model::albert_model::random_weights(cfg, 5).tensors();
    add_ramps(t, cfg.num_hidden_layers, cfg.hidden_size, cfg.num_labels);
    const auto m = model::albert_model::from_source(cfg, io::memory_source(t));
    const auto in = test_util::padded_batch(cfg, 4, 8, 3);
    const std::size_t B = in.batch, C = cfg.num_labels, L = cfg.num_hidden_layers;

    model::run_options full;
    full.off_ramps = true;
    const auto ref = m.forward(in, full);

    model::run_options zero;
    zero.exit = exit::entropy_threshold{{0.0}};
    const auto z = m.forward(in, zero);
    CHECK(z.logits == model::albert_model::random(cfg, 5).forward(in).logits);  // bit for bit, no ramps
    CHECK(z.exit_layers == std::vector<std::size_t>(B, L));
    CHECK(z.layers_run == L);

    // A threshold between the sentences' entropies: some leave early, each at the layer the policy names on
    // the full run's entropies, with exactly that ramp's logits.
    std::vector<double> all(ref.off_ramp_entropies);
    std::sort(all.begin(), all.end());
    exit::entropy_threshold policy{{all[all.size() / 2]}};
    model::run_options early;
    early.exit = policy;
    const auto e = m.forward(in, early);
    std::size_t left_early = 0;
    for (std::size_t b = 0; b < B; ++b) {
        std::vector<double> trace(L);
        for (std::size_t l = 0; l < L; ++l) trace[l] = ref.off_ramp_entropies[l * B + b];
        const std::size_t k = exit::first_exit_layer(policy, trace.data(), L);
        INFO("sentence " << b << " exits at " << k);
        REQUIRE(e.exit_layers[b] == k);
        const float* expect = k < L ? ref.off_ramp_logits.data() + (k - 1) * B * C + b * C : ref.logits.data() + b * C;
        for (std::size_t c = 0; c < C; ++c) CHECK(e.logits[b * C + c] == expect[c]);
        left_early += k < L;
    }
    CHECK(left_early > 0);
    // logits_only cuts only the last layer: the same exits, the same logits, and the last ramp reads its [CLS]
    model::run_options early_cut = early, full_cut = full;
    early_cut.logits_only = full_cut.logits_only = true;
    const auto ec = m.forward(in, early_cut), fc = m.forward(in, full_cut);
    CHECK(ec.exit_layers == e.exit_layers);
    CHECK(ec.logits == e.logits);
    CHECK(fc.off_ramp_logits == ref.off_ramp_logits);
    CHECK(fc.off_ramp_entropies == ref.off_ramp_entropies);

    // Everyone leaves after layer 2: the batch stops there.
    model::run_options two;
    two.exit = exit::fixed_depth{2};
    const auto f = m.forward(in, two);
    CHECK(f.layers_run == 2);
    CHECK(f.exit_layers == std::vector<std::size_t>(B, 2));
    for (std::size_t i = 0; i < B * C; ++i) CHECK(f.logits[i] == ref.off_ramp_logits[B * C + i]);

    REQUIRE_THROWS_AS(model::albert_model::random(cfg, 5).forward(in, two), config_error);
}
