// SPDX-License-Identifier: Apache-2.0
#pragma once
// ALBERT embeddings of width E: word + absolute position + token type, then LayerNorm(E).
// The word table (vocab x E, the largest tensor of a small ALBERT) is fp32, or 8-bit codes of a compressed
// model decoded row by row as tokens look them up (a quarter of the bytes; the values are the same).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/matrix.hpp"
#include "../core/thread_pool.hpp"
#include "../core/token_batch.hpp"
#include "../sparse/code_tables.hpp"
#include "layer_norm.hpp"

namespace edgebert::nn {

class embeddings {
public:
    embeddings() = default;
    embeddings(const_matrix word, const_matrix position, const_matrix token_type, layer_norm norm)
        : vocab_(word.rows()), width_(word.cols()), word_(std::move(word)), position_(std::move(position)),
          token_type_(std::move(token_type)), norm_(std::move(norm)) {}
    /// Word embeddings as 8-bit codes [vocab x width] (row-major) with their decode tables (one row each, or
    /// per tensor). shape_error if the sizes disagree; format_error for a code that does not fit the format.
    embeddings(std::vector<std::uint8_t> word_codes, sparse::code_tables word_tables, std::size_t vocab, std::size_t width,
               const_matrix position, const_matrix token_type, layer_norm norm)
        : vocab_(vocab), width_(width), word_codes_(std::move(word_codes)), word_tables_(std::move(word_tables)),
          position_(std::move(position)), token_type_(std::move(token_type)), norm_(std::move(norm)) {
        if (word_codes_.size() != vocab * width)
            throw shape_error("embeddings: " + std::to_string(word_codes_.size()) + " word codes for a " + std::to_string(vocab) + " x " +
                              std::to_string(width) + " table");
        if (word_tables_.rows() != vocab) throw shape_error("embeddings: decode tables are for " + std::to_string(word_tables_.rows()) + " rows, not " + std::to_string(vocab));
        word_tables_.check_codes(word_codes_.data(), word_codes_.size(), "word embeddings");
    }

    std::size_t width() const noexcept { return width_; }
    std::size_t vocab_size() const noexcept { return vocab_; }
    /// True when the word table is held as 8-bit codes.
    bool word_quantized() const noexcept { return !word_codes_.empty(); }
    /// The fp32 word table (empty when word_quantized()).
    const const_matrix& word() const noexcept { return word_; }
    /// Word embedding `i` of token `id` (either storage).
    float word_value(std::size_t id, std::size_t i) const noexcept {
        return word_quantized() ? word_tables_.value(id, word_codes_[id * width_ + i]) : word_.row(id)[i];
    }
    /// Fraction of nonzero word-embedding values.
    double word_density() const noexcept {
        std::size_t nz = 0;
        for (std::size_t id = 0; id < vocab_; ++id)
            for (std::size_t i = 0; i < width_; ++i) nz += word_value(id, i) != 0.f;
        return vocab_ && width_ ? double(nz) / double(vocab_ * width_) : 1.0;
    }
    /// Bytes of the three tables as held (8-bit codes + decode tables, or fp32).
    std::size_t bytes() const noexcept {
        const std::size_t word = word_quantized() ? word_codes_.size() + word_tables_.memory_bytes() : vocab_ * width_ * sizeof(float);
        return word + (position_.rows() * position_.cols() + token_type_.rows() * token_type_.cols()) * sizeof(float);
    }
    const const_matrix& position() const noexcept { return position_; }
    const const_matrix& token_type() const noexcept { return token_type_; }
    const layer_norm& norm() const noexcept { return norm_; }

    /// out[batch*seq x E]: the normalised sum for every token (positions 0..seq-1, as HF's absolute
    /// position ids, whatever the padding). The batch must have been validated.
    void forward(const model::token_batch& in, float* out, int threads = 1) const {
        const std::size_t E = width();
        const std::size_t rows = in.tokens();
        // core/thread_pool.hpp: a few chunks of tokens per thread
        const std::size_t chunks = threads > 1 && rows > 64 ? std::min<std::size_t>(rows, std::size_t(threads) * 4) : 1;
        parallel_for(threads, chunks, [&](std::size_t chunk) {
        for (std::size_t r = rows * chunk / chunks; r < rows * (chunk + 1) / chunks; ++r) {
            const std::size_t b = std::size_t(r) / in.seq, s = std::size_t(r) % in.seq;
            const std::size_t id = std::size_t(in.input_ids[std::size_t(r)]);
            const float* p = position_.row(s);
            const float* t = token_type_.row(std::size_t(in.token_type(b, s)));
            float* o = out + std::size_t(r) * E;
            if (word_quantized()) {
                const float* table = word_tables_.table(id);
                const float scale = word_tables_.scale(id);
                const std::uint8_t* c = word_codes_.data() + id * E;
                for (std::size_t i = 0; i < E; ++i) o[i] = (table[c[i]] * scale + t[i]) + p[i];
            } else {
                const float* w = word_.row(id);
                for (std::size_t i = 0; i < E; ++i) o[i] = (w[i] + t[i]) + p[i];  // HF's order: (word + type) + position
            }
        }
        });
        norm_.forward_inplace(out, in.tokens(), E, threads);
    }

private:
    std::size_t vocab_ = 0, width_ = 0;
    std::vector<std::uint8_t> word_codes_;
    sparse::code_tables word_tables_;
    const_matrix word_, position_, token_type_;
    layer_norm norm_;
};

}  // namespace edgebert::nn
