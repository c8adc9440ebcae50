// SPDX-License-Identifier: Apache-2.0
#pragma once
// Whole-file reads for the small text inputs (config.json, input JSON, adapter configs).

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"

namespace edgebert::detail {

/// The file's bytes; io_error naming the path if it cannot be read.
inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("cannot open '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw io_error("cannot read '" + path + "'");
    return ss.str();
}

/// Parse a JSON file; a syntax error becomes Error("PATH: not valid JSON: ...").
template <class Error>
nlohmann::json read_json_file(const std::string& path) {
    const std::string text = read_text_file(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": not valid JSON: " + e.what());
    }
}

}  // namespace edgebert::detail
