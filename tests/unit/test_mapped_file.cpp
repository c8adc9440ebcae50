#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <sys/types.h>

#include <catch2/catch.hpp>

#include "support/temp_path.hpp"
#include <edgebert/io/detail/mapped_file.hpp>

using edgebert::io_error;
using edgebert::io::detail::mapped_file;

namespace {
using test_util::temp_path;
void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}
}  // namespace

TEST_CASE("a file is mapped read-only with its exact size and bytes", "[mapped_file]") {
    const std::string path = temp_path("eight.bin");
    write_file(path, std::string("edge\0ert", 8));
    const mapped_file m(path);
    REQUIRE(m.size() == 8);
    REQUIRE(m.data() != nullptr);
    CHECK(std::string(reinterpret_cast<const char*>(m.data()), 8) == std::string("edge\0ert", 8));
    CHECK(m.path() == path);
}

TEST_CASE("mapped_file is movable and releases exactly one mapping", "[mapped_file]") {
    const std::string a = temp_path("a.bin"), b = temp_path("b.bin");
    write_file(a, "aaaa");
    write_file(b, "bbbbbb");
    mapped_file m(a);
    const unsigned char* p = m.data();

    mapped_file moved(std::move(m));
    CHECK(moved.data() == p);  // the mapping itself moves; pointers into it stay valid
    CHECK(moved.size() == 4);
    CHECK(moved.path() == a);
    CHECK(m.data() == nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    CHECK(m.size() == 0);

    mapped_file other(b);
    other = std::move(moved);  // other's old mapping is released here
    CHECK(other.size() == 4);
    CHECK(other.data()[3] == 'a');
    other = mapped_file();
    CHECK(other.data() == nullptr);

    const mapped_file empty_default;
    CHECK(empty_default.size() == 0);
    CHECK(empty_default.data() == nullptr);
}

TEST_CASE("an empty file is valid and is not mapped", "[mapped_file]") {
    const std::string path = temp_path("empty.bin");
    write_file(path, "");
    const mapped_file m(path);
    CHECK(m.size() == 0);
    CHECK(m.data() == nullptr);
}

TEST_CASE("open failures are io_errors naming the path and the reason", "[mapped_file]") {
    const std::string missing = temp_path("does-not-exist.bin");
    REQUIRE_THROWS_AS(mapped_file(missing), io_error);
    REQUIRE_THROWS_WITH(mapped_file(missing), Catch::Contains(missing) && Catch::Contains("No such file or directory"));

    const std::string dir = temp_path("");
    REQUIRE_THROWS_AS(mapped_file(dir), io_error);
    REQUIRE_THROWS_WITH(mapped_file(dir), Catch::Contains(dir) && Catch::Contains("not a regular file"));

    // A FIFO would block a plain read-only open until a writer appears; it must fail at once instead.
    const std::string fifo = temp_path("pipe");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE_THROWS_AS(mapped_file(fifo), io_error);
    REQUIRE_THROWS_WITH(mapped_file(fifo), Catch::Contains("not a regular file"));

    REQUIRE_THROWS_AS(mapped_file("/dev/null"), io_error);  // a character device
}

// The fallback where mmap is not available (EDGEBERT_NO_MMAP, or no <sys/mman.h>): same bytes, same errors.
using edgebert::io::detail::read_file_buffer;

TEST_CASE("read_file_buffer holds the file's exact bytes, aligned, and moves", "[mapped_file]") {
    const std::string path = temp_path("buffered.bin");
    std::string bytes(1000, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i * 7 + 3);
    write_file(path, bytes);
    read_file_buffer m(path);
    REQUIRE(m.size() == bytes.size());
    REQUIRE(m.data() != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(m.data()) % 64 == 0);
    CHECK(std::string(reinterpret_cast<const char*>(m.data()), m.size()) == bytes);
    CHECK(m.path() == path);
    m.release(m.data(), m.size());  // a no-op: the bytes stay
    CHECK(m.data()[999] == static_cast<unsigned char>(999 * 7 + 3));

    const unsigned char* p = m.data();
    read_file_buffer moved(std::move(m));
    CHECK(moved.data() == p);
    CHECK(m.data() == nullptr);  // NOLINT(bugprone-use-after-move)
    CHECK(m.size() == 0);
    moved = read_file_buffer();
    CHECK(moved.data() == nullptr);
}

TEST_CASE("read_file_buffer: empty files are valid, bad paths are io_errors naming the path", "[mapped_file]") {
    const std::string empty = temp_path("empty-buffered.bin");
    write_file(empty, "");
    const read_file_buffer e(empty);
    CHECK(e.size() == 0);
    CHECK(e.data() == nullptr);

    const std::string missing = temp_path("does-not-exist-buffered.bin");
    REQUIRE_THROWS_WITH(read_file_buffer(missing), Catch::Contains(missing) && Catch::Contains("No such file or directory"));
    const std::string dir = temp_path("");
    REQUIRE_THROWS_WITH(read_file_buffer(dir), Catch::Contains(dir) && Catch::Contains("not a regular file"));
    const std::string fifo = temp_path("pipe-buffered");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE_THROWS_WITH(read_file_buffer(fifo), Catch::Contains("not a regular file"));  // at once, no blocking
    REQUIRE_THROWS_AS(read_file_buffer("/dev/null"), io_error);
}
