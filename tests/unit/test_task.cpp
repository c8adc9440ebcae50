#include <fstream>
#include <map>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/multi_task_model.hpp>

#include "support/albert_test_util.hpp"
#include "support/test_random.hpp"
#include "support/temp_path.hpp"

using namespace edgebert;
using nlohmann::json;

namespace {
using tensor_map = std::map<std::string, io::memory_source::tensor>;

void put(tensor_map& t, const std::string& name, std::vector<std::size_t> shape, unsigned seed, float scale = 0.3f,
         float mean = 0.f) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    t[name] = {std::move(shape), test_util::normal_values(n, seed, scale, mean)};
}
void write(const std::string& path, const tensor_map& t) {
    io::safetensors_writer w;
    for (const auto& [name, x] : t) w.add_f32(name, x.shape, x.values.data());
    w.write(path);
}
void write_json(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }

/// A backbone folder with a `tasks/` sub-folder holding one Houlsby task with head, ramps, span and masks.
std::string make_model(const model::albert_config& cfg, bool with_masks) {
    const std::string dir = test_util::temp_path(with_masks ? "model_masks" : "model");
    auto weights = model::albert_model::random_weights(cfg, 4);
    tensor_map backbone;
    for (const auto& n : weights.names()) {
        const auto& s = *weights.shape(n);
        const auto v = weights.values(n, s.size() >= 2 ? s[0] : 1, s.size() >= 2 ? s[1] : s[0]);
        backbone[n] = {s, std::vector<float>(v.data(), v.data() + v.rows() * v.cols())};
    }
    test_util::write_checkpoint(dir, cfg, backbone);
    test_util::make_dir(dir + "/tasks");
    const std::string t = dir + "/tasks/sst2";
    test_util::make_dir(t);
    const std::size_t H = cfg.hidden_size, G = cfg.num_hidden_groups, J = cfg.inner_group_num, m = 4;
    write_json(t + "/adapter_config.json",
               {{"config", {{"mh_adapter", true}, {"output_adapter", true}, {"reduction_factor", double(H) / m},
                            {"non_linearity", "swish"}, {"original_ln_before", false}, {"original_ln_after", true},
                            {"residual_before_ln", true}}},
                {"hidden_size", H}, {"model_type", "albert"}, {"name", "sst2"}, {"version", "adapters.1.1.0"}});
    tensor_map ad;
    unsigned seed = 10;
    for (std::size_t g = 0; g < G; ++g)
        for (std::size_t j = 0; j < J; ++j)
            for (std::string kind : {".attention.attention_adapters", ".output_adapters"}) {
                const std::string p = "albert.encoder.albert_layer_groups." + std::to_string(g) + ".albert_layers." +
                                      std::to_string(j) + kind + ".adapters.sst2.";
                put(ad, p + "adapter_down.0.weight", {m, H}, seed++);
                put(ad, p + "adapter_down.0.bias", {m}, seed++);
                put(ad, p + "adapter_up.weight", {H, m}, seed++);
                put(ad, p + "adapter_up.bias", {H}, seed++);
            }
    write(t + "/adapter.safetensors", ad);
    write_json(t + "/head_config.json",
               {{"config", {{"head_type", "classification"}, {"num_labels", 2}, {"layers", 2}, {"use_pooler", false},
                            {"activation_function", "tanh"}, {"label2id", {{"negative", 0}, {"positive", 1}}}}},
                {"name", "sst2"}});
    tensor_map head;
    put(head, "heads.sst2.1.weight", {H, H}, 90);
    put(head, "heads.sst2.1.bias", {H}, 91);
    put(head, "heads.sst2.4.weight", {2, H}, 92);
    put(head, "heads.sst2.4.bias", {2}, 93);
    write(t + "/model_head.safetensors", head);
    tensor_map extras;
    for (std::size_t i = 0; i < cfg.num_hidden_layers; ++i) {
        const std::string r = "albert.encoder.highway." + std::to_string(i) + ".";
        put(extras, r + "pooler.weight", {H, H}, 100 + unsigned(i));
        put(extras, r + "pooler.bias", {H}, 120 + unsigned(i));
        put(extras, r + "classifier.weight", {2, H}, 140 + unsigned(i), 1.f);
        put(extras, r + "classifier.bias", {2}, 160 + unsigned(i));
    }
    extras["albert.encoder.span.value"] = {{cfg.num_attention_heads}, {0.1f, 0.5f, 0.9f, 1.0f}};
    put(extras, "albert.encoder.albert_layer_groups.0.albert_layers.1.full_layer_layer_norm.weight", {H}, 180, 0.1f, 1.f);
    put(extras, "albert.encoder.albert_layer_groups.0.albert_layers.1.full_layer_layer_norm.bias", {H}, 181, 0.1f);
    if (with_masks) {
        const std::size_t I = cfg.intermediate_size;
        std::vector<float> mask(I * H);
        for (std::size_t k = 0; k < mask.size(); ++k) mask[k] = float(k % 3 != 0);
        extras["albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.weight.mask"] = {{I, H}, mask};
    }
    write(t + "/edgebert.safetensors", extras);
    write_json(t + "/task.json", {{"exit", "entropy:0.3"}, {"span", {{"mode", "distance"}, {"ramp", 2}, {"max_span", 8}}}});
    return dir;
}
}  // namespace

TEST_CASE("a task folder loads every part", "[task]") {
    const auto cfg = test_util::odd_config();
    const auto mt = model::multi_task_model::load(make_model(cfg, false));
    REQUIRE(mt.task_names() == std::vector<std::string>{"sst2"});
    const auto& t = mt.get("sst2");
    CHECK(t.labels == std::vector<std::string>{"negative", "positive"});
    CHECK(t.off_ramps.size() == cfg.num_hidden_layers);
    REQUIRE(t.encoder.layers.size() == cfg.num_hidden_groups * cfg.inner_group_num);
    for (const auto& l : t.encoder.layers) {
        CHECK(l.attention_adapter);
        CHECK(l.output_adapter);
        CHECK(l.attention_adapter->bottleneck() == 4);
    }
    CHECK(t.encoder.layers[1].full_layer_norm);
    CHECK_FALSE(t.encoder.layers[0].full_layer_norm);
    REQUIRE(t.encoder.span);
    CHECK(t.encoder.span->spans == std::vector<double>{0.1f * 8.0, 0.5f * 8.0, 0.9f * 8.0, 8.0});
    CHECK(std::get<exit::entropy_threshold>(t.policy).thresholds[0] == 0.3);
    CHECK_FALSE(t.sentence_pairs);  // no "input" in task.json: one text
    const auto r = mt.infer("sst2", {2, 7, 9, 11, 3});
    CHECK((r.label_name == "negative" || r.label_name == "positive"));
    CHECK(r.entropies.size() == r.exit_layer);
}

TEST_CASE("pruning masks make a task-specific copy of the masked weights", "[task]") {
    const auto cfg = test_util::odd_config();
    const auto plain = model::multi_task_model::load(make_model(cfg, false));
    const auto masked = model::multi_task_model::load(make_model(cfg, true));
    const auto& layers = masked.get("sst2").encoder.layers;
    REQUIRE(layers[2].weights);
    CHECK_FALSE(layers[0].weights);
    const std::size_t I = cfg.intermediate_size, H = cfg.hidden_size;
    CHECK(layers[2].weights->ffn.nonzeros() <= I * H - (I * H + 2) / 3);
    model::infer_options all;
    all.exit = exit::no_exit{};
    const auto a = plain.infer("sst2", {2, 5, 6, 3}, all), b = masked.infer("sst2", {2, 5, 6, 3}, all);
    CHECK(a.logits != b.logits);
    bool counted = false;
    for (const auto& l : b.trace.layers)
        for (const auto& m : l.matmuls)
            if (m.what == trace::product::ffn && m.weight_nonzeros < I * H) counted = true;
    CHECK(counted);
}

TEST_CASE("bad task folders are refused with the culprit named", "[task]") {
    const auto cfg = test_util::odd_config();
    const std::string dir = make_model(cfg, false), t = dir + "/tasks/sst2";
    auto mt = [&] { return model::multi_task_model::load(dir); };
    SECTION("adapter weights only as a pickle") {
        std::rename((t + "/adapter.safetensors").c_str(), (t + "/pytorch_adapter.bin").c_str());
        CHECK_THROWS_WITH(mt(), Catch::Contains("pytorch_adapter.bin"));
    }
    SECTION("an adapter file missing tensors") {
        tensor_map ad;
        put(ad, "albert.encoder.albert_layer_groups.0.albert_layers.0.output_adapters.adapters.sst2.adapter_down.0.weight", {4, cfg.hidden_size}, 1);
        put(ad, "albert.encoder.something_else", {2}, 2);
        write(t + "/adapter.safetensors", ad);
        CHECK_THROWS_AS(mt(), missing_tensor_error);
    }
    SECTION("a mask that is not binary") {
        tensor_map extras;
        extras["albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight.mask"] = {
            {cfg.intermediate_size, cfg.hidden_size}, std::vector<float>(cfg.intermediate_size * cfg.hidden_size, 0.5f)};
        write(t + "/edgebert.safetensors", extras);
        write_json(t + "/task.json", json::object());
        CHECK_THROWS_WITH(mt(), Catch::Contains("ffn.weight.mask") && Catch::Contains("not 0 or 1"));
    }
    SECTION("a mask of the wrong shape") {
        tensor_map extras;
        put(extras, "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight.mask", {3, 3}, 1);
        write(t + "/edgebert.safetensors", extras);
        write_json(t + "/task.json", json::object());
        CHECK_THROWS_AS(mt(), shape_error);
    }
    SECTION("learned spans without settings") {
        write_json(t + "/task.json", {{"exit", "entropy:0.3"}});
        CHECK_THROWS_WITH(mt(), Catch::Contains("span"));
    }
    SECTION("an exit policy for a task without off-ramps") {
        std::remove((t + "/edgebert.safetensors").c_str());
        write_json(t + "/task.json", {{"exit", "entropy:0.3"}});
        CHECK_THROWS_WITH(mt(), Catch::Contains("off-ramps"));
    }
    SECTION("labels that do not match the head") {
        write_json(t + "/task.json", {{"labels", {"a", "b", "c"}}, {"span", {{"ramp", 2}, {"max_span", 8}}}});
        CHECK_THROWS_WITH(mt(), Catch::Contains("3 label names for 2 labels"));
    }
    SECTION("an input kind other than text or pair") {
        write_json(t + "/task.json", {{"input", "triple"}, {"span", {{"mode", "distance"}, {"ramp", 2}, {"max_span", 8}}}});
        CHECK_THROWS_WITH(mt(), Catch::Contains("task.json") && Catch::Contains("\"input\"") && Catch::Contains("triple"));
    }
    SECTION("an adapter for another hidden size") {
        json a = edgebert::detail::read_json_file<config_error>(t + "/adapter_config.json");
        a["hidden_size"] = 64;
        write_json(t + "/adapter_config.json", a);
        CHECK_THROWS_WITH(mt(), Catch::Contains("hidden_size 64"));
    }
}

TEST_CASE("a task of sentence pairs says so in task.json", "[task]") {
    const auto cfg = test_util::odd_config();
    const std::string dir = make_model(cfg, false);
    write_json(dir + "/tasks/sst2/task.json", {{"input", "pair"}, {"span", {{"mode", "distance"}, {"ramp", 2}, {"max_span", 8}}}});
    CHECK(model::multi_task_model::load(dir).get("sst2").sentence_pairs);
    write_json(dir + "/tasks/sst2/task.json", {{"input", "text"}, {"span", {{"mode", "distance"}, {"ramp", 2}, {"max_span", 8}}}});
    CHECK_FALSE(model::multi_task_model::load(dir).get("sst2").sentence_pairs);
}

TEST_CASE("pruning masks may be stored as bytes", "[task]") {
    const auto cfg = test_util::odd_config();
    const std::string dir = make_model(cfg, true), t = dir + "/tasks/sst2";
    const auto as_float = model::multi_task_model::load(dir);
    {  // rewrite the mask as U8
        io::safetensors_file f(t + "/edgebert.safetensors");
        io::safetensors_writer w;
        for (const auto& ti : f.tensors()) {
            std::vector<float> v = f.read_float(ti.name);
            if (ti.name.find(".mask") == std::string::npos) {
                w.add_f32(ti.name, ti.shape, v.data());
                continue;
            }
            std::vector<std::uint8_t> bytes(v.begin(), v.end());
            w.add(ti.name, io::dtype::U8, ti.shape, bytes.data(), bytes.size());
        }
        w.write(t + "/edgebert.safetensors.new");
        std::rename((t + "/edgebert.safetensors.new").c_str(), (t + "/edgebert.safetensors").c_str());
    }
    const auto as_bytes = model::multi_task_model::load(dir);
    model::infer_options all;
    all.exit = exit::no_exit{};
    CHECK(as_float.infer("sst2", {2, 9, 4, 3}, all).logits == as_bytes.infer("sst2", {2, 9, 4, 3}, all).logits);
}
