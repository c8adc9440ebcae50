#include <catch2/catch.hpp>

#include "support/albert_test_util.hpp"

using namespace edgebert;

TEST_CASE("the encoder reports HF's hidden_states numbering and uses each layer's group", "[albert_encoder]") {
    auto cfg = test_util::odd_config();
    cfg.num_hidden_layers = 4, cfg.num_hidden_groups = 2, cfg.inner_group_num = 1;
    const auto weights = model::albert_model::random_weights(cfg, 5);
    const auto m = model::albert_model::from_source(cfg, weights);
    const auto in = test_util::padded_batch(cfg, 2, 6);
    std::vector<std::size_t> seen;
    std::vector<float> hidden(in.tokens() * cfg.hidden_size);
    m.encoder().forward(in, hidden.data(), 1, [&](std::size_t i, const float*) { seen.push_back(i); });
    CHECK(seen == std::vector<std::size_t>{0, 1, 2, 3, 4});

    // Layers 0-1 use group 0 and layers 2-3 group 1: swapping the groups' weights changes the result.
    auto swapped = weights.tensors();
    for (const auto& [name, t] : weights.tensors()) {
        const std::string g0 = "albert_layer_groups.0.", g1 = "albert_layer_groups.1.";
        if (auto p = name.find(g0); p != std::string::npos) swapped[std::string(name).replace(p, g0.size(), g1)] = t;
        if (auto p = name.find(g1); p != std::string::npos) swapped[std::string(name).replace(p, g1.size(), g0)] = t;
    }
    const auto m2 = model::albert_model::from_source(cfg, io::memory_source(swapped));
    std::vector<float> hidden2(hidden.size());
    m2.encoder().forward(in, hidden2.data(), 1, [](std::size_t, const float*) {});
    CHECK(test_util::max_abs_diff(hidden, hidden2) > 1e-3f);
}
