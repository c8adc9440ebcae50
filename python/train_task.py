#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-task training on a frozen, MLM-pretrained backbone, in EdgeBERT's manner:
stage 1  adapters (AdapterHub Houlsby or Pfeiffer) + classification head [+ task LayerNorms] [+ adaptive span
         with its penalty] [+ movement pruning scores on the shared encoder Linears, keep fraction on the cubic
         schedule]; the backbone's weights never change, so one backbone serves every task;
stage 2  off-ramps only (everything else frozen), each ramp's pooler initialised from the head's first Linear (as
         EdgeBERT copies the pooler), loss = sum of the ramp cross-entropies of layers 1..L. EdgeBERT leaves the
         last ramp untrained (the final classifier serves layer L); we train it too, because the C++ loader wants
         one ramp per layer and an untrained ramp would report meaningless entropies there;
then     entropy traces of the training set -> the exit-predictor table; entropy threshold chosen on training
         data (largest T whose early-exit accuracy is within 1 point of full depth).

    train_task.py --pretrained DIR --task sst2|lang --out DIR [--adapter houlsby|pfeiffer] [--reduction 4]
                  [--epochs 3] [--span distance:RAMP:MAX_SPAN] [--prune movement:KEEP] [--task-ln] [--seed 1]
writes DIR/task.pt (TaskModule state), DIR/meta.json, DIR/predictor.csv, DIR/train_traces.txt, DIR/log.jsonl.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import adapters, albert, data, predictor, pruning, spans, task as taskmod, tokenizer  # noqa: E402
from pretrain_mlm import batches, pad  # noqa: E402

SST2 = "/work/shared/data/glue-sst2"
TASKS = {"sst2": ["negative", "positive"], "lang": list(data.LANGS)}


def load_task_data(name):
    if name == "sst2":
        return data.read_tsv(os.path.join(SST2, "train.tsv")), data.read_tsv(os.path.join(SST2, "dev.tsv"))
    s = data.lang_splits()
    return s["train"], s["dev"]


def load_backbone(pre_dir):
    cfg = json.load(open(os.path.join(pre_dir, "config.json")))
    full = albert.AlbertForPretraining(cfg)
    full.load_state_dict(torch.load(os.path.join(pre_dir, "backbone.pt")))
    bb = full.albert
    bb.eval()
    for p in bb.parameters():
        p.requires_grad_(False)
    return cfg, bb


def evaluate(bb, task, seqs, labels, max_tokens=4096):
    """Accuracy of the final head and of each ramp, and the per-sentence ramp entropies (eval mode)."""
    task.eval()
    n = len(seqs)
    final = np.zeros(n, dtype=np.int64)
    ramps = np.zeros((n, len(task.highway)), dtype=np.int64)
    ents = np.zeros((n, len(task.highway)), dtype=np.float64)
    with torch.no_grad():
        for b in batches(seqs, max_tokens, random.Random(0)):
            ids, attn = pad([seqs[i] for i in b], 0)
            logits, rl, _ = taskmod.run(bb, task, ids, attn)
            final[b] = logits.argmax(-1).numpy()
            for k, r in enumerate(rl):
                ramps[b, k] = r.argmax(-1).numpy()
                ents[b, k] = albert.entropy(r).numpy()
    y = np.asarray(labels)
    return {"acc": float((final == y).mean()), "ramp_acc": [float((ramps[:, k] == y).mean()) for k in range(ramps.shape[1])],
            "final_pred": final, "ramp_pred": ramps, "entropies": ents}


def ee_accuracy(ev, labels, T):
    """Plain entropy exit (exit at the first ramp with H < T, else the final head): accuracy, mean exit layer."""
    y = np.asarray(labels)
    n, K = ev["entropies"].shape
    K -= 1  # layers 1..L-1 may exit; layer L answers with the final head
    pred = ev["final_pred"].copy()
    layer = np.full(n, K + 1)
    for i in range(n):
        for k in range(K):
            if ev["entropies"][i, k] < T:
                pred[i], layer[i] = ev["ramp_pred"][i, k], k + 1
                break
    return float((pred == y).mean()), float(layer.mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--adapter", choices=["houlsby", "pfeiffer"], default="pfeiffer")
    ap.add_argument("--reduction", type=float, default=8)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--ramp-epochs", type=float, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--span", default="", help="distance:RAMP:MAX_SPAN (original adaptive span, distance mask)")
    ap.add_argument("--span-coeff", type=float, default=5e-4)
    ap.add_argument("--prune", default="", help="movement:KEEP or magnitude:KEEP on the shared encoder Linears")
    ap.add_argument("--task-ln", action="store_true", help="train task copies of the two LayerNorms")
    ap.add_argument("--trace-sentences", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "log.jsonl"), "w")

    def say(rec):
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")

    cfg, bb = load_backbone(a.pretrained)
    tok = tokenizer.AlbertTokenizer(os.path.join(a.pretrained, "spiece.model"), max_length=cfg["max_position_embeddings"])
    train, dev = load_task_data(a.task)
    labels = TASKS[a.task]
    tr_seqs = [tok.encode(t) for _, t in train]
    tr_y = [y for y, _ in train]
    dv_seqs = [tok.encode(t) for _, t in dev]
    dv_y = [y for y, _ in dev]
    say({"task": a.task, "train": len(train), "dev": len(dev)})

    acfg = adapters.preset(a.adapter, reduction_factor=a.reduction)
    span = None
    if a.span:
        mode, ramp, mx = a.span.split(":")
        span = spans.AdaptiveSpan(cfg["num_attention_heads"], mode=mode, ramp=float(ramp), max_span=float(mx),
                                  init=1.0, coeff=a.span_coeff)
    prune_method, keep_final = (a.prune.split(":")[0], float(a.prune.split(":")[1])) if a.prune else (None, 1.0)
    L = cfg["num_hidden_layers"]
    task = taskmod.TaskModule(a.task, labels, cfg, acfg, ramps=L, span=span, task_layer_norms=a.task_ln,
                              pruning=prune_method, backbone=bb)

    # ---- stage 1: adapters, head, LayerNorms, span, pruning scores
    for p in task.highway.parameters():
        p.requires_grad_(False)
    groups = [{"params": [p for n, p in task.named_parameters() if p.requires_grad and not n.startswith(("scores", "span"))],
               "lr": a.lr, "weight_decay": 0.01}]
    if task.scores is not None:
        groups.append({"params": list(task.scores.parameters()), "lr": 1e-2, "weight_decay": 0.0})
    if span is not None:
        groups.append({"params": [span.value], "lr": 2e-3, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups)
    steps_per_epoch = len(batches(tr_seqs, a.max_tokens, random.Random(0)))
    total = int(a.epochs * steps_per_epoch)
    warm = max(1, total // 10)
    base_lr = [g["lr"] for g in opt.param_groups]
    step, t0 = 0, time.time()
    task.train()
    while step < total:
        for b in batches(tr_seqs, a.max_tokens, rng):
            if prune_method:
                task.keep = pruning.cubic_threshold(step, total, warm, 1.0, keep_final, 1, 2)
            f = min(1.0, (step + 1) / warm) * max(0.0, (total - step) / total)
            for g, lr in zip(opt.param_groups, base_lr):
                g["lr"] = lr * f
            ids, attn = pad([tr_seqs[i] for i in b], 0)
            y = torch.tensor([tr_y[i] for i in b])
            logits, _, _ = taskmod.run(bb, task, ids, attn, ramps=False)
            loss = F.cross_entropy(logits, y)
            total_loss = loss + (span.loss() if span is not None else 0.0)
            opt.zero_grad()
            total_loss.backward()
            opt.step()
            if span is not None:
                span.clamp_()
            step += 1
            if step % 100 == 0 or step == total:
                rec = {"stage": 1, "step": step, "of": total, "loss": round(loss.item(), 4), "keep": round(task.keep, 4),
                       "s": round(time.time() - t0, 1)}
                if span is not None:
                    rec["spans"] = [round(s, 1) for s in span.spans()]
                say(rec)
            if step >= total:
                break
    task.keep = keep_final
    task.freeze_masks()
    ev = evaluate(bb, task, dv_seqs, dv_y)
    say({"stage": 1, "dev_acc": ev["acc"], "s": round(time.time() - t0, 1)})

    # ---- stage 2: off-ramps only
    for p in task.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        for h in task.highway:
            h.pooler.weight.copy_(task.head[1].weight)
            h.pooler.bias.copy_(task.head[1].bias)
    for p in task.highway.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(task.highway.parameters(), lr=a.lr, weight_decay=0.01)
    total2 = int(a.ramp_epochs * steps_per_epoch)
    step = 0
    task.train()
    while step < total2:
        for b in batches(tr_seqs, a.max_tokens, rng):
            for g in opt.param_groups:
                g["lr"] = a.lr * max(0.0, (total2 - step) / total2)
            ids, attn = pad([tr_seqs[i] for i in b], 0)
            y = torch.tensor([tr_y[i] for i in b])
            with torch.no_grad():
                states = bb(ids, attn, task=task)
            loss = sum(F.cross_entropy(task.highway[i](states[i + 1][:, 0]), y) for i in range(len(task.highway)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0 or step == total2:
                say({"stage": 2, "step": step, "of": total2, "loss": round(loss.item(), 4), "s": round(time.time() - t0, 1)})
            if step >= total2:
                break
    task.eval()
    ev = evaluate(bb, task, dv_seqs, dv_y)
    say({"stage": 2, "dev_acc": ev["acc"], "dev_ramp_acc": ev["ramp_acc"]})

    # ---- training traces -> predictor table and threshold
    idx = list(range(len(tr_seqs)))
    random.Random(a.seed).shuffle(idx)
    idx = idx[:a.trace_sentences]
    evt = evaluate(bb, task, [tr_seqs[i] for i in idx], [tr_y[i] for i in idx])
    np.savetxt(os.path.join(a.out, "train_traces.txt"), evt["entropies"], fmt="%.6f", delimiter=",")
    # EdgeBERT's table: key = layer-1 entropy, columns = layers 2..L-1 (the layer-L ramp is not used)
    table = predictor.fit_table(evt["entropies"][:, :L - 1], seed=a.seed)
    predictor.write_csv(os.path.join(a.out, "predictor.csv"), table)
    ty = [tr_y[i] for i in idx]
    best_T = 0.0
    for T in np.round(np.arange(0.02, 1.2, 0.02), 2):
        acc, _ = ee_accuracy(evt, ty, T)
        if acc >= evt["acc"] - 0.01:
            best_T = float(T)
    dev_ee = ee_accuracy(ev, dv_y, best_T)
    say({"threshold": best_T, "train_subset_acc": evt["acc"], "dev_ee_acc": dev_ee[0], "dev_mean_exit_layer": dev_ee[1]})

    meta = {"task": a.task, "labels": labels, "adapter": a.adapter, "adapter_config": acfg, "ramps": L,
            "span": span.task_json() if span is not None else None, "task_ln": a.task_ln,
            "prune": {"method": prune_method, "keep": keep_final} if prune_method else None,
            "exit": f"entropy:{best_T:g}", "dev_acc": ev["acc"], "dev_ramp_acc": ev["ramp_acc"],
            "dev_ee": {"threshold": best_T, "acc": dev_ee[0], "mean_exit_layer": dev_ee[1]},
            "spans": span.spans() if span is not None else None,
            "sparsity": {k: pruning.sparsity(m) for k, m in task.masks().items()}, "args": vars(a)}
    json.dump(meta, open(os.path.join(a.out, "meta.json"), "w"), indent=2)
    torch.save(task.state_dict(), os.path.join(a.out, "task.pt"))
    torch.save(task.masks(), os.path.join(a.out, "masks.pt"))
    say({"done_s": round(time.time() - t0, 1)})


if __name__ == "__main__":
    main()
