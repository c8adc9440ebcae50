// SPDX-License-Identifier: Apache-2.0
// numeric/format.hpp: format names (the first line; canonical names must parse back to the same format)
// and quantized_tensor's stored-codes constructor (what a compressed model's reader will call), from the
// bytes after the first line: flags, a shape, parameters and codes. Accepted tensors are dequantized.

#include <cstring>
#include <string>
#include <vector>

#include <edgebert/numeric/format.hpp>

#include "fuzz_common.hpp"

namespace {
struct reader {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() { return n ? (--n, *p++) : 0; }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t(byte()) << (8 * i);
        return v;
    }
    // Mostly small dimensions, sometimes any 64-bit value (to reach the overflow checks).
    std::size_t dim() {
        const std::uint8_t b = byte();
        return b == 255 ? std::size_t(u64()) : b;
    }
};
}  // namespace

void fuzz_one(const std::uint8_t* data, std::size_t size) {
    using namespace edgebert::numeric;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::size_t eol = text.find('\n');
    const number_format f = parse_format(text.substr(0, eol));
    fuzz_must_succeed("parsing a canonical name", [&] { FUZZ_REQUIRE(parse_format(f.name()) == f); });
    FUZZ_REQUIRE(f.bits() >= 4 && f.bits() <= 16);
    if (eol == std::string::npos) return;

    reader r{data + eol + 1, size - eol - 1};
    const std::uint8_t flags = r.byte();
    const bool per_row = flags & 1;
    std::vector<std::size_t> shape(r.byte() % 5);
    for (auto& d : shape) d = r.dim();
    std::vector<quant_param> params(r.byte() % 9);
    for (auto& q : params) {
        q.exp_bias = int(std::int8_t(r.byte()));
        if (r.byte() & 1) {
            const std::uint32_t bits = std::uint32_t(r.u64());
            std::memcpy(&q.scale, &bits, 4);
        }
    }
    quantized_tensor t;
    if (f.byte_codes()) {
        std::vector<std::uint8_t> codes(r.p, r.p + r.n);
        t = quantized_tensor(f, shape, params, per_row, std::move(codes));
    } else {
        std::vector<std::uint16_t> codes(r.n / 2);
        for (auto& c : codes) c = std::uint16_t(r.byte() | r.byte() << 8);
        t = quantized_tensor(f, shape, params, per_row, std::move(codes));
    }
    fuzz_must_succeed("dequantizing an accepted tensor", [&] {
    FUZZ_REQUIRE(t.size() == quantized_tensor::element_count(t.shape()));
    FUZZ_REQUIRE(t.params().size() == (per_row ? t.rows() : 1));
    const std::vector<float> v = t.dequantize();
    FUZZ_REQUIRE(v.size() == t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        const float want = decode(f, t.code(i), t.param_of_row(t.cols() ? i / t.cols() : 0));
        FUZZ_REQUIRE(std::memcmp(&want, &v[i], sizeof(float)) == 0);
    }
    });
}
