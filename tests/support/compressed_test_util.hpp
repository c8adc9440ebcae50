// Writing compressed model files in tests, and rewriting them with one part corrupted.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <edgebert/model/albert_model.hpp>
#include <edgebert/compress.hpp>

namespace test_util {

inline std::vector<std::vector<std::int64_t>> golden_ids() { return {{2, 5, 9, 3}, {2, 7, 7, 11, 13, 3}}; }

/// Compress `src` into `path`, storing golden logits of golden_ids() computed on the decoded weights.
inline edgebert::compress::compress_report compress_model(const std::string& path, const edgebert::model::albert_config& cfg,
                                              const edgebert::io::weight_source& src, const edgebert::compress::compress_options& opt,
                                              bool golden = true) {
    using namespace edgebert;
    return compress::write_compressed_model(path, cfg, src, opt, golden ? golden_ids() : std::vector<std::vector<std::int64_t>>{},
                                      [&](const io::weight_source& s, const std::vector<std::vector<std::int64_t>>& ids) {
                                          return model::albert_model::from_source(cfg, s).sentence_logits(ids);
                                      });
}

using file_metadata = std::map<std::string, std::string>;
using file_data = std::map<std::string, std::vector<std::uint8_t>>;
using file_kinds = std::map<std::string, std::pair<edgebert::io::dtype, std::vector<std::size_t>>>;

/// Rewrite a safetensors file with its metadata, tensor bytes or dtypes/shapes changed by `edit`.
inline void rewrite(const std::string& from, const std::string& to,
                    const std::function<void(file_metadata&, file_data&, file_kinds&)>& edit) {
    using namespace edgebert;
    io::safetensors_file f(from);
    file_metadata meta = f.metadata();
    file_data data;
    file_kinds kind;
    for (const auto& t : f.tensors()) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(f.data(t));
        data[t.name].assign(p, p + (t.end - t.begin));
        kind[t.name] = {t.type, t.shape};
    }
    edit(meta, data, kind);
    io::safetensors_writer w;
    for (const auto& [k, v] : meta) w.set_metadata(k, v);
    for (const auto& [name, bytes] : data) w.add(name, kind[name].first, kind[name].second, bytes.data(), bytes.size());
    w.write(to);
}

}  // namespace test_util
