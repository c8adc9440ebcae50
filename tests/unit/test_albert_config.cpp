#include <fstream>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/core/albert_config.hpp>

using edgebert::config_error;
using edgebert::model::albert_config;
using nlohmann::json;

static json base_config() {
    return json::parse(R"({"vocab_size": 30000, "embedding_size": 128, "hidden_size": 768, "num_hidden_layers": 12,
        "num_hidden_groups": 1, "inner_group_num": 1, "num_attention_heads": 12, "intermediate_size": 3072,
        "hidden_act": "gelu_new", "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "id2label": {"0": "negative", "1": "positive"}, "label2id": {"negative": 0, "positive": 1},
        "classifier_dropout_prob": 0.1, "model_type": "albert"})");
}

TEST_CASE("albert-base-v2 config.json parses every field that changes the computation", "[config]") {
    const auto c = albert_config::from_json(base_config());
    CHECK(c.vocab_size == 30000);
    CHECK(c.embedding_size == 128);
    CHECK(c.hidden_size == 768);
    CHECK(c.num_hidden_layers == 12);
    CHECK(c.num_attention_heads == 12);
    CHECK(c.head_size() == 64);
    CHECK(c.intermediate_size == 3072);
    CHECK(c.activation() == edgebert::kernels::activation::gelu_tanh);
    CHECK(c.layer_norm_eps == Approx(1e-12f));
    CHECK(c.num_labels == 2);
    CHECK(c.id2label[1] == "positive");
}

TEST_CASE("missing keys take transformers' AlbertConfig defaults", "[config]") {
    const auto c = albert_config::from_json(json::object());
    CHECK(c.hidden_size == 4096);
    CHECK(c.num_attention_heads == 64);
    CHECK(c.intermediate_size == 16384);
    CHECK(c.hidden_act == "gelu_new");
    CHECK(c.num_labels == 2);
}

TEST_CASE("num_labels without id2label makes LABEL_i names; disagreement is an error", "[config]") {
    auto j = base_config();
    j.erase("id2label");
    j["num_labels"] = 3;
    const auto c = albert_config::from_json(j);
    CHECK(c.num_labels == 3);
    CHECK(c.id2label[2] == "LABEL_2");
    j = base_config();
    j["num_labels"] = 5;
    REQUIRE_THROWS_WITH(albert_config::from_json(j), Catch::Contains("num_labels"));
}

TEST_CASE("group of layer follows transformers' float expression", "[config]") {
    albert_config c;
    c.num_hidden_layers = 12, c.num_hidden_groups = 1;
    for (std::size_t i = 0; i < 12; ++i) CHECK(c.group_of_layer(i) == 0);
    c.num_hidden_layers = 12, c.num_hidden_groups = 4;
    CHECK(c.group_of_layer(2) == 0);
    CHECK(c.group_of_layer(3) == 1);
    CHECK(c.group_of_layer(11) == 3);
    // 18 layers, 14 groups: Python's int(9 / (18 / 14)) is 6, although 9 * 14 / 18 is exactly 7.
    c.num_hidden_layers = 18, c.num_hidden_groups = 14;
    CHECK(c.group_of_layer(9) == 6);
    CHECK(c.group_of_layer(17) == 13);
}

TEST_CASE("bad config values are config_errors naming the field", "[config]") {
    auto expect_error = [](json j, const std::string& needle) {
        INFO(j.dump());
        REQUIRE_THROWS_AS(albert_config::from_json(j, "cfg.json"), config_error);
        REQUIRE_THROWS_WITH(albert_config::from_json(j, "cfg.json"), Catch::Contains(needle) && Catch::Contains("cfg.json"));
    };
    auto j = base_config();
    j["hidden_act"] = "gelu_newest";
    expect_error(j, "gelu_newest");
    j = base_config();
    j["hidden_size"] = "768";
    expect_error(j, "hidden_size");
    j = base_config();
    j["num_attention_heads"] = 7;
    expect_error(j, "num_attention_heads");
    j = base_config();
    j["num_hidden_layers"] = 0;
    expect_error(j, "num_hidden_layers");
    j = base_config();
    j["vocab_size"] = -5;
    expect_error(j, "vocab_size");
    j = base_config();
    j["layer_norm_eps"] = "small";
    expect_error(j, "layer_norm_eps");
    j = base_config();
    j["position_embedding_type"] = "relative_key";
    expect_error(j, "relative_key");
    j = base_config();
    j["id2label"] = json::parse(R"({"0": "a", "2": "b"})");
    expect_error(j, "id2label");
    expect_error(json::array(), "object");
}

TEST_CASE("config round-trips through to_json", "[config]") {
    const auto c = albert_config::from_json(base_config());
    const auto d = albert_config::from_json(c.to_json());
    CHECK(d.hidden_size == c.hidden_size);
    CHECK(d.id2label == c.id2label);
    CHECK(d.hidden_act == c.hidden_act);
}

TEST_CASE("loading a missing or malformed config file fails with the path", "[config]") {
    REQUIRE_THROWS_AS(albert_config::load("/nonexistent/config.json"), edgebert::io_error);
    const std::string path = test_util::temp_path("bad_config.json");
    { std::ofstream(path) << "{\"hidden_size\": 12,"; }
    REQUIRE_THROWS_AS(albert_config::load(path), config_error);
    REQUIRE_THROWS_WITH(albert_config::load(path), Catch::Contains(path));
}
