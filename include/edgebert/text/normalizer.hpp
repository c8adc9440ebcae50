// SPDX-License-Identifier: Apache-2.0
#pragma once
// SentencePiece's normaliser, reproduced: user-defined symbols pass through untouched (longest match
// first), then the model's precompiled character map (longest rule of the double-array trie, replaced by
// its NUL-terminated string), else the character itself, or U+FFFD for each malformed byte. Around that:
// remove_extra_whitespaces (drop leading, trailing and repeated spaces of the *normalised* text),
// add_dummy_prefix (one space in front, or at the end with treat_whitespace_as_suffix) and
// escape_whitespaces (space -> U+2581).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "detail/tries.hpp"
#include "detail/utf8.hpp"
#include "sentencepiece_model.hpp"

namespace edgebert::text {

class normalizer {
public:
    normalizer() = default;

    /// spec: the model's normalizer_spec (or denormalizer_spec); user_defined: the model's USER_DEFINED
    /// pieces, which the normaliser must leave alone; source names the model file in errors.
    explicit normalizer(const normalizer_spec& spec, bool treat_whitespace_as_suffix = false,
                        const std::vector<std::string>& user_defined = {}, std::string source = "spiece.model")
        : add_dummy_prefix_(spec.add_dummy_prefix),
          remove_extra_whitespaces_(spec.remove_extra_whitespaces),
          escape_whitespaces_(spec.escape_whitespaces),
          treat_whitespace_as_suffix_(treat_whitespace_as_suffix),
          source_(std::move(source)) {
        if (!spec.precompiled_charsmap.empty()) load_charsmap(spec.precompiled_charsmap);
        if (!user_defined.empty()) {
            std::vector<std::pair<std::string, int>> keys;
            for (std::size_t i = 0; i < user_defined.size(); ++i) keys.emplace_back(user_defined[i], int(i));
            user_defined_ = detail::piece_trie(keys);
        }
    }

    /// One step of normalisation at the start of `in` (non-empty): the replacement text and the number
    /// of input bytes it stands for.
    std::pair<std::string_view, std::size_t> normalize_prefix(std::string_view in) const {
        if (const std::size_t n = user_defined_.longest_prefix(in.data(), in.size()); n > 0)
            return {in.substr(0, n), n};
        std::size_t best_len = 0;
        std::uint32_t best_value = 0;
        // SentencePiece keeps the first 32 matches (the shortest ones) and picks the longest of those.
        trie_.common_prefix_search(in.data(), in.size(), 32, [&](std::size_t len, std::uint32_t value) {
            if (best_len == 0 || len > best_len) best_len = len, best_value = value;
        });
        if (best_len > 0) return {replacement(best_value), best_len};
        std::size_t len = 0;
        if (!detail::is_valid_utf8_char(in.data(), in.data() + in.size(), len))
            return {std::string_view("\xEF\xBF\xBD", 3), 1};
        return {in.substr(0, len), len};
    }

    /// Normalise `in` into `out` (cleared first; its capacity is reused).
    void normalize(std::string_view in, std::string& out) const {
        out.clear();
        if (in.empty()) return;
        std::size_t pos = 0;
        if (remove_extra_whitespaces_) {
            while (pos < in.size()) {
                const auto p = normalize_prefix(in.substr(pos));
                if (p.first != " ") break;
                pos += p.second;
            }
        }
        if (pos == in.size()) return;
        out.reserve((in.size() - pos) * 3);
        if (!treat_whitespace_as_suffix_ && add_dummy_prefix_) add_space(out);
        bool is_prev_space = remove_extra_whitespaces_;
        while (pos < in.size()) {
            const auto p = normalize_prefix(in.substr(pos));
            std::string_view sp = p.first;
            while (is_prev_space && !sp.empty() && sp.front() == ' ') sp.remove_prefix(1);
            if (!sp.empty()) {
                for (char c : sp) {
                    if (escape_whitespaces_ && c == ' ')
                        out.append(detail::space_symbol, detail::space_symbol_len);
                    else
                        out.push_back(c);
                }
                is_prev_space = sp.back() == ' ';
            }
            pos += p.second;
            if (!remove_extra_whitespaces_) is_prev_space = false;
        }
        if (remove_extra_whitespaces_) {
            const std::string_view space = escape_whitespaces_ ? std::string_view(detail::space_symbol, 3) : " ";
            while (out.size() >= space.size() && std::string_view(out).substr(out.size() - space.size()) == space)
                out.resize(out.size() - space.size());
        }
        if (treat_whitespace_as_suffix_ && add_dummy_prefix_) add_space(out);
    }

    std::string normalize(std::string_view in) const {
        std::string out;
        normalize(in, out);
        return out;
    }

    bool has_charsmap() const { return !trie_.empty(); }

private:
    void add_space(std::string& out) const {
        if (escape_whitespaces_)
            out.append(detail::space_symbol, detail::space_symbol_len);
        else
            out.push_back(' ');
    }

    void load_charsmap(const std::string& blob) {
        // <u32 little-endian trie size in bytes><trie: u32 units><NUL-terminated replacement strings>
        if (blob.size() <= 4)
            throw format_error(source_ + ": precompiled_charsmap: " + std::to_string(blob.size()) +
                               " bytes, too short for its header");
        const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
        const std::uint32_t trie_bytes = std::uint32_t(b[0]) | (std::uint32_t(b[1]) << 8) |
                                         (std::uint32_t(b[2]) << 16) | (std::uint32_t(b[3]) << 24);
        if (std::uint64_t(trie_bytes) + 4 > blob.size())
            throw format_error(source_ + ": precompiled_charsmap: trie size " + std::to_string(trie_bytes) +
                               " exceeds the blob (" + std::to_string(blob.size()) + " bytes)");
        std::vector<std::uint32_t> units(trie_bytes / 4);
        for (std::size_t i = 0; i < units.size(); ++i) {
            const unsigned char* u = b + 4 + 4 * i;
            units[i] = std::uint32_t(u[0]) | (std::uint32_t(u[1]) << 8) | (std::uint32_t(u[2]) << 16) |
                       (std::uint32_t(u[3]) << 24);
        }
        strings_ = blob.substr(4 + std::size_t(trie_bytes));
        // Check now every string offset a lookup could read, so that a model accepted at load cannot fail later
        // while normalising: a unit with a leaf (bit 8; value units, bit 31, are never walked through) keeps its
        // value in the unit at its index XOR its offset (Darts-clone's layout, as darts_view reads it).
        for (std::size_t i = 0; i < units.size(); ++i) {
            const std::uint32_t u = units[i];
            if ((u >> 31) || !((u >> 8) & 1u)) continue;
            const std::size_t leaf = i ^ ((u >> 10) << ((u & (1u << 9)) >> 6));
            if (leaf >= units.size())
                throw format_error(source_ + ": precompiled_charsmap: unit " + std::to_string(i) + " has its leaf at " +
                                   std::to_string(leaf) + ", past the trie's " + std::to_string(units.size()) + " units");
            (void)replacement(units[leaf] & 0x7FFFFFFFu);
        }
        trie_ = detail::darts_view(std::move(units), source_);
    }

    std::string_view replacement(std::uint32_t at) const {
        if (at >= strings_.size())
            throw format_error(source_ + ": precompiled_charsmap: rule points at byte " + std::to_string(at) +
                               " of a " + std::to_string(strings_.size()) + "-byte string table");
        const void* nul = std::memchr(strings_.data() + at, '\0', strings_.size() - at);
        if (!nul)
            throw format_error(source_ + ": precompiled_charsmap: replacement string at byte " +
                               std::to_string(at) + " is not NUL-terminated");
        return std::string_view(strings_.data() + at, std::size_t(static_cast<const char*>(nul) - (strings_.data() + at)));
    }

    bool add_dummy_prefix_ = true;
    bool remove_extra_whitespaces_ = true;
    bool escape_whitespaces_ = true;
    bool treat_whitespace_as_suffix_ = false;
    std::string source_;
    detail::darts_view trie_;
    std::string strings_;
    detail::piece_trie user_defined_;
};

}  // namespace edgebert::text
