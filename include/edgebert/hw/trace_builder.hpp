// SPDX-License-Identifier: Apache-2.0
#pragma once
// Synthesised work traces for sentences of which only the exit layer is known (EdgeBERT's recorded SST-2
// entropies): the work an ALBERT-like model of a given shape executes for one sentence of seq_len tokens
// that leaves at a given layer. Also completes a recorded trace to the full depth, so that the "all layers"
// baseline can be priced from a run that exited early.

#include <cmath>
#include <cstddef>
#include <string>

#include "../core/error.hpp"
#include "../trace/work_trace.hpp"

namespace edgebert::hw {

/// The shape of an ALBERT model as far as the work is concerned (defaults: albert-base-v2, 2 labels, 128
/// tokens as EdgeBERT's GLUE scripts pad to; reference/edgebert.md §2.1).
struct albert_shape {
    std::size_t hidden = 768;
    std::size_t intermediate = 3072;
    std::size_t embedding = 128;
    std::size_t heads = 12;
    std::size_t layers = 12;
    std::size_t labels = 2;
    std::size_t seq_len = 128;
    std::size_t vocab = 30000;
    double sparsity = 0.0;            ///< fraction of zero weights in the encoder linears (Q, K, V, O, FFN)
    double embedding_sparsity = 0.0;  ///< fraction of zero word-embedding entries (and of the E->H projection)

    void validate() const {
        auto pos = [](std::size_t v, const char* key) {
            if (v == 0 || v > (std::size_t(1) << 24)) throw config_error(std::string("albert_shape.") + key + " must be in [1, 2^24]");
        };
        pos(hidden, "hidden"), pos(intermediate, "intermediate"), pos(embedding, "embedding"), pos(heads, "heads");
        pos(layers, "layers"), pos(labels, "labels"), pos(seq_len, "seq_len"), pos(vocab, "vocab");
        if (hidden % heads) throw config_error("albert_shape.hidden (" + std::to_string(hidden) + ") must be a multiple of heads (" +
                                               std::to_string(heads) + ")");
        for (double s : {sparsity, embedding_sparsity})
            if (!(s >= 0 && s < 1)) throw config_error("albert_shape sparsity must be in [0, 1), got " + std::to_string(s));
    }
};

inline bool is_off_ramp(trace::product p) noexcept {
    return p == trace::product::off_ramp_pooler || p == trace::product::off_ramp_classifier;
}

namespace detail {
inline model::matmul_work product(trace::product what, std::size_t rows, std::size_t in, std::size_t out, double sparsity,
                                  trace::weight_home home) {
    const double all = double(in) * double(out);
    return {what, rows, in, out, std::size_t(std::llround(all * (1.0 - sparsity))), 8, trace::storage::codes_8bit, home};
}
}  // namespace detail

/// The work of one sentence that exits after `exit_layer` (1..layers): embeddings, the E->H projection,
/// layers 1..exit_layer each with its off-ramp (pooler + classifier on token 0) and entropy, except the last
/// layer of the model, which is followed by the final pooler and classifier instead. No span: every head and
/// key is computed.
inline model::inference_trace build_trace(const albert_shape& s, std::size_t exit_layer) {
    s.validate();
    if (exit_layer < 1 || exit_layer > s.layers)
        throw config_error("build_trace: exit layer " + std::to_string(exit_layer) + " is outside 1.." + std::to_string(s.layers));
    const std::size_t L = s.seq_len, H = s.hidden, I = s.intermediate;
    model::inference_trace t;
    t.seq_len = L;
    t.embedding_size = s.embedding;
    t.hidden_size = H;
    t.vocab_size = s.vocab;
    t.embedding_density = 1.0 - s.embedding_sparsity;
    t.embedding_matmuls.push_back(detail::product(trace::product::embedding_projection, L, s.embedding, H, s.embedding_sparsity, trace::weight_home::backbone));
    t.layers_total = s.layers;
    t.exit_layer = exit_layer;
    for (std::size_t i = 1; i <= exit_layer; ++i) {
        model::layer_work w;
        w.layer = i;
        w.seq_len = L;
        w.matmuls.push_back(detail::product(trace::product::qkv, L, H, 3 * H, s.sparsity, trace::weight_home::backbone));
        w.matmuls.push_back(detail::product(trace::product::attention_output, L, H, H, s.sparsity, trace::weight_home::backbone));
        w.matmuls.push_back(detail::product(trace::product::ffn, L, H, I, s.sparsity, trace::weight_home::backbone));
        w.matmuls.push_back(detail::product(trace::product::ffn_output, L, I, H, s.sparsity, trace::weight_home::backbone));
        w.attention = {s.heads, s.heads, H / s.heads, L, s.heads * L * L, s.heads * L * L};
        w.rowwise.push_back({trace::rowwise_op::residual_add, L, H});
        w.rowwise.push_back({trace::rowwise_op::layer_norm, L, H});
        w.rowwise.push_back({trace::rowwise_op::residual_add, L, H});
        w.rowwise.push_back({trace::rowwise_op::layer_norm, L, H});
        if (i < s.layers) {
            w.matmuls.push_back(detail::product(trace::product::off_ramp_pooler, 1, H, H, 0.0, trace::weight_home::task));
            w.matmuls.push_back(detail::product(trace::product::off_ramp_classifier, 1, H, s.labels, 0.0, trace::weight_home::task));
            w.entropy_labels = s.labels;
        }
        t.layers.push_back(std::move(w));
    }
    if (exit_layer == s.layers) {
        t.head_matmuls.push_back(detail::product(trace::product::pooler, 1, H, H, 0.0, trace::weight_home::task));
        t.head_matmuls.push_back(detail::product(trace::product::classifier, 1, H, s.labels, 0.0, trace::weight_home::task));
    }
    return t;
}

/// A recorded trace completed to the model's full depth: missing layers repeat the last recorded layer's
/// work (ALBERT applies the same layer shape at every depth), and when the final pooler and classifier are
/// missing they take the shape of the last off-ramp's. The exit layer becomes layers_total.
inline model::inference_trace extend_to_all_layers(const model::inference_trace& in) {
    if (in.layers.empty()) throw input_error("extend_to_all_layers: the trace has no layers");
    if (in.layers_total < in.layers.size())
        throw input_error("extend_to_all_layers: the trace has " + std::to_string(in.layers.size()) + " layers, layers_total is " +
                          std::to_string(in.layers_total));
    model::inference_trace t = in;
    while (t.layers.size() < t.layers_total) {
        model::layer_work w = t.layers.back();
        w.layer = t.layers.size() + 1;
        t.layers.push_back(std::move(w));
    }
    if (t.head_matmuls.empty()) {
        for (const model::matmul_work& m : t.layers.back().matmuls)
            if (is_off_ramp(m.what)) {
                model::matmul_work h = m;
                h.what = m.what == trace::product::off_ramp_pooler ? trace::product::pooler : trace::product::classifier;
                t.head_matmuls.push_back(h);
            }
        if (t.head_matmuls.empty())
            throw input_error("extend_to_all_layers: the trace has no off-ramp to take the final classifier's shape from");
    }
    // The last layer feeds the final classifier, not an off-ramp.
    auto& last = t.layers.back().matmuls;
    for (std::size_t k = last.size(); k-- > 0;)
        if (is_off_ramp(last[k].what)) last.erase(last.begin() + std::ptrdiff_t(k));
    t.layers.back().entropy_labels = 0;
    t.exit_layer = t.layers_total;
    return t;
}

}  // namespace edgebert::hw

namespace edgebert::hw {

/// The first `layers` layers of a complete trace: what a sentence leaving after layer `layers` executed.
/// The off-ramp of the exit layer stays (it gave the answer); the final pooler and classifier are kept
/// only when every layer runs.
inline model::inference_trace truncate_trace(const model::inference_trace& full, std::size_t layers) {
    if (layers < 1 || layers > full.layers.size())
        throw input_error("truncate_trace: " + std::to_string(layers) + " layers asked of a trace of " +
                          std::to_string(full.layers.size()));
    model::inference_trace t = full;
    t.layers.resize(layers);
    if (layers < full.layers_total) t.head_matmuls.clear();
    t.exit_layer = layers;
    if (t.entropies.size() > layers) t.entropies.resize(layers);
    return t;
}

}  // namespace edgebert::hw
