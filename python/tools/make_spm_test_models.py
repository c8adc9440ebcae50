# SPDX-License-Identifier: Apache-2.0
"""Makes the small SentencePiece test models and golden files under tests/data/spm/.

    python3 python/tools/make_spm_test_models.py [--remake-mixed] [--shared ../shared/data]

Needs python3-sentencepiece and (for training and --remake-mixed) the Debian fortunes packages
fortunes-de fortunes-it fortunes-es fortunes-br fortunes-ru fortunes-min. Deterministic: fixed seed,
num_threads=1, all input sentences used in a fixed order.

Models (all unigram, small vocabularies so that the files stay small):
  nfkc.model     default nmt_nfkc normaliser (precompiled charsmap), user-defined and control symbols
  bytefb.model   byte_fallback=True, identity normaliser, low character coverage (many byte pieces)
  albert.model   ALBERT-like: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3 (control) [MASK]=4 (user-defined), nmt_nfkc,
                 trained on ALBERT-preprocessed text
  flags.model    nfkc_cf, add_dummy_prefix=False, remove_extra_whitespaces=False,
                 treat_whitespace_as_suffix=True, split_digits=True
Golden files: <model>.<corpus>.ids (plain encode) for corpora sst2_dev (the content column of
shared/data/glue-sst2/dev.tsv, in file order), mixed (mixed.txt), invalid (invalid_utf8.txt) and random
(random.txt, short random strings over tricky characters); albert.<corpus>.albert.ids,
albert.mixed.albert-cased.ids, albert.mixed.albert-pairs.ids (AlbertTokenizer
conventions, see spm_reference.py); nfkc.mixed.decoded.jsonl (decode of the ids, one JSON string a line).
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import spm_reference  # noqa: E402
from edgebert_tools.tokenizer import AlbertTokenizer  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "spm")
FORTUNES = "/usr/share/games/fortunes"
SEED = 20240611

# Lines of our own, for French (Debian has no French fortunes package) and for characters the fortunes lack.
OWN_LINES = [
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Ça coûte déjà 12,50 € — c'est où, l'hôtel « Bellevue » ?",
    "L'été dernier, nous étions à Noël-sur-Mer ; quelle drôle d'idée !",
    "Œuvre complète : 1 234,56 francs, 7,5 %, 3,14159…",
    "Ärger über Größe? Straße, Maß und Fuß — ẞ und ß.",
    "Ἐν ἀρχῇ ἦν ὁ λόγος, ΚΑΙ Ο ΛΟΓΟΣ ΗΝ ΠΡΟΣ ΤΟΝ ΘΕΟΝ. ΟΔΥΣΣΕΥΣ ΣΑΣ",
    "İstanbul’da ılık bir gün; ĞÜŞİÖÇ ğüşiöç.",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３，ｘｙｚ！ ｶﾀｶﾅ ﾊﾝｶｸ",
    "Emoji: 👍🏽 🇫🇷 👨‍👩‍👧 ❤️ ☕ — fin.",
    "Ligatures ﬁ ﬂ ﬃ, fractions ½ ¾, superscripts x² y³, ① ② ③, ℃ № ™ Ⅻ.",
    "Combining: e\u0301te\u0301, n\u0303, a\u0308\u0304, Z\u0327\u030c, \u0301 alone.",
    "日本語のテキストと中文文本，한국어 텍스트도 있습니다。",
    "Tabs\there\tand\u00a0no-break\u00a0spaces,\u2003em\u2003spaces and\u3000ideographic.",
    "  leading and trailing spaces   ",
    "``quoted'' and ''double'' and `single' quotes",
    "Numbers 1,000,000 and 3,5 and 42, then 7,",
    "Vertical\x0btab, form\x0cfeed, carriage\rreturn, NEL\u0085here, LS\u2028PS\u2029end",
    "Zero\u200bwidth\u200cjoiners\u200dand\ufeffBOM, soft\u00adhyphen",
    "Ελληνικά: Σίσυφος ΣΙΣΥΦΟΣ όσος ΌΣΟΣ.",
    "Русский текст: ЁЖИК в тумане, «ёлка».",
    "עברית ועربית: مرحبا بالعالم",
    "ＵＳＥＲ symbols @@ and <ctl> inside text",
    "[CLS] [SEP] [MASK] tokens written in text, [mask] too",
    "\u2581already escaped\u2581pieces",
    "",
    "   ",
    "\t",
    "x",
    "1,",
    "a1,b2,c3,",
    "Ａ１，Ｂ２，",
]


def fortune_lines():
    """All text lines of the fortunes files in the language folders and brasil, in sorted path order."""
    paths = []
    for sub in ("de", "it", "es", "ru"):
        d = os.path.join(FORTUNES, sub)
        if os.path.isdir(d):
            paths += [os.path.join(d, n) for n in sorted(os.listdir(d)) if not n.endswith((".dat", ".u8"))]
    paths.append(os.path.join(FORTUNES, "brasil"))
    lines = []
    for p in paths:
        if not os.path.isfile(p) or os.path.islink(p):
            continue
        with open(p, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for line in text.split("\n"):
            line = line.strip()
            if line and line != "%" and len(line) > 3:
                lines.append(line)
    if len(lines) < 1000:
        sys.exit(f"found only {len(lines)} fortune lines under {FORTUNES}: install the fortunes packages")
    return lines


def decorate(rng, line):
    """Odd whitespace, full-width characters, emoji and combining accents, added at random."""
    odd_ws = ["  ", "\t", "\u00a0", "\u3000", "\u2002", " \t ", "\u200b", "\r", "\x0b", "\u2028"]
    extras = ["\U0001F600", "\u2764\ufe0f", "\u0301", "\u0308", "\uff01", "\uff21\uff22", "\u00bd", "\u2460"]
    r = rng.random()
    if r < 0.25:
        words = line.split(" ")
        return rng.choice(odd_ws).join(words)
    if r < 0.4:
        pos = rng.randrange(len(line) + 1)
        return line[:pos] + rng.choice(extras) + line[pos:]
    if r < 0.5:
        return rng.choice(odd_ws) + line + rng.choice(odd_ws)
    if r < 0.6:
        table = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,!?"}
        return "".join(table.get(c, c) if rng.random() < 0.3 else c for c in line)
    return line


def make_mixed(path):
    rng = random.Random(SEED)
    lines = fortune_lines()
    picked = [decorate(rng, lines[i]) for i in sorted(rng.sample(range(len(lines)), 320))]
    all_lines = OWN_LINES + picked
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in all_lines:
            assert "\n" not in line
            f.write(line + "\n")
    print(f"wrote {path}: {len(all_lines)} lines")


def invalid_lines():
    return [
        b"abc \xff def",
        b"\xc3\x28 broken two-byte",
        b"\xe2\x82 truncated three-byte at end \xe2\x82",
        b"\xf0\x9f\x98 truncated four-byte \xf0",
        b"overlong \xc0\xaf and \xe0\x80\xaf",
        b"surrogate \xed\xa0\x80 encoded",
        b"above max \xf4\x90\x80\x80 and \xf8\x88\x80\x80\x80",
        b"lone continuation \x80\x81\xbf bytes",
        b"valid \xef\xbf\xbd replacement char and \xfe\xfe",
        b"\xff",
        b"caf\xe9 latin-1 \xe0 la cr\xe8me",
    ]


def random_lines(n=1500):
    """Short random strings over pieces that stress the edge cases: user-defined and control symbols,
    U+2581 itself, sigma, dotted I, ligatures, full-width digits and commas, combining marks, ZWJ."""
    rng = random.Random(SEED + 1)
    pool = list("abcdefghijklmnopqrstuvwxyz ABCDEFXYZ0123456789,.,,!?'`\"-") + [
        "  ", "\t", "\u00a0", "\u3000", "\u00e9", "e\u0301", "\u00df", "\u1e9e", "\u03a3", "\u0391\u03a3",
        "\u0130", "\u0131", "\ufb01", "\u2460", "\u00bd", "\uff21", "\uff11", "\uff0c", "\u65e5\u672c",
        "\u4e2d", "\ud55c\uad6d", "\U0001F600", "\U0001F44D\U0001F3FD", "\u200b", "\u200d", "\ufeff", "\u2581",
        "\uff35\uff33\uff25\uff32", "@@", "<ctl>", "[MASK]", "[CLS]", "<unk>", "<0x41>", "\u0301", "\x7f", "\x01",
        "\uff76", "\uff9e", "\u01c4", "\u01c5", "\ufb00", "\u2122", "\u2026", "\u00ab", "\u00bb", "\u2014", "\u20ac"]
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 25))) for _ in range(n)]


def sst2_dev(shared):
    path = os.path.join(shared, "glue-sst2", "dev.tsv")
    with open(path, encoding="utf-8") as f:
        rows = f.read().split("\n")
    return [r.split("\t", 1)[1] for r in rows[1:] if r]


def training_text(shared, albert_preprocess):
    with open(os.path.join(shared, "glue-sst2", "train.tsv"), encoding="utf-8") as f:
        rows = f.read().split("\n")
    sents = [r.split("\t", 1)[1] for r in rows[1:] if r]
    sents += fortune_lines()
    sents += OWN_LINES
    if albert_preprocess:
        pre = AlbertTokenizer.preprocess.__get__(type("P", (), {"keep_accents": False, "do_lower_case": True})())
        sents = [pre(s) for s in sents]
    return [s.replace("\r", " ").replace("\x0b", " ").replace("\x0c", " ") for s in sents if s.strip()]


def train(name, sentences, **kw):
    spm.set_random_generator_seed(SEED)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        # Relative names, because the trainer records its input path and model prefix in the model.
        os.chdir(tmp)
        try:
            with open("corpus.txt", "w", encoding="utf-8", newline="\n") as f:
                for s in sentences:
                    f.write(s + "\n")
            spm.SentencePieceTrainer.train(input="corpus.txt", model_prefix=name, model_type="unigram",
                                           num_threads=1, input_sentence_size=0, shuffle_input_sentence=False,
                                           max_sentence_length=8192, minloglevel=2, **kw)
            shutil.move(name + ".model", os.path.join(OUT, name + ".model"))
        finally:
            os.chdir(cwd)
    size = os.path.getsize(os.path.join(OUT, name + ".model"))
    print(f"trained {name}.model: {size} bytes")
    if size >= 400 * 1024:
        sys.exit(f"{name}.model is {size} bytes, over the 400 KB budget")


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--remake-mixed", action="store_true", help="regenerate mixed.txt from the fortunes")
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--no-train", action="store_true", help="only rewrite the golden files")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)

    mixed = os.path.join(OUT, "mixed.txt")
    if a.remake_mixed or not os.path.exists(mixed):
        make_mixed(mixed)
    write_lines(os.path.join(OUT, "random.txt"), random_lines())
    with open(os.path.join(OUT, "invalid_utf8.txt"), "wb") as f:
        f.write(b"\n".join(invalid_lines()) + b"\n")
    sst2_tmp = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8", newline="\n")
    sst2_tmp.write("".join(s + "\n" for s in sst2_dev(a.shared)))
    sst2_tmp.close()

    if not a.no_train:
        plain = training_text(a.shared, albert_preprocess=False)
        train("nfkc", plain, vocab_size=4000, user_defined_symbols=["ＵＳＥＲ", "@@"], control_symbols=["<ctl>"])
        train("bytefb", plain, vocab_size=3000, byte_fallback=True, normalization_rule_name="identity",
              character_coverage=0.98)
        train("albert", training_text(a.shared, albert_preprocess=True), vocab_size=3000, pad_id=0, unk_id=1,
              bos_id=-1, eos_id=-1, control_symbols=["[CLS]", "[SEP]"], user_defined_symbols=["[MASK]"])
        train("flags", plain, vocab_size=2000, normalization_rule_name="nfkc_cf", add_dummy_prefix=False,
              remove_extra_whitespaces=False, treat_whitespace_as_suffix=True, split_digits=True)

    corpora = {"sst2_dev": sst2_tmp.name, "mixed": "mixed.txt", "invalid": "invalid_utf8.txt", "random": "random.txt"}
    for model in ("nfkc", "bytefb", "albert", "flags"):
        for corpus, fname in corpora.items():
            lines = spm_reference.read_lines(os.path.join(OUT, fname))
            write_lines(os.path.join(OUT, f"{model}.{corpus}.ids"),
                        spm_reference.encode_lines(os.path.join(OUT, model + ".model"), lines, "plain"))
    albert = os.path.join(OUT, "albert.model")
    for corpus in ("sst2_dev", "mixed", "random"):
        lines = spm_reference.read_lines(os.path.join(OUT, corpora[corpus]))
        write_lines(os.path.join(OUT, f"albert.{corpus}.albert.ids"), spm_reference.encode_lines(albert, lines, "albert"))
    mixed_lines = spm_reference.read_lines(mixed)
    for mode in ("albert-cased", "albert-pairs"):
        write_lines(os.path.join(OUT, f"albert.mixed.{mode}.ids"), spm_reference.encode_lines(albert, mixed_lines, mode))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "nfkc.model"))
    write_lines(os.path.join(OUT, "nfkc.mixed.decoded.jsonl"),
                [json.dumps(sp.decode(sp.encode(t)), ensure_ascii=True) for t in mixed_lines])
    os.remove(sst2_tmp.name)
    print("golden files written to", OUT)


if __name__ == "__main__":
    main()
