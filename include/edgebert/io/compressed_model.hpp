// SPDX-License-Identifier: Apache-2.0
#pragma once
// The compressed model file: one safetensors file (Python's safetensors opens it) holding an ALBERT model whose
// matrices are pruned and stored in a number format, the rest in F32. Layout (docs/file_formats.md):
//   __metadata__  "format": "edgebert-compressed", "edgebert_version", "config" (the HF config.json),
//                 "tensors" (JSON: per compressed tensor its format, shape, storage, parameters),
//                 "golden" (JSON: input ids and the logits the compressed model gave at compression time)
//   dense storage     NAME            U8 [rows, cols] codes (U16 for formats wider than 8 bits)
//   bit-mask storage  NAME            U8/U16 [nnz] codes of the nonzero elements, in C order
//                     NAME.__mask     U8 [ceil(rows*cols/8)] one bit per element, LSB first: EdgeBERT's encoding
//                                     (one n-bit mask word per n-element vector, nonzeros packed) for any n
//                                     dividing the row length, laid end to end
//   per-row parameters NAME.__row_params F32 [rows] (exponent biases, or FP8 scales)
//   other tensors     F32, HF names
// Reading decodes every matrix back to fp32 (a weight_source), so the model code is the same for both files.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/version.hpp"
#include "../detail/read_file.hpp"
#include "../model/albert_config.hpp"
#include "../numeric/format.hpp"
#include "safetensors.hpp"
#include "weight_source.hpp"

namespace edgebert::io {

struct compress_options {
    std::string format = "af8e3";  ///< a numeric::parse_format name
    bool per_row = false;          ///< one exponent bias (or scale) per output row
    double encoder_sparsity = 0;   ///< magnitude pruning of every encoder matrix (fraction of zeros)
    double embedding_sparsity = 0;  ///< magnitude pruning of the word embeddings (EdgeBERT: 0.6)
    bool bitmask = true;           ///< store matrices as mask + nonzero codes where that is smaller (else dense codes)
    bool compress_embeddings = true;
    bool compress_heads = true;    ///< pooler, classifier, off-ramps
};

/// What happened to one tensor.
struct compressed_tensor_info {
    std::string name, format, storage;  ///< storage: "dense" or "bitmask"
    std::vector<std::size_t> shape;
    std::size_t nonzeros = 0, bytes = 0;  ///< bytes in the file (codes + mask + row parameters)
};

struct compress_report {
    std::size_t fp32_bytes = 0;     ///< all tensors as F32
    std::size_t tensor_bytes = 0;   ///< all tensors as stored
    std::size_t file_bytes = 0;     ///< the file, header included
    std::vector<compressed_tensor_info> tensors;
};

namespace detail {

/// Zero the `fraction` of entries with the smallest magnitude (exactly floor(fraction * n), ties by position).
inline void prune_by_magnitude(std::vector<float>& w, double fraction) {
    if (!(fraction >= 0 && fraction < 1)) throw config_error("sparsity " + std::to_string(fraction) + " must be in [0, 1)");
    const std::size_t k = std::size_t(std::floor(fraction * double(w.size())));
    if (k == 0) return;
    std::vector<std::uint32_t> idx(w.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = std::uint32_t(i);
    std::nth_element(idx.begin(), idx.begin() + std::ptrdiff_t(k - 1), idx.end(), [&](std::uint32_t a, std::uint32_t b) {
        const float x = std::abs(w[a]), y = std::abs(w[b]);
        return x < y || (x == y && a < b);
    });
    for (std::size_t i = 0; i < k; ++i) w[idx[i]] = 0.f;
}

inline bool is_encoder_matrix(const std::string& n) {
    return n.find("encoder.albert_layer_groups.") != std::string::npos && n.size() > 7 &&
           n.compare(n.size() - 7, 7, ".weight") == 0 && n.find("LayerNorm") == std::string::npos &&
           n.find("layer_norm") == std::string::npos;
}
inline bool is_embedding_table(const std::string& n) { return n.find("embeddings.") != std::string::npos && n.find("LayerNorm") == std::string::npos; }
inline bool is_head_matrix(const std::string& n) {
    const bool weight = n.size() > 7 && n.compare(n.size() - 7, 7, ".weight") == 0;
    return weight && (n.find("pooler") != std::string::npos || n.rfind("classifier", 0) == 0 ||
                      n.find("highway") != std::string::npos || n.find("embedding_hidden_mapping_in") != std::string::npos);
}

}  // namespace detail

/// Compress every tensor of `source` (HF names, config `cfg`) into a compressed model file at `path`.
/// golden_ids: sentences run through the compressed model at compression time; their logits are stored so a
/// reader can check the file (run_golden computes logits for a weight source; pass nullptr for none).
template <class RunGolden>
compress_report write_compressed_model(const std::string& path, const model::albert_config& cfg, const weight_source& source,
                                       const compress_options& opt, const std::vector<std::vector<std::int64_t>>& golden_ids,
                                       RunGolden&& run_golden) {
    const numeric::number_format fmt = numeric::parse_format(opt.format);
    if (opt.per_row && !fmt.is_adaptivfloat() && !fmt.is_fp8())
        throw config_error(fmt.name() + " has no per-row parameter");
    compress_report report;
    std::map<std::string, memory_source::tensor> decoded;  // what the compressed model computes with
    nlohmann::json infos = nlohmann::json::object();
    safetensors_writer w;
    for (const std::string& name : source.names()) {
        const std::vector<std::size_t>& shape = *source.shape(name);
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        const std::size_t rows = shape.size() >= 2 ? shape[0] : 1, cols = rows ? n / std::max<std::size_t>(rows, 1) : 0;
        const const_matrix m = source.values(name, rows, cols);
        std::vector<float> x(m.data(), m.data() + n);
        report.fp32_bytes += n * sizeof(float);
        const bool encoder = detail::is_encoder_matrix(name);
        const bool embedding = opt.compress_embeddings && detail::is_embedding_table(name);
        const bool head = opt.compress_heads && detail::is_head_matrix(name);
        if (shape.size() != 2 || !(encoder || embedding || head)) {
            w.add_f32(name, shape, x.data());
            report.tensor_bytes += n * sizeof(float);
            decoded[name] = {shape, std::move(x)};
            continue;
        }
        if (encoder) detail::prune_by_magnitude(x, opt.encoder_sparsity);
        if (embedding && name.find("word_embeddings") != std::string::npos) detail::prune_by_magnitude(x, opt.embedding_sparsity);

        numeric::quantize_options qo;
        qo.per_row = opt.per_row;
        const auto q = numeric::quantized_tensor::quantize(x.data(), shape, fmt, qo);
        std::vector<float> back = q.dequantize();
        compressed_tensor_info info{name, fmt.name(), "dense", shape, 0, 0};
        for (float v : back) info.nonzeros += v != 0.f;
        const std::size_t code_size = fmt.byte_codes() ? 1 : 2;
        // the bit mask pays for itself once fewer than 7/8 (8-bit codes) of the elements are nonzero
        const bool sparse = opt.bitmask && (n + 7) / 8 + info.nonzeros * code_size < n * code_size;
        if (sparse) {
            info.storage = "bitmask";
            std::vector<std::uint8_t> mask((n + 7) / 8, 0);
            std::vector<std::uint8_t> codes;
            codes.reserve(info.nonzeros * code_size);
            for (std::size_t i = 0; i < n; ++i) {
                if (back[i] == 0.f) continue;
                mask[i / 8] = std::uint8_t(mask[i / 8] | (1u << (i % 8)));
                const std::uint16_t c = q.code(i);
                codes.push_back(std::uint8_t(c & 0xFF));
                if (code_size == 2) codes.push_back(std::uint8_t(c >> 8));
            }
            w.add(name, code_size == 1 ? dtype::U8 : dtype::U16, {info.nonzeros}, codes.data(), codes.size());
            w.add(name + ".__mask", dtype::U8, {mask.size()}, mask.data(), mask.size());
            info.bytes = codes.size() + mask.size();
        } else {
            std::vector<std::uint8_t> codes(n * code_size);
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint16_t c = q.code(i);
                codes[i * code_size] = std::uint8_t(c & 0xFF);
                if (code_size == 2) codes[i * code_size + 1] = std::uint8_t(c >> 8);
            }
            w.add(name, code_size == 1 ? dtype::U8 : dtype::U16, shape, codes.data(), codes.size());
            info.bytes = codes.size();
        }
        nlohmann::json j{{"format", fmt.name()}, {"shape", shape}, {"storage", info.storage}, {"nonzeros", info.nonzeros}};
        if (opt.per_row) {
            std::vector<float> params;
            for (const auto& p : q.params()) params.push_back(fmt.is_fp8() ? p.scale : float(p.exp_bias));
            w.add_f32(name + ".__row_params", {params.size()}, params.data());
            info.bytes += params.size() * sizeof(float);
            j["per_row"] = true;
        } else if (fmt.is_adaptivfloat()) {
            j["exp_bias"] = q.params()[0].exp_bias;
        } else if (fmt.is_fp8()) {
            j["scale"] = q.params()[0].scale;
        }
        infos[name] = j;
        report.tensor_bytes += info.bytes;
        report.tensors.push_back(info);
        decoded[name] = {shape, std::move(back)};
    }
    w.set_metadata("format", "edgebert-compressed");
    w.set_metadata("edgebert_version", std::to_string(version.major) + "." + std::to_string(version.minor) + "." +
                                           std::to_string(version.patch));
    w.set_metadata("config", cfg.to_json().dump());
    w.set_metadata("tensors", infos.dump());
    if (!golden_ids.empty()) {
        const memory_source compressed(std::move(decoded), path);
        const std::vector<std::vector<float>> logits = run_golden(compressed, golden_ids);
        w.set_metadata("golden", nlohmann::json{{"input_ids", golden_ids}, {"logits", logits}}.dump());
    }
    w.write(path);
    report.file_bytes = safetensors_file(path).file_size();
    return report;
}

/// A compressed model file, validated and decoded to fp32 tensors with HF names.
class compressed_model {
public:
    static bool is_compressed(const safetensors_file& f) {
        auto it = f.metadata().find("format");
        return it != f.metadata().end() && it->second == "edgebert-compressed";
    }

    static compressed_model open(const std::string& path) { return from_file(safetensors_file(path), path); }

    /// A validated safetensors file (mapped or parsed from memory) read as a compressed model; `path` names it
    /// in errors.
    static compressed_model from_file(const safetensors_file& f, const std::string& path) {
        if (!is_compressed(f)) throw format_error(path + ": not an edgebert compressed model (no \"format\": \"edgebert-compressed\" metadata)");
        compressed_model m;
        auto meta = [&](const char* key) -> const std::string& {
            auto it = f.metadata().find(key);
            if (it == f.metadata().end()) throw format_error(path + ": metadata has no \"" + key + "\"");
            return it->second;
        };
        auto parse = [&](const char* key) {
            return edgebert::detail::parse_json_text<format_error>(meta(key), path + ": metadata \"" + key + "\"");
        };
        m.config_ = model::albert_config::from_json(parse("config"), path + " (metadata \"config\")");
        const nlohmann::json infos = parse("tensors");
        if (!infos.is_object()) throw format_error(path + ": metadata \"tensors\" must be an object");
        std::map<std::string, memory_source::tensor> out;
        for (const tensor_info& t : f.tensors()) {
            const std::string& n = t.name;
            if (ends_with(n, ".__mask") || ends_with(n, ".__row_params")) {
                const std::string base = n.substr(0, n.rfind(".__"));
                if (!infos.contains(base)) throw unexpected_tensor_error(path + ": '" + n + "' belongs to no compressed tensor");
                continue;
            }
            if (infos.contains(n)) {
                out[n] = decode(f, t, infos[n], path, m.infos_);
                continue;
            }
            if (t.type != dtype::F32 && t.type != dtype::F16 && t.type != dtype::BF16)
                throw format_error(path + ": tensor '" + n + "' is " + to_string(t.type) + " but has no entry in metadata \"tensors\"");
            const safetensors_source src(std::make_shared<const safetensors_file>(f));
            const std::size_t rows = t.shape.size() >= 2 ? t.shape[0] : 1, cols = rows ? t.numel() / std::max<std::size_t>(rows, 1) : 0;
            const const_matrix v = src.values(n, rows, cols);
            out[n] = {t.shape, std::vector<float>(v.data(), v.data() + t.numel())};
        }
        for (auto it = infos.begin(); it != infos.end(); ++it)
            if (!f.find(it.key())) throw missing_tensor_error(path + ": metadata lists '" + it.key() + "' but the file has no such tensor");
        m.source_ = std::make_shared<memory_source>(std::move(out), path);
        auto g = f.metadata().find("golden");
        if (g != f.metadata().end()) {
            const nlohmann::json j = parse("golden");
            try {
                m.golden_ids_ = j.at("input_ids").get<std::vector<std::vector<std::int64_t>>>();
                m.golden_logits_ = j.at("logits").get<std::vector<std::vector<float>>>();
            } catch (const nlohmann::json::exception& e) {
                throw format_error(path + ": metadata \"golden\" is malformed: " + e.what());
            }
            if (m.golden_ids_.size() != m.golden_logits_.size())
                throw format_error(path + ": metadata \"golden\" has " + std::to_string(m.golden_ids_.size()) + " inputs but " +
                                   std::to_string(m.golden_logits_.size()) + " outputs");
        }
        m.path_ = path;
        m.file_bytes_ = f.file_size();
        return m;
    }

    const model::albert_config& config() const noexcept { return config_; }
    const weight_source& weights() const noexcept { return *source_; }
    std::shared_ptr<const memory_source> shared_weights() const noexcept { return source_; }
    const std::vector<compressed_tensor_info>& tensors() const noexcept { return infos_; }
    std::size_t file_bytes() const noexcept { return file_bytes_; }
    const std::vector<std::vector<std::int64_t>>& golden_inputs() const noexcept { return golden_ids_; }
    const std::vector<std::vector<float>>& golden_logits() const noexcept { return golden_logits_; }

    /// Compare the logits a model computes for the golden inputs with the stored ones (|diff| <= atol +
    /// rtol * |stored|): format_error naming the sentence and label otherwise, or if the file has no golden data.
    template <class RunLogits>
    void check_golden(RunLogits&& run, double atol = 1e-4, double rtol = 1e-4) const {
        if (golden_ids_.empty()) throw format_error(path_ + ": has no golden inputs and outputs to check");
        const std::vector<std::vector<float>> got = run(golden_ids_);
        for (std::size_t i = 0; i < golden_ids_.size(); ++i) {
            if (got.at(i).size() != golden_logits_[i].size())
                throw format_error(path_ + ": golden sentence " + std::to_string(i) + " gives " + std::to_string(got[i].size()) +
                                   " logits, the file stores " + std::to_string(golden_logits_[i].size()));
            for (std::size_t c = 0; c < got[i].size(); ++c) {
                const double want = golden_logits_[i][c], diff = std::abs(double(got[i][c]) - want);
                if (!(diff <= atol + rtol * std::abs(want)))
                    throw format_error(path_ + ": golden check failed: sentence " + std::to_string(i) + " label " + std::to_string(c) +
                                       " gives " + std::to_string(got[i][c]) + ", the file stores " + std::to_string(want));
            }
        }
    }

private:
    static bool ends_with(const std::string& s, const char* suffix) {
        const std::size_t n = std::char_traits<char>::length(suffix);
        return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
    }

    static memory_source::tensor decode(const safetensors_file& f, const tensor_info& t, const nlohmann::json& j,
                                        const std::string& path, std::vector<compressed_tensor_info>& infos) {
        const std::string& n = t.name;
        auto fail = [&](const std::string& why) { return format_error(path + ": compressed tensor '" + n + "': " + why); };
        numeric::number_format fmt;
        std::vector<std::size_t> shape;
        std::string storage;
        try {
            fmt = numeric::parse_format(j.at("format").get<std::string>());
            shape = j.at("shape").get<std::vector<std::size_t>>();
            storage = j.at("storage").get<std::string>();
        } catch (const nlohmann::json::exception& e) {
            throw fail(std::string("metadata entry is malformed: ") + e.what());
        } catch (const config_error& e) {
            throw fail(e.what());
        }
        if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0) throw fail("shape must be [rows, cols] with both positive");
        if (shape[0] > (std::size_t(1) << 32) || shape[1] > (std::size_t(1) << 32)) throw fail("shape is too large");
        const std::size_t rows = shape[0], cols = shape[1], numel = rows * cols;
        const dtype want = fmt.byte_codes() ? dtype::U8 : dtype::U16;
        if (t.type != want) throw fail(std::string("codes are ") + to_string(t.type) + ", " + fmt.name() + " needs " + to_string(want));
        const std::size_t code_size = fmt.byte_codes() ? 1 : 2;
        const std::uint8_t* raw = reinterpret_cast<const std::uint8_t*>(f.data(t));
        auto code_at = [&](std::size_t i) -> std::uint16_t {
            return code_size == 1 ? raw[i] : std::uint16_t(raw[2 * i] | (raw[2 * i + 1] << 8));
        };
        // parameters
        const bool per_row = j.value("per_row", false);
        std::vector<numeric::quant_param> params;
        try {
            if (per_row) {
                const tensor_info* p = f.find(n + ".__row_params");
                if (!p) throw fail("per_row is set but '" + n + ".__row_params' is missing");
                if (p->type != dtype::F32 || p->shape != std::vector<std::size_t>{rows}) throw fail("'.__row_params' must be F32 [" + std::to_string(rows) + "]");
                const safetensors_source src(std::make_shared<const safetensors_file>(f));
                const const_matrix v = src.values(n + ".__row_params", 1, rows);
                for (std::size_t r = 0; r < rows; ++r) {
                    const float x = v.data()[r];
                    if (fmt.is_fp8()) params.push_back(numeric::quant_param::of_scale(x));
                    else {
                        if (!(x == std::floor(x)) || std::abs(x) > 1e6f) throw fail("row " + std::to_string(r) + " exponent bias " + std::to_string(x) + " is not an integer");
                        params.push_back(numeric::quant_param::of_bias(int(x)));
                    }
                }
            } else if (fmt.is_adaptivfloat()) {
                params.push_back(numeric::quant_param::of_bias(j.at("exp_bias").get<int>()));
            } else if (fmt.is_fp8()) {
                params.push_back(numeric::quant_param::of_scale(j.at("scale").get<float>()));
            } else {
                params.push_back({});
            }
            for (const auto& p : params) numeric::check_param(fmt, p);
        } catch (const nlohmann::json::exception& e) {
            throw fail(std::string("metadata entry is malformed: ") + e.what());
        } catch (const config_error& e) {
            throw fail(e.what());
        }
        // codes, dense or expanded from the bit mask
        std::vector<std::uint16_t> codes(numel, 0);
        std::vector<std::uint8_t> present(numel, 1);
        std::size_t nonzeros = numel, bytes = t.end - t.begin;
        if (storage == "dense") {
            if (t.shape != shape) throw fail("dense codes have shape " + shape_to_string(t.shape) + ", metadata says " + shape_to_string(shape));
            for (std::size_t i = 0; i < numel; ++i) codes[i] = code_at(i);
        } else if (storage == "bitmask") {
            const tensor_info* mt = f.find(n + ".__mask");
            if (!mt) throw fail("bitmask storage but '" + n + ".__mask' is missing");
            if (mt->type != dtype::U8 || mt->shape != std::vector<std::size_t>{(numel + 7) / 8})
                throw fail("'.__mask' must be U8 [" + std::to_string((numel + 7) / 8) + "] for " + std::to_string(numel) + " elements");
            const std::uint8_t* mask = reinterpret_cast<const std::uint8_t*>(f.data(*mt));
            std::size_t set = 0;
            for (std::size_t i = 0; i < numel; ++i) set += (mask[i / 8] >> (i % 8)) & 1u;
            for (std::size_t i = numel; i < mask_bits(numel); ++i)
                if ((mask[i / 8] >> (i % 8)) & 1u) throw fail("mask has bits set past the last element");
            if (t.shape.size() != 1 || t.shape[0] != set)
                throw fail("mask has " + std::to_string(set) + " bits set but there are " + std::to_string(t.numel()) + " codes");
            std::size_t k = 0;
            for (std::size_t i = 0; i < numel; ++i) {
                present[i] = (mask[i / 8] >> (i % 8)) & 1u;
                if (present[i]) codes[i] = code_at(k++);
            }
            nonzeros = set;
            bytes += mt->end - mt->begin;
        } else {
            throw fail("unknown storage \"" + storage + "\" (dense, bitmask)");
        }
        std::vector<float> out(numel, 0.f);
        for (std::size_t r = 0; r < rows; ++r) {
            const numeric::quant_param& p = params[per_row ? r : 0];
            if (fmt.byte_codes()) {
                const std::array<float, 256> table = numeric::decode_table(fmt, p);
                for (std::size_t c = 0; c < cols; ++c) {
                    const std::size_t i = r * cols + c;
                    if (present[i]) {
                        if (codes[i] >> fmt.bits()) throw fail("code " + std::to_string(codes[i]) + " at element " + std::to_string(i) + " does not fit in " + std::to_string(fmt.bits()) + " bits");
                        out[i] = table[codes[i]];
                    }
                }
            } else {
                for (std::size_t c = 0; c < cols; ++c) {
                    const std::size_t i = r * cols + c;
                    if (!present[i]) continue;
                    try {
                        out[i] = numeric::decode(fmt, codes[i], p);
                    } catch (const error& e) {
                        throw fail(std::string("element ") + std::to_string(i) + ": " + e.what());
                    }
                }
            }
        }
        if (per_row) bytes += rows * sizeof(float);
        infos.push_back({n, fmt.name(), storage, shape, nonzeros, bytes});
        return {shape, std::move(out)};
    }
    static std::size_t mask_bits(std::size_t numel) { return (numel + 7) / 8 * 8; }

    model::albert_config config_;
    std::shared_ptr<memory_source> source_;
    std::vector<compressed_tensor_info> infos_;
    std::vector<std::vector<std::int64_t>> golden_ids_;
    std::vector<std::vector<float>> golden_logits_;
    std::string path_;
    std::size_t file_bytes_ = 0;
};

}  // namespace edgebert::io
