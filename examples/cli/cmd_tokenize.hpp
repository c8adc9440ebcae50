// SPDX-License-Identifier: Apache-2.0
#pragma once
// `edgebert tokenize`: SentencePiece ids for texts, exactly as the SentencePiece library's encode gives
// them, or with ALBERT's conventions (--albert). One JSON array per text on stdout.

#include <iostream>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>


#include <edgebert/core/read_file.hpp>
#include <edgebert/text/albert_tokenizer.hpp>
#include <edgebert/text/unigram_tokenizer.hpp>
#include <nlohmann/json.hpp>

#include "args.hpp"

namespace edgebert_cli {

inline const char* const tokenize_help = R"(usage: edgebert tokenize --spm spiece.model (--text "..." | --input FILE) [--albert]
                         [--max-length N] [--pieces]

  Prints the token ids of each text as a JSON array, one line per text.
  By default the ids are exactly those of the SentencePiece library's encode for that model (its own
  normaliser, no other preprocessing, no special tokens).

  --spm PATH        a SentencePiece unigram model (spiece.model), or a folder holding one
  --text T          a text to tokenize (may be repeated)
  --input FILE      one text per line (lines split on '\n' only; FILE may be /dev/stdin)
  --albert          ALBERT's conventions, as HuggingFace AlbertTokenizer: whitespace clean-up, `` and ''
                    -> ", accent stripping and lower-casing as the model folder's tokenizer_config.json
                    says (defaults: lower-case, strip accents), digit+comma pieces split, [CLS] ... [SEP]
  --max-length N    with --albert: truncate to N ids including [CLS] and [SEP]
                    (default: the config's max_length / model_max_length, else none)
  --pieces          print the pieces (JSON strings) instead of the ids
)";

inline int cmd_tokenize(int argc, char** argv) {
    namespace tx = edgebert::text;
    const args a(argc, argv, 2, {"spm", "text", "input", "max-length"}, {"albert", "pieces"});
    if (a.help()) {
        std::cout << tokenize_help;
        return 0;
    }
    std::string spm = a.get("spm");
    const bool has_text = a.has("text"), has_input = a.has("input");
    if (has_text == has_input) throw usage_error("give either --text or --input (exactly one of them)");
    const bool albert = a.has("albert"), pieces = a.has("pieces");
    if (a.has("max-length") && !albert) throw usage_error("--max-length needs --albert");

    std::string dir;
    std::error_code ec;
    if (std::filesystem::is_directory(spm, ec)) {
        dir = spm.back() == '/' ? spm : spm + "/";
        spm = dir + "spiece.model";
    } else {
        const auto slash = spm.find_last_of('/');
        dir = slash == std::string::npos ? std::string("./") : spm.substr(0, slash + 1);
    }

    std::vector<std::string> texts;
    if (has_text) {
        texts = a.all("text");
    } else {
        std::string data = edgebert::detail::read_text_file(a.get("input"));
        if (!data.empty() && data.back() == '\n') data.pop_back();
        const std::string in = a.get("input");
        const bool nothing = std::filesystem::exists(in, ec) &&
                             (!std::filesystem::is_regular_file(in, ec) || std::filesystem::file_size(in, ec) == 0);
        if (!data.empty() || !nothing) {
            std::size_t start = 0;
            for (;;) {
                const auto nl = data.find('\n', start);
                texts.push_back(data.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
                if (nl == std::string::npos) break;
                start = nl + 1;
            }
        }
    }

    auto print_pieces = [](const std::vector<std::string>& ps) {
        nlohmann::json j = ps;
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    };
    auto print_ids = [](const auto& ids) {
        std::string line = "[";
        for (std::size_t i = 0; i < ids.size(); ++i) line += (i ? "," : "") + std::to_string(ids[i]);
        std::cout << line << "]\n";
    };

    if (albert) {
        tx::albert_options opt;
        const std::string cfg = dir + "tokenizer_config.json";
        if (std::filesystem::exists(cfg, ec)) opt = tx::albert_tokenizer::read_options(cfg);
        if (a.has("max-length")) opt.max_length = std::size_t(a.integer("max-length", 0, 2));
        const tx::albert_tokenizer tok(tx::unigram_tokenizer::load(spm), opt);
        for (const auto& t : texts) {
            const auto ids = tok.encode(t);
            if (pieces) print_pieces(tok.decode_pieces(ids));
            else print_ids(ids);
        }
    } else {
        const auto tok = tx::unigram_tokenizer::load(spm);
        tx::encode_workspace ws;
        std::vector<int> ids;
        std::vector<std::string> ps;
        for (const auto& t : texts) {
            if (pieces) {
                ps.clear();
                tok.encode_pieces(t, ps, ws);
                print_pieces(ps);
            } else {
                ids.clear();
                tok.encode(t, ids, ws);
                print_ids(ids);
            }
        }
    }
    return 0;
}

}  // namespace edgebert_cli
