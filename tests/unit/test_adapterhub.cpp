#include <catch2/catch.hpp>
#include <edgebert/model/adapterhub.hpp>

using namespace edgebert;
using nlohmann::json;

namespace {
json file_with(json config, bool versioned = true) {
    json f{{"config", config}, {"hidden_size", 48}, {"model_type", "albert"}, {"name", "sst2"}};
    if (versioned) f["version"] = "adapters.1.1.0";
    return f;
}
json houlsby() {
    return {{"mh_adapter", true}, {"output_adapter", true}, {"reduction_factor", 16}, {"non_linearity", "swish"},
            {"original_ln_before", false}, {"original_ln_after", true}, {"residual_before_ln", true},
            {"ln_before", false}, {"ln_after", false}, {"init_weights", "bert"}, {"is_parallel", false},
            {"scaling", 1.0}, {"use_gating", false}, {"adapter_residual_before_ln", false}, {"inv_adapter", nullptr},
            {"leave_out", json::array()}, {"dropout", 0.0}, {"phm_layer", false}};
}
}  // namespace

TEST_CASE("AdapterHub configs parse into the adapter algebra", "[adapterhub]") {
    const auto a = io::parse_adapter_config(file_with(houlsby()), "a.json");
    CHECK(a.name == "sst2");
    CHECK(a.mh_adapter);
    CHECK(a.output_adapter);
    CHECK(a.bottleneck.non_linearity == kernels::activation::silu);
    CHECK(a.bottleneck_size(0) == 3);  // int(48 // 16)
    CHECK(a.attention_prefix(0, 0) ==
          "encoder.albert_layer_groups.0.albert_layers.0.attention.attention_adapters.adapters.sst2.");
    CHECK(a.output_prefix(1, 2) == "encoder.albert_layer_groups.1.albert_layers.2.output_adapters.adapters.sst2.");

    const auto p = io::parse_adapter_config(file_with("pfeiffer"), "p.json");
    CHECK(p.bottleneck.original_ln_before);
    CHECK_FALSE(p.mh_adapter);
    CHECK(p.bottleneck.non_linearity == kernels::activation::relu);

    json c = houlsby();
    c["reduction_factor"] = {{"0", 2}, {"default", 5}};
    c["residual_before_ln"] = "post_add";
    c["scaling"] = "channel";
    c["leave_out"] = {1, 3};
    const auto m = io::parse_adapter_config(file_with(c), "m.json");
    CHECK(m.bottleneck_size(0) == 24);
    CHECK(m.bottleneck_size(7) == 9);
    CHECK(m.left_out(3));
    CHECK(m.scaling == io::adapter_config::scaling_kind::channel);
    CHECK(m.bottleneck.residual_before_ln == nn::adapter_residual::post_add);
}

TEST_CASE("legacy files meant the tanh GELU by \"gelu\"", "[adapterhub]") {
    json c = houlsby();
    c["non_linearity"] = "gelu";
    CHECK(io::parse_adapter_config(file_with(c, false), "x").bottleneck.non_linearity == kernels::activation::gelu_tanh);
    CHECK(io::parse_adapter_config(file_with(c, true), "x").bottleneck.non_linearity == kernels::activation::gelu_erf);
    c["non_linearity"] = "gelu_orig";
    CHECK(io::parse_adapter_config(file_with(c, false), "x").bottleneck.non_linearity == kernels::activation::gelu_erf);
    c["non_linearity"] = "LeakyReLU";
    CHECK(io::parse_adapter_config(file_with(c), "x").bottleneck.non_linearity == kernels::activation::leaky_relu);
}

TEST_CASE("unsupported or malformed adapter configs are refused by name", "[adapterhub]") {
    auto with = [](const char* key, json v) {
        json c = houlsby();
        c[key] = v;
        return file_with(c);
    };
    CHECK_THROWS_WITH(io::parse_adapter_config(with("is_parallel", true), "x"), Catch::Contains("parallel adapters"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("use_gating", true), "x"), Catch::Contains("gated"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("phm_layer", true), "x"), Catch::Contains("PHM"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("inv_adapter", "nice"), "x"), Catch::Contains("invertible"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("frobnicate", 1), "x"), Catch::Contains("\"frobnicate\""));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("reduction_factor", 0), "x"), Catch::Contains("reduction_factor"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("non_linearity", "sparkle"), "x"), Catch::Contains("sparkle"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("residual_before_ln", "maybe"), "x"), Catch::Contains("residual_before_ln"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("scaling", "huge"), "x"), Catch::Contains("scaling"));
    CHECK_THROWS_WITH(io::parse_adapter_config(with("leave_out", "all"), "x"), Catch::Contains("leave_out"));
    CHECK_THROWS_WITH(io::parse_adapter_config(file_with("compacter"), "x"), Catch::Contains("compacter"));
    CHECK_THROWS_WITH(io::parse_adapter_config(json::object(), "x.json"), Catch::Contains("x.json"));
    json bert = file_with(houlsby());
    bert["model_type"] = "bert";
    CHECK_THROWS_WITH(io::parse_adapter_config(bert, "x"), Catch::Contains("bert"));
    json neither = houlsby();
    neither["mh_adapter"] = false;
    neither["output_adapter"] = false;
    CHECK_THROWS_AS(io::parse_adapter_config(file_with(neither), "x"), config_error);
}

TEST_CASE("AdapterHub classification head configs", "[adapterhub]") {
    json h{{"config", {{"head_type", "classification"}, {"num_labels", 3}, {"layers", 2}, {"activation_function", "tanh"},
                       {"use_pooler", false}, {"label2id", {{"neg", 0}, {"neu", 1}, {"pos", 2}}}}},
           {"name", "sst2"}};
    const auto c = io::parse_head_config(h, "head.json");
    CHECK(c.labels == std::vector<std::string>{"neg", "neu", "pos"});
    CHECK(c.linear_prefix(0) == "heads.sst2.1.");
    CHECK(c.linear_prefix(1) == "heads.sst2.4.");
    h["config"]["head_type"] = "tagging";
    CHECK_THROWS_WITH(io::parse_head_config(h, "head.json"), Catch::Contains("tagging"));
    h["config"]["head_type"] = "classification";
    h["config"]["label2id"]["extra"] = 7;
    CHECK_THROWS_WITH(io::parse_head_config(h, "head.json"), Catch::Contains("extra"));
    h["config"].erase("label2id");
    h["config"]["num_labels"] = 0;
    CHECK_THROWS_WITH(io::parse_head_config(h, "head.json"), Catch::Contains("num_labels"));
}
