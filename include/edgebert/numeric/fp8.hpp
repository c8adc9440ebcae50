// SPDX-License-Identifier: Apache-2.0
#pragma once
// The two 8-bit floats of the OCP 8-bit Floating Point Specification (OFP8, rev. 1.0, 2023; the formats
// of Micikevicius et al., "FP8 Formats for Deep Learning", arXiv 2209.05433):
//
//   E4M3  S.EEEE.MMM, exponent bias 7, subnormals. No infinities; S.1111.111 is the only NaN pattern
//         (0x7F, 0xFF), so S.1111.000 .. S.1111.110 are normal numbers. max 448 = 1.75 × 2^8,
//         min normal 2^-6, min subnormal 2^-9.
//   E5M2  S.EEEEE.MM, exponent bias 15, IEEE 754 conventions: S.11111.00 is ±infinity, S.11111.{01,10,11}
//         NaN. max 57344 = 1.75 × 2^15, min normal 2^-14, min subnormal 2^-16. It is the top byte of an
//         IEEE binary16, which is how it is decoded (io::half_to_float).
//
// Conversion from float (the rule in a comment, as everywhere in numeric/): round to nearest, ties to
// even, subnormals included, -0 kept as the negative-zero code 0x80. Overflow is judged after rounding
// (IEEE style: E4M3 values in (448, 464] round to 448, 464 being the tie to the even 448; E5M2 values
// from 61440 up overflow). Then:
//   fp8_overflow::saturate        overflow and ±infinity give ±max (OCP "saturation mode"; the choice of
//                                 ONNX Cast saturate=1 and CUDA __NV_SATFINITE for infinities)
//   fp8_overflow::non_saturating  overflow and ±infinity give ±infinity (E5M2) or NaN (E4M3, no infinity)
// NaN gives NaN in both modes: E4M3 S.1111.111, E5M2 the quiet S.11111.10 (payload dropped), sign kept.
//
// Scaling: a per-tensor or per-row float scale s maps the data onto the format (decoded value =
// format value × s, encode(x / s)); the amax rule picks s = amax / max so the largest finite magnitude
// lands on the format's max. Tensor-level functions reject NaN inputs with input_error (a quantizer
// meeting NaN weights has a bug upstream to report, not a value to store).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/dtype.hpp"

namespace edgebert::numeric {

enum class fp8_kind : std::uint8_t { e4m3, e5m2 };

/// What encode does with values beyond the format's max (see the file comment).
enum class fp8_overflow : std::uint8_t { saturate, non_saturating };

constexpr const char* to_string(fp8_kind k) noexcept { return k == fp8_kind::e4m3 ? "e4m3" : "e5m2"; }

/// Largest finite value: 448 (E4M3), 57344 (E5M2).
constexpr float fp8_max(fp8_kind k) noexcept { return k == fp8_kind::e4m3 ? 448.0f : 57344.0f; }
/// Smallest positive normal value: 2^-6 (E4M3), 2^-14 (E5M2).
constexpr float fp8_min_normal(fp8_kind k) noexcept { return k == fp8_kind::e4m3 ? 0.015625f : 6.103515625e-05f; }
/// Smallest positive subnormal value: 2^-9 (E4M3), 2^-16 (E5M2).
constexpr float fp8_min_subnormal(fp8_kind k) noexcept { return k == fp8_kind::e4m3 ? 0.001953125f : 1.52587890625e-05f; }

namespace detail {

// %.9g: round-trips a float and stays readable for tiny scales (std::to_string prints 1e-40 as 0.000000).
inline std::string fp8_float_str(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", double(v));
    return buf;
}

struct fp8_params {
    int man_bits, bias;
    std::uint32_t max_mag;  // code of the largest finite value, without sign
};
constexpr fp8_params fp8_params_of(fp8_kind k) noexcept { return k == fp8_kind::e4m3 ? fp8_params{3, 7, 0x7Eu} : fp8_params{2, 15, 0x7Bu}; }

}  // namespace detail

/// float -> FP8 code, rounding to nearest even (see the file comment for overflow, infinity and NaN).
inline std::uint8_t fp8_encode(fp8_kind k, float x, fp8_overflow mode = fp8_overflow::saturate) noexcept {
    const detail::fp8_params p = detail::fp8_params_of(k);
    const std::uint32_t u = io::float_to_bits(x);
    const std::uint32_t sign = (u >> 24) & 0x80u, abs = u & 0x7FFFFFFFu;
    const std::uint32_t overflow_code = mode == fp8_overflow::saturate ? p.max_mag : (k == fp8_kind::e4m3 ? 0x7Fu : 0x7Cu);
    if (abs > 0x7F800000u) return std::uint8_t(sign | (k == fp8_kind::e4m3 ? 0x7Fu : 0x7Eu));
    if (abs == 0x7F800000u) return std::uint8_t(sign | overflow_code);
    std::uint32_t mag;
    if (abs < std::uint32_t(128 - p.bias) << 23) {
        // Below the smallest normal 2^(1-bias): count in units of the smallest subnormal. Scaling by a power
        // of two is exact, t < 2^man_bits, and t - floor(t) is exact, so the tie test is exact. A result of
        // 2^man_bits is the smallest normal's code, which is the right answer.
        const float t = io::bits_to_float(abs) * std::ldexp(1.0f, p.bias - 1 + p.man_bits);
        const float fl = std::floor(t), frac = t - fl;
        mag = std::uint32_t(fl);
        if (frac > 0.5f || (frac == 0.5f && (mag & 1u))) ++mag;
    } else {
        // Normal: drop 23 - M mantissa bits rounding to nearest even (a carry may enter the exponent),
        // then rebias the exponent from 127 to the format's.
        const int shift = 23 - p.man_bits;
        const std::uint32_t r = (abs + ((1u << (shift - 1)) - 1u) + ((abs >> shift) & 1u)) >> shift;
        mag = r - (std::uint32_t(127 - p.bias) << p.man_bits);
        if (mag > p.max_mag) mag = overflow_code;
    }
    return std::uint8_t(sign | mag);
}

/// FP8 code -> float, exact for every code (NaN codes give a quiet NaN of the code's sign).
inline float fp8_decode(fp8_kind k, std::uint8_t code) noexcept {
    if (k == fp8_kind::e5m2) return io::half_to_float(std::uint16_t(code << 8));
    const std::uint32_t sign = std::uint32_t(code & 0x80u) << 24;
    const std::uint32_t field = (code >> 3) & 0xFu, mant = code & 0x7u;
    if (field == 0xF && mant == 0x7) return io::bits_to_float(sign | 0x7FC00000u);
    if (field == 0) {
        const float v = float(mant) * 0.001953125f;  // mant × 2^-9
        return sign ? -v : v;
    }
    return io::bits_to_float(sign | ((field + 120u) << 23) | (mant << 20));
}

inline std::uint8_t float_to_e4m3(float x, fp8_overflow mode = fp8_overflow::saturate) noexcept { return fp8_encode(fp8_kind::e4m3, x, mode); }
inline std::uint8_t float_to_e5m2(float x, fp8_overflow mode = fp8_overflow::saturate) noexcept { return fp8_encode(fp8_kind::e5m2, x, mode); }
inline float e4m3_to_float(std::uint8_t code) noexcept { return fp8_decode(fp8_kind::e4m3, code); }
inline float e5m2_to_float(std::uint8_t code) noexcept { return fp8_decode(fp8_kind::e5m2, code); }

/// config_error unless `scale` is a usable scale factor: finite, positive and normal.
inline void fp8_check_scale(float scale) {
    if (!(scale >= std::numeric_limits<float>::min()) || std::isinf(scale))
        throw config_error("FP8 scale factor " + detail::fp8_float_str(scale) + " is not a finite positive normal float");
}

/// The amax rule: scale = amax / max (as a float), so the largest finite magnitude maps onto the format's
/// max; 1 for an all-zero input; never below the smallest normal float (tensors with amax under about
/// 1e-35 then use less than the full range rather than divide by a subnormal). amax must be finite and
/// >= 0, else input_error.
inline float fp8_scale_for_amax(fp8_kind k, float amax) {
    if (!(amax >= 0.0f) || std::isinf(amax))
        throw input_error("FP8 scale selection needs a finite non-negative largest magnitude, got " + detail::fp8_float_str(amax));
    if (amax == 0.0f) return 1.0f;
    const float s = amax / fp8_max(k);
    return s < std::numeric_limits<float>::min() ? std::numeric_limits<float>::min() : s;
}

namespace detail {
inline float fp8_finite_amax(fp8_kind k, const float* x, std::size_t n, std::size_t index_base, const char* where_prefix, std::size_t row) {
    float amax = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (std::isnan(a))
            throw input_error(std::string("cannot choose an ") + to_string(k) + " scale: element " + std::to_string(index_base + i) +
                              (where_prefix ? std::string(where_prefix) + std::to_string(row) + ")" : std::string()) + " is NaN");
        if (a > amax && !std::isinf(a)) amax = a;
    }
    return amax;
}
}  // namespace detail

/// Scale for a whole tensor by the amax rule over its finite magnitudes (infinities are left out and
/// saturate, or stay infinite in non-saturating E5M2). input_error naming the first NaN.
inline float fp8_select_scale(fp8_kind k, const float* x, std::size_t n) {
    return fp8_scale_for_amax(k, detail::fp8_finite_amax(k, x, n, 0, nullptr, 0));
}

/// One scale per row of a row-major [rows x cols] matrix.
inline std::vector<float> fp8_select_scale_per_row(fp8_kind k, const float* x, std::size_t rows, std::size_t cols) {
    std::vector<float> out(rows);
    for (std::size_t r = 0; r < rows; ++r) out[r] = fp8_scale_for_amax(k, detail::fp8_finite_amax(k, x + r * cols, cols, r * cols, " (row ", r));
    return out;
}

/// Encode n values as code = fp8_encode(x / scale). scale: see fp8_check_scale (config_error); NaN
/// inputs: input_error naming the index. scale 1 is the plain conversion.
inline void fp8_encode_scaled(fp8_kind k, const float* x, std::size_t n, float scale, std::uint8_t* out,
                              fp8_overflow mode = fp8_overflow::saturate) {
    fp8_check_scale(scale);
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isnan(x[i])) throw input_error("cannot encode element " + std::to_string(i) + " as " + to_string(k) + ": it is NaN");
        // Division, not multiplication by 1/scale: one rounding, so amax / (amax / max) stays within an
        // ulp of max and rounds onto it.
        out[i] = fp8_encode(k, x[i] / scale, mode);
    }
}

/// Decoded value of a scaled code: fp8_decode(code) × scale (one float rounding unless scale is a power of two).
inline float fp8_decode_scaled(fp8_kind k, std::uint8_t code, float scale) noexcept { return fp8_decode(k, code) * scale; }

}  // namespace edgebert::numeric
