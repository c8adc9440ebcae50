// SPDX-License-Identifier: Apache-2.0
#pragma once
// --weights and --verify of the edgebert tool: how a compressed model holds its matrices
// (model/weight_storage.hpp) and whether its golden outputs are checked at load.

#include <map>
#include <string>

#include <edgebert/model/albert_model.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"

namespace edgebert_cli {

inline const char* const weights_option_help =
    R"(  --weights MODE  how a compressed model holds its matrices: fastest (default: 8-bit codes, sparse kernels
                  where the matrix is sparse enough to gain), stored (the file's layout: dense codes, bit mask or
                  blocks), fp32 (decoded at load), int8 (every matrix, fp32 or 8-bit, as per-channel int8 with
                  integer products). HuggingFace checkpoints are fp32 in every mode but int8.
  --verify        check the compressed model's stored golden outputs at load
)";

inline edgebert::model::load_options parse_load_options(const args& a) {
    edgebert::model::load_options o;
    if (a.has("weights")) {
        try {
            o.weights = edgebert::model::parse_weight_storage(a.get("weights"));
        } catch (const edgebert::config_error& e) {
            throw usage_error(std::string("--weights: ") + e.what());
        }
    }
    o.verify_golden = a.has("verify");
    return o;
}

/// {"weights": mode, "matrix_bytes": bytes of the weight matrices as held, "matrices": {storage: count},
///  "embedding_bytes": the embedding tables as held, "word_embeddings": "fp32" | "8-bit"}.
inline nlohmann::json weight_report(const edgebert::model::albert_model& m, const edgebert::model::load_options& o) {
    std::size_t bytes = 0;
    std::map<std::string, std::size_t> count;
    m.for_each_linear([&](const std::string&, const edgebert::nn::linear& l) {
        bytes += l.bytes();
        ++count[edgebert::nn::to_string(l.kind())];
    });
    const auto& e = m.encoder().embeddings();
    if (count.count("int8") || count.count("block_sparse_int8"))  // which integer kernel ran (kernels/gemm_i8.hpp, chosen by the compile target)
        return {{"weights", edgebert::model::to_string(o.weights)}, {"matrix_bytes", bytes}, {"matrices", count},
                {"int8_kernel", edgebert::kernels::gemm_i8_isa()}, {"embedding_bytes", e.bytes()},
                {"word_embeddings", e.word_quantized() ? "8-bit" : "fp32"}};
    return {{"weights", edgebert::model::to_string(o.weights)},
            {"matrix_bytes", bytes},
            {"matrices", count},
            {"embedding_bytes", e.bytes()},
            {"word_embeddings", e.word_quantized() ? "8-bit" : "fp32"}};
}

}  // namespace edgebert_cli
