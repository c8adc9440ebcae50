// SPDX-License-Identifier: Apache-2.0
#pragma once
// `edgebert quantize`: encode a .npy array to a number format and write the decoded float32 values, so
// the effect of a format on real weights can be inspected (or diffed against the Python references).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <edgebert/core/parse.hpp>
#include <edgebert/io/npy.hpp>
#include <edgebert/numeric/format.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"

namespace edgebert_cli {

inline const char* const quantize_help = R"(usage: edgebert quantize --format F --input IN.npy --out OUT.npy [--exp-bias B] [--per-row]
                         [--scale amax|none|S] [--non-saturating]

  Encodes an array to format F and writes the decoded values as float32 (C order, the input's shape).
  Prints one JSON line: format, granularity, the exponent bias or scale chosen (one per row with
  --per-row), input_amax, format_max and format_min_positive (largest and smallest positive values at
  that parameter), max_abs_error, mean_abs_error, rms_error, saturated (|x| above the
  format's largest value), flushed_to_zero (nonzero inputs that decode to zero), infinite_inputs and
  nonfinite_outputs (finite inputs decoding to inf/NaN; left out of the error figures).

  --format F        af<N>e<E> (AdaptivFloat, 2020 reference algorithm; N 4..16, E 1..7 and < N),
                    af8 (= af8e3), af<N>e<E>-2022 (IEEE-like 2022 variant), af8-hw (EdgeBERT hardware:
                    bias register 0..7, offset -10, truncation), e4m3, e5m2 (OCP FP8), fp16, bf16
  --input IN.npy    numeric array (float32 expected; other numeric dtypes are converted to float)
  --out OUT.npy     written as '<f4'
  --exp-bias B      AdaptivFloat only: this exponent bias instead of the one chosen from the largest
                    magnitude (the Python references' `bias` argument; the hardware's register value)
  --per-row         one bias / scale per row (rows: all dimensions but the last) instead of per tensor
  --scale S         FP8 only: amax (default: scale = amax / format max), none (the bare format, scale 1)
                    or a positive number; decoded value = format value x scale
  --non-saturating  FP8 only: values beyond the max become inf (e5m2) or NaN (e4m3) instead of +-max
  NaN in the input is an error. Infinities saturate (AdaptivFloat, FP8) or stay infinite (fp16, bf16).
)";

inline int cmd_quantize(int argc, char** argv) {
    namespace nm = edgebert::numeric;
    const args a(argc, argv, 2, {"format", "input", "out", "exp-bias", "scale"}, {"per-row", "non-saturating"});
    if (a.help()) {
        std::cout << quantize_help;
        return 0;
    }
    const std::string format_name = a.get("format"), in_path = a.get("input"), out_path = a.get("out");
    const nm::number_format fmt = nm::parse_format(format_name);

    nm::quantize_options opt;
    opt.per_row = a.has("per-row");
    if (a.has("exp-bias")) {
        if (!fmt.is_adaptivfloat())
            throw usage_error("--exp-bias applies to AdaptivFloat formats, not " + fmt.name() + (fmt.is_fp8() ? " (use --scale)" : ""));
        const long long b = a.integer("exp-bias", 0, std::numeric_limits<int>::min());
        if (b > std::numeric_limits<int>::max()) throw usage_error("--exp-bias " + a.get("exp-bias") + " is out of range");
        opt.exp_bias = int(b);
    }
    if (a.has("scale")) {
        if (!fmt.is_fp8()) throw usage_error("--scale applies to e4m3 and e5m2, not " + fmt.name());
        const std::string s = a.get("scale");
        if (s == "none") {
            opt.fp8_amax_scale = false;
        } else if (s != "amax") {
            const std::optional<double> parsed = edgebert::to_number(s);
            const float v = parsed ? float(*parsed) : 0.0f;
            if (!parsed || !(v > 0.0f) || !std::isfinite(v))
                throw usage_error("--scale expects amax, none or a positive number, got '" + s + "'");
            opt.scale = v;
        }
    }
    if (a.has("non-saturating")) {
        if (!fmt.is_fp8()) throw usage_error("--non-saturating applies to e4m3 and e5m2, not " + fmt.name());
        opt.overflow = nm::fp8_overflow::non_saturating;
    }
    if (opt.per_row && !fmt.is_adaptivfloat() && !fmt.is_fp8())
        throw usage_error("--per-row needs a format with a per-row parameter (AdaptivFloat or FP8), not " + fmt.name());

    const edgebert::io::npy_array in = edgebert::io::read_npy(in_path);
    const nm::quantized_tensor q = nm::quantized_tensor::quantize(in.data, in.shape, fmt, opt);
    const std::vector<float> out = q.dequantize();
    edgebert::io::write_npy(out_path, out.data(), in.shape);

    // Statistics over the finite inputs; each element judged against its own row's parameter.
    double max_err = 0, sum_err = 0, sum_sq = 0, amax = 0;
    std::size_t counted = 0, saturated = 0, flushed = 0, infinite = 0, nonfinite_out = 0;
    const std::size_t len = q.per_row() ? q.cols() : q.size();
    std::vector<double> row_max(q.params().size());
    for (std::size_t r = 0; r < row_max.size(); ++r) row_max[r] = nm::max_value(fmt, q.params()[r]);
    for (std::size_t i = 0; i < in.data.size(); ++i) {
        const double x = in.data[i], y = out[i];
        const double top = row_max[len ? i / len : 0];
        if (std::fabs(x) > top) ++saturated;
        if (std::isinf(x)) {
            ++infinite;
            continue;
        }
        amax = std::max(amax, std::fabs(x));
        if (x != 0 && y == 0) ++flushed;
        if (!std::isfinite(y)) {
            ++nonfinite_out;
            continue;
        }
        const double e = std::fabs(y - x);
        max_err = std::max(max_err, e);
        sum_err += e;
        sum_sq += e * e;
        ++counted;
    }

    nlohmann::ordered_json j;
    j["format"] = fmt.name();
    j["input"] = in_path;
    j["output"] = out_path;
    j["shape"] = in.shape;
    j["elements"] = in.data.size();
    j["granularity"] = q.per_row() ? "per_row" : "per_tensor";
    if (fmt.uses_exp_bias() || fmt.uses_scale()) {
        const char* key = fmt.uses_exp_bias() ? "exp_bias" : "scale";
        nlohmann::ordered_json values = nlohmann::ordered_json::array();
        for (const nm::quant_param& p : q.params()) values.push_back(fmt.uses_exp_bias() ? nlohmann::ordered_json(p.exp_bias) : nlohmann::ordered_json(p.scale));
        j[key] = q.per_row() ? values : values[0];
        j[std::string(key) + "_source"] = (opt.exp_bias || opt.scale) ? "given" : fmt.uses_scale() && !opt.fp8_amax_scale ? "none" : "selected";
    }
    if (fmt.is_fp8()) j["overflow"] = opt.overflow == nm::fp8_overflow::saturate ? "saturate" : "non_saturating";
    j["input_amax"] = amax;
    std::vector<double> row_min(q.params().size());
    for (std::size_t r = 0; r < row_min.size(); ++r) row_min[r] = nm::min_positive_value(fmt, q.params()[r]);
    if (q.per_row()) {
        j["format_max"] = row_max;
        j["format_min_positive"] = row_min;
    } else {
        j["format_max"] = row_max[0];
        j["format_min_positive"] = row_min[0];
    }
    j["max_abs_error"] = max_err;
    j["mean_abs_error"] = counted ? sum_err / double(counted) : 0.0;
    j["rms_error"] = counted ? std::sqrt(sum_sq / double(counted)) : 0.0;
    j["saturated"] = saturated;
    j["flushed_to_zero"] = flushed;
    j["infinite_inputs"] = infinite;
    j["nonfinite_outputs"] = nonfinite_out;
    std::cout << j.dump() << "\n";
    return 0;
}

}  // namespace edgebert_cli
