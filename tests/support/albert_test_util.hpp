// Shared helpers for tests: small odd-shaped configs, a scalar reference ALBERT forward built only from
// the reference kernels, and writing a model's tensors to a HuggingFace folder.
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <filesystem>
#include <vector>

#include <edgebert/edgebert.hpp>

namespace test_util {

using namespace edgebert;

/// 5 layers in 3 groups (5/3 does not divide), 2 inner layers, head size 9, odd widths everywhere.
inline model::albert_config odd_config(const std::string& act = "gelu") {
    model::albert_config c;
    c.vocab_size = 53, c.embedding_size = 20, c.hidden_size = 36, c.num_hidden_layers = 5;
    c.num_hidden_groups = 3, c.inner_group_num = 2, c.num_attention_heads = 4, c.intermediate_size = 50;
    c.max_position_embeddings = 24, c.type_vocab_size = 3, c.hidden_act = act, c.layer_norm_eps = 1e-12f;
    c.num_labels = 3, c.id2label = {"a", "b", "c"};
    return c;
}

/// A padded batch of `batch` sequences of length `seq` with all token types used.
inline model::token_batch padded_batch(const model::albert_config& c, std::size_t batch, std::size_t seq,
                                       unsigned seed = 1) {
    model::token_batch t;
    t.batch = batch, t.seq = seq;
    unsigned x = seed;
    auto next = [&] { return x = x * 1103515245u + 12345u, (x >> 8); };
    for (std::size_t b = 0; b < batch; ++b) {
        const std::size_t len = b == 0 ? seq : 1 + next() % seq;
        for (std::size_t s = 0; s < seq; ++s) {
            const bool real = s < len;
            t.input_ids.push_back(real ? std::int64_t(1 + next() % (c.vocab_size - 1)) : 0);
            t.attention_mask.push_back(real ? 1 : 0);
            t.token_type_ids.push_back(real ? std::int64_t(next() % c.type_vocab_size) : 0);
        }
    }
    return t;
}

/// Scalar reference forward from raw weights (memory_source), HF semantics; returns hidden states
/// [(L+1) x M x H] followed by logits [B x C] in `logits`. group_of_layer[i] is the hidden group layer i
/// runs, written out by the caller (transformers: int(i / (num_hidden_layers / num_hidden_groups)) in float
/// arithmetic), so the reference does not share the model's own mapping. When multiply_adds is given, every
/// multiply-add of a matrix product is counted into it (dense attention: all seq x seq scores).
inline std::vector<float> reference_forward(const model::albert_config& c, const io::memory_source& w,
                                            const model::token_batch& in, std::vector<float>& logits,
                                            const std::vector<std::size_t>& group_of_layer,
                                            double* multiply_adds = nullptr) {
    if (group_of_layer.size() != c.num_hidden_layers)
        throw std::invalid_argument("reference_forward: one group per layer expected");
    double macs = 0;
    auto get = [&](const std::string& n) -> const std::vector<float>& { return w.tensors().at(n).values; };
    const std::size_t M = in.tokens(), E = c.embedding_size, H = c.hidden_size, I = c.intermediate_size;
    const kernels::activation act = c.activation();
    std::vector<float> emb(M * E);
    for (std::size_t r = 0; r < M; ++r) {
        const std::size_t b = r / in.seq, s = r % in.seq;
        for (std::size_t i = 0; i < E; ++i)
            emb[r * E + i] = (get("albert.embeddings.word_embeddings.weight")[std::size_t(in.input_ids[r]) * E + i] +
                              get("albert.embeddings.token_type_embeddings.weight")[std::size_t(in.token_type(b, s)) * E + i]) +
                             get("albert.embeddings.position_embeddings.weight")[s * E + i];
    }
    kernels::reference::layer_norm(emb.data(), M, E, E, get("albert.embeddings.LayerNorm.weight").data(),
                                   get("albert.embeddings.LayerNorm.bias").data(), c.layer_norm_eps, emb.data(), E);
    auto lin = [&](const std::string& n, const float* x, std::size_t rows, std::size_t in_f, std::size_t out_f,
                   kernels::activation a = kernels::activation::identity, const float* residual = nullptr) {
        std::vector<float> y(rows * out_f);
        macs += double(rows) * double(in_f) * double(out_f);
        kernels::epilogue ep;
        ep.bias = get(n + ".bias").data();
        ep.act = a;
        ep.residual = residual;
        ep.ld_residual = out_f;
        kernels::reference::gemm(x, rows, in_f, in_f, get(n + ".weight").data(), out_f, in_f, y.data(), out_f, ep);
        return y;
    };
    std::vector<float> h = lin("albert.encoder.embedding_hidden_mapping_in", emb.data(), M, E, H);
    std::vector<float> states(h);
    std::vector<std::uint8_t> keep(M);
    for (std::size_t r = 0; r < M; ++r) keep[r] = in.mask(r / in.seq, r % in.seq) != 0;
    for (std::size_t i = 0; i < c.num_hidden_layers; ++i) {
        for (std::size_t j = 0; j < c.inner_group_num; ++j) {
            const std::string l = "albert.encoder.albert_layer_groups." + std::to_string(group_of_layer[i]) +
                                  ".albert_layers." + std::to_string(j) + ".";
            auto q = lin(l + "attention.query", h.data(), M, H, H), k = lin(l + "attention.key", h.data(), M, H, H),
                 v = lin(l + "attention.value", h.data(), M, H, H);
            std::vector<float> qkv(M * 3 * H), ctx(M * H);
            for (std::size_t r = 0; r < M; ++r)
                for (std::size_t t = 0; t < H; ++t)
                    qkv[r * 3 * H + t] = q[r * H + t], qkv[r * 3 * H + H + t] = k[r * H + t],
                                  qkv[r * 3 * H + 2 * H + t] = v[r * H + t];
            kernels::reference::attention({in.batch, in.seq, c.num_attention_heads, c.head_size()}, qkv.data(), 3 * H,
                                          keep.data(), ctx.data(), H);
            // scores Q K^T and context P V: seq x seq x head_size each, per sequence and head
            macs += 2.0 * double(in.batch * c.num_attention_heads) * double(in.seq * in.seq * c.head_size());
            auto a = lin(l + "attention.dense", ctx.data(), M, H, H, kernels::activation::identity, h.data());
            kernels::reference::layer_norm(a.data(), M, H, H, get(l + "attention.LayerNorm.weight").data(),
                                           get(l + "attention.LayerNorm.bias").data(), c.layer_norm_eps, a.data(), H);
            auto f = lin(l + "ffn", a.data(), M, H, I, act);
            h = lin(l + "ffn_output", f.data(), M, I, H, kernels::activation::identity, a.data());
            kernels::reference::layer_norm(h.data(), M, H, H, get(l + "full_layer_layer_norm.weight").data(),
                                           get(l + "full_layer_layer_norm.bias").data(), c.layer_norm_eps, h.data(), H);
        }
        states.insert(states.end(), h.begin(), h.end());
    }
    std::vector<float> cls(in.batch * H);
    for (std::size_t b = 0; b < in.batch; ++b) std::copy_n(h.begin() + std::ptrdiff_t(b * in.seq * H), H, cls.begin() + std::ptrdiff_t(b * H));
    auto pooled = lin("albert.pooler", cls.data(), in.batch, H, H, kernels::activation::tanh);
    logits = lin("classifier", pooled.data(), in.batch, H, c.num_labels);
    if (multiply_adds) *multiply_adds = macs;
    return states;
}

inline void make_dir(const std::string& d) { std::filesystem::create_directories(d); }

/// Write config.json + model.safetensors for the given tensors into folder (created).
inline void write_checkpoint(const std::string& folder, const model::albert_config& c,
                             const std::map<std::string, io::memory_source::tensor>& tensors) {
    make_dir(folder);
    std::ofstream(folder + "/config.json") << c.to_json().dump(2);
    io::safetensors_writer w;
    w.set_metadata("format", "pt");
    for (const auto& [name, t] : tensors) w.add_f32(name, t.shape, t.values.data());
    w.write(folder + "/model.safetensors");
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    float m = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return a.size() == b.size() ? m : INFINITY;
}

}  // namespace test_util
