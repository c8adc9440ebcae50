// SPDX-License-Identifier: Apache-2.0
#pragma once
// What one inference actually executed, per sentence and per layer: the input of the accelerator model
// (hw/), which prices this trace and never calls a kernel. A trace can come from a run of the model
// (model::multi_task_model fills it) or be synthesised from recorded exit layers (hw/ builds dense traces
// for EdgeBERT's SST-2 entropy traces).

#include <cstddef>
#include <string>
#include <vector>

namespace edgebert::model {

/// One matrix product C[rows x out] = A[rows x in] · Wᵀ with a weight of which `weight_nonzeros` entries are
/// nonzero (in * out when dense). Zero rows or columns of the weight are still part of the product.
struct matmul_work {
    std::string name;  ///< "qkv", "attention.dense", "ffn", "ffn_output", "adapter.attention.down", "off_ramp.pooler", ...
    std::size_t rows = 0;  ///< activation rows (tokens for encoder products, 1 for poolers and classifiers)
    std::size_t in_features = 0;
    std::size_t out_features = 0;
    std::size_t weight_nonzeros = 0;
    std::size_t weight_bits = 32;  ///< bits per stored weight value (32 fp32, 16 fp16/bf16, 8 for 8-bit formats)
    double input_density = 1.0;    ///< fraction of nonzero activation (input) elements; 1 when not measured
};

/// Attention of one layer for one sentence.
struct attention_work {
    std::size_t heads = 0;           ///< heads in the layer
    std::size_t heads_computed = 0;  ///< heads whose span mask is not zero everywhere
    std::size_t head_size = 0;
    std::size_t queries = 0;         ///< query rows per head (the sentence length)
    /// Σ over computed heads and queries of the keys whose score was computed (span mask nonzero, not padding):
    /// the entries of Q·Kᵀ, of the softmax and of P·V that were evaluated.
    std::size_t keys_computed = 0;
    /// The same count with every head and every key (no span): queries * queries * heads.
    std::size_t keys_dense = 0;
};

/// Row-wise operations with a vector of `width` per row (LayerNorm, residual add, softmax rows are counted
/// in attention_work).
struct rowwise_work {
    std::string name;  ///< "attention.layer_norm", "full_layer_layer_norm", "residual", "adapter.layer_norm", ...
    std::size_t rows = 0;
    std::size_t width = 0;
};

/// One encoder layer (one application of an AlbertLayer) for one sentence.
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

}  // namespace edgebert::model
