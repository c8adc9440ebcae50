// core/: aligned_buffer, matrix, config, error, version.
#include <cstdint>
#include <type_traits>

#include <catch2/catch.hpp>
#include <edgebert/core/aligned_buffer.hpp>
#include <edgebert/core/config.hpp>
#include <edgebert/core/error.hpp>
#include <edgebert/core/matrix.hpp>
#include <edgebert/core/version.hpp>

using namespace edgebert;

TEST_CASE("aligned_buffer is 64-byte aligned, zeroed, copyable and movable", "[core]") {
    aligned_buffer<float> a(37);
    REQUIRE(a.size() == 37);
    CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0);
    for (float v : a) CHECK(v == 0.f);
    a[3] = 5.f;
    aligned_buffer<float> b = a;
    CHECK(b[3] == 5.f);
    aligned_buffer<float> c = std::move(a);
    CHECK(c[3] == 5.f);
    CHECK(a.empty());
    c.reserve_scratch(10);  // never shrinks
    CHECK(c.size() == 37);
    c.reserve_scratch(100);
    CHECK(c.size() == 100);
}

TEST_CASE("const_matrix owns or borrows", "[core]") {
    const_matrix owned(std::vector<float>{1, 2, 3, 4, 5, 6}, 2, 3);
    CHECK(owned.row(1)[0] == 4.f);
    CHECK_FALSE(owned.borrowed());
    auto keep = std::make_shared<std::vector<float>>(std::vector<float>{9, 8});
    const_matrix view(keep->data(), 1, 2, keep);
    keep.reset();  // the matrix keeps the storage alive
    CHECK(view.borrowed());
    CHECK(view.row(0)[1] == 8.f);
}

TEST_CASE("thread counts resolve; errors share one base; version is consistent", "[core]") {
    CHECK(resolve_threads(1) == 1);
    CHECK(resolve_threads(0) >= 1);
    CHECK(hardware_threads() >= 1);
    CHECK(std::is_base_of<error, format_error>::value);
    CHECK(std::is_base_of<error, input_error>::value);
    CHECK(std::is_base_of<std::runtime_error, error>::value);
    CHECK(version.major == EDGEBERT_VERSION_MAJOR);
    CHECK(version.minor == EDGEBERT_VERSION_MINOR);
}
