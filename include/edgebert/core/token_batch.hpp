// SPDX-License-Identifier: Apache-2.0
#pragma once
// A rectangular batch of token ids with attention mask and token types (HuggingFace's three inputs).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "albert_config.hpp"

namespace edgebert {
/// A token id, as HuggingFace's input_ids hold it: the tokenizer gives these and the model takes them.
using token_id = std::int64_t;
using token_ids = std::vector<token_id>;
}  // namespace edgebert

namespace edgebert::model {
using edgebert::token_id;
using edgebert::token_ids;

struct token_batch {
    std::size_t batch = 0, seq = 0;
    std::vector<std::int64_t> input_ids;       ///< [batch x seq]
    std::vector<std::int64_t> attention_mask;  ///< [batch x seq] of 0/1, or empty for all ones
    std::vector<std::int64_t> token_type_ids;  ///< [batch x seq], or empty for all zeros

    std::size_t tokens() const noexcept { return batch * seq; }
    std::int64_t mask(std::size_t b, std::size_t s) const noexcept {
        return attention_mask.empty() ? 1 : attention_mask[b * seq + s];
    }
    std::int64_t token_type(std::size_t b, std::size_t s) const noexcept {
        return token_type_ids.empty() ? 0 : token_type_ids[b * seq + s];
    }

    /// Build from nested rows; rows must all have the same length (input_error naming the row if not).
    static token_batch from_rows(const std::vector<std::vector<std::int64_t>>& ids,
                                 const std::vector<std::vector<std::int64_t>>& mask = {},
                                 const std::vector<std::vector<std::int64_t>>& types = {}) {
        token_batch t;
        t.batch = ids.size();
        t.seq = ids.empty() ? 0 : ids[0].size();
        auto flatten = [&](const std::vector<std::vector<std::int64_t>>& rows, const char* name,
                           std::vector<std::int64_t>& out) {
            if (rows.empty()) return;
            if (rows.size() != t.batch)
                throw input_error(std::string(name) + " has " + std::to_string(rows.size()) + " rows but input_ids has " +
                                  std::to_string(t.batch));
            out.reserve(t.batch * t.seq);
            for (std::size_t b = 0; b < rows.size(); ++b) {
                if (rows[b].size() != t.seq)
                    throw input_error(std::string(name) + "[" + std::to_string(b) + "] has length " +
                                      std::to_string(rows[b].size()) + ", expected " + std::to_string(t.seq) +
                                      " (rows must be padded to one length)");
                out.insert(out.end(), rows[b].begin(), rows[b].end());
            }
        };
        flatten(ids, "input_ids", t.input_ids);
        flatten(mask, "attention_mask", t.attention_mask);
        flatten(types, "token_type_ids", t.token_type_ids);
        return t;
    }

    /// Check the batch against a model's limits; input_error naming the culprit otherwise.
    void validate(const albert_config& c) const {
        if (batch == 0) throw input_error("empty batch: input_ids has no rows");
        if (seq == 0) throw input_error("empty sequence: input_ids rows have length 0");
        if (input_ids.size() != batch * seq)
            throw input_error("input_ids holds " + std::to_string(input_ids.size()) + " values, expected batch " +
                              std::to_string(batch) + " x seq " + std::to_string(seq));
        if (!attention_mask.empty() && attention_mask.size() != batch * seq)
            throw input_error("attention_mask shape does not match input_ids");
        if (!token_type_ids.empty() && token_type_ids.size() != batch * seq)
            throw input_error("token_type_ids shape does not match input_ids");
        if (seq > c.max_position_embeddings)
            throw input_error("sequence length " + std::to_string(seq) + " exceeds max_position_embeddings " +
                              std::to_string(c.max_position_embeddings));
        auto where = [&](const char* name, std::size_t i) {
            return std::string(name) + "[" + std::to_string(i / seq) + "][" + std::to_string(i % seq) + "]";
        };
        for (std::size_t i = 0; i < input_ids.size(); ++i)
            if (input_ids[i] < 0 || std::uint64_t(input_ids[i]) >= c.vocab_size)
                throw input_error(where("input_ids", i) + " = " + std::to_string(input_ids[i]) +
                                  " is out of range for vocab_size " + std::to_string(c.vocab_size));
        for (std::size_t i = 0; i < token_type_ids.size(); ++i)
            if (token_type_ids[i] < 0 || std::uint64_t(token_type_ids[i]) >= c.type_vocab_size)
                throw input_error(where("token_type_ids", i) + " = " + std::to_string(token_type_ids[i]) +
                                  " is out of range for type_vocab_size " + std::to_string(c.type_vocab_size));
        for (std::size_t i = 0; i < attention_mask.size(); ++i)
            if (attention_mask[i] != 0 && attention_mask[i] != 1)
                throw input_error(where("attention_mask", i) + " = " + std::to_string(attention_mask[i]) +
                                  " (expected 0 or 1)");
    }
};

}  // namespace edgebert::model
