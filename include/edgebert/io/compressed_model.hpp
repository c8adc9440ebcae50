// SPDX-License-Identifier: Apache-2.0
#pragma once
// The compressed model file: one safetensors file (Python's safetensors opens it) holding an ALBERT model whose
// matrices are pruned and stored in a number format, the rest in F32. Layout (docs/file_formats.md):
//   __metadata__  "format": "edgebert-compressed", "edgebert_version", "config" (the HF config.json),
//                 "tensors" (JSON: per compressed tensor its format, shape, storage, parameters),
//                 "golden" (JSON: input ids and the logits the compressed model gave at compression time)
//   matrices          dense codes, EdgeBERT bit mask + nonzero codes, or R x C blocks (io/compressed_matrix.hpp)
//   other tensors     F32, HF names
// Reading keeps the matrices as stored: a model built from the file computes on the 8-bit codes directly
// (model/weight_storage.hpp) or decodes them to fp32 (values()), so the model code is the same for both files.

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
#include "../sparse/block_sparse_matrix.hpp"
#include "compressed_matrix.hpp"
#include "safetensors.hpp"
#include "weight_source.hpp"

namespace edgebert::io {

struct compress_options {
    std::string format = "af8e3";  ///< a numeric::parse_format name
    bool per_row = false;          ///< one exponent bias (or scale) per output row
    double encoder_sparsity = 0;   ///< magnitude pruning of every encoder matrix (fraction of zeros)
    double embedding_sparsity = 0;  ///< magnitude pruning of the word embeddings (EdgeBERT: 0.6)
    bool bitmask = true;           ///< store matrices as mask + nonzero codes where that is smaller (else dense codes)
    /// Block-sparse encoder matrices: R x C blocks (0 x 0: off). The encoder is then pruned by blocks (the
    /// encoder_sparsity fraction of blocks with the smallest L1 norm) and stored as block mask + blocks.
    std::size_t block_rows = 0, block_cols = 0;
    bool compress_embeddings = true;
    bool compress_heads = true;    ///< pooler, classifier, off-ramps
};

/// What happened to one tensor.
struct compressed_tensor_info {
    std::string name, format, storage;  ///< storage: "dense", "bitmask" or "block"
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
    if ((opt.block_rows == 0) != (opt.block_cols == 0) || opt.block_rows > sparse::block_sparse_matrix::max_block_side ||
        opt.block_cols > sparse::block_sparse_matrix::max_block_side)
        throw config_error("block shape " + std::to_string(opt.block_rows) + "x" + std::to_string(opt.block_cols) +
                           " is not valid (both sides in 1..64, or 0x0 for none)");
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
        const bool blocks = encoder && opt.block_rows > 0 && opt.block_cols > 0;
        if (blocks) sparse::prune_blocks(x.data(), rows, cols, cols, opt.block_rows, opt.block_cols, opt.encoder_sparsity);
        else if (encoder) detail::prune_by_magnitude(x, opt.encoder_sparsity);
        if (embedding && name.find("word_embeddings") != std::string::npos) detail::prune_by_magnitude(x, opt.embedding_sparsity);

        numeric::quantize_options qo;
        qo.per_row = opt.per_row;
        const auto q = numeric::quantized_tensor::quantize(x.data(), shape, fmt, qo);
        std::vector<float> back = q.dequantize();
        compressed_tensor_info info{name, fmt.name(), "dense", shape, 0, 0};
        for (float v : back) info.nonzeros += v != 0.f;
        const std::size_t code_size = fmt.byte_codes() ? 1 : 2;
        const dtype code_type = code_size == 1 ? dtype::U8 : dtype::U16;
        std::vector<std::uint8_t> codes;
        auto push_code = [&](std::size_t i) {
            const std::uint16_t c = q.code(i);
            codes.push_back(std::uint8_t(c & 0xFF));
            if (code_size == 2) codes.push_back(std::uint8_t(c >> 8));
        };
        // a block is stored when one of its elements decodes to nonzero
        const std::size_t R = blocks ? opt.block_rows : 1, C = blocks ? opt.block_cols : 1;
        const std::size_t grid_rows = (rows + R - 1) / R, grid_cols = (cols + C - 1) / C;
        std::vector<std::uint8_t> block_mask;
        std::size_t stored_blocks = 0;
        if (blocks) {
            block_mask.assign((grid_rows * grid_cols + 7) / 8, 0);
            for (std::size_t b = 0; b < grid_rows * grid_cols; ++b) {
                const std::size_t r0 = b / grid_cols * R, c0 = b % grid_cols * C;
                bool any = false;
                for (std::size_t r = r0; r < std::min(rows, r0 + R) && !any; ++r)
                    for (std::size_t c = c0; c < std::min(cols, c0 + C) && !any; ++c) any = back[r * cols + c] != 0.f;
                if (any) block_mask[b / 8] = std::uint8_t(block_mask[b / 8] | (1u << (b % 8))), ++stored_blocks;
            }
        }
        const std::size_t dense_bytes = n * code_size;
        // the bit mask pays for itself once fewer than 7/8 (8-bit codes) of the elements are nonzero
        const std::size_t bitmask_bytes = (n + 7) / 8 + info.nonzeros * code_size;
        const std::size_t block_bytes = block_mask.size() + stored_blocks * R * C * code_size;
        nlohmann::json j{{"format", fmt.name()}, {"shape", shape}};
        if (blocks && block_bytes < dense_bytes) {
            info.storage = "block";
            codes.reserve(stored_blocks * R * C * code_size);
            for (std::size_t b = 0; b < grid_rows * grid_cols; ++b) {
                if (!((block_mask[b / 8] >> (b % 8)) & 1u)) continue;
                const std::size_t r0 = b / grid_cols * R, c0 = b % grid_cols * C;
                for (std::size_t r = r0; r < r0 + R; ++r)
                    for (std::size_t c = c0; c < c0 + C; ++c) {
                        if (r < rows && c < cols) push_code(r * cols + c);
                        else codes.insert(codes.end(), code_size, std::uint8_t(0));  // padding: code 0 (+0)
                    }
            }
            w.add(name, code_type, {codes.size() / code_size}, codes.data(), codes.size());
            w.add(name + ".__block_mask", dtype::U8, {block_mask.size()}, block_mask.data(), block_mask.size());
            info.bytes = codes.size() + block_mask.size();
            j["block"] = {R, C};
        } else if (!blocks && opt.bitmask && bitmask_bytes < dense_bytes) {
            info.storage = "bitmask";
            std::vector<std::uint8_t> mask((n + 7) / 8, 0);
            codes.reserve(info.nonzeros * code_size);
            for (std::size_t i = 0; i < n; ++i) {
                if (back[i] == 0.f) continue;
                mask[i / 8] = std::uint8_t(mask[i / 8] | (1u << (i % 8)));
                push_code(i);
            }
            w.add(name, code_type, {info.nonzeros}, codes.data(), codes.size());
            w.add(name + ".__mask", dtype::U8, {mask.size()}, mask.data(), mask.size());
            info.bytes = codes.size() + mask.size();
        } else {
            codes.reserve(dense_bytes);
            for (std::size_t i = 0; i < n; ++i) push_code(i);
            w.add(name, code_type, shape, codes.data(), codes.size());
            info.bytes = codes.size();
        }
        j["storage"] = info.storage;
        j["nonzeros"] = info.nonzeros;
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

/// The tensors of a compressed model file with HF names: compressed matrices decode to fp32 when values() is
/// asked for them (compressed() gives their codes), the others are read in place (F32) or widened (F16/BF16).
class compressed_source final : public weight_source {
public:
    std::vector<std::string> names() const override { return names_; }
    const std::vector<std::size_t>* shape(const std::string& name) const override {
        auto it = matrices_.find(name);
        if (it != matrices_.end()) return &it->second.shape;
        return is_side_tensor(name) ? nullptr : plain_.shape(name);
    }
    const_matrix values(const std::string& name, std::size_t rows, std::size_t cols) const override {
        auto it = matrices_.find(name);
        if (it == matrices_.end()) {
            if (is_side_tensor(name)) throw missing_tensor_error("tensor '" + name + "' not found in " + describe());
            return plain_.values(name, rows, cols);
        }
        const compressed_matrix& m = it->second.matrix;
        if (m.rows * m.cols != rows * cols)
            throw shape_error("tensor '" + name + "' in " + describe() + " has " + std::to_string(m.rows * m.cols) +
                              " values, expected " + std::to_string(rows * cols));
        return const_matrix(m.decode(), rows, cols);
    }
    std::string describe() const override { return file_->path(); }
    void release(const std::string& name) const override {
        auto it = matrices_.find(name);
        if (it == matrices_.end()) return plain_.release(name);
        for (const char* suffix : {"", ".__mask", ".__block_mask"})
            if (const tensor_info* t = file_->find(name + suffix)) file_->release(*t);
    }
    const compressed_matrix* compressed(const std::string& name) const override {
        auto it = matrices_.find(name);
        return it == matrices_.end() ? nullptr : &it->second.matrix;
    }

    static bool is_side_tensor(const std::string& n) {
        for (const char* suffix : {".__mask", ".__block_mask", ".__row_params"}) {
            const std::size_t k = std::char_traits<char>::length(suffix);
            if (n.size() >= k && n.compare(n.size() - k, k, suffix) == 0) return true;
        }
        return false;
    }

private:
    struct entry {
        compressed_matrix matrix;
        std::vector<std::size_t> shape;
    };
    friend class compressed_model;
    compressed_source(std::shared_ptr<const safetensors_file> file, std::map<std::string, entry> matrices)
        : file_(std::move(file)), plain_(file_), matrices_(std::move(matrices)) {
        for (const tensor_info& t : file_->tensors())
            if (!is_side_tensor(t.name)) names_.push_back(t.name);
    }

    std::shared_ptr<const safetensors_file> file_;
    safetensors_source plain_;
    std::map<std::string, entry> matrices_;
    std::vector<std::string> names_;
};

/// A compressed model file, validated. Its matrices stay as the file stores them (weights().compressed());
/// weights().values() decodes them to fp32 on demand. A file parsed from memory (parse_safetensors) must
/// outlive the model, as for safetensors_source.
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
        auto file = std::make_shared<const safetensors_file>(f);
        std::map<std::string, compressed_source::entry> matrices;
        for (const tensor_info& t : f.tensors()) {
            const std::string& n = t.name;
            if (compressed_source::is_side_tensor(n)) {
                const std::string base = n.substr(0, n.rfind(".__"));
                if (!infos.contains(base)) throw unexpected_tensor_error(path + ": '" + n + "' belongs to no compressed tensor");
                continue;
            }
            if (infos.contains(n)) {
                compressed_matrix c = compressed_matrix::parse(file, t, infos[n], path);
                m.infos_.push_back({n, c.format.name(), compressed_matrix::layout_name(c.storage), {c.rows, c.cols}, c.nonzeros,
                                    c.stored_bytes});
                std::vector<std::size_t> shape{c.rows, c.cols};
                matrices.emplace(n, compressed_source::entry{std::move(c), std::move(shape)});
                continue;
            }
            if (t.type != dtype::F32 && t.type != dtype::F16 && t.type != dtype::BF16)
                throw format_error(path + ": tensor '" + n + "' is " + to_string(t.type) + " but has no entry in metadata \"tensors\"");
        }
        for (auto it = infos.begin(); it != infos.end(); ++it)
            if (!f.find(it.key())) throw missing_tensor_error(path + ": metadata lists '" + it.key() + "' but the file has no such tensor");
        m.source_ = std::shared_ptr<compressed_source>(new compressed_source(file, std::move(matrices)));
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
    std::shared_ptr<const weight_source> shared_weights() const noexcept { return source_; }
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
    model::albert_config config_;
    std::shared_ptr<const compressed_source> source_;
    std::vector<compressed_tensor_info> infos_;
    std::vector<std::vector<std::int64_t>> golden_ids_;
    std::vector<std::vector<float>> golden_logits_;
    std::string path_;
    std::size_t file_bytes_ = 0;
};

}  // namespace edgebert::io
