// SPDX-License-Identifier: Apache-2.0
#pragma once
// What one inference executed, per sentence and per layer: the input of the accelerator model (hw/), which
// prices this trace and never calls a kernel. A trace is recorded from a run of the model by
// trace::recorder (trace/recorder.hpp, an observer of the typed events in trace/events.hpp) or synthesised from
// recorded exit layers (hw/trace_builder.hpp builds dense traces for EdgeBERT's SST-2 entropy traces).
// Every field is typed: what a product is, how its weight is stored and where it lives are enums, never names.

#include <cstddef>
#include <vector>

namespace edgebert::trace {

/// Which matrix product of the model.
enum class product {
    embedding_projection,  ///< E -> H (embedding_hidden_mapping_in)
    qkv,                   ///< Q, K and V of one AlbertLayer, stacked
    attention_output,      ///< attention.dense
    ffn,
    ffn_output,
    adapter_down,
    adapter_up,
    off_ramp_pooler,
    off_ramp_classifier,
    pooler,
    classifier,
    head,  ///< a layer of a task's own classification head
};

/// How a weight is held in memory (nn::linear's storages).
enum class storage { dense_f32, codes_8bit, bitmask, block_sparse, int8, block_sparse_int8 };

/// Whose weight it is: the shared backbone (adapter-ALBERT puts it in ReRAM) or one task's own parts (SRAM).
enum class weight_home { backbone, task };

inline const char* to_string(product p) noexcept {
    switch (p) {
        case product::embedding_projection: return "embedding_hidden_mapping_in";
        case product::qkv: return "qkv";
        case product::attention_output: return "attention.dense";
        case product::ffn: return "ffn";
        case product::ffn_output: return "ffn_output";
        case product::adapter_down: return "adapter.down";
        case product::adapter_up: return "adapter.up";
        case product::off_ramp_pooler: return "off_ramp.pooler";
        case product::off_ramp_classifier: return "off_ramp.classifier";
        case product::pooler: return "pooler";
        case product::classifier: return "classifier";
        case product::head: return "head";
    }
    return "?";
}
inline const char* to_string(storage s) noexcept {
    switch (s) {
        case storage::dense_f32: return "dense_f32";
        case storage::codes_8bit: return "codes_8bit";
        case storage::bitmask: return "bitmask";
        case storage::block_sparse: return "block_sparse";
        case storage::int8: return "int8";
        case storage::block_sparse_int8: return "block_sparse_int8";
    }
    return "?";
}
inline const char* to_string(weight_home h) noexcept { return h == weight_home::backbone ? "backbone" : "task"; }

/// One matrix product C[rows x out] = A[rows x in] · Wᵀ with a weight of which `weight_nonzeros` entries are
/// nonzero (in * out when dense). Zero rows or columns of the weight are still part of the product.
struct matmul_work {
    product what = product::qkv;
    std::size_t rows = 0;  ///< activation rows (tokens for encoder products, 1 per sentence for poolers and classifiers)
    std::size_t in_features = 0;
    std::size_t out_features = 0;
    std::size_t weight_nonzeros = 0;
    std::size_t weight_bits = 32;  ///< bits per stored weight value as held (32 fp32, 8 for 8-bit codes)
    storage held_as = storage::dense_f32;
    weight_home home = weight_home::backbone;
    double input_density = 1.0;  ///< fraction of nonzero activation (input) elements; 1 when not measured
};

/// Attention of one layer.
struct attention_work {
    std::size_t heads = 0;           ///< heads in the layer (times the sentences of a batch)
    std::size_t heads_computed = 0;  ///< heads whose span mask is not zero everywhere
    std::size_t head_size = 0;
    std::size_t queries = 0;         ///< query rows per head (the sentence length)
    /// Σ over computed heads and queries of the keys whose score was computed (span mask nonzero, not padding):
    /// the entries of Q·Kᵀ, of the softmax and of P·V that were evaluated.
    std::size_t keys_computed = 0;
    /// The same count with every head and every key (no span): queries * queries * heads.
    std::size_t keys_dense = 0;
};

/// Row-wise operations on vectors of `width` (softmax rows are counted in attention_work).
enum class rowwise_op { residual_add, layer_norm };
struct rowwise_work {
    rowwise_op op = rowwise_op::residual_add;
    std::size_t rows = 0;
    std::size_t width = 0;
};

/// One encoder layer (one application of an AlbertLayer module).
struct layer_work {
    std::size_t layer = 0;  ///< 1-based depth
    std::size_t seq_len = 0;
    std::vector<matmul_work> matmuls;
    attention_work attention;
    std::vector<rowwise_work> rowwise;
    std::size_t entropy_labels = 0;  ///< classes of the off-ramp whose entropy was evaluated after it (0: none)
};

/// Everything one sentence ran.
struct inference_trace {
    std::size_t seq_len = 0;         ///< tokens (without padding)
    std::size_t embedding_size = 0;  ///< E (embedding rows read per token, from the word, position and type tables)
    std::size_t hidden_size = 0;     ///< H
    std::size_t vocab_size = 0;
    double embedding_density = 1.0;  ///< fraction of nonzero word-embedding entries (1 dense)
    std::vector<matmul_work> embedding_matmuls;  ///< the E->H projection
    std::vector<layer_work> layers;              ///< in execution order
    std::vector<matmul_work> head_matmuls;       ///< final pooler and classifier when the last layer was reached
    std::size_t layers_total = 0;                ///< num_hidden_layers of the model
    std::size_t exit_layer = 0;                  ///< layer whose classifier gave the answer (1..layers_total)
    std::vector<float> entropies;                ///< entropy after each layer evaluated (index 0 = layer 1)
};

}  // namespace edgebert::trace

namespace edgebert::model {  // where these types lived before trace/ existed
using trace::attention_work;
using trace::inference_trace;
using trace::layer_work;
using trace::matmul_work;
using trace::rowwise_work;
}  // namespace edgebert::model
