// SPDX-License-Identifier: Apache-2.0
#pragma once
// Upper bounds on what a reader accepts from outside data (model files, configs, inputs). Every bound is
// checked before the reader allocates for it, so a hostile file can only be rejected, never make us reserve
// memory or recurse without bound. Readers take a `limits` argument that defaults to the process-wide
// limits, which set_limits() changes (e.g. at start-up from the command line).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "error.hpp"

namespace edgebert {

/// A value from outside crossed one of the bounds below. A format_error, so code that handles malformed
/// files handles it too; what(), limit_name() and value() say which limit and by how much.
class limit_error : public format_error {
public:
    limit_error(const std::string& what, std::string limit_name, std::uint64_t value, std::uint64_t maximum)
        : format_error(what), limit_name_(std::move(limit_name)), value_(value), maximum_(maximum) {}
    /// The field of `limits` that was exceeded, e.g. "max_header_bytes".
    const std::string& limit_name() const noexcept { return limit_name_; }
    std::uint64_t value() const noexcept { return value_; }
    std::uint64_t maximum() const noexcept { return maximum_; }

private:
    std::string limit_name_;
    std::uint64_t value_, maximum_;
};

struct limits {
    /// safetensors JSON header; safetensors' own reader refuses more than 100 MB.
    std::uint64_t max_header_bytes = 100u << 20;
    /// One tensor's bytes as stored (safetensors, npy). ALBERT-xxlarge's largest weight is 256 MiB.
    std::uint64_t max_tensor_bytes = std::uint64_t(1) << 34;
    /// A text file read whole (config.json, adapter and head configs, task.json, input JSON, CSV tables).
    std::uint64_t max_text_file_bytes = std::uint64_t(64) << 20;
    /// Nesting of arrays and objects in a JSON file (our formats need at most 4; deeper nesting only costs
    /// memory and, when a value is printed in an error message, recursion).
    std::uint64_t max_json_depth = 64;
    /// Classes of a classifier (config.json num_labels, AdapterHub head num_labels): each gets a label name,
    /// allocated before any weight is seen.
    std::uint64_t max_labels = 1u << 16;
    /// Rows of an input batch (input JSON).
    std::uint64_t max_batch_size = 1u << 16;
    /// Tokens of one input sequence (input JSON); the model's max_position_embeddings applies besides.
    std::uint64_t max_sequence_length = 1u << 16;

    /// A limit_error naming `name` unless value <= maximum. `what` says what was measured, e.g.
    /// "safetensors file 'x': header length"; `unit` follows the numbers ("bytes").
    static void check(std::uint64_t value, std::uint64_t maximum, const char* name, const std::string& what,
                      const char* unit = "") {
        if (value > maximum) {
            const std::string u = *unit ? std::string(" ") + unit : std::string();
            throw limit_error(what + " " + std::to_string(value) + u + " exceeds the limit of " + std::to_string(maximum) +
                                  u + " (edgebert::limits::" + name + ")",
                              name, value, maximum);
        }
    }
};

namespace detail {
inline std::mutex& limits_mutex() {
    static std::mutex m;
    return m;
}
inline limits& global_limits() {
    static limits l;
    return l;
}
}  // namespace detail

/// The process-wide limits (a copy: readers keep it for the call, so a concurrent set_limits cannot change
/// a bound halfway through a file).
inline limits current_limits() {
    std::lock_guard<std::mutex> lock(detail::limits_mutex());
    return detail::global_limits();
}

/// Replace the process-wide limits used by readers called without explicit limits. Thread-safe.
inline void set_limits(const limits& l) {
    std::lock_guard<std::mutex> lock(detail::limits_mutex());
    detail::global_limits() = l;
}

/// Sets the process-wide limits for its lifetime and restores the previous ones (tests, scoped tightening).
class scoped_limits {
public:
    explicit scoped_limits(const limits& l) : saved_(current_limits()) { set_limits(l); }
    ~scoped_limits() { set_limits(saved_); }
    scoped_limits(const scoped_limits&) = delete;
    scoped_limits& operator=(const scoped_limits&) = delete;

private:
    limits saved_;
};

}  // namespace edgebert
