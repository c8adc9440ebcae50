// nn::linear's int8 storage (kernels/gemm_i8.hpp) and the int8 load option (model/weight_storage.hpp): the
// layer runs gemm_i8 on its packed weight; a model loaded with weight_storage::int8 holds every matrix as int8,
// from an fp32 checkpoint or a compressed file, and stays close to its fp32 outputs.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model/albert_model.hpp>
#include <edgebert/model/multi_task_model.hpp>

#include "support/albert_test_util.hpp"
#include "support/compressed_test_util.hpp"
#include "support/temp_path.hpp"
#include "support/test_random.hpp"

using namespace edgebert;
using kind = nn::linear::storage_kind;

namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
    return d / std::sqrt(na * nb);
}

std::size_t count_kind(const model::albert_model& m, kind k) {
    std::size_t c = 0;
    m.for_each_linear([&](const std::string&, const nn::linear& l) { c += l.kind() == k; });
    return c;
}

}  // namespace

TEST_CASE("linear::int8 runs gemm_i8 on its weight, with bias, activation and residual", "[linear][int8]") {
    const std::size_t out = 37, in = 45, rows = 11;
    const auto w = test_util::normal_values(out * in, 3, 0.1f);
    const auto b = test_util::normal_values(out, 4, 0.5f);
    const auto x = test_util::normal_values(rows * in, 5, 1.f);
    const auto res = test_util::normal_values(rows * out, 6, 1.f);
    const nn::linear l = nn::linear::int8(w.data(), out, in, b.data());
    REQUIRE(l.kind() == kind::int8);
    REQUIRE(l.in_features() == in);
    REQUIRE(l.out_features() == out);
    const auto packed = kernels::i8_packed_matrix::quantize(w.data(), out, in, in);
    std::size_t nz = 0;
    for (std::size_t t = 0; t < in; ++t)
        for (std::size_t j = 0; j < out; ++j) nz += packed.code(t, j) != 0;
    REQUIRE(l.nonzeros() == nz);  // weights that round to code 0 are not touched by a zero-skipping accelerator
    REQUIRE(nz > out * in * 9 / 10);
    REQUIRE(l.bytes() == packed.bytes() + out * sizeof(float));

    std::vector<float> got(rows * out), want(rows * out);
    l.forward(x.data(), rows, in, got.data(), out, 2, kernels::activation::gelu_tanh, res.data(), out);
    kernels::epilogue ep{b.data(), kernels::activation::gelu_tanh, res.data(), out};
    kernels::gemm_i8(x.data(), rows, in, packed, want.data(), out, ep, 1);
    REQUIRE(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);

    // close to the fp32 layer
    const nn::linear f(w.data(), out, in, b.data());
    std::vector<float> ref(rows * out);
    f.forward(x.data(), rows, in, ref.data(), out, 1, kernels::activation::gelu_tanh, res.data(), out);
    REQUIRE(cosine(got, ref) > 0.9999);
}

TEST_CASE("weight_storage::int8: every matrix of an fp32 model is int8 and the logits stay close", "[weight_storage][int8]") {
    REQUIRE(model::parse_weight_storage("int8") == model::weight_storage::int8);
    REQUIRE(std::string(model::to_string(model::weight_storage::int8)) == "int8");
    REQUIRE_THROWS_AS(model::parse_weight_storage("int4"), config_error);

    const auto cfg = test_util::odd_config();
    const auto src = model::albert_model::random_weights(cfg, 17);
    model::load_options o;
    o.weights = model::weight_storage::int8;
    const auto q = model::albert_model::from_source(cfg, src, o);
    const auto f = model::albert_model::from_source(cfg, src);
    std::size_t total = 0;
    q.for_each_linear([&](const std::string&, const nn::linear&) { ++total; });
    REQUIRE(total > 0);
    REQUIRE(count_kind(q, kind::int8) == total);
    REQUIRE(count_kind(f, kind::int8) == 0);

    const auto batch = test_util::padded_batch(cfg, 2, 9);
    const auto yq = q.forward(batch), yf = f.forward(batch);
    REQUIRE(yq.last_hidden_state != yf.last_hidden_state);  // it is quantized
    REQUIRE(cosine(yq.last_hidden_state, yf.last_hidden_state) > 0.999);
    for (std::size_t i = 0; i < yf.logits.size(); ++i) REQUIRE(yq.logits[i] == Approx(yf.logits[i]).margin(0.02));
}

TEST_CASE("weight_storage::int8 requantizes a compressed model's 8-bit matrices per channel", "[weight_storage][int8]") {
    const auto cfg = test_util::odd_config();
    const std::string path = test_util::temp_path("int8_af8.safetensors");
    compress::compress_options copt;
    copt.format = "af8e3";
    copt.encoder_sparsity = 0.5;
    test_util::compress_model(path, cfg, model::albert_model::random_weights(cfg, 19), copt);
    model::load_options o8, of;
    o8.weights = model::weight_storage::int8;
    of.weights = model::weight_storage::fp32;
    const auto q = model::albert_model::load(path, o8);
    const auto f = model::albert_model::load(path, of);
    std::size_t total = 0;
    q.for_each_linear([&](const std::string&, const nn::linear&) { ++total; });
    REQUIRE(count_kind(q, kind::int8) == total);
    const auto batch = test_util::padded_batch(cfg, 2, 7);
    const auto yq = q.forward(batch), yf = f.forward(batch);
    REQUIRE(cosine(yq.last_hidden_state, yf.last_hidden_state) > 0.999);
    // pruned weights stay exact zeros: the int8 layers touch as many nonzeros as the sparse ones
    std::size_t nz_q = 0, nz_f = 0;
    q.for_each_linear([&](const std::string&, const nn::linear& l) { nz_q += l.nonzeros(); });
    f.for_each_linear([&](const std::string&, const nn::linear& l) { nz_f += l.nonzeros(); });
    REQUIRE(nz_q <= nz_f);
    REQUIRE(nz_q > nz_f / 2);
}

TEST_CASE("weight_storage::int8 reaches a task's pruned encoder Linears (the bundled model's sst2)", "[weight_storage][int8]") {
    const std::string dir = std::string(EDGEBERT_SOURCE_DIR) + "/models/albert-tiny-sst2-lang";
    model::load_options o8;
    o8.weights = model::weight_storage::int8;
    const auto q = model::multi_task_model::load(dir, o8);
    const auto f = model::multi_task_model::load(dir);
    std::size_t pruned_q = 0, pruned_f = 0;
    for (const auto& l : q.get("sst2").encoder.layers)
        if (l.weights) pruned_q += l.weights->qkv.kind() == kind::int8 && l.weights->ffn_output.kind() == kind::int8;
    for (const auto& l : f.get("sst2").encoder.layers)
        if (l.weights) pruned_f += l.weights->qkv.kind() == kind::dense_f32;
    REQUIRE(pruned_f > 0);  // the task does carry pruned copies of the encoder Linears
    REQUIRE(pruned_q == pruned_f);
}

TEST_CASE("linear::int8_block_sparse gives linear::int8's results on a block-pruned weight", "[linear][int8]") {
    const std::size_t in = 70, out = 45, rows = 19;
    auto w = test_util::normal_values(out * in, 71, 0.1f);
    test_util::rng pick(72);
    for (std::size_t br = 0; br < (out + 3) / 4; ++br)  // 4 x 8 blocks, 80 % pruned
        for (std::size_t bc = 0; bc < (in + 7) / 8; ++bc)
            if (pick.uniform() < 0.8)
                for (std::size_t r = br * 4; r < std::min(out, br * 4 + 4); ++r)
                    for (std::size_t c = bc * 8; c < std::min(in, bc * 8 + 8); ++c) w[r * in + c] = 0.f;
    const auto b = test_util::normal_values(out, 73, 0.5f);
    const auto x = test_util::normal_values(rows * in, 74, 1.f);
    const auto res = test_util::normal_values(rows * out, 75, 1.f);
    const nn::linear dense = nn::linear::int8(w.data(), out, in, b.data());
    const nn::linear sparse = nn::linear::int8_block_sparse(w.data(), out, in, b.data());
    REQUIRE(sparse.kind() == kind::block_sparse_int8);
    REQUIRE(sparse.weight_bits() == 8);
    REQUIRE(sparse.nonzeros() == dense.nonzeros());
    REQUIRE(sparse.bytes() < dense.bytes() / 2);
    for (auto act : {kernels::activation::identity, kernels::activation::gelu_tanh}) {
        std::vector<float> yd(rows * out), ys(rows * out);
        dense.forward(x.data(), rows, in, yd.data(), out, 1, act, res.data(), out);
        sparse.forward(x.data(), rows, in, ys.data(), out, 2, act, res.data(), out);
        REQUIRE(std::memcmp(yd.data(), ys.data(), yd.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("weight_storage::int8 runs a block-pruned compressed model block-sparse, with dense int8's results", "[weight_storage][int8]") {
    const auto cfg = test_util::odd_config();
    const std::string path = test_util::temp_path("int8_blocks.safetensors");
    compress::compress_options copt;
    copt.encoder_sparsity = 0.8, copt.block_rows = 4, copt.block_cols = 8;
    test_util::compress_model(path, cfg, model::albert_model::random_weights(cfg, 23), copt);
    model::load_options sparse_opt, dense_opt;
    sparse_opt.weights = dense_opt.weights = model::weight_storage::int8;
    dense_opt.int8_block_max_density = 0.0;  // never block-sparse
    const auto s = model::albert_model::load(path, sparse_opt);
    const auto d = model::albert_model::load(path, dense_opt);
    std::size_t encoder_linears = 0;
    for (const auto& g : s.encoder().groups())
        for (const auto& l : g)
            for (const nn::linear* x : {&l.qkv, &l.attention_dense, &l.ffn, &l.ffn_output}) encoder_linears += x->kind() == kind::block_sparse_int8;
    REQUIRE(encoder_linears > 0);
    REQUIRE(count_kind(d, kind::block_sparse_int8) == 0);
    const auto batch = test_util::padded_batch(cfg, 2, 9);
    const auto ys = s.forward(batch), yd = d.forward(batch);
    REQUIRE(ys.logits.size() == yd.logits.size());
    REQUIRE(std::memcmp(ys.logits.data(), yd.logits.data(), ys.logits.size() * sizeof(float)) == 0);
}
