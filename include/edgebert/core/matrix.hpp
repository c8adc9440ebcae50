// SPDX-License-Identifier: Apache-2.0
#pragma once
// A read-only row-major float matrix that either owns its values or borrows them from a memory-mapped
// file it keeps alive (so fp32 embedding tables are used in place, never copied).

#include <cstddef>
#include <memory>
#include <vector>

namespace edgebert {

class const_matrix {
public:
    const_matrix() = default;
    /// Own the values.
    const_matrix(std::vector<float> values, std::size_t rows, std::size_t cols)
        : owned_(std::make_shared<std::vector<float>>(std::move(values))), rows_(rows), cols_(cols) {
        data_ = owned_->data();
    }
    /// Borrow values that `keep_alive` owns (for example a memory-mapped file).
    const_matrix(const float* data, std::size_t rows, std::size_t cols, std::shared_ptr<const void> keep_alive)
        : keep_alive_(std::move(keep_alive)), data_(data), rows_(rows), cols_(cols) {}

    const float* data() const noexcept { return data_; }
    const float* row(std::size_t r) const noexcept { return data_ + r * cols_; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t size() const noexcept { return rows_ * cols_; }
    bool empty() const noexcept { return size() == 0; }
    /// True when the values live in a mapped file rather than in memory this object allocated.
    bool borrowed() const noexcept { return !owned_ && data_ != nullptr; }

private:
    std::shared_ptr<std::vector<float>> owned_;
    std::shared_ptr<const void> keep_alive_;
    const float* data_ = nullptr;
    std::size_t rows_ = 0, cols_ = 0;
};

}  // namespace edgebert
