#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A second SST-2 teacher for the sst2 adapters: a *copy* of the shared backbone with every weight fine-tuned on
the SST-2 train phrases (gold labels), plus a [CLS] head. The copy is thrown away after it has labelled the
distillation texts; the backbone the tasks share stays frozen.

The linear teacher (train_teacher.py) and this one err differently (n-gram counts vs a contextual encoder), so the
distillation targets are their average: p = w * p_linear + (1 - w) * p_finetuned, with w fixed in advance (0.5),
not chosen on dev. With several --seeds, p_finetuned is the plain mean of one copy per seed (a seed ensemble).

    finetune_teacher.py --pretrained BACKBONE_DIR --linear DIR_WITH_distill.tsv.gz --out DIR [--data ../shared/data]
                        [--epochs 2] [--lr 1e-4] [--weight 0.5] [--threads 2] [--seeds 1 [2 ...]] [--copies-only]
writes OUT/seed<N>/probs.npz and OUT/seed<N>/log.jsonl per copy (a copy whose probs.npz exists is not trained
again, so copies can be trained by separate processes with --copies-only and combined by a last call),
OUT/distill.tsv.gz (`p_positive<TAB>text`, the same texts in the same order as the linear teacher's file) and
OUT/teacher.json (SST-2 dev accuracy of each copy, of their mean, of the linear teacher and of the average).
"""
import argparse
import gzip
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import corpus, tokenizer  # noqa: E402
from train_adapter import batches, load_backbone, pad, start_run  # noqa: E402
from train_teacher import sst2_linear  # noqa: E402


class FineTuned(nn.Module):
    def __init__(self, pretrained):
        super().__init__()
        self.cfg, self.bb = load_backbone(pretrained)  # loaded frozen for the adapters; here every weight trains
        cfg = self.cfg
        for p in self.bb.parameters():
            p.requires_grad_(True)
        H = cfg["hidden_size"]
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(H, H), nn.Tanh(), nn.Dropout(0.1), nn.Linear(H, 2))

    def forward(self, ids, tt, attn):
        return self.head(self.bb(ids, attn, tt)[-1][:, 0])


def probabilities(model, exs, max_tokens=8192):
    model.eval()
    p = np.zeros(len(exs), dtype=np.float64)
    with torch.no_grad():
        for b in batches(exs, max_tokens, random.Random(0)):
            ids, tt, attn = pad([exs[i] for i in b])
            p[b] = F.softmax(model(ids, tt, attn), -1)[:, 1].numpy()
    return p


def train_copy(a, seed, out, tr_ex, tr_y, dv_ex, dv_y, distill_ex):
    """Fine-tunes one copy of the backbone with `seed`; returns its P(positive) on dev and on the distillation
    texts, cached in OUT/seed<N>/probs.npz so that copies can be trained by separate processes and combined later."""
    cache = os.path.join(out, "probs.npz")
    if os.path.exists(cache):
        z = np.load(cache)
        return z["dev"], z["distill"]
    rng, say = start_run(argparse.Namespace(threads=a.threads, seed=seed, out=out))
    model = FineTuned(a.pretrained)
    say({"seed": seed, "train": len(tr_ex), "dev": len(dv_ex), "epochs": a.epochs, "lr": a.lr})
    steps_per_epoch = len(batches(tr_ex, a.max_tokens, random.Random(0)))
    total = int(a.epochs * steps_per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    warm = max(1, total // 10)
    step = 0
    model.train()
    while step < total:
        for b in batches(tr_ex, a.max_tokens, rng):
            for g in opt.param_groups:
                g["lr"] = a.lr * min(1.0, (step + 1) / warm) * max(0.0, (total - step) / total)
            ids, tt, attn = pad([tr_ex[i] for i in b])
            loss = F.cross_entropy(model(ids, tt, attn), torch.from_numpy(tr_y[b]))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 100 == 0 or step == total:
                rec = {"step": step, "of": total, "loss": round(loss.item(), 4)}
                if step % 500 == 0 or step == total:  # monitoring only: nothing is selected on dev
                    rec["dev_acc"] = round(float(((probabilities(model, dv_ex) > 0.5) == dv_y).mean()), 4)
                    model.train()
                say(rec)
            if step >= total:
                break
    p_dev = probabilities(model, dv_ex)
    p_distill = probabilities(model, distill_ex)
    np.savez(cache + ".tmp.npz", dev=p_dev, distill=p_distill)
    os.replace(cache + ".tmp.npz", cache)  # a half-written cache must never be taken for a finished copy
    say({"seed": seed, "steps": total, "dev_acc": float(((p_dev > 0.5) == dv_y).mean())})
    return p_dev, p_distill


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--linear", required=True, help="train_teacher.py teacher's output folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=corpus.DEFAULT_DATA)
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--max-tokens", type=int, default=2048)
    ap.add_argument("--weight", type=float, default=0.5, help="weight of the linear teacher in the average")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1],
                    help="one fine-tuned copy per seed; their probabilities are averaged with equal weights")
    ap.add_argument("--copies-only", action="store_true",
                    help="train (or find) the seeds' copies and stop: lets separate processes train them side by side")
    a = ap.parse_args()
    if len(set(a.seeds)) != len(a.seeds):
        ap.error(f"--seeds repeats a seed: {a.seeds}")
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()

    cfg, _ = load_backbone(a.pretrained)
    tok = tokenizer.AlbertTokenizer(os.path.join(a.pretrained, "spiece.model"), max_length=cfg["max_position_embeddings"])

    def encode(texts):
        return [(ids, [0] * len(ids)) for ids in (tok.encode(t) for t in texts)]

    tr = corpus.read_sst2(a.data, "train")
    dv = corpus.read_sst2(a.data, "dev")
    tr_ex, tr_y = encode([t for _, t in tr]), np.array([l for l, _ in tr])
    dv_ex, dv_y = encode([t for _, t in dv]), np.array([l for l, _ in dv])

    lin_p, texts = [], []
    with gzip.open(os.path.join(a.linear, "distill.tsv.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            p, t = line.rstrip("\n").split("\t", 1)
            lin_p.append(float(p))
            texts.append(t)
    lin_p = np.asarray(lin_p)
    distill_ex = encode(texts)

    copies = [train_copy(a, s, os.path.join(a.out, f"seed{s}"), tr_ex, tr_y, dv_ex, dv_y, distill_ex) for s in a.seeds]
    if a.copies_only:
        return
    p_ft_dev = np.mean([c[0] for c in copies], axis=0)
    p_ft = np.mean([c[1] for c in copies], axis=0)

    v, m = sst2_linear(a.data, True)
    p_lin_dev = m.predict_proba(v.transform([t for _, t in dv]))[:, 1]
    p_avg_dev = a.weight * p_lin_dev + (1 - a.weight) * p_ft_dev
    acc = lambda p: float(((p > 0.5) == dv_y).mean())
    copies_text = "a fully fine-tuned copy" if len(a.seeds) == 1 else f"the mean of {len(a.seeds)} fully fine-tuned copies"
    rec = {"teacher": f"average of the linear teacher (weight {a.weight}) and {copies_text} of the backbone",
           "seeds": a.seeds, "finetuned_sst2_dev_acc_per_seed": [acc(c[0]) for c in copies],
           "finetuned_sst2_dev_acc": acc(p_ft_dev), "linear_sst2_dev_acc": acc(p_lin_dev),
           "sst2_dev_acc": acc(p_avg_dev), "epochs": a.epochs, "lr": a.lr}

    p = a.weight * lin_p + (1 - a.weight) * p_ft
    with gzip.open(os.path.join(a.out, "distill.tsv.gz"), "wt", encoding="utf-8") as f:
        for pi, t in zip(p, texts):
            f.write(f"{pi:.5f}\t{t}\n")
    rec["distill_texts"] = len(texts)
    rec["agreement_linear_finetuned"] = float(((lin_p > 0.5) == (p_ft > 0.5)).mean())
    rec["s"] = round(time.time() - t0, 1)
    json.dump(rec, open(os.path.join(a.out, "teacher.json"), "w"), indent=2)
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
