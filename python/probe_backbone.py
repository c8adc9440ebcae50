#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A cheap frozen probe of a pretraining checkpoint, so a run can be judged (and stopped) on the way without
training adapters: forward passes only (no gradients through the backbone), then a logistic regression on the
frozen features.

Features of a sentence: the mean over its pieces of the last layer's hidden states, concatenated with the
pooled [CLS] (tanh(pooler)). SST-2: fitted on --train-n SST-2 train phrases (a fixed random sample, seed 1),
scored on the 872 dev sentences. TREC: fitted on its train part, scored on its crc32 dev split (corpus.py).
Prints and appends one JSON line to --log.

    probe_backbone.py --run python/checkpoints/RUN [--data ../shared/data] [--train-n 8000] [--log FILE]
    probe_backbone.py --run RUN --step0     (the same probe on the initial weights: word2vec + random encoder)
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import corpus, tokenizer  # noqa: E402
import pretrain_backbone as pb  # noqa: E402


def features(model, tok, texts, max_tokens=4096):
    exs = [tok.encode(t) for t in texts]
    out = np.zeros((len(exs), 2 * model.pooler.weight.shape[0]), dtype=np.float32)
    order = sorted(range(len(exs)), key=lambda i: len(exs[i]))
    i = 0
    with torch.no_grad():
        while i < len(order):
            S = len(exs[order[min(len(order) - 1, i)]])
            n = max(1, max_tokens // max(S, 1))
            b = order[i:i + n]
            S = max(len(exs[k]) for k in b)
            ids = torch.zeros((len(b), S), dtype=torch.long)
            attn = torch.zeros_like(ids)
            for r, k in enumerate(b):
                ids[r, :len(exs[k])] = torch.tensor(exs[k])
                attn[r, :len(exs[k])] = 1
            h = model.mlm.albert(ids, attn)[-1]
            m = attn[..., None].float()
            mean = (h * m).sum(1) / m.sum(1)
            cls = torch.tanh(model.pooler(h[:, 0]))
            out[b] = torch.cat([mean, cls], -1).numpy()
            i += len(b)
    return out


def fit_score(Xtr, ytr, Xdv, ydv, C=1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    sc = StandardScaler().fit(Xtr)
    m = LogisticRegression(C=C, max_iter=3000).fit(sc.transform(Xtr), ytr)
    return float((m.predict(sc.transform(Xdv)) == np.asarray(ydv)).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", default=corpus.DEFAULT_DATA)
    ap.add_argument("--work", default="/tmp/edgebert-multitask/pre", help="for --step0: the folder with w2v.npy")
    ap.add_argument("--train-n", type=int, default=8000)
    ap.add_argument("--step0", action="store_true")
    ap.add_argument("--log", default="")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    tok = tokenizer.AlbertTokenizer(os.path.join(a.run, "spiece.model"), max_length=128)
    if a.step0:
        cfg = pb.config_for(tok.vocab_size)
        torch.manual_seed(1)
        model = pb.Pretrainer(cfg)
        with torch.no_grad():
            model.mlm.albert.embeddings.word_embeddings.weight.copy_(
                torch.from_numpy(np.load(os.path.join(a.work, "w2v.npy"))))
        step = 0
    else:
        st = torch.load(os.path.join(a.run, "state.pt"))
        model = pb.Pretrainer(st["meta"]["config"])
        model.load_state_dict(st["model"])
        step = st["meta"]["step"]
    model.eval()
    tr = corpus.read_sst2(a.data, "train")
    random.Random(1).shuffle(tr)
    tr = tr[:a.train_n]
    dv = corpus.read_sst2(a.data, "dev")
    sst = fit_score(features(model, tok, [t for _, t in tr]), [l for l, _ in tr],
                    features(model, tok, [t for _, t in dv]), [l for l, _ in dv])
    ttr, tdv = corpus.trec_split(a.data)
    trec = fit_score(features(model, tok, [t for _, t in ttr]), [l for l, _ in ttr],
                     features(model, tok, [t for _, t in tdv]), [l for l, _ in tdv])
    rec = {"probe": "frozen mean+[CLS] features, logistic regression", "step": step,
           "sst2_train_n": len(tr), "sst2_dev_acc": round(sst, 4), "trec_dev_acc": round(trec, 4),
           "s": round(time.time() - t0, 1)}
    print(json.dumps(rec), flush=True)
    if a.log:
        with open(a.log, "a") as f:
            f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
