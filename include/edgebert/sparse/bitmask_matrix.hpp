// SPDX-License-Identifier: Apache-2.0
#pragma once
// EdgeBERT's bit-mask sparse encoding (reference/edgebert.md §9.3) of a weight W [rows x cols] (PyTorch
// Linear layout: rows = out_features, cols = in_features).
//
// Each row is cut into vectors of n lanes (n = 8, 16, 32 or 64; EdgeBERT's hardware uses 16); the last vector
// of a row is partial when n does not divide cols. Per vector one n-bit mask word, bit l set when element
// (r, v*n + l) is stored. The stored elements follow packed, in row-major order (vector by vector, lanes
// ascending): the order EdgeBERT's decoder emits them in. (The hardware scatters lane l's elements into bank l
// of the data memory; that is an address map over the same bytes and needs no extra storage.)
//
//   mask    rows * ceil(cols / n) words of n/8 bytes, little-endian, row-major
//   values  one per set bit: fp32 (4 bytes) or an 8-bit code of a number format (1 byte)
//   params  per-row format parameters, 4 bytes per row (only for per-row quantization)
//   bytes() = rows * ceil(cols/n) * n/8 + nonzeros * (4 | 1) + (per-row ? 4 * rows : 0)
// In memory there is also a row index (rows + 1 offsets into the values) and the decode tables; memory_bytes()
// counts them. Zeros are never stored: from_dense() keeps exactly the nonzero elements (NaN counts as nonzero).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../numeric/format.hpp"
#include "code_tables.hpp"

namespace edgebert::sparse {

namespace detail {
inline void check_lanes(std::size_t lanes, const char* who) {
    if (lanes != 8 && lanes != 16 && lanes != 32 && lanes != 64)
        throw config_error(std::string(who) + ": vector length " + std::to_string(lanes) + " is not supported (8, 16, 32 or 64)");
}
inline int popcount64(std::uint64_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcountll(x);
#else
    int c = 0;
    for (; x; x &= x - 1) ++c;
    return c;
#endif
}
inline int ctz64(std::uint64_t x) noexcept {  // x != 0
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(x);
#else
    int c = 0;
    while (!(x & 1u)) x >>= 1, ++c;
    return c;
#endif
}
inline std::vector<float> contiguous_copy(const float* w, std::size_t rows, std::size_t cols, std::size_t ld) {
    std::vector<float> out(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) std::copy(w + r * ld, w + r * ld + cols, out.data() + r * cols);
    return out;
}
inline void check_ld(std::size_t ld, std::size_t cols, std::size_t rows, const char* who) {
    if (rows && cols && ld < cols)
        throw shape_error(std::string(who) + ": row stride " + std::to_string(ld) + " < columns " + std::to_string(cols));
}
}  // namespace detail

class bitmask_matrix {
public:
    static constexpr std::size_t default_lanes = 16;

    bitmask_matrix() = default;

    /// From a dense fp32 weight [rows x cols] (row stride ld); zero elements are the pruned ones.
    static bitmask_matrix from_dense(const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                                     std::size_t lanes = default_lanes) {
        detail::check_ld(ld, cols, rows, "bitmask_matrix::from_dense");
        bitmask_matrix m(rows, cols, lanes, false);
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < cols; ++c) {
                const float x = w[r * ld + c];
                if (x == 0.0f) continue;  // +0 and -0 are pruned; NaN is kept
                m.set_bit(r, c);
                m.values_.push_back(x);
            }
            m.row_ptr_[r + 1] = m.values_.size();
        }
        return m;
    }

    /// From 8-bit codes of the whole matrix [rows x cols] (row stride ld): elements whose decoded value is
    /// zero are dropped. format_error for a code that does not fit the format; shape_error if the tables are
    /// for a different row count.
    static bitmask_matrix from_dense_codes(const std::uint8_t* codes, std::size_t rows, std::size_t cols, std::size_t ld,
                                           code_tables tables, std::size_t lanes = default_lanes) {
        if (rows && cols && ld < cols)
            throw shape_error("bitmask_matrix::from_dense_codes: row stride " + std::to_string(ld) + " < columns " + std::to_string(cols));
        check_tables(tables, rows, "bitmask_matrix::from_dense_codes");
        bitmask_matrix m(rows, cols, lanes, true);
        for (std::size_t r = 0; r < rows; ++r) {
            tables.check_codes(codes + r * ld, cols, "bitmask_matrix: row " + std::to_string(r));
            for (std::size_t c = 0; c < cols; ++c) {
                const std::uint8_t code = codes[r * ld + c];
                if (tables.value(r, code) == 0.0f) continue;
                m.set_bit(r, c);
                m.codes_.push_back(code);
            }
            m.row_ptr_[r + 1] = m.codes_.size();
        }
        m.tables_ = std::move(tables);
        return m;
    }

    /// Quantize a dense fp32 weight to an 8-bit format (numeric::quantized_tensor::quantize rules) and keep the
    /// elements whose code does not decode to zero.
    static bitmask_matrix quantize(const float* w, std::size_t rows, std::size_t cols, std::size_t ld,
                                   const numeric::number_format& f, const numeric::quantize_options& opt = {},
                                   std::size_t lanes = default_lanes) {
        detail::check_ld(ld, cols, rows, "bitmask_matrix::quantize");
        const std::vector<float> x = detail::contiguous_copy(w, rows, cols, ld);
        const auto q = numeric::quantized_tensor::quantize(x.data(), {rows, cols}, f, opt);
        return from_dense_codes(q.codes8().data(), rows, cols, cols, code_tables::of(q), lanes);
    }

    /// EdgeBERT storage given directly, fp32 values. mask: rows * ceil(cols/lanes) words of lanes/8 bytes.
    /// shape_error if the mask or value count does not match; format_error for mask bits past the last column.
    static bitmask_matrix from_masks(std::size_t rows, std::size_t cols, std::size_t lanes, std::vector<std::uint8_t> mask,
                                     std::vector<float> values) {
        bitmask_matrix m(rows, cols, lanes, false);
        m.adopt_mask(std::move(mask), values.size(), "bitmask_matrix::from_masks");
        m.values_ = std::move(values);
        return m;
    }
    /// The same with 8-bit codes; format_error for a code that does not fit the format.
    static bitmask_matrix from_masks(std::size_t rows, std::size_t cols, std::size_t lanes, std::vector<std::uint8_t> mask,
                                     std::vector<std::uint8_t> codes, code_tables tables) {
        check_tables(tables, rows, "bitmask_matrix::from_masks");
        bitmask_matrix m(rows, cols, lanes, true);
        m.adopt_mask(std::move(mask), codes.size(), "bitmask_matrix::from_masks");
        tables.check_codes(codes.data(), codes.size(), "bitmask_matrix::from_masks");
        m.codes_ = std::move(codes);
        m.tables_ = std::move(tables);
        return m;
    }

    /// From a compressed model file's bit-mask storage: one bit per element of the flattened matrix (C order,
    /// LSB first, ceil(rows*cols/8) bytes) and the codes of the set elements in C order.
    static bitmask_matrix from_element_mask(std::size_t rows, std::size_t cols, std::size_t lanes, const std::uint8_t* mask,
                                            std::size_t mask_size, std::vector<std::uint8_t> codes, code_tables tables) {
        const std::size_t numel = rows * cols;
        if (mask_size != (numel + 7) / 8)
            throw shape_error("bitmask_matrix::from_element_mask: mask has " + std::to_string(mask_size) + " bytes, " +
                              std::to_string(numel) + " elements need " + std::to_string((numel + 7) / 8));
        for (std::size_t i = numel; i < mask_size * 8; ++i)
            if ((mask[i / 8] >> (i % 8)) & 1u)
                throw format_error("bitmask_matrix::from_element_mask: mask bit " + std::to_string(i) + " is set past the last element");
        check_tables(tables, rows, "bitmask_matrix::from_element_mask");
        bitmask_matrix m(rows, cols, lanes, true);
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < cols; ++c) {
                const std::size_t i = r * cols + c;
                if ((mask[i / 8] >> (i % 8)) & 1u) m.set_bit(r, c), ++m.row_ptr_[r + 1];
            }
            m.row_ptr_[r + 1] += m.row_ptr_[r];
        }
        if (codes.size() != m.row_ptr_[rows])
            throw shape_error("bitmask_matrix::from_element_mask: mask has " + std::to_string(m.row_ptr_[rows]) + " bits set but " +
                              std::to_string(codes.size()) + " codes are given");
        tables.check_codes(codes.data(), codes.size(), "bitmask_matrix::from_element_mask");
        m.codes_ = std::move(codes);
        m.tables_ = std::move(tables);
        return m;
    }

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t lanes() const noexcept { return lanes_; }
    std::size_t vectors_per_row() const noexcept { return vpr_; }
    /// Stored elements (set mask bits).
    std::size_t nonzeros() const noexcept { return row_ptr_.empty() ? 0 : row_ptr_.back(); }
    double density() const noexcept { return rows_ && cols_ ? double(nonzeros()) / double(rows_ * cols_) : 0.0; }
    bool quantized() const noexcept { return quantized_; }
    /// Decode tables (quantized only).
    const code_tables& tables() const noexcept { return tables_; }

    /// Mask word of vector v of row r (bit l = column v*lanes + l).
    std::uint64_t mask_word(std::size_t r, std::size_t v) const noexcept {
        std::uint64_t w = 0;
        std::memcpy(&w, mask_.data() + (r * vpr_ + v) * (lanes_ / 8), lanes_ / 8);  // little-endian hosts
        return w;
    }
    const std::vector<std::uint8_t>& mask_bytes() const noexcept { return mask_; }
    /// Index of row r's first stored element in values() / codes(); row_begin(rows()) == nonzeros().
    std::size_t row_begin(std::size_t r) const noexcept { return row_ptr_[r]; }
    const std::vector<float>& values() const noexcept { return values_; }
    const std::vector<std::uint8_t>& codes() const noexcept { return codes_; }

    /// Element (r, c), decoded; shape_error out of range.
    float at(std::size_t r, std::size_t c) const {
        if (r >= rows_ || c >= cols_) throw shape_error("bitmask_matrix::at: (" + std::to_string(r) + ", " + std::to_string(c) + ") is out of range");
        const std::size_t v = c / lanes_, l = c % lanes_;
        const std::uint64_t word = mask_word(r, v);
        if (!((word >> l) & 1u)) return 0.0f;
        std::size_t i = row_ptr_[r];
        for (std::size_t u = 0; u < v; ++u) i += std::size_t(detail::popcount64(mask_word(r, u)));
        i += std::size_t(detail::popcount64(l ? word & ((std::uint64_t(1) << l) - 1) : 0));
        return quantized_ ? tables_.value(r, codes_[i]) : values_[i];
    }
    /// The dense matrix [rows x cols] (decoded).
    std::vector<float> to_dense() const {
        std::vector<float> out(rows_ * cols_, 0.0f);
        for (std::size_t r = 0; r < rows_; ++r) {
            std::size_t i = row_ptr_[r];
            for (std::size_t v = 0; v < vpr_; ++v)
                for (std::uint64_t w = mask_word(r, v); w; w &= w - 1) {
                    const std::size_t c = v * lanes_ + std::size_t(detail::ctz64(w));
                    out[r * cols_ + c] = quantized_ ? tables_.value(r, codes_[i]) : values_[i];
                    ++i;
                }
        }
        return out;
    }
    /// The compressed file's element mask (bit i = element i in C order, LSB first).
    std::vector<std::uint8_t> element_mask() const {
        std::vector<std::uint8_t> out((rows_ * cols_ + 7) / 8, 0);
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t v = 0; v < vpr_; ++v)
                for (std::uint64_t w = mask_word(r, v); w; w &= w - 1) {
                    const std::size_t i = r * cols_ + v * lanes_ + std::size_t(detail::ctz64(w));
                    out[i / 8] = std::uint8_t(out[i / 8] | (1u << (i % 8)));
                }
        return out;
    }

    /// Storage bytes (see the top of this file): masks + values + per-row parameters.
    std::size_t bytes() const noexcept {
        return mask_.size() + nonzeros() * (quantized_ ? 1 : sizeof(float)) + (quantized_ ? tables_.parameter_bytes() : 0);
    }
    /// Everything held in memory: storage + row index + decode tables.
    std::size_t memory_bytes() const noexcept {
        return mask_.size() + values_.size() * sizeof(float) + codes_.size() + row_ptr_.size() * sizeof(std::size_t) +
               (quantized_ ? tables_.memory_bytes() : 0);
    }

private:
    bitmask_matrix(std::size_t rows, std::size_t cols, std::size_t lanes, bool quantized)
        : rows_(rows), cols_(cols), lanes_(lanes), quantized_(quantized) {
        detail::check_lanes(lanes, "bitmask_matrix");
        vpr_ = (cols + lanes - 1) / lanes;
        if (rows && vpr_ > (std::size_t(-1) / 64) / rows) throw shape_error("bitmask_matrix: shape is too large");
        mask_.assign(rows * vpr_ * (lanes / 8), 0);
        row_ptr_.assign(rows + 1, 0);
    }
    static void check_tables(const code_tables& t, std::size_t rows, const char* who) {
        if (t.empty()) throw config_error(std::string(who) + ": no decode tables given for 8-bit codes");
        if (t.rows() != rows)
            throw shape_error(std::string(who) + ": decode tables are for " + std::to_string(t.rows()) + " rows, the matrix has " +
                              std::to_string(rows));
    }
    void set_bit(std::size_t r, std::size_t c) noexcept {
        const std::size_t byte = (r * vpr_ + c / lanes_) * (lanes_ / 8) + (c % lanes_) / 8;
        mask_[byte] = std::uint8_t(mask_[byte] | (1u << (c % 8)));
    }
    void adopt_mask(std::vector<std::uint8_t> mask, std::size_t value_count, const char* who) {
        if (mask.size() != mask_.size())
            throw shape_error(std::string(who) + ": mask has " + std::to_string(mask.size()) + " bytes, " + std::to_string(rows_) + " x " +
                              std::to_string(cols_) + " in " + std::to_string(lanes_) + "-lane vectors needs " + std::to_string(mask_.size()));
        mask_ = std::move(mask);
        const std::size_t tail = cols_ % lanes_;
        const std::uint64_t tail_bits = tail ? ~((std::uint64_t(1) << tail) - 1) : 0;
        for (std::size_t r = 0; r < rows_; ++r) {
            std::size_t count = 0;
            for (std::size_t v = 0; v < vpr_; ++v) {
                const std::uint64_t w = mask_word(r, v);
                if (v + 1 == vpr_ && (w & tail_bits))
                    throw format_error(std::string(who) + ": row " + std::to_string(r) + " has mask bits set past column " +
                                       std::to_string(cols_ - 1));
                count += std::size_t(detail::popcount64(w));
            }
            row_ptr_[r + 1] = row_ptr_[r] + count;
        }
        if (value_count != row_ptr_[rows_])
            throw shape_error(std::string(who) + ": the mask has " + std::to_string(row_ptr_[rows_]) + " bits set but " +
                              std::to_string(value_count) + " values are given");
    }

    std::size_t rows_ = 0, cols_ = 0, lanes_ = default_lanes, vpr_ = 0;
    bool quantized_ = false;
    std::vector<std::uint8_t> mask_;
    std::vector<std::size_t> row_ptr_ = std::vector<std::size_t>(1, 0);
    std::vector<float> values_;
    std::vector<std::uint8_t> codes_;
    code_tables tables_;
};

}  // namespace edgebert::sparse
