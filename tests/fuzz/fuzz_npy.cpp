// SPDX-License-Identifier: Apache-2.0
// .npy (io/npy.hpp): parse from memory; an accepted array has product(shape) values, and writing it back
// as '<f4' (the writer's own header) parses to the same bits.

#include <cstring>
#include <string>
#include <vector>

#include <edgebert/io/npy.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert::io;
    const npy_array a = parse_npy(data, size, "fuzz");
    std::size_t n = 1;
    for (std::size_t d : a.shape) n *= d;  // cannot overflow: the reader bounded it by the bytes present
    FUZZ_REQUIRE(a.data.size() == n);
    fuzz_must_succeed("rewriting an accepted array", [&] {
    std::string bytes = detail::npy_header_bytes("<f4", a.shape);
    const std::size_t header = bytes.size();
    bytes.resize(header + n * sizeof(float));
    if (n) std::memcpy(&bytes[header], a.data.data(), n * sizeof(float));
    const npy_array b = parse_npy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "rewritten");
    FUZZ_REQUIRE(b.shape == a.shape);
    FUZZ_REQUIRE(n == 0 || std::memcmp(a.data.data(), b.data.data(), n * sizeof(float)) == 0);
    });
}
