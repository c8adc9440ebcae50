#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The shared backbone of the multi-task model, in stages that each write their output and can be rerun alone:

  vocab     SentencePiece unigram vocabulary (ALBERT's special pieces) on the pretraining sentences
            -> RUN/spiece.model
  encode    the pretraining documents as piece ids (a cache; rebuilt from RUN/spiece.model when missing)
            -> WORK/corpus.npz
  w2v       gensim word2vec (skip-gram) on the piece sequences, scaled to the embedding init
            -> WORK/w2v.npy
  train     MLM (15 %, 80/10/10) + sentence-order prediction on [CLS] (ALBERT's SOP) + IMDb review polarity
            on [CLS] (only for chunks of the 25,000 labelled IMDb train reviews), resumable: a checkpoint
            RUN/state.pt (fp32 weights, AdamW moments in bf16, step, data position, RNG states) is written
            every --ckpt-minutes and at the end; the log goes to RUN/log.jsonl.
  export    RUN/state.pt -> DIR/{config.json, backbone.pt, spiece.model} as train_task.py reads them.

Text: IMDb train + unlabelled reviews and the SST-2 train phrases (text only); see edgebert_tools/corpus.py.
No SST-2, MRPC or TREC label, and no dev/test text of any task, reaches the backbone.

    pretrain_backbone.py vocab  --run python/checkpoints/RUN [--data ../shared/data] [--vocab 16000]
    pretrain_backbone.py encode --run RUN --work WORK [--data DIR]
    pretrain_backbone.py w2v    --run RUN --work WORK
    pretrain_backbone.py train  --run RUN --work WORK [--data DIR] [--total-steps N] [--max-steps-now N]
    pretrain_backbone.py export --run RUN --out DIR
"""
import argparse
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
from edgebert_tools import albert, corpus, tokenizer  # noqa: E402

N_SPECIAL = 5  # <pad> <unk> [CLS] [SEP] [MASK]

# The backbone's shape (see checkpoints/README.md for the reasons): E 128, H 256, 4 heads of 64, I 1024,
# 6 layers sharing one layer, 128 positions.
SHAPE = dict(embedding_size=128, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
             num_hidden_layers=6, num_hidden_groups=1, inner_group_num=1, max_position_embeddings=128)


def _preprocessor():
    pre = tokenizer.AlbertTokenizer.__new__(tokenizer.AlbertTokenizer)
    pre.do_lower_case, pre.keep_accents = True, False
    return pre


# ---------------------------------------------------------------------------------------------------- vocab
def stage_vocab(a):
    if os.path.exists(os.path.join(a.run, "state.pt")) and not a.force:
        # the checkpoint's embeddings are indexed by this vocabulary: a new one would silently scramble them
        print(json.dumps({"stage": "vocab", "skipped": f"{a.run}/state.pt exists (use --force for a new run)"}))
        return
    os.makedirs(a.run, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    pre = _preprocessor()
    txt = os.path.join(a.work, "spm_train.txt")
    n = 0
    with open(txt, "w", encoding="utf-8") as f:
        for _, sents in corpus.pretraining_documents(a.data):
            for s in sents:
                s = pre.preprocess(s)
                if s:
                    f.write(s + "\n")
                    n += 1
    t0 = time.time()
    prefix = os.path.join(a.work, "spiece")
    # 2 M sentences is more than the corpus has: every sentence takes part
    tokenizer.train_spiece(txt, prefix, a.vocab, seed_sentence_size=2000000)
    os.replace(prefix + ".model", os.path.join(a.run, "spiece.model"))
    tok = tokenizer.AlbertTokenizer(os.path.join(a.run, "spiece.model"), max_length=128)
    assert [tok.pad_id, tok.sp.piece_to_id("<unk>"), tok.cls_id, tok.sep_id, tok.mask_id] == [0, 1, 2, 3, 4]
    print(json.dumps({"stage": "vocab", "sentences": n, "pieces": tok.vocab_size, "s": round(time.time() - t0)}),
          flush=True)


# --------------------------------------------------------------------------------------------------- encode
def stage_encode(a):
    tok = tokenizer.AlbertTokenizer(os.path.join(a.run, "spiece.model"), max_length=100000)
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    toks, sent_end, doc_end, labels = [], [], [], []
    n = 0
    for label, sents in corpus.pretraining_documents(a.data):
        for s in sents:
            ids = tok.encode(s, add_special=False)
            if ids:
                toks.append(np.asarray(ids, dtype=np.uint16))
                n += len(ids)
                sent_end.append(n)
        doc_end.append(len(sent_end))
        labels.append(label)
    np.savez(os.path.join(a.work, "corpus.npz"), tokens=np.concatenate(toks), sent_end=np.asarray(sent_end, np.int64),
             doc_end=np.asarray(doc_end, np.int64), labels=np.asarray(labels, np.int8),
             vocab_size=np.asarray(tok.vocab_size))
    print(json.dumps({"stage": "encode", "docs": len(doc_end), "sentences": len(sent_end), "tokens": n,
                      "s": round(time.time() - t0)}), flush=True)


def load_corpus(a):
    path = os.path.join(a.work, "corpus.npz")
    if not os.path.exists(path):
        stage_encode(a)
    z = np.load(path)
    return z["tokens"], z["sent_end"], z["doc_end"], z["labels"], int(z["vocab_size"])


# ------------------------------------------------------------------------------------------------------ w2v
def stage_w2v(a):
    from gensim.models import Word2Vec
    tokens, sent_end, _, _, V = load_corpus(a)
    txt = os.path.join(a.work, "w2v_train.txt")
    with open(txt, "w") as f:
        start = 0
        for e in sent_end:
            f.write(" ".join(map(str, tokens[start:e].tolist())) + "\n")
            start = e
    t0 = time.time()
    m = Word2Vec(corpus_file=txt, vector_size=SHAPE["embedding_size"], window=5, min_count=1, sg=1, negative=5,
                 epochs=a.w2v_epochs, workers=a.threads, seed=a.seed)
    E = SHAPE["embedding_size"]
    rng = np.random.default_rng(a.seed)
    out = rng.normal(0.0, a.init_std, size=(V, E)).astype(np.float32)
    vecs = np.stack([m.wv[k] for k in m.wv.index_to_key])
    vecs = (vecs - vecs.mean(0)) / vecs.std() * a.init_std  # same scale as the random rows
    for k, v in zip(m.wv.index_to_key, vecs):
        out[int(k)] = v
    out[0] = 0.0  # <pad>
    np.save(os.path.join(a.work, "w2v.npy"), out)
    os.remove(txt)
    print(json.dumps({"stage": "w2v", "pieces_with_vectors": len(m.wv.index_to_key), "of": V,
                      "s": round(time.time() - t0)}), flush=True)


# ---------------------------------------------------------------------------------------------------- model
class Pretrainer(nn.Module):
    """ALBERT + MLM head (HF names) + pooler + SOP classifier + IMDb polarity classifier on the pooled [CLS]."""

    def __init__(self, cfg):
        super().__init__()
        self.mlm = albert.AlbertForPretraining(cfg)
        H = cfg["hidden_size"]
        self.pooler = nn.Linear(H, H)
        self.sop = nn.Linear(H, 2)
        self.polarity = nn.Linear(H, 2)
        for m in (self.pooler, self.sop, self.polarity):
            nn.init.normal_(m.weight, std=cfg["initializer_range"])
            nn.init.zeros_(m.bias)

    def forward(self, ids, attn, tt, positions):
        h = self.mlm.albert(ids, attn, tt)[-1]
        pooled = torch.tanh(self.pooler(h[:, 0]))
        hm = h.reshape(-1, h.shape[-1])[positions]
        return self.mlm.predictions(hm, self.mlm.albert.embeddings.word_embeddings), self.sop(pooled), \
            self.polarity(pooled)


def make_examples(tokens, sent_end, doc_end, labels, epoch, seed, max_len):
    """One epoch of examples [(token start/end spans of A, spans of B, sop label, polarity)]: each document cut
    into chunks of whole sentences of about max_len - 3 pieces (10 % of chunks aim shorter, as BERT does), a
    chunk of >= 2 sentences split at a random sentence boundary into A and B, swapped with probability 1/2
    (SOP label 1). Deterministic in (seed, epoch)."""
    rng = random.Random(seed * 1000003 + epoch)
    budget = max_len - 3
    ex = []
    s0 = 0
    starts = np.concatenate([[0], sent_end[:-1]])
    for d, de in enumerate(doc_end):
        sents = [(int(starts[i]), int(sent_end[i])) for i in range(s0, de)]
        s0 = de
        target = budget if rng.random() > 0.1 else rng.randint(8, budget)
        cur, cur_len = [], 0
        chunks = []
        for b, e in sents:
            if e - b > budget:
                e = b + budget
            if cur and cur_len + (e - b) > target:
                chunks.append(cur)
                cur, cur_len = [], 0
                target = budget if rng.random() > 0.1 else rng.randint(8, budget)
            cur.append((b, e))
            cur_len += e - b
        if cur:
            chunks.append(cur)
        for ch in chunks:
            if len(ch) >= 2:
                k = rng.randint(1, len(ch) - 1)
                A, B = ch[:k], ch[k:]
                sop = int(rng.random() < 0.5)
                if sop:
                    A, B = B, A
            else:
                A, B, sop = ch, [], -100
            ex.append((A, B, sop, int(labels[d]) if labels[d] >= 0 else -100))
    rng.shuffle(ex)
    return ex


def ex_len(e):
    return sum(b - a for a, b in e[0]) + sum(b - a for a, b in e[1]) + (3 if e[1] else 2)


def make_batches(examples, max_tokens, epoch, seed):
    rng = random.Random(seed * 7919 + epoch)
    lens = [min(ex_len(e), 128) for e in examples]
    order = sorted(range(len(examples)), key=lambda i: (lens[i], rng.random()))
    out, cur, cur_len = [], [], 0
    for i in order:
        if cur and (len(cur) + 1) * max(cur_len, lens[i]) > max_tokens:
            out.append(cur)
            cur, cur_len = [], 0
        cur.append(i)
        cur_len = max(cur_len, lens[i])
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def build(tokens, e, max_len):
    A, B, _, _ = e
    a = np.concatenate([tokens[x:y] for x, y in A]).astype(np.int64)
    b = np.concatenate([tokens[x:y] for x, y in B]).astype(np.int64) if B else np.zeros(0, np.int64)
    room = max_len - (3 if B else 2)
    while len(a) + len(b) > room:  # trim the longer side from its end
        if len(a) >= len(b):
            a = a[:-1]
        else:
            b = b[:-1]
    ids = [2] + a.tolist() + [3]
    tt = [0] * len(ids)
    if B:
        ids += b.tolist() + [3]
        tt += [1] * (len(b) + 1)
    return ids, tt


def collate(tokens, exs, max_len):
    rows = [build(tokens, e, max_len) for e in exs]
    S = max(len(r[0]) for r in rows)
    ids = torch.zeros((len(rows), S), dtype=torch.long)
    tt = torch.zeros_like(ids)
    attn = torch.zeros_like(ids)
    for k, (i, t) in enumerate(rows):
        ids[k, :len(i)] = torch.tensor(i)
        tt[k, :len(t)] = torch.tensor(t)
        attn[k, :len(i)] = 1
    sop = torch.tensor([e[2] for e in exs])
    pol = torch.tensor([e[3] for e in exs])
    return ids, tt, attn, sop, pol


def mask_tokens(ids, attn, V, gen, p=0.15):
    chosen = (torch.rand(ids.shape, generator=gen) < p) & (attn == 1) & (ids >= N_SPECIAL)
    flat = chosen.flatten().nonzero().squeeze(1)
    targets = ids.flatten()[flat].clone()
    x = ids.clone().flatten()
    r = torch.rand(flat.shape, generator=gen)
    x[flat[r < 0.8]] = 4
    rnd = flat[(r >= 0.8) & (r < 0.9)]
    x[rnd] = torch.randint(N_SPECIAL, V, rnd.shape, generator=gen)
    return x.view_as(ids), flat, targets


def lr_at(step, a):
    """Linear warm-up, then linear decay to 10 % at total_steps (constant 10 % after)."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    frac = min(1.0, (step - a.warmup) / max(1, a.total_steps - a.warmup))
    return a.lr * (1.0 - 0.9 * frac)


def save_state(path, model, opt, meta):
    """fp32 weights; AdamW moments in bf16 (halves the committed checkpoint; resuming from rounded moments only
    perturbs the next few hundred updates slightly)."""
    osd = opt.state_dict()
    small = {"param_groups": osd["param_groups"], "state": {}}
    for k, st in osd["state"].items():
        small["state"][k] = {n: (v.to(torch.bfloat16) if torch.is_tensor(v) and v.dim() > 0 else v)
                             for n, v in st.items()}
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": small, "meta": meta}, tmp)
    os.replace(tmp, path)


def load_state(path, model, opt):
    st = torch.load(path)
    model.load_state_dict(st["model"])
    osd = st["opt"]
    for k, s in osd["state"].items():
        for n, v in list(s.items()):
            if torch.is_tensor(v) and v.dim() > 0:
                s[n] = v.to(torch.float32)
    opt.load_state_dict(osd)
    return st["meta"]


def config_for(V):
    cfg = albert.default_config(vocab_size=V, hidden_dropout_prob=0.1, **SHAPE)
    return cfg


def stage_train(a):
    torch.set_num_threads(a.threads)
    tokens, sent_end, doc_end, labels, V = load_corpus(a)
    cfg = config_for(V)
    torch.manual_seed(a.seed)
    model = Pretrainer(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-6)
    state_path = os.path.join(a.run, "state.pt")
    gen = torch.Generator().manual_seed(a.seed)
    if os.path.exists(state_path):
        meta = load_state(state_path, model, opt)
        gen.set_state(torch.tensor(meta["gen_state"], dtype=torch.uint8))
        if a.replan_total_steps:  # a later session may lengthen or shorten the plan (logged)
            meta["args"]["total_steps"] = a.replan_total_steps
            meta.setdefault("replans", []).append({"at_step": meta["step"], "total_steps": a.replan_total_steps})
        for k in ("total_steps", "lr", "warmup", "max_tokens", "seed"):
            setattr(a, k, meta["args"][k])  # a resumed run keeps its schedule
        print(json.dumps({"resumed": state_path, "step": meta["step"], "epoch": meta["epoch"],
                          "batch": meta["batch"]}), flush=True)
    else:
        w2v = os.path.join(a.work, "w2v.npy")
        if a.w2v_init:
            if not os.path.exists(w2v):
                stage_w2v(a)
            with torch.no_grad():
                model.mlm.albert.embeddings.word_embeddings.weight.copy_(torch.from_numpy(np.load(w2v)))
        meta = {"step": 0, "epoch": 0, "batch": 0, "tokens": 0, "seconds": 0.0, "w2v_init": bool(a.w2v_init),
                "args": {k: getattr(a, k) for k in ("total_steps", "lr", "warmup", "max_tokens", "seed")},
                "config": cfg}
    logf = open(os.path.join(a.run, "log.jsonl"), "a")
    model.train()
    step, epoch, bi = meta["step"], meta["epoch"], meta["batch"]
    t_start, last_ckpt = time.time(), time.time()
    secs0 = meta["seconds"]
    stop_at = step + a.max_steps_now if a.max_steps_now else None
    run = {"mlm": None, "acc": None, "sop": None, "sop_acc": None, "pol_acc": None}

    def ema(k, v):
        run[k] = v if run[k] is None else 0.98 * run[k] + 0.02 * v

    def checkpoint():
        meta.update(step=step, epoch=epoch, batch=bi, seconds=secs0 + time.time() - t_start,
                    gen_state=gen.get_state().tolist())
        save_state(state_path, model, opt, meta)

    while True:
        exs = make_examples(tokens, sent_end, doc_end, labels, epoch, a.seed, cfg["max_position_embeddings"])
        bl = make_batches(exs, a.max_tokens, epoch, a.seed)
        while bi < len(bl):
            if step >= a.total_steps or (stop_at is not None and step >= stop_at):
                checkpoint()
                print(json.dumps({"stopped_at": step}), flush=True)
                return
            ids, tt, attn, sop, pol = collate(tokens, [exs[i] for i in bl[bi]], cfg["max_position_embeddings"])
            x, pos, targets = mask_tokens(ids, attn, V, gen)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, a)
            mlm_logits, sop_logits, pol_logits = model(x, attn, tt, pos)
            loss = F.cross_entropy(mlm_logits, targets)
            ml = loss.item()
            has_sop, has_pol = (sop >= 0).any(), (pol >= 0).any()
            if has_sop:
                ls = F.cross_entropy(sop_logits, sop, ignore_index=-100)
                loss = loss + ls
            if has_pol:
                loss = loss + a.polarity_weight * F.cross_entropy(pol_logits, pol, ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            bi += 1
            meta["tokens"] += int(attn.sum())
            ema("mlm", ml)
            ema("acc", (mlm_logits.argmax(-1) == targets).float().mean().item())
            if has_sop:
                k = sop >= 0
                ema("sop", ls.item())
                ema("sop_acc", (sop_logits.argmax(-1)[k] == sop[k]).float().mean().item())
            if has_pol:
                k = pol >= 0
                ema("pol_acc", (pol_logits.argmax(-1)[k] == pol[k]).float().mean().item())
            if step % a.log_every == 0:
                rec = {"step": step, "epoch": epoch, "lr": round(lr_at(step, a), 7), "tokens": meta["tokens"],
                       "s": round(secs0 + time.time() - t_start, 1)}
                rec.update({k: (round(v, 4) if v is not None else None) for k, v in run.items()})
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
            if time.time() - last_ckpt > a.ckpt_minutes * 60:
                checkpoint()
                last_ckpt = time.time()
        epoch += 1
        bi = 0


# --------------------------------------------------------------------------------------------------- export
def stage_export(a):
    st = torch.load(os.path.join(a.run, "state.pt"))
    cfg = dict(st["meta"]["config"])
    model = Pretrainer(cfg)
    model.load_state_dict(st["model"])
    os.makedirs(a.out, exist_ok=True)
    cfg["hidden_dropout_prob"] = 0.0  # exported configs describe inference
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    sd = model.mlm.state_dict()
    sd["albert.pooler.weight"] = model.pooler.weight.detach().clone()
    sd["albert.pooler.bias"] = model.pooler.bias.detach().clone()
    torch.save(sd, os.path.join(a.out, "backbone.pt"))
    import shutil
    shutil.copy(os.path.join(a.run, "spiece.model"), os.path.join(a.out, "spiece.model"))
    json.dump({k: st["meta"][k] for k in ("step", "epoch", "tokens", "seconds")},
              open(os.path.join(a.out, "pretrain_meta.json"), "w"), indent=2)
    print(json.dumps({"stage": "export", "step": st["meta"]["step"], "out": a.out}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["vocab", "encode", "w2v", "train", "export"])
    ap.add_argument("--run", required=True, help="checkpoint folder (spiece.model, state.pt, log.jsonl)")
    ap.add_argument("--work", default="/tmp/edgebert-pretrain", help="scratch folder for caches")
    ap.add_argument("--data", default=corpus.DEFAULT_DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--out", help="export: destination folder")
    ap.add_argument("--vocab", type=int, default=16000)
    ap.add_argument("--force", action="store_true", help="vocab: retrain even though a checkpoint exists")
    ap.add_argument("--w2v-epochs", type=int, default=3)
    ap.add_argument("--w2v-init", type=int, default=1)
    ap.add_argument("--init-std", type=float, default=0.05)
    ap.add_argument("--total-steps", type=int, default=12000)
    ap.add_argument("--replan-total-steps", type=int, default=0,
                    help="on resume: change the planned total (the learning rate then follows the new linear decay)")
    ap.add_argument("--max-steps-now", type=int, default=0, help="stop after this many steps in this process")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--max-tokens", type=int, default=2048, help="padded tokens per batch")
    ap.add_argument("--polarity-weight", type=float, default=0.5)
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    {"vocab": stage_vocab, "encode": stage_encode, "w2v": stage_w2v, "train": stage_train,
     "export": stage_export}[a.stage](a)


if __name__ == "__main__":
    main()
