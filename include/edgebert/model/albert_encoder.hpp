// SPDX-License-Identifier: Apache-2.0
#pragma once
// The ALBERT encoder: embeddings, the E->H projection, then num_hidden_layers applications of shared
// layer groups (HF's AlbertTransformer). One AlbertLayer, post-LN as in transformers:
//   qkv = x Wqkvᵀ + b                      (Q, K, V fused into one GEMM)
//   a   = LN(x + attention(qkv) Woᵀ + bo)  (residual fused into the GEMM epilogue)
//   y   = LN(a + act(a W1ᵀ + b1) W2ᵀ + b2) (bias+activation and bias+residual fused)

#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../kernels/attention.hpp"
#include "../nn/adapter.hpp"
#include "../nn/embeddings.hpp"
#include "../nn/layer_norm.hpp"
#include "../nn/linear.hpp"
#include "../core/albert_config.hpp"
#include "../core/token_batch.hpp"
#include "../trace/events.hpp"

namespace edgebert::model {

/// Weights of one AlbertLayer, over any nn::basic_linear (a storage known at compile time, or nn::linear).
template <class Linear = nn::linear>
struct basic_albert_layer {
    using linear_type = Linear;
    Linear qkv;              ///< [3H x H]: query, key, value stacked in that order
    Linear attention_dense;  ///< [H x H]
    nn::layer_norm attention_norm;
    Linear ffn;              ///< [I x H]
    Linear ffn_output;       ///< [H x I]
    nn::layer_norm full_layer_norm;
};
using albert_layer = basic_albert_layer<>;

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
    aligned_buffer<float> first_context, first_hidden;  ///< [batch x H]: first tokens only (run_layer)
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
    /// task: a task's adapters, LayerNorms, weights and span (nullptr: the plain backbone). observer: receives the
    /// typed events of trace/events.hpp (counts for the whole batch). last_layer_first_tokens: the last layer
    /// computes each sentence's first token only past attention (run_layer), for callers that read nothing
    /// else of its output (the pooler and classifiers read only that token).
    template <class OnLayer>
    void forward(const token_batch& in, float* hidden, int threads, OnLayer&& on_layer, const encoder_task* task = nullptr) const {
        trace::null_observer none;
        forward(in, hidden, threads, std::forward<OnLayer>(on_layer), task, none);
    }
    template <class OnLayer, class Observer>
    void forward(const token_batch& in, float* hidden, int threads, OnLayer&& on_layer, const encoder_task* task,
                 Observer& observer, bool last_layer_first_tokens = false) const {
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
        if constexpr (trace::observes_anything_v<Observer>) {
            trace::notify(observer, trace::embeddings_event{M, E, H, config_.vocab_size, embeddings_.word_density(), config_.num_hidden_layers});
            trace::notify(observer, trace::matmul_event{0, work_of(trace::product::embedding_projection, mapping_in_, M,
                                                                   trace::weight_home::backbone)});
        }
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
                trace::notify(observer, trace::layer_begin_event{i + 1, M});
                const bool first_tokens = last_layer_first_tokens && i + 1 == config_.num_hidden_layers && j + 1 == group.size();
                run_layer(t && t->weights ? *t->weights : group[j], shape, ws, hidden, threads, t, task, observer, i + 1,
                          first_tokens);
                trace::notify(observer, trace::layer_end_event{i + 1});
            }
            if (!report(i + 1)) return;
        }
    }

    /// One AlbertLayer in place on hidden [M x H], unobserved.
    template <class Layer>
    void run_layer(const Layer& layer, const kernels::attention_shape& shape, encoder_workspace& ws, float* hidden, int threads,
                   const task_layer* t = nullptr, const encoder_task* task = nullptr) const {
        trace::null_observer none;
        run_layer(layer, shape, ws, hidden, threads, t, task, none, 1);
    }
    /// One AlbertLayer (of any storage) in place on hidden [M x H], with a task's parts when given; `depth`
    /// (1-based) labels the events the observer receives. first_tokens: every token's key and value are still
    /// computed (the first token attends to them all), but only each sentence's first row goes on through the
    /// output projection, FFN and LayerNorms, as it does alone (rows are independent there, so it gets the same
    /// bits as in the full layer); the other rows of hidden become NaN, so reading them cannot pass unnoticed.
    template <class Layer, class Observer = trace::null_observer>
    void run_layer(const Layer& layer, const kernels::attention_shape& shape, encoder_workspace& ws, float* hidden,
                   int threads, const task_layer* t, const encoder_task* task, Observer& observer, std::size_t depth,
                   bool first_tokens = false) const {
        const std::size_t M = shape.batch * shape.seq, H = config_.hidden_size, I = config_.intermediate_size;
        const nn::layer_norm& attention_norm = t && t->attention_norm ? *t->attention_norm : layer.attention_norm;
        const nn::layer_norm& full_norm = t && t->full_layer_norm ? *t->full_layer_norm : layer.full_layer_norm;
        const nn::bottleneck_adapter* mh = t && t->attention_adapter ? &*t->attention_adapter : nullptr;
        const nn::bottleneck_adapter* out = t && t->output_adapter ? &*t->output_adapter : nullptr;
        const kernels::attention_span* span = task && task->span ? &*task->span : nullptr;

        layer.qkv.forward(hidden, M, H, ws.qkv.data(), 3 * H, threads);
        constexpr bool observed = trace::observes_anything_v<Observer>;
        kernels::attention_stats stats;
        kernels::attention(shape, ws.qkv.data(), 3 * H, ws.keep.data(), ws.context.data(), H, threads, span,
                           observed ? &stats : nullptr);
        // R rows go on past attention: all of them, or each sentence's first token gathered from its row b * seq.
        const std::size_t R = first_tokens ? shape.batch : M;
        const float* context = ws.context.data();
        float* x = hidden;  // the block input (the residual), updated in place to the block output
        if (first_tokens) {
            ws.first_context.reserve_scratch(R * H);
            ws.first_hidden.reserve_scratch(R * H);
            for (std::size_t b = 0; b < R; ++b) {
                std::copy_n(ws.context.data() + b * shape.seq * H, H, ws.first_context.data() + b * H);
                std::copy_n(hidden + b * shape.seq * H, H, ws.first_hidden.data() + b * H);
            }
            context = ws.first_context.data();
            x = ws.first_hidden.data();
        }
        float* a = ws.attention_out.data();
        if (!mh) {
            layer.attention_dense.forward(context, R, H, a, H, threads, kernels::activation::identity, x, H);
            attention_norm.forward_inplace(a, R, H, threads);
        } else {
            float* s = ws.sublayer.data();
            layer.attention_dense.forward(context, R, H, s, H, threads);
            if (task->adapter_input == attention_adapter_input::block_input) mh->apply(x, s, attention_norm, a, R, threads);
            else mh->apply(s, x, attention_norm, a, R, threads);
        }
        layer.ffn.forward(a, R, H, ws.intermediate.data(), I, threads, act_);
        if (!out) {
            layer.ffn_output.forward(ws.intermediate.data(), R, I, x, H, threads, kernels::activation::identity, a, H);
            full_norm.forward_inplace(x, R, H, threads);
        } else {
            float* f = ws.sublayer.data();
            layer.ffn_output.forward(ws.intermediate.data(), R, I, f, H, threads);
            out->apply(f, a, full_norm, x, R, threads);
        }
        if (first_tokens) {
            std::fill_n(hidden, M * H, std::numeric_limits<float>::quiet_NaN());
            for (std::size_t b = 0; b < R; ++b) std::copy_n(x + b * H, H, hidden + b * shape.seq * H);
        }
        if constexpr (observed) report_layer(observer, depth, layer, shape, stats, mh, out, R);
    }

    /// What a product of `l` on `rows` activation rows is, for the observer.
    template <class Linear>
    static trace::matmul_work work_of(trace::product what, const Linear& l, std::size_t rows, trace::weight_home home) {
        trace::storage held = trace::storage::dense_f32;
        switch (l.kind()) {
            case nn::storage_kind::dense_f32: held = trace::storage::dense_f32; break;
            case nn::storage_kind::q8: held = trace::storage::codes_8bit; break;
            case nn::storage_kind::bitmask: held = trace::storage::bitmask; break;
            case nn::storage_kind::block_sparse: held = trace::storage::block_sparse; break;
            case nn::storage_kind::int8: held = trace::storage::int8; break;
            case nn::storage_kind::block_sparse_int8: held = trace::storage::block_sparse_int8; break;
        }
        return {what, rows, l.in_features(), l.out_features(), l.nonzeros(), l.weight_bits(), held, home};
    }

private:
    // The events of one layer, in the order the accelerator runs them. The encoder's own matrices count as the
    // backbone's (also a task's pruned copy of them, as EdgeBERT's single-task accelerator holds it); adapters
    // are the task's. R: the rows that went on past attention (M, or the first tokens).
    template <class Observer, class Layer>
    void report_layer(Observer& observer, std::size_t depth, const Layer& layer, const kernels::attention_shape& shape,
                      const kernels::attention_stats& stats, const nn::bottleneck_adapter* mh,
                      const nn::bottleneck_adapter* out, std::size_t R) const {
        const std::size_t M = shape.batch * shape.seq, H = config_.hidden_size;
        using trace::product;
        auto matmul = [&](product what, const auto& l, trace::weight_home home) {
            trace::notify(observer, trace::matmul_event{depth, work_of(what, l, what == product::qkv ? M : R, home)});
        };
        auto rowwise = [&](trace::rowwise_op op) { trace::notify(observer, trace::rowwise_event{depth, {op, R, H}}); };
        matmul(product::qkv, layer.qkv, trace::weight_home::backbone);
        matmul(product::attention_output, layer.attention_dense, trace::weight_home::backbone);
        if (mh) matmul(product::adapter_down, mh->down(), trace::weight_home::task), matmul(product::adapter_up, mh->up(), trace::weight_home::task);
        matmul(product::ffn, layer.ffn, trace::weight_home::backbone);
        matmul(product::ffn_output, layer.ffn_output, trace::weight_home::backbone);
        if (out) matmul(product::adapter_down, out->down(), trace::weight_home::task), matmul(product::adapter_up, out->up(), trace::weight_home::task);
        trace::notify(observer, trace::attention_event{depth, {shape.heads * shape.batch, stats.heads_computed, shape.head_dim, shape.seq,
                                                              stats.keys_computed, shape.batch * shape.heads * shape.seq * shape.seq}});
        rowwise(trace::rowwise_op::residual_add);
        rowwise(trace::rowwise_op::layer_norm);
        rowwise(trace::rowwise_op::residual_add);
        rowwise(trace::rowwise_op::layer_norm);
        for (const nn::bottleneck_adapter* ad : {mh, out}) {
            if (!ad) continue;
            rowwise(trace::rowwise_op::residual_add);
            if (ad->config().original_ln_before) rowwise(trace::rowwise_op::layer_norm);
        }
    }

    albert_config config_;
    nn::embeddings embeddings_;
    nn::linear mapping_in_;
    std::vector<std::vector<albert_layer>> groups_;
    kernels::activation act_ = kernels::activation::gelu_tanh;
};

}  // namespace edgebert::model
