// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where a model's named float tensors come from: a memory-mapped safetensors file (F32 tensors are
// used in place; F16/BF16 are widened once) or an in-memory map (seeded models, tests). The binder
// hands tensors to the model by name and shape and reports every missing, mis-shaped or unused one.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/matrix.hpp"
#include "safetensors.hpp"

namespace edgebert::io {

struct compressed_matrix;  // io/compressed_matrix.hpp

inline std::string shape_to_string(const std::vector<std::size_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

/// Read-only access to named tensors, used at load time only.
class weight_source {
public:
    virtual ~weight_source() = default;
    virtual std::vector<std::string> names() const = 0;
    /// Shape of a tensor, or nullptr if the source has no tensor of that name.
    virtual const std::vector<std::size_t>* shape(const std::string& name) const = 0;
    /// The tensor's values as floats, viewed as [rows x cols] (rows*cols must equal its size).
    virtual const_matrix values(const std::string& name, std::size_t rows, std::size_t cols) const = 0;
    /// Where the tensors come from, for error messages.
    virtual std::string describe() const = 0;
    /// A hint that the caller has copied the tensor and no longer needs its storage resident (a mapped file
    /// gives back its pages; reading it again still works). Does nothing by default.
    virtual void release(const std::string& /*name*/) const {}
    /// The tensor as a compressed model file stores it (number format codes), or nullptr when the source holds
    /// it as floats. values() still gives its decoded fp32 values.
    virtual const compressed_matrix* compressed(const std::string& /*name*/) const { return nullptr; }
};

class safetensors_source final : public weight_source {
public:
    explicit safetensors_source(std::shared_ptr<const safetensors_file> file) : file_(std::move(file)) {}
    std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& t : file_->tensors()) out.push_back(t.name);
        return out;
    }
    const std::vector<std::size_t>* shape(const std::string& name) const override {
        const tensor_info* t = file_->find(name);
        return t ? &t->shape : nullptr;
    }
    void release(const std::string& name) const override {
        if (const tensor_info* t = file_->find(name)) file_->release(*t);
    }
    const_matrix values(const std::string& name, std::size_t rows, std::size_t cols) const override {
        const tensor_info& t = file_->at(name);
        if (t.numel() != rows * cols)
            throw shape_error("tensor '" + name + "' in '" + file_->path() + "' has " + std::to_string(t.numel()) +
                              " values, expected " + std::to_string(rows * cols));
        if (const float* view = file_->f32_view(t)) return const_matrix(view, rows, cols, file_);
        std::vector<float> v(t.numel());
        file_->read_float(t, v.data(), v.size());
        return const_matrix(std::move(v), rows, cols);
    }
    std::string describe() const override { return file_->path(); }
    const safetensors_file& file() const noexcept { return *file_; }

private:
    std::shared_ptr<const safetensors_file> file_;
};

/// Tensors held in memory, keyed by name.
class memory_source final : public weight_source {
public:
    struct tensor {
        std::vector<std::size_t> shape;
        std::vector<float> values;
    };
    explicit memory_source(std::map<std::string, tensor> tensors, std::string label = "<memory>")
        : tensors_(std::move(tensors)), label_(std::move(label)) {}
    std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& kv : tensors_) out.push_back(kv.first);
        return out;
    }
    const std::vector<std::size_t>* shape(const std::string& name) const override {
        auto it = tensors_.find(name);
        return it == tensors_.end() ? nullptr : &it->second.shape;
    }
    const_matrix values(const std::string& name, std::size_t rows, std::size_t cols) const override {
        auto it = tensors_.find(name);
        if (it == tensors_.end()) throw missing_tensor_error("tensor '" + name + "' not found in " + label_);
        if (it->second.values.size() != rows * cols)
            throw shape_error("tensor '" + name + "' in " + label_ + " has " +
                              std::to_string(it->second.values.size()) + " values, expected " +
                              std::to_string(rows * cols));
        return const_matrix(it->second.values, rows, cols);
    }
    std::string describe() const override { return label_; }
    const std::map<std::string, tensor>& tensors() const noexcept { return tensors_; }

private:
    std::map<std::string, tensor> tensors_;
    std::string label_;
};

/// Hands out tensors by name with the expected shape, remembering which were used.
class tensor_binder {
public:
    explicit tensor_binder(const weight_source& source) : source_(source) {}

    bool has(const std::string& name) const { return source_.shape(name) != nullptr; }

    /// The tensor `name` with exactly `expected` shape, viewed as a matrix (1-D tensors as one row).
    const_matrix take(const std::string& name, const std::vector<std::size_t>& expected) {
        const std::vector<std::size_t>* got = source_.shape(name);
        if (!got) throw missing_tensor_error("missing tensor '" + name + "' in " + source_.describe());
        if (*got != expected)
            throw shape_error("tensor '" + name + "' in " + source_.describe() + " has shape " +
                              shape_to_string(*got) + ", expected " + shape_to_string(expected));
        used_.insert(name);
        const std::size_t rows = expected.size() >= 2 ? expected[0] : 1;
        std::size_t cols = 1;
        for (std::size_t i = expected.size() >= 2 ? 1 : 0; i < expected.size(); ++i) cols *= expected[i];
        return source_.values(name, rows, cols);
    }

    /// The caller has copied `name` (see weight_source::release).
    void release(const std::string& name) const { source_.release(name); }

    /// Count a tensor as used when the caller reads it some other way (a mask stored as bytes, say).
    void mark_used(const std::string& name) { used_.insert(name); }

    /// After binding: throw unexpected_tensor_error naming every tensor nobody took, except those
    /// `ignorable` accepts (returned, sorted, so callers can report them).
    std::vector<std::string> finish(const std::function<bool(const std::string&)>& ignorable) const {
        std::vector<std::string> unknown, ignored;
        for (const auto& n : source_.names()) {
            if (used_.count(n)) continue;
            (ignorable && ignorable(n) ? ignored : unknown).push_back(n);
        }
        if (!unknown.empty()) {
            std::string list;
            for (std::size_t i = 0; i < unknown.size() && i < 20; ++i) list += (i ? ", '" : "'") + unknown[i] + "'";
            if (unknown.size() > 20) list += ", ... (" + std::to_string(unknown.size()) + " in all)";
            throw unexpected_tensor_error("unexpected tensor" + std::string(unknown.size() > 1 ? "s " : " ") + list +
                                          " in " + source_.describe());
        }
        return ignored;
    }

private:
    const weight_source& source_;
    std::set<std::string> used_;
};

}  // namespace edgebert::io
