// SPDX-License-Identifier: Apache-2.0
#pragma once
// AdaptivFloat (Tambe et al., "Algorithm-Hardware Co-design of Adaptive Floating-Point Encodings for
// Resilient Deep Learning Inference", DAC 2020, arXiv 1909.13271): an N-bit float (1 sign, E exponent,
// M = N-1-E mantissa bits) whose exponent range slides per tensor so that its top sits at the tensor's
// largest magnitude. Three variants are provided, all with the same bit layout
//     code = sign << (N-1) | field << M | mantissa,   value = ±2^(field + e0) × (1 + mantissa / 2^M)
// where e0, the exponent of field 0, follows from the per-tensor exponent bias:
//
//   reference_2020  adaptivfloat.py at commit 1a6f7cc (NumPy). `bias` is the reference's own `bias`
//                   argument: the smallest exponent, e0 = bias. Fields 0 .. 2^E-1 are all normal; the code
//                   (field 0, mantissa 0) is reserved for zero, there are no denormals. Selection:
//                   bias = floor(log2 amax) - (2^E - 1).
//   ieee_like_2022  adaptivfloat.py at commit e107ec4 (PyTorch). `bias` is that version's `bias`, an
//                   IEEE-style offset: exponents run over [-2^(E-1)+2-bias, 2^(E-1)-1-bias] (2^E-2 values),
//                   so e0 = -2^(E-1)+1-bias. The reference returns values only; we give them the IEEE
//                   layout: field 0 is zero (its nonzero mantissas are aliases of zero: no denormals), field
//                   2^E-1 decodes as IEEE infinity (mantissa 0) or NaN and is never produced by encode.
//                   Selection: bias = 2^(E-1) - 1 - floor(log2 amax).
//   edgebert_hw     EdgeBERT's accelerator (harvard-acc/EdgeBERT hw/cmod AdpfloatSpec.h, Spec.h): N=8, E=3,
//                   `bias` is the 3-bit per-tensor register 0..7 and e0 = bias - 10 (kAdpfloatOffset).
//                   Both 0x00 and 0x80 decode to +0; the encoder always writes 0x00. Selection (derived: the
//                   release contains no bias-selection code): bias = floor(log2 amax) + 3, clamped to 0..7.
//
// Rounding rules (|x| = a; min = smallest positive value, max = largest; both depend on the bias):
//   reference_2020  a > max (including infinity) -> ±max. a < min: a < min/2 -> ±0, a > min/2 -> ±min, and
//                   a == min/2 exactly -> ±0 (the tie goes to the even code 0; the Python reference leaves
//                   this one value unquantized, which no format code can hold). Otherwise round to nearest,
//                   ties to even (NumPy's round), a mantissa carry moving to the next exponent.
//   ieee_like_2022  a > max -> ±max; a < min -> ±0 (flush, no min/2 rule); otherwise as above.
//   edgebert_hw     a < min/2 -> +0 (code 0x00); min/2 <= a < min -> ±min; a > max -> ±max; otherwise the
//                   mantissa is truncated (rounds toward zero), as the cmod's float-to-AdaptivFloat helper.
// Signs: the 2020 and 2022 variants keep the sign of zero (encode(-0.0f) and small negatives give the
// negative-zero code, which decodes to -0.0f, as the NumPy reference's sign × 0 does). NaN has no code in
// any variant: encode throws input_error. Infinity saturates to ±max.
//
// Every value of every supported (N, E, bias) is a normal float, so decode is exact and encode sees only
// exact arithmetic: the valid bias range is limited so that the exponent window stays inside float's
// normal range [-126, 127] (bias selection clamps to it; only tensors with amax below about 2^-120 notice).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/dtype.hpp"

namespace edgebert::numeric {

/// Which AdaptivFloat definition (see the file comment).
enum class af_variant : std::uint8_t { reference_2020, ieee_like_2022, edgebert_hw };

constexpr const char* to_string(af_variant v) noexcept {
    switch (v) {
        case af_variant::reference_2020: return "reference_2020";
        case af_variant::ieee_like_2022: return "ieee_like_2022";
        case af_variant::edgebert_hw: return "edgebert_hw";
    }
    return "?";
}

class af_format;

/// Encoder/decoder for one AdaptivFloat format at one exponent bias: the per-bias constants computed
/// once, so that encoding a tensor costs a few integer operations per element. Obtain from
/// af_format::codec(bias).
class af_codec {
public:
    /// Code of x (low N bits used). Throws input_error if x is NaN.
    std::uint32_t encode(float x) const {
        const std::uint32_t u = io::float_to_bits(x);
        const std::uint32_t sign = (u >> 31) << (bits_ - 1);
        const std::uint32_t abs = u & 0x7FFFFFFFu;
        if (abs > 0x7F800000u) throw input_error("AdaptivFloat cannot encode NaN (the format has no NaN code)");
        const float a = io::bits_to_float(abs);
        if (a > max_) return sign | max_code_;  // also infinity
        if (a < min_) {
            switch (variant_) {
                case af_variant::reference_2020: return a > half_min_ ? sign | 1u : sign;  // == min/2: even code 0
                case af_variant::ieee_like_2022: return sign;
                case af_variant::edgebert_hw: return a < half_min_ ? 0u : sign | 1u;
            }
        }
        // a is a normal float in [min, max]. Its bits are ((k + 127) << 23) | f23 for a = 2^k (1 + f23/2^23);
        // dropping `shift` bits leaves ((k + 127) << M) | mantissa, so subtracting (127 + e0) << M gives
        // field << M | mantissa. Rounding adds half minus one plus the kept LSB (ties to even) before the
        // shift, which lets a mantissa carry ripple into the exponent. Cannot pass max: a <= max and max is
        // a code, and cannot drop below min for the same reason.
        const std::uint32_t r = variant_ == af_variant::edgebert_hw
                                    ? abs >> shift_
                                    : (abs + ((1u << (shift_ - 1)) - 1u) + ((abs >> shift_) & 1u)) >> shift_;
        return sign | (r - field0_bits_);
    }

    /// Value of a code (bits above N must be zero, else input_error). Exact.
    float decode(std::uint32_t code) const {
        if (code >> bits_) throw input_error("AdaptivFloat code " + std::to_string(code) + " does not fit in " + std::to_string(bits_) + " bits");
        return decode_unchecked(code);
    }

    /// decode() for a code known to fit in N bits (the table builders and kernels).
    float decode_unchecked(std::uint32_t code) const noexcept {
        const std::uint32_t sign = (code >> (bits_ - 1)) << 31;
        const std::uint32_t mag = code & ((1u << (bits_ - 1)) - 1u);
        const std::uint32_t field = mag >> man_bits_, mant = mag & ((1u << man_bits_) - 1u);
        switch (variant_) {
            case af_variant::reference_2020:
                if (mag == 0) return io::bits_to_float(sign);
                break;
            case af_variant::edgebert_hw:
                if (mag == 0) return 0.0f;  // both zero codes are +0 in the hardware
                break;
            case af_variant::ieee_like_2022:
                if (field == 0) return io::bits_to_float(sign);  // no denormals: the whole field is zero
                if (field == (1u << exp_bits_) - 1u) return io::bits_to_float(sign | 0x7F800000u | (mant ? 0x400000u : 0u));
                break;
        }
        return io::bits_to_float(sign | ((mag + field0_bits_) << shift_));
    }

    int bias() const noexcept { return bias_; }
    /// Largest finite value.
    float max_value() const noexcept { return max_; }
    /// Smallest positive value.
    float min_value() const noexcept { return min_; }
    /// Code magnitude (without sign) of max_value().
    std::uint32_t max_code() const noexcept { return max_code_; }

private:
    friend class af_format;
    af_codec(int bits, int exp_bits, af_variant v, int bias, int e0) noexcept
        : bits_(bits), exp_bits_(exp_bits), man_bits_(bits - 1 - exp_bits), shift_(23 - man_bits_), variant_(v), bias_(bias) {
        const int top_field = (1 << exp_bits) - 1 - (v == af_variant::ieee_like_2022 ? 1 : 0);
        field0_bits_ = std::uint32_t(127 + e0) << man_bits_;
        max_code_ = (std::uint32_t(top_field) << man_bits_) | ((1u << man_bits_) - 1u);
        const std::uint32_t min_code = v == af_variant::ieee_like_2022 ? (1u << man_bits_) : 1u;
        max_ = io::bits_to_float((max_code_ + field0_bits_) << shift_);
        min_ = io::bits_to_float((min_code + field0_bits_) << shift_);
        half_min_ = min_ * 0.5f;  // exact: min/2 has as many significant bits as min and is >= 2^-127 (m <= 14)
    }

    int bits_, exp_bits_, man_bits_, shift_;
    af_variant variant_;
    int bias_;
    std::uint32_t field0_bits_ = 0, max_code_ = 0;
    float max_ = 0, min_ = 0, half_min_ = 0;
};

/// An AdaptivFloat format chosen at run time: total bits N, exponent bits E and the variant.
/// Valid: 4 <= N <= 16; 1 <= E <= 7 (2 <= E for ieee_like_2022, which reserves two fields); E <= N-1;
/// edgebert_hw only as N=8, E=3.
class af_format {
public:
    /// Throws config_error for an unsupported combination (see is_valid).
    constexpr af_format(int bits, int exp_bits, af_variant variant = af_variant::reference_2020)
        : bits_(bits), exp_bits_(exp_bits), variant_(variant) {
        if (!is_valid(bits, exp_bits, variant)) throw_invalid(bits, exp_bits, variant);
    }

    static constexpr bool is_valid(int bits, int exp_bits, af_variant variant) noexcept {
        if (variant == af_variant::edgebert_hw) return bits == 8 && exp_bits == 3;
        const int min_exp_bits = variant == af_variant::ieee_like_2022 ? 2 : 1;
        return bits >= 4 && bits <= 16 && exp_bits >= min_exp_bits && exp_bits <= 7 && exp_bits <= bits - 1;
    }

    constexpr int bits() const noexcept { return bits_; }
    constexpr int exp_bits() const noexcept { return exp_bits_; }
    constexpr int man_bits() const noexcept { return bits_ - 1 - exp_bits_; }
    constexpr af_variant variant() const noexcept { return variant_; }

    /// Smallest and largest valid exponent bias (the exponent window must stay within float's normal
    /// range; the hardware register is 3 bits).
    constexpr int min_bias() const noexcept {
        switch (variant_) {
            case af_variant::reference_2020: return -126;
            case af_variant::ieee_like_2022: return (1 << (exp_bits_ - 1)) - 128;
            case af_variant::edgebert_hw: return 0;
        }
        return 0;
    }
    constexpr int max_bias() const noexcept {
        switch (variant_) {
            case af_variant::reference_2020: return 128 - (1 << exp_bits_);
            case af_variant::ieee_like_2022: return 128 - (1 << (exp_bits_ - 1));
            case af_variant::edgebert_hw: return 7;
        }
        return 0;
    }

    /// Exponent of field 0 at this bias (value = 2^(field + e0) × 1.mantissa).
    constexpr int field0_exponent(int bias) const noexcept {
        switch (variant_) {
            case af_variant::reference_2020: return bias;
            case af_variant::ieee_like_2022: return -(1 << (exp_bits_ - 1)) + 1 - bias;
            case af_variant::edgebert_hw: return bias - 10;
        }
        return 0;
    }

    /// The codec at `bias`; config_error if the bias is outside [min_bias(), max_bias()].
    af_codec codec(int bias) const {
        if (bias < min_bias() || bias > max_bias())
            throw config_error("exponent bias " + std::to_string(bias) + " is out of range for " + describe() + " (valid: " +
                               std::to_string(min_bias()) + " .. " + std::to_string(max_bias()) + ")");
        return af_codec(bits_, exp_bits_, variant_, bias, field0_exponent(bias));
    }

    /// Encode one value (rounding rule of the variant; NaN -> input_error; bad bias -> config_error).
    /// For many values use codec(bias) once and its encode().
    std::uint32_t encode(float x, int bias) const { return codec(bias).encode(x); }
    /// Decode one code (exact).
    float decode(std::uint32_t code, int bias) const { return codec(bias).decode(code); }
    float max_value(int bias) const { return codec(bias).max_value(); }
    float min_value(int bias) const { return codec(bias).min_value(); }

    /// The variant's bias rule for a tensor whose largest magnitude is `amax` (finite, >= 0; else
    /// input_error): with E_max = floor(log2 amax) (frexp exponent - 1, as both references compute it;
    /// -1 when amax is 0, as frexp(0) gives exponent 0), put the top of the exponent window at E_max,
    /// then clamp to the valid range.
    int bias_for_amax(float amax) const {
        if (!(amax >= 0.0f) || std::isinf(amax))
            throw input_error("AdaptivFloat bias selection needs a finite non-negative largest magnitude, got " + float_str(amax));
        const int e_max = amax == 0.0f ? -1 : std::ilogb(amax);  // ilogb is exact, subnormals included
        int bias = 0;
        switch (variant_) {
            case af_variant::reference_2020: bias = e_max - ((1 << exp_bits_) - 1); break;
            case af_variant::ieee_like_2022: bias = (1 << (exp_bits_ - 1)) - 1 - e_max; break;
            case af_variant::edgebert_hw: bias = e_max - ((1 << exp_bits_) - 1) + 10; break;
        }
        return bias < min_bias() ? min_bias() : bias > max_bias() ? max_bias() : bias;
    }

    /// Bias for a whole tensor: the rule applied to its largest finite magnitude (infinities are left
    /// out and will saturate). input_error naming the index of the first NaN.
    int select_bias(const float* x, std::size_t n) const { return bias_for_amax(finite_amax(x, n, 0, "")); }

    /// One bias per row of a row-major [rows x cols] matrix.
    std::vector<int> select_bias_per_row(const float* x, std::size_t rows, std::size_t cols) const {
        std::vector<int> out(rows);
        for (std::size_t r = 0; r < rows; ++r) out[r] = bias_for_amax(finite_amax(x + r * cols, cols, r * cols, " (row " + std::to_string(r) + ")"));
        return out;
    }

    /// Encode n values at one bias into codes (uint8_t for N <= 8 or uint16_t). NaN -> input_error with index.
    template <class Code>
    void encode(const float* x, std::size_t n, int bias, Code* out) const {
        static_assert(std::is_same<Code, std::uint8_t>::value || std::is_same<Code, std::uint16_t>::value, "codes are uint8_t or uint16_t");
        if (bits_ > int(8 * sizeof(Code))) throw config_error(describe() + " codes do not fit in " + std::to_string(8 * sizeof(Code)) + " bits");
        const af_codec c = codec(bias);
        for (std::size_t i = 0; i < n; ++i) {
            if (std::isnan(x[i])) throw input_error("cannot encode element " + std::to_string(i) + " as " + describe() + ": it is NaN");
            out[i] = Code(c.encode(x[i]));
        }
    }

    /// "AdaptivFloat<8,3> (reference_2020)" for messages.
    std::string describe() const {
        return "AdaptivFloat<" + std::to_string(bits_) + "," + std::to_string(exp_bits_) + "> (" + to_string(variant_) + ")";
    }

    friend constexpr bool operator==(const af_format& a, const af_format& b) noexcept {
        return a.bits_ == b.bits_ && a.exp_bits_ == b.exp_bits_ && a.variant_ == b.variant_;
    }
    friend constexpr bool operator!=(const af_format& a, const af_format& b) noexcept { return !(a == b); }

private:
    static std::string float_str(float v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", double(v));
        return buf;
    }
    [[noreturn]] static void throw_invalid(int bits, int exp_bits, af_variant variant) {
        throw config_error("unsupported AdaptivFloat format: " + std::to_string(bits) + " bits with " + std::to_string(exp_bits) +
                           " exponent bits (" + to_string(variant) +
                           "; valid: 4..16 bits, 1..7 exponent bits and at most bits-1, >= 2 for ieee_like_2022, "
                           "edgebert_hw only 8 bits with 3)");
    }

    float finite_amax(const float* x, std::size_t n, std::size_t index_base, const std::string& where) const {
        float amax = 0.0f;
        for (std::size_t i = 0; i < n; ++i) {
            const float a = std::fabs(x[i]);
            if (std::isnan(a))
                throw input_error("cannot choose a " + describe() + " exponent bias: element " + std::to_string(index_base + i) + where + " is NaN");
            if (a > amax && !std::isinf(a)) amax = a;
        }
        return amax;
    }

    int bits_, exp_bits_;
    af_variant variant_;
};

/// AdaptivFloat<N, E> fixed at compile time (the weight storage type of nn::linear and the kernels).
/// All members forward to af_format; the constant folding makes them as cheap as hand-written code.
template <int N, int E, af_variant V = af_variant::reference_2020>
struct adaptivfloat {
    static_assert(af_format::is_valid(N, E, V), "unsupported AdaptivFloat<N, E> (see af_format::is_valid)");
    static constexpr int bits = N, exp_bits = E, man_bits = N - 1 - E;
    static constexpr af_variant variant = V;
    using code_type = std::conditional_t<(N <= 8), std::uint8_t, std::uint16_t>;

    static constexpr af_format format() noexcept { return af_format(N, E, V); }
    static af_codec codec(int bias) { return format().codec(bias); }
    static code_type encode(float x, int bias) { return code_type(format().encode(x, bias)); }
    static float decode(code_type code, int bias) { return format().decode(code, bias); }
    static int select_bias(const float* x, std::size_t n) { return format().select_bias(x, n); }
    static std::vector<int> select_bias_per_row(const float* x, std::size_t rows, std::size_t cols) {
        return format().select_bias_per_row(x, rows, cols);
    }
};

/// The 2020 reference format EdgeBERT's paper uses (`af8` = `af8e3`).
using af8e3 = adaptivfloat<8, 3>;
/// The 2020 reference default of adaptivfloat.py (n_bits=8, n_exp=4).
using af8e4 = adaptivfloat<8, 4>;
/// The 2022 IEEE-like variant with 3 exponent bits.
using af8e3_2022 = adaptivfloat<8, 3, af_variant::ieee_like_2022>;
/// EdgeBERT's accelerator format: 3-bit bias register, offset -10, truncation.
using af8_hw = adaptivfloat<8, 3, af_variant::edgebert_hw>;

}  // namespace edgebert::numeric
