# SPDX-License-Identifier: Apache-2.0
"""The text the bundled model is trained on: GLUE SST-2 (tab-separated) and language identification over the
fortune cookies Debian ships (fortunes, fortunes-min: en; fortunes-de; fortunes-es; fortunes-it). The fortune
split is by a hash of the text, so it does not depend on file order."""
import glob
import hashlib
import os
import re

FORTUNE_ROOT = "/usr/share/games/fortunes"
LANGS = ["en", "de", "es", "it"]


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            rows.append((int(label), text))
    return rows


def _files(lang, root):
    if lang == "en":  # the English files are the regular files at the top level (Italian ones are symlinks)
        paths = [p for p in glob.glob(os.path.join(root, "*")) if os.path.isfile(p) and not os.path.islink(p)]
    else:
        paths = [p for p in glob.glob(os.path.join(root, lang, "*")) if os.path.isfile(p) and not os.path.islink(p)]
    bad = ("art", "ascii", "banner", "asciiart", "translate-me")
    return sorted(p for p in paths if not p.endswith((".dat", ".u8")) and os.path.basename(p).split(".")[0] not in bad)


def _read(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def fortunes(lang, root=FORTUNE_ROOT, max_words=48):
    """Cleaned fortunes of one language: one line each, attribution lines dropped, at most max_words words,
    duplicates removed, at least 4 words and mostly letters."""
    out, seen = [], set()
    for p in _files(lang, root):
        for block in _read(p).split("\n%\n"):
            lines = [l for l in block.strip("%\n").split("\n") if not re.match(r"^\s*(--|—)", l)]
            text = " ".join(" ".join(lines).split())
            words = text.split()
            if len(words) < 4:
                continue
            text = " ".join(words[:max_words])
            letters = sum(c.isalpha() for c in text)
            if letters < 0.6 * len(text) or text in seen:
                continue
            seen.add(text)
            out.append(text)
    return out


def split_of(text):
    """'dev' for about 8 %, 'test' for 8 %, else 'train' (stable across runs and machines)."""
    h = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "dev" if h < 8 else "test" if h < 16 else "train"


def lang_splits(root=FORTUNE_ROOT, per_lang_train=4000, per_lang_eval=250):
    """{'train': [(label, text)], 'dev': [...], 'test': [...]}, balanced per language (first n in hash order)."""
    res = {"train": [], "dev": [], "test": []}
    for li, lang in enumerate(LANGS):
        texts = sorted(fortunes(lang, root), key=lambda t: hashlib.sha1(t.encode("utf-8")).hexdigest())
        by = {"train": [], "dev": [], "test": []}
        for t in texts:
            by[split_of(t)].append(t)
        res["train"] += [(li, t) for t in by["train"][:per_lang_train]]
        res["dev"] += [(li, t) for t in by["dev"][:per_lang_eval]]
        res["test"] += [(li, t) for t in by["test"][:per_lang_eval]]
    return res


def all_train_fortunes(root=FORTUNE_ROOT):
    """Every train-split fortune of every language (for the tokenizer and MLM pretraining)."""
    return [t for lang in LANGS for t in fortunes(lang, root) if split_of(t) == "train"]
