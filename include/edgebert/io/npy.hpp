// SPDX-License-Identifier: Apache-2.0
#pragma once
// NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// "\x93NUMPY", major and minor version bytes, a little-endian header length (2 bytes in version 1.0,
// 4 in 2.0 and 3.0), a header that is a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by '\n', then the raw array.
//
// The reader accepts little-endian numeric arrays in C order and converts them to float; the header
// is parsed by a small dedicated parser (not an evaluator) so hostile headers can only be rejected.
// The writer reproduces numpy.save byte for byte (numpy >= 1.24, which leaves room after the first
// dimension so a file can grow in place), so our outputs diff cleanly against Python's.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/limits.hpp"
#include "detail/mapped_file.hpp"
#include "../core/dtype.hpp"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "edgebert's npy writer requires a little-endian host"
#endif

namespace edgebert::io {

struct npy_array {
    std::vector<std::size_t> shape;
    std::vector<float> data;  ///< C order
};

namespace detail {

struct npy_header {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
};

// Parses exactly the subset of Python literal syntax numpy writes (and numpy's reader would accept
// for these keys): a dict with the three keys in any order, quoted strings, True/False, and tuples
// of non-negative decimal integers ("(3,)", "()", "(2, 3)"; a Python 2 "L" suffix is tolerated).
class npy_header_parser {
public:
    npy_header_parser(std::string_view text, const std::string& file) : s_(text), file_(file) {}

    npy_header parse() {
        npy_header h;
        bool have_descr = false, have_fortran = false, have_shape = false;
        skip_space();
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') break;
            const std::string key = string_literal("a header key");
            skip_space();
            expect(':');
            skip_space();
            bool* seen = nullptr;
            if (key == "descr") {
                // Anything but a string (a list of fields: a structured dtype) is a dtype we cannot read.
                if (peek() != '\'' && peek() != '"') fail("'descr' is not a simple dtype string (structured arrays are not supported)");
                h.descr = string_literal("'descr'");
                seen = &have_descr;
            } else if (key == "fortran_order") {
                h.fortran_order = boolean();
                seen = &have_fortran;
            } else if (key == "shape") {
                h.shape = tuple();
                seen = &have_shape;
            } else {
                fail("unknown header key '" + key + "'");
            }
            // Python's literal_eval keeps the last of repeated keys; refuse rather than guess.
            if (*seen) fail("header key '" + key + "' appears twice");
            *seen = true;
            skip_space();
            if (peek() == ',') ++i_;
            else if (peek() != '}') fail("expected ',' or '}' after the value of '" + key + "'");
        }
        ++i_;
        skip_space();
        if (i_ != s_.size()) fail("unexpected text after the header dict");
        if (!have_descr) fail("header lacks 'descr'");
        if (!have_fortran) fail("header lacks 'fortran_order'");
        if (!have_shape) fail("header lacks 'shape'");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw format_error("npy file '" + file_ + "': " + what); }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }
    void skip_space() {
        while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "' in the header");
        ++i_;
    }
    std::string string_literal(const char* what) {
        const char q = peek();
        if (q != '\'' && q != '"') fail(std::string("expected a quoted string for ") + what);
        const std::size_t start = ++i_;
        while (i_ < s_.size() && s_[i_] != q && s_[i_] != '\\' && s_[i_] != '\n') ++i_;
        if (peek() != q) fail(std::string("unterminated or escaped string for ") + what);  // numpy writes no escapes
        return std::string(s_.substr(start, i_++ - start));
    }
    bool boolean() {
        bool value;
        if (s_.substr(i_, 4) == "True") value = true, i_ += 4;
        else if (s_.substr(i_, 5) == "False") value = false, i_ += 5;
        else fail("'fortran_order' is neither True nor False");
        return value;
    }
    std::vector<std::size_t> tuple() {
        std::vector<std::size_t> out;
        bool trailing_comma = false;
        expect('(');
        while (true) {
            skip_space();
            if (peek() == ')') break;
            if (!is_digit(peek())) fail("'shape' entries must be non-negative integers");
            std::size_t v = 0;
            while (is_digit(peek())) {
                const auto digit = std::size_t(s_[i_++] - '0');
                if (v > (SIZE_MAX - digit) / 10) fail("a 'shape' entry is too large");
                v = v * 10 + digit;
            }
            if (peek() == 'L') ++i_;
            out.push_back(v);
            skip_space();
            trailing_comma = peek() == ',';
            if (trailing_comma) ++i_;
            else if (peek() != ')') fail("expected ',' or ')' in 'shape'");
        }
        ++i_;
        // In Python "(3)" is the integer 3, not a tuple; numpy rejects it, and so do we.
        if (out.size() == 1 && !trailing_comma) fail("'shape' is not a tuple (a 1-tuple needs a comma: (n,))");
        return out;
    }

    std::string_view s_;
    const std::string& file_;
    std::size_t i_ = 0;
};

// The element types we read: numpy descr without its byte-order character.
enum class npy_kind { f2, f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1 };

inline bool npy_parse_descr(std::string_view d, npy_kind& kind, std::size_t& item) {
    struct known {
        const char* descr;
        npy_kind kind;
        std::size_t size;
    };
    // Multi-byte types must say little-endian ('<'); single bytes have no order and numpy writes '|'.
    static constexpr known table[] = {
        {"<f2", npy_kind::f2, 2}, {"<f4", npy_kind::f4, 4}, {"<f8", npy_kind::f8, 8}, {"|i1", npy_kind::i1, 1},
        {"<i2", npy_kind::i2, 2}, {"<i4", npy_kind::i4, 4}, {"<i8", npy_kind::i8, 8}, {"|u1", npy_kind::u1, 1},
        {"<u2", npy_kind::u2, 2}, {"<u4", npy_kind::u4, 4}, {"<u8", npy_kind::u8, 8}, {"|b1", npy_kind::b1, 1},
    };
    for (const known& k : table)
        if (d == k.descr) return kind = k.kind, item = k.size, true;
    return false;
}

inline std::uint64_t npy_load_le(const std::uint8_t* p, std::size_t width) noexcept {
    std::uint64_t v = 0;
    for (std::size_t b = width; b-- > 0;) v = (v << 8) | p[b];
    return v;
}

// Python's repr of a tuple of ints: "()", "(3,)", "(2, 3)".
inline std::string npy_shape_repr(const std::vector<std::size_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// The complete header (magic through '\n') exactly as numpy.save writes it for a C-ordered array.
inline std::string npy_header_bytes(const char* descr, const std::vector<std::size_t>& shape) {
    std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + npy_shape_repr(shape) + ", }";
    // numpy >= 1.24: spare spaces so the first dimension can grow to 21 digits without a rewrite.
    if (!shape.empty()) dict.append(21 - std::min<std::size_t>(21, std::to_string(shape[0]).size()), ' ');
    // numpy pads so that magic + version + length + header + '\n' is a multiple of 64, and always adds at
    // least one space (a full 64 when already aligned): padlen = 64 - (prefix + len + 1) % 64.
    auto padded = [&](std::size_t prefix) { return dict.size() + 1 + (64 - (prefix + dict.size() + 1) % 64); };
    const bool v1 = padded(10) <= 0xFFFF;  // else the 2-byte length cannot hold it: version 2.0
    const std::size_t prefix = v1 ? 10 : 12, hlen = padded(prefix);
    if (hlen > 0xFFFFFFFFu) throw shape_error("npy header for shape " + npy_shape_repr(shape) + " is too large");
    std::string out = "\x93NUMPY";
    out += char(v1 ? 1 : 2);
    out += '\0';
    for (std::size_t i = 0; i < (v1 ? 2u : 4u); ++i) out += char(std::uint8_t(hlen >> (8 * i)));
    out += dict;
    out.append(hlen - dict.size() - 1, ' ');
    out += '\n';
    return out;
}

inline void write_npy_file(const std::string& path, const char* descr, const void* data, std::size_t elem_size,
                           const std::vector<std::size_t>& shape) {
    std::size_t nbytes = elem_size;
    for (std::size_t d : shape) {
        if (d != 0 && nbytes > SIZE_MAX / d) throw shape_error("npy shape " + npy_shape_repr(shape) + " is too large");
        nbytes *= d;
    }
    const std::string header = npy_header_bytes(descr, shape);
    auto fail = [&](int err) { throw io_error("cannot write '" + path + "': " + std::strerror(err)); };
    struct closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, closer> f(std::fopen(path.c_str(), "wb"));
    if (!f) fail(errno);
    if (std::fwrite(header.data(), 1, header.size(), f.get()) != header.size()) fail(errno);
    if (nbytes && std::fwrite(data, 1, nbytes, f.get()) != nbytes) fail(errno);
    if (std::fclose(f.release()) != 0) fail(errno);  // a full disk may only show up when flushing
}

}  // namespace detail

/// Parse .npy bytes (versions 1.0, 2.0, 3.0; dtypes <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1,
/// converted to float; C order only). format_error naming `name_for_errors` for anything malformed or
/// unsupported, including any byte missing from or left over after the data. A header longer than
/// lim.max_header_bytes or data longer than lim.max_tensor_bytes is a limit_error.
inline npy_array parse_npy(const std::uint8_t* bytes, std::size_t size, const std::string& name_for_errors,
                           const limits& lim = current_limits()) {
    auto fail = [&](const std::string& what) { throw format_error("npy file '" + name_for_errors + "': " + what); };
    if (size < 6 || std::memcmp(bytes, "\x93NUMPY", 6) != 0) fail("bad magic (not a .npy file)");
    if (size < 8) fail("truncated before the version");
    const int major = bytes[6], minor = bytes[7];
    if (major < 1 || major > 3 || minor != 0)
        fail("unsupported format version " + std::to_string(major) + "." + std::to_string(minor) + " (1.0, 2.0, 3.0 are)");
    const std::size_t prefix = major == 1 ? 10 : 12;
    if (size < prefix) fail("truncated in the header length");
    const std::uint64_t hlen = detail::npy_load_le(bytes + 8, prefix - 8);
    if (hlen > size - prefix)
        fail("header length " + std::to_string(hlen) + " runs past the end of the file (" + std::to_string(size) + " bytes)");
    limits::check(hlen, lim.max_header_bytes, "max_header_bytes", "npy file '" + name_for_errors + "': header length",
                  "bytes");
    const std::string_view text(reinterpret_cast<const char*>(bytes + prefix), std::size_t(hlen));
    detail::npy_header h = detail::npy_header_parser(text, name_for_errors).parse();

    if (h.fortran_order) fail("fortran_order True is not supported (save a C-ordered array, e.g. np.ascontiguousarray)");
    detail::npy_kind kind;
    std::size_t item = 0;
    if (!detail::npy_parse_descr(h.descr, kind, item)) {
        if (!h.descr.empty() && h.descr[0] == '>') fail("big-endian dtype '" + h.descr + "' is not supported");
        fail("unsupported dtype '" + h.descr + "' (little-endian bool, integer and float types are)");
    }

    // Element count, bounded so that count * itemsize fits: a hostile shape cannot overflow or make us
    // allocate before the size check below compares it with the bytes actually present.
    std::size_t n = 1;
    bool empty = false;
    for (std::size_t d : h.shape) empty |= d == 0;
    if (!empty) {
        for (std::size_t d : h.shape) {
            if (n > SIZE_MAX / item / d) fail("shape " + detail::npy_shape_repr(h.shape) + " is too large");
            n *= d;
        }
    } else {
        n = 0;
    }
    const std::size_t body = size - prefix - std::size_t(hlen), need = n * item;
    limits::check(need, lim.max_tensor_bytes, "max_tensor_bytes",
                  "npy file '" + name_for_errors + "': shape " + detail::npy_shape_repr(h.shape) + " of '" + h.descr + "' needs",
                  "bytes");
    if (body < need)
        fail("data is truncated: " + std::to_string(body) + " bytes present, shape " + detail::npy_shape_repr(h.shape) +
             " of '" + h.descr + "' needs " + std::to_string(need));
    if (body > need) fail(std::to_string(body - need) + " unexpected bytes after the data");

    npy_array out;
    out.shape = std::move(h.shape);
    out.data.resize(n);
    const std::uint8_t* p = bytes + prefix + hlen;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t v = detail::npy_load_le(p + i * item, item);
        float f;
        switch (kind) {
            case detail::npy_kind::f2: f = half_to_float(std::uint16_t(v)); break;
            case detail::npy_kind::f4: f = bits_to_float(std::uint32_t(v)); break;
            case detail::npy_kind::f8: {
                double d;
                std::memcpy(&d, &v, 8);
                f = float(d);
                break;
            }
            case detail::npy_kind::i1: f = float(std::int8_t(std::uint8_t(v))); break;
            case detail::npy_kind::i2: f = float(std::int16_t(std::uint16_t(v))); break;
            case detail::npy_kind::i4: f = float(std::int32_t(std::uint32_t(v))); break;
            case detail::npy_kind::i8: f = float(std::int64_t(v)); break;
            case detail::npy_kind::b1: f = v != 0 ? 1.f : 0.f; break;  // numpy reads any nonzero byte as True
            default: f = float(v); break;                              // unsigned
        }
        out.data[i] = f;
    }
    return out;
}

/// Read a .npy file (see parse_npy). io_error if it cannot be opened or mapped.
inline npy_array read_npy(const std::string& path, const limits& lim = current_limits()) {
    const detail::mapped_file m(path);
    static const std::uint8_t empty = 0;  // an empty file maps to nullptr; give parse_npy a real pointer
    return parse_npy(m.data() ? m.data() : &empty, m.size(), path, lim);
}

/// Write a float32 array ('<f4') exactly as numpy.save would: version 1.0 (2.0 if the header would
/// exceed 65535 bytes), header padded with spaces to a multiple of 64 and ending in '\n'. io_error on
/// failure. `data` holds product(shape) values in C order.
inline void write_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape) {
    detail::write_npy_file(path, "<f4", data, sizeof(float), shape);
}
/// Write an int64 array ('<i8'), otherwise as above.
inline void write_npy(const std::string& path, const std::int64_t* data, const std::vector<std::size_t>& shape) {
    detail::write_npy_file(path, "<i8", data, sizeof(std::int64_t), shape);
}

}  // namespace edgebert::io
