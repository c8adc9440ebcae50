#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/albert_model.hpp>
#include <edgebert/compress.hpp>
#include <edgebert/names.hpp>

#include "support/albert_test_util.hpp"
#include "support/compressed_test_util.hpp"
#include "support/temp_path.hpp"

using namespace edgebert;

using test_util::compress_model;
using test_util::rewrite;

TEST_CASE("compressed models decode to exactly the pruned and quantized weights", "[compress]") {
    const auto cfg = test_util::odd_config();
    const auto src = model::albert_model::random_weights(cfg, 3);
    for (const char* format : {"af8e3", "af8e4", "af6e2", "af8-hw", "af8e3-2022", "e4m3", "e5m2", "fp16", "bf16", "af12e4"})
        for (double sparsity : {0.0, 0.5}) {
            INFO(format << " sparsity " << sparsity);
            compress::compress_options opt;
            opt.format = format;
            opt.encoder_sparsity = sparsity;
            opt.embedding_sparsity = sparsity > 0 ? 0.6 : 0.0;
            opt.per_row = sparsity > 0 && std::string(format) != "fp16" && std::string(format) != "bf16";
            const std::string path = test_util::temp_path(std::string("c_") + format + ".safetensors");
            const auto report = compress_model(path, cfg, src, opt);
            CHECK(report.file_bytes < report.fp32_bytes);
            const auto c = io::compressed_model::open(path);
            CHECK(c.config().hidden_size == cfg.hidden_size);
            const auto fmt = numeric::parse_format(format);
            for (const auto& name : src.names()) {
                const auto& shape = *src.shape(name);
                const std::size_t rows = shape.size() >= 2 ? shape[0] : 1, cols = shape.size() >= 2 ? shape[1] : shape[0];
                const auto orig = src.values(name, rows, cols);
                const auto got = c.weights().values(name, rows, cols);
                std::vector<float> want(orig.data(), orig.data() + rows * cols);
                const bool compressed = shape.size() == 2 && name.find("LayerNorm") == std::string::npos;
                if (compressed) {
                    if (names::is_encoder_matrix(name)) compress::prune_by_magnitude(want.data(), 1, want.size(), want.size(), {opt.encoder_sparsity});
                    if (name.find("word_embeddings") != std::string::npos) compress::prune_by_magnitude(want.data(), 1, want.size(), want.size(), {opt.embedding_sparsity});
                    numeric::quantize_options qo;
                    qo.per_row = opt.per_row;
                    want = numeric::quantized_tensor::quantize(want, shape, fmt, qo).dequantize();
                }
                INFO(name);
                REQUIRE(std::vector<float>(got.data(), got.data() + want.size()) == want);
            }
            // zeros: the encoder matrices hold at least the pruned fraction
            for (const auto& t : c.tensors())
                if (names::is_encoder_matrix(t.name)) CHECK(double(t.nonzeros) <= (1 - sparsity) * double(t.shape[0] * t.shape[1]) + 1);
            const auto m = model::albert_model::load(path, true);  // golden outputs reproduce
            CHECK(m.config().num_hidden_layers == cfg.num_hidden_layers);
        }
}

TEST_CASE("the bit-mask storage is EdgeBERT's byte count: one bit per element plus one code per nonzero", "[compress]") {
    const auto cfg = test_util::odd_config();
    const auto src = model::albert_model::random_weights(cfg, 4);
    compress::compress_options opt;
    opt.encoder_sparsity = 0.8;
    const std::string path = test_util::temp_path("mask.safetensors");
    const auto report = compress_model(path, cfg, src, opt, false);
    for (const auto& t : report.tensors) {
        const std::size_t n = t.shape[0] * t.shape[1];
        if (t.storage == "bitmask") CHECK(t.bytes == (n + 7) / 8 + t.nonzeros);
        else CHECK(t.bytes == n);
    }
}

TEST_CASE("block-sparse storage: encoder pruned by blocks, each stored block's codes plus one bit per block", "[compress]") {
    const auto cfg = test_util::odd_config();  // H = 36, I = 50: edge blocks are partial for 4x8
    const auto src = model::albert_model::random_weights(cfg, 6);
    for (auto [R, C] : {std::pair<std::size_t, std::size_t>{4, 8}, {16, 1}, {1, 8}}) {
        INFO(R << "x" << C);
        compress::compress_options opt;
        opt.encoder_sparsity = 0.7;
        opt.block_rows = R;
        opt.block_cols = C;
        const std::string path = test_util::temp_path("block.safetensors");
        const auto report = compress_model(path, cfg, src, opt);
        const auto c = io::compressed_model::open(path);
        std::size_t block_tensors = 0;
        for (const auto& t : report.tensors) {
            if (!names::is_encoder_matrix(t.name)) {
                CHECK(t.storage != "block");
                continue;
            }
            REQUIRE(t.storage == "block");
            ++block_tensors;
            const std::size_t rows = t.shape[0], cols = t.shape[1];
            const std::size_t grid = ((rows + R - 1) / R) * ((cols + C - 1) / C);
            const io::compressed_matrix* m = c.weights().compressed(t.name);
            REQUIRE(m != nullptr);
            const std::size_t stored = m->code_count / (R * C);
            CHECK(stored <= grid - std::size_t(0.7 * double(grid)));  // the pruned blocks are not stored
            CHECK(t.bytes == (grid + 7) / 8 + stored * R * C);
            // the decoded values are the block-pruned, quantized weights
            const auto orig = src.values(t.name, rows, cols);
            std::vector<float> want(orig.data(), orig.data() + rows * cols);
            compress::prune_by_magnitude(want.data(), rows, cols, cols, {opt.encoder_sparsity, R, C});
            want = numeric::quantized_tensor::quantize(want, t.shape, numeric::parse_format("af8e3")).dequantize();
            const auto got = c.weights().values(t.name, rows, cols);
            CHECK(std::vector<float>(got.data(), got.data() + rows * cols) == want);
        }
        CHECK(block_tensors == 6 * cfg.num_hidden_groups * cfg.inner_group_num);
        CHECK_NOTHROW(model::albert_model::load(path, true));
    }
    compress::compress_options bad;
    bad.block_rows = 4;  // and 0 columns
    CHECK_THROWS_AS(compress_model(test_util::temp_path("x.safetensors"), cfg, src, bad), config_error);
    bad.block_cols = 65;
    CHECK_THROWS_WITH(compress_model(test_util::temp_path("x.safetensors"), cfg, src, bad), Catch::Contains("4x65"));
}

TEST_CASE("corrupt compressed models are refused with the culprit named", "[compress]") {
    const auto cfg = test_util::odd_config();
    const auto src = model::albert_model::random_weights(cfg, 5);
    compress::compress_options opt;
    opt.format = "af6e2";
    opt.encoder_sparsity = 0.5;
    const std::string good = test_util::temp_path("good.safetensors"), bad = test_util::temp_path("bad.safetensors");
    compress_model(good, cfg, src, opt);
    const std::string ffn = "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight";
    using meta_t = test_util::file_metadata;
    using data_t = test_util::file_data;
    using kind_t = test_util::file_kinds;
    auto tensors_json = [](meta_t& m) { return nlohmann::json::parse(m["tensors"]); };

    rewrite(good, bad, [&](meta_t& m, data_t&, kind_t&) { m["config"] = "{not json"; });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains("\"config\": not valid JSON"));
    rewrite(good, bad, [&](meta_t& m, data_t&, kind_t&) {
        auto j = tensors_json(m);
        j[ffn]["format"] = "af9e9x";
        m["tensors"] = j.dump();
    });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains(ffn) && Catch::Contains("af9e9x"));
    rewrite(good, bad, [&](meta_t& m, data_t&, kind_t&) {
        auto j = tensors_json(m);
        j[ffn]["storage"] = "csr";
        m["tensors"] = j.dump();
    });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains("unknown storage \"csr\""));
    rewrite(good, bad, [&](meta_t&, data_t& d, kind_t& k) {
        d[ffn + ".__mask"].pop_back();
        k[ffn + ".__mask"].second[0] -= 1;
    });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains("'.__mask' must be U8"));
    rewrite(good, bad, [&](meta_t&, data_t& d, kind_t&) { d[ffn + ".__mask"][0] ^= 0x01; });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains("bits set but there are"));
    rewrite(good, bad, [&](meta_t&, data_t& d, kind_t&) { d[ffn][0] = 200; });  // af6e2 codes are 6 bits
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains("does not fit in 6 bits"));
    rewrite(good, bad, [&](meta_t&, data_t& d, kind_t& k) {
        d.erase(ffn + ".__mask");
        k.erase(ffn + ".__mask");
    });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains("__mask' is missing"));
    rewrite(good, bad, [&](meta_t& m, data_t&, kind_t&) {
        auto j = tensors_json(m);
        j.erase(ffn);
        m["tensors"] = j.dump();
    });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains(ffn + "' is U8 but has no entry in metadata"));
    rewrite(good, bad, [&](meta_t& m, data_t&, kind_t&) {
        auto j = tensors_json(m);
        j[ffn]["exp_bias"] = 10000;
        m["tensors"] = j.dump();
    });
    CHECK_THROWS_WITH(io::compressed_model::open(bad), Catch::Contains(ffn));
    rewrite(good, bad, [&](meta_t& m, data_t&, kind_t&) {
        auto g = nlohmann::json::parse(m["golden"]);
        g["logits"][0][0] = g["logits"][0][0].get<float>() + 1.f;
        m["golden"] = g.dump();
    });
    model::load_options unchecked;
    unchecked.golden = model::golden_check::off;
    CHECK_NOTHROW(model::albert_model::load(bad, unchecked));  // told not to verify
    CHECK_THROWS_WITH(model::albert_model::load(bad), Catch::Contains("golden check failed: sentence 0 label 0"));  // checked by default
    CHECK_THROWS_WITH(model::albert_model::load(bad, true), Catch::Contains("golden check failed: sentence 0 label 0"));
    CHECK_THROWS_WITH(io::compressed_model::open(test_util::temp_path("nothing.safetensors")), Catch::Contains("nothing.safetensors"));
}
