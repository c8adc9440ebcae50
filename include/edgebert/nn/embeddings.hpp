// SPDX-License-Identifier: Apache-2.0
#pragma once
// ALBERT embeddings of width E: word + absolute position + token type, then LayerNorm(E).

#include <cstddef>

#include "../core/config.hpp"
#include "../core/matrix.hpp"
#include "../model/token_batch.hpp"
#include "layer_norm.hpp"

namespace edgebert::nn {

class embeddings {
public:
    embeddings() = default;
    embeddings(const_matrix word, const_matrix position, const_matrix token_type, layer_norm norm)
        : word_(std::move(word)), position_(std::move(position)), token_type_(std::move(token_type)),
          norm_(std::move(norm)) {}

    std::size_t width() const noexcept { return word_.cols(); }
    const const_matrix& word() const noexcept { return word_; }
    const const_matrix& position() const noexcept { return position_; }
    const const_matrix& token_type() const noexcept { return token_type_; }
    const layer_norm& norm() const noexcept { return norm_; }

    /// out[batch*seq x E]: the normalised sum for every token (positions 0..seq-1, as HF's absolute
    /// position ids, whatever the padding). The batch must have been validated.
    void forward(const model::token_batch& in, float* out, int threads = 1) const {
        const std::size_t E = width();
        const long long rows = static_cast<long long>(in.tokens());
        (void)threads;
        EDGEBERT_OMP(parallel for num_threads(threads) schedule(static) if(threads > 1 && rows > 64))
        for (long long r = 0; r < rows; ++r) {
            const std::size_t b = std::size_t(r) / in.seq, s = std::size_t(r) % in.seq;
            const float* w = word_.row(std::size_t(in.input_ids[std::size_t(r)]));
            const float* p = position_.row(s);
            const float* t = token_type_.row(std::size_t(in.token_type(b, s)));
            float* o = out + std::size_t(r) * E;
            for (std::size_t i = 0; i < E; ++i) o[i] = (w[i] + t[i]) + p[i];  // HF's order: (word + type) + position
        }
        norm_.forward_inplace(out, in.tokens(), E, threads);
    }

private:
    const_matrix word_, position_, token_type_;
    layer_norm norm_;
};

}  // namespace edgebert::nn
