// SPDX-License-Identifier: Apache-2.0
#pragma once
// Whole-file reads for the small text inputs (config.json, input JSON, adapter configs), bounded by
// edgebert::limits before anything is read or parsed.

#include <fstream>
#include <sstream>
#include <string>

#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "limits.hpp"

namespace edgebert::detail {

/// The file's bytes; io_error naming the path if it cannot be read, limit_error if it is larger than
/// lim.max_text_file_bytes (checked on the file's size before reading).
inline std::string read_text_file(const std::string& path, const limits& lim = current_limits()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("cannot open '" + path + "'");
    // Regular files are measured first; anything else (a pipe, /dev/stdin) is read in bounded steps.
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec))
        limits::check(std::uint64_t(std::filesystem::file_size(path, ec)), lim.max_text_file_bytes, "max_text_file_bytes",
                      "'" + path + "': file size", "bytes");
    std::string out;
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        limits::check(std::uint64_t(out.size()) + std::uint64_t(in.gcount()), lim.max_text_file_bytes,
                      "max_text_file_bytes", "'" + path + "': file size", "bytes");
        out.append(buf, std::size_t(in.gcount()));
        if (!in) break;
    }
    if (in.bad()) throw io_error("cannot read '" + path + "'");
    return out;
}

/// Parse JSON text; a syntax error or a NUL byte becomes Error("SOURCE: not valid JSON: ..."), nesting deeper than
/// lim.max_json_depth a limit_error (checked while parsing, before the deeper value is built).
template <class Error>
nlohmann::json parse_json_text(const std::string& text, const std::string& source, const limits& lim = current_limits()) {
    using json = nlohmann::json;
    auto depth_check = [&](int depth, json::parse_event_t ev, json&) {
        // depth counts the containers enclosing the one that starts, so depth + 1 is its nesting level.
        if (ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start)
            limits::check(std::uint64_t(depth) + 1, lim.max_json_depth, "max_json_depth", source + ": JSON nesting depth");
        return true;
    };
    // nlohmann stops at a NUL byte, so "{}\0<anything>" would parse as {}; valid JSON never holds a raw NUL.
    if (text.find('\0') != std::string::npos) throw Error(source + ": not valid JSON: it contains a NUL byte");
    try {
        return json::parse(text, depth_check);
    } catch (const json::exception& e) {
        throw Error(source + ": not valid JSON: " + e.what());
    }
}

/// Read and parse a JSON file (read_text_file, then parse_json_text).
template <class Error>
nlohmann::json read_json_file(const std::string& path, const limits& lim = current_limits()) {
    return parse_json_text<Error>(read_text_file(path, lim), path, lim);
}

}  // namespace edgebert::detail
