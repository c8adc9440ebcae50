# SPDX-License-Identifier: Apache-2.0
"""The unlabelled English text the shared backbone is pretrained on, and the task data read from the shared
data folder (`../shared/data` by default; every function takes the folder as an argument).

Backbone text: IMDb train (25,000 reviews) + unlabelled (50,000) and the SST-2 *train* phrases (text only).
No SST-2/MRPC/TREC label and no dev/test sentence of any task is ever read here. The IMDb train labels are
returned separately (`imdb_polarity`) because the pretraining may use them as an auxiliary [CLS] objective; the
model card says so.

GLUE's SST-2, MRPC and TREC are PTB-tokenized ("it 's", "do n't", "good , but"), raw IMDb is not; half of the
reviews (chosen by a CRC32 of the text, so stable across runs and machines) are rewritten in the PTB style so the
backbone sees both spellings of the same words."""
import gzip
import os
import re
import zlib

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.normpath(os.path.join(_REPO, "..", "shared", "data"))

_PUNCT = re.compile(r'([,;:!?()"\[\]{}]|\.\.\.|(?<!\d)\.(?!\d)|(?<=\d)\.(?!\d))')
_CONTR = re.compile(r"(?i)(\w)(n't|'s|'re|'ve|'ll|'d|'m)\b")
_SENT = re.compile(r'(?<=[.!?])["\')]*\s+(?=["\'(]*[A-Z0-9])')


def ptb_style(text):
    """Approximately the Penn-Treebank tokenization GLUE's sentences use: punctuation split off, clitics apart."""
    t = _CONTR.sub(r"\1 \2", text)
    t = _PUNCT.sub(r" \1 ", t)
    return " ".join(t.split())


def split_sentences(text):
    """Sentence split on ., ! or ? followed by space and a capital/digit (good enough for reviews)."""
    return [s.strip() for s in _SENT.split(text) if s.strip()]


def use_ptb(text):
    return zlib.crc32(text.encode("utf-8")) % 2 == 0


def read_imdb(data_dir, part):
    """[(label, text)] of imdb_{part}.tsv.gz (part 'train': labels 0/1, 'unsup': -1)."""
    rows = []
    with gzip.open(os.path.join(data_dir, "imdb", f"imdb_{part}.tsv.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            rows.append((int(label), text))
    return rows


def read_sst2(data_dir, split):
    rows = []
    with open(os.path.join(data_dir, "glue-sst2", f"{split}.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            rows.append((int(label), text))
    return rows


def pretraining_documents(data_dir):
    """[(polarity, [sentence, ...])]: the IMDb train reviews (polarity 0/1), the unlabelled reviews (-1), then
    the unique SST-2 train phrases as one-sentence documents (-1: their labels are never used here)."""
    docs = []
    for part in ("train", "unsup"):
        for label, text in read_imdb(data_dir, part):
            sents = split_sentences(text)
            if use_ptb(text):
                sents = [ptb_style(s) for s in sents]
            docs.append((label if part == "train" else -1, sents))
    for t in sorted({t for _, t in read_sst2(data_dir, "train")}):
        docs.append((-1, [t]))
    return docs


def read_mrpc(data_dir, split):
    """[(label, sentence1, sentence2)] of GLUE MRPC train/dev."""
    rows = []
    with open(os.path.join(data_dir, "glue", "MRPC", f"{split}.tsv"), encoding="utf-8-sig") as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            rows.append((int(p[0]), p[3], p[4]))
    return rows


TREC_CLASSES = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


def read_trec(data_dir):
    """[(coarse label index, question)] of train_5500.label, in file order."""
    rows = []
    with open(os.path.join(data_dir, "trec", "train_5500.label"), encoding="latin-1") as f:
        for line in f:
            lab, q = line.rstrip("\n").split(" ", 1)
            rows.append((TREC_CLASSES.index(lab.split(":")[0]), q.strip()))
    return rows


def trec_split(data_dir):
    """TREC has no dev file here: the dev split is the questions whose CRC32 % 10 == 0 (about 10 %, stable,
    independent of file order); the rest is train. Returns (train, dev)."""
    tr, dv = [], []
    for lab, q in read_trec(data_dir):
        (dv if zlib.crc32(q.encode("utf-8")) % 10 == 0 else tr).append((lab, q))
    return tr, dv
