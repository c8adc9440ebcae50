// SPDX-License-Identifier: Apache-2.0
#pragma once
// A heap array aligned for the widest SIMD loads (64 bytes), movable, not copyable by accident.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace edgebert {

template <class T>
class aligned_buffer {
public:
    static constexpr std::size_t alignment = 64;
    static constexpr std::size_t huge_page_bytes = std::size_t(2) << 20;

    aligned_buffer() = default;
    explicit aligned_buffer(std::size_t n) { resize(n); }
    aligned_buffer(const aligned_buffer& other) : aligned_buffer(other.size_) {
        if (size_) std::memcpy(data_, other.data_, size_ * sizeof(T));
    }
    aligned_buffer& operator=(const aligned_buffer& other) {
        if (this != &other) {
            aligned_buffer tmp(other);
            swap(tmp);
        }
        return *this;
    }
    aligned_buffer(aligned_buffer&& other) noexcept { swap(other); }
    aligned_buffer& operator=(aligned_buffer&& other) noexcept {
        swap(other);
        return *this;
    }
    ~aligned_buffer() { std::free(data_); }

    /// Reallocate to n elements (contents are not kept) and zero them.
    void resize(std::size_t n) {
        if (n == size_) {
            if (n) std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
            return;
        }
        std::free(data_);
        data_ = nullptr;
        size_ = 0;
        if (n == 0) return;
        std::size_t bytes = (n * sizeof(T) + alignment - 1) / alignment * alignment;
        // Large buffers (packed weights, activations) start on a huge-page boundary and their whole 2 MiB
        // pages go on transparent huge pages where the OS offers them: fewer TLB misses and hardware
        // prefetches that do not stop every 4 KiB. The tail stays on small pages, so a 2.4 MB off-ramp does
        // not occupy 4 MiB of resident memory.
        const bool huge = bytes >= huge_page_bytes;
        void* p = nullptr;
        if (::posix_memalign(&p, huge ? huge_page_bytes : alignment, bytes) != 0 || !p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (huge) ::madvise(p, bytes / huge_page_bytes * huge_page_bytes, MADV_HUGEPAGE);
#endif
        std::memset(p, 0, bytes);
        data_ = static_cast<T*>(p);
        size_ = n;
    }
    /// Grow to at least n elements without zeroing when already big enough (scratch space).
    void reserve_scratch(std::size_t n) {
        if (n > size_) resize(n);
    }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }

    void swap(aligned_buffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace edgebert
