// SPDX-License-Identifier: Apache-2.0
#pragma once
// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of UTF-8 JSON ({name: {"dtype", "shape", "data_offsets"}}, plus an optional "__metadata__"
// object of strings), then the data section, which the offsets index from its first byte.
//
// Checkpoints come from the internet, so the reader treats every byte as hostile: the whole header is
// validated before any tensor is handed out, and afterwards every tensor provably lies inside the
// mapping with exactly the bytes its dtype and shape need. The rules follow the reference
// implementation's `validate` (tensors sorted by offset must tile the data section exactly: no overlap,
// no hole, no trailing bytes), and are a little stricter where the reference is silent (duplicate JSON
// keys, nesting depth). Bytes of the data section are never read while parsing. See docs/file_formats.md.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/limits.hpp"
#include "detail/mapped_file.hpp"
#include "../core/dtype.hpp"

// F32 tensors are used in place (f32_view) and copied with memcpy: that is only right when the host
// stores floats little-endian, as the format does.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "edgebert's safetensors reader requires a little-endian host"
#endif

namespace edgebert::io {

struct tensor_info {
    std::string name;
    dtype type = dtype::F32;
    std::vector<std::size_t> shape;
    std::size_t begin = 0, end = 0;  ///< byte offsets relative to the start of the data section

    /// Product of the shape (1 for a scalar []). Cannot overflow for a tensor from a validated file:
    /// without a zero its byte size was checked, and with one the answer is 0 however large the rest.
    std::size_t numel() const noexcept {
        std::size_t n = 1;
        for (auto d : shape) {
            if (d == 0) return 0;
            n *= d;
        }
        return n;
    }
    std::size_t nbytes() const noexcept { return end - begin; }
};

/// Bounds checked before anything is allocated, so a hostile header cannot make us reserve memory: the
/// reader uses max_header_bytes and max_tensor_bytes of edgebert::limits (core/limits.hpp), by default the
/// process-wide ones. Exceeding either is a limit_error (a format_error).
using safetensors_limits = edgebert::limits;

class safetensors_file;
safetensors_file parse_safetensors(const std::uint8_t* bytes, std::size_t size, std::string name_for_errors = "<memory>",
                                   const safetensors_limits& limits = current_limits());

/// A validated safetensors file. Immutable after construction, so concurrent reads need no locking.
/// Copies share the mapping.
class safetensors_file {
public:
    /// Map and validate a file: io_error if it cannot be opened or mapped, format_error if its bytes
    /// break any rule (the message names the file and the tensor or field at fault).
    explicit safetensors_file(const std::string& path, const safetensors_limits& limits = current_limits())
        : map_(std::make_shared<detail::mapped_file>(path)) {
        parse(map_->data(), map_->size(), path, limits);
    }

    /// The path given to the constructor, or the name given to parse_safetensors.
    const std::string& path() const noexcept { return path_; }
    std::size_t file_size() const noexcept { return size_; }
    /// All tensors, sorted by name.
    const std::vector<tensor_info>& tensors() const noexcept { return tensors_; }
    /// The "__metadata__" object (empty if the file has none).
    const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

    /// The tensor called `name`, or nullptr.
    const tensor_info* find(std::string_view name) const noexcept {
        auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const tensor_info& t, std::string_view n) { return std::string_view(t.name) < n; });
        return it != tensors_.end() && it->name == name ? &*it : nullptr;
    }
    /// The tensor called `name`; missing_tensor_error if there is none.
    const tensor_info& at(std::string_view name) const {
        if (const tensor_info* t = find(name)) return *t;
        throw missing_tensor_error("tensor '" + std::string(name) + "' not found in '" + path_ + "'");
    }

    /// First byte of a tensor inside the mapping (t must come from this file). Any alignment.
    const std::byte* data(const tensor_info& t) const noexcept {
        return reinterpret_cast<const std::byte*>(bytes_ + data_start_ + t.begin);
    }

    /// Zero-copy view of an F32 tensor when its address is 4-byte aligned; nullptr otherwise (other
    /// dtype, or misaligned because an earlier tensor has an odd byte count), and the caller copies.
    /// Give back the resident pages of a tensor's bytes (mapped files only; see mapped_file::release).
    void release(const tensor_info& t) const noexcept {
        if (map_) map_->release(data(t), t.nbytes());
    }

    const float* f32_view(const tensor_info& t) const noexcept {
        const std::byte* p = data(t);
        if (t.type != dtype::F32 || reinterpret_cast<std::uintptr_t>(p) % alignof(float) != 0) return nullptr;
        return reinterpret_cast<const float*>(p);
    }

    /// Convert an F32, F16 or BF16 tensor to float into out[0..numel). Any other dtype, or
    /// out_size != numel: shape_error naming the tensor and the file. Works at any alignment.
    void read_float(const tensor_info& t, float* out, std::size_t out_size) const {
        check_float_dtype(t);
        const std::size_t n = t.numel();
        if (out_size != n)
            throw shape_error("tensor '" + t.name + "' in '" + path_ + "' has " + std::to_string(n) +
                              " elements, but the destination holds " + std::to_string(out_size));
        if (n == 0) return;  // out may be null then, and memcpy(nullptr, p, 0) is undefined
        const unsigned char* p = bytes_ + data_start_ + t.begin;
        // Half-precision values are assembled byte by byte: the file is little-endian and p may be odd.
        switch (t.type) {
            case dtype::F32: std::memcpy(out, p, n * sizeof(float)); break;
            case dtype::F16:
                for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(std::uint16_t(p[2 * i] | p[2 * i + 1] << 8));
                break;
            default:  // BF16
                for (std::size_t i = 0; i < n; ++i)
                    out[i] = bfloat16_to_float(std::uint16_t(p[2 * i] | p[2 * i + 1] << 8));
                break;
        }
    }
    /// The tensor called `name` as floats (missing_tensor_error / shape_error as above).
    std::vector<float> read_float(std::string_view name) const {
        const tensor_info& t = at(name);
        check_float_dtype(t);  // before allocating numel floats for a tensor we cannot convert
        std::vector<float> v(t.numel());
        read_float(t, v.data(), v.size());
        return v;
    }

private:
    friend safetensors_file parse_safetensors(const std::uint8_t*, std::size_t, std::string, const safetensors_limits&);
    safetensors_file() = default;
    using json = nlohmann::json;

    [[noreturn]] void fail(const std::string& what) const {
        throw format_error("safetensors file '" + path_ + "': " + what);
    }

    void check_float_dtype(const tensor_info& t) const {
        if (t.type != dtype::F32 && t.type != dtype::F16 && t.type != dtype::BF16)
            throw shape_error("tensor '" + t.name + "' in '" + path_ + "' has dtype " + to_string(t.type) +
                              "; expected F32, F16 or BF16");
    }

    static bool is_non_negative_integer(const json& j) {
        // nlohmann stores every non-negative integer literal as unsigned, except "-0".
        return j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0);
    }
    // What a rejected JSON value was, for messages: numbers are short enough to show, anything else
    // (which could be megabytes, or nested deeply) only by its type.
    static std::string describe(const json& j) {
        return j.is_number() ? j.dump() : std::string("a JSON ") + j.type_name();
    }

    void parse(const unsigned char* bytes, std::size_t size, std::string name, const safetensors_limits& limits) {
        path_ = std::move(name);
        bytes_ = bytes;
        size_ = size;
        if (size < 8) fail("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
        if (n == 0) fail("header length is 0");
        edgebert::limits::check(n, limits.max_header_bytes, "max_header_bytes", "safetensors file '" + path_ + "': header length",
                      "bytes");
        if (n > size - 8)
            fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                 " bytes)");
        data_start_ = 8 + std::size_t(n);
        const std::size_t data_size = size - data_start_;
        const char* h = reinterpret_cast<const char*>(bytes + 8);
        // Checked before parsing, as the reference does: this also rules out a UTF-8 byte-order mark,
        // which nlohmann would otherwise skip silently.
        if (h[0] != '{') fail("header does not start with '{'");

        const json j = parse_json(h, std::size_t(n));
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == "__metadata__") parse_metadata(it.value());
            else tensors_.push_back(parse_entry(it.key(), it.value(), data_size, limits));
        }
        check_tiling(data_size);
        std::sort(tensors_.begin(), tensors_.end(), [](const tensor_info& a, const tensor_info& b) { return a.name < b.name; });
    }

    // Parse the header text, rejecting what nlohmann would accept silently: a key repeated in any object
    // (it would keep the last, so two readers could disagree about which tensor "a" is) and nesting
    // deeper than a safetensors header has (a bracket bomb costs memory, and printing it recursion).
    json parse_json(const char* h, std::size_t n) const {
        using event = json::parse_event_t;
        // nlohmann's lexer takes a NUL byte for the end of input, so "{}\0<anything>" would parse as {}.
        // No valid JSON contains a raw NUL (strings must escape it), and the reference rejects it.
        if (std::memchr(h, '\0', n)) fail("header contains a NUL byte (not valid JSON)");
        std::vector<std::set<std::string>> keys_seen;  // one set per open object
        std::string entry;                             // the top-level key being parsed
        auto entry_name = [&] { return entry == "__metadata__" ? "'__metadata__'" : "tensor '" + entry + "'"; };
        auto check = [&](int depth, event ev, json& v) {
            switch (ev) {
                case event::object_start:
                case event::array_start:
                    // depth = number of enclosing containers: header 0, entry 1, shape/data_offsets 2.
                    if (depth > 2) fail(entry_name() + " nests JSON deeper than a safetensors header allows");
                    if (ev == event::object_start) keys_seen.emplace_back();
                    break;
                case event::object_end: keys_seen.pop_back(); break;
                case event::key: {
                    const auto& k = v.get_ref<const std::string&>();
                    if (depth == 1) entry = k;
                    if (!keys_seen.back().insert(k).second) {
                        if (depth == 1) fail(k == "__metadata__" ? "'__metadata__' appears twice in the header"
                                                                 : "tensor '" + k + "' appears twice in the header");
                        fail(entry_name() + " has key '" + k + "' twice");
                    }
                    break;
                }
                default: break;
            }
            return true;
        };
        try {
            json j = json::parse(h, h + n, check);  // also rejects invalid UTF-8, comments, trailing bytes
            if (!j.is_object()) fail("header is not a JSON object");
            return j;
        } catch (const json::exception& e) {
            fail(std::string("header is not valid JSON: ") + e.what());
        }
    }

    void parse_metadata(const json& v) {
        if (!v.is_object()) fail("'__metadata__' is " + describe(v) + ", not an object of strings");
        for (auto m = v.begin(); m != v.end(); ++m) {
            if (!m.value().is_string())
                fail("'__metadata__' value for key '" + m.key() + "' is " + describe(m.value()) + ", not a string");
            metadata_.emplace(m.key(), m.value().get<std::string>());
        }
    }

    tensor_info parse_entry(const std::string& key, const json& v, std::size_t data_size,
                            const safetensors_limits& limits) const {
        const std::string where = "tensor '" + key + "'";
        if (!v.is_object()) fail(where + " is " + describe(v) + ", not an object");
        for (auto f = v.begin(); f != v.end(); ++f)
            if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
                fail(where + " has unknown field '" + f.key() + "'");
        for (const char* field : {"dtype", "shape", "data_offsets"})
            if (!v.contains(field)) fail(where + " lacks field '" + field + "'");

        tensor_info t;
        t.name = key;
        const json& dt = v["dtype"];
        if (!dt.is_string()) fail(where + ": field 'dtype' is " + describe(dt) + ", not a string");
        try {
            t.type = parse_dtype(dt.get_ref<const std::string&>());
        } catch (const format_error& e) {
            fail(where + ": " + e.what());
        }

        const json& sh = v["shape"];
        if (!sh.is_array()) fail(where + ": field 'shape' is " + describe(sh) + ", not an array");
        for (std::size_t i = 0; i < sh.size(); ++i) {
            if (!is_non_negative_integer(sh[i]))
                fail(where + ": shape[" + std::to_string(i) + "] is " + describe(sh[i]) + ", not a non-negative integer");
            const auto d = sh[i].get<std::uint64_t>();
            if (d > SIZE_MAX) fail(where + ": shape[" + std::to_string(i) + "] does not fit in size_t");
            t.shape.push_back(std::size_t(d));
        }
        // Byte size, bounded by the limit at every step so that it cannot overflow. A zero anywhere
        // makes the tensor empty however large the other dimensions are.
        std::uint64_t nbytes = 0;
        if (std::find(t.shape.begin(), t.shape.end(), std::size_t(0)) == t.shape.end()) {
            const std::uint64_t max_elems = limits.max_tensor_bytes / dtype_size(t.type);
            std::uint64_t numel = 1;
            for (std::size_t d : t.shape) {
                if (numel > max_elems / d) {
                    // The byte count for the message, saturated: it may not fit in 64 bits.
                    const std::uint64_t big = UINT64_MAX;
                    std::uint64_t bytes = dtype_size(t.type);
                    for (std::size_t e : t.shape) bytes = bytes > big / e ? big : bytes * e;
                    throw limit_error("safetensors file '" + path_ + "': " + where + " with dtype " + to_string(t.type) +
                                          " (" + (bytes == big ? std::string("2^64 or more") : std::to_string(bytes)) +
                                          " bytes) exceeds the tensor size limit of " +
                                          std::to_string(limits.max_tensor_bytes) +
                                          " bytes (edgebert::limits::max_tensor_bytes)",
                                      "max_tensor_bytes", bytes, limits.max_tensor_bytes);
                }
                numel *= d;
            }
            nbytes = numel * dtype_size(t.type);
        }

        const json& off = v["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !is_non_negative_integer(off[0]) || !is_non_negative_integer(off[1]))
            fail(where + ": field 'data_offsets' must be [begin, end], two non-negative integers");
        const auto b = off[0].get<std::uint64_t>(), e = off[1].get<std::uint64_t>();
        if (b > e) fail(where + ": data_offsets begin " + std::to_string(b) + " > end " + std::to_string(e));
        if (e > data_size)
            fail(where + ": data_offsets end " + std::to_string(e) + " lies past the data section of " +
                 std::to_string(data_size) + " bytes (truncated file?)");
        if (e - b != nbytes)
            fail(where + ": data_offsets span " + std::to_string(e - b) + " bytes, but dtype " + to_string(t.type) +
                 " and its shape need " + std::to_string(nbytes));
        t.begin = std::size_t(b);
        t.end = std::size_t(e);
        return t;
    }

    // The reference's rule: sorted by (begin, end), each tensor starts where the previous one ended
    // (the first at 0), and the last ends at the end of the data section. Empty tensors fit anywhere
    // on a boundary.
    void check_tiling(std::size_t data_size) const {
        std::vector<const tensor_info*> order;
        order.reserve(tensors_.size());
        for (const auto& t : tensors_) order.push_back(&t);
        std::sort(order.begin(), order.end(), [](const tensor_info* a, const tensor_info* b) {
            return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
        });
        std::size_t expected = 0;
        const tensor_info* prev = nullptr;
        for (const tensor_info* t : order) {
            if (t->begin < expected)
                fail("tensor '" + t->name + "' (bytes " + std::to_string(t->begin) + ".." + std::to_string(t->end) +
                     ") overlaps tensor '" + prev->name + "' (bytes " + std::to_string(prev->begin) + ".." +
                     std::to_string(prev->end) + ")");
            if (t->begin > expected)
                fail("tensor '" + t->name + "' starts at byte " + std::to_string(t->begin) +
                     " of the data section, leaving a hole after byte " + std::to_string(expected));
            expected = t->end;
            prev = t;
        }
        if (expected != data_size)
            fail("the data section has " + std::to_string(data_size - expected) +
                 " bytes after the last tensor (the tensors cover " + std::to_string(expected) + " of " +
                 std::to_string(data_size) + ")");
    }

    std::shared_ptr<const detail::mapped_file> map_;  // null when parsing a borrowed buffer
    const unsigned char* bytes_ = nullptr;
    std::size_t size_ = 0, data_start_ = 0;
    std::string path_;
    std::vector<tensor_info> tensors_;
    std::map<std::string, std::string> metadata_;
};

/// Parse a safetensors image held in memory, with the same validation as the file constructor. The
/// buffer is borrowed: it must outlive the returned object (and every copy of it).
inline safetensors_file parse_safetensors(const std::uint8_t* bytes, std::size_t size, std::string name_for_errors,
                                          const safetensors_limits& limits) {
    safetensors_file f;
    f.parse(bytes, size, std::move(name_for_errors), limits);
    return f;
}

namespace detail {
// Whether s is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). The writer checks
// names with it so that it never produces a header that the reader, or nlohmann's dump, would reject.
inline bool is_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        std::uint32_t cp, min;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1Fu, min = 0x80;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0Fu, min = 0x800;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07u, min = 0x10000;
        else return false;
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}
}  // namespace detail

/// Builds a safetensors file in memory: tensors laid out contiguously in name order, header JSON
/// padded with spaces to a multiple of 8 bytes (as the Python writer does, so that the data section
/// starts 8-byte aligned). The writer rejects what the reader would reject, so its output always loads.
class safetensors_writer {
public:
    /// Set a "__metadata__" entry (replacing an earlier value). format_error if not valid UTF-8.
    void set_metadata(std::string key, std::string value) {
        if (!detail::is_utf8(key) || !detail::is_utf8(value))
            throw format_error("safetensors metadata '" + key + "': key and value must be valid UTF-8");
        metadata_[std::move(key)] = std::move(value);
    }

    /// Copy a tensor of `nbytes` bytes (little-endian elements). shape_error if nbytes is not what dtype
    /// and shape need; format_error if the name is taken, reserved ("__metadata__") or not UTF-8.
    void add(std::string name, dtype type, std::vector<std::size_t> shape, const void* data, std::size_t nbytes) {
        if (name == "__metadata__") throw format_error("'__metadata__' cannot be a tensor name");
        if (!detail::is_utf8(name)) throw format_error("tensor name '" + name + "' is not valid UTF-8");
        if (tensors_.count(name)) throw format_error("tensor '" + name + "' added twice");
        std::size_t need = 0;
        if (!byte_size(shape, dtype_size(type), need) || need != nbytes)
            throw shape_error("tensor '" + name + "': " + std::to_string(nbytes) + " bytes given, but dtype " +
                              to_string(type) + " and its shape need " +
                              (need == SIZE_MAX ? std::string("more than size_t holds") : std::to_string(need)));
        entry e{type, std::move(shape), std::vector<std::uint8_t>(nbytes)};
        if (nbytes) std::memcpy(e.bytes.data(), data, nbytes);
        tensors_.emplace(std::move(name), std::move(e));
    }
    /// add() for float data; numel(shape) floats are read from `data`.
    void add_f32(std::string name, std::vector<std::size_t> shape, const float* data) {
        std::size_t nbytes = 0;
        if (!byte_size(shape, sizeof(float), nbytes))
            throw shape_error("tensor '" + name + "': shape too large for size_t");
        add(std::move(name), dtype::F32, std::move(shape), data, nbytes);
    }

    /// The file's bytes.
    std::vector<std::uint8_t> serialize() const {
        const std::string head = header();
        std::vector<std::uint8_t> out(head.begin(), head.end());
        out.reserve(head.size() + data_bytes());
        for (const auto& kv : tensors_) out.insert(out.end(), kv.second.bytes.begin(), kv.second.bytes.end());
        return out;
    }

    /// Write serialize()'s bytes to `path` (streamed, without building them in memory); io_error
    /// naming the path and the system's reason on failure. The file is replaced, not written atomically.
    void write(const std::string& path) const {
        auto fail = [&](int err) { throw io_error("cannot write '" + path + "': " + std::strerror(err)); };
        struct closer {
            void operator()(std::FILE* f) const { std::fclose(f); }
        };
        std::unique_ptr<std::FILE, closer> f(std::fopen(path.c_str(), "wb"));
        if (!f) fail(errno);
        auto put = [&](const void* p, std::size_t n) {
            if (n && std::fwrite(p, 1, n, f.get()) != n) fail(errno);
        };
        const std::string head = header();
        put(head.data(), head.size());
        for (const auto& kv : tensors_) put(kv.second.bytes.data(), kv.second.bytes.size());
        // Buffered bytes are only known to be written once fclose succeeds (a full disk shows up here).
        if (std::fclose(f.release()) != 0) fail(errno);
    }

private:
    struct entry {
        dtype type;
        std::vector<std::size_t> shape;
        std::vector<std::uint8_t> bytes;
    };

    // numel(shape) * elem_size into `out`; false (and out = SIZE_MAX) on overflow. A zero dimension
    // makes the size 0 whatever the others are.
    static bool byte_size(const std::vector<std::size_t>& shape, std::size_t elem_size, std::size_t& out) {
        out = 0;
        if (std::find(shape.begin(), shape.end(), std::size_t(0)) != shape.end()) return true;
        std::size_t n = elem_size;
        for (std::size_t d : shape) {
            if (n > SIZE_MAX / d) return out = SIZE_MAX, false;
            n *= d;
        }
        out = n;
        return true;
    }

    std::size_t data_bytes() const {
        std::size_t n = 0;
        for (const auto& kv : tensors_) n += kv.second.bytes.size();
        return n;
    }

    // 8-byte length + JSON header padded with spaces to a multiple of 8.
    std::string header() const {
        nlohmann::json h = nlohmann::json::object();
        if (!metadata_.empty()) h["__metadata__"] = metadata_;
        std::size_t offset = 0;
        for (const auto& [name, e] : tensors_) {  // std::map: name order
            h[name] = {{"dtype", to_string(e.type)},
                       {"shape", e.shape},
                       {"data_offsets", {offset, offset + e.bytes.size()}}};
            offset += e.bytes.size();
        }
        std::string json = h.dump();
        json.append((8 - json.size() % 8) % 8, ' ');
        std::string out(8, '\0');
        const std::uint64_t n = json.size();
        for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char(std::uint8_t(n >> (8 * i)));
        return out + json;
    }

    std::map<std::string, std::string> metadata_;
    std::map<std::string, entry> tensors_;
};

}  // namespace edgebert::io
