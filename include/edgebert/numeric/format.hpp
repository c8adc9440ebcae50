// SPDX-License-Identifier: Apache-2.0
#pragma once
// Number formats chosen at run time (by name, from the command line or a compressed model's metadata),
// tensors quantized to them, and the 256-entry decode tables the 8-bit kernels read weights through.
//
// Names (DESIGN.md §8; the same for `edgebert quantize` and `edgebert compress`):
//   af<N>e<E>       AdaptivFloat, 2020 reference algorithm (adaptivfloat.hpp), e.g. af8e3, af8e4, af6e2
//   af8             the same as af8e3 (EdgeBERT's width)
//   af<N>e<E>-2022  AdaptivFloat, the IEEE-like 2022 variant
//   af8-hw          EdgeBERT's hardware format (3-bit bias register, offset -10, truncation)
//   e4m3, e5m2      OCP FP8 (fp8.hpp), with a float scale factor
//   fp16, bf16      IEEE binary16 and bfloat16 (conversions of io/dtype.hpp: round to nearest even,
//                   overflow to infinity)
// N is 4..16 and E 1..7 (at most N-1; at least 2 for -2022); numbers are written without leading zeros.
// Each format has one canonical name (af8 is spelled af8e3), returned by number_format::name().
//
// Parameters: AdaptivFloat formats take an integer exponent bias (its meaning per variant is in
// adaptivfloat.hpp: the same number the Python references and the hardware register take); FP8 formats
// a float scale (decoded value = format value × scale); fp16 and bf16 none. A quantized tensor holds one
// parameter for the whole tensor or one per row (all dimensions but the last form the rows).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/dtype.hpp"
#include "adaptivfloat.hpp"
#include "fp8.hpp"

namespace edgebert::numeric {

enum class format_kind : std::uint8_t { adaptivfloat, e4m3, e5m2, fp16, bf16 };

/// The list printed when a name is not recognised.
inline constexpr const char* format_names_help =
    "af<N>e<E> (AdaptivFloat 2020, N 4..16, E 1..7 and < N, e.g. af8e3), af8 (= af8e3), af<N>e<E>-2022 (E >= 2), "
    "af8-hw, e4m3, e5m2, fp16, bf16";

/// A number format: its kind, and for AdaptivFloat the width, exponent bits and variant.
class number_format {
public:
    /// af8e3, the format EdgeBERT uses.
    number_format() noexcept : kind_(format_kind::adaptivfloat), af_(8, 3) {}
    /// An AdaptivFloat format.
    number_format(const af_format& af) noexcept : kind_(format_kind::adaptivfloat), af_(af) {}  // NOLINT: implicit on purpose
    static number_format e4m3() noexcept { return number_format(format_kind::e4m3); }
    static number_format e5m2() noexcept { return number_format(format_kind::e5m2); }
    static number_format fp16() noexcept { return number_format(format_kind::fp16); }
    static number_format bf16() noexcept { return number_format(format_kind::bf16); }

    format_kind kind() const noexcept { return kind_; }
    bool is_adaptivfloat() const noexcept { return kind_ == format_kind::adaptivfloat; }
    bool is_fp8() const noexcept { return kind_ == format_kind::e4m3 || kind_ == format_kind::e5m2; }
    /// The AdaptivFloat description; config_error for other kinds.
    const af_format& af() const {
        if (!is_adaptivfloat()) throw config_error("number format " + name() + " is not an AdaptivFloat format");
        return af_;
    }
    /// The FP8 kind; config_error for other kinds.
    fp8_kind fp8() const {
        if (!is_fp8()) throw config_error("number format " + name() + " is not an FP8 format");
        return kind_ == format_kind::e4m3 ? fp8_kind::e4m3 : fp8_kind::e5m2;
    }
    /// Bits per code.
    int bits() const noexcept {
        switch (kind_) {
            case format_kind::adaptivfloat: return af_.bits();
            case format_kind::e4m3: case format_kind::e5m2: return 8;
            case format_kind::fp16: case format_kind::bf16: return 16;
        }
        return 0;
    }
    /// Codes are stored as uint8_t (true) or uint16_t (false).
    bool byte_codes() const noexcept { return bits() <= 8; }
    bool uses_exp_bias() const noexcept { return is_adaptivfloat(); }
    bool uses_scale() const noexcept { return is_fp8(); }

    /// The canonical name (parse_format(name()) == *this).
    std::string name() const {
        switch (kind_) {
            case format_kind::adaptivfloat: {
                if (af_.variant() == af_variant::edgebert_hw) return "af8-hw";
                std::string s = "af" + std::to_string(af_.bits()) + "e" + std::to_string(af_.exp_bits());
                return af_.variant() == af_variant::ieee_like_2022 ? s + "-2022" : s;
            }
            case format_kind::e4m3: return "e4m3";
            case format_kind::e5m2: return "e5m2";
            case format_kind::fp16: return "fp16";
            case format_kind::bf16: return "bf16";
        }
        return "?";
    }

    friend bool operator==(const number_format& a, const number_format& b) noexcept {
        return a.kind_ == b.kind_ && (a.kind_ != format_kind::adaptivfloat || a.af_ == b.af_);
    }
    friend bool operator!=(const number_format& a, const number_format& b) noexcept { return !(a == b); }

private:
    explicit number_format(format_kind k) noexcept : kind_(k), af_(8, 3) {}
    format_kind kind_;
    af_format af_;
};

namespace detail {
// A decimal number without sign or leading zeros, at most 3 digits; advances i. -1 if none.
inline int parse_small_number(std::string_view s, std::size_t& i) {
    const std::size_t start = i;
    int v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) v = v * 10 + (s[i++] - '0');
    if (i == start || (s[start] == '0' && i - start > 1) || (i < s.size() && s[i] >= '0' && s[i] <= '9')) return -1;
    return v;
}
}  // namespace detail

/// Parse a format name (exact, lower case). config_error naming the name and listing the valid ones.
inline number_format parse_format(std::string_view name) {
    if (name == "e4m3") return number_format::e4m3();
    if (name == "e5m2") return number_format::e5m2();
    if (name == "fp16") return number_format::fp16();
    if (name == "bf16") return number_format::bf16();
    if (name == "af8") return af_format(8, 3);
    if (name == "af8-hw") return af_format(8, 3, af_variant::edgebert_hw);
    if (name.substr(0, 2) == "af") {
        std::size_t i = 2;
        const int n = detail::parse_small_number(name, i);
        if (n >= 0 && i < name.size() && name[i] == 'e') {
            ++i;
            const int e = detail::parse_small_number(name, i);
            const std::string_view rest = name.substr(std::min(i, name.size()));
            const bool v2022 = rest == "-2022";
            if (e >= 0 && (rest.empty() || v2022)) {
                const af_variant v = v2022 ? af_variant::ieee_like_2022 : af_variant::reference_2020;
                if (!af_format::is_valid(n, e, v))
                    throw config_error("number format '" + std::string(name) + "' is not supported: " + std::to_string(n) + " bits with " +
                                       std::to_string(e) + " exponent bits is outside the valid range (valid names: " + format_names_help + ")");
                return af_format(n, e, v);
            }
        }
    }
    throw config_error("unknown number format '" + std::string(name) + "' (valid names: " + format_names_help + ")");
}

/// The per-tensor (or per-row) parameter of a format. Fields a format does not use must keep their
/// defaults (checked, config_error), so that a scale given to an AdaptivFloat format, say, is never
/// silently ignored.
struct quant_param {
    int exp_bias = 0;    ///< AdaptivFloat formats: exponent bias (adaptivfloat.hpp)
    float scale = 1.0f;  ///< e4m3 / e5m2: decoded value = format value × scale

    /// Readable construction at call sites: decode_table(f, quant_param::of_bias(-7)).
    static quant_param of_bias(int exp_bias) noexcept { return quant_param{exp_bias, 1.0f}; }
    static quant_param of_scale(float scale) noexcept { return quant_param{0, scale}; }

    friend bool operator==(const quant_param& a, const quant_param& b) noexcept { return a.exp_bias == b.exp_bias && a.scale == b.scale; }
    friend bool operator!=(const quant_param& a, const quant_param& b) noexcept { return !(a == b); }
};

/// config_error unless p suits f: bias in range for AdaptivFloat, a finite positive normal scale for FP8,
/// unused fields at their defaults.
inline void check_param(const number_format& f, const quant_param& p) {
    if (f.is_adaptivfloat()) {
        if (p.scale != 1.0f) throw config_error("a scale factor does not apply to " + f.name() + " (it takes an exponent bias)");
        const af_format& af = f.af();
        if (p.exp_bias < af.min_bias() || p.exp_bias > af.max_bias())
            throw config_error("exponent bias " + std::to_string(p.exp_bias) + " is out of range for " + f.name() + " (valid: " +
                               std::to_string(af.min_bias()) + " .. " + std::to_string(af.max_bias()) + ")");
        return;
    }
    if (p.exp_bias != 0) throw config_error("an exponent bias does not apply to " + f.name() + (f.is_fp8() ? " (it takes a scale factor)" : ""));
    if (f.is_fp8()) {
        fp8_check_scale(p.scale);
        return;
    }
    if (p.scale != 1.0f) throw config_error("a scale factor does not apply to " + f.name());
}

/// Encode one value with the format's own scalar rule (AdaptivFloat: NaN -> input_error; FP8, fp16,
/// bf16: NaN -> a NaN code). FP8 encodes x / scale.
inline std::uint32_t encode(const number_format& f, float x, const quant_param& p = {}, fp8_overflow mode = fp8_overflow::saturate) {
    check_param(f, p);
    switch (f.kind()) {
        case format_kind::adaptivfloat: return f.af().encode(x, p.exp_bias);
        case format_kind::e4m3: case format_kind::e5m2: return fp8_encode(f.fp8(), x / p.scale, mode);
        case format_kind::fp16: return io::float_to_half(x);
        case format_kind::bf16: return io::float_to_bfloat16(x);
    }
    return 0;
}

/// Decode one code (input_error if it has bits above the format's width).
inline float decode(const number_format& f, std::uint32_t code, const quant_param& p = {}) {
    check_param(f, p);
    if (code >> f.bits()) throw input_error("code " + std::to_string(code) + " does not fit in the " + std::to_string(f.bits()) + " bits of " + f.name());
    switch (f.kind()) {
        case format_kind::adaptivfloat: return f.af().codec(p.exp_bias).decode_unchecked(code);
        case format_kind::e4m3: case format_kind::e5m2: return fp8_decode_scaled(f.fp8(), std::uint8_t(code), p.scale);
        case format_kind::fp16: return io::half_to_float(std::uint16_t(code));
        case format_kind::bf16: return io::bfloat16_to_float(std::uint16_t(code));
    }
    return 0;
}

/// Largest finite value representable with this parameter (FP8: 448 or 57344 times the scale, rounded
/// to float).
inline float max_value(const number_format& f, const quant_param& p = {}) {
    check_param(f, p);
    switch (f.kind()) {
        case format_kind::adaptivfloat: return f.af().max_value(p.exp_bias);
        case format_kind::e4m3: case format_kind::e5m2: return fp8_max(f.fp8()) * p.scale;
        case format_kind::fp16: return 65504.0f;
        case format_kind::bf16: return io::bfloat16_to_float(0x7F7Fu);
    }
    return 0;
}

/// Smallest positive value representable with this parameter (subnormals included: FP8 2^-9 or 2^-16
/// times the scale, fp16 2^-24, bf16 2^-133; AdaptivFloat has none, its min is the code after zero).
inline float min_positive_value(const number_format& f, const quant_param& p = {}) {
    check_param(f, p);
    switch (f.kind()) {
        case format_kind::adaptivfloat: return f.af().min_value(p.exp_bias);
        case format_kind::e4m3: case format_kind::e5m2: return fp8_min_subnormal(f.fp8()) * p.scale;
        case format_kind::fp16: return io::half_to_float(0x0001u);
        case format_kind::bf16: return io::bfloat16_to_float(0x0001u);
    }
    return 0;
}

/// The value of every code 0..255 at parameter p, for formats of at most 8 bits (config_error for wider
/// ones): table[c] is bit-for-bit decode(f, c, p), so a kernel can dequantize weights by a lookup. For
/// formats narrower than 8 bits the entries past 2^N (codes that cannot occur) are NaN.
inline std::array<float, 256> decode_table(const number_format& f, const quant_param& p = {}) {
    if (f.bits() > 8) throw config_error("a 256-entry decode table needs a format of at most 8 bits; " + f.name() + " has " + std::to_string(f.bits()));
    check_param(f, p);
    std::array<float, 256> t;
    if (f.is_adaptivfloat()) {
        const af_codec c = f.af().codec(p.exp_bias);
        const std::uint32_t n = 1u << f.bits();
        for (std::uint32_t i = 0; i < 256; ++i) t[i] = i < n ? c.decode_unchecked(i) : std::numeric_limits<float>::quiet_NaN();
    } else {
        for (std::uint32_t i = 0; i < 256; ++i) t[i] = fp8_decode_scaled(f.fp8(), std::uint8_t(i), p.scale);
    }
    return t;
}

/// How quantize() chooses parameters.
struct quantize_options {
    bool per_row = false;            ///< one parameter per row instead of one per tensor (not for fp16/bf16)
    std::optional<int> exp_bias;     ///< AdaptivFloat: use this bias (every row) instead of the selection rule
    std::optional<float> scale;      ///< FP8: use this scale (every row) instead of the amax rule
    bool fp8_amax_scale = true;      ///< FP8 without `scale`: amax rule (true) or scale 1, the bare format (false)
    fp8_overflow overflow = fp8_overflow::saturate;  ///< FP8 overflow handling
};

/// A tensor of codes in one format with its parameters and shape. Codes are uint8_t for formats of at
/// most 8 bits, uint16_t otherwise, in C order. Rows: all dimensions but the last (a 0-d or 1-d tensor
/// is one row).
class quantized_tensor {
public:
    quantized_tensor() = default;

    /// Wrap stored codes (e.g. read from a compressed model). shape_error if the code or parameter count
    /// does not match the shape; config_error for a parameter that does not suit the format or a code
    /// width that does not match it; input_error for a code wider than the format.
    quantized_tensor(const number_format& f, std::vector<std::size_t> shape, std::vector<quant_param> params, bool per_row,
                     std::vector<std::uint8_t> codes)
        : quantized_tensor(f, std::move(shape), std::move(params), per_row) {
        if (!f.byte_codes()) throw config_error(f.name() + " codes are 16-bit; pass a uint16_t vector");
        if (codes.size() != size_) throw shape_error(count_message(codes.size()));
        for (std::uint8_t c : codes) check_code(c);
        codes8_ = std::move(codes);
    }
    quantized_tensor(const number_format& f, std::vector<std::size_t> shape, std::vector<quant_param> params, bool per_row,
                     std::vector<std::uint16_t> codes)
        : quantized_tensor(f, std::move(shape), std::move(params), per_row) {
        if (f.byte_codes()) throw config_error(f.name() + " codes are 8-bit; pass a uint8_t vector");
        if (codes.size() != size_) throw shape_error(count_message(codes.size()));
        for (std::uint16_t c : codes) check_code(c);
        codes16_ = std::move(codes);
    }

    /// Quantize product(shape) floats (C order). NaN anywhere: input_error naming the element (and its
    /// row); infinities saturate (AdaptivFloat, saturating FP8) or stay infinite (fp16, bf16,
    /// non-saturating E5M2; NaN for non-saturating E4M3). Options that do not apply to the format:
    /// config_error.
    static quantized_tensor quantize(const float* x, std::vector<std::size_t> shape, const number_format& f,
                                     const quantize_options& opt = {}) {
        if (opt.exp_bias && !f.is_adaptivfloat())
            throw config_error("an exponent bias applies only to AdaptivFloat formats, not " + f.name() + (f.is_fp8() ? " (give a scale)" : ""));
        if (opt.scale && !f.is_fp8()) throw config_error("a scale factor applies only to e4m3 and e5m2, not " + f.name());
        if (opt.per_row && !f.is_adaptivfloat() && !f.is_fp8())
            throw config_error(f.name() + " has no per-row parameter (per-row quantization is for AdaptivFloat and FP8 formats)");
        if (opt.exp_bias) check_param(f, quant_param{*opt.exp_bias, 1.0f});  // messages name the format
        if (opt.scale) check_param(f, quant_param{0, *opt.scale});

        quantized_tensor q(f, std::move(shape), opt.per_row);
        const std::size_t n = q.size_, regions = opt.per_row ? q.rows_ : 1, len = opt.per_row ? q.cols_ : n;
        for (std::size_t i = 0; i < n; ++i)
            if (std::isnan(x[i]))
                throw input_error("cannot quantize to " + f.name() + ": element " + std::to_string(i) + " (row " +
                                  std::to_string(q.cols_ ? i / q.cols_ : 0) + ", column " + std::to_string(q.cols_ ? i % q.cols_ : 0) +
                                  ") is NaN");

        q.params_.assign(regions, quant_param{});
        if (f.byte_codes()) q.codes8_.resize(n);
        else q.codes16_.resize(n);
        for (std::size_t r = 0; r < regions; ++r) {
            const float* xr = x + r * len;
            quant_param& p = q.params_[r];
            const std::size_t base = r * len;
            switch (f.kind()) {
                case format_kind::adaptivfloat: {
                    const af_format& af = f.af();
                    p.exp_bias = opt.exp_bias ? *opt.exp_bias : af.select_bias(xr, len);
                    const af_codec c = af.codec(p.exp_bias);  // config_error for a given bias out of range
                    if (f.byte_codes())
                        for (std::size_t i = 0; i < len; ++i) q.codes8_[base + i] = std::uint8_t(c.encode(xr[i]));
                    else
                        for (std::size_t i = 0; i < len; ++i) q.codes16_[base + i] = std::uint16_t(c.encode(xr[i]));
                    break;
                }
                case format_kind::e4m3: case format_kind::e5m2:
                    p.scale = opt.scale ? *opt.scale : opt.fp8_amax_scale ? fp8_select_scale(f.fp8(), xr, len) : 1.0f;
                    fp8_encode_scaled(f.fp8(), xr, len, p.scale, q.codes8_.data() + base, opt.overflow);
                    break;
                case format_kind::fp16:
                    for (std::size_t i = 0; i < len; ++i) q.codes16_[base + i] = io::float_to_half(xr[i]);
                    break;
                case format_kind::bf16:
                    for (std::size_t i = 0; i < len; ++i) q.codes16_[base + i] = io::float_to_bfloat16(xr[i]);
                    break;
            }
        }
        return q;
    }
    static quantized_tensor quantize(const std::vector<float>& x, std::vector<std::size_t> shape, const number_format& f,
                                     const quantize_options& opt = {}) {
        if (element_count(shape) != x.size())
            throw shape_error("quantize: " + std::to_string(x.size()) + " values given for shape " + shape_string(shape));
        return quantize(x.data(), std::move(shape), f, opt);
    }

    /// Decode into out[0 .. size()). 8-bit formats go through decode_table, wider ones code by code.
    void dequantize(float* out) const {
        const std::size_t regions = params_.size(), len = per_row_ ? cols_ : size_;
        for (std::size_t r = 0; r < regions; ++r) {
            const std::size_t base = r * len;
            if (format_.byte_codes()) {
                const std::array<float, 256> t = decode_table(format_, params_[r]);
                for (std::size_t i = 0; i < len; ++i) out[base + i] = t[codes8_[base + i]];
            } else if (format_.is_adaptivfloat()) {
                const af_codec c = format_.af().codec(params_[r].exp_bias);
                for (std::size_t i = 0; i < len; ++i) out[base + i] = c.decode_unchecked(codes16_[base + i]);
            } else {
                const bool half = format_.kind() == format_kind::fp16;
                for (std::size_t i = 0; i < len; ++i)
                    out[base + i] = half ? io::half_to_float(codes16_[base + i]) : io::bfloat16_to_float(codes16_[base + i]);
            }
        }
    }
    std::vector<float> dequantize() const {
        std::vector<float> out(size_);
        dequantize(out.data());
        return out;
    }

    const number_format& format() const noexcept { return format_; }
    const std::vector<std::size_t>& shape() const noexcept { return shape_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    bool per_row() const noexcept { return per_row_; }
    /// One parameter (per tensor) or rows() (per row).
    const std::vector<quant_param>& params() const noexcept { return params_; }
    /// The parameter that applies to row r.
    const quant_param& param_of_row(std::size_t r) const {
        if (r >= rows_) throw shape_error("row " + std::to_string(r) + " is out of range (" + std::to_string(rows_) + " rows)");
        return params_[per_row_ ? r : 0];
    }
    /// The codes (config_error if the format's codes have the other width).
    const std::vector<std::uint8_t>& codes8() const {
        if (!format_.byte_codes()) throw config_error(format_.name() + " codes are 16-bit (use codes16)");
        return codes8_;
    }
    const std::vector<std::uint16_t>& codes16() const {
        if (format_.byte_codes()) throw config_error(format_.name() + " codes are 8-bit (use codes8)");
        return codes16_;
    }
    /// Code of element i, whatever its width.
    std::uint16_t code(std::size_t i) const {
        if (i >= size_) throw shape_error("element " + std::to_string(i) + " is out of range (" + std::to_string(size_) + " elements)");
        return format_.byte_codes() ? codes8_[i] : codes16_[i];
    }
    /// Bytes the codes occupy.
    std::size_t code_bytes() const noexcept { return size_ * (format_.byte_codes() ? 1 : 2); }

    /// product(shape), shape_error on overflow; 1 for a 0-d shape.
    static std::size_t element_count(const std::vector<std::size_t>& shape) {
        std::size_t n = 1;
        for (std::size_t d : shape) {
            if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) throw shape_error("shape " + shape_string(shape) + " is too large");
            n *= d;
        }
        return n;
    }
    static std::string shape_string(const std::vector<std::size_t>& shape) {
        std::string s = "[";
        for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
        return s + "]";
    }

private:
    quantized_tensor(const number_format& f, std::vector<std::size_t> shape, bool per_row)
        : format_(f), shape_(std::move(shape)), per_row_(per_row) {
        codes8_.clear();  // the default-constructed scalar's code
        size_ = element_count(shape_);
        cols_ = shape_.empty() ? 1 : shape_.back();
        rows_ = shape_.empty() ? 1 : element_count(std::vector<std::size_t>(shape_.begin(), shape_.end() - 1));
    }
    quantized_tensor(const number_format& f, std::vector<std::size_t> shape, std::vector<quant_param> params, bool per_row)
        : quantized_tensor(f, std::move(shape), per_row) {
        if (per_row && !f.is_adaptivfloat() && !f.is_fp8()) throw config_error(f.name() + " has no per-row parameter");
        const std::size_t want = per_row ? rows_ : 1;
        if (params.size() != want)
            throw shape_error(std::to_string(params.size()) + " parameters given for a " + (per_row ? "per-row" : "per-tensor") + " " +
                              f.name() + " tensor of shape " + shape_string(shape_) + " (needs " + std::to_string(want) + ")");
        for (const quant_param& p : params) check_param(f, p);
        params_ = std::move(params);
    }
    std::string count_message(std::size_t got) const {
        return std::to_string(got) + " codes given for shape " + shape_string(shape_) + " (" + std::to_string(size_) + " elements)";
    }
    void check_code(std::uint32_t c) const {
        if (c >> format_.bits())
            throw input_error("code " + std::to_string(c) + " does not fit in the " + std::to_string(format_.bits()) + " bits of " + format_.name());
    }

    number_format format_;
    std::vector<std::size_t> shape_;
    std::size_t size_ = 1, rows_ = 1, cols_ = 1;
    bool per_row_ = false;
    std::vector<quant_param> params_{quant_param{}};
    std::vector<std::uint8_t> codes8_ = std::vector<std::uint8_t>(1, 0);
    std::vector<std::uint16_t> codes16_;
};

}  // namespace edgebert::numeric
