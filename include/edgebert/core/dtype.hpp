// SPDX-License-Identifier: Apache-2.0
#pragma once
// Element types of safetensors files, and the half-precision conversions: IEEE binary16 ("F16") and
// bfloat16 ("BF16"). Checkpoints are often stored in half precision to halve their size; the model
// computes in float, so these are widened once at load time and must be exact (every half value is a
// float) and, for the narrowing direction used by writers and tests, round to nearest even like
// numpy and PyTorch do.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "error.hpp"

namespace edgebert::io {

/// Every dtype the safetensors format defines, spelled as in its header.
enum class dtype { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

/// Bytes per element.
constexpr std::size_t dtype_size(dtype t) noexcept {
    switch (t) {
        case dtype::BOOL: case dtype::U8: case dtype::I8: case dtype::F8_E5M2: case dtype::F8_E4M3: return 1;
        case dtype::I16: case dtype::U16: case dtype::F16: case dtype::BF16: return 2;
        case dtype::I32: case dtype::U32: case dtype::F32: return 4;
        case dtype::F64: case dtype::I64: case dtype::U64: return 8;
    }
    return 1;  // unreachable for valid enumerators
}

/// The name used in safetensors headers ("F32", "BF16", ...).
constexpr const char* to_string(dtype t) noexcept {
    switch (t) {
        case dtype::BOOL: return "BOOL";
        case dtype::U8: return "U8";
        case dtype::I8: return "I8";
        case dtype::F8_E5M2: return "F8_E5M2";
        case dtype::F8_E4M3: return "F8_E4M3";
        case dtype::I16: return "I16";
        case dtype::U16: return "U16";
        case dtype::F16: return "F16";
        case dtype::BF16: return "BF16";
        case dtype::I32: return "I32";
        case dtype::U32: return "U32";
        case dtype::F32: return "F32";
        case dtype::F64: return "F64";
        case dtype::I64: return "I64";
        case dtype::U64: return "U64";
    }
    return "?";
}

/// Parse a safetensors dtype name (exact, case-sensitive, as the format specifies); format_error naming
/// the string if it is not one.
inline dtype parse_dtype(std::string_view s) {
    for (int i = 0; i <= int(dtype::U64); ++i)
        if (s == to_string(dtype(i))) return dtype(i);
    throw format_error("unknown dtype '" + std::string(s) + "'");
}

/// Reinterpret bits as float and back (memcpy: the only portable, UB-free type pun).
inline float bits_to_float(std::uint32_t u) noexcept {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline std::uint32_t float_to_bits(float f) noexcept {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

/// IEEE binary16 -> float. Exact for every code: normals and subnormals are representable in float,
/// Inf stays Inf, and a NaN keeps its sign and payload (so it stays a NaN, never becomes Inf).
inline float half_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    if (exp == 0x1F) return bits_to_float(sign | 0x7F800000u | (mant << 13));  // Inf, NaN (payload kept)
    if (exp != 0) return bits_to_float(sign | ((exp + (127u - 15u)) << 23) | (mant << 13));
    // Zero or subnormal: mant * 2^-24, exact in float (a float has 24 significant bits).
    const float v = float(mant) * 5.9604644775390625e-08f;
    return sign ? -v : v;
}

/// float -> IEEE binary16, rounding to nearest, ties to even. Values at or above 65520 (the midpoint
/// between the largest half, 65504, and the next power of two) become Inf; values at or below 2^-25
/// become (signed) zero; NaN stays a quiet NaN with the top payload bits kept.
inline std::uint16_t float_to_half(float f) noexcept {
    const std::uint32_t u = float_to_bits(f);
    const auto sign = std::uint16_t((u >> 16) & 0x8000u);
    const std::uint32_t abs = u & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return std::uint16_t(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // NaN, quieted
    if (abs >= 0x477FF000u) return std::uint16_t(sign | 0x7C00u);  // Inf, or rounds up to it
    if (abs < 0x38800000u) {                                       // below 2^-14: half subnormal or zero
        if (abs <= 0x33000000u) return sign;  // at most 2^-25, half the smallest subnormal: the tie goes to 0
        // value / 2^-24 = mant * 2^(exp - 150 + 24); shift right by 126 - exp (14..24), rounding.
        const std::uint32_t exp = abs >> 23, mant = (abs & 0x7FFFFFu) | 0x800000u;
        const std::uint32_t shift = 126u - exp;
        std::uint32_t q = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal: correct
        return std::uint16_t(sign | q);
    }
    // Normal: rebias the exponent (127 -> 15) and drop 13 mantissa bits with rounding. A carry out of
    // the mantissa increments the exponent, which is the right result (and cannot reach Inf here).
    std::uint32_t r = abs - ((127u - 15u) << 23);
    const std::uint32_t rem = r & 0x1FFFu;
    r >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
    return std::uint16_t(sign | r);
}

/// bfloat16 -> float: bfloat16 is the top half of a float, so this is exact for every code.
inline float bfloat16_to_float(std::uint16_t b) noexcept { return bits_to_float(std::uint32_t(b) << 16); }

/// float -> bfloat16, rounding to nearest, ties to even (overflow rounds to Inf as IEEE requires).
/// NaN stays a quiet NaN: plain rounding could carry a NaN whose payload is in the low bits into Inf.
inline std::uint16_t float_to_bfloat16(float f) noexcept {
    const std::uint32_t u = float_to_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return std::uint16_t((u >> 16) | 0x40u);
    const std::uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
    return std::uint16_t((u + rounding) >> 16);
}

}  // namespace edgebert::io
