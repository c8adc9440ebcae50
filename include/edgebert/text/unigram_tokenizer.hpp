// SPDX-License-Identifier: Apache-2.0
#pragma once
// A SentencePiece unigram model: the ids of SentencePieceProcessor::Encode (sentencepiece 0.1.97, its
// default "optimized" Viterbi) for the same spiece.model. Normalise (normalizer.hpp), then find the
// best-scoring segmentation of the normalised bytes into vocabulary pieces, where
//  - NORMAL pieces score their log-probability, USER_DEFINED pieces score length_in_bytes * max_score -
//    0.1 (so they always win), UNUSED, CONTROL, UNKNOWN and BYTE pieces are never matched;
//  - a character with no single-character piece becomes an unknown node scoring min_score - 10;
//  - ties keep the earlier candidate (start positions left to right, shorter pieces first).
// Then, as the processor does: a run of unknown pieces is merged into one unk id, or, with byte_fallback,
// each unknown piece becomes the ids of its UTF-8 bytes' <0xXX> pieces.

#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "detail/tries.hpp"
#include "detail/utf8.hpp"
#include "normalizer.hpp"
#include "sentencepiece_model.hpp"

namespace edgebert::text {

/// One piece of an encoding: where it lies in the normalised text, and its id.
struct encoded_piece {
    std::uint32_t begin = 0, end = 0;  // byte range in the normalised text
    int id = 0;
};

/// Reusable buffers for encode(); keep one per thread to encode without allocating.
struct encode_workspace {
    std::string normalized;
    struct best_node {
        float score = 0.0f;
        int starts_at = -1;
        int id = -1;
    };
    std::vector<best_node> best;
    std::vector<encoded_piece> path;
};

class unigram_tokenizer {
public:
    /// Builds the tokenizer; format_error (naming `source`) if the pieces break SentencePiece's rules:
    /// empty or duplicate pieces, no or several UNKNOWN pieces, BYTE pieces without byte_fallback, or
    /// byte_fallback without all 256 <0xXX> pieces.
    explicit unigram_tokenizer(model_proto proto, std::string source = "spiece.model")
        : proto_(std::move(proto)), source_(std::move(source)) {
        init();
    }

    /// Reads `path` (io_error / format_error).
    static unigram_tokenizer load(const std::string& path) {
        return unigram_tokenizer(read_model_proto(path), "'" + path + "'");
    }

    /// The ids SentencePiece's encode gives for `text` (UTF-8; malformed bytes as SentencePiece treats them).
    std::vector<int> encode(std::string_view text) const {
        encode_workspace ws;
        std::vector<int> ids;
        encode(text, ids, ws);
        return ids;
    }

    /// As encode(text), appending to `ids` and using `ws` for scratch (no allocation once warmed up).
    void encode(std::string_view text, std::vector<int>& ids, encode_workspace& ws) const {
        normalizer_.normalize(text, ws.normalized);
        viterbi(ws.normalized, ws);
        bool prev_unk = false;
        for (const auto& p : ws.path) {
            const bool unk = p.id == unk_id_;
            if (unk && proto_.trainer.byte_fallback) {
                for (std::uint32_t i = p.begin; i < p.end; ++i)
                    ids.push_back(byte_ids_[static_cast<unsigned char>(ws.normalized[i])]);
            } else if (!(unk && prev_unk)) {
                ids.push_back(p.id);
            }
            prev_unk = unk;
        }
    }

    /// The pieces as the Python library's encode(text, out_type=str) gives them: vocabulary pieces, the
    /// normalised text of a (merged) unknown run, or <0xXX> byte pieces.
    std::vector<std::string> encode_pieces(std::string_view text) const {
        encode_workspace ws;
        std::vector<std::string> out;
        encode_pieces(text, out, ws);
        return out;
    }

    void encode_pieces(std::string_view text, std::vector<std::string>& out, encode_workspace& ws) const {
        normalizer_.normalize(text, ws.normalized);
        viterbi(ws.normalized, ws);
        bool prev_unk = false;
        for (const auto& p : ws.path) {
            const bool unk = p.id == unk_id_;
            const std::string_view surface(ws.normalized.data() + p.begin, p.end - p.begin);
            if (unk && proto_.trainer.byte_fallback) {
                for (unsigned char c : surface) out.push_back(proto_.pieces[std::size_t(byte_ids_[c])].piece);
            } else if (unk && prev_unk) {
                out.back().append(surface);
            } else {
                out.emplace_back(surface);
            }
            prev_unk = unk;
        }
    }

    /// The normalised text the model segments.
    std::string normalize(std::string_view text) const { return normalizer_.normalize(text); }

    /// SentencePiece's Decode(ids): control pieces vanish, unk becomes unk_surface (" \u2047 " by
    /// default), runs of byte pieces are decoded as UTF-8 (U+FFFD for each bad byte), U+2581 becomes a
    /// space, and the leading space that add_dummy_prefix / remove_extra_whitespaces implies is dropped.
    /// input_error for an id out of range.
    std::string decode(const std::vector<int>& ids) const {
        std::string text, bytes;
        bool is_bos_ws = true, bos_ws_seen = false;
        auto flush_bytes = [&] {
            std::size_t off = 0;
            while (off < bytes.size()) {
                std::size_t len = 0;
                if (detail::is_valid_utf8_char(bytes.data() + off, bytes.data() + bytes.size(), len))
                    text.append(bytes, off, len);
                else
                    text.append("\xEF\xBF\xBD");
                off += len;
            }
            bytes.clear();
        };
        for (const int id : ids) {
            check_id(id);
            const auto& sp = proto_.pieces[std::size_t(id)];
            if (sp.type == piece_type::byte) {
                bytes.push_back(char(byte_of_[std::size_t(id)]));
                continue;
            }
            flush_bytes();
            if (bos_ws_seen || !text.empty()) is_bos_ws = false;
            bos_ws_seen = false;
            if (sp.type == piece_type::control) continue;
            if (sp.type == piece_type::unknown) {
                text += proto_.trainer.unk_surface;
                continue;
            }
            std::string_view piece = sp.piece;
            const std::string_view ws(detail::space_symbol, detail::space_symbol_len);
            if (is_bos_ws && (proto_.normalizer.add_dummy_prefix || proto_.normalizer.remove_extra_whitespaces)) {
                if (piece.substr(0, ws.size()) == ws) {
                    piece.remove_prefix(ws.size());
                    bos_ws_seen = !proto_.normalizer.remove_extra_whitespaces;
                }
            }
            for (std::size_t i = 0; i < piece.size();) {
                if (piece.substr(i, ws.size()) == ws) {
                    text.push_back(' ');
                    i += ws.size();
                } else {
                    text.push_back(piece[i++]);
                }
            }
        }
        flush_bytes();
        if (has_denormalizer_) return denormalizer_.normalize(text);
        return text;
    }

    /// Id of a piece string (control, unknown and byte pieces included), unk_id() if absent — as
    /// SentencePiece's PieceToId.
    int piece_to_id(std::string_view piece) const {
        if (auto it = reserved_.find(std::string(piece)); it != reserved_.end()) return it->second;
        const int id = trie_.find(piece);
        return id >= 0 ? id : unk_id_;
    }

    const std::string& id_to_piece(int id) const {
        check_id(id);
        return proto_.pieces[std::size_t(id)].piece;
    }

    int size() const { return int(proto_.pieces.size()); }
    int unk_id() const { return unk_id_; }
    /// The trainer's pad/bos/eos ids (-1 when the model has none).
    int pad_id() const { return proto_.trainer.pad_id; }
    int bos_id() const { return proto_.trainer.bos_id; }
    int eos_id() const { return proto_.trainer.eos_id; }
    piece_type type(int id) const {
        check_id(id);
        return proto_.pieces[std::size_t(id)].type;
    }
    float score(int id) const {
        check_id(id);
        return proto_.pieces[std::size_t(id)].score;
    }
    const model_proto& proto() const { return proto_; }
    const std::string& source() const { return source_; }

private:
    void check_id(int id) const {
        if (id < 0 || id >= size())
            throw input_error("token id " + std::to_string(id) + " is out of range for " + source_ + " (" +
                              std::to_string(size()) + " pieces)");
    }

    void init() {
        std::vector<std::pair<std::string, int>> keys;
        std::vector<std::string> user_defined;
        bool byte_found[256] = {};
        byte_ids_.assign(256, -1);
        byte_of_.assign(proto_.pieces.size(), -1);
        std::unordered_map<std::string, int> normal_seen;
        min_score_ = FLT_MAX;
        max_score_ = FLT_MIN;  // sic: SentencePiece starts the maximum at the smallest positive float
        for (std::size_t i = 0; i < proto_.pieces.size(); ++i) {
            const auto& sp = proto_.pieces[i];
            const std::string where = source_ + ": piece " + std::to_string(i);
            if (sp.piece.empty()) throw format_error(where + " is empty");
            const bool normal_like = sp.type == piece_type::normal || sp.type == piece_type::user_defined ||
                                     sp.type == piece_type::unused;
            auto& table = normal_like ? normal_seen : reserved_;
            if (!table.emplace(sp.piece, int(i)).second)
                throw format_error(where + " '" + sp.piece + "' is already defined");
            if (normal_like) keys.emplace_back(sp.piece, int(i));
            if (sp.type == piece_type::user_defined) user_defined.push_back(sp.piece);
            if (sp.type == piece_type::unknown) {
                if (unk_id_ >= 0) throw format_error(where + ": a second UNKNOWN piece ('" + sp.piece + "')");
                unk_id_ = int(i);
            }
            if (sp.type == piece_type::byte) {
                if (!proto_.trainer.byte_fallback)
                    throw format_error(where + ": byte piece '" + sp.piece + "' but byte_fallback is false");
                const int b = parse_byte_piece(sp.piece);
                if (b < 0) throw format_error(where + ": invalid byte piece '" + sp.piece + "'");
                byte_found[b] = true;
                byte_ids_[std::size_t(b)] = int(i);
                byte_of_[i] = b;
            }
            if (sp.type == piece_type::normal) {
                min_score_ = std::min(min_score_, sp.score);
                max_score_ = std::max(max_score_, sp.score);
            }
        }
        if (unk_id_ < 0) throw format_error(source_ + ": the model has no UNKNOWN piece");
        if (proto_.trainer.byte_fallback)
            for (int b = 0; b < 256; ++b)
                if (!byte_found[b])
                    throw format_error(source_ + ": byte_fallback is set but there is no piece for byte " +
                                       std::to_string(b));
        trie_ = detail::piece_trie(keys);
        // Per trie node, the id the search may emit there (-1: none, or an UNUSED piece) and its score. A
        // node's depth is its piece's byte length, so the user-defined bonus is fixed per node too.
        node_id_.assign(trie_.node_count(), -1);
        node_score_.assign(trie_.node_count(), 0.0);
        for (const auto& [piece, id] : keys) {
            const auto& sp = proto_.pieces[std::size_t(id)];
            if (sp.type == piece_type::unused) continue;
            const std::uint32_t node = trie_.node_of(piece);
            node_id_[node] = id;
            node_score_[node] = sp.type == piece_type::user_defined
                                    ? double(float(piece.size()) * max_score_) - 0.1
                                    : double(sp.score);
        }
        normalizer_ = normalizer(proto_.normalizer, proto_.trainer.treat_whitespace_as_suffix, user_defined, source_);
        if (proto_.has_denormalizer && !proto_.denormalizer.precompiled_charsmap.empty()) {
            has_denormalizer_ = true;
            denormalizer_ = normalizer(proto_.denormalizer, false, {}, source_ + " (denormalizer)");
        }
    }

    static int parse_byte_piece(const std::string& p) {
        // Exactly "<0xHH>" with upper-case hex, as SentencePiece writes them.
        if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return -1;
        auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
        const int hi = hex(p[3]), lo = hex(p[4]);
        return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
    }

    // SentencePiece 0.1.97's EncodeOptimized: best path ending at each byte position, candidates taken
    // in order of start position, then trie order (shorter first); strictly better replaces. A candidate
    // score is computed in double (the reference's ternary mixes the user-defined double bonus with
    // float scores) and stored as float, exactly as there.
    void viterbi(const std::string& s, encode_workspace& ws) const {
        ws.path.clear();
        const std::size_t n = s.size();
        if (n == 0) return;
        ws.best.assign(n + 1, encode_workspace::best_node{});
        auto* best = ws.best.data();
        const float unk_score = min_score_ - 10.0f;
        const char* data = s.data();
        std::size_t start = 0;
        while (start < n) {
            const float till_here = best[start].score;
            const std::size_t mblen = std::min(detail::one_char_len(static_cast<unsigned char>(data[start])), n - start);
            bool has_single = false;
            std::uint32_t node = detail::piece_trie::root;
            for (std::size_t k = start; k < n;) {
                node = trie_.child(node, static_cast<unsigned char>(data[k]));
                if (node == detail::piece_trie::no_node) break;
                ++k;
                const int id = node_id_[node];
                if (id < 0) continue;
                const std::size_t length = k - start;
                const double candidate = node_score_[node] + double(till_here);
                auto& target = best[k];
                if (target.starts_at == -1 || candidate > double(target.score)) {
                    target.score = float(candidate);
                    target.starts_at = int(start);
                    target.id = id;
                }
                if (length == mblen) has_single = true;
            }
            if (!has_single) {
                auto& target = best[start + mblen];
                const float candidate = unk_score + till_here;
                if (target.starts_at == -1 || candidate > target.score) {
                    target.score = candidate;
                    target.starts_at = int(start);
                    target.id = unk_id_;
                }
            }
            start += mblen;
        }
        for (std::size_t end = n; end > 0;) {
            const auto& b = best[end];
            ws.path.push_back({std::uint32_t(b.starts_at), std::uint32_t(end), b.id});
            end = std::size_t(b.starts_at);
        }
        std::reverse(ws.path.begin(), ws.path.end());
    }

    model_proto proto_;
    std::string source_;
    normalizer normalizer_;
    normalizer denormalizer_;
    bool has_denormalizer_ = false;
    detail::piece_trie trie_;
    std::unordered_map<std::string, int> reserved_;  // CONTROL, UNKNOWN, BYTE pieces
    std::vector<int> byte_ids_;                      // byte -> id of its <0xXX> piece
    std::vector<int> byte_of_;                       // id -> byte, -1 if not a byte piece
    std::vector<int> node_id_;          // trie node -> id to emit, -1 if none
    std::vector<double> node_score_;    // trie node -> score as the reference computes it
    int unk_id_ = -1;
    float min_score_ = 0.0f, max_score_ = 0.0f;
};

}  // namespace edgebert::text
