#include <fstream>

#include <catch2/catch.hpp>
#include <edgebert/io/detail/mapped_file.hpp>

using edgebert::io::detail::mapped_file;

TEST_CASE("a file is mapped read-only with its exact size; errors name the path", "[mapped_file]") {
    { std::ofstream("test_mapped_file.bin", std::ios::binary) << "edgebert"; }
    mapped_file m("test_mapped_file.bin");
    REQUIRE(m.size() == 8);
    CHECK(std::string(reinterpret_cast<const char*>(m.data()), 8) == "edgebert");
    mapped_file moved(std::move(m));
    CHECK(moved.size() == 8);
    CHECK(moved.path() == "test_mapped_file.bin");

    { std::ofstream("test_mapped_file_empty.bin"); }
    mapped_file empty("test_mapped_file_empty.bin");
    CHECK(empty.size() == 0);
    CHECK(empty.data() == nullptr);

    REQUIRE_THROWS_AS(mapped_file("/nonexistent/file.bin"), edgebert::io_error);
    REQUIRE_THROWS_WITH(mapped_file("/nonexistent/file.bin"), Catch::Contains("/nonexistent/file.bin"));
    REQUIRE_THROWS_WITH(mapped_file("."), Catch::Contains("not a regular file"));
}
