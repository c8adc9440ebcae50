// model/weight_storage.hpp: a model built from a compressed file computes on the stored 8-bit codes in the
// layout asked for, and gives the logits of the fp32-decoded model.
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/albert_model.hpp>
#include <edgebert/compress.hpp>

#include "support/albert_test_util.hpp"
#include "support/compressed_test_util.hpp"
#include "support/temp_path.hpp"

using namespace edgebert;
using kind = nn::linear::storage_kind;

namespace {
std::string write(const std::string& name, const compress::compress_options& opt, std::uint64_t seed = 11) {
    const auto cfg = test_util::odd_config();
    const std::string path = test_util::temp_path(name);
    test_util::compress_model(path, cfg, model::albert_model::random_weights(cfg, seed), opt);
    return path;
}

model::albert_model load(const std::string& path, model::weight_storage s) {
    model::load_options o;
    o.weights = s;
    o.verify_golden = true;  // the stored logits (computed on decoded fp32 weights) reproduce in every layout
    return model::albert_model::load(path, o);
}

/// Storage of every encoder matrix of the model, in layer order.
std::vector<kind> encoder_kinds(const model::albert_model& m) {
    std::vector<kind> k;
    for (const auto& group : m.encoder().groups())
        for (const auto& l : group)
            for (const nn::linear* x : {&l.qkv, &l.attention_dense, &l.ffn, &l.ffn_output}) k.push_back(x->kind());
    return k;
}

bool all_are(const std::vector<kind>& ks, kind k) {
    for (kind x : ks)
        if (x != k) return false;
    return !ks.empty();
}

void check_same_logits(const model::albert_model& a, const model::albert_model& b) {
    const auto batch = test_util::padded_batch(a.config(), 3, 9);
    const auto x = a.forward(batch).logits, y = b.forward(batch).logits;
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(std::abs(x[i] - y[i]) <= 1e-4f * (1 + std::abs(x[i])));
}
}  // namespace

TEST_CASE("weight storage names", "[weight_storage]") {
    for (auto s : {model::weight_storage::fp32, model::weight_storage::stored, model::weight_storage::fastest, model::weight_storage::int8})
        CHECK(model::parse_weight_storage(model::to_string(s)) == s);
    CHECK_THROWS_WITH(model::parse_weight_storage("int4"), Catch::Contains("'int4'") && Catch::Contains("fp32, stored, fastest, int8"));
}

TEST_CASE("each layout of the file runs in its own kernel, or dense 8-bit where that is faster", "[weight_storage]") {
    compress::compress_options dense, mask80, mask50, block70, block20;
    dense.bitmask = false;
    mask80.encoder_sparsity = 0.8;
    mask50.encoder_sparsity = 0.5;
    mask50.per_row = true;
    block70.encoder_sparsity = 0.7, block70.block_rows = 4, block70.block_cols = 8;
    block20.encoder_sparsity = 0.3, block20.block_rows = 16, block20.block_cols = 1;
    struct expect {
        const char* name;
        compress::compress_options opt;
        kind stored, fastest;
    };
    for (const expect& e : {expect{"dense", dense, kind::q8, kind::q8}, expect{"mask80", mask80, kind::bitmask, kind::bitmask},
                            expect{"mask50", mask50, kind::bitmask, kind::q8}, expect{"block70", block70, kind::block_sparse, kind::block_sparse},
                            expect{"block20", block20, kind::block_sparse, kind::q8}}) {
        INFO(e.name);
        const std::string path = write(std::string(e.name) + ".safetensors", e.opt);
        const auto fp32 = load(path, model::weight_storage::fp32);
        const auto stored = load(path, model::weight_storage::stored);
        const auto fastest = load(path, model::weight_storage::fastest);
        CHECK(all_are(encoder_kinds(fp32), kind::dense_f32));
        // the word embeddings stay 8-bit unless decoding is asked for
        CHECK_FALSE(fp32.encoder().embeddings().word_quantized());
        CHECK(stored.encoder().embeddings().word_quantized());
        CHECK(fastest.encoder().embeddings().word_density() == fp32.encoder().embeddings().word_density());
        CHECK(all_are(encoder_kinds(stored), e.stored));
        CHECK(all_are(encoder_kinds(fastest), e.fastest));
        // the E->H projection and the pooler are head/embedding matrices: element bit mask or dense codes
        CHECK(stored.encoder().mapping_in().kind() != kind::dense_f32);
        CHECK(fastest.pooler().kind() != kind::dense_f32);
        check_same_logits(fp32, stored);
        check_same_logits(fp32, fastest);
        // 8-bit storage holds about a quarter of the fp32 bytes (sparse layouts less)
        std::size_t b32 = 0, b8 = 0;
        for (const auto& g : fp32.encoder().groups())
            for (const auto& l : g) b32 += l.ffn.bytes() - l.ffn.bias().size() * 4;
        for (const auto& g : stored.encoder().groups())
            for (const auto& l : g) b8 += l.ffn.bytes() - l.ffn.bias().size() * 4;
        CHECK(double(b8) < 0.4 * double(b32));
    }
}

TEST_CASE("Q, K and V with different exponent biases stack into one 8-bit product with per-row tables", "[weight_storage]") {
    // scale the key weights by 8 so its AdaptivFloat bias differs from the query's and value's
    const auto cfg = test_util::odd_config();
    auto src = model::albert_model::random_weights(cfg, 12);
    auto tensors = src.tensors();
    for (auto& [name, t] : tensors)
        if (name.find("attention.key.weight") != std::string::npos)
            for (float& v : t.values) v *= 8.f;
    const io::memory_source scaled(std::move(tensors));
    const std::string path = test_util::temp_path("qkv.safetensors");
    compress::compress_options opt;
    opt.bitmask = false;
    test_util::compress_model(path, cfg, scaled, opt);
    const auto c = io::compressed_model::open(path);
    const std::string l = "albert.encoder.albert_layer_groups.0.albert_layers.0.attention.";
    REQUIRE(c.weights().compressed(l + "key.weight")->params[0] != c.weights().compressed(l + "query.weight")->params[0]);
    const auto fp32 = load(path, model::weight_storage::fp32), q8 = load(path, model::weight_storage::stored);
    const auto& qkv = std::get<kernels::q8_packed_matrix>(q8.encoder().groups()[0][0].qkv.weight_storage());
    CHECK(qkv.tables().per_row());
    const auto& dense = fp32.encoder().groups()[0][0].qkv.packed_weight();
    for (std::size_t j = 0; j < 3 * cfg.hidden_size; ++j)
        for (std::size_t k = 0; k < cfg.hidden_size; ++k) REQUIRE(qkv.at(k, j) == dense.at(k, j));
    check_same_logits(fp32, q8);
}

TEST_CASE("what cannot run in 8 bits is decoded to fp32", "[weight_storage]") {
    compress::compress_options half;
    half.format = "fp16";
    half.encoder_sparsity = 0.8;
    const auto m = load(write("fp16.safetensors", half), model::weight_storage::fastest);
    CHECK(all_are(encoder_kinds(m), kind::dense_f32));
    CHECK_FALSE(m.encoder().embeddings().word_quantized());
    // parts in different formats or missing codes: no 8-bit layer
    const auto c = io::compressed_model::open(write("af.safetensors", compress::compress_options{}));
    const std::string l = "albert.encoder.albert_layer_groups.0.albert_layers.0.";
    const io::compressed_matrix* ffn = c.weights().compressed(l + "ffn.weight");
    REQUIRE(ffn != nullptr);
    model::load_options o;
    CHECK(model::compressed_linear({ffn}, nullptr, o).has_value());
    CHECK_FALSE(model::compressed_linear({ffn, nullptr}, nullptr, o).has_value());
    io::compressed_matrix other = *ffn;
    other.format = numeric::parse_format("e4m3");
    other.params = {numeric::quant_param::of_scale(1.f)};
    CHECK_FALSE(model::compressed_linear({ffn, &other}, nullptr, o).has_value());
    o.weights = model::weight_storage::fp32;
    CHECK_FALSE(model::compressed_linear({ffn}, nullptr, o).has_value());
}
