// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>
#include <edgebert/hw/adapter_memory.hpp>

using namespace edgebert;
using namespace edgebert::hw;

TEST_CASE("ALBERT-base backbone is 11,092,992 parameters (reference §2.2)", "[adapter_memory]") {
    adapter_memory_config c;
    const adapter_memory_report r = map_adapter_albert(c, hw_params{});
    // embeddings 3,840,000 + 65,536 + 256 + LayerNorm 256; projection 98,304 + 768; shared layer 7,087,872
    CHECK(r.backbone.params == 3840000.0 + 65536 + 256 + 256 + 98304 + 768 + 7087872);
    // dense 8-bit with a mask bit per matrix element (word table, projection, encoder linears)
    const double matrices = 3840000.0 + 98304 + 4 * 768 * 768 + 2 * 768 * 3072;
    CHECK(r.backbone.bits == Approx(r.backbone.params * 8 + matrices));
    // one task: two Houlsby adapters (2 x 768 x 64 + 64 + 768 each), two LayerNorms, pooler + classifier
    CHECK(r.task.params == 2.0 * (2 * 768 * 64 + 64 + 768) + 4 * 768 + 768 * 768 + 768 + 768 * 2 + 2);
    CHECK(r.finetuned.params == r.backbone.params + 768.0 * 768 + 768 + 768 * 2 + 2);
}

TEST_CASE("T tasks: one backbone in ReRAM against T fine-tuned models", "[adapter_memory]") {
    adapter_memory_config c;
    c.shape.sparsity = 0.5;
    c.shape.embedding_sparsity = 0.6;
    hw_params p;
    const adapter_memory_report one = map_adapter_albert(c, p);
    c.tasks = 4;
    const adapter_memory_report four = map_adapter_albert(c, p);
    CHECK(four.adapter_reram_bytes == Approx(one.adapter_reram_bytes));
    CHECK(four.adapter_sram_bytes == Approx(4 * one.adapter_sram_bytes));
    CHECK(four.separate_sram_bytes == Approx(4 * one.separate_sram_bytes));
    CHECK(four.adapter_reram_bytes + four.adapter_sram_bytes < four.separate_sram_bytes);
    // the word table alone at 60 % sparsity: 3.84 M mask bits + 1.536 M bytes = 2.016 MB (reference §7)
    CHECK(one.backbone.bytes() > 2016000.0);
    CHECK_FALSE(one.adapter_fits_reram);  // 2 MiB holds the embeddings, not the whole backbone
    p.reram.capacity_mib = 8;
    CHECK(map_adapter_albert(c, p).adapter_fits_reram);
    c.per_depth_adapters = true;
    CHECK(map_adapter_albert(c, p).task.params > four.task.params);
}

TEST_CASE("read energy per inference follows the layers run", "[adapter_memory]") {
    adapter_memory_config c;
    hw_params p;
    p.reram.read_pj_per_bit = 1.0;
    p.sram.read_pj_per_bit = 0.5;
    c.layers_run = 12;
    const adapter_memory_report all = map_adapter_albert(c, p);
    c.layers_run = 4;
    const adapter_memory_report four = map_adapter_albert(c, p);
    CHECK(four.adapter_read_uj < all.adapter_read_uj);
    const double layer_bits = 8.0 * 7087872 + (4 * 768 * 768 + 2 * 768 * 3072);
    CHECK(all.adapter_reram_read_bits - four.adapter_reram_read_bits == Approx(8 * layer_bits));
    CHECK(all.adapter_read_uj == Approx((all.adapter_reram_read_bits * 1.0 + all.adapter_sram_read_bits * 0.5) * 1e-6));
    // separate models read their embedding rows from the shared ReRAM (EdgeBERT), the rest from SRAM
    const double rows = 128.0 * (128 + 128 * 8 + 2 * 128 * 8);  // per token: word row (mask + 8-bit values), position, type
    CHECK(all.separate_read_uj == Approx((rows * 1.0 + all.separate_sram_read_bits * 0.5) * 1e-6));
    c.layers_run = 13;
    CHECK_THROWS_AS(map_adapter_albert(c, p), config_error);
    c.layers_run = 0;
    c.tasks = 0;
    CHECK_THROWS_AS(map_adapter_albert(c, p), config_error);
}
