// SPDX-License-Identifier: Apache-2.0
// Compile-time composition of the encoder's blocks: an AlbertLayer over 8-bit storage known at compile time
// (nn::basic_linear<kernels::q8_packed_matrix>), run with a task's span attention and Houlsby adapters.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <edgebert/model.hpp>
#include <edgebert/trace/recorder.hpp>

#include "support/albert_test_util.hpp"
#include "support/test_random.hpp"

using namespace edgebert;

namespace {
using q8_linear = nn::basic_linear<kernels::q8_packed_matrix>;
using q8_layer = model::basic_albert_layer<q8_linear>;

struct layer_weights {
    std::vector<float> qkv, qkv_b, dense, dense_b, ffn, ffn_b, out, out_b;
};
layer_weights random_layer(std::size_t H, std::size_t I, unsigned seed) {
    using test_util::normal_values;
    return {normal_values(3 * H * H, seed, 0.2f), normal_values(3 * H, seed + 1, 0.1f), normal_values(H * H, seed + 2, 0.2f),
            normal_values(H, seed + 3, 0.1f),     normal_values(I * H, seed + 4, 0.2f), normal_values(I, seed + 5, 0.1f),
            normal_values(H * I, seed + 6, 0.2f), normal_values(H, seed + 7, 0.1f)};
}
std::vector<float> decoded(const std::vector<float>& w, std::size_t out, std::size_t in, const numeric::number_format& f) {
    return numeric::quantized_tensor::quantize(w.data(), {out, in}, f, {}).dequantize();
}
nn::layer_norm unit_norm(std::size_t H, unsigned seed) {
    const auto g = test_util::normal_values(H, seed, 0.05f, 1.f), b = test_util::normal_values(H, seed + 1, 0.05f);
    return nn::layer_norm(g.data(), b.data(), H, 1e-12f);
}

template <class Layer, class Observer>
std::vector<float> run_observed(const model::albert_encoder& enc, const Layer& layer, const model::task_layer& parts,
                                const model::encoder_task& task, std::vector<float> hidden, std::size_t seq, Observer& obs) {
    const auto& c = enc.config();
    const kernels::attention_shape shape{1, seq, c.num_attention_heads, c.head_size()};
    model::encoder_workspace ws;
    ws.qkv.reserve_scratch(seq * 3 * c.hidden_size);
    ws.context.reserve_scratch(seq * c.hidden_size);
    ws.attention_out.reserve_scratch(seq * c.hidden_size);
    ws.intermediate.reserve_scratch(seq * c.intermediate_size);
    ws.sublayer.reserve_scratch(seq * c.hidden_size);
    ws.keep.assign(seq, 1);
    enc.run_layer(layer, shape, ws, hidden.data(), 1, &parts, &task, obs, 1);
    return hidden;
}
template <class Layer>
std::vector<float> run(const model::albert_encoder& enc, const Layer& layer, const model::task_layer& parts,
                       const model::encoder_task& task, const std::vector<float>& hidden, std::size_t seq) {
    trace::null_observer none;
    return run_observed(enc, layer, parts, task, hidden, seq, none);
}
}  // namespace

TEST_CASE("a span + Houlsby-adapter layer over compile-time 8-bit storage", "[composition]") {
    model::albert_config cfg = test_util::odd_config();
    cfg.num_hidden_groups = 1, cfg.inner_group_num = 1;
    const std::size_t H = cfg.hidden_size, I = cfg.intermediate_size, seq = 11;
    const model::albert_model backbone = model::albert_model::random(cfg, 9);  // its encoder runs the layer
    const numeric::number_format af8 = numeric::parse_format("af8e3");
    const layer_weights w = random_layer(H, I, 40);

    // The same weights three ways: compile-time 8-bit storage, the run-time variant holding 8-bit codes, and fp32
    // holding the decoded codes (the oracle: an 8-bit product is the fp32 product with the decoded weights).
    q8_layer q8;
    q8.qkv = q8_linear::quantized(w.qkv.data(), 3 * H, H, w.qkv_b.data(), af8);
    q8.attention_dense = q8_linear::quantized(w.dense.data(), H, H, w.dense_b.data(), af8);
    q8.ffn = q8_linear::quantized(w.ffn.data(), I, H, w.ffn_b.data(), af8);
    q8.ffn_output = q8_linear::quantized(w.out.data(), H, I, w.out_b.data(), af8);
    model::albert_layer any;
    any.qkv = nn::linear::quantized(w.qkv.data(), 3 * H, H, w.qkv_b.data(), af8);
    any.attention_dense = nn::linear::quantized(w.dense.data(), H, H, w.dense_b.data(), af8);
    any.ffn = nn::linear::quantized(w.ffn.data(), I, H, w.ffn_b.data(), af8);
    any.ffn_output = nn::linear::quantized(w.out.data(), H, I, w.out_b.data(), af8);
    model::albert_layer fp32;
    fp32.qkv = nn::linear(decoded(w.qkv, 3 * H, H, af8).data(), 3 * H, H, w.qkv_b.data());
    fp32.attention_dense = nn::linear(decoded(w.dense, H, H, af8).data(), H, H, w.dense_b.data());
    fp32.ffn = nn::linear(decoded(w.ffn, I, H, af8).data(), I, H, w.ffn_b.data());
    fp32.ffn_output = nn::linear(decoded(w.out, H, I, af8).data(), H, I, w.out_b.data());
    for (model::basic_albert_layer<>* l : {&any, &fp32}) l->attention_norm = unit_norm(H, 60), l->full_layer_norm = unit_norm(H, 62);
    q8.attention_norm = unit_norm(H, 60), q8.full_layer_norm = unit_norm(H, 62);
    CHECK(q8.qkv.kind() == nn::storage_kind::q8);
    CHECK(q8.qkv.weight_bits() == 8);

    // the task: Houlsby adapters after attention and after the FFN, and spans that switch keys off
    model::task_layer parts;
    auto adapter = [&](unsigned seed) {
        const auto d = test_util::normal_values(8 * H, seed, 0.3f), u = test_util::normal_values(H * 8, seed + 1, 0.3f);
        return nn::bottleneck_adapter(nn::bottleneck_config::houlsby(), nn::linear(d.data(), 8, H, nullptr),
                                      nn::linear(u.data(), H, 8, nullptr), {1.f});
    };
    parts.attention_adapter = adapter(70);
    parts.output_adapter = adapter(80);
    model::encoder_task task;
    task.adapter_input = model::attention_adapter_input::sublayer_output;
    task.span = kernels::attention_span{kernels::span_variant::distance, 2.0, {1.0, 3.0, 5.0, 40.0}, 0};

    const auto x = test_util::normal_values(seq * H, 90, 1.f);
    const auto& enc = backbone.encoder();
    const std::vector<float> a = run(enc, q8, parts, task, x, seq), b = run(enc, any, parts, task, x, seq),
                             c = run(enc, fp32, parts, task, x, seq);
    CHECK(a == b);  // the storage known at compile time computes exactly what the variant does
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - c[i])));
    CHECK(worst < 2e-5);  // and what fp32 does with the decoded weights, up to summation order
    CHECK(a != x);

    // the observer sees this layer's products with their real storage and home
    trace::recorder rec;
    rec.on(trace::layer_begin_event{1, seq});
    (void)run_observed(enc, q8, parts, task, x, seq, rec);
    const auto& m = rec.trace().layers.at(0).matmuls;
    REQUIRE(m.size() == 8);  // qkv, attention output, two adapter products, ffn, ffn_output, two adapter products
    CHECK(m[0].what == trace::product::qkv);
    CHECK(m[0].held_as == trace::storage::codes_8bit);
    CHECK(m[0].weight_bits == 8);
    CHECK(m[0].home == trace::weight_home::backbone);
    CHECK(m[2].what == trace::product::adapter_down);
    CHECK(m[2].home == trace::weight_home::task);
    CHECK(m[2].weight_bits == 32);
    CHECK(rec.trace().layers[0].attention.keys_computed < rec.trace().layers[0].attention.keys_dense);  // the span cut keys
}
