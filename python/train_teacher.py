#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Linear n-gram models (scikit-learn): the SST-2 teacher whose soft labels the sst2 adapters are distilled
from, and the simple baselines of every task on the same splits the adapters are evaluated on.

  teacher   TF-IDF uni+bigrams (sublinear tf, min_df 2) + logistic regression on the SST-2 train phrases and the
            25,000 labelled IMDb train reviews (PTB-styled like SST-2). Writes OUT/teacher.json (SST-2 dev
            accuracy) and OUT/distill.tsv.gz: `p_positive<TAB>text` for every SST-2 train phrase and for
            --unlabelled sentences drawn from the unlabelled IMDb reviews (4..60 words, PTB-styled).
  baselines majority class and linear uni+bigram logistic regression for sst2 (SST-2 train only, and
            SST-2 + IMDb), trec (the crc32 dev split, see corpus.trec_split) and mrpc (pair features: TF-IDF of
            a*b and |a-b|); accuracy (and F1 of the positive class for mrpc) -> OUT/baselines.json.

    train_teacher.py teacher   --out DIR [--data ../shared/data] [--unlabelled 120000] [--seed 1]
    train_teacher.py baselines --out DIR [--data ../shared/data]
"""
import argparse
import gzip
import json
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import corpus  # noqa: E402


def _vec():
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True,
                           token_pattern=r"(?u)\S+")


def _lr(C):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, max_iter=2000, solver="liblinear")


def sst2_linear(data_dir, with_imdb, C=4.0):
    sst = corpus.read_sst2(data_dir, "train")
    texts = [t for _, t in sst]
    y = [l for l, _ in sst]
    if with_imdb:
        for l, t in corpus.read_imdb(data_dir, "train"):
            texts.append(corpus.ptb_style(t).lower())
            y.append(l)
    v = _vec()
    X = v.fit_transform(texts)
    m = _lr(C).fit(X, y)
    return v, m


def mrpc_linear(rows, C=4.0):
    """Logistic regression on pair features (TF-IDF of a*b and |a-b|, both symmetric in a and b) -> (model, feats)."""
    import scipy.sparse as sp
    v = _vec().fit([s for _, x, z in rows for s in (x, z)])

    def feats(pairs):
        A = v.transform([x for _, x, _ in pairs])
        B = v.transform([z for _, _, z in pairs])
        return sp.hstack([A.multiply(B), abs(A - B)]).tocsr()

    return _lr(C).fit(feats(rows), [l for l, _, _ in rows]), feats


def mrpc_out_of_fold(data_dir, folds=5, seed=1, C=4.0):
    """P(equivalent) for every MRPC train pair from the linear pair model trained on the *other* folds, so the soft
    labels are what the teacher predicts for pairs it never saw (a teacher scored on its own training pairs would
    only repeat the gold labels). Returns {(text_a, text_b): p}; the features are symmetric, so (b, a) has the same p."""
    tr = corpus.read_mrpc(data_dir, "train")
    order = list(range(len(tr)))
    random.Random(seed).shuffle(order)
    out = {}
    for k in range(folds):
        held = set(order[k::folds])
        m, feats = mrpc_linear([r for i, r in enumerate(tr) if i not in held], C)
        rows = [tr[i] for i in sorted(held)]
        for (_, x, z), p in zip(rows, m.predict_proba(feats(rows))[:, 1]):
            out[(x, z)] = float(p)
    return out


def stage_teacher(a):
    t0 = time.time()
    os.makedirs(a.out, exist_ok=True)
    v, m = sst2_linear(a.data, True, a.C)
    dev = corpus.read_sst2(a.data, "dev")
    acc = float((m.predict(v.transform([t for _, t in dev])) == np.array([l for l, _ in dev])).mean())
    rng = random.Random(a.seed)
    sents = []
    for _, text in corpus.read_imdb(a.data, "unsup"):
        for s in corpus.split_sentences(text):
            n = len(s.split())
            if 4 <= n <= 60:
                sents.append(corpus.ptb_style(s).lower())
    rng.shuffle(sents)
    sents = sorted(set(sents[:a.unlabelled]))
    rng.shuffle(sents)
    phrases = sorted({t for _, t in corpus.read_sst2(a.data, "train")})
    texts = phrases + sents
    p = m.predict_proba(v.transform(texts))[:, 1]
    with gzip.open(os.path.join(a.out, "distill.tsv.gz"), "wt", encoding="utf-8") as f:
        for pi, t in zip(p, texts):
            f.write(f"{pi:.5f}\t{t}\n")
    rec = {"teacher": "tfidf uni+bigram logistic regression, SST-2 train + IMDb train", "C": a.C,
           "sst2_dev_acc": acc, "distill_sst2_phrases": len(phrases), "distill_imdb_sentences": len(sents),
           "s": round(time.time() - t0, 1)}
    json.dump(rec, open(os.path.join(a.out, "teacher.json"), "w"), indent=2)
    print(json.dumps(rec), flush=True)


def _acc(pred, y):
    return float((np.asarray(pred) == np.asarray(y)).mean())


def _f1(pred, y):
    pred, y = np.asarray(pred), np.asarray(y)
    tp = float(((pred == 1) & (y == 1)).sum())
    prec = tp / max(1.0, float((pred == 1).sum()))
    rec = tp / max(1.0, float((y == 1).sum()))
    return 0.0 if tp == 0 else 2 * prec * rec / (prec + rec)


def stage_baselines(a):
    os.makedirs(a.out, exist_ok=True)
    res = {}
    dev = corpus.read_sst2(a.data, "dev")
    dy = [l for l, _ in dev]
    tr = corpus.read_sst2(a.data, "train")
    maj = int(np.bincount([l for l, _ in tr]).argmax())
    res["sst2"] = {"dev": len(dev), "majority": _acc([maj] * len(dy), dy)}
    for name, imdb in (("linear_sst2", False), ("linear_sst2_imdb", True)):
        v, m = sst2_linear(a.data, imdb, a.C)
        res["sst2"][name] = _acc(m.predict(v.transform([t for _, t in dev])), dy)
    tr, dv = corpus.trec_split(a.data)
    ty = [l for l, _ in tr]
    dvy = [l for l, _ in dv]
    maj = int(np.bincount(ty).argmax())
    v = _vec()
    m = _lr(a.C).fit(v.fit_transform([q for _, q in tr]), ty)
    res["trec"] = {"train": len(tr), "dev": len(dv), "split": "crc32(question) % 10 == 0 -> dev",
                   "majority": _acc([maj] * len(dvy), dvy), "linear": _acc(m.predict(v.transform([q for _, q in dv])), dvy)}
    tr = corpus.read_mrpc(a.data, "train")
    dv = corpus.read_mrpc(a.data, "dev")
    m, feats = mrpc_linear(tr, a.C)
    dvy = [l for l, _, _ in dv]
    maj = int(np.bincount([l for l, _, _ in tr]).argmax())
    pred = m.predict(feats(dv))
    res["mrpc"] = {"train": len(tr), "dev": len(dv), "majority": _acc([maj] * len(dvy), dvy),
                   "majority_f1": _f1([maj] * len(dvy), dvy), "linear": _acc(pred, dvy), "linear_f1": _f1(pred, dvy)}
    json.dump(res, open(os.path.join(a.out, "baselines.json"), "w"), indent=2)
    print(json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["teacher", "baselines"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=corpus.DEFAULT_DATA)
    ap.add_argument("--unlabelled", type=int, default=120000)
    ap.add_argument("--C", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    {"teacher": stage_teacher, "baselines": stage_baselines}[a.stage](a)


if __name__ == "__main__":
    main()
