#include <fstream>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <edgebert/io/hf_checkpoint.hpp>

using namespace edgebert;

TEST_CASE("a checkpoint folder needs config.json and model.safetensors; errors say which", "[hf_checkpoint]") {
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("/nonexistent/model"), Catch::Contains("does not exist"));
    { std::ofstream("test_hf_checkpoint_file") << "x"; }
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("test_hf_checkpoint_file"), Catch::Contains("not a folder"));
    ::mkdir("test_hf_ckpt", 0755);
    std::remove("test_hf_ckpt/config.json");
    std::remove("test_hf_ckpt/model.safetensors");
    std::remove("test_hf_ckpt/pytorch_model.bin");
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("test_hf_ckpt"), Catch::Contains("no config.json"));
    { std::ofstream("test_hf_ckpt/config.json") << R"({"hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 16})"; }
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("test_hf_ckpt"), Catch::Contains("no model.safetensors"));
    { std::ofstream("test_hf_ckpt/pytorch_model.bin") << "pickle"; }
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("test_hf_ckpt"), Catch::Contains("convert it to model.safetensors"));
    { std::ofstream("test_hf_ckpt/model.safetensors") << "trunc"; }
    REQUIRE_THROWS_AS(io::hf_checkpoint::open("test_hf_ckpt"), format_error);
    io::safetensors_writer w;
    const float x[2] = {1, 2};
    w.add_f32("t", {2}, x);
    w.write("test_hf_ckpt/model.safetensors");
    const auto c = io::hf_checkpoint::open("test_hf_ckpt");
    CHECK(c.config.hidden_size == 8);
    CHECK(c.weights->tensors().size() == 1);
    { std::ofstream("test_hf_ckpt/config.json") << R"({"hidden_act": "gelu_newest"})"; }
    REQUIRE_THROWS_AS(io::hf_checkpoint::open("test_hf_ckpt"), config_error);
    REQUIRE_THROWS_WITH(io::hf_checkpoint::open("test_hf_ckpt"), Catch::Contains("gelu_newest") && Catch::Contains("config.json"));
}
