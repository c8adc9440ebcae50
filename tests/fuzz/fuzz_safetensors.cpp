// SPDX-License-Identifier: Apache-2.0
// safetensors header and body (io/safetensors.hpp): parse from memory; for every accepted file check the
// promises the reader makes (each tensor inside the data section with exactly its bytes, names sorted
// and found), read every float tensor, and check that the writer reproduces a file the reader accepts.

#include <cstring>
#include <vector>

#include <edgebert/io/safetensors.hpp>

#include "fuzz_common.hpp"

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert::io;
    const safetensors_file f = parse_safetensors(data, size, "fuzz");
    fuzz_must_succeed("checking and rewriting an accepted file", [&] {
    std::size_t covered = 0;
    const std::byte* base = reinterpret_cast<const std::byte*>(data);
    safetensors_writer w;
    for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
    for (const tensor_info& t : f.tensors()) {
        FUZZ_REQUIRE(t.begin <= t.end);
        FUZZ_REQUIRE(f.data(t) >= base && f.data(t) + t.nbytes() <= base + size);
        FUZZ_REQUIRE(t.nbytes() == t.numel() * dtype_size(t.type));
        FUZZ_REQUIRE(f.find(t.name) == &t);
        covered += t.nbytes();
        if (t.type == dtype::F32 || t.type == dtype::F16 || t.type == dtype::BF16) {
            const std::vector<float> v = f.read_float(t.name);
            FUZZ_REQUIRE(v.size() == t.numel());
            if (const float* p = f.f32_view(t)) FUZZ_REQUIRE(t.numel() == 0 || std::memcmp(p, v.data(), t.nbytes()) == 0);
        }
        w.add(t.name, t.type, t.shape, f.data(t), t.nbytes());
    }
    FUZZ_REQUIRE(covered <= size);
    // What we accept, our writer must be able to write, and what it writes we must read back the same.
    const std::vector<std::uint8_t> again = w.serialize();
    const safetensors_file g = parse_safetensors(again.data(), again.size(), "rewritten");
    FUZZ_REQUIRE(g.tensors().size() == f.tensors().size());
    FUZZ_REQUIRE(g.metadata() == f.metadata());
    for (std::size_t i = 0; i < f.tensors().size(); ++i) {
        const tensor_info &a = f.tensors()[i], &b = g.tensors()[i];
        FUZZ_REQUIRE(a.name == b.name && a.type == b.type && a.shape == b.shape && a.nbytes() == b.nbytes());
        FUZZ_REQUIRE(a.nbytes() == 0 || std::memcmp(f.data(a), g.data(b), a.nbytes()) == 0);
    }
    });
}
