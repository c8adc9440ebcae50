// SPDX-License-Identifier: Apache-2.0
#pragma once
// Writing the compressed model file (io/compressed_model.hpp reads it; the layout is described there and in
// docs/file_formats.md): every matrix pruned as asked (compress/pruning.hpp), quantized to a number format and
// stored as dense codes, an EdgeBERT bit mask or R x C blocks, whichever the options allow and is smallest; golden
// logits computed with the compressed weights so that every load can check the file.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/albert_config.hpp"
#include "../core/dtype.hpp"
#include "../core/error.hpp"
#include "../core/version.hpp"
#include "../io/compressed_model.hpp"
#include "../io/safetensors.hpp"
#include "../io/weight_source.hpp"
#include "../names/tensor_names.hpp"
#include "../numeric/format.hpp"
#include "../sparse/block_sparse_matrix.hpp"
#include "pruning.hpp"

namespace edgebert::compress {

using io::dtype;

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

struct compress_report {
    std::size_t fp32_bytes = 0;     ///< all tensors as F32
    std::size_t tensor_bytes = 0;   ///< all tensors as stored
    std::size_t file_bytes = 0;     ///< the file, header included
    std::vector<io::compressed_tensor_info> tensors;
};



/// Compress every tensor of `source` (HF names, config `cfg`) into a compressed model file at `path`.
/// golden_ids: sentences run through the compressed model at compression time; their logits are stored so a
/// reader can check the file (run_golden computes logits for a weight source; pass nullptr for none).
template <class RunGolden>
compress_report write_compressed_model(const std::string& path, const model::albert_config& cfg, const io::weight_source& source,
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
    std::map<std::string, io::memory_source::tensor> decoded;  // what the compressed model computes with
    nlohmann::json infos = nlohmann::json::object();
    io::safetensors_writer w;
    for (const std::string& name : source.names()) {
        const std::vector<std::size_t>& shape = *source.shape(name);
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        const std::size_t rows = shape.size() >= 2 ? shape[0] : 1, cols = rows ? n / std::max<std::size_t>(rows, 1) : 0;
        const const_matrix m = source.values(name, rows, cols);
        std::vector<float> x(m.data(), m.data() + n);
        report.fp32_bytes += n * sizeof(float);
        const bool encoder = names::is_encoder_matrix(name);
        const bool embedding = opt.compress_embeddings && names::is_embedding_table(name);
        const bool head = opt.compress_heads && names::is_head_matrix(name);
        if (shape.size() != 2 || !(encoder || embedding || head)) {
            w.add_f32(name, shape, x.data());
            report.tensor_bytes += n * sizeof(float);
            decoded[name] = {shape, std::move(x)};
            continue;
        }
        const bool blocks = encoder && opt.block_rows > 0 && opt.block_cols > 0;
        if (encoder) prune_by_magnitude(x.data(), rows, cols, cols, {opt.encoder_sparsity, blocks ? opt.block_rows : 1, blocks ? opt.block_cols : 1}, name);
        if (embedding && names::is_word_embeddings(name)) prune_by_magnitude(x.data(), rows, cols, cols, {opt.embedding_sparsity}, name);

        numeric::quantize_options qo;
        qo.per_row = opt.per_row;
        const auto q = numeric::quantized_tensor::quantize(x.data(), shape, fmt, qo);
        std::vector<float> back = q.dequantize();
        io::compressed_tensor_info info{name, fmt.name(), "dense", shape, 0, 0};
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
        const io::memory_source compressed(std::move(decoded), path);
        const std::vector<std::vector<float>> logits = run_golden(compressed, golden_ids);
        w.set_metadata("golden", nlohmann::json{{"input_ids", golden_ids}, {"logits", logits}}.dump());
    }
    w.write(path);
    report.file_bytes = io::safetensors_file(path).file_size();
    return report;
}

}  // namespace edgebert::compress
