// SPDX-License-Identifier: Apache-2.0
#pragma once
// Block-sparse storage (BSR) of a weight W [rows x cols] (PyTorch Linear layout: rows = out_features) with
// blocks of R x C elements (R output rows x C input columns, 1 <= R, C <= 64): 1 x 8, 4 x 4, 16 x 1, ...
// The matrix is cut into ceil(rows/R) block rows and ceil(cols/C) block columns; blocks at the bottom and right
// edges are stored full size, zero past the matrix (validated on input).
//
//   row_ptr  ceil(rows/R) + 1 uint32 offsets: block row b holds blocks row_ptr[b] .. row_ptr[b+1]-1
//   col_idx  one uint32 per stored block: its block column, strictly increasing within a block row
//   values   R*C per stored block, row-major inside the block: fp32 (4 bytes) or 8-bit codes (1 byte)
//   params   per-row format parameters, 4 bytes per row (only for per-row quantization)
//   bytes() = 4 * (ceil(rows/R) + 1) + 4 * blocks + blocks * R * C * (4 | 1) + (per-row ? 4 * rows : 0)
// from_dense() stores every block that has a nonzero element (NaN counts as nonzero).
// Block pruning itself is compress::prune_by_magnitude (compress/pruning.hpp).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../numeric/format.hpp"
#include "bitmask_matrix.hpp"  // detail helpers
#include "code_tables.hpp"

namespace edgebert::sparse {

class block_sparse_matrix {
public:
    static constexpr std::size_t max_block_side = 64;

    block_sparse_matrix() = default;

    /// From a dense fp32 weight [rows x cols] (row stride ld): every R x C block with a nonzero is stored.
    static block_sparse_matrix from_dense(const float* w, std::size_t rows, std::size_t cols, std::size_t ld, std::size_t R,
                                          std::size_t C) {
        detail::check_ld(ld, cols, rows, "block_sparse_matrix::from_dense");
        block_sparse_matrix m(rows, cols, R, C, false);
        m.build([&](std::size_t r, std::size_t c) { return w[r * ld + c] != 0.0f; },
                [&](std::size_t r, std::size_t c) { m.values_.push_back(r < rows && c < cols ? w[r * ld + c] : 0.0f); });
        return m;
    }

    /// From 8-bit codes of the whole matrix (row stride ld): blocks with a code that decodes to nonzero are
    /// stored. format_error for a code that does not fit the format.
    static block_sparse_matrix from_dense_codes(const std::uint8_t* codes, std::size_t rows, std::size_t cols, std::size_t ld,
                                                std::size_t R, std::size_t C, code_tables tables) {
        if (rows && cols && ld < cols)
            throw shape_error("block_sparse_matrix::from_dense_codes: row stride " + std::to_string(ld) + " < columns " + std::to_string(cols));
        check_tables(tables, rows, "block_sparse_matrix::from_dense_codes");
        for (std::size_t r = 0; r < rows; ++r) tables.check_codes(codes + r * ld, cols, "block_sparse_matrix: row " + std::to_string(r));
        block_sparse_matrix m(rows, cols, R, C, true);
        const std::uint8_t zero = zero_code(tables);
        m.build([&](std::size_t r, std::size_t c) { return tables.value(r, codes[r * ld + c]) != 0.0f; },
                [&](std::size_t r, std::size_t c) { m.codes_.push_back(r < rows && c < cols ? codes[r * ld + c] : zero); });
        m.tables_ = std::move(tables);
        return m;
    }

    /// Quantize (numeric::quantized_tensor::quantize rules), then store the blocks that hold a nonzero code.
    static block_sparse_matrix quantize(const float* w, std::size_t rows, std::size_t cols, std::size_t ld, std::size_t R,
                                        std::size_t C, const numeric::number_format& f, const numeric::quantize_options& opt = {}) {
        detail::check_ld(ld, cols, rows, "block_sparse_matrix::quantize");
        const std::vector<float> x = detail::contiguous_copy(w, rows, cols, ld);
        const auto q = numeric::quantized_tensor::quantize(x.data(), {rows, cols}, f, opt);
        return from_dense_codes(q.codes8().data(), rows, cols, cols, R, C, code_tables::of(q));
    }

    /// BSR arrays given directly (fp32). shape_error for array sizes that do not match; format_error for
    /// offsets that are not monotone, block columns out of range or not increasing, nonzero padding.
    static block_sparse_matrix from_blocks(std::size_t rows, std::size_t cols, std::size_t R, std::size_t C,
                                           std::vector<std::uint32_t> row_ptr, std::vector<std::uint32_t> col_idx,
                                           std::vector<float> values) {
        block_sparse_matrix m(rows, cols, R, C, false);
        m.adopt_index(std::move(row_ptr), std::move(col_idx), values.size(), "block_sparse_matrix::from_blocks");
        m.values_ = std::move(values);
        m.check_padding([&](std::size_t i) { return m.values_[i] != 0.0f; }, "block_sparse_matrix::from_blocks");
        return m;
    }
    /// The same with 8-bit codes.
    static block_sparse_matrix from_blocks(std::size_t rows, std::size_t cols, std::size_t R, std::size_t C,
                                           std::vector<std::uint32_t> row_ptr, std::vector<std::uint32_t> col_idx,
                                           std::vector<std::uint8_t> codes, code_tables tables) {
        check_tables(tables, rows, "block_sparse_matrix::from_blocks");
        block_sparse_matrix m(rows, cols, R, C, true);
        m.adopt_index(std::move(row_ptr), std::move(col_idx), codes.size(), "block_sparse_matrix::from_blocks");
        tables.check_codes(codes.data(), codes.size(), "block_sparse_matrix::from_blocks");
        m.codes_ = std::move(codes);
        const std::size_t bs = R * C;
        m.check_padding(
            [&](std::size_t i) {
                const std::size_t b = i / bs, r = std::min(m.block_row_of(b) * R + (i % bs) / C, rows - 1);
                return tables.value(r, m.codes_[i]) != 0.0f;
            },
            "block_sparse_matrix::from_blocks");
        m.tables_ = std::move(tables);
        return m;
    }

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t block_rows() const noexcept { return R_; }  ///< R: output rows per block
    std::size_t block_cols() const noexcept { return C_; }  ///< C: input columns per block
    std::size_t row_blocks() const noexcept { return brows_; }
    std::size_t col_blocks() const noexcept { return bcols_; }
    /// Stored blocks.
    std::size_t blocks() const noexcept { return col_idx_.size(); }
    /// Fraction of blocks stored.
    double block_density() const noexcept { return brows_ && bcols_ ? double(blocks()) / double(brows_ * bcols_) : 0.0; }
    /// Nonzero elements among the stored ones (what a zero-skipping engine would touch).
    std::size_t nonzeros() const noexcept { return nonzeros_; }
    bool quantized() const noexcept { return quantized_; }
    const code_tables& tables() const noexcept { return tables_; }
    const std::vector<std::uint32_t>& row_ptr() const noexcept { return row_ptr_; }
    const std::vector<std::uint32_t>& col_index() const noexcept { return col_idx_; }
    const std::vector<float>& values() const noexcept { return values_; }
    const std::vector<std::uint8_t>& codes() const noexcept { return codes_; }

    /// Element (r, c), decoded; shape_error out of range.
    float at(std::size_t r, std::size_t c) const {
        if (r >= rows_ || c >= cols_) throw shape_error("block_sparse_matrix::at: (" + std::to_string(r) + ", " + std::to_string(c) + ") is out of range");
        const std::size_t br = r / R_, bc = c / C_;
        const auto first = col_idx_.begin() + row_ptr_[br], last = col_idx_.begin() + row_ptr_[br + 1];
        const auto it = std::lower_bound(first, last, std::uint32_t(bc));
        if (it == last || *it != bc) return 0.0f;
        const std::size_t i = std::size_t(it - col_idx_.begin()) * R_ * C_ + (r % R_) * C_ + c % C_;
        return quantized_ ? tables_.value(r, codes_[i]) : values_[i];
    }
    std::vector<float> to_dense() const {
        std::vector<float> out(rows_ * cols_, 0.0f);
        for (std::size_t br = 0; br < brows_; ++br)
            for (std::size_t b = row_ptr_[br]; b < row_ptr_[br + 1]; ++b)
                for (std::size_t i = 0; i < R_; ++i)
                    for (std::size_t j = 0; j < C_; ++j) {
                        const std::size_t r = br * R_ + i, c = col_idx_[b] * C_ + j, e = b * R_ * C_ + i * C_ + j;
                        if (r < rows_ && c < cols_) out[r * cols_ + c] = quantized_ ? tables_.value(r, codes_[e]) : values_[e];
                    }
        return out;
    }

    /// Storage bytes (formula at the top of this file).
    std::size_t bytes() const noexcept {
        return row_ptr_.size() * 4 + col_idx_.size() * 4 + blocks() * R_ * C_ * (quantized_ ? 1 : sizeof(float)) +
               (quantized_ ? tables_.parameter_bytes() : 0);
    }
    /// Everything held in memory: storage + decode tables.
    std::size_t memory_bytes() const noexcept {
        return row_ptr_.size() * 4 + col_idx_.size() * 4 + values_.size() * sizeof(float) + codes_.size() +
               (quantized_ ? tables_.memory_bytes() : 0);
    }

private:
    block_sparse_matrix(std::size_t rows, std::size_t cols, std::size_t R, std::size_t C, bool quantized)
        : rows_(rows), cols_(cols), R_(R), C_(C), quantized_(quantized) {
        if (R < 1 || C < 1 || R > max_block_side || C > max_block_side)
            throw config_error("block_sparse_matrix: block shape " + std::to_string(R) + "x" + std::to_string(C) +
                               " is not supported (each side 1 .. " + std::to_string(max_block_side) + ")");
        brows_ = (rows + R - 1) / R;
        bcols_ = (cols + C - 1) / C;
        if (bcols_ > std::numeric_limits<std::uint32_t>::max() || double(brows_) * double(bcols_) > 4.0e9)
            throw shape_error("block_sparse_matrix: " + std::to_string(rows) + " x " + std::to_string(cols) + " has too many blocks");
        row_ptr_.assign(brows_ + 1, 0);
    }
    static void check_tables(const code_tables& t, std::size_t rows, const char* who) {
        if (t.empty()) throw config_error(std::string(who) + ": no decode tables given for 8-bit codes");
        if (t.rows() != rows)
            throw shape_error(std::string(who) + ": decode tables are for " + std::to_string(t.rows()) + " rows, the matrix has " +
                              std::to_string(rows));
    }
    /// A code that decodes to zero in every row (padding of edge blocks); code 0 in every 8-bit format here.
    static std::uint8_t zero_code(const code_tables& t) {
        for (std::uint32_t c = 0; c < t.code_limit(); ++c) {
            bool zero = true;
            for (std::size_t r = 0; r < t.rows() && zero; ++r) zero = t.value(r, std::uint8_t(c)) == 0.0f;
            if (zero) return std::uint8_t(c);
        }
        throw config_error("block_sparse_matrix: format " + t.format().name() + " has no code for zero");
    }
    std::size_t block_row_of(std::size_t b) const noexcept {
        return std::size_t(std::upper_bound(row_ptr_.begin(), row_ptr_.end(), std::uint32_t(b)) - row_ptr_.begin()) - 1;
    }
    template <class NonZero, class Push>
    void build(NonZero&& nonzero, Push&& push) {
        for (std::size_t br = 0; br < brows_; ++br) {
            const std::size_t r0 = br * R_, r1 = std::min(rows_, r0 + R_);
            for (std::size_t bc = 0; bc < bcols_; ++bc) {
                const std::size_t c0 = bc * C_, c1 = std::min(cols_, c0 + C_);
                std::size_t nz = 0;
                for (std::size_t r = r0; r < r1; ++r)
                    for (std::size_t c = c0; c < c1; ++c) nz += nonzero(r, c) ? 1 : 0;
                if (!nz) continue;
                nonzeros_ += nz;
                col_idx_.push_back(std::uint32_t(bc));
                for (std::size_t r = r0; r < r0 + R_; ++r)
                    for (std::size_t c = c0; c < c0 + C_; ++c) push(r, c);
            }
            if (col_idx_.size() > std::numeric_limits<std::uint32_t>::max()) throw shape_error("block_sparse_matrix: too many blocks");
            row_ptr_[br + 1] = std::uint32_t(col_idx_.size());
        }
    }
    void adopt_index(std::vector<std::uint32_t> row_ptr, std::vector<std::uint32_t> col_idx, std::size_t value_count, const char* who) {
        const std::string w(who);
        if (row_ptr.size() != brows_ + 1)
            throw shape_error(w + ": row_ptr has " + std::to_string(row_ptr.size()) + " entries, " + std::to_string(brows_) +
                              " block rows need " + std::to_string(brows_ + 1));
        if (row_ptr[0] != 0) throw format_error(w + ": row_ptr[0] is " + std::to_string(row_ptr[0]) + ", not 0");
        for (std::size_t b = 0; b < brows_; ++b)
            if (row_ptr[b + 1] < row_ptr[b]) throw format_error(w + ": row_ptr decreases at block row " + std::to_string(b));
        if (row_ptr.back() != col_idx.size())
            throw shape_error(w + ": row_ptr ends at " + std::to_string(row_ptr.back()) + " but " + std::to_string(col_idx.size()) +
                              " block columns are given");
        for (std::size_t b = 0; b < brows_; ++b)
            for (std::size_t i = row_ptr[b]; i < row_ptr[b + 1]; ++i) {
                if (col_idx[i] >= bcols_)
                    throw format_error(w + ": block " + std::to_string(i) + " has block column " + std::to_string(col_idx[i]) + " (there are " +
                                       std::to_string(bcols_) + ")");
                if (i > row_ptr[b] && col_idx[i] <= col_idx[i - 1])
                    throw format_error(w + ": block columns of block row " + std::to_string(b) + " are not strictly increasing");
            }
        if (value_count != col_idx.size() * R_ * C_)
            throw shape_error(w + ": " + std::to_string(value_count) + " values given for " + std::to_string(col_idx.size()) + " blocks of " +
                              std::to_string(R_) + "x" + std::to_string(C_));
        row_ptr_ = std::move(row_ptr);
        col_idx_ = std::move(col_idx);
    }
    /// Count nonzeros; format_error if an element past the matrix edge is nonzero.
    template <class NonZero>
    void check_padding(NonZero&& nonzero, const char* who) {
        nonzeros_ = 0;
        for (std::size_t br = 0; br < brows_; ++br)
            for (std::size_t b = row_ptr_[br]; b < row_ptr_[br + 1]; ++b)
                for (std::size_t i = 0; i < R_; ++i)
                    for (std::size_t j = 0; j < C_; ++j) {
                        const std::size_t e = b * R_ * C_ + i * C_ + j;
                        if (!nonzero(e)) continue;
                        if (br * R_ + i >= rows_ || col_idx_[b] * C_ + j >= cols_)
                            throw format_error(std::string(who) + ": block " + std::to_string(b) + " has a nonzero past the matrix edge");
                        ++nonzeros_;
                    }
    }

    std::size_t rows_ = 0, cols_ = 0, R_ = 1, C_ = 1, brows_ = 0, bcols_ = 0, nonzeros_ = 0;
    bool quantized_ = false;
    std::vector<std::uint32_t> row_ptr_ = std::vector<std::uint32_t>(1, 0);
    std::vector<std::uint32_t> col_idx_;
    std::vector<float> values_;
    std::vector<std::uint8_t> codes_;
    code_tables tables_;
};

}  // namespace edgebert::sparse
