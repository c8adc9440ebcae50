// SPDX-License-Identifier: Apache-2.0
#pragma once
// The ALBERT encoder: embeddings, the E->H projection, then num_hidden_layers applications of shared
// layer groups (HF's AlbertTransformer). One AlbertLayer, post-LN as in transformers:
//   qkv = x Wqkvᵀ + b                      (Q, K, V fused into one GEMM)
//   a   = LN(x + attention(qkv) Woᵀ + bo)  (residual fused into the GEMM epilogue)
//   y   = LN(a + act(a W1ᵀ + b1) W2ᵀ + b2) (bias+activation and bias+residual fused)

#include <cstddef>
#include <type_traits>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../kernels/attention.hpp"
#include "../nn/embeddings.hpp"
#include "../nn/layer_norm.hpp"
#include "../nn/linear.hpp"
#include "albert_config.hpp"
#include "token_batch.hpp"

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

/// Scratch for a forward pass, reused by every layer (and, per thread, across calls).
struct encoder_workspace {
    aligned_buffer<float> embedded, qkv, context, attention_out, intermediate;
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
    template <class OnLayer>
    void forward(const token_batch& in, float* hidden, int threads, OnLayer&& on_layer) const {
        const std::size_t M = in.tokens(), E = config_.embedding_size, H = config_.hidden_size,
                          I = config_.intermediate_size;
        thread_local encoder_workspace ws;  // reused across calls: no fresh pages to fault in per inference
        ws.embedded.reserve_scratch(M * E);
        ws.qkv.reserve_scratch(M * 3 * H);
        ws.context.reserve_scratch(M * H);
        ws.attention_out.reserve_scratch(M * H);
        ws.intermediate.reserve_scratch(M * I);
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
            for (const albert_layer& layer : groups_[config_.group_of_layer(i)])
                run_layer(layer, shape, ws, hidden, threads);
            if (!report(i + 1)) return;
        }
    }

    /// One AlbertLayer in place on hidden [M x H].
    void run_layer(const albert_layer& layer, const kernels::attention_shape& shape, encoder_workspace& ws,
                   float* hidden, int threads) const {
        const std::size_t M = shape.batch * shape.seq, H = config_.hidden_size, I = config_.intermediate_size;
        layer.qkv.forward(hidden, M, H, ws.qkv.data(), 3 * H, threads);
        kernels::attention(shape, ws.qkv.data(), 3 * H, ws.keep.data(), ws.context.data(), H, threads);
        float* a = ws.attention_out.data();
        layer.attention_dense.forward(ws.context.data(), M, H, a, H, threads, kernels::activation::identity, hidden, H);
        layer.attention_norm.forward_inplace(a, M, H, threads);
        layer.ffn.forward(a, M, H, ws.intermediate.data(), I, threads, act_);
        layer.ffn_output.forward(ws.intermediate.data(), M, I, hidden, H, threads, kernels::activation::identity, a, H);
        layer.full_layer_norm.forward_inplace(hidden, M, H, threads);
    }

private:
    albert_config config_;
    nn::embeddings embeddings_;
    nn::linear mapping_in_;
    std::vector<std::vector<albert_layer>> groups_;
    kernels::activation act_ = kernels::activation::gelu_tanh;
};

}  // namespace edgebert::model
