// SPDX-License-Identifier: Apache-2.0
#include <cmath>

#include <catch2/catch.hpp>
#include <edgebert/hw/cycle_model.hpp>
#include <edgebert/hw/trace_builder.hpp>

using namespace edgebert;
using namespace edgebert::hw;

namespace {
// Layer 12 of ALBERT-base at 128 tokens: the encoder layer alone (no off-ramp).
model::layer_work base_layer() { return build_trace(albert_shape{}, 12).layers[11]; }
}  // namespace

TEST_CASE("reference §2.2/§6.3: ALBERT-base at n = 16 is 3,637,248 ideal MAC cycles per layer", "[cycle_model]") {
    const cycle_model m{hw_params{}};
    const work_cost c = m.layer(base_layer());
    // 931,135,488 MACs (projections 301,989,888 + FFN 603,979,776 + QK^T and PV 2 x 12,582,912) / 16^2
    const double macs = 4.0 * 128 * 768 * 768 + 2.0 * 128 * 768 * 3072 + 2.0 * 12 * 128 * 64 * 128;
    CHECK(macs == 931135488.0);
    CHECK(c.macs == macs);
    CHECK(c.ideal_mac_cycles == 3637248.0);
    // the released datapath: 2n+1 = 33 cycles per 16x16x16 tile, 227,328 tiles (every dimension divides by 16)
    CHECK(c.pu_cycles == 227328.0 * 33);
    hw_params overlapped;
    overlapped.overlap_load = true;
    CHECK(cycle_model{overlapped}.layer(base_layer()).pu_cycles == 3637248.0);
    hw_params n32;
    n32.n = 32;
    CHECK(cycle_model{n32}.layer(base_layer()).ideal_mac_cycles == 909312.0);
}

TEST_CASE("reference §6.4: SFU cycles per layer at n = 16", "[cycle_model]") {
    const work_cost c = cycle_model{hw_params{}}.layer(base_layer());
    // softmax: 12 heads x 128 rows x (27 V + 3), V = 128/16 = 8 -> about 336 k
    CHECK(c.softmax_cycles == 12.0 * 128 * (27 * 8 + 3));
    CHECK(c.softmax_cycles == 336384.0);
    // two LayerNorms: 2 x 128 rows x (27 V + 6), V = 768/16 = 48 -> about 333 k
    CHECK(c.layer_norm_cycles == 2.0 * 128 * (27 * 48 + 6));
    CHECK(c.layer_norm_cycles == 333312.0);
    // two residual adds at II 1: 2 x 128 x (6 V + 1)
    CHECK(c.elem_add_cycles == 2.0 * 128 * (6 * 48 + 1));
    CHECK(c.entropy_cycles == 0);  // the last layer has no off-ramp
    // an off-ramp's entropy over 2 logits: 4 x (4 x 1 + 2)
    CHECK(cycle_model{hw_params{}}.entropy(2).entropy_cycles == 24);
    CHECK(c.cycles() == c.pu_cycles + c.softmax_cycles + c.layer_norm_cycles + c.elem_add_cycles);
}

TEST_CASE("padding to n: a one-row pooler still takes whole tiles", "[cycle_model]") {
    const cycle_model m{hw_params{}};
    const work_cost c = m.product(1, 768, 768, 1.0, weight_source::sram);
    CHECK(c.pu_cycles == 1.0 * 48 * 48 * 33);
    CHECK(c.macs == 768.0 * 768);
    CHECK(c.traffic.sram_read_bits == 768.0 * 768 * 8 + 768.0 * 768);  // bit-mask: one mask bit per element
    const work_cost odd = m.product(17, 33, 5, 1.0, weight_source::none);
    CHECK(odd.pu_cycles == 2.0 * 1 * 3 * 33);
}

TEST_CASE("sparsity saves energy, not cycles, unless the design skips", "[cycle_model]") {
    hw_params p;
    const cycle_model vec{p};
    const work_cost dense = vec.product(128, 768, 768, 1.0, weight_source::sram);
    const work_cost half = vec.product(128, 768, 768, 0.5, weight_source::sram);
    CHECK(half.pu_cycles == dense.pu_cycles);
    // vector gating (either operand; the activations are dense): an all-zero 16-vector of independent zeros has probability 0.5^16
    CHECK(half.macs_executed == Approx(dense.macs * (1 - std::pow(0.5, 16))));
    CHECK(half.traffic.sram_read_bits < dense.traffic.sram_read_bits);
    CHECK(half.traffic.buffer_read_bits < dense.traffic.buffer_read_bits);
    p.gating = zero_gating::element;
    CHECK(cycle_model{p}.product(128, 768, 768, 0.5, weight_source::sram).macs_executed == Approx(dense.macs * 0.5));
    p.skip_zero_work = true;
    CHECK(cycle_model{p}.product(128, 768, 768, 0.5, weight_source::sram).pu_cycles == Approx(dense.pu_cycles * 0.5));
    p.gating = zero_gating::none;
    p.skip_zero_work = false;
    CHECK(cycle_model{p}.product(128, 768, 768, 0.5, weight_source::sram).macs_executed == dense.macs);
}

TEST_CASE("attention span: masked keys cut P.V energy; cycles only in a skipping design", "[cycle_model]") {
    model::attention_work a{12, 12, 64, 128, 12 * 128 * 64, 12 * 128 * 128};  // half the keys
    model::attention_work full = a;
    full.keys_computed = full.keys_dense;
    hw_params p;
    const work_cost cs = cycle_model{p}.attention(a), cf = cycle_model{p}.attention(full);
    CHECK(cs.pu_cycles == cf.pu_cycles);
    CHECK(cs.softmax_cycles == cf.softmax_cycles);
    CHECK(cs.macs_executed == Approx(cf.macs_executed * 0.75));  // Q.K^T dense, P.V half
    p.skip_zero_work = true;
    const work_cost ks = cycle_model{p}.attention(a);
    CHECK(ks.pu_cycles == Approx(cf.pu_cycles * 0.5));
    CHECK(ks.softmax_cycles < cf.softmax_cycles);
    model::attention_work bad = a;
    bad.keys_computed = bad.keys_dense + 1;
    CHECK_THROWS_AS(cycle_model{hw_params{}}.attention(bad), input_error);
}

TEST_CASE("weights come from SRAM or ReRAM by their home", "[cycle_model]") {
    hw_params p;
    const cycle_model sram{p};
    model::matmul_work ffn, ramp, adapter;
    ffn.what = trace::product::ffn, ffn.home = trace::weight_home::backbone;
    ramp.what = trace::product::off_ramp_pooler, ramp.home = trace::weight_home::task;
    adapter.what = trace::product::adapter_down, adapter.home = trace::weight_home::task;
    CHECK(sram.source_of(ffn) == weight_source::sram);
    CHECK(sram.source_of(ramp) == weight_source::sram);
    p.backbone_in_reram = true;
    const cycle_model rr{p};
    CHECK(rr.source_of(ffn) == weight_source::reram);
    CHECK(rr.source_of(adapter) == weight_source::sram);
    const work_cost c = rr.layer(base_layer());
    CHECK(c.traffic.reram_read_bits == Approx(8.0 * (4 * 768 * 768 + 2 * 768 * 3072) + (4 * 768 * 768 + 2 * 768 * 3072)));
    CHECK(c.overlapped_ns > 0);
}

TEST_CASE("embedding rows come from ReRAM before anything else", "[cycle_model]") {
    albert_shape s;
    s.embedding_sparsity = 0.6;
    const model::inference_trace t = build_trace(s, 1);
    const hw_params p;
    const work_cost c = cycle_model{p}.embedding(t);
    // 128 tokens x (word row: 128 mask bits + 0.4 x 128 x 8 bits; position + type rows: 2 x 128 x 8 bits)
    const double bits = 128.0 * (128 + 0.4 * 128 * 8 + 2 * 128 * 8);
    CHECK(c.traffic.reram_read_bits == Approx(bits));
    // over the 64-bit AXI bus, each token's three rows a burst of their own (one ReRAM latency each)
    CHECK(c.fixed_beats == std::ceil(bits / 64));
    CHECK(c.fixed_ns == Approx(3 * 128 * p.reram.read_latency_ns));
    CHECK(c.layer_norm_cycles == 128.0 * 3 * (9 * 8 + 2));
}

TEST_CASE("bad traces are input errors naming the product", "[cycle_model]") {
    model::matmul_work m{trace::product::ffn, 128, 768, 3072, 768 * 3072 + 1, 8};
    CHECK_THROWS_WITH(cycle_model{hw_params{}}.matmul(m), Catch::Contains("ffn"));
    model::inference_trace t = build_trace(albert_shape{}, 1);
    t.embedding_density = 1.5;
    CHECK_THROWS_AS(cycle_model{hw_params{}}.embedding(t), input_error);
}
