# SPDX-License-Identifier: Apache-2.0
"""HF AlbertTokenizer's behaviour on top of the sentencepiece library: preprocess_text (whitespace clean-up,
`` and '' -> ", NFKD accent stripping unless keep_accents, lower-casing if do_lower_case), sentencepiece
encode, HF's split of pieces that end in digit + comma, then [CLS] ... [SEP] and truncation."""
import unicodedata

import sentencepiece as spm

UNDERLINE = "\u2581"


class AlbertTokenizer:
    def __init__(self, spiece_path, do_lower_case=True, keep_accents=False, max_length=128):
        self.sp = spm.SentencePieceProcessor(model_file=spiece_path)
        self.do_lower_case, self.keep_accents, self.max_length = do_lower_case, keep_accents, max_length
        self.cls_id = self.sp.piece_to_id("[CLS]")
        self.sep_id = self.sp.piece_to_id("[SEP]")
        self.mask_id = self.sp.piece_to_id("[MASK]")
        self.pad_id = self.sp.piece_to_id("<pad>")
        self.vocab_size = self.sp.get_piece_size()

    def preprocess(self, text):
        out = " ".join(text.strip().split())
        out = out.replace("``", '"').replace("''", '"')
        if not self.keep_accents:
            out = unicodedata.normalize("NFKD", out)
            out = "".join(c for c in out if not unicodedata.combining(c))
        if self.do_lower_case:
            out = out.lower()
        return out

    def pieces(self, text):
        new = []
        for piece in self.sp.encode(self.preprocess(text), out_type=str):
            if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
                cur = self.sp.encode(piece[:-1].replace(UNDERLINE, ""), out_type=str)
                if piece[0] != UNDERLINE and cur and cur[0][0] == UNDERLINE:
                    if len(cur[0]) == 1:
                        cur = cur[1:]
                    else:
                        cur[0] = cur[0][1:]
                cur.append(piece[-1])
                new.extend(cur)
            else:
                new.append(piece)
        return new

    def encode(self, text, add_special=True, max_length=None):
        ids = [self.sp.piece_to_id(p) for p in self.pieces(text)]
        n = (max_length or self.max_length) - (2 if add_special else 0)
        ids = ids[:n]
        return [self.cls_id] + ids + [self.sep_id] if add_special else ids

    def encode_pair(self, text_a, text_b, max_length=None):
        """[CLS] a [SEP] b [SEP] and token types (0 up to and including the first [SEP], 1 after), truncated as
        HF's "longest_first": one piece at a time from the end of the currently longer side (a on ties)."""
        a = [self.sp.piece_to_id(p) for p in self.pieces(text_a)]
        b = [self.sp.piece_to_id(p) for p in self.pieces(text_b)]
        room = (max_length or self.max_length) - 3
        while len(a) + len(b) > room:
            if len(a) >= len(b):
                a.pop()
            else:
                b.pop()
        ids = [self.cls_id] + a + [self.sep_id] + b + [self.sep_id]
        return ids, [0] * (len(a) + 2) + [1] * (len(b) + 1)


def train_spiece(text_file, model_prefix, vocab_size, seed_sentence_size=2000000):
    """Unigram model with ALBERT's special pieces: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3 [MASK]=4, nmt_nfkc.
    The input text should already be preprocessed (lower-cased, accents stripped)."""
    spm.SentencePieceTrainer.train(
        input=text_file, model_prefix=model_prefix, vocab_size=vocab_size, model_type="unigram",
        normalization_rule_name="nmt_nfkc", character_coverage=0.9995, pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
        pad_piece="<pad>", unk_piece="<unk>", control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        input_sentence_size=seed_sentence_size, shuffle_input_sentence=True, num_threads=1,
        max_sentence_length=8192, minloglevel=2)
