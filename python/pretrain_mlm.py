#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Stage 0 of the bundled-model recipe: train a SentencePiece unigram vocabulary with ALBERT's special pieces on
the SST-2 train sentences and the train-split fortunes, then pretrain a small ALBERT with masked-language
modelling on the same text (15 % of pieces chosen; 80 % [MASK], 10 % random, 10 % kept).

    pretrain_mlm.py --out DIR [--vocab 5000] [--steps 1500] [--seed 1]
writes DIR/spiece.model, DIR/config.json, DIR/backbone.pt (HF-named state dict incl. the MLM head), DIR/log.jsonl.
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
from edgebert_tools import albert, data, tokenizer  # noqa: E402

SST2 = "/work/shared/data/glue-sst2"


def batches(seqs, max_tokens, rng):
    """Length-bucketed batches of about max_tokens tokens (padding stays small)."""
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), rng.random()))
    out, cur, cur_len = [], [], 0
    for i in order:
        L = len(seqs[i])
        if cur and (len(cur) + 1) * max(cur_len, L) > max_tokens:
            out.append(cur)
            cur, cur_len = [], 0
        cur.append(i)
        cur_len = max(cur_len, L)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def pad(seqs, pad_id):
    S = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), S), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), S), dtype=torch.long)
    for k, s in enumerate(seqs):
        ids[k, :len(s)] = torch.tensor(s)
        mask[k, :len(s)] = 1
    return ids, mask


def mask_tokens(ids, attn, tok, gen, n_special=5, p=0.15):
    labels_pos = (torch.rand(ids.shape, generator=gen) < p) & (attn == 1) & (ids >= n_special)
    flat = labels_pos.flatten().nonzero().squeeze(1)
    targets = ids.flatten()[flat].clone()
    x = ids.clone().flatten()
    r = torch.rand(flat.shape, generator=gen)
    x[flat[r < 0.8]] = tok.mask_id
    rnd = flat[(r >= 0.8) & (r < 0.9)]
    x[rnd] = torch.randint(n_special, tok.vocab_size, rnd.shape, generator=gen)
    return x.view_as(ids), flat, targets


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=5000)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--max-tokens", type=int, default=2048, help="tokens per batch (padded)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", nargs="*", default=[], help="config overrides key=value (JSON values)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    sst = [t for _, t in data.read_tsv(os.path.join(SST2, "train.tsv"))]
    sst = sorted(set(sst))
    fort = data.all_train_fortunes()
    pre = tokenizer.AlbertTokenizer.__new__(tokenizer.AlbertTokenizer)
    pre.do_lower_case, pre.keep_accents = True, False
    corpus = [pre.preprocess(t) for t in sst + fort]
    txt = os.path.join(a.out, "spm_train.txt")
    with open(txt, "w", encoding="utf-8") as f:
        f.write("\n".join(corpus) + "\n")
    t0 = time.time()
    tokenizer.train_spiece(txt, os.path.join(a.out, "spiece"), a.vocab)
    os.remove(os.path.join(a.out, "spiece.vocab"))
    os.remove(txt)
    tok = tokenizer.AlbertTokenizer(os.path.join(a.out, "spiece.model"), max_length=128)
    assert [tok.pad_id, tok.sp.piece_to_id("<unk>"), tok.cls_id, tok.sep_id, tok.mask_id] == [0, 1, 2, 3, 4]
    print(f"spiece: {tok.vocab_size} pieces in {time.time() - t0:.0f} s", flush=True)

    seqs = [tok.encode(t, max_length=64) for t in sst + fort]
    print(f"corpus: {len(sst)} SST-2 train texts + {len(fort)} fortunes, {sum(map(len, seqs))} tokens", flush=True)

    cfg = albert.default_config(vocab_size=tok.vocab_size, hidden_dropout_prob=0.1)
    for kv in a.set:
        k, v = kv.split("=", 1)
        cfg[k] = json.loads(v)
    model = albert.AlbertForPretraining(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01, betas=(0.9, 0.98), eps=1e-6)
    warm = max(1, a.steps // 15)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (a.steps - s) / (a.steps - warm))))
    gen = torch.Generator().manual_seed(a.seed)
    log = open(os.path.join(a.out, "log.jsonl"), "w")
    step, t0, run_loss, run_acc = 0, time.time(), 0.0, 0.0
    model.train()
    while step < a.steps:
        for b in batches(seqs, a.max_tokens, rng):
            ids, attn = pad([seqs[i] for i in b], tok.pad_id)
            x, pos, targets = mask_tokens(ids, attn, tok, gen)
            if len(pos) == 0:
                continue
            logits = model(x, attn, pos)
            loss = torch.nn.functional.cross_entropy(logits, targets)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss = 0.98 * run_loss + 0.02 * loss.item() if step > 1 else loss.item()
            run_acc = 0.98 * run_acc + 0.02 * (logits.argmax(-1) == targets).float().mean().item()
            if step % 50 == 0 or step == a.steps:
                rec = {"step": step, "loss": round(run_loss, 4), "acc": round(run_acc, 4), "s": round(time.time() - t0, 1)}
                print(json.dumps(rec), flush=True)
                log.write(json.dumps(rec) + "\n")
            if step >= a.steps:
                break
    cfg.pop("hidden_dropout_prob")
    cfg["hidden_dropout_prob"] = 0.0  # exported configs describe inference
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    torch.save(model.state_dict(), os.path.join(a.out, "backbone.pt"))
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
