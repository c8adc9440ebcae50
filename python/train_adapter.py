#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One task on the frozen shared backbone (successor of train_task.py; same output files, so export_model.py
bundle reads them), for the tasks of the multi-task model:

  sst2  SST-2 (train phrases -> dev 872). With --distill FILE (train_teacher.py's distill.tsv.gz) the examples are
        the teacher-labelled SST-2 phrases and unlabelled IMDb sentences; the target of an SST-2 phrase is
        --hard-weight x its gold label + (1 - hard-weight) x the teacher, of an IMDb sentence the teacher alone.
  mrpc  GLUE MRPC pairs, [CLS] a [SEP] b [SEP] with token types (train 3,668 -> dev 408); accuracy and F1.
  trec  TREC coarse question type, 6 classes; dev = the crc32 % 10 == 0 part of train_5500.label.

stage 1   adapters + head [+ task LayerNorms] [+ adaptive span] until --epochs / --max-steps;
stage 1b  (--prune movement:KEEP) movement-pruning scores over the shared encoder Linears with the cubic keep
          schedule, *after* stage 1 converged, with distillation from the unpruned stage-1 model's logits
          (plus the task loss); adapters keep training;
stage 2   off-ramps only (DeeBERT/EdgeBERT), then training-set entropy traces -> predictor table and the exit
          threshold (largest T whose early-exit accuracy on traced training examples is within 1 point of full
          depth). --ramps-only DIR reruns just this stage on an earlier run's adapters, head, LayerNorms and masks;
          --ramp-self-distill W mixes the model's own final-layer probabilities into the off-ramps' targets.
Writes OUT/task.pt, masks.pt, meta.json, predictor.csv, train_traces.txt, log.jsonl.

    train_adapter.py --pretrained DIR --task sst2|mrpc|trec --out DIR [--data ../shared/data] [--distill F]
                     [--adapter houlsby] [--reduction 4] [--epochs 2] [--max-steps N] [--prune movement:0.6]
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
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import adapters, albert, corpus, predictor, pruning, spans, task as taskmod, tokenizer  # noqa: E402

LABELS = {"sst2": ["negative", "positive"], "mrpc": ["not_equivalent", "equivalent"], "trec": list(corpus.TREC_CLASSES)}


def load_backbone(pre_dir):
    cfg = json.load(open(os.path.join(pre_dir, "config.json")))
    full = albert.AlbertForPretraining(cfg)
    state = torch.load(os.path.join(pre_dir, "backbone.pt"))
    full.load_state_dict({k: v for k, v in state.items() if not k.startswith("albert.pooler.")})
    bb = full.albert
    bb.eval()
    for p in bb.parameters():
        p.requires_grad_(False)
    return cfg, bb


def encode_rows(tok, task, rows):
    """rows -> (list of (ids, token_types), labels)."""
    if task == "mrpc":
        return [tok.encode_pair(a, b) for _, a, b in rows], [r[0] for r in rows]
    out = []
    for r in rows:
        ids = tok.encode(r[1])
        out.append((ids, [0] * len(ids)))
    return out, [r[0] for r in rows]


def task_data(a, tok):
    """(train examples, train targets [N, C] float, dev examples, dev labels, description)."""
    C = len(LABELS[a.task])
    if a.task == "sst2":
        tr = corpus.read_sst2(a.data, "train")
        dv = corpus.read_sst2(a.data, "dev")
        if a.distill:
            gold = {t: l for l, t in tr}
            rows, targets, n_unl = [], [], 0
            with gzip.open(a.distill, "rt", encoding="utf-8") as f:
                for line in f:
                    p, t = line.rstrip("\n").split("\t", 1)
                    if a.distill_unlabelled >= 0 and t not in gold:
                        if n_unl >= a.distill_unlabelled:
                            continue
                        n_unl += 1
                    p = float(p)
                    soft = np.array([1.0 - p, p])
                    if t in gold:
                        soft = a.hard_weight * np.eye(2)[gold[t]] + (1.0 - a.hard_weight) * soft
                    rows.append((0, t))
                    targets.append(soft)
            tr_ex, _ = encode_rows(tok, "sst2", rows)
            tr_t = np.asarray(targets, dtype=np.float32)
            desc = f"distill: {len(rows)} teacher-labelled texts ({sum(t in gold for _, t in rows)} SST-2 phrases)"
        else:
            tr_ex, y = encode_rows(tok, "sst2", tr)
            tr_t = np.eye(C, dtype=np.float32)[y]
            desc = f"SST-2 train {len(tr)}"
    elif a.task == "mrpc":
        tr, dv = corpus.read_mrpc(a.data, "train"), corpus.read_mrpc(a.data, "dev")
        desc = f"MRPC train {len(tr)}"
        if a.swap_pairs:  # a paraphrase is one both ways round: each training pair also as (b, a)
            tr = tr + [(l, b, a_) for l, a_, b in tr]
            desc += ", each pair also swapped"
        tr_ex, y = encode_rows(tok, "mrpc", tr)
        tr_t = np.eye(C, dtype=np.float32)[y]
        if a.pair_teacher:  # soft targets: --hard-weight x gold + the rest x the linear pair model's out-of-fold P
            from train_teacher import mrpc_out_of_fold
            oof = mrpc_out_of_fold(a.data, seed=a.seed)
            p = np.array([oof[(x, z)] if (x, z) in oof else oof[(z, x)] for _, x, z in tr], dtype=np.float32)
            tr_t = a.hard_weight * tr_t + (1.0 - a.hard_weight) * np.stack([1.0 - p, p], 1)
            desc += f", targets {a.hard_weight:g} gold + {1 - a.hard_weight:g} linear pair model (5-fold out-of-fold)"
    else:
        tr, dv = corpus.trec_split(a.data)
        tr_ex, y = encode_rows(tok, "trec", tr)
        tr_t = np.eye(C, dtype=np.float32)[y]
        desc = f"TREC train {len(tr)} (crc32 % 10 != 0)"
    dv_ex, dv_y = encode_rows(tok, a.task, dv)
    return tr_ex, tr_t, dv_ex, dv_y, desc


def batches(exs, max_tokens, rng):
    order = sorted(range(len(exs)), key=lambda i: (len(exs[i][0]), rng.random()))
    out, cur, cur_len = [], [], 0
    for i in order:
        L = len(exs[i][0])
        if cur and (len(cur) + 1) * max(cur_len, L) > max_tokens:
            out.append(cur)
            cur, cur_len = [], 0
        cur.append(i)
        cur_len = max(cur_len, L)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def pad(exs):
    S = max(len(e[0]) for e in exs)
    ids = torch.zeros((len(exs), S), dtype=torch.long)
    tt = torch.zeros_like(ids)
    attn = torch.zeros_like(ids)
    for k, (i, t) in enumerate(exs):
        ids[k, :len(i)] = torch.tensor(i)
        tt[k, :len(t)] = torch.tensor(t)
        attn[k, :len(i)] = 1
    return ids, tt, attn


def forward(bb, task, ids, tt, attn, ramps=True):
    states = bb(ids, attn, tt, task=task)
    rl = [task.highway[i](states[i + 1][:, 0]) for i in range(len(task.highway))] if ramps else []
    return task.head(states[-1][:, 0]), rl, states


def evaluate(bb, task, exs, labels, max_tokens=4096):
    task.eval()
    n = len(exs)
    final = np.zeros(n, dtype=np.int64)
    ramps = np.zeros((n, len(task.highway)), dtype=np.int64)
    ents = np.zeros((n, len(task.highway)), dtype=np.float64)
    with torch.no_grad():
        for b in batches(exs, max_tokens, random.Random(0)):
            ids, tt, attn = pad([exs[i] for i in b])
            logits, rl, _ = forward(bb, task, ids, tt, attn)
            final[b] = logits.argmax(-1).numpy()
            for k, r in enumerate(rl):
                ramps[b, k] = r.argmax(-1).numpy()
                ents[b, k] = albert.entropy(r).numpy()
    y = np.asarray(labels)
    return {"acc": float((final == y).mean()), "f1": f1(final, y),
            "ramp_acc": [float((ramps[:, k] == y).mean()) for k in range(ramps.shape[1])],
            "final_pred": final, "ramp_pred": ramps, "entropies": ents}


def f1(pred, y):
    tp = float(((pred == 1) & (y == 1)).sum())
    if tp == 0:
        return 0.0
    p, r = tp / float((pred == 1).sum()), tp / float((y == 1).sum())
    return 2 * p * r / (p + r)


def ee_eval(ev, labels, T):
    """Plain entropy exit: first ramp of layers 1..L-1 with H < T, else the final head at layer L."""
    y = np.asarray(labels)
    n, K = ev["entropies"].shape
    K -= 1
    pred = ev["final_pred"].copy()
    layer = np.full(n, K + 1)
    for i in range(n):
        for k in range(K):
            if ev["entropies"][i, k] < T:
                pred[i], layer[i] = ev["ramp_pred"][i, k], k + 1
                break
    return float((pred == y).mean()), float(layer.mean()), f1(pred, y)


def start_run(a):
    """Threads and seeds from the arguments, and OUT/log.jsonl. Returns (rng, say); say(record) prints the record
    with the seconds since the start and appends it to the log."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "log.jsonl"), "w")
    t0 = time.time()

    def say(rec):
        rec["s"] = round(time.time() - t0, 1)
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()

    return random.Random(a.seed), say


def soft_ce(logits, target):
    return -(target * F.log_softmax(logits, -1)).sum(-1).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--task", choices=sorted(LABELS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=corpus.DEFAULT_DATA)
    ap.add_argument("--distill", default="", help="sst2: teacher soft labels (train_teacher.py distill.tsv.gz)")
    ap.add_argument("--distill-unlabelled", type=int, default=-1,
                    help="use at most this many of the teacher-labelled IMDb sentences (-1: all)")
    ap.add_argument("--hard-weight", type=float, default=0.5)
    ap.add_argument("--adapter", choices=["houlsby", "pfeiffer"], default="houlsby")
    ap.add_argument("--reduction", type=float, default=4)
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="cap on stage-1 steps (0: epochs decide)")
    ap.add_argument("--ramp-epochs", type=float, default=0.5)
    ap.add_argument("--max-ramp-steps", type=int, default=0)
    ap.add_argument("--ramp-self-distill", type=float, default=0.0, metavar="W",
                    help="stage 2 targets: (1 - W) x the task's targets + W x the model's own final-layer "
                         "probabilities (FastBERT-style self-distillation; 0: the targets alone)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--max-tokens", type=int, default=2048)
    ap.add_argument("--span", default="", help="distance:RAMP:MAX_SPAN")
    ap.add_argument("--span-coeff", type=float, default=5e-4)
    ap.add_argument("--prune", default="", help="movement:KEEP, after stage 1, distilled from the unpruned model")
    ap.add_argument("--prune-steps", type=int, default=1500)
    ap.add_argument("--task-ln", action="store_true")
    ap.add_argument("--swap-pairs", action="store_true", help="mrpc: train on each pair in both orders")
    ap.add_argument("--pair-teacher", action="store_true",
                    help="mrpc: distil from the linear pair model (train_teacher.py), out-of-fold on the train pairs")
    ap.add_argument("--ramps-only", default="", metavar="DIR",
                    help="start from an earlier run's DIR/task.pt and masks.pt (the same task and settings): keep its "
                         "adapters, head, LayerNorms and masks, and rerun only stage 2 and the threshold")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--trace-sentences", type=int, default=8000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng, say = start_run(a)
    t0 = time.time()

    cfg, bb = load_backbone(a.pretrained)
    tok = tokenizer.AlbertTokenizer(os.path.join(a.pretrained, "spiece.model"), max_length=cfg["max_position_embeddings"])
    tr_ex, tr_t, dv_ex, dv_y, desc = task_data(a, tok)
    labels = LABELS[a.task]
    say({"task": a.task, "train": len(tr_ex), "dev": len(dv_ex), "data": desc})

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
    task.keep = 1.0

    def train_loop(opt_groups, total, loss_fn, stage, keep_sched=None):
        opt = torch.optim.AdamW(opt_groups)
        base = [g["lr"] for g in opt.param_groups]
        warm = max(1, total // 10)
        step = 0
        task.train()
        while step < total:
            for b in batches(tr_ex, a.max_tokens, rng):
                if keep_sched is not None:
                    task.keep = keep_sched(step, total)
                f = min(1.0, (step + 1) / warm) * max(0.0, (total - step) / total)
                for g, lr in zip(opt.param_groups, base):
                    g["lr"] = lr * f
                ids, tt, attn = pad([tr_ex[i] for i in b])
                target = torch.from_numpy(tr_t[b])
                loss = loss_fn(ids, tt, attn, target)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if span is not None:
                    span.clamp_()
                step += 1
                if step % 100 == 0 or step == total:
                    rec = {"stage": stage, "step": step, "of": total, "loss": round(loss.item(), 4)}
                    if keep_sched is not None:
                        rec["keep"] = round(task.keep, 4)
                    if span is not None:
                        rec["spans"] = [round(s, 1) for s in span.spans()]
                    if step % a.eval_every == 0 and stage != 2:
                        ev = evaluate(bb, task, dv_ex, dv_y)
                        rec["dev_acc"] = round(ev["acc"], 4)  # monitoring only: nothing is selected on dev
                        task.train()
                    say(rec)
                if step >= total:
                    break

    steps_per_epoch = len(batches(tr_ex, a.max_tokens, random.Random(0)))

    if a.ramps_only:
        state = torch.load(os.path.join(a.ramps_only, "task.pt"))
        # the off-ramps start afresh, as in a full run; everything else must be in the file
        missing, unexpected = task.load_state_dict({k: v for k, v in state.items() if not k.startswith("highway.")},
                                                   strict=False)
        if unexpected or any(not k.startswith("highway.") for k in missing):
            sys.exit(f"{a.ramps_only}/task.pt does not match these settings: missing {missing}, unexpected {unexpected}")
        task.fixed_masks = torch.load(os.path.join(a.ramps_only, "masks.pt"))
        task.keep = keep_final
        earlier = json.load(open(os.path.join(a.ramps_only, "meta.json")))
        result = {k: earlier[k] for k in ("stage1_dev_acc", "stage1_dev_f1", "pruned_dev_acc", "pruned_dev_f1")
                  if k in earlier}
        result["stages_1_from"] = os.path.abspath(a.ramps_only)
        ev = evaluate(bb, task, dv_ex, dv_y)
        say({"stage": "1 (loaded)", "from": a.ramps_only, "dev_acc": ev["acc"], "dev_f1": ev["f1"]})
    else:
        # ---- stage 1: adapters + head (+ task LayerNorms, span)
        for p in task.highway.parameters():
            p.requires_grad_(False)
        if task.scores is not None:
            for p in task.scores.parameters():
                p.requires_grad_(False)
        g1 = [{"params": [p for n, p in task.named_parameters() if p.requires_grad and not n.startswith(("scores", "span"))],
               "lr": a.lr, "weight_decay": 0.01}]
        if span is not None:
            g1.append({"params": [span.value], "lr": 2e-3, "weight_decay": 0.0})

        def loss1(ids, tt, attn, target):
            logits, _, _ = forward(bb, task, ids, tt, attn, ramps=False)
            return soft_ce(logits, target) + (span.loss() if span is not None else 0.0)

        total1 = int(a.epochs * steps_per_epoch)
        if a.max_steps:
            total1 = min(total1, a.max_steps)
        if prune_method:  # stage 1 runs unpruned: keep = 1 means the top-k masks keep every weight
            task.keep = 1.0
        train_loop(g1, total1, loss1, 1)
        ev = evaluate(bb, task, dv_ex, dv_y)
        say({"stage": 1, "dev_acc": ev["acc"], "dev_f1": ev["f1"], "steps": total1})
        result = {"stage1_dev_acc": ev["acc"], "stage1_dev_f1": ev["f1"]}

        # ---- stage 1b: movement pruning after convergence, distilled from the unpruned model
        if prune_method:
            import copy
            teacher = copy.deepcopy(task).eval()
            teacher.pruning, teacher.scores = None, None
            for p in task.scores.parameters():
                p.requires_grad_(True)
            g = [{"params": [p for n, p in task.named_parameters() if p.requires_grad and not n.startswith(("scores", "span"))],
                  "lr": a.lr * 0.3, "weight_decay": 0.01},
                 {"params": list(task.scores.parameters()), "lr": 1e-2, "weight_decay": 0.0}]

            def loss1b(ids, tt, attn, target):
                with torch.no_grad():
                    tl, _, _ = forward(bb, teacher, ids, tt, attn, ramps=False)
                logits, _, _ = forward(bb, task, ids, tt, attn, ramps=False)
                return 0.5 * soft_ce(logits, target) + 0.5 * soft_ce(logits, F.softmax(tl, -1))

            sched = lambda s, tot: pruning.cubic_threshold(s, tot, max(1, tot // 10), 1.0, keep_final, 1, 2)
            train_loop(g, a.prune_steps, loss1b, "1b", keep_sched=sched)
            task.keep = keep_final
            task.freeze_masks()
            ev = evaluate(bb, task, dv_ex, dv_y)
            say({"stage": "1b", "dev_acc": ev["acc"], "dev_f1": ev["f1"], "keep": keep_final})
            result.update(pruned_dev_acc=ev["acc"], pruned_dev_f1=ev["f1"])
        else:
            task.freeze_masks()

    # ---- stage 2: off-ramps only
    for p in task.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        for h in task.highway:
            h.pooler.weight.copy_(task.head[1].weight)
            h.pooler.bias.copy_(task.head[1].bias)
    for p in task.highway.parameters():
        p.requires_grad_(True)

    def loss2(ids, tt, attn, target):
        with torch.no_grad():
            states = bb(ids, attn, tt, task=task)
            if a.ramp_self_distill:
                task.head.eval()  # the final layer's answer as exported, without dropout
                final = F.softmax(task.head(states[-1][:, 0]), -1)
                task.head.train()
                target = (1 - a.ramp_self_distill) * target + a.ramp_self_distill * final
        return sum(soft_ce(task.highway[i](states[i + 1][:, 0]), target) for i in range(len(task.highway)))

    total2 = int(a.ramp_epochs * steps_per_epoch)
    if a.max_ramp_steps:
        total2 = min(total2, a.max_ramp_steps)
    train_loop([{"params": list(task.highway.parameters()), "lr": a.lr, "weight_decay": 0.01}], total2, loss2, 2)
    task.eval()
    ev = evaluate(bb, task, dv_ex, dv_y)
    say({"stage": 2, "dev_acc": ev["acc"], "dev_f1": ev["f1"], "dev_ramp_acc": ev["ramp_acc"]})

    # ---- traces -> predictor table, threshold (chosen on training examples, never on dev)
    idx = list(range(len(tr_ex)))
    random.Random(a.seed).shuffle(idx)
    idx = idx[:a.trace_sentences]
    ty = tr_t[idx].argmax(-1)
    evt = evaluate(bb, task, [tr_ex[i] for i in idx], ty)
    np.savetxt(os.path.join(a.out, "train_traces.txt"), evt["entropies"], fmt="%.6f", delimiter=",")
    table = predictor.fit_table(evt["entropies"][:, :L - 1], seed=a.seed)
    predictor.write_csv(os.path.join(a.out, "predictor.csv"), table)
    top = float(np.log(len(labels)))
    best_T = 0.0
    for T in np.round(np.arange(0.02, top, 0.02), 2):
        acc, _, _ = ee_eval(evt, ty, T)
        if acc >= evt["acc"] - 0.01:
            best_T = float(T)
    dv_ee = ee_eval(ev, dv_y, best_T)
    say({"threshold": best_T, "train_subset_acc": evt["acc"], "dev_ee_acc": dv_ee[0], "dev_mean_exit_layer": dv_ee[1],
         "dev_ee_f1": dv_ee[2]})

    meta = {"task": a.task, "labels": labels, "adapter": a.adapter, "adapter_config": acfg, "ramps": L,
            "span": span.task_json() if span is not None else None, "task_ln": a.task_ln,
            "prune": {"method": prune_method, "keep": keep_final} if prune_method else None,
            "exit": f"entropy:{best_T:g}", "dev_acc": ev["acc"], "dev_f1": ev["f1"], "dev_ramp_acc": ev["ramp_acc"],
            "dev_ee": {"threshold": best_T, "acc": dv_ee[0], "mean_exit_layer": dv_ee[1], "f1": dv_ee[2]},
            "spans": span.spans() if span is not None else None, "data": desc, **result,
            "sparsity": {k: pruning.sparsity(m) for k, m in task.masks().items()}, "args": vars(a),
            "seconds": round(time.time() - t0, 1)}
    json.dump(meta, open(os.path.join(a.out, "meta.json"), "w"), indent=2)
    torch.save(task.state_dict(), os.path.join(a.out, "task.pt"))
    torch.save(task.masks(), os.path.join(a.out, "masks.pt"))
    say({"done": True})


if __name__ == "__main__":
    main()
