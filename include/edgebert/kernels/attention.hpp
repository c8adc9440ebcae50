// SPDX-License-Identifier: Apache-2.0
#pragma once
// Scaled dot-product self-attention over the heads of a fused Q|K|V projection:
//   ctx_h = softmax(Q_h K_hᵀ / sqrt(d) + mask) V_h  for every sequence and head.
// Keys after the last attended one are not computed at all (trailing padding costs nothing); other
// masked keys get probability exactly 0, which equals HuggingFace's additive float-min mask.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/config.hpp"
#include "gemm.hpp"
#include "softmax.hpp"

namespace edgebert::kernels {

/// Shapes of one attention call. qkv rows are [Q(H) | K(H) | V(H)] with H = heads * head_dim.
struct attention_shape {
    std::size_t batch = 1, seq = 0, heads = 1, head_dim = 0;
    std::size_t hidden() const noexcept { return heads * head_dim; }
};

namespace reference {
/// Scalar reference. qkv: [batch*seq x ldqkv], keep: [batch*seq] (nullptr = all keys), ctx: [batch*seq x ldctx].
inline void attention(const attention_shape& s, const float* qkv, std::size_t ldqkv, const std::uint8_t* keep,
                      float* ctx, std::size_t ldctx) {
    const std::size_t H = s.hidden(), d = s.head_dim, S = s.seq;
    const double scale = 1.0 / std::sqrt(double(d));
    std::vector<float> scores(S), probs(S);
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t h = 0; h < s.heads; ++h)
            for (std::size_t i = 0; i < S; ++i) {
                const float* q = qkv + (b * S + i) * ldqkv + h * d;
                for (std::size_t j = 0; j < S; ++j) {
                    const float* k = qkv + (b * S + j) * ldqkv + H + h * d;
                    double acc = 0;
                    for (std::size_t t = 0; t < d; ++t) acc += double(q[t]) * k[t];
                    scores[j] = float(acc * scale);
                }
                softmax(scores.data(), S, keep ? keep + b * S : nullptr, probs.data());
                float* out = ctx + (b * S + i) * ldctx + h * d;
                for (std::size_t t = 0; t < d; ++t) {
                    double acc = 0;
                    for (std::size_t j = 0; j < S; ++j)
                        acc += double(probs[j]) * qkv[(b * S + j) * ldqkv + 2 * H + h * d + t];
                    out[t] = float(acc);
                }
            }
}
}  // namespace reference

/// Fast path: one GEMM for the scores and one for the context per (sequence, head), threads across
/// (sequence, head) pairs.
inline void attention(const attention_shape& s, const float* qkv, std::size_t ldqkv, const std::uint8_t* keep,
                      float* ctx, std::size_t ldctx, int threads = 1) {
    const std::size_t H = s.hidden(), d = s.head_dim, S = s.seq;
    const float scale = 1.f / std::sqrt(float(d));
    const long long jobs = static_cast<long long>(s.batch * s.heads);
    (void)threads;
    EDGEBERT_OMP(parallel for num_threads(threads) schedule(static) if(threads > 1 && jobs > 1))
    for (long long job = 0; job < jobs; ++job) {
        thread_local aligned_buffer<float> scores;
        const std::size_t b = std::size_t(job) / s.heads, h = std::size_t(job) % s.heads;
        const std::uint8_t* kb = keep ? keep + b * S : nullptr;
        std::size_t keys = S;  // keys past the last attended one are skipped entirely
        if (kb) {
            while (keys > 0 && !kb[keys - 1]) --keys;
            if (keys == 0) keys = S;  // nothing attended: uniform over all keys (HF's float-min mask)
        }
        const float* q = qkv + b * S * ldqkv + h * d;
        const float* k = q + H;
        const float* v = q + 2 * H;
        scores.reserve_scratch(S * keys);
        gemm_nt(S, keys, d, 1.f, q, ldqkv, k, ldqkv, scores.data(), keys);  // the 1/sqrt(d) goes into the softmax
        for (std::size_t i = 0; i < S; ++i) softmax_row(scores.data() + i * keys, keys, kb, scale);
        gemm_nn(S, d, keys, scores.data(), keys, v, ldqkv, ctx + b * S * ldctx + h * d, ldctx);
    }
}

}  // namespace edgebert::kernels
