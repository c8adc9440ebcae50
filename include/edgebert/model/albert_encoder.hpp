// SPDX-License-Identifier: Apache-2.0
#pragma once
// The ALBERT encoder: embeddings, the E->H projection, then num_hidden_layers applications of shared
// layer groups (HF's AlbertTransformer). One AlbertLayer, post-LN as in transformers:
//   qkv = x Wqkvᵀ + b                      (Q, K, V fused into one GEMM)
//   a   = LN(x + attention(qkv) Woᵀ + bo)  (residual fused into the GEMM epilogue)
//   y   = LN(a + act(a W1ᵀ + b1) W2ᵀ + b2) (bias+activation and bias+residual fused)

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../kernels/attention.hpp"
#include "../nn/adapter.hpp"
#include "../nn/embeddings.hpp"
#include "../nn/layer_norm.hpp"
#include "../nn/linear.hpp"
#include "albert_config.hpp"
#include "token_batch.hpp"
#include "work_trace.hpp"

namespace edgebert::model {

/// Weights of one AlbertLayer.
struct albert_layer {
    nn::linear qkv;              ///< [3H x H]: query, key, value stacked in that order
    nn::linear attention_dense;  ///< [H x H]
    nn::layer_norm attention_norm;
    nn::linear ffn;              ///< [I x H]
    nn::linear ffn_output;       ///< [H x I]
    nn::layer_norm full_layer_norm;
};

/// Where AdapterHub feeds the attention adapter of ALBERT: its AlbertAttention hands the adapter the block
/// input x as hidden_states and the projected context s as the residual input (BERT does the opposite; see
/// docs/adapters.md). sublayer_output is Houlsby's definition (the adapter reads s).
enum class attention_adapter_input { block_input, sublayer_output };

/// What a task changes in one AlbertLayer module (or at one depth): its adapters, its LayerNorms, or all
/// its weights (a task that pruned the encoder). Empty members leave the backbone's own.
struct task_layer {
    std::optional<nn::bottleneck_adapter> attention_adapter, output_adapter;
    std::optional<nn::layer_norm> attention_norm, full_layer_norm;
    std::shared_ptr<const albert_layer> weights;
};

/// A task's parts in the shared encoder.
struct encoder_task {
    /// One entry per AlbertLayer module (group * inner_group_num + j): shared across depth, as AdapterHub
    /// does for ALBERT; or, with per_depth, one per (depth, inner layer): depth * inner_group_num + j.
    std::vector<task_layer> layers;
    bool per_depth = false;
    attention_adapter_input adapter_input = attention_adapter_input::block_input;
    std::optional<kernels::attention_span> span;

    const task_layer* at(std::size_t depth, std::size_t group, std::size_t inner, std::size_t inner_count) const noexcept {
        const std::size_t i = (per_depth ? depth : group) * inner_count + inner;
        return i < layers.size() ? &layers[i] : nullptr;
    }
};

/// Scratch for a forward pass, reused by every layer (and, per thread, across calls).
struct encoder_workspace {
    aligned_buffer<float> embedded, qkv, context, attention_out, intermediate, sublayer;
    std::vector<std::uint8_t> keep;
};

class albert_encoder {
public:
    albert_encoder() = default;
    albert_encoder(albert_config config, nn::embeddings embeddings, nn::linear mapping_in,
                   std::vector<std::vector<albert_layer>> groups)
        : config_(std::move(config)), embeddings_(std::move(embeddings)), mapping_in_(std::move(mapping_in)),
          groups_(std::move(groups)), act_(config_.activation()) {}

    const albert_config& config() const noexcept { return config_; }
    const nn::embeddings& embeddings() const noexcept { return embeddings_; }
    const nn::linear& mapping_in() const noexcept { return mapping_in_; }
    const std::vector<std::vector<albert_layer>>& groups() const noexcept { return groups_; }

    /// Run the encoder on a validated batch. hidden: [batch*seq x H], receives the last layer's output.
    /// on_layer(i, hidden) is called with i = 0 for the projected embeddings and i = 1..L after each layer
    /// (HuggingFace's hidden_states numbering); if it returns false the remaining layers are skipped.
    /// task: a task's adapters, LayerNorms, weights and span (nullptr: the plain backbone). work: when given,
    /// receives one layer_work per layer run (counts for the whole batch).
    template <class OnLayer>
    void forward(const token_batch& in, float* hidden, int threads, OnLayer&& on_layer,
                 const encoder_task* task = nullptr, std::vector<layer_work>* work = nullptr) const {
        const std::size_t M = in.tokens(), E = config_.embedding_size, H = config_.hidden_size,
                          I = config_.intermediate_size;
        thread_local encoder_workspace ws;  // reused across calls: no fresh pages to fault in per inference
        ws.embedded.reserve_scratch(M * E);
        ws.qkv.reserve_scratch(M * 3 * H);
        ws.context.reserve_scratch(M * H);
        ws.attention_out.reserve_scratch(M * H);
        ws.intermediate.reserve_scratch(M * I);
        if (task) ws.sublayer.reserve_scratch(M * H);
        ws.keep.resize(M);
        for (std::size_t b = 0; b < in.batch; ++b)
            for (std::size_t s = 0; s < in.seq; ++s) ws.keep[b * in.seq + s] = in.mask(b, s) != 0;

        embeddings_.forward(in, ws.embedded.data(), threads);
        mapping_in_.forward(ws.embedded.data(), M, E, hidden, H, threads);
        // on_layer may return false to stop (every sentence has left through an off-ramp).
        auto report = [&](std::size_t i) {
            if constexpr (std::is_same_v<decltype(on_layer(i, static_cast<const float*>(hidden))), bool>)
                return on_layer(i, static_cast<const float*>(hidden));
            else
                return on_layer(i, static_cast<const float*>(hidden)), true;
        };
        if (!report(0)) return;

        const kernels::attention_shape shape{in.batch, in.seq, config_.num_attention_heads, config_.head_size()};
        for (std::size_t i = 0; i < config_.num_hidden_layers; ++i) {
            const std::size_t g = config_.group_of_layer(i);
            const std::vector<albert_layer>& group = groups_[g];
            for (std::size_t j = 0; j < group.size(); ++j) {
                const task_layer* t = task ? task->at(i, g, j, group.size()) : nullptr;
                layer_work* w = nullptr;
                if (work) {
                    work->emplace_back();
                    w = &work->back();
                    w->layer = i + 1;
                    w->seq_len = M;
                }
                run_layer(t && t->weights ? *t->weights : group[j], shape, ws, hidden, threads, t, task, w);
            }
            if (!report(i + 1)) return;
        }
    }

    /// One AlbertLayer in place on hidden [M x H], with a task's parts when given.
    void run_layer(const albert_layer& layer, const kernels::attention_shape& shape, encoder_workspace& ws,
                   float* hidden, int threads, const task_layer* t = nullptr, const encoder_task* task = nullptr,
                   layer_work* work = nullptr) const {
        const std::size_t M = shape.batch * shape.seq, H = config_.hidden_size, I = config_.intermediate_size;
        const nn::layer_norm& attention_norm = t && t->attention_norm ? *t->attention_norm : layer.attention_norm;
        const nn::layer_norm& full_norm = t && t->full_layer_norm ? *t->full_layer_norm : layer.full_layer_norm;
        const nn::bottleneck_adapter* mh = t && t->attention_adapter ? &*t->attention_adapter : nullptr;
        const nn::bottleneck_adapter* out = t && t->output_adapter ? &*t->output_adapter : nullptr;
        const kernels::attention_span* span = task && task->span ? &*task->span : nullptr;

        layer.qkv.forward(hidden, M, H, ws.qkv.data(), 3 * H, threads);
        kernels::attention_stats stats;
        kernels::attention(shape, ws.qkv.data(), 3 * H, ws.keep.data(), ws.context.data(), H, threads, span,
                           work ? &stats : nullptr);
        float* a = ws.attention_out.data();
        if (!mh) {
            layer.attention_dense.forward(ws.context.data(), M, H, a, H, threads, kernels::activation::identity, hidden, H);
            attention_norm.forward_inplace(a, M, H, threads);
        } else {
            float* s = ws.sublayer.data();
            layer.attention_dense.forward(ws.context.data(), M, H, s, H, threads);
            if (task->adapter_input == attention_adapter_input::block_input) mh->apply(hidden, s, attention_norm, a, M, threads);
            else mh->apply(s, hidden, attention_norm, a, M, threads);
        }
        layer.ffn.forward(a, M, H, ws.intermediate.data(), I, threads, act_);
        if (!out) {
            layer.ffn_output.forward(ws.intermediate.data(), M, I, hidden, H, threads, kernels::activation::identity, a, H);
            full_norm.forward_inplace(hidden, M, H, threads);
        } else {
            float* f = ws.sublayer.data();
            layer.ffn_output.forward(ws.intermediate.data(), M, I, f, H, threads);
            out->apply(f, a, full_norm, hidden, M, threads);
        }
        if (work) record(*work, layer, shape, stats, mh, out);
    }

private:
    void record(layer_work& w, const albert_layer& layer, const kernels::attention_shape& shape,
                const kernels::attention_stats& stats, const nn::bottleneck_adapter* mh,
                const nn::bottleneck_adapter* out) const {
        const std::size_t M = shape.batch * shape.seq, H = config_.hidden_size;
        auto product = [&](const char* name, const nn::linear& l) {
            w.matmuls.push_back({name, M, l.in_features(), l.out_features(), l.nonzeros(), 32});
        };
        product("qkv", layer.qkv);
        product("attention.dense", layer.attention_dense);
        if (mh) product("adapter.attention.down", mh->down()), product("adapter.attention.up", mh->up());
        product("ffn", layer.ffn);
        product("ffn_output", layer.ffn_output);
        if (out) product("adapter.output.down", out->down()), product("adapter.output.up", out->up());
        w.attention = {shape.heads * shape.batch, stats.heads_computed, shape.head_dim, shape.seq, stats.keys_computed,
                       shape.batch * shape.heads * shape.seq * shape.seq};
        w.rowwise.push_back({"residual", M, H});
        w.rowwise.push_back({"attention.LayerNorm", M, H});
        w.rowwise.push_back({"residual", M, H});
        w.rowwise.push_back({"full_layer_layer_norm", M, H});
        for (const nn::bottleneck_adapter* ad : {mh, out}) {
            if (!ad) continue;
            w.rowwise.push_back({"adapter.residual", M, H});
            if (ad->config().original_ln_before) w.rowwise.push_back({"adapter.original_ln_before", M, H});
        }
    }

    albert_config config_;
    nn::embeddings embeddings_;
    nn::linear mapping_in_;
    std::vector<std::vector<albert_layer>> groups_;
    kernels::activation act_ = kernels::activation::gelu_tanh;
};

}  // namespace edgebert::model
