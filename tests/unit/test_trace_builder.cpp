// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
double macs(const model::layer_work& w) {
    double m = 0;
    for (const auto& x : w.matmuls) m += double(x.rows) * double(x.in_features) * double(x.out_features);
    return m;
}
bool has(const model::layer_work& w, trace::product what) {
    for (const auto& x : w.matmuls)
        if (x.what == what) return true;
    return false;
}
}  // namespace

TEST_CASE("ALBERT-base trace: shapes and MACs of reference §2.2", "[trace_builder]") {
    const albert_shape s;
    const model::inference_trace t = build_trace(s, 12);
    REQUIRE(t.layers.size() == 12);
    CHECK(t.layers_total == 12);
    CHECK(t.exit_layer == 12);
    CHECK(t.seq_len == 128);
    CHECK(t.embedding_matmuls.at(0).in_features == 128);
    CHECK(t.embedding_matmuls.at(0).out_features == 768);
    // projections 4 x 128x768x768 + FFN 2 x 128x768x3072 = 905,969,664 (attention products are separate)
    CHECK(macs(t.layers[11]) == 905969664.0);
    CHECK(t.layers[0].attention.keys_dense == 12u * 128 * 128);
    CHECK(t.layers[0].attention.keys_computed == t.layers[0].attention.keys_dense);
    CHECK(t.layers[0].attention.head_size == 64);
    CHECK(t.layers[0].rowwise.size() == 4);
    // off-ramps after layers 1..11; the last layer feeds the final pooler and classifier
    CHECK(has(t.layers[0], trace::product::off_ramp_pooler));
    CHECK(t.layers[10].entropy_labels == 2);
    CHECK_FALSE(has(t.layers[11], trace::product::off_ramp_pooler));
    CHECK(t.layers[11].entropy_labels == 0);
    CHECK(t.head_matmuls.size() == 2);
}

TEST_CASE("an early exit stops the trace there without the final head", "[trace_builder]") {
    const model::inference_trace t = build_trace(albert_shape{}, 3);
    CHECK(t.layers.size() == 3);
    CHECK(t.exit_layer == 3);
    CHECK(has(t.layers[2], trace::product::off_ramp_classifier));
    CHECK(t.head_matmuls.empty());
    CHECK_THROWS_AS(build_trace(albert_shape{}, 0), config_error);
    CHECK_THROWS_AS(build_trace(albert_shape{}, 13), config_error);
}

TEST_CASE("sparsity sets the stored nonzeros", "[trace_builder]") {
    albert_shape s;
    s.sparsity = 0.5;
    s.embedding_sparsity = 0.6;
    const model::inference_trace t = build_trace(s, 1);
    CHECK(t.layers[0].matmuls[0].weight_nonzeros == 768u * 2304 / 2);
    CHECK(t.embedding_density == Approx(0.4));
    CHECK(t.embedding_matmuls[0].weight_nonzeros == std::size_t(128 * 768 * 0.4 + 0.5));
    s.sparsity = 1.0;
    CHECK_THROWS_AS(build_trace(s, 1), config_error);
    albert_shape bad;
    bad.heads = 5;  // 768 is not a multiple of 5
    CHECK_THROWS_AS(build_trace(bad, 1), config_error);
}

TEST_CASE("extend_to_all_layers completes an early-exit trace", "[trace_builder]") {
    albert_shape s;
    s.layers = 6;
    const model::inference_trace early = build_trace(s, 2);
    const model::inference_trace full = extend_to_all_layers(early);
    const model::inference_trace direct = build_trace(s, 6);
    REQUIRE(full.layers.size() == 6);
    CHECK(full.exit_layer == 6);
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(full.layers[i].layer == i + 1);
        CHECK(macs(full.layers[i]) == macs(direct.layers[i]));
        CHECK(full.layers[i].entropy_labels == direct.layers[i].entropy_labels);
    }
    REQUIRE(full.head_matmuls.size() == 2);
    CHECK(full.head_matmuls[0].what == trace::product::pooler);
    CHECK(full.head_matmuls[1].out_features == 2);
    model::inference_trace empty;
    CHECK_THROWS_AS(extend_to_all_layers(empty), input_error);
}

TEST_CASE("truncate_trace keeps the exit layer's ramp", "[trace_builder]") {
    const model::inference_trace full = build_trace(albert_shape{}, 12);
    const model::inference_trace t = truncate_trace(full, 4);
    CHECK(t.layers.size() == 4);
    CHECK(t.head_matmuls.empty());
    CHECK(has(t.layers[3], trace::product::off_ramp_pooler));
    CHECK(truncate_trace(full, 12).head_matmuls.size() == 2);
    CHECK_THROWS_AS(truncate_trace(full, 0), input_error);
    CHECK_THROWS_AS(truncate_trace(full, 13), input_error);
}
