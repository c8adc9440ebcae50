// SPDX-License-Identifier: Apache-2.0
#pragma once
// A read-only memory map of a whole file (POSIX). Model weights are used in place from it, so a
// checkpoint costs page cache rather than heap, and loading does not copy gigabytes.
//
// Limitation (inherent to mmap): if another process truncates the file while it is mapped, touching
// the lost pages raises SIGBUS. MAP_PRIVATE does not protect against that; it only keeps our view
// from being written through.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/error.hpp"

namespace edgebert::io::detail {

class mapped_file {
public:
    /// An empty object: data() is nullptr and size() is 0.
    mapped_file() = default;

    /// Map `path` read-only. io_error (naming the path and the system's reason) if it cannot be opened,
    /// is not a regular file, or cannot be mapped. An empty file is valid: size() 0, data() nullptr
    /// (mmap of length 0 is an error on POSIX, so it is not attempted).
    explicit mapped_file(std::string path) : path_(std::move(path)) {
        // O_NONBLOCK: opening a FIFO read-only would otherwise block until a writer appears; with it the
        // open returns and the S_ISREG check below rejects the FIFO. It has no effect on regular files.
        int fd;
        do fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) fail("cannot open", errno);
        const fd_closer closer{fd};

        struct stat st {};
        if (::fstat(fd, &st) != 0) fail("cannot stat", errno);
        if (!S_ISREG(st.st_mode)) throw io_error("cannot map '" + path_ + "': not a regular file");
        // On 32-bit targets a file can be larger than the address space.
        if (std::uintmax_t(st.st_size) > std::uintmax_t(SIZE_MAX))
            fail("cannot map", EFBIG);
        size_ = std::size_t(st.st_size);
        if (size_ == 0) return;

        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            size_ = 0;
            fail("cannot map", errno);
        }
        data_ = static_cast<const unsigned char*>(p);
        // The descriptor is closed by `closer`; the mapping keeps its own reference to the file.
    }

    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&& o) noexcept { swap(o); }
    mapped_file& operator=(mapped_file&& o) noexcept {
        mapped_file(std::move(o)).swap(*this);  // our old mapping is released by the temporary
        return *this;
    }
    ~mapped_file() {
        if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
    }

    /// First byte of the file, or nullptr when the file is empty (or the object moved from).
    const unsigned char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }

    /// Give back the resident pages wholly inside [p, p + n) (a range of this mapping): the next read faults
    /// them in again from the file, so the bytes seen never change. Called once a tensor has been copied (packed
    /// weights), so that loading does not hold the file's pages and the copy at once.
    void release(const void* p, std::size_t n) const noexcept {
        if (!data_ || n == 0) return;
        const auto page = std::uintptr_t(::sysconf(_SC_PAGESIZE));
        const auto begin = std::uintptr_t(p), end = begin + n;
        if (begin < std::uintptr_t(data_) || end > std::uintptr_t(data_) + size_ || page == 0) return;
        const std::uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
        if (first < last) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    }

    void swap(mapped_file& o) noexcept {
        std::swap(path_, o.path_);
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
    }

private:
    // Takes errno by value: building the message allocates, which may change errno.
    [[noreturn]] void fail(const char* what, int err) const {
        throw io_error(std::string(what) + " '" + path_ + "': " + std::strerror(err));
    }

    struct fd_closer {
        int fd;
        ~fd_closer() { ::close(fd); }
    };

    std::string path_;
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace edgebert::io::detail
