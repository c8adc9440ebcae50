// SPDX-License-Identifier: Apache-2.0
#pragma once
// Element types of safetensors files and the half-precision conversions (IEEE binary16 and bfloat16,
// round to nearest even, NaN/Inf/subnormals exact).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace edgebert::io {

enum class dtype { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

inline std::size_t dtype_size(dtype t) noexcept {
    switch (t) {
        case dtype::BOOL: case dtype::U8: case dtype::I8: case dtype::F8_E5M2: case dtype::F8_E4M3: return 1;
        case dtype::I16: case dtype::U16: case dtype::F16: case dtype::BF16: return 2;
        case dtype::I32: case dtype::U32: case dtype::F32: return 4;
        case dtype::F64: case dtype::I64: case dtype::U64: return 8;
    }
    return 1;
}

inline const char* to_string(dtype t) noexcept {
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

/// Parse a safetensors dtype name; format_error naming the string if unknown.
inline dtype parse_dtype(std::string_view s) {
    for (int i = 0; i <= int(dtype::U64); ++i)
        if (s == to_string(dtype(i))) return dtype(i);
    throw format_error("unknown dtype \"" + std::string(s) + "\"");
}

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

/// IEEE binary16 -> float (exact).
inline float half_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    if (exp == 0x1F) return bits_to_float(sign | 0x7F800000u | (mant << 13));  // Inf / NaN (payload kept)
    if (exp != 0) return bits_to_float(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0) return bits_to_float(sign);
    // subnormal: mant * 2^-24, exact in float
    const float v = float(mant) * 5.9604644775390625e-08f;
    return sign ? -v : v;
}

/// float -> IEEE binary16, round to nearest even; overflow to Inf, NaN stays NaN.
inline std::uint16_t float_to_half(float f) noexcept {
    const std::uint32_t u = float_to_bits(f);
    const std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
    const std::uint32_t abs = u & 0x7FFFFFFFu;
    if (abs >= 0x7F800000u) return std::uint16_t(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u | ((abs >> 13) & 0x3FFu) : 0u));
    if (abs >= 0x477FF000u) return std::uint16_t(sign | 0x7C00u);  // rounds to >= 65520: Inf
    if (abs < 0x38800000u) {                                       // below 2^-14: subnormal or zero
        if (abs < 0x33000000u) return sign;                        // below 2^-25: rounds to zero (ties to even 0)
        const std::uint32_t exp = abs >> 23, mant = (abs & 0x7FFFFFu) | 0x800000u;
        const std::uint32_t shift = 126u - exp;                    // value / 2^-24 = mant * 2^(exp - 126)
        std::uint32_t q = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;
        return std::uint16_t(sign | q);
    }
    std::uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
    const std::uint32_t rem = r & 0x1FFFu;
    r >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // carries into the exponent correctly
    return std::uint16_t(sign | r);
}

/// bfloat16 -> float (exact).
inline float bfloat16_to_float(std::uint16_t b) noexcept { return bits_to_float(std::uint32_t(b) << 16); }

/// float -> bfloat16, round to nearest even; NaN stays a quiet NaN.
inline std::uint16_t float_to_bfloat16(float f) noexcept {
    const std::uint32_t u = float_to_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return std::uint16_t((u >> 16) | 0x40u);
    const std::uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
    return std::uint16_t((u + rounding) >> 16);
}

}  // namespace edgebert::io
