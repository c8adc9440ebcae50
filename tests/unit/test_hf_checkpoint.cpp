#include <fstream>
#include <filesystem>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/io/hf_checkpoint.hpp>

using namespace edgebert;

TEST_CASE("a checkpoint folder needs config.json and model.safetensors; errors say which", "[hf_checkpoint]") {
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("/nonexistent/model"), Catch::Contains("does not exist"));
    const std::string file = test_util::temp_path("plain_file"), dir = test_util::temp_path("ckpt");
    { std::ofstream(file) << "x"; }
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open(file), Catch::Contains("not a folder"));
    std::filesystem::create_directories(dir);
    std::remove((dir + "/config.json").c_str());
    std::remove((dir + "/model.safetensors").c_str());
    std::remove((dir + "/pytorch_model.bin").c_str());
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open(dir), Catch::Contains("no config.json"));
    { std::ofstream(dir + "/config.json") << R"({"hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 16})"; }
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open(dir), Catch::Contains("no model.safetensors"));
    { std::ofstream(dir + "/pytorch_model.bin") << "pickle"; }
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open(dir), Catch::Contains("convert it to model.safetensors"));
    { std::ofstream(dir + "/model.safetensors") << "trunc"; }
    REQUIRE_THROWS_AS(io::hf_checkpoint::open(dir), format_error);
    io::safetensors_writer w;
    const float x[2] = {1, 2};
    w.add_f32("t", {2}, x);
    w.write(dir + "/model.safetensors");
    const auto c = io::hf_checkpoint::open(dir);
    CHECK(c.config.hidden_size == 8);
    CHECK(c.weights->tensors().size() == 1);
    { std::ofstream(dir + "/config.json") << R"({"hidden_act": "gelu_newest"})"; }
    REQUIRE_THROWS_AS(io::hf_checkpoint::open(dir), config_error);
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open(dir), Catch::Contains("gelu_newest") && Catch::Contains("config.json"));
}
