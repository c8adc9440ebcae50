// SPDX-License-Identifier: Apache-2.0
#pragma once
// Reading the tokenizer tests' text corpora and golden id files.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace test_text {

inline bool file_exists(const std::string& p) { return std::ifstream(p).good(); }

/// The whole file, bytes as they are.
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Lines split on '\n' only, so CR, VT, NEL etc. stay inside a line (as the golden maker reads them).
inline std::vector<std::string> read_lines(const std::string& path) {
    std::string s = slurp(path);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto nl = s.find('\n', start);
        out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    return out;
}

/// The content column of SST-2 dev, or empty when shared/data is not beside the checkout.
inline std::vector<std::string> sst2_dev() {
    const std::string path = std::string(EDGEBERT_SHARED_DATA_DIR) + "/glue-sst2/dev.tsv";
    if (!file_exists(path)) return {};
    std::vector<std::string> out;
    auto rows = read_lines(path);
    for (std::size_t i = 1; i < rows.size(); ++i)
        if (!rows[i].empty()) out.push_back(rows[i].substr(rows[i].find('\t') + 1));
    return out;
}

/// Ids as the golden files write them: space-separated.
template <class Id>
inline std::string join(const std::vector<Id>& ids) {
    std::string s;
    for (const auto id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
}

}  // namespace test_text
