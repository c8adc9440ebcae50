// SPDX-License-Identifier: Apache-2.0
#pragma once
// The run tool's input: {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}
// (mask and types optional; a flat list is one sequence). Every element must be an integer.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/limits.hpp"
#include "../core/read_file.hpp"
#include "../core/token_batch.hpp"

namespace edgebert::io {

/// Rows longer than lim.max_sequence_length, or more rows than lim.max_batch_size: limit_error (checked
/// before the rows are copied).
inline model::token_batch parse_token_batch(const nlohmann::json& j, const std::string& source = "input",
                                            const limits& lim = current_limits()) {
    if (!j.is_object()) throw input_error(source + ": expected a JSON object with \"input_ids\"");
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "input_ids" && it.key() != "attention_mask" && it.key() != "token_type_ids")
            throw input_error(source + ": unknown field \"" + it.key() +
                              "\" (expected input_ids, attention_mask, token_type_ids)");
    auto rows = [&](const char* field) {
        std::vector<std::vector<std::int64_t>> out;
        auto it = j.find(field);
        if (it == j.end() || it->is_null()) return out;
        if (!it->is_array()) throw input_error(source + ": \"" + std::string(field) + "\" must be an array");
        const bool flat = !it->empty() && !(*it)[0].is_array();
        auto read_row = [&](const nlohmann::json& row, std::size_t b) {
            if (!row.is_array())
                throw input_error(source + ": " + field + "[" + std::to_string(b) + "] must be an array of integers");
            limits::check(row.size(), lim.max_sequence_length, "max_sequence_length",
                          source + ": " + field + "[" + std::to_string(b) + "] length");
            std::vector<std::int64_t> r;
            r.reserve(row.size());
            for (std::size_t s = 0; s < row.size(); ++s) {
                if (!row[s].is_number_integer())
                    throw input_error(source + ": " + field + "[" + std::to_string(b) + "][" + std::to_string(s) +
                                      "] = " + row[s].dump() + " is not an integer");
                r.push_back(row[s].get<std::int64_t>());
            }
            return r;
        };
        if (!flat) limits::check(it->size(), lim.max_batch_size, "max_batch_size", source + ": " + field + " rows");
        if (flat) out.push_back(read_row(*it, 0));
        else
            for (std::size_t b = 0; b < it->size(); ++b) out.push_back(read_row((*it)[b], b));
        return out;
    };
    if (!j.contains("input_ids")) throw input_error(source + ": missing \"input_ids\"");
    try {
        return model::token_batch::from_rows(rows("input_ids"), rows("attention_mask"), rows("token_type_ids"));
    } catch (const input_error& e) {
        throw input_error(source + ": " + e.what());
    }
}

/// Read and parse an input JSON file (file size and nesting bounded as in detail/read_file.hpp).
inline model::token_batch read_token_batch(const std::string& path, const limits& lim = current_limits()) {
    return parse_token_batch(edgebert::detail::read_json_file<input_error>(path, lim), path, lim);
}

}  // namespace edgebert::io
