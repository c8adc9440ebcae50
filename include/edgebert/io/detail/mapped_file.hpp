// SPDX-License-Identifier: Apache-2.0
#pragma once
// A read-only memory map of a whole file (POSIX). Model weights are used in place from it, so a
// checkpoint costs page cache rather than heap, and loading does not copy gigabytes.
//
// Limitation (inherent to mmap): if another process truncates the file while it is mapped, touching
// the lost pages raises SIGBUS. MAP_PRIVATE does not protect against that; it only keeps our view
// from being written through.
//
// Where there is no mmap (no <sys/mman.h>), or with EDGEBERT_NO_MMAP defined, mapped_file is read_file_buffer:
// the same interface over the whole file read into a 64-byte aligned heap buffer (release() does nothing).
// Both classes are always declared where they can be, so the tests check the fallback on POSIX too.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#if defined(__has_include)
#if __has_include(<sys/mman.h>) && __has_include(<unistd.h>) && __has_include(<fcntl.h>)
#define EDGEBERT_HAVE_POSIX_MMAP 1
#endif
#endif
#ifndef EDGEBERT_HAVE_POSIX_MMAP
#define EDGEBERT_HAVE_POSIX_MMAP 0
#endif

#if EDGEBERT_HAVE_POSIX_MMAP
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "../../core/aligned_buffer.hpp"
#include "../../core/error.hpp"

namespace edgebert::io::detail {

/// The whole file read into memory: mapped_file's interface and errors without mmap.
class read_file_buffer {
public:
    read_file_buffer() = default;

    /// Read `path`. io_error (naming the path and the reason) if it cannot be opened or read, or is not a
    /// regular file. An empty file is valid: size() 0, data() nullptr.
    explicit read_file_buffer(std::string path) : path_(std::move(path)) {
        std::error_code ec;
        const std::filesystem::file_status st = std::filesystem::status(path_, ec);
        if (ec) throw io_error("cannot open '" + path_ + "': " + ec.message());
        // Checked before opening: a FIFO would block an open for reading until a writer appears.
        if (!std::filesystem::is_regular_file(st)) throw io_error("cannot map '" + path_ + "': not a regular file");
        const std::uintmax_t bytes = std::filesystem::file_size(path_, ec);
        if (ec) throw io_error("cannot stat '" + path_ + "': " + ec.message());
        if (bytes > std::uintmax_t(SIZE_MAX)) throw io_error("cannot map '" + path_ + "': file too large");
        if (bytes == 0) return;
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw io_error("cannot open '" + path_ + "'");
        aligned_buffer<unsigned char> buf(static_cast<std::size_t>(bytes));
        // The file may shrink between the size and the read: only what was read counts.
        in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(bytes));
        if (in.bad() || std::uintmax_t(in.gcount()) != bytes) throw io_error("cannot read '" + path_ + "': short read");
        buffer_ = std::move(buf);
        size_ = std::size_t(bytes);
    }

    const unsigned char* data() const noexcept { return size_ ? buffer_.data() : nullptr; }
    std::size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }
    /// Nothing to give back: the bytes are ordinary heap memory, owned until destruction.
    void release(const void*, std::size_t) const noexcept {}

    read_file_buffer(read_file_buffer&& o) noexcept { swap(o); }
    read_file_buffer& operator=(read_file_buffer&& o) noexcept {
        read_file_buffer(std::move(o)).swap(*this);
        return *this;
    }
    read_file_buffer(const read_file_buffer&) = delete;
    read_file_buffer& operator=(const read_file_buffer&) = delete;
    ~read_file_buffer() = default;

    void swap(read_file_buffer& o) noexcept {
        std::swap(path_, o.path_);
        buffer_.swap(o.buffer_);
        std::swap(size_, o.size_);
    }

private:
    std::string path_;
    aligned_buffer<unsigned char> buffer_;
    std::size_t size_ = 0;
};

#if EDGEBERT_HAVE_POSIX_MMAP
class posix_mapped_file {
public:
    /// An empty object: data() is nullptr and size() is 0.
    posix_mapped_file() = default;

    /// Map `path` read-only. io_error (naming the path and the system's reason) if it cannot be opened,
    /// is not a regular file, or cannot be mapped. An empty file is valid: size() 0, data() nullptr
    /// (mmap of length 0 is an error on POSIX, so it is not attempted).
    explicit posix_mapped_file(std::string path) : path_(std::move(path)) {
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

    posix_mapped_file(const posix_mapped_file&) = delete;
    posix_mapped_file& operator=(const posix_mapped_file&) = delete;
    posix_mapped_file(posix_mapped_file&& o) noexcept { swap(o); }
    posix_mapped_file& operator=(posix_mapped_file&& o) noexcept {
        posix_mapped_file(std::move(o)).swap(*this);  // our old mapping is released by the temporary
        return *this;
    }
    ~posix_mapped_file() {
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

    void swap(posix_mapped_file& o) noexcept {
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
#endif

#if EDGEBERT_HAVE_POSIX_MMAP && !defined(EDGEBERT_NO_MMAP)
using mapped_file = posix_mapped_file;
#else
using mapped_file = read_file_buffer;
#endif

}  // namespace edgebert::io::detail
