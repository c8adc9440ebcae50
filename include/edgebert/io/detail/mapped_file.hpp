// SPDX-License-Identifier: Apache-2.0
#pragma once
// A read-only memory map of a whole file (POSIX). Model weights are used in place from it.

#include <cerrno>
#include <cstddef>
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
    mapped_file() = default;
    explicit mapped_file(std::string path) : path_(std::move(path)) {
        const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw io_error("cannot open '" + path_ + "': " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int e = errno;
            ::close(fd);
            throw io_error("cannot stat '" + path_ + "': " + std::strerror(e));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd);
            throw io_error("'" + path_ + "' is not a regular file");
        }
        size_ = std::size_t(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                const int e = errno;
                ::close(fd);
                throw io_error("cannot map '" + path_ + "': " + std::strerror(e));
            }
            data_ = static_cast<const unsigned char*>(p);
        }
        ::close(fd);  // the mapping stays valid
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&& o) noexcept { swap(o); }
    mapped_file& operator=(mapped_file&& o) noexcept {
        swap(o);
        return *this;
    }
    ~mapped_file() {
        if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
    }

    const unsigned char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }

private:
    void swap(mapped_file& o) noexcept {
        std::swap(path_, o.path_);
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
    }
    std::string path_;
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace edgebert::io::detail
