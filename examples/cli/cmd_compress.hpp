// SPDX-License-Identifier: Apache-2.0
#pragma once
// edgebert compress: prune and quantize a model into a compressed model folder (io/compressed_model.hpp).

#include <cstdio>
#include <filesystem>
#include <vector>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include <edgebert/core/parse.hpp>
#include <edgebert/edgebert.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"

namespace edgebert_cli {

inline const char* const compress_help = R"(usage: edgebert compress --model PATH --out DIR [--format NAME] [--sparsity S]
                         [--embedding-sparsity S] [--block RxC] [--per-row] [--dense] [--keep-embeddings]
                         [--golden N]

  Prunes (magnitude) and quantizes every matrix of an ALBERT model and writes DIR/model.safetensors, a
  safetensors file with the codes as U8/U16 tensors, pruned matrices as EdgeBERT bit masks plus their
  nonzero codes (or, with --block, as R x C blocks), biases and LayerNorms in F32, and the format of each
  tensor and golden outputs in its metadata. When PATH is a folder, its tokenizer (spiece.model,
  tokenizer_config.json) and tasks/ are copied too, so DIR is a model folder. `edgebert run`, `bench` and
  `classify` take DIR (or the file) as --model and compute on the 8-bit codes (see their --weights).

  --format NAME            af8e3 (default; af8), af<N>e<E>, af<N>e<E>-2022, af8-hw, e4m3, e5m2, fp16, bf16
  --sparsity S             fraction of every encoder matrix pruned by magnitude (default 0)
  --embedding-sparsity S   fraction of the word embeddings pruned (EdgeBERT uses 0.6; default 0)
  --block RxC              prune the encoder matrices by R x C blocks (the --sparsity fraction of blocks with the
                           smallest mean magnitude) and store them block-sparse; sides 1..64 (4x8 runs fastest
                           on CPUs, docs/sparse.md)
  --per-row                one exponent bias (AdaptivFloat) or scale (FP8) per output row
  --dense                  store pruned matrices as dense codes instead of bit mask + nonzeros
  --keep-embeddings        leave the embedding tables in F32
  --golden N               sentences whose logits are stored for load-time verification (default 2)

  Prints one JSON line: bytes of the F32 model and of the compressed file, the ratio, and per kind of tensor.
)";

inline int cmd_compress(int argc, char** argv) {
    args a(argc, argv, 2, {"model", "out", "format", "sparsity", "embedding-sparsity", "golden", "block"},
           {"per-row", "dense", "keep-embeddings"});
    if (a.help()) return std::fputs(compress_help, stdout), 0;
    const std::string model_path = a.get("model"), out = a.get("out");
    auto fraction = [&](const char* key) {
        if (!a.has(key)) return 0.0;
        const std::string v = a.get(key);
        const std::optional<double> parsed = edgebert::to_number(v);
        const double x = parsed ? *parsed : -1.0;
        if (!(x >= 0 && x < 1)) throw usage_error(std::string("--") + key + " must be a number in [0, 1), got '" + v + "'");
        return x;
    };
    edgebert::compress::compress_options opt;
    opt.format = a.get("format", "af8e3");
    opt.encoder_sparsity = fraction("sparsity");
    opt.embedding_sparsity = fraction("embedding-sparsity");
    opt.per_row = a.has("per-row");
    opt.bitmask = !a.has("dense");
    opt.compress_embeddings = !a.has("keep-embeddings");
    if (a.has("block")) {
        const std::string v = a.get("block");
        unsigned long r = 0, c = 0;
        char x = 0, extra = 0;
        if (std::sscanf(v.c_str(), "%lu%c%lu%c", &r, &x, &c, &extra) != 3 || x != 'x' || r < 1 || c < 1 || r > 64 || c > 64 ||
            v.find_first_not_of("0123456789x") != std::string::npos)
            throw usage_error("--block must be RxC with R and C in 1..64 (e.g. 4x8), got '" + v + "'");
        if (a.has("dense")) throw usage_error("--block and --dense exclude each other");
        opt.block_rows = r;
        opt.block_cols = c;
    }
    const std::size_t golden = std::size_t(a.integer("golden", 2, 0));
    edgebert::numeric::parse_format(opt.format);  // a bad name fails before any work

    const auto w = edgebert::model::albert_model::open_weights(model_path);
    const auto& cfg = w.config;
    std::vector<std::vector<std::int64_t>> ids;
    std::uint64_t x = 12345;
    for (std::size_t s = 0; s < golden; ++s) {  // deterministic sentences: [CLS]-like 2, ids, [SEP]-like 3
        std::vector<std::int64_t> sentence{std::min<std::int64_t>(2, std::int64_t(cfg.vocab_size) - 1)};
        const std::size_t len = std::min<std::size_t>(6 + 3 * s, cfg.max_position_embeddings - 2);
        for (std::size_t t = 0; t < len; ++t) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            sentence.push_back(std::int64_t((x >> 33) % cfg.vocab_size));
        }
        sentence.push_back(std::min<std::int64_t>(3, std::int64_t(cfg.vocab_size) - 1));
        ids.push_back(sentence);
    }
    {
        std::error_code ec;
        std::filesystem::create_directories(out, ec);
        if (ec || !std::filesystem::is_directory(out)) throw edgebert::io_error("cannot create folder '" + out + "'" + (ec ? ": " + ec.message() : ""));
    }
    const std::string file = out + "/model.safetensors";
    const auto report = edgebert::compress::write_compressed_model(
        file, cfg, *w.weights, opt, ids, [&](const edgebert::io::weight_source& src, const std::vector<std::vector<std::int64_t>>& s) {
            return edgebert::model::albert_model::from_source(cfg, src).sentence_logits(s);
        });
    // the file must load and reproduce its golden outputs, in 8-bit and decoded
    for (auto weights : {edgebert::model::weight_storage::fastest, edgebert::model::weight_storage::fp32}) {
        edgebert::model::load_options check;
        check.weights = weights;
        check.verify_golden = golden > 0;
        (void)edgebert::model::albert_model::load(file, check);
    }
    // a model folder stays one: tokenizer and tasks come along
    std::vector<std::string> copied;
    if (std::error_code ec; std::filesystem::is_directory(model_path, ec)) {
        namespace fs = std::filesystem;
        for (const char* part : {"spiece.model", "tokenizer_config.json", "tasks"}) {
            const fs::path from = fs::path(model_path) / part;
            if (!fs::exists(from)) continue;
            std::error_code ec;
            fs::copy(from, fs::path(out) / part, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
            if (ec) throw edgebert::io_error("cannot copy '" + from.string() + "' to '" + out + "': " + ec.message());
            copied.push_back(part);
        }
    }

    std::size_t encoder = 0, embeddings = 0, other = 0, nonzeros = 0, elements = 0;
    for (const auto& t : report.tensors) {
        (t.name.find("embeddings.") != std::string::npos ? embeddings : t.name.find("albert_layer_groups") != std::string::npos ? encoder : other) += t.bytes;
        nonzeros += t.nonzeros;
        elements += t.shape[0] * t.shape[1];
    }
    nlohmann::json line{{"command", "compress"},
                        {"model", model_path},
                        {"out", file},
                        {"format", edgebert::numeric::parse_format(opt.format).name()},
                        {"sparsity", opt.encoder_sparsity},
                        {"embedding_sparsity", opt.embedding_sparsity},
                        {"storage", opt.block_rows ? "block " + std::to_string(opt.block_rows) + "x" + std::to_string(opt.block_cols)
                                    : opt.bitmask ? "bitmask" : "dense"},
                        {"fp32_bytes", report.fp32_bytes},
                        {"compressed_bytes", report.file_bytes},
                        {"ratio", double(report.fp32_bytes) / double(report.file_bytes)},
                        {"encoder_matrix_bytes", encoder},
                        {"embedding_bytes", embeddings},
                        {"other_matrix_bytes", other},
                        {"matrix_density", elements ? double(nonzeros) / double(elements) : 1.0},
                        {"golden_sentences", golden},
                        {"copied", copied}};
    std::cout << line.dump() << std::endl;
    return 0;
}

}  // namespace edgebert_cli
