// SPDX-License-Identifier: Apache-2.0
#pragma once
// SentencePiece's model file (`spiece.model`): a protobuf-serialised ModelProto, read here by a small
// wire-format reader of our own (no protobuf library). Fields that matter for encoding and decoding are
// kept; unknown fields are skipped as protobuf does. Truncated or malformed input is a format_error that
// names the field and the byte offset; a model type other than UNIGRAM is a format_error saying so.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/read_file.hpp"

namespace edgebert::text {

/// ModelProto.SentencePiece.Type (values as in sentencepiece_model.proto).
enum class piece_type : std::uint8_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

struct sentence_piece {
    std::string piece;
    float score = 0.0f;
    piece_type type = piece_type::normal;
};

/// TrainerSpec fields that change how a model encodes or decodes (defaults are the proto's).
struct trainer_spec {
    int model_type = 1;  // UNIGRAM; BPE = 2, WORD = 3, CHAR = 4
    int vocab_size = 8000;
    bool byte_fallback = false;
    bool treat_whitespace_as_suffix = false;
    bool allow_whitespace_only_pieces = false;
    bool split_digits = false;
    bool split_by_whitespace = true;
    int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
    std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
    std::string unk_surface = " \xE2\x81\x87 ";
};

/// NormalizerSpec (also used for the optional denormalizer).
struct normalizer_spec {
    std::string name;
    std::string precompiled_charsmap;  // <u32 trie bytes><darts-clone double array><NUL-separated strings>
    bool add_dummy_prefix = true;
    bool remove_extra_whitespaces = true;
    bool escape_whitespaces = true;
    std::string normalization_rule_tsv;
};

struct model_proto {
    std::vector<sentence_piece> pieces;
    trainer_spec trainer;
    normalizer_spec normalizer;
    bool has_denormalizer = false;
    normalizer_spec denormalizer;
    std::vector<std::pair<std::string, std::string>> self_test_samples;  // (input, expected pieces)
};

namespace detail {

/// Protobuf wire-format cursor over one message's bytes; offsets in errors are from the file's start.
class wire_reader {
public:
    wire_reader(std::string_view data, std::size_t base, const std::string& source)
        : data_(data), base_(base), source_(source) {}

    bool done() const { return pos_ >= data_.size(); }
    std::size_t offset() const { return base_ + pos_; }

    /// Reads a field key; returns (field number, wire type).
    std::pair<std::uint32_t, int> key(const std::string& where) {
        const std::size_t at = offset();
        const std::uint64_t k = varint(where + " (field key)");
        const std::uint64_t field = k >> 3;
        const int wt = int(k & 7);
        if (field == 0 || field > 0x1FFFFFFF) fail(where + ": invalid field number " + std::to_string(field), at);
        return {std::uint32_t(field), wt};
    }

    std::uint64_t varint(const std::string& where) {
        const std::size_t at = offset();
        std::uint64_t v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos_ >= data_.size()) fail("truncated varint in " + where, at);
            const auto b = static_cast<unsigned char>(data_[pos_++]);
            if (shift == 63 && b > 1) fail("varint longer than 64 bits in " + where, at);
            v |= std::uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint longer than 10 bytes in " + where, at);
    }

    std::uint32_t fixed32(const std::string& where) {
        if (data_.size() - pos_ < 4) fail("truncated 32-bit value in " + where, offset());
        std::uint32_t v = 0;
        for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + std::size_t(i)]);
        pos_ += 4;
        return v;
    }

    /// A length-delimited payload; returns it and the file offset where it starts.
    std::pair<std::string_view, std::size_t> bytes(const std::string& where) {
        const std::uint64_t n = varint(where + " (length)");
        const std::size_t at = offset();
        if (n > data_.size() - pos_)
            fail("truncated " + where + ": length " + std::to_string(n) + " but only " +
                     std::to_string(data_.size() - pos_) + " bytes left",
                 at);
        std::string_view v = data_.substr(pos_, std::size_t(n));
        pos_ += std::size_t(n);
        return {v, at};
    }

    void skip(int wire_type, const std::string& where) {
        switch (wire_type) {
        case 0: varint(where); return;
        case 1:
            if (data_.size() - pos_ < 8) fail("truncated 64-bit value in " + where, offset());
            pos_ += 8;
            return;
        case 2: bytes(where); return;
        case 5: fixed32(where); return;
        default: fail("unsupported wire type " + std::to_string(wire_type) + " in " + where, offset());
        }
    }

    void expect(int wire_type, int wanted, const std::string& where) {
        if (wire_type != wanted)
            fail(where + " has wire type " + std::to_string(wire_type) + ", expected " + std::to_string(wanted),
                 offset());
    }

    [[noreturn]] void fail(const std::string& what, std::size_t at) const {
        throw format_error(source_ + ": " + what + " at offset " + std::to_string(at));
    }

private:
    std::string_view data_;
    std::size_t base_;
    std::size_t pos_ = 0;
    const std::string& source_;
};

inline int to_int32(std::uint64_t v) { return static_cast<int>(static_cast<std::int32_t>(static_cast<std::uint32_t>(v))); }

inline float to_float(std::uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline sentence_piece parse_piece(std::string_view data, std::size_t base, const std::string& source,
                                  const std::string& where) {
    wire_reader r(data, base, source);
    sentence_piece sp;
    while (!r.done()) {
        const auto [field, wt] = r.key(where);
        switch (field) {
        case 1: r.expect(wt, 2, where + ".piece"); sp.piece = std::string(r.bytes(where + ".piece").first); break;
        case 2: r.expect(wt, 5, where + ".score"); sp.score = to_float(r.fixed32(where + ".score")); break;
        case 3: {
            r.expect(wt, 0, where + ".type");
            const std::size_t at = r.offset();
            const std::uint64_t t = r.varint(where + ".type");
            if (t < 1 || t > 6) r.fail(where + ".type: unknown piece type " + std::to_string(t), at);
            sp.type = static_cast<piece_type>(t);
            break;
        }
        default: r.skip(wt, where + ".field " + std::to_string(field));
        }
    }
    return sp;
}

inline void parse_trainer(std::string_view data, std::size_t base, const std::string& source, trainer_spec& t) {
    const std::string w = "TrainerSpec";
    wire_reader r(data, base, source);
    while (!r.done()) {
        const auto k = r.key(w);
        const std::uint32_t field = k.first;
        const int wt = k.second;
        const std::string f = w + ".field " + std::to_string(field);
        auto int_field = [&](const char* name) {
            r.expect(wt, 0, w + "." + name);
            return to_int32(r.varint(w + "." + name));
        };
        auto bool_field = [&](const char* name) {
            r.expect(wt, 0, w + "." + name);
            return r.varint(w + "." + name) != 0;
        };
        auto string_field = [&](const char* name) {
            r.expect(wt, 2, w + "." + name);
            return std::string(r.bytes(w + "." + name).first);
        };
        switch (field) {
        case 3: t.model_type = int_field("model_type"); break;
        case 4: t.vocab_size = int_field("vocab_size"); break;
        case 24: t.treat_whitespace_as_suffix = bool_field("treat_whitespace_as_suffix"); break;
        case 25: t.split_digits = bool_field("split_digits"); break;
        case 22: t.split_by_whitespace = bool_field("split_by_whitespace"); break;
        case 26: t.allow_whitespace_only_pieces = bool_field("allow_whitespace_only_pieces"); break;
        case 35: t.byte_fallback = bool_field("byte_fallback"); break;
        case 40: t.unk_id = int_field("unk_id"); break;
        case 41: t.bos_id = int_field("bos_id"); break;
        case 42: t.eos_id = int_field("eos_id"); break;
        case 43: t.pad_id = int_field("pad_id"); break;
        case 44: t.unk_surface = string_field("unk_surface"); break;
        case 45: t.unk_piece = string_field("unk_piece"); break;
        case 46: t.bos_piece = string_field("bos_piece"); break;
        case 47: t.eos_piece = string_field("eos_piece"); break;
        case 48: t.pad_piece = string_field("pad_piece"); break;
        default: r.skip(wt, f);
        }
    }
}

inline void parse_normalizer(std::string_view data, std::size_t base, const std::string& source,
                             const std::string& w, normalizer_spec& n) {
    wire_reader r(data, base, source);
    while (!r.done()) {
        const auto k = r.key(w);
        const std::uint32_t field = k.first;
        const int wt = k.second;
        auto bool_field = [&](const char* name) {
            r.expect(wt, 0, w + "." + name);
            return r.varint(w + "." + name) != 0;
        };
        auto string_field = [&](const char* name) {
            r.expect(wt, 2, w + "." + name);
            return std::string(r.bytes(w + "." + name).first);
        };
        switch (field) {
        case 1: n.name = string_field("name"); break;
        case 2: n.precompiled_charsmap = string_field("precompiled_charsmap"); break;
        case 3: n.add_dummy_prefix = bool_field("add_dummy_prefix"); break;
        case 4: n.remove_extra_whitespaces = bool_field("remove_extra_whitespaces"); break;
        case 5: n.escape_whitespaces = bool_field("escape_whitespaces"); break;
        case 6: n.normalization_rule_tsv = string_field("normalization_rule_tsv"); break;
        default: r.skip(wt, w + ".field " + std::to_string(field));
        }
    }
}

inline void parse_self_test(std::string_view data, std::size_t base, const std::string& source, model_proto& m) {
    wire_reader r(data, base, source);
    while (!r.done()) {
        const auto [field, wt] = r.key("SelfTestData");
        if (field != 1) {
            r.skip(wt, "SelfTestData.field " + std::to_string(field));
            continue;
        }
        r.expect(wt, 2, "SelfTestData.samples");
        const auto [sample, at] = r.bytes("SelfTestData.samples");
        wire_reader s(sample, at, source);
        std::pair<std::string, std::string> io;
        while (!s.done()) {
            const auto [f, swt] = s.key("SelfTestData.samples");
            if (f == 1 || f == 2) {
                s.expect(swt, 2, "SelfTestData.samples.input/expected");
                (f == 1 ? io.first : io.second) = std::string(s.bytes("SelfTestData.samples").first);
            } else {
                s.skip(swt, "SelfTestData.samples.field " + std::to_string(f));
            }
        }
        m.self_test_samples.push_back(std::move(io));
    }
}

}  // namespace detail

/// Parse a serialised ModelProto. `source` names the file in error messages.
inline model_proto parse_model_proto(std::string_view bytes, const std::string& source = "spiece.model") {
    model_proto m;
    detail::wire_reader r(bytes, 0, source);
    if (bytes.empty()) r.fail("empty file, not a SentencePiece model", 0);
    while (!r.done()) {
        const auto [field, wt] = r.key("ModelProto");
        switch (field) {
        case 1: {
            const std::string where = "ModelProto.pieces[" + std::to_string(m.pieces.size()) + "]";
            r.expect(wt, 2, where);
            const auto [payload, at] = r.bytes(where);
            m.pieces.push_back(detail::parse_piece(payload, at, source, where));
            break;
        }
        case 2: {
            r.expect(wt, 2, "ModelProto.trainer_spec");
            const auto [payload, at] = r.bytes("ModelProto.trainer_spec");
            detail::parse_trainer(payload, at, source, m.trainer);
            break;
        }
        case 3:
        case 5: {
            const std::string name = field == 3 ? "ModelProto.normalizer_spec" : "ModelProto.denormalizer_spec";
            r.expect(wt, 2, name);
            const auto [payload, at] = r.bytes(name);
            if (field == 5) m.has_denormalizer = true;
            detail::parse_normalizer(payload, at, source, name, field == 3 ? m.normalizer : m.denormalizer);
            break;
        }
        case 4: {
            r.expect(wt, 2, "ModelProto.self_test_data");
            const auto [payload, at] = r.bytes("ModelProto.self_test_data");
            detail::parse_self_test(payload, at, source, m);
            break;
        }
        default: r.skip(wt, "ModelProto.field " + std::to_string(field));
        }
    }
    if (m.trainer.model_type != 1) {
        const char* names[] = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};
        const int t = m.trainer.model_type;
        throw format_error(source + ": TrainerSpec.model_type is " +
                           ((t >= 1 && t <= 4) ? std::string(names[t]) : std::to_string(t)) +
                           "; only UNIGRAM models are supported");
    }
    if (m.pieces.empty()) throw format_error(source + ": ModelProto has no pieces (not a SentencePiece model?)");
    return m;
}

/// Read and parse a `spiece.model` file (io_error if unreadable, format_error if malformed).
inline model_proto read_model_proto(const std::string& path) {
    const std::string bytes = edgebert::detail::read_text_file(path);
    return parse_model_proto(bytes, "'" + path + "'");
}

}  // namespace edgebert::text
