# SPDX-License-Identifier: Apache-2.0
"""Reference ids from the SentencePiece Python library, for the C++ tokenizer's golden files and for the
C++ tests that re-check against the library when it is installed.

    python3 python/tools/spm_reference.py MODEL INPUT OUTPUT [--mode plain|albert|albert-cased|albert-pairs]

INPUT holds one text per line, split on '\\n' only (so tabs, CR, NEL and other odd whitespace stay inside a
line); it is read as bytes, and lines that are not valid UTF-8 are passed to the library as bytes. OUTPUT
gets one line per text: space-separated ids (plain, albert, albert-cased), or "ids<TAB>token types" for
albert-pairs (line 2k with line 2k+1). albert modes follow HuggingFace AlbertTokenizer (see
python/edgebert_tools/tokenizer.py); albert-cased is do_lower_case=False, keep_accents=True.
"""
import argparse
import os
import sys

import sentencepiece as spm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from edgebert_tools.tokenizer import AlbertTokenizer  # noqa: E402


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.endswith(b"\n"):
        data = data[:-1]
    out = []
    for raw in data.split(b"\n"):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(raw)
    return out


def albert_ids(tok, text):
    ids = [tok.sp.piece_to_id(p) for p in tok.pieces(text)]
    return [tok.cls_id] + ids + [tok.sep_id]


def encode_lines(model, lines, mode):
    if mode == "plain":
        sp = spm.SentencePieceProcessor(model_file=model)
        return [" ".join(map(str, sp.encode(t))) for t in lines]
    tok = AlbertTokenizer(model, do_lower_case=(mode != "albert-cased"), keep_accents=(mode == "albert-cased"))
    if mode in ("albert", "albert-cased"):
        return [" ".join(map(str, albert_ids(tok, t))) for t in lines]
    if mode == "albert-pairs":
        out = []
        for i in range(0, len(lines) - 1, 2):
            a, b = albert_ids(tok, lines[i]), albert_ids(tok, lines[i + 1])[1:]
            ids = a + b
            types = [0] * len(a) + [1] * len(b)
            out.append(" ".join(map(str, ids)) + "\t" + " ".join(map(str, types)))
        return out
    raise SystemExit(f"unknown mode {mode}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--mode", default="plain", choices=["plain", "albert", "albert-cased", "albert-pairs"])
    a = ap.parse_args()
    lines = read_lines(a.input)
    with open(a.output, "w", encoding="utf-8", newline="\n") as f:
        for line in encode_lines(a.model, lines, a.mode):
            f.write(line + "\n")


if __name__ == "__main__":
    main()
