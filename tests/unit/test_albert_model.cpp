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
        const auto ref_states = reference_forward(cfg, weights, in, ref_logits, {0, 0, 1, 1, 2});  // 5 layers, 3 groups
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

TEST_CASE("FLOP count: two per multiply-add of every matrix product, counted by hand", "[albert_model]") {
    // The count covers the matrix products (the peer's convention): the embedding projection, per layer Q, K, V
    // and the attention output (4 S H H), the scores and the context (2 heads S S head_size), the FFN (2 S H I),
    // then the pooler (H H) and the classifier (H C) on [CLS]. LayerNorm, softmax, biases and activations are
    // not counted.
    model::albert_config small;
    small.vocab_size = 30, small.embedding_size = 4, small.hidden_size = 8, small.num_attention_heads = 2;
    small.intermediate_size = 12, small.num_hidden_layers = 3, small.num_labels = 2, small.id2label = {"a", "b"};
    // S = 5: projection 5*4*8 = 160; per layer 4*5*8*8 + 2*2*5*5*4 + 2*5*8*12 = 1280 + 400 + 960 = 2640,
    // three layers 7920; pooler 8*8 = 64; classifier 8*2 = 16: 8160 multiply-adds.
    CHECK(model::albert_model::random(small, 1).flops(1, 5) == 2.0 * 8160);
    CHECK(model::albert_model::random(small, 1).flops(3, 5) == 3 * 2.0 * 8160);

    model::albert_config base;  // ALBERT-base at 128 tokens, two labels
    base.vocab_size = 100,  // the vocabulary does not change the FLOPs
    base.embedding_size = 128, base.hidden_size = 768, base.num_attention_heads = 12;
    base.intermediate_size = 3072;
    // 128*128*768 + 12 * (4*128*768*768 + 2*12*128*128*64 + 2*128*768*3072) + 768*768 + 768*2
    //   = 12,582,912 + 12 * 931,135,488 + 589,824 + 1,536 = 11,186,800,128 multiply-adds
    CHECK(model::albert_model::random(base, 1).flops(1, 128) == 22'373'600'256.0);
}

TEST_CASE("FLOP count equals the multiply-adds the scalar reference performs", "[albert_model]") {
    auto cfg = odd_config();
    cfg.num_hidden_layers = 4, cfg.num_hidden_groups = 2, cfg.inner_group_num = 1;
    const auto weights = model::albert_model::random_weights(cfg, 2);
    const auto in = padded_batch(cfg, 3, 11, 4);
    std::vector<float> logits;
    double macs = 0;
    reference_forward(cfg, weights, in, logits, {0, 0, 1, 1}, &macs);
    CHECK(model::albert_model::from_source(cfg, weights).flops(in.batch, in.seq) == 2 * macs);
}

TEST_CASE("FLOP count includes every inner layer of a group", "[albert_model]") {
    // With inner_group_num = 2 every layer runs two AlbertLayers (flops() once counted one: found by this test).
    const auto cfg = odd_config();  // 5 layers in 3 groups, 2 inner layers
    const auto weights = model::albert_model::random_weights(cfg, 2);
    const auto in = padded_batch(cfg, 2, 9, 4);
    std::vector<float> logits;
    double macs = 0;
    reference_forward(cfg, weights, in, logits, {0, 0, 1, 1, 2}, &macs);
    CHECK(model::albert_model::from_source(cfg, weights).flops(in.batch, in.seq) == 2 * macs);
}

TEST_CASE("logits_only: the same logits and pooler output bit for bit; the last layer's other rows are NaN", "[albert_model]") {
    const auto cfg = odd_config();  // 5 layers in 3 groups of 2 inner layers: the last inner layer is the one cut
    const auto weights = model::albert_model::random_weights(cfg, 31);
    const auto in = padded_batch(cfg, 3, 13, 5);
    const std::size_t H = cfg.hidden_size;
    for (const auto storage : {model::weight_storage::fp32, model::weight_storage::int8}) {
        model::load_options lo;
        lo.weights = storage;
        const auto m = model::albert_model::from_source(cfg, weights, lo);
        for (const int threads : {1, 2}) {
            INFO("storage " << int(storage) << ", threads " << threads);
            model::run_options full, cut;
            full.threads = cut.threads = threads;
            cut.logits_only = true;
            const auto a = m.forward(in, full), b = m.forward(in, cut);
            REQUIRE(!a.logits.empty());
            CHECK(b.logits == a.logits);
            CHECK(b.pooler_output == a.pooler_output);
            std::size_t first_rows_equal = 0, nan_rows = 0;
            for (std::size_t r = 0; r < in.tokens(); ++r) {
                const auto row_a = a.last_hidden_state.begin() + std::ptrdiff_t(r * H);
                const auto row_b = b.last_hidden_state.begin() + std::ptrdiff_t(r * H);
                if (r % in.seq == 0) first_rows_equal += std::equal(row_b, row_b + std::ptrdiff_t(H), row_a);
                else nan_rows += std::all_of(row_b, row_b + std::ptrdiff_t(H), [](float v) { return std::isnan(v); });
            }
            CHECK(first_rows_equal == in.batch);
            CHECK(nan_rows == in.tokens() - in.batch);
        }
    }
    model::run_options both;
    both.logits_only = both.output_hidden_states = true;
    REQUIRE_THROWS_AS(model::albert_model::from_source(cfg, weights).forward(in, both), config_error);
    REQUIRE_THROWS_WITH(model::albert_model::from_source(cfg, weights).forward(in, both), Catch::Contains("output_hidden_states"));
}

TEST_CASE("FLOP count with logits_only: the last layer's other rows skip the output projection and the FFN", "[albert_model]") {
    model::albert_config small;  // the hand-counted model above: S = 5, H = 8, I = 12
    small.vocab_size = 30, small.embedding_size = 4, small.hidden_size = 8, small.num_attention_heads = 2;
    small.intermediate_size = 12, small.num_hidden_layers = 3, small.num_labels = 2, small.id2label = {"a", "b"};
    // 4 rows skip the attention output (8*8) and the FFN pair (2*8*12): 4 * 256 = 1024 of 8160 multiply-adds
    CHECK(model::albert_model::random(small, 1).flops(1, 5, true) == 2.0 * 7136);
    CHECK(model::albert_model::random(small, 1).flops(2, 5, true) == 2 * 2.0 * 7136);
}
