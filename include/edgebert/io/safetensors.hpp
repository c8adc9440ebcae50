// SPDX-License-Identifier: Apache-2.0
#pragma once
// safetensors: an 8-byte little-endian header length N, N bytes of JSON ({name: {dtype, shape,
// data_offsets}}, optional "__metadata__" of strings), then the data section. The reader memory-maps
// the file and validates everything before any tensor is touched, as the reference implementation does:
// header length within the file and the limit, JSON object, known dtypes, non-negative shapes whose byte
// size matches the offsets, tensors tiling the data section exactly (no overlap, no hole, no tail).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "detail/mapped_file.hpp"
#include "dtype.hpp"

namespace edgebert::io {

struct tensor_info {
    std::string name;
    dtype type = dtype::F32;
    std::vector<std::size_t> shape;
    std::size_t begin = 0, end = 0;  ///< byte offsets relative to the start of the data section
    std::size_t numel() const noexcept {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
    std::size_t nbytes() const noexcept { return end - begin; }
};

/// Bounds checked before anything is allocated.
struct safetensors_limits {
    std::uint64_t max_header_bytes = 100u << 20;  ///< safetensors' own limit is 100 MB
    std::uint64_t max_tensor_bytes = std::uint64_t(1) << 40;
};

class safetensors_file {
public:
    /// Map and validate a file. io_error if it cannot be read, format_error if its bytes are wrong.
    explicit safetensors_file(const std::string& path, const safetensors_limits& limits = {})
        : map_(std::make_shared<detail::mapped_file>(path)) {
        parse(map_->data(), map_->size(), path, limits);
    }

    /// Parse bytes held elsewhere (tests, fuzzing); the buffer must outlive this object.
    static safetensors_file from_memory(const std::uint8_t* bytes, std::size_t size, std::string name = "<memory>",
                                        const safetensors_limits& limits = {}) {
        safetensors_file f;
        f.parse(bytes, size, std::move(name), limits);
        return f;
    }

    const std::string& path() const noexcept { return path_; }
    std::size_t file_size() const noexcept { return size_; }
    const std::vector<tensor_info>& tensors() const noexcept { return tensors_; }
    const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

    const tensor_info* find(std::string_view name) const noexcept {
        auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const tensor_info& t, std::string_view n) { return t.name < n; });
        return it != tensors_.end() && it->name == name ? &*it : nullptr;
    }
    const tensor_info& at(std::string_view name) const {
        if (const tensor_info* t = find(name)) return *t;
        throw missing_tensor_error("tensor '" + std::string(name) + "' not found in '" + path_ + "'");
    }
    const std::byte* data(const tensor_info& t) const noexcept {
        return reinterpret_cast<const std::byte*>(bytes_ + data_start_ + t.begin);
    }

    /// Zero-copy view of an F32 tensor if its address is 4-byte aligned; nullptr otherwise.
    const float* f32_view(const tensor_info& t) const noexcept {
        const auto* p = data(t);
        if (t.type != dtype::F32 || reinterpret_cast<std::uintptr_t>(p) % alignof(float) != 0) return nullptr;
        return reinterpret_cast<const float*>(p);
    }

    /// Convert an F32, F16 or BF16 tensor to float (little-endian file order) into out[0..numel).
    void read_float(const tensor_info& t, float* out, std::size_t out_size) const {
        if (out_size != t.numel())
            throw shape_error("tensor '" + t.name + "' in '" + path_ + "' has " + std::to_string(t.numel()) +
                              " elements, destination has " + std::to_string(out_size));
        const unsigned char* p = bytes_ + data_start_ + t.begin;
        const std::size_t n = t.numel();
        switch (t.type) {
            case dtype::F32:
                std::memcpy(out, p, n * 4);
                return;
            case dtype::F16:
                for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(std::uint16_t(p[2 * i] | (p[2 * i + 1] << 8)));
                return;
            case dtype::BF16:
                for (std::size_t i = 0; i < n; ++i)
                    out[i] = bfloat16_to_float(std::uint16_t(p[2 * i] | (p[2 * i + 1] << 8)));
                return;
            default:
                throw shape_error("tensor '" + t.name + "' in '" + path_ + "' has dtype " + to_string(t.type) +
                                  "; expected F32, F16 or BF16");
        }
    }
    std::vector<float> read_float(std::string_view name) const {
        const tensor_info& t = at(name);
        std::vector<float> v(t.numel());
        read_float(t, v.data(), v.size());
        return v;
    }

private:
    safetensors_file() = default;

    [[noreturn]] void fail(const std::string& what) const {
        throw format_error("safetensors file '" + path_ + "': " + what);
    }

    void parse(const unsigned char* bytes, std::size_t size, std::string name, const safetensors_limits& limits) {
        path_ = std::move(name);
        bytes_ = bytes;
        size_ = size;
        if (size < 8) fail("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
        if (n == 0) fail("header length is 0");
        if (n > limits.max_header_bytes)
            fail("header length " + std::to_string(n) + " exceeds the limit of " +
                 std::to_string(limits.max_header_bytes) + " bytes");
        if (n > size - 8)
            fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                 " bytes)");
        data_start_ = 8 + std::size_t(n);
        const std::size_t data_size = size - data_start_;
        const char* h = reinterpret_cast<const char*>(bytes + 8);
        if (h[0] != '{') fail("header does not start with '{'");

        // Parse, rejecting duplicate tensor names (nlohmann would silently keep the last one).
        std::vector<std::string> top_keys;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(h, h + n, [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
                if (depth == 1 && ev == nlohmann::json::parse_event_t::key) top_keys.push_back(v.get<std::string>());
                return true;
            });
        } catch (const nlohmann::json::exception& e) {
            fail(std::string("header is not valid JSON: ") + e.what());
        }
        if (!j.is_object()) fail("header is not a JSON object");
        std::sort(top_keys.begin(), top_keys.end());
        if (auto d = std::adjacent_find(top_keys.begin(), top_keys.end()); d != top_keys.end())
            fail("tensor '" + *d + "' appears twice in the header");

        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& key = it.key();
            const nlohmann::json& v = it.value();
            if (key == "__metadata__") {
                if (!v.is_object()) fail("__metadata__ is not an object");
                for (auto m = v.begin(); m != v.end(); ++m) {
                    if (!m.value().is_string()) fail("__metadata__ value of '" + m.key() + "' is not a string");
                    metadata_[m.key()] = m.value().get<std::string>();
                }
                continue;
            }
            tensors_.push_back(parse_entry(key, v, limits));
        }

        // The tensors must tile the data section: sorted by offset, each starts where the previous ended.
        std::vector<const tensor_info*> order;
        for (const auto& t : tensors_) order.push_back(&t);
        std::sort(order.begin(), order.end(), [](const tensor_info* a, const tensor_info* b) {
            return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
        });
        std::size_t expected = 0;
        for (const tensor_info* t : order) {
            if (t->end > data_size)
                fail("tensor '" + t->name + "' ends at byte " + std::to_string(t->end) + " of a data section of " +
                     std::to_string(data_size) + " bytes (truncated file?)");
            if (t->begin < expected) fail("tensor '" + t->name + "' overlaps the previous tensor");
            if (t->begin > expected)
                fail("tensor '" + t->name + "' starts at byte " + std::to_string(t->begin) + ", leaving a hole after byte " +
                     std::to_string(expected));
            expected = t->end;
        }
        if (expected != data_size)
            fail("the data section has " + std::to_string(data_size - expected) + " bytes after the last tensor");
        std::sort(tensors_.begin(), tensors_.end(), [](const tensor_info& a, const tensor_info& b) { return a.name < b.name; });
    }

    tensor_info parse_entry(const std::string& key, const nlohmann::json& v, const safetensors_limits& limits) const {
        const std::string where = "tensor '" + key + "'";
        if (!v.is_object()) fail(where + " is not an object");
        for (auto f = v.begin(); f != v.end(); ++f)
            if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
                fail(where + " has unknown field '" + f.key() + "'");
        tensor_info t;
        t.name = key;
        auto dt = v.find("dtype");
        if (dt == v.end() || !dt->is_string()) fail(where + " has no string 'dtype'");
        try {
            t.type = parse_dtype(dt->get<std::string>());
        } catch (const format_error& e) {
            fail(where + ": " + e.what());
        }
        auto sh = v.find("shape");
        if (sh == v.end() || !sh->is_array()) fail(where + " has no 'shape' array");
        std::uint64_t numel = 1;
        bool zero = false;
        for (const auto& d : *sh) {
            if (!d.is_number_unsigned()) fail(where + " has a shape entry that is not a non-negative integer: " + d.dump());
            const std::uint64_t x = d.get<std::uint64_t>();
            if (x == 0) zero = true;
            else if (!zero && numel > limits.max_tensor_bytes / x) fail(where + " is larger than the tensor size limit");
            if (!zero) numel *= x;
            t.shape.push_back(std::size_t(x));
        }
        if (zero) numel = 0;
        const std::uint64_t nbytes = numel * dtype_size(t.type);
        if (nbytes > limits.max_tensor_bytes) fail(where + " is larger than the tensor size limit");
        auto off = v.find("data_offsets");
        if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
            !(*off)[1].is_number_unsigned())
            fail(where + " needs 'data_offsets' as two non-negative integers");
        const std::uint64_t b = (*off)[0].get<std::uint64_t>(), e = (*off)[1].get<std::uint64_t>();
        if (b > e) fail(where + " has data_offsets begin " + std::to_string(b) + " > end " + std::to_string(e));
        if (e - b != nbytes)
            fail(where + " spans " + std::to_string(e - b) + " bytes but its dtype " + to_string(t.type) +
                 " and shape need " + std::to_string(nbytes));
        if (e > size_) fail(where + " ends past the end of the file");
        t.begin = std::size_t(b);
        t.end = std::size_t(e);
        return t;
    }

    std::shared_ptr<detail::mapped_file> map_;
    const unsigned char* bytes_ = nullptr;
    std::size_t size_ = 0, data_start_ = 0;
    std::string path_;
    std::vector<tensor_info> tensors_;
    std::map<std::string, std::string> metadata_;
};

/// Builds a safetensors file: tensors in name order, contiguous, header padded with spaces to 8 bytes.
class safetensors_writer {
public:
    void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

    void add(std::string name, dtype type, std::vector<std::size_t> shape, const void* data, std::size_t nbytes) {
        if (name == "__metadata__") throw format_error("'__metadata__' cannot be a tensor name");
        if (tensors_.count(name)) throw format_error("tensor '" + name + "' added twice");
        std::size_t numel = 1;
        for (auto d : shape) numel *= d;
        if (numel * dtype_size(type) != nbytes)
            throw shape_error("tensor '" + name + "': " + std::to_string(nbytes) + " bytes given, dtype and shape need " +
                              std::to_string(numel * dtype_size(type)));
        entry e{type, std::move(shape), std::vector<std::uint8_t>(nbytes)};
        if (nbytes) std::memcpy(e.bytes.data(), data, nbytes);
        tensors_.emplace(std::move(name), std::move(e));
    }
    void add_f32(std::string name, std::vector<std::size_t> shape, const float* data) {
        std::size_t numel = 1;
        for (auto d : shape) numel *= d;
        add(std::move(name), dtype::F32, std::move(shape), data, numel * sizeof(float));
    }

    std::vector<std::uint8_t> serialize() const {
        nlohmann::json h = nlohmann::json::object();
        if (!metadata_.empty()) h["__metadata__"] = metadata_;
        std::size_t offset = 0;
        for (const auto& [name, e] : tensors_) {
            h[name] = {{"dtype", to_string(e.type)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
            offset += e.bytes.size();
        }
        std::string header = h.dump();
        header.append((8 - header.size() % 8) % 8, ' ');
        std::vector<std::uint8_t> out(8 + header.size() + offset);
        const std::uint64_t n = header.size();
        for (int i = 0; i < 8; ++i) out[std::size_t(i)] = std::uint8_t(n >> (8 * i));
        std::memcpy(out.data() + 8, header.data(), header.size());
        std::size_t pos = 8 + header.size();
        for (const auto& kv : tensors_) {
            if (!kv.second.bytes.empty()) std::memcpy(out.data() + pos, kv.second.bytes.data(), kv.second.bytes.size());
            pos += kv.second.bytes.size();
        }
        return out;
    }

    void write(const std::string& path) const {
        const auto bytes = serialize();
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (!f) throw io_error("cannot create '" + path + "'");
        f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        if (!f) throw io_error("cannot write '" + path + "'");
    }

private:
    struct entry {
        dtype type;
        std::vector<std::size_t> shape;
        std::vector<std::uint8_t> bytes;
    };
    std::map<std::string, std::string> metadata_;
    std::map<std::string, entry> tensors_;
};

}  // namespace edgebert::io
