// SPDX-License-Identifier: Apache-2.0
#pragma once
// Comma-separated tables of non-negative numbers (EdgeBERT's entropy traces and predictor LUT).

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/parse.hpp"

namespace edgebert::exit::detail {

struct numeric_table {
    std::size_t columns = 0;
    std::vector<double> values;  ///< row-major
    std::size_t rows() const noexcept { return columns ? values.size() / columns : 0; }
};

/// Every non-blank line holds the same number of comma-separated finite, non-negative numbers; a
/// format_error names the line and column otherwise.
inline numeric_table parse_numeric_table(const std::string& text, const std::string& name) {
    numeric_table t;
    std::size_t line_no = 0, pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::size_t count = 0, start = 0;
        while (true) {
            const std::size_t comma = line.find(',', start);
            const std::string cell = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            auto where = [&] { return name + " line " + std::to_string(line_no) + " column " + std::to_string(count + 1); };
            std::string_view trimmed(cell);
            while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
            while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t' || trimmed.back() == '\r')) trimmed.remove_suffix(1);
            const std::optional<double> parsed = to_number(trimmed);
            if (!parsed) throw format_error(where() + ": \"" + cell + "\" is not a number");
            const double v = *parsed;
            if (!std::isfinite(v) || v < 0) throw format_error(where() + ": " + cell + " is not a finite non-negative number");
            t.values.push_back(v);
            ++count;
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        if (t.columns == 0) t.columns = count;
        else if (count != t.columns)
            throw format_error(name + " line " + std::to_string(line_no) + " has " + std::to_string(count) +
                               " values, the first line has " + std::to_string(t.columns));
    }
    if (t.values.empty()) throw format_error(name + " holds no values");
    return t;
}

}  // namespace edgebert::exit::detail
