// SPDX-License-Identifier: Apache-2.0
#pragma once
// ALBERT's tokenizer conventions on top of the SentencePiece model, as HuggingFace's (slow)
// AlbertTokenizer applies them:
//  1. preprocess: " ".join(text.split()) (Python whitespace), `` and '' -> ", then unless keep_accents
//     NFKD with combining characters dropped, then str.lower() if do_lower_case;
//  2. SentencePiece encode to pieces; a piece longer than one character that ends in digit + ','
//     is re-encoded without the comma and U+2581 (dropping the new leading U+2581 if the original piece
//     had none), followed by a ',' piece;
//  3. pieces -> ids by piece lookup (unknown strings -> <unk>); [CLS] a [SEP] (b [SEP]), token types
//     0 for [CLS] a [SEP] and 1 for b [SEP]; optional truncation to max_length.
// Not reproduced: HF's splitting of the input on special-token strings ("[MASK]" typed in the text is
// ordinary text here). Invalid UTF-8 (which a Python str cannot hold) is read as U+FFFD per bad byte.

#include <cstdint>
#include <string>
#include <type_traits>
#include <string_view>
#include <utility>
#include <vector>

#include <filesystem>
#include <system_error>

#include "../core/error.hpp"
#include "../core/read_file.hpp"
#include "../core/token_batch.hpp"
#include "detail/unicode.hpp"
#include "unigram_tokenizer.hpp"

namespace edgebert::text {

struct albert_options {
    bool do_lower_case = true;   // HF AlbertTokenizer default
    bool keep_accents = false;   // HF default: strip accents
    bool remove_space = true;    // HF default: collapse whitespace
    std::size_t max_length = 0;  // 0: no truncation; else total length including [CLS]/[SEP]
};

/// A pair's ids and token types, as the model takes them.
struct albert_encoding {
    token_ids ids;
    token_ids token_type_ids;
};

class albert_tokenizer {
public:
    /// format_error if the model lacks [CLS] or [SEP].
    explicit albert_tokenizer(unigram_tokenizer spm, albert_options options = {})
        : spm_(std::move(spm)), options_(options) {
        cls_id_ = special_id("[CLS]");
        sep_id_ = special_id("[SEP]");
        mask_id_ = spm_.piece_to_id("[MASK]");
        pad_id_ = spm_.piece_to_id("<pad>");
    }

    /// `path` is a model folder (spiece.model, and tokenizer_config.json if present: do_lower_case,
    /// keep_accents, remove_space, max_length / model_max_length) or a .model file (ALBERT defaults).
    static albert_tokenizer load(const std::string& path) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) throw io_error("cannot open '" + path + "'");
        if (!std::filesystem::is_directory(path, ec)) return albert_tokenizer(unigram_tokenizer::load(path));
        const std::string dir = path.back() == '/' ? path : path + "/";
        albert_options opt;
        const std::string cfg_path = dir + "tokenizer_config.json";
        if (std::filesystem::exists(cfg_path, ec)) opt = read_options(cfg_path);
        return albert_tokenizer(unigram_tokenizer::load(dir + "spiece.model"), opt);
    }

    /// Options from a tokenizer_config.json (absent keys keep ALBERT's defaults); config_error for a key
    /// of the wrong type.
    static albert_options read_options(const std::string& cfg_path) {
        const auto j = edgebert::detail::read_json_file<format_error>(cfg_path);
        albert_options opt;
        if (!j.is_object()) throw config_error(cfg_path + ": expected a JSON object");
        auto flag = [&](const char* key, bool& out) {
            if (!j.contains(key) || j[key].is_null()) return;
            if (!j[key].is_boolean()) throw config_error(cfg_path + ": '" + key + "' must be true or false");
            out = j[key].get<bool>();
        };
        flag("do_lower_case", opt.do_lower_case);
        flag("keep_accents", opt.keep_accents);
        flag("remove_space", opt.remove_space);
        for (const char* key : {"model_max_length", "max_length"}) {
            if (!j.contains(key) || j[key].is_null()) continue;
            if (!j[key].is_number_integer() || j[key].get<long long>() < 2 || j[key].get<long long>() > (1LL << 30))
                continue;  // HF writes huge sentinels (1e30) for "no limit"; those mean no truncation
            opt.max_length = std::size_t(j[key].get<long long>());
        }
        return opt;
    }

    /// Step 1 (HF preprocess_text), UTF-8 in and out.
    std::string preprocess(std::string_view text) const {
        std::u32string s = detail::utf8_to_u32(text);
        if (options_.remove_space) {
            std::u32string joined;
            joined.reserve(s.size());
            for (std::size_t i = 0; i < s.size();) {
                while (i < s.size() && detail::py_isspace(s[i])) ++i;
                if (i == s.size()) break;
                if (!joined.empty()) joined.push_back(U' ');
                while (i < s.size() && !detail::py_isspace(s[i])) joined.push_back(s[i++]);
            }
            s.swap(joined);
        }
        s = replace_all(replace_all(s, U"``"), U"''");
        if (!options_.keep_accents) {
            std::u32string stripped;
            stripped.reserve(s.size());
            for (char32_t c : s) detail::append_strip_accents(stripped, c);
            s.swap(stripped);
        }
        if (options_.do_lower_case) s = detail::py_lower(s);
        return detail::u32_to_utf8(s);
    }

    /// Steps 1-2: the pieces HF's tokenize() gives.
    std::vector<std::string> tokenize(std::string_view text) const {
        std::vector<std::string> pieces = spm_.encode_pieces(preprocess(text));
        std::vector<std::string> out;
        out.reserve(pieces.size());
        const std::string_view ws(detail::space_symbol, detail::space_symbol_len);
        for (auto& piece : pieces) {
            const std::u32string cps = detail::utf8_to_u32(piece);
            if (cps.size() > 1 && cps.back() == U',' && detail::py_isdigit(cps[cps.size() - 2])) {
                std::string body = piece.substr(0, piece.size() - 1);
                std::string no_ws;
                for (std::size_t i = 0; i < body.size();) {
                    if (std::string_view(body).substr(i, ws.size()) == ws) i += ws.size();
                    else no_ws.push_back(body[i++]);
                }
                std::vector<std::string> cur = spm_.encode_pieces(no_ws);
                const bool starts_ws = std::string_view(piece).substr(0, ws.size()) == ws;
                if (!starts_ws && !cur.empty() && std::string_view(cur[0]).substr(0, ws.size()) == ws) {
                    if (cur[0].size() == ws.size()) cur.erase(cur.begin());
                    else cur[0].erase(0, ws.size());
                }
                for (auto& c : cur) out.push_back(std::move(c));
                out.emplace_back(",");
            } else {
                out.push_back(std::move(piece));
            }
        }
        return out;
    }

    /// Ids of tokenize(text), without special tokens or truncation.
    token_ids encode_plain(std::string_view text) const {
        token_ids ids;
        for (const auto& p : tokenize(text)) ids.push_back(spm_.piece_to_id(p));
        return ids;
    }

    /// [CLS] text [SEP], truncated to max_length (if set) by dropping tokens at the end of the text.
    token_ids encode(std::string_view text) const {
        token_ids a = encode_plain(text);
        if (options_.max_length > 0) {
            const std::size_t room = options_.max_length > 2 ? options_.max_length - 2 : 0;
            if (a.size() > room) a.resize(room);
        }
        token_ids ids;
        ids.reserve(a.size() + 2);
        ids.push_back(cls_id_);
        ids.insert(ids.end(), a.begin(), a.end());
        ids.push_back(sep_id_);
        return ids;
    }

    /// [CLS] a [SEP] b [SEP] with token types 0...0 1...1. With max_length set, tokens are dropped one at a
    /// time from the end of the longer text (b when equal), HF's "longest_first".
    albert_encoding encode_pair(std::string_view a_text, std::string_view b_text) const {
        token_ids a = encode_plain(a_text), b = encode_plain(b_text);
        if (options_.max_length > 0) {
            const std::size_t room = options_.max_length > 3 ? options_.max_length - 3 : 0;
            while (a.size() + b.size() > room) {
                if (a.size() > b.size()) a.pop_back();
                else b.pop_back();
            }
        }
        albert_encoding e;
        e.ids.reserve(a.size() + b.size() + 3);
        e.ids.push_back(cls_id_);
        e.ids.insert(e.ids.end(), a.begin(), a.end());
        e.ids.push_back(sep_id_);
        e.token_type_ids.assign(e.ids.size(), 0);
        e.ids.insert(e.ids.end(), b.begin(), b.end());
        e.ids.push_back(sep_id_);
        e.token_type_ids.resize(e.ids.size(), 1);
        return e;
    }

    /// The piece of each id (input_error for an id out of range).
    std::vector<std::string> decode_pieces(const token_ids& ids) const { return decode_pieces<token_id>(ids); }
    template <class Id>
    std::vector<std::string> decode_pieces(const std::vector<Id>& ids) const {
        std::vector<std::string> out;
        out.reserve(ids.size());
        for (const Id id : ids) out.push_back(spm_.id_to_piece(checked_id(id)));
        return out;
    }

    /// HF's decode: pieces joined, U+2581 -> space, stripped (convert_tokens_to_string); with
    /// skip_special, HF's special tokens [CLS], [SEP], <unk>, <pad>, [MASK] are left out first.
    std::string decode(const token_ids& ids, bool skip_special = true) const { return decode<token_id>(ids, skip_special); }
    template <class Id>
    std::string decode(const std::vector<Id>& ids, bool skip_special = true) const {
        std::string joined;
        for (const Id any_id : ids) {
            const int id = checked_id(any_id);
            if (skip_special && (id == cls_id_ || id == sep_id_ || id == spm_.unk_id() || id == pad_id_ || id == mask_id_))
                continue;
            joined += spm_.id_to_piece(id);
        }
        std::string out;
        const std::string_view ws(detail::space_symbol, detail::space_symbol_len);
        for (std::size_t i = 0; i < joined.size();) {
            if (std::string_view(joined).substr(i, ws.size()) == ws) {
                out.push_back(' ');
                i += ws.size();
            } else {
                out.push_back(joined[i++]);
            }
        }
        const auto first = out.find_first_not_of(" \t\n\r\f\v");
        if (first == std::string::npos) return {};
        const auto last = out.find_last_not_of(" \t\n\r\f\v");
        return out.substr(first, last - first + 1);
    }

    int cls_id() const { return cls_id_; }
    /// An id of any integer type as the vocabulary's int (input_error when it is not one of its ids).
    template <class Id>
    int checked_id(Id id) const {
        static_assert(std::is_integral_v<Id>, "token ids are integers");
        if (id < 0 || std::uint64_t(id) >= std::uint64_t(spm_.size()))
            throw input_error("token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(spm_.size() - 1) + ")");
        return int(id);
    }
    int sep_id() const { return sep_id_; }
    int mask_id() const { return mask_id_; }
    int pad_id() const { return pad_id_; }
    const albert_options& options() const { return options_; }
    albert_options& options() { return options_; }
    const unigram_tokenizer& sentencepiece() const { return spm_; }

private:
    int special_id(const char* piece) const {
        const int id = spm_.piece_to_id(piece);
        if (id == spm_.unk_id())
            throw format_error(spm_.source() + ": no '" + std::string(piece) + "' piece, so not an ALBERT model");
        return id;
    }

    static std::u32string replace_all(const std::u32string& s, const std::u32string& from) {
        std::u32string out;
        out.reserve(s.size());
        for (std::size_t i = 0; i < s.size();) {
            if (s.compare(i, from.size(), from) == 0) {
                out.push_back(U'"');
                i += from.size();
            } else {
                out.push_back(s[i++]);
            }
        }
        return out;
    }

    unigram_tokenizer spm_;
    albert_options options_;
    int cls_id_ = -1, sep_id_ = -1, mask_id_ = -1, pad_id_ = -1;
};

}  // namespace edgebert::text
