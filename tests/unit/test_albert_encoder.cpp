#include <catch2/catch.hpp>

#include "support/albert_test_util.hpp"

using namespace edgebert;

namespace {

// A model whose every layer writes its group's number: the full-layer LayerNorm of group g has gamma 0 and
// beta g + 1, so the layer's output is exactly g + 1 whatever came in (LayerNorm: (x - mean) / sd * 0 + beta).
io::memory_source group_stamped_weights(const model::albert_config& cfg) {
    auto tensors = model::albert_model::random_weights(cfg, 5).tensors();
    for (std::size_t g = 0; g < cfg.num_hidden_groups; ++g) {
        const std::string l = "albert.encoder.albert_layer_groups." + std::to_string(g) + ".albert_layers." +
                              std::to_string(cfg.inner_group_num - 1) + ".full_layer_layer_norm.";
        auto& gamma = tensors.at(l + "weight").values;
        auto& beta = tensors.at(l + "bias").values;
        std::fill(gamma.begin(), gamma.end(), 0.f);
        std::fill(beta.begin(), beta.end(), float(g + 1));
    }
    return io::memory_source(std::move(tensors));
}

}  // namespace

TEST_CASE("the encoder reports HF's hidden_states numbering and runs each layer in transformers' group", "[albert_encoder]") {
    // The expected groups are written out by hand from transformers' AlbertTransformer, group = int(i /
    // (num_hidden_layers / num_hidden_groups)) with float division; e.g. 6 layers in 4 groups: 1.5 layers per
    // group, i = 0..5 -> 0, 0.67, 1.33, 2, 2.67, 3.33 -> groups 0 0 1 2 2 3.
    struct shape_case {
        std::size_t layers, groups, inner;
        std::vector<std::size_t> expected;
    };
    const std::vector<shape_case> cases{{5, 3, 2, {0, 0, 1, 1, 2}}, {4, 2, 1, {0, 0, 1, 1}},
                                        {7, 3, 1, {0, 0, 0, 1, 1, 2, 2}}, {6, 4, 1, {0, 0, 1, 2, 2, 3}},
                                        {3, 3, 2, {0, 1, 2}},            {4, 1, 1, {0, 0, 0, 0}}};
    for (const auto& k : cases) {
        auto cfg = test_util::odd_config();
        cfg.num_hidden_layers = k.layers, cfg.num_hidden_groups = k.groups, cfg.inner_group_num = k.inner;
        INFO(k.layers << " layers, " << k.groups << " groups, " << k.inner << " inner");
        const auto m = model::albert_model::from_source(cfg, group_stamped_weights(cfg));
        const auto in = test_util::padded_batch(cfg, 2, 6);
        std::vector<std::size_t> seen, groups_seen;
        std::vector<float> hidden(in.tokens() * cfg.hidden_size);
        bool uniform = true;
        m.encoder().forward(in, hidden.data(), 1, [&](std::size_t i, const float* state) {
            seen.push_back(i);
            if (i == 0) return;  // the embedding projection
            groups_seen.push_back(std::size_t(state[0]) - 1);
            for (std::size_t t = 0; t < in.tokens() * cfg.hidden_size; ++t) uniform = uniform && state[t] == state[0];
        });
        std::vector<std::size_t> numbering(k.layers + 1);
        for (std::size_t i = 0; i <= k.layers; ++i) numbering[i] = i;
        CHECK(seen == numbering);
        CHECK(uniform);
        CHECK(groups_seen == k.expected);
    }
}

TEST_CASE("every block of a layer comes from the layer's group (scalar reference, hand-written groups)", "[albert_encoder]") {
    // Random weights in all groups: a block taken from another group (or another inner layer) moves the hidden
    // states far beyond the 1e-4 the fast path keeps to the reference.
    auto cfg = test_util::odd_config();
    cfg.num_hidden_layers = 6, cfg.num_hidden_groups = 4, cfg.inner_group_num = 2;
    const auto weights = model::albert_model::random_weights(cfg, 9);
    const auto m = model::albert_model::from_source(cfg, weights);
    const auto in = test_util::padded_batch(cfg, 2, 7);
    model::run_options opt;
    opt.output_hidden_states = true;
    const auto out = m.forward(in, opt);
    std::vector<float> ref_logits;
    const auto ref_states = test_util::reference_forward(cfg, weights, in, ref_logits, {0, 0, 1, 2, 2, 3});
    CHECK(test_util::max_abs_diff(out.hidden_states, ref_states) < 1e-4f);
}
