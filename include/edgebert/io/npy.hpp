// SPDX-License-Identifier: Apache-2.0
#pragma once
// NumPy .npy files (format versions 1.0, 2.0, 3.0): read any little-endian numeric array into float,
// write float32 and int64 arrays exactly as numpy.save does (header padded to 64 bytes, ending in '\n').

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "dtype.hpp"

namespace edgebert::io {

struct npy_array {
    std::vector<std::size_t> shape;
    std::vector<float> data;  ///< C order
};

namespace detail {

// A tiny reader of the header's Python literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class npy_header_parser {
public:
    npy_header_parser(const std::string& text, const std::string& file) : s_(text), file_(file) {}

    void parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
        bool have_descr = false, have_fortran = false, have_shape = false;
        skip();
        expect('{');
        while (true) {
            skip();
            if (peek() == '}') break;
            const std::string key = string_literal();
            skip();
            expect(':');
            skip();
            if (key == "descr") descr = string_literal(), have_descr = true;
            else if (key == "fortran_order") fortran = boolean(), have_fortran = true;
            else if (key == "shape") shape = tuple(), have_shape = true;
            else fail("unknown header key '" + key + "'");
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != '}') fail("expected ',' or '}' in the header");
        }
        if (!have_descr || !have_fortran || !have_shape) fail("header lacks 'descr', 'fortran_order' or 'shape'");
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw format_error("npy file '" + file_ + "': " + what); }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "' in the header");
        ++i_;
    }
    std::string string_literal() {
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string in the header");
        ++i_;
        const std::size_t start = i_;
        while (i_ < s_.size() && s_[i_] != q) ++i_;
        if (i_ >= s_.size()) fail("unterminated string in the header");
        return s_.substr(start, i_++ - start);
    }
    bool boolean() {
        if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
        if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
        fail("fortran_order is neither True nor False");
    }
    std::vector<std::size_t> tuple() {
        std::vector<std::size_t> out;
        expect('(');
        while (true) {
            skip();
            if (peek() == ')') break;
            if (peek() < '0' || peek() > '9') fail("shape entries must be non-negative integers");
            std::uint64_t v = 0;
            while (peek() >= '0' && peek() <= '9') {
                if (v > (UINT64_MAX - 9) / 10) fail("shape entry too large");
                v = v * 10 + std::uint64_t(s_[i_++] - '0');
            }
            if (peek() == 'L') ++i_;  // Python 2 long suffix
            out.push_back(std::size_t(v));
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != ')') fail("expected ',' or ')' in the shape");
        }
        ++i_;
        return out;
    }
    const std::string& s_;
    const std::string& file_;
    std::size_t i_ = 0;
};

inline void write_npy_bytes(const std::string& path, const char* descr, const void* data, std::size_t elem_size,
                            const std::vector<std::size_t>& shape) {
    std::string shp = "(";
    std::size_t n = 1;
    for (std::size_t i = 0; i < shape.size(); ++i) shp += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : ""), n *= shape[i];
    if (shape.size() == 1) shp.erase(shp.size() - 1);  // "(3, " -> "(3,"
    shp += ")";
    std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shp + ", }";
    const bool v2 = dict.size() + 11 > 65535;
    const std::size_t pre = v2 ? 12 : 10;
    const std::size_t total = (pre + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - pre - dict.size() - 1, ' ');
    dict += '\n';
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error("cannot create '" + path + "'");
    f.write("\x93NUMPY", 6);
    const char version[2] = {char(v2 ? 2 : 1), 0};
    f.write(version, 2);
    const std::uint32_t hl = std::uint32_t(dict.size());
    const unsigned char len[4] = {std::uint8_t(hl), std::uint8_t(hl >> 8), std::uint8_t(hl >> 16), std::uint8_t(hl >> 24)};
    f.write(reinterpret_cast<const char*>(len), v2 ? 4 : 2);
    f.write(dict.data(), std::streamsize(dict.size()));
    f.write(static_cast<const char*>(data), std::streamsize(n * elem_size));
    if (!f) throw io_error("cannot write '" + path + "'");
}

}  // namespace detail

/// Parse .npy bytes; format_error naming `name` for anything malformed or unsupported.
inline npy_array parse_npy(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
    auto fail = [&](const std::string& what) { throw format_error("npy file '" + name + "': " + what); };
    if (size < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0) fail("bad magic (not a .npy file)");
    const int major = bytes[6];
    if (major < 1 || major > 3) fail("unsupported format version " + std::to_string(major) + "." + std::to_string(bytes[7]));
    std::size_t pre = major == 1 ? 10 : 12;
    if (size < pre) fail("truncated header");
    std::size_t hl = std::size_t(bytes[8]) | std::size_t(bytes[9]) << 8;
    if (major >= 2) hl |= std::size_t(bytes[10]) << 16 | std::size_t(bytes[11]) << 24;
    if (hl > size - pre) fail("header length " + std::to_string(hl) + " runs past the end of the file");
    const std::string header(reinterpret_cast<const char*>(bytes + pre), hl);
    std::string descr;
    bool fortran = false;
    npy_array out;
    detail::npy_header_parser(header, name).parse(descr, fortran, out.shape);
    if (fortran) fail("fortran_order True is not supported (save a C-ordered array)");
    if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '='))
        fail("unsupported dtype '" + descr + "' (little-endian numeric types only)");
    const std::string kind = descr.substr(1);
    std::size_t item = 0;
    if (kind == "f4" || kind == "i4" || kind == "u4") item = 4;
    else if (kind == "f8" || kind == "i8" || kind == "u8") item = 8;
    else if (kind == "f2" || kind == "i2" || kind == "u2") item = 2;
    else if (kind == "i1" || kind == "u1" || kind == "b1") item = 1;
    else fail("unsupported dtype '" + descr + "'");
    std::size_t n = 1;
    for (auto d : out.shape) {
        if (d != 0 && n > (SIZE_MAX / item) / d) fail("shape too large");
        n *= d;
    }
    const std::size_t body = size - pre - hl;
    if (body < n * item) fail("data is truncated: " + std::to_string(body) + " bytes for " + std::to_string(n * item));
    if (body > n * item) fail(std::to_string(body - n * item) + " unexpected bytes after the data");
    const std::uint8_t* p = bytes + pre + hl;
    out.data.resize(n);
    auto le = [&](std::size_t i, std::size_t w) {
        std::uint64_t v = 0;
        for (std::size_t b = w; b-- > 0;) v = (v << 8) | p[i * w + b];
        return v;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t v = le(i, item);
        float f = 0;
        if (kind == "f4") f = bits_to_float(std::uint32_t(v));
        else if (kind == "f8") {
            double d;
            std::memcpy(&d, &v, 8);
            f = float(d);
        } else if (kind == "f2") f = half_to_float(std::uint16_t(v));
        else if (kind[0] == 'u' || kind == "b1") f = float(v);
        else f = float(std::int64_t(v << (64 - 8 * item)) >> (64 - 8 * item));  // sign-extend
        out.data[i] = f;
    }
    return out;
}

inline npy_array read_npy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error("cannot open '" + path + "'");
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return parse_npy(bytes.data(), bytes.size(), path);
}

inline void write_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape) {
    detail::write_npy_bytes(path, "<f4", data, 4, shape);
}
inline void write_npy(const std::string& path, const std::int64_t* data, const std::vector<std::size_t>& shape) {
    detail::write_npy_bytes(path, "<i8", data, 8, shape);
}

}  // namespace edgebert::io
