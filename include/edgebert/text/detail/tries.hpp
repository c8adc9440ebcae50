// SPDX-License-Identifier: Apache-2.0
#pragma once
// Two tries for the tokenizer:
// - darts_view reads the darts-clone double array stored in a SentencePiece model's precompiled_charsmap
//   (the normaliser's rules), with every index bounds-checked, since the array comes from a file.
// - piece_trie is our own byte trie over vocabulary pieces, walked one byte at a time by the Viterbi
//   search. Nodes with many children (the root, U+2581's bytes, common first letters) get a direct
//   256-entry table; the rest keep a short sorted label list scanned linearly. The child lookup is the
//   encoder's inner loop, where a binary search over labels showed up prominently in perf.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../core/error.hpp"

namespace edgebert::text::detail {

/// A darts-clone double array (32-bit units) as SentencePiece serialises it.
class darts_view {
public:
    darts_view() = default;
    darts_view(std::vector<std::uint32_t> units, std::string source)
        : units_(std::move(units)), source_(std::move(source)) {}

    bool empty() const { return units_.empty(); }

    struct match {
        std::size_t length;   // bytes of the key matched
        std::uint32_t value;  // stored value
    };

    /// Calls on_match(length, value) for each key that is a prefix of [p, p + n), shortest first, for at
    /// most max_results matches (SentencePiece's normaliser keeps the first 32).
    template <class F>
    void common_prefix_search(const char* p, std::size_t n, std::size_t max_results, F&& on_match) const {
        if (units_.empty()) return;
        std::size_t node = 0;
        std::uint32_t unit = units_[0];
        node ^= offset(unit);
        std::size_t found = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto c = static_cast<unsigned char>(p[i]);
            node ^= c;
            if (node >= units_.size()) return;  // no such edge: a key cannot continue here
            unit = units_[node];
            if (label(unit) != c) return;
            node ^= offset(unit);
            if (has_leaf(unit)) {
                if (node >= units_.size()) bad("leaf index " + std::to_string(node) + " out of range");
                if (found < max_results) on_match(i + 1, value(units_[node]));
                ++found;
            }
        }
    }

private:
    static std::uint32_t offset(std::uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
    static std::uint32_t label(std::uint32_t u) { return u & ((1u << 31) | 0xFFu); }
    static bool has_leaf(std::uint32_t u) { return (u >> 8) & 1u; }
    static std::uint32_t value(std::uint32_t u) { return u & ((1u << 31) - 1); }
    [[noreturn]] void bad(const std::string& what) const {
        throw format_error(source_ + ": precompiled_charsmap: " + what);
    }

    std::vector<std::uint32_t> units_;
    std::string source_;
};

/// Byte trie from pieces to ids.
class piece_trie {
public:
    piece_trie() = default;

    /// keys must be distinct and non-empty.
    explicit piece_trie(const std::vector<std::pair<std::string, int>>& keys) : piece_trie() {
        // Build on a map-based tree, then flatten children into sorted contiguous runs.
        struct build_node {
            std::map<unsigned char, std::uint32_t> kids;
            int value = -1;
        };
        std::vector<build_node> tree(1);
        for (const auto& [key, id] : keys) {
            std::uint32_t n = 0;
            for (char ch : key) {
                const auto c = static_cast<unsigned char>(ch);
                auto it = tree[n].kids.find(c);
                if (it == tree[n].kids.end()) {
                    tree.emplace_back();
                    const auto next = std::uint32_t(tree.size() - 1);
                    tree[n].kids.emplace(c, next);
                    n = next;
                } else {
                    n = it->second;
                }
            }
            tree[n].value = id;
        }
        const std::size_t count = tree.size();
        value_.resize(count);
        first_.resize(count + 1);
        std::uint32_t edges = 0;
        for (std::size_t i = 0; i < count; ++i) {
            value_[i] = tree[i].value;
            first_[i] = edges;
            edges += std::uint32_t(tree[i].kids.size());
        }
        first_[count] = edges;
        labels_.reserve(edges);
        target_.reserve(edges);
        for (std::size_t i = 0; i < count; ++i)
            for (const auto& [c, t] : tree[i].kids) {
                labels_.push_back(c);
                target_.push_back(t);
            }
        dense_of_.assign(count, no_node);
        for (std::size_t i = 0; i < count; ++i) {
            if (i != 0 && tree[i].kids.size() <= dense_threshold) continue;
            dense_of_[i] = std::uint32_t(dense_.size() / 256);
            dense_.resize(dense_.size() + 256, no_node);
            for (const auto& [c, t] : tree[i].kids) dense_[std::size_t(dense_of_[i]) * 256 + c] = t;
        }
    }

    static constexpr std::uint32_t no_node = 0xFFFFFFFFu;
    static constexpr std::uint32_t root = 0;

    /// The child of node n along byte c, or no_node.
    std::uint32_t child(std::uint32_t n, unsigned char c) const {
        if (value_.empty()) return no_node;
        if (const std::uint32_t d = dense_of_[n]; d != no_node) return dense_[std::size_t(d) * 256 + c];
        for (std::uint32_t i = first_[n], e = first_[n + 1]; i < e; ++i)
            if (labels_[i] == c) return target_[i];
        return no_node;
    }

    /// The id stored at node n, or -1.
    int value(std::uint32_t n) const { return value_[n]; }

    /// The node reached by exactly this key, or no_node.
    std::uint32_t node_of(std::string_view key) const {
        std::uint32_t n = value_.empty() ? no_node : root;
        for (char ch : key) {
            if (n == no_node) break;
            n = child(n, static_cast<unsigned char>(ch));
        }
        return n;
    }

    /// Id of exactly this key, or -1.
    int find(std::string_view key) const {
        const std::uint32_t n = node_of(key);
        return n == no_node ? -1 : value_[n];
    }

    std::size_t node_count() const { return value_.size(); }

    /// Length of the longest key that is a prefix of [p, p + len), 0 if none.
    std::size_t longest_prefix(const char* p, std::size_t len) const {
        if (value_.empty()) return 0;
        std::uint32_t n = root;
        std::size_t best = 0;
        for (std::size_t i = 0; i < len; ++i) {
            n = child(n, static_cast<unsigned char>(p[i]));
            if (n == no_node) break;
            if (value_[n] >= 0) best = i + 1;
        }
        return best;
    }

    bool empty() const { return value_.size() <= 1; }

private:
    static constexpr std::size_t dense_threshold = 8;
    std::vector<int> value_;
    std::vector<std::uint32_t> dense_of_;  // node -> its row in dense_, or no_node
    std::vector<std::uint32_t> dense_;     // 256 children per dense node
    std::vector<std::uint32_t> first_;
    std::vector<unsigned char> labels_;
    std::vector<std::uint32_t> target_;
};

}  // namespace edgebert::text::detail
