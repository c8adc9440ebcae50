// SPDX-License-Identifier: Apache-2.0
#pragma once
// UTF-8 as SentencePiece reads it: a lead byte's length comes from its top four bits alone (so a stray
// continuation byte is one "character"), and a sequence that is malformed, overlong, a surrogate or
// beyond U+10FFFF decodes to U+FFFD consuming exactly one byte. A literal U+FFFD in the input is valid.

#include <cstddef>
#include <string>

namespace edgebert::text::detail {

inline constexpr char32_t replacement_char = 0xFFFD;

/// Bytes of the character starting with lead byte b, by SentencePiece's table (1 for continuation bytes).
inline std::size_t one_char_len(unsigned char b) noexcept {
    constexpr unsigned char table[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return table[b >> 4];
}

inline bool is_trail_byte(unsigned char b) noexcept { return (b & 0xC0) == 0x80; }

inline bool is_valid_codepoint(char32_t c) noexcept { return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF); }

/// Decode the character at p (p < end). Sets len to the bytes consumed; an invalid sequence gives
/// U+FFFD with len 1.
inline char32_t decode_utf8(const char* p, const char* end, std::size_t& len) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(p);
    const std::size_t avail = static_cast<std::size_t>(end - p);
    const unsigned char b0 = s[0];
    if (b0 < 0x80) {
        len = 1;
        return b0;
    }
    if (avail >= 2 && (b0 & 0xE0) == 0xC0) {
        const char32_t cp = (char32_t(b0 & 0x1F) << 6) | (s[1] & 0x3F);
        if (is_trail_byte(s[1]) && cp >= 0x80) {
            len = 2;
            return cp;
        }
    } else if (avail >= 3 && (b0 & 0xF0) == 0xE0) {
        const char32_t cp = (char32_t(b0 & 0x0F) << 12) | (char32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        if (is_trail_byte(s[1]) && is_trail_byte(s[2]) && cp >= 0x800 && is_valid_codepoint(cp)) {
            len = 3;
            return cp;
        }
    } else if (avail >= 4 && (b0 & 0xF8) == 0xF0) {
        const char32_t cp = (char32_t(b0 & 0x07) << 18) | (char32_t(s[1] & 0x3F) << 12) |
                            (char32_t(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        if (is_trail_byte(s[1]) && is_trail_byte(s[2]) && is_trail_byte(s[3]) && cp >= 0x10000 &&
            is_valid_codepoint(cp)) {
            len = 4;
            return cp;
        }
    }
    len = 1;
    return replacement_char;
}

/// True unless the character at p is malformed (a literal U+FFFD, three bytes, counts as valid).
inline bool is_valid_utf8_char(const char* p, const char* end, std::size_t& len) noexcept {
    return decode_utf8(p, end, len) != replacement_char || len == 3;
}

inline void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(char(c));
    } else if (c < 0x800) {
        out.push_back(char(0xC0 | (c >> 6)));
        out.push_back(char(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(char(0xE0 | (c >> 12)));
        out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(char(0x80 | (c & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (c >> 18)));
        out.push_back(char(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(char(0x80 | (c & 0x3F)));
    }
}

/// The lower-one-eighth block U+2581 that SentencePiece uses for a space.
inline constexpr const char* space_symbol = "\xE2\x96\x81";
inline constexpr std::size_t space_symbol_len = 3;

}  // namespace edgebert::text::detail
