// SPDX-License-Identifier: Apache-2.0
#pragma once
// adapter-ALBERT's heterogeneous memory mapping (reference/adapter_albert.md §3): the shared backbone
// (embeddings and the shared encoder layer) stored once, bit-mask sparse, in ReRAM; each task's own parts
// (adapters, task LayerNorms, pooler and classifier) dense in SRAM. Compared with T separately fine-tuned
// ALBERTs (bit-mask sparse too): their frozen embeddings once in ReRAM as EdgeBERT does
// (`separate_embeddings_in_reram`, default) or everything in SRAM, the rest T times in SRAM. Also the read
// energy of one inference: the shared layer's weights are fetched once per layer run (the PU buffers cannot
// hold them), adapters and LayerNorms once per layer, the head once; and, with every array sized to what it
// holds, area and leakage from the memories' per-MiB figures (NVMExplorer's 2 MB arrays, scaled linearly).

#include <cmath>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "hw_params.hpp"
#include "memory_model.hpp"
#include "trace_builder.hpp"

namespace edgebert::hw {

struct adapter_memory_config {
    albert_shape shape;                ///< sparsity: encoder linears; embedding_sparsity: word table and E->H projection
    std::size_t max_positions = 512;
    std::size_t type_vocab = 2;
    std::size_t tasks = 1;
    std::size_t bottleneck = 64;       ///< adapter width m
    bool houlsby = true;               ///< two adapters per layer (after attention and after the FFN); false: Pfeiffer (one)
    bool per_depth_adapters = false;   ///< one adapter set per depth, instead of one shared across depth (AdapterHub on ALBERT)
    bool task_layer_norms = true;      ///< each task trains its own copies of the layer's two LayerNorms
    std::size_t layers_run = 0;        ///< layers per inference for the read energy (0: all)
    bool separate_embeddings_in_reram = true;  ///< separate models share their frozen embeddings in ReRAM (EdgeBERT)
    double inferences_per_s = 1.0;     ///< for energy per second: reads x rate + leakage

    void validate() const {
        shape.validate();
        if (tasks == 0 || tasks > 100000) throw config_error("adapter_memory_config.tasks must be in [1, 100000]");
        if (bottleneck == 0 || bottleneck > shape.hidden) throw config_error("adapter_memory_config.bottleneck must be in [1, hidden]");
        if (layers_run > shape.layers) throw config_error("adapter_memory_config.layers_run exceeds the model's layers");
        if (max_positions < shape.seq_len) throw config_error("adapter_memory_config.max_positions is below seq_len");
        if (!(inferences_per_s >= 0) || !std::isfinite(inferences_per_s))
            throw config_error("adapter_memory_config.inferences_per_s must be non-negative and finite");
    }
};

/// Parameters and stored bits of one group of tensors.
struct param_block {
    double params = 0;
    double bits = 0;
    param_block& operator+=(const param_block& o) noexcept { params += o.params, bits += o.bits; return *this; }
    double bytes() const noexcept { return bits / 8.0; }
};

/// One mapping's memories, each array sized to its contents.
struct memory_footprint {
    double reram_bytes = 0, sram_bytes = 0;
    double reram_area_mm2 = 0, sram_area_mm2 = 0;
    double reram_leakage_mw = 0, sram_leakage_mw = 0;
    double reram_read_bits = 0, sram_read_bits = 0;  ///< per inference
    double read_uj = 0;                              ///< per inference
    double area_mm2() const noexcept { return reram_area_mm2 + sram_area_mm2; }
    double leakage_mw() const noexcept { return reram_leakage_mw + sram_leakage_mw; }
    /// Energy per second (mW = mJ/s) at `rate` inferences per second: reads plus leakage.
    double power_mw(double rate) const noexcept { return read_uj * rate * 1e-3 + leakage_mw(); }
};

struct adapter_memory_report {
    param_block backbone;       ///< embeddings + E->H projection + shared layer, bit-mask sparse
    param_block task;           ///< one task's adapters, LayerNorms, pooler and classifier, dense
    param_block finetuned;      ///< one separately fine-tuned ALBERT (everything), bit-mask sparse as the backbone
    double adapter_reram_bytes = 0, adapter_sram_bytes = 0;
    double separate_reram_bytes = 0, separate_sram_bytes = 0;
    double adapter_read_uj = 0, separate_read_uj = 0;  ///< per inference
    double adapter_reram_read_bits = 0, adapter_sram_read_bits = 0, separate_sram_read_bits = 0;
    bool adapter_fits_reram = false, adapter_fits_sram = false, separate_fits_sram = false;
    memory_footprint adapter, separate;  ///< with leakage and area
    double rate = 1.0;                   ///< inferences per second the power figures assume
};

namespace detail {
inline param_block dense_block(double params, double word_bits) { return {params, params * word_bits}; }
inline param_block sparse_block(double params, double sparsity, double word_bits) {
    return {params, bitmask_bits(params, std::round(params * (1.0 - sparsity)), word_bits)};
}
}  // namespace detail

inline adapter_memory_report map_adapter_albert(const adapter_memory_config& c, const hw_params& p) {
    c.validate();
    p.validate();
    const albert_shape& s = c.shape;
    const double H = double(s.hidden), I = double(s.intermediate), E = double(s.embedding), C = double(s.labels);
    const double wb = double(p.word_bits), m = double(c.bottleneck);
    const double L = double(s.layers), k = double(c.layers_run ? c.layers_run : s.layers);
    using detail::dense_block;
    using detail::sparse_block;

    // Backbone, stored once.
    const param_block word = sparse_block(double(s.vocab) * E, s.embedding_sparsity, wb);
    const param_block pos_type = dense_block(double(c.max_positions + c.type_vocab) * E + 2 * E, wb);
    param_block mapping = sparse_block(E * H, s.embedding_sparsity, wb);
    mapping += dense_block(H, wb);  // its bias
    const param_block linears = sparse_block(4 * H * H + 2 * H * I, s.sparsity, wb);
    const param_block small = dense_block(4 * H + I + H + 4 * H, wb);  // Q,K,V,O and FFN biases, two LayerNorms
    adapter_memory_report r;
    r.backbone += word, r.backbone += pos_type, r.backbone += mapping, r.backbone += linears, r.backbone += small;

    // One task's own parts.
    const double modules = c.per_depth_adapters ? L : 1.0;
    const double per_adapter = 2 * H * m + m + H;
    const param_block adapters = dense_block((c.houlsby ? 2.0 : 1.0) * per_adapter * modules, wb);
    const param_block norms = dense_block(c.task_layer_norms ? 4 * H * modules : 0.0, wb);
    const param_block head = dense_block(H * H + H + H * C + C, wb);
    r.task += adapters, r.task += norms, r.task += head;

    // A separately fine-tuned ALBERT: backbone-like storage plus its head.
    r.finetuned = r.backbone;
    r.finetuned += head;

    const double T = double(c.tasks);
    r.adapter_reram_bytes = r.backbone.bytes();
    r.adapter_sram_bytes = T * r.task.bytes();
    // EdgeBERT keeps the frozen embeddings (word, position and type tables) once in ReRAM for every task.
    param_block embeddings = word;
    embeddings += pos_type;
    r.separate_reram_bytes = c.separate_embeddings_in_reram ? embeddings.bytes() : 0.0;
    r.separate_sram_bytes = T * r.finetuned.bytes() - (c.separate_embeddings_in_reram ? T * embeddings.bytes() : 0.0);
    const double mib = 1024.0 * 1024.0;
    r.adapter_fits_reram = r.adapter_reram_bytes <= p.reram.capacity_mib * mib;
    r.adapter_fits_sram = r.adapter_sram_bytes <= p.sram.capacity_mib * mib;
    r.separate_fits_sram = r.separate_sram_bytes <= p.sram.capacity_mib * mib;

    // One inference of seq_len tokens through k layers.
    const double rows = double(s.seq_len);
    const double embedding_rows = rows * (bitmask_bits(E, std::round(E * (1.0 - s.embedding_sparsity)), wb) + 2 * E * wb);
    const double shared_reads = mapping.bits + k * (linears.bits + small.bits);
    const double task_reads = k * (adapters.bits + norms.bits) / modules + head.bits;
    r.adapter_reram_read_bits = embedding_rows + shared_reads;
    r.adapter_sram_read_bits = task_reads;
    const double separate_reram_read_bits = c.separate_embeddings_in_reram ? embedding_rows : 0.0;
    r.separate_sram_read_bits = embedding_rows + shared_reads + head.bits - separate_reram_read_bits;
    r.adapter_read_uj = (r.adapter_reram_read_bits * p.reram.read_pj_per_bit + r.adapter_sram_read_bits * p.sram.read_pj_per_bit) * 1e-6;
    r.separate_read_uj =
        (separate_reram_read_bits * p.reram.read_pj_per_bit + r.separate_sram_read_bits * p.sram.read_pj_per_bit) * 1e-6;

    auto footprint = [&](double reram_bytes, double sram_bytes, double reram_bits, double sram_bits, double read_uj) {
        memory_footprint f;
        f.reram_bytes = reram_bytes, f.sram_bytes = sram_bytes;
        f.reram_area_mm2 = reram_bytes / mib * p.reram.area_mm2_per_mib;
        f.sram_area_mm2 = sram_bytes / mib * p.sram.area_mm2_per_mib;
        f.reram_leakage_mw = reram_bytes / mib * p.reram.leakage_mw_per_mib;
        f.sram_leakage_mw = sram_bytes / mib * p.sram.leakage_mw_per_mib;
        f.reram_read_bits = reram_bits, f.sram_read_bits = sram_bits, f.read_uj = read_uj;
        return f;
    };
    r.adapter = footprint(r.adapter_reram_bytes, r.adapter_sram_bytes, r.adapter_reram_read_bits, r.adapter_sram_read_bits,
                          r.adapter_read_uj);
    r.separate = footprint(r.separate_reram_bytes, r.separate_sram_bytes, separate_reram_read_bits, r.separate_sram_read_bits,
                           r.separate_read_uj);
    r.rate = c.inferences_per_s;
    return r;
}

inline nlohmann::ordered_json to_json(const memory_footprint& f, double rate) {
    return {{"reram_mib", f.reram_bytes / 1048576.0}, {"sram_mib", f.sram_bytes / 1048576.0},
            {"area_mm2", f.area_mm2()},           {"reram_area_mm2", f.reram_area_mm2}, {"sram_area_mm2", f.sram_area_mm2},
            {"leakage_mw", f.leakage_mw()},       {"reram_leakage_mw", f.reram_leakage_mw}, {"sram_leakage_mw", f.sram_leakage_mw},
            {"read_uj_per_inference", f.read_uj}, {"power_mw", f.power_mw(rate)}};
}

inline nlohmann::ordered_json to_json(const adapter_memory_report& r) {
    return {{"backbone_params", r.backbone.params},
            {"backbone_bytes", r.backbone.bytes()},
            {"task_params", r.task.params},
            {"task_bytes", r.task.bytes()},
            {"finetuned_params", r.finetuned.params},
            {"finetuned_bytes", r.finetuned.bytes()},
            {"adapter_albert", {{"reram_bytes", r.adapter_reram_bytes}, {"sram_bytes", r.adapter_sram_bytes},
                                {"fits_reram", r.adapter_fits_reram}, {"fits_sram", r.adapter_fits_sram},
                                {"read_uj_per_inference", r.adapter_read_uj}}},
            {"separate_albert", {{"reram_bytes", r.separate_reram_bytes}, {"sram_bytes", r.separate_sram_bytes},
                                 {"fits_sram", r.separate_fits_sram}, {"read_uj_per_inference", r.separate_read_uj}}},
            {"inferences_per_s", r.rate},
            {"adapter_albert_memory", to_json(r.adapter, r.rate)},
            {"separate_albert_memory", to_json(r.separate, r.rate)}};
}

}  // namespace edgebert::hw
