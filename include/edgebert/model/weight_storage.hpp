// SPDX-License-Identifier: Apache-2.0
#pragma once
// How a model built from a compressed model file holds its matrices. The file stores each matrix as 8-bit
// codes in one of three layouts (dense, EdgeBERT bit mask, R x C blocks); the layer can compute on the codes
// directly (kernels::gemm_q8, kernels::sparse_gemm: a quarter of fp32's bytes) or on fp32 decoded at load.
//   fp32     decode every matrix (the fastest dense kernel; 4 bytes per weight)
//   stored   compute in the file's layout: dense codes -> gemm_q8, bit mask -> bit-mask GEMM, blocks -> BSR GEMM
//   fastest  8-bit codes always, in the layout that is fastest for the matrix's density: the sparse kernels
//            beat the dense 8-bit GEMM only below a density (docs/sparse.md measures the crossovers: the bit
//            mask between 50 and 70 % sparsity, R >= 4 blocks below 50 %), so denser matrices run dense.
//   int8     every matrix as per-output-channel symmetric int8 with integer products (kernels::gemm_i8): fp32
//            matrices are quantized at load; 8-bit codes (AdaptivFloat, FP8: up to 12 significant bits, not an
//            int8 grid) are decoded and requantized per channel, an approximation measured in docs/performance.md.
//            Block-sparse matrices whose 4 x 4 groups are sparse enough run block-sparse (kernels::sparse_gemm_i8,
//            the same results); bit-mask ones run dense (their zeros stay zero codes).
// Matrices in formats wider than 8 bits (fp16, bf16, af<N> with N > 8) are decoded to fp32 in every mode but int8.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/compressed_matrix.hpp"
#include "../kernels/sparse_gemm_i8.hpp"
#include "../nn/linear.hpp"
#include "../sparse/code_tables.hpp"

namespace edgebert::model {

enum class weight_storage { fp32, stored, fastest, int8 };

inline const char* to_string(weight_storage s) noexcept {
    return s == weight_storage::fp32 ? "fp32" : s == weight_storage::stored ? "stored" : s == weight_storage::int8 ? "int8" : "fastest";
}
/// "fp32", "stored", "fastest" or "int8"; config_error otherwise.
inline weight_storage parse_weight_storage(const std::string& s) {
    if (s == "fp32") return weight_storage::fp32;
    if (s == "stored") return weight_storage::stored;
    if (s == "fastest") return weight_storage::fastest;
    if (s == "int8") return weight_storage::int8;
    throw config_error("unknown weight storage '" + s + "' (fp32, stored, fastest, int8)");
}

/// Golden outputs at load: check those present (default), require some, or skip the check.
enum class golden_check { if_present, required, off };

struct load_options {
    weight_storage weights = weight_storage::fastest;
    /// fastest: a bit-mask matrix runs sparse at or below this density (nonzeros / elements), else dense 8-bit.
    /// 0.4 = 60 % sparsity, inside the measured crossover (bench_sparse, 1 and 2 threads: 0.82-0.90x of dense
    /// at 50 %, 1.15-1.36x at 70 %).
    double bitmask_max_density = 0.4;
    /// fastest: a block-sparse matrix runs sparse at or below this block density, else dense 8-bit. 0.6 = 40 %
    /// of the blocks pruned (R >= 4 blocks: 1.1-1.3x of dense at 50 %, 0.6-0.7x at 0 %).
    double block_max_density = 0.6;
    /// int8: a block-sparse matrix runs block-sparse when at most this share of its 4 x 4 groups holds a nonzero,
    /// else dense int8. The crossover lies between 0.6 and 0.7 (docs/sparse.md, "Integers": 1.12-1.35x of dense
    /// int8 at 0.5, 0.86-1.03x at 0.7, 1 thread).
    double int8_block_max_density = 0.5;
    std::size_t bitmask_lanes = sparse::bitmask_matrix::default_lanes;
    golden_check golden = golden_check::if_present;
    bool verify_golden = false;  ///< true: as golden_check::required (format_error without golden outputs)
};

/// The layer for an fp32 weight [out x in] (bias [out] or nullptr): int8 when opt says so, else packed fp32.
inline nn::linear dense_linear(const float* weight, std::size_t out, std::size_t in, const float* bias, const load_options& opt) {
    if (opt.weights == weight_storage::int8) return nn::linear::int8(weight, out, in, bias);
    return nn::linear(weight, out, in, bias);
}

/// The layer for compressed matrices stacked by rows (Q, K and V become one [3H x H] product), or nullopt
/// when they must be decoded to fp32 instead (options say fp32, a part is not compressed or is wider than
/// 8 bits, or the parts use different formats). bias: [sum of rows] or nullptr.
inline std::optional<nn::linear> compressed_linear(const std::vector<const io::compressed_matrix*>& parts, const float* bias,
                                                   const load_options& opt) {
    if (opt.weights == weight_storage::fp32 || parts.empty()) return std::nullopt;
    if (opt.weights == weight_storage::int8) {
        // Decoded (in any format, 8-bit or wider) and requantized per output channel.
        const std::size_t cols = parts[0] ? parts[0]->cols : 0;
        std::size_t rows = 0;
        bool all_block = true;
        for (const io::compressed_matrix* p : parts) {
            if (!p || p->cols != cols) return std::nullopt;
            rows += p->rows;
            all_block = all_block && p->storage == io::compressed_matrix::layout::block;
        }
        std::vector<float> w(rows * cols);
        std::size_t r0 = 0;
        for (const io::compressed_matrix* p : parts) {
            const std::vector<float> v = p->decode();
            std::copy(v.begin(), v.end(), w.begin() + std::ptrdiff_t(r0 * cols));
            r0 += p->rows;
        }
        std::vector<std::int8_t> q(rows * cols);  // quantized once, for whichever storage is picked
        std::vector<float> scales(rows);
        kernels::quantize_rows_i8(w.data(), rows, cols, cols, q.data(), scales.data());
        if (all_block) {
            kernels::i8_block_sparse_matrix sparse = kernels::i8_block_sparse_matrix::from_int8(q.data(), rows, cols, cols, scales.data());
            if (sparse.density() <= opt.int8_block_max_density) return nn::linear::from_storage(std::move(sparse), bias);
        }
        return nn::linear::from_storage(kernels::i8_packed_matrix::from_int8(q.data(), rows, cols, cols, scales.data()), bias);
    }
    const std::size_t cols = parts[0] ? parts[0]->cols : 0;
    std::size_t rows = 0, nonzeros = 0, blocks = 0, grid = 0;
    bool all_bitmask = true, all_block = true, per_row = false;
    for (const io::compressed_matrix* p : parts) {
        if (!p || !p->format.byte_codes() || p->cols != cols || !(p->format == parts[0]->format)) return std::nullopt;
        if (p->storage == io::compressed_matrix::layout::block &&
            (p->block_rows != parts[0]->block_rows || p->block_cols != parts[0]->block_cols))
            all_block = false;
        all_bitmask = all_bitmask && p->storage == io::compressed_matrix::layout::bitmask;
        all_block = all_block && p->storage == io::compressed_matrix::layout::block;
        per_row = per_row || p->per_row || p->params[0] != parts[0]->params[0];
        rows += p->rows;
        nonzeros += p->nonzeros;
        if (p->storage == io::compressed_matrix::layout::block) {
            blocks += p->code_count / (p->block_rows * p->block_cols);
            grid += p->block_grid_rows() * p->block_grid_cols();
        }
    }
    std::vector<std::uint8_t> codes(rows * cols);
    std::vector<numeric::quant_param> params;
    std::size_t r0 = 0;
    for (const io::compressed_matrix* p : parts) {
        p->expand_codes(codes.data() + r0 * cols);
        if (per_row)
            for (std::size_t r = 0; r < p->rows; ++r) params.push_back(p->param(r));
        r0 += p->rows;
    }
    if (!per_row) params.push_back(parts[0]->params[0]);
    sparse::code_tables tables(parts[0]->format, std::move(params), rows);

    enum class kind { q8, bitmask, block } k = kind::q8;
    if (opt.weights == weight_storage::stored) {
        k = all_bitmask ? kind::bitmask : all_block ? kind::block : kind::q8;  // mixed layouts: dense codes
    } else {
        if (all_block && grid && double(blocks) / double(grid) <= opt.block_max_density) k = kind::block;
        else if (double(nonzeros) / double(rows * cols) <= opt.bitmask_max_density) k = kind::bitmask;
    }
    switch (k) {
        case kind::bitmask:
            return nn::linear::from_storage(
                sparse::bitmask_matrix::from_dense_codes(codes.data(), rows, cols, cols, std::move(tables), opt.bitmask_lanes), bias);
        case kind::block:
            return nn::linear::from_storage(sparse::block_sparse_matrix::from_dense_codes(codes.data(), rows, cols, cols, parts[0]->block_rows,
                                                                                          parts[0]->block_cols, std::move(tables)),
                                            bias);
        case kind::q8: break;
    }
    return nn::linear::from_storage(kernels::q8_packed_matrix::from_codes(codes.data(), rows, cols, cols, std::move(tables)), bias);
}

}  // namespace edgebert::model
