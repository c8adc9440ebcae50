// SPDX-License-Identifier: Apache-2.0
#pragma once
// Decoding of 8-bit weight codes for the kernels: a number format of at most 8 bits with one parameter per
// tensor or one per output row (numeric/format.hpp), turned into 256-entry tables.
//
// Every code c of row r decodes to value(r, c) == numeric::decode_table(format, param(r))[c], bit for bit.
// To keep tables small and let SIMD decoders use one table for the whole matrix, the per-row case is stored,
// when that is exact, as one base table times a per-row float scale:
//     value(r, c) == base[c] * scale[r]     (one float multiply, checked for every valid code at construction)
// This holds for FP8 (base = the unscaled format, scale = the row's scale: that is how the format decodes)
// and for AdaptivFloat rows whose biases differ by powers of two that stay in float's normal range (all of
// them in practice). Where it does not hold, one table per row is kept. Per-tensor parameters: the base
// table is the tensor's table and every scale is 1 (FP8: the unscaled table and the tensor's scale).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../numeric/format.hpp"

namespace edgebert::sparse {

class code_tables {
public:
    code_tables() = default;

    /// Tables for `rows` output rows: params has 1 entry (per tensor) or `rows` entries (per row).
    /// config_error for a format wider than 8 bits or a parameter that does not suit it; shape_error for a
    /// parameter count that is neither.
    code_tables(const numeric::number_format& f, std::vector<numeric::quant_param> params, std::size_t rows)
        : format_(f), params_(std::move(params)), rows_(rows) {
        if (f.bits() > 8)
            throw config_error("8-bit weight storage needs a format of at most 8 bits; " + f.name() + " has " +
                               std::to_string(f.bits()));
        if (params_.size() != 1 && params_.size() != rows)
            throw shape_error(std::to_string(params_.size()) + " " + f.name() + " parameters given for " + std::to_string(rows) +
                              " rows (needs 1 per tensor or 1 per row)");
        for (const auto& p : params_) numeric::check_param(f, p);
        per_row_ = params_.size() != 1;  // one row with one parameter: per tensor either way
        build();
    }

    /// The tables of a quantized [rows x cols] tensor (8-bit codes).
    static code_tables of(const numeric::quantized_tensor& q) {
        std::vector<numeric::quant_param> p = q.params();
        return code_tables(q.format(), std::move(p), q.rows());
    }

    bool empty() const noexcept { return base_.empty(); }
    const numeric::number_format& format() const noexcept { return format_; }
    const std::vector<numeric::quant_param>& params() const noexcept { return params_; }
    bool per_row() const noexcept { return per_row_; }
    std::size_t rows() const noexcept { return rows_; }
    /// Codes at or above this are invalid (2^bits).
    std::uint32_t code_limit() const noexcept { return 1u << format_.bits(); }
    /// True when every row shares base() and differs only by row_scale() (the SIMD-friendly form).
    bool shared_base() const noexcept { return per_row_tables_.empty(); }
    /// The shared table (256 floats); only meaningful when shared_base().
    const float* base() const noexcept { return base_.data(); }
    /// Row r's table and scale: value(r, c) == table(r)[c] * scale(r).
    const float* table(std::size_t r) const noexcept {
        return per_row_tables_.empty() ? base_.data() : per_row_tables_.data() + 256 * r;
    }
    float scale(std::size_t r) const noexcept { return scales_.empty() ? 1.0f : scales_[per_row_ ? r : 0]; }
    /// Per-row scales (rows() floats), or nullptr when every scale is 1.
    const float* scales() const noexcept { return unit_scales_ ? nullptr : scales_.data(); }
    /// Decoded value of code c in row r (c must be valid).
    float value(std::size_t r, std::uint8_t c) const noexcept { return table(r)[c] * scale(r); }

    /// Bytes of the format's parameters as a compressed file stores them: 4 per row when per row (F32
    /// `.__row_params`), 0 per tensor (the single parameter lives in the file's JSON metadata).
    std::size_t parameter_bytes() const noexcept { return per_row_ ? rows_ * sizeof(float) : 0; }
    /// Bytes held in memory for decoding (tables and scales).
    std::size_t memory_bytes() const noexcept {
        return (base_.size() + per_row_tables_.size() + scales_.size()) * sizeof(float) + params_.size() * sizeof(numeric::quant_param);
    }

    /// format_error naming `what` and the position if a code is >= 2^bits.
    void check_codes(const std::uint8_t* codes, std::size_t n, const std::string& what) const {
        const std::uint32_t lim = code_limit();
        if (lim >= 256) return;
        for (std::size_t i = 0; i < n; ++i)
            if (codes[i] >= lim)
                throw format_error(what + ": code " + std::to_string(codes[i]) + " at position " + std::to_string(i) +
                                   " does not fit in the " + std::to_string(format_.bits()) + " bits of " + format_.name());
    }

private:
    static bool same_bits(float a, float b) noexcept {
        if (std::isnan(a) && std::isnan(b)) return true;
        return std::memcmp(&a, &b, sizeof a) == 0;
    }

    void build() {
        const std::uint32_t lim = code_limit();
        const std::size_t nparams = params_.size();
        unit_scales_ = true;
        if (format_.is_fp8()) {  // fp8 decodes as fp8_decode(c) * scale: exactly base * scale
            const auto t = numeric::decode_table(format_, numeric::quant_param::of_scale(1.0f));
            base_.assign(t.begin(), t.end());
            scales_.resize(nparams);
            for (std::size_t r = 0; r < nparams; ++r) {
                scales_[r] = params_[r].scale;
                unit_scales_ = unit_scales_ && scales_[r] == 1.0f;
            }
            return;
        }
        const auto t0 = numeric::decode_table(format_, params_[0]);
        base_.assign(t0.begin(), t0.end());
        scales_.assign(nparams, 1.0f);
        if (nparams == 1) return;
        // Per row: find a scale per row that reproduces its table from row 0's, else keep every table.
        std::uint32_t probe = 0;
        for (std::uint32_t c = 0; c < lim; ++c)
            if (std::isfinite(t0[c]) && t0[c] != 0.0f) {
                probe = c;
                break;
            }
        bool ok = probe != 0 || (lim > 0 && std::isfinite(t0[0]) && t0[0] != 0.0f);
        for (std::size_t r = 0; r < nparams && ok; ++r) {
            if (params_[r] == params_[0]) continue;
            const auto tr = numeric::decode_table(format_, params_[r]);
            const float s = tr[probe] / t0[probe];
            for (std::uint32_t c = 0; c < lim && ok; ++c) ok = same_bits(t0[c] * s, tr[c]);
            if (ok) {
                scales_[r] = s;
                unit_scales_ = unit_scales_ && s == 1.0f;
            }
        }
        if (ok) return;
        per_row_tables_.resize(256 * nparams);
        for (std::size_t r = 0; r < nparams; ++r) {
            const auto tr = numeric::decode_table(format_, params_[r]);
            std::memcpy(per_row_tables_.data() + 256 * r, tr.data(), 256 * sizeof(float));
        }
        scales_.assign(nparams, 1.0f);
        unit_scales_ = true;
    }

    numeric::number_format format_;
    std::vector<numeric::quant_param> params_;
    std::size_t rows_ = 0;
    bool per_row_ = false, unit_scales_ = true;
    std::vector<float> base_, per_row_tables_, scales_;
};

}  // namespace edgebert::sparse
