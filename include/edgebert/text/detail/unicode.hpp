// SPDX-License-Identifier: Apache-2.0
#pragma once
// Python's str behaviour that HuggingFace AlbertTokenizer relies on, over code points: isspace (for
// split/strip), isdigit, NFKD followed by dropping combining characters, and lower() with its
// final-sigma rule. Data: unicode_tables.hpp, generated from Python's unicodedata.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "unicode_tables.hpp"
#include "utf8.hpp"

namespace edgebert::text::detail {

inline bool in_ranges(const std::uint32_t* ranges, std::size_t count, char32_t c) {
    // ranges holds count closed intervals [lo, hi] as consecutive pairs, sorted.
    std::size_t lo = 0, hi = count;
    while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        if (c < ranges[2 * mid]) hi = mid;
        else if (c > ranges[2 * mid + 1]) lo = mid + 1;
        else return true;
    }
    return false;
}

inline bool py_isspace(char32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    return in_ranges(unicode_data::whitespace, unicode_data::whitespace_count, c);
}

inline bool py_isdigit(char32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    return in_ranges(unicode_data::digit, unicode_data::digit_count, c);
}

/// The mapping of c in a generated key/span/pool table, or nullptr when c maps to itself.
inline const unsigned char* find_mapping(const std::uint32_t* keys, const std::uint32_t* spans,
                                         const unsigned char* pool, std::size_t count, char32_t c, std::size_t& len) {
    const std::uint32_t* end = keys + count;
    const std::uint32_t* it = std::lower_bound(keys, end, std::uint32_t(c));
    if (it == end || *it != c) return nullptr;
    const std::uint32_t span = spans[it - keys];
    len = span & 63u;
    return pool + (span >> 6);
}

inline void append_utf8_bytes(std::u32string& out, const unsigned char* p, std::size_t len) {
    const char* s = reinterpret_cast<const char*>(p);
    for (std::size_t i = 0; i < len;) {
        std::size_t n = 0;
        out.push_back(decode_utf8(s + i, s + len, n));
        i += n;
    }
}

/// unicodedata.normalize("NFKD", c) without the characters whose combining class is not 0, appended.
inline void append_strip_accents(std::u32string& out, char32_t c) {
    if (c < 0xA0) {  // nothing below U+00A0 decomposes or combines
        out.push_back(c);
        return;
    }
    if (c >= 0xAC00 && c <= 0xD7A3) {  // Hangul syllable: L V (T), all combining class 0
        const char32_t s = c - 0xAC00;
        out.push_back(0x1100 + s / 588);
        out.push_back(0x1161 + (s % 588) / 28);
        if (s % 28) out.push_back(0x11A7 + s % 28);
        return;
    }
    std::size_t len = 0;
    const unsigned char* m = find_mapping(unicode_data::strip_keys, unicode_data::strip_spans,
                                          unicode_data::strip_pool, unicode_data::strip_count, c, len);
    if (m) append_utf8_bytes(out, m, len);
    else out.push_back(c);
}

inline bool is_case_ignorable(char32_t c) {
    return in_ranges(unicode_data::case_ignorable, unicode_data::case_ignorable_count, c);
}
inline bool is_cased(char32_t c) { return in_ranges(unicode_data::cased, unicode_data::cased_count, c); }

/// Python's str.lower() of s (code points), including its final-sigma rule for U+03A3.
inline std::u32string py_lower(const std::u32string& s) {
    std::u32string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char32_t c = s[i];
        if (c < 0x80) {
            out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
            continue;
        }
        if (c == 0x03A3) {
            // Final form when a cased letter precedes and none follows (case-ignorable ones skipped).
            std::size_t j = i;
            while (j > 0 && is_case_ignorable(s[j - 1])) --j;
            bool final_sigma = j > 0 && is_cased(s[j - 1]);
            if (final_sigma) {
                std::size_t k = i + 1;
                while (k < s.size() && is_case_ignorable(s[k])) ++k;
                final_sigma = k == s.size() || !is_cased(s[k]);
            }
            out.push_back(final_sigma ? 0x03C2 : 0x03C3);
            continue;
        }
        std::size_t len = 0;
        const unsigned char* m = find_mapping(unicode_data::lower_keys, unicode_data::lower_spans,
                                              unicode_data::lower_pool, unicode_data::lower_count, c, len);
        if (m) append_utf8_bytes(out, m, len);
        else out.push_back(c);
    }
    return out;
}

/// UTF-8 -> code points; a malformed byte becomes U+FFFD (one per byte, as SentencePiece reads it).
inline std::u32string utf8_to_u32(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = 0;
        out.push_back(decode_utf8(s.data() + i, s.data() + s.size(), n));
        i += n;
    }
    return out;
}

inline std::string u32_to_utf8(const std::u32string& s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) append_utf8(out, c);
    return out;
}

}  // namespace edgebert::text::detail
