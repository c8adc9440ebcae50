// SPDX-License-Identifier: Apache-2.0
#pragma once
// One matrix of a compressed model file as the file stores it: number format, parameters and codes, in one
// of three layouts (docs/file_formats.md):
//   dense    NAME U8/U16 [rows, cols]            every element's code
//   bitmask  NAME U8/U16 [nonzeros]              codes of the elements whose bit is set, in C order
//            NAME.__mask U8 [ceil(rows*cols/8)]  one bit per element, LSB first
//   block    NAME U8/U16 [blocks * R * C]        the stored R x C blocks in row-major block order, each block
//                                                row-major; elements past the matrix edge hold code 0
//            NAME.__block_mask U8 [ceil(ceil(rows/R)*ceil(cols/C)/8)]  one bit per block, LSB first
//   per-row parameters  NAME.__row_params F32 [rows] (exponent biases, or FP8 scales)
// The codes stay in the (mapped) file: nothing is copied or decoded until asked. parse() checks everything a
// later decode relies on (sizes, mask bits, code range, zero padding), so decode() cannot fail.
// Code 0 decodes to +0 in every format (AdaptivFloat reserves it; FP8, fp16 and bf16 have +0 there).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../numeric/format.hpp"
#include "safetensors.hpp"

namespace edgebert::io {

struct compressed_matrix {
    enum class layout { dense, bitmask, block };

    std::string name;
    numeric::number_format format;
    std::vector<numeric::quant_param> params;  ///< one (per tensor) or one per row
    bool per_row = false;                      ///< params has one entry per row (file: NAME.__row_params)
    std::size_t rows = 0, cols = 0;
    layout storage = layout::dense;
    std::size_t block_rows = 1, block_cols = 1;  ///< R x C (block layout)
    const std::uint8_t* codes = nullptr;         ///< little-endian, code_size() bytes each
    std::size_t code_count = 0;
    const std::uint8_t* mask = nullptr;  ///< element mask (bitmask) or block mask (block)
    std::size_t mask_bytes = 0;
    std::size_t nonzeros = 0;      ///< stored elements that do not decode to zero
    std::size_t stored_bytes = 0;  ///< bytes in the file: codes + mask + row parameters
    std::shared_ptr<const safetensors_file> file;  ///< keeps the codes' mapping alive

    std::size_t code_size() const noexcept { return format.byte_codes() ? 1 : 2; }
    std::uint16_t code(std::size_t i) const noexcept {
        return code_size() == 1 ? codes[i] : std::uint16_t(codes[2 * i] | (codes[2 * i + 1] << 8));
    }
    const numeric::quant_param& param(std::size_t row) const noexcept { return params[per_row ? row : 0]; }
    std::size_t block_grid_rows() const noexcept { return (rows + block_rows - 1) / block_rows; }
    std::size_t block_grid_cols() const noexcept { return (cols + block_cols - 1) / block_cols; }
    static const char* layout_name(layout l) noexcept {
        return l == layout::dense ? "dense" : l == layout::bitmask ? "bitmask" : "block";
    }

    /// Every element's code, row-major [rows x cols]; elements the layout leaves out get code 0 (+0).
    template <class Code>
    void expand_codes(Code* out) const {
        const std::size_t numel = rows * cols;
        switch (storage) {
            case layout::dense:
                for (std::size_t i = 0; i < numel; ++i) out[i] = Code(code(i));
                break;
            case layout::bitmask: {
                std::size_t k = 0;
                for (std::size_t i = 0; i < numel; ++i) out[i] = bit(mask, i) ? Code(code(k++)) : Code(0);
                break;
            }
            case layout::block:
                for (std::size_t i = 0; i < numel; ++i) out[i] = Code(0);
                for_each_stored_block_element([&](std::size_t k, std::size_t, std::size_t r, std::size_t c) {
                    if (r < rows && c < cols) out[r * cols + c] = Code(code(k));
                });
                break;
        }
    }

    /// The fp32 values [rows x cols], row-major (bit for bit numeric::decode of each code).
    std::vector<float> decode() const {
        std::vector<std::uint16_t> c(rows * cols);
        expand_codes(c.data());
        std::vector<float> out(rows * cols);
        for (std::size_t r = 0; r < rows; ++r) {
            const numeric::quant_param& p = param(r);
            if (format.byte_codes()) {
                const std::array<float, 256> table = numeric::decode_table(format, p);
                for (std::size_t j = 0; j < cols; ++j) out[r * cols + j] = table[c[r * cols + j] & 0xFF];
            } else {
                for (std::size_t j = 0; j < cols; ++j) out[r * cols + j] = numeric::decode(format, c[r * cols + j], p);
            }
        }
        return out;
    }

    /// Read and check the matrix `t` of file `f` described by its metadata entry `j` ("format", "shape",
    /// "storage", "exp_bias"/"scale" or "per_row", "block"). format_error naming `path` and the tensor otherwise.
    static compressed_matrix parse(const std::shared_ptr<const safetensors_file>& f, const tensor_info& t, const nlohmann::json& j,
                                   const std::string& path) {
        compressed_matrix m;
        m.name = t.name;
        m.file = f;
        auto fail = [&](const std::string& why) { return format_error(path + ": compressed tensor '" + t.name + "': " + why); };
        std::vector<std::size_t> shape;
        std::string storage;
        try {
            if (!j.is_object()) throw fail("metadata entry must be an object");
            m.format = numeric::parse_format(j.at("format").get<std::string>());
            shape = j.at("shape").get<std::vector<std::size_t>>();
            storage = j.at("storage").get<std::string>();
        } catch (const nlohmann::json::exception& e) {
            throw fail(std::string("metadata entry is malformed: ") + e.what());
        } catch (const config_error& e) {
            throw fail(e.what());
        }
        if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0) throw fail("shape must be [rows, cols] with both positive");
        if (shape[0] > (std::size_t(1) << 32) || shape[1] > (std::size_t(1) << 32)) throw fail("shape is too large");
        m.rows = shape[0];
        m.cols = shape[1];
        const std::size_t numel = m.rows * m.cols;
        const dtype want = m.format.byte_codes() ? dtype::U8 : dtype::U16;
        if (t.type != want) throw fail(std::string("codes are ") + to_string(t.type) + ", " + m.format.name() + " needs " + to_string(want));
        m.codes = reinterpret_cast<const std::uint8_t*>(f->data(t));
        m.code_count = t.numel();
        m.stored_bytes = t.nbytes();

        try {
            m.per_row = j.value("per_row", false);
            if (m.per_row) {
                const tensor_info* p = f->find(t.name + ".__row_params");
                if (!p) throw fail("per_row is set but '" + t.name + ".__row_params' is missing");
                if (p->type != dtype::F32 || p->shape != std::vector<std::size_t>{m.rows})
                    throw fail("'.__row_params' must be F32 [" + std::to_string(m.rows) + "]");
                std::vector<float> v(m.rows);
                f->read_float(*p, v.data(), v.size());
                for (std::size_t r = 0; r < m.rows; ++r) {
                    const float x = v[r];
                    if (m.format.is_fp8()) m.params.push_back(numeric::quant_param::of_scale(x));
                    else if (m.format.is_adaptivfloat()) {
                        if (!(x == std::floor(x)) || std::abs(x) > 1e6f)
                            throw fail("row " + std::to_string(r) + " exponent bias " + std::to_string(x) + " is not an integer");
                        m.params.push_back(numeric::quant_param::of_bias(int(x)));
                    } else {
                        throw fail(m.format.name() + " has no per-row parameter");
                    }
                }
                m.stored_bytes += p->nbytes();
            } else if (m.format.is_adaptivfloat()) {
                m.params.push_back(numeric::quant_param::of_bias(j.at("exp_bias").get<int>()));
            } else if (m.format.is_fp8()) {
                m.params.push_back(numeric::quant_param::of_scale(j.at("scale").get<float>()));
            } else {
                m.params.push_back({});
            }
            for (const auto& p : m.params) numeric::check_param(m.format, p);
        } catch (const nlohmann::json::exception& e) {
            throw fail(std::string("metadata entry is malformed: ") + e.what());
        } catch (const config_error& e) {
            throw fail(e.what());
        }

        auto adopt_mask = [&](const std::string& suffix, std::size_t bits) {
            const tensor_info* mt = f->find(t.name + suffix);
            if (!mt) throw fail(storage + " storage but '" + t.name + suffix + "' is missing");
            const std::size_t want_bytes = (bits + 7) / 8;
            if (mt->type != dtype::U8 || mt->shape != std::vector<std::size_t>{want_bytes})
                throw fail("'" + suffix + "' must be U8 [" + std::to_string(want_bytes) + "] for " + std::to_string(bits) +
                           (suffix == ".__mask" ? " elements" : " blocks"));
            m.mask = reinterpret_cast<const std::uint8_t*>(f->data(*mt));
            m.mask_bytes = want_bytes;
            std::size_t set = 0;
            for (std::size_t i = 0; i < bits; ++i) set += bit(m.mask, i);
            for (std::size_t i = bits; i < want_bytes * 8; ++i)
                if (bit(m.mask, i)) throw fail("mask has bits set past the last " + std::string(suffix == ".__mask" ? "element" : "block"));
            m.stored_bytes += mt->nbytes();
            return set;
        };
        if (storage == "dense") {
            m.storage = layout::dense;
            if (t.shape != shape) throw fail("dense codes have shape " + shape_string(t.shape) + ", metadata says " + shape_string(shape));
        } else if (storage == "bitmask") {
            m.storage = layout::bitmask;
            const std::size_t set = adopt_mask(".__mask", numel);
            if (t.shape.size() != 1 || t.shape[0] != set)
                throw fail("mask has " + std::to_string(set) + " bits set but there are " + std::to_string(t.numel()) + " codes");
        } else if (storage == "block") {
            m.storage = layout::block;
            std::vector<std::size_t> block;
            try {
                block = j.at("block").get<std::vector<std::size_t>>();
            } catch (const nlohmann::json::exception& e) {
                throw fail(std::string("block storage needs \"block\": [R, C]: ") + e.what());
            }
            if (block.size() != 2 || block[0] < 1 || block[1] < 1 || block[0] > 64 || block[1] > 64)
                throw fail("\"block\" must be [R, C] with sides in 1..64");
            m.block_rows = block[0];
            m.block_cols = block[1];
            const std::size_t set = adopt_mask(".__block_mask", m.block_grid_rows() * m.block_grid_cols());
            if (t.shape.size() != 1 || t.shape[0] != set * m.block_rows * m.block_cols)
                throw fail("block mask has " + std::to_string(set) + " blocks of " + std::to_string(m.block_rows) + "x" +
                           std::to_string(m.block_cols) + " but there are " + std::to_string(t.numel()) + " codes");
        } else {
            throw fail("unknown storage \"" + storage + "\" (dense, bitmask, block)");
        }

        const std::uint32_t limit = std::uint32_t(1) << m.format.bits();
        for (std::size_t i = 0; i < m.code_count; ++i)
            if (m.code(i) >= limit)
                throw fail("code " + std::to_string(m.code(i)) + " at position " + std::to_string(i) + " does not fit in " +
                           std::to_string(m.format.bits()) + " bits");
        if (m.storage == layout::block) m.check_block_padding(fail);
        m.count_nonzeros();
        return m;
    }

private:
    static bool bit(const std::uint8_t* mask, std::size_t i) noexcept { return (mask[i / 8] >> (i % 8)) & 1u; }
    static std::string shape_string(const std::vector<std::size_t>& s) {
        std::string out = "[";
        for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
        return out + "]";
    }

    // Elements of edge blocks past the matrix must hold code 0: the file has one meaning for each byte.
    template <class Fail>
    void check_block_padding(Fail&& fail) const {
        for_each_stored_block_element([&](std::size_t k, std::size_t b, std::size_t r, std::size_t c) {
            if ((r >= rows || c >= cols) && code(k) != 0)
                throw fail("block " + std::to_string(b) + " has code " + std::to_string(code(k)) +
                           " past the matrix edge (padding must be code 0)");
        });
    }

    // f(code index, block index, row, column) for every element of every stored block, padding included, in
    // the file's order
    template <class F>
    void for_each_stored_block_element(F&& f) const {
        const std::size_t R = block_rows, C = block_cols, gc = block_grid_cols();
        std::size_t k = 0;
        for (std::size_t b = 0; b < block_grid_rows() * gc; ++b) {
            if (!bit(mask, b)) continue;
            const std::size_t r0 = b / gc * R, c0 = b % gc * C;
            for (std::size_t r = 0; r < R; ++r)
                for (std::size_t c = 0; c < C; ++c) f(k++, b, r0 + r, c0 + c);
        }
    }

    void count_nonzeros() {
        // a stored code can still decode to zero (code 0, or -0): count what the product touches
        nonzeros = 0;
        std::vector<std::uint16_t> c(rows * cols);
        expand_codes(c.data());
        for (std::size_t r = 0; r < rows; ++r) {
            const numeric::quant_param& p = param(r);
            if (format.byte_codes()) {
                const std::array<float, 256> table = numeric::decode_table(format, p);
                for (std::size_t j = 0; j < cols; ++j) nonzeros += table[c[r * cols + j] & 0xFF] != 0.f;
            } else {
                for (std::size_t j = 0; j < cols; ++j) nonzeros += c[r * cols + j] != 0 && numeric::decode(format, c[r * cols + j], p) != 0.f;
            }
        }
    }
};

}  // namespace edgebert::io
