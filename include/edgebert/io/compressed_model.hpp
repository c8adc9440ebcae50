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
#include "../core/read_file.hpp"
#include "../core/albert_config.hpp"
#include "../numeric/format.hpp"
#include "../sparse/block_sparse_matrix.hpp"
#include "compressed_matrix.hpp"
#include "safetensors.hpp"
#include "weight_source.hpp"

namespace edgebert::io {

/// What happened to one tensor.
struct compressed_tensor_info {
    std::string name, format, storage;  ///< storage: "dense", "bitmask" or "block"
    std::vector<std::size_t> shape;
    std::size_t nonzeros = 0, bytes = 0;  ///< bytes in the file (codes + mask + row parameters)
};

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
    bool has_golden() const noexcept { return !golden_ids_.empty(); }
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
