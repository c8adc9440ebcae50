#include <catch2/catch.hpp>

#include "support/temp_path.hpp"

#include "support/albert_test_util.hpp"

using namespace edgebert;
using namespace test_util;

TEST_CASE("fast forward matches the scalar reference on odd shapes, groups and inner layers", "[albert_model]") {
    for (const char* act : {"gelu", "gelu_new", "relu", "silu"}) {
        const auto cfg = odd_config(act);
        const auto weights = model::albert_model::random_weights(cfg, 11);
        const auto m = model::albert_model::from_source(cfg, weights);
        const auto in = padded_batch(cfg, 3, 13, 5);
        model::run_options opt;
        opt.output_hidden_states = true;
        opt.threads = 2;
        const auto out = m.forward(in, opt);
        std::vector<float> ref_logits;
        const auto ref_states = reference_forward(cfg, weights, in, ref_logits);
        INFO("activation " << act);
        REQUIRE(out.hidden_states.size() == (cfg.num_hidden_layers + 1) * in.tokens() * cfg.hidden_size);
        CHECK(max_abs_diff(out.hidden_states, ref_states) < 1e-4f);
        CHECK(max_abs_diff(out.logits, ref_logits) < 1e-4f);
        // the last hidden state is the last entry of hidden_states
        CHECK(std::equal(out.last_hidden_state.begin(), out.last_hidden_state.end(),
                         out.hidden_states.end() - std::ptrdiff_t(out.last_hidden_state.size())));
    }
}

TEST_CASE("results do not depend on the thread count", "[albert_model]") {
    const auto cfg = odd_config();
    const auto m = model::albert_model::random(cfg, 3);
    const auto in = padded_batch(cfg, 4, 17, 9);
    model::run_options one, two;
    one.threads = 1, two.threads = 2;
    one.output_hidden_states = two.output_hidden_states = true;
    const auto a = m.forward(in, one), b = m.forward(in, two);
    CHECK(a.hidden_states == b.hidden_states);
    CHECK(a.logits == b.logits);
}

TEST_CASE("a sequence gives the same result alone and inside a padded batch", "[albert_model]") {
    const auto cfg = odd_config();
    const auto m = model::albert_model::random(cfg, 4);
    const auto batch = padded_batch(cfg, 3, 11, 2);
    const auto full = m.forward(batch);
    for (std::size_t b = 0; b < batch.batch; ++b) {
        std::size_t len = 0;
        while (len < batch.seq && batch.attention_mask[b * batch.seq + len]) ++len;
        model::token_batch one;
        one.batch = 1, one.seq = len;
        one.input_ids.assign(batch.input_ids.begin() + std::ptrdiff_t(b * batch.seq), batch.input_ids.begin() + std::ptrdiff_t(b * batch.seq + len));
        one.token_type_ids.assign(batch.token_type_ids.begin() + std::ptrdiff_t(b * batch.seq),
                                  batch.token_type_ids.begin() + std::ptrdiff_t(b * batch.seq + len));
        const auto alone = m.forward(one);
        for (std::size_t c = 0; c < cfg.num_labels; ++c)
            CHECK(std::abs(alone.logits[c] - full.logits[b * cfg.num_labels + c]) < 1e-5f);
    }
}

TEST_CASE("a checkpoint folder loads to the same model; missing, unknown and mis-shaped tensors are named", "[albert_model]") {
    const auto cfg = odd_config();
    const auto weights = model::albert_model::random_weights(cfg, 21);
    const auto in = padded_batch(cfg, 2, 7, 3);
    const auto expected = model::albert_model::from_source(cfg, weights).forward(in);
    const std::string dir = test_util::temp_path("ckpt");

    write_checkpoint(dir, cfg, weights.tensors());
    const auto loaded = model::albert_model::load(dir);
    CHECK(loaded.forward(in).logits == expected.logits);

    const std::string q = "albert.encoder.albert_layer_groups.1.albert_layers.1.attention.query.weight";
    auto t = weights.tensors();
    t.erase(q);
    write_checkpoint(dir, cfg, t);
    REQUIRE_THROWS_AS(model::albert_model::load(dir), missing_tensor_error);
    REQUIRE_THROWS_WITH(model::albert_model::load(dir), Catch::Contains(q));

    t = weights.tensors();
    t["albert.encoder.albert_layer_groups.0.albert_layers.0.attention.gate.weight"] = {{2}, {1.f, 2.f}};
    write_checkpoint(dir, cfg, t);
    REQUIRE_THROWS_AS(model::albert_model::load(dir), unexpected_tensor_error);
    REQUIRE_THROWS_WITH(model::albert_model::load(dir), Catch::Contains("attention.gate.weight"));

    t = weights.tensors();
    t["albert.pooler.bias"] = {{35}, std::vector<float>(35, 0.f)};
    write_checkpoint(dir, cfg, t);
    REQUIRE_THROWS_AS(model::albert_model::load(dir), shape_error);
    REQUIRE_THROWS_WITH(model::albert_model::load(dir), Catch::Contains("albert.pooler.bias") && Catch::Contains("[35]"));

    // HF buffers and other ALBERT heads are skipped (and listed), not errors.
    t = weights.tensors();
    t["albert.embeddings.position_ids"] = {{1, 24}, std::vector<float>(24, 0.f)};
    t["predictions.bias"] = {{53}, std::vector<float>(53, 0.f)};
    write_checkpoint(dir, cfg, t);
    const auto with_extras = model::albert_model::load(dir);
    CHECK(with_extras.skipped_tensors() == std::vector<std::string>{"albert.embeddings.position_ids", "predictions.bias"});

    // A bare AlbertModel (no classifier, no "albert." prefix) loads; logits are then empty.
    std::map<std::string, io::memory_source::tensor> bare;
    for (const auto& [name, v] : weights.tensors())
        if (name.rfind("classifier.", 0) != 0) bare[name.substr(name.rfind("albert.", 0) == 0 ? 7 : 0)] = v;
    write_checkpoint(dir, cfg, bare);
    const auto bare_model = model::albert_model::load(dir);
    CHECK_FALSE(bare_model.has_classifier());
    const auto bare_out = bare_model.forward(in);
    CHECK(bare_out.logits.empty());
    CHECK(bare_out.pooler_output == expected.pooler_output);
}

TEST_CASE("bad inputs are input_errors naming the culprit", "[albert_model]") {
    const auto cfg = odd_config();
    const auto m = model::albert_model::random(cfg, 1);
    REQUIRE_THROWS_WITH(m.forward(model::token_batch::from_rows({{1, 53}})),
                        Catch::Contains("input_ids[0][1] = 53") && Catch::Contains("vocab_size 53"));
    REQUIRE_THROWS_WITH(m.forward(model::token_batch::from_rows({std::vector<std::int64_t>(25, 1)})),
                        Catch::Contains("max_position_embeddings 24"));
    REQUIRE_THROWS_AS(m.forward(model::token_batch{}), input_error);
}

TEST_CASE("FLOP count follows the peer's formula", "[albert_model]") {
    model::albert_config base;
    base.vocab_size = 100,  // the vocabulary does not change the FLOPs
    base.embedding_size = 128, base.hidden_size = 768, base.num_attention_heads = 12;
    base.intermediate_size = 3072;
    // 12 layers at S=128: 8SH² + 4S²H + 4SHI per layer, plus the projection and the heads.
    const double S = 128, H = 768, I = 3072, E = 128;
    const double expected = 2 * S * E * H + 12 * (8 * S * H * H + 4 * S * S * H + 4 * S * H * I) + 2 * H * H + 2 * H * 2;
    CHECK(model::albert_model::random(base, 1).flops(1, 128) == Approx(expected));
}
