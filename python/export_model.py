#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Export to the edgebert multi-task model folder.

    export_model.py bundle --pretrained PRE_DIR --task TASK_DIR [--task TASK_DIR ...] --out MODEL_DIR
        from this recipe's outputs (pretrain_mlm.py, train_task.py)
    export_model.py hf --checkpoint HF_DIR --out MODEL_DIR [--adapter ADAPTER_DIR ...] [--task-name NAME]
                       [--labels a,b] [--predictor LUT.csv] [--exit entropy:0.3] [--mask-threshold 0.5]
                       [--span-tensor NAME --span-mode absolute --span-ramp 256 --span-scale 128]
        from a HuggingFace ALBERT checkpoint (+ EdgeBERT extras in its state dict) and AdapterHub adapter folders
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import adapters, albert, export, spans, task as taskmod  # noqa: E402


def bundle(a):
    cfg = json.load(open(os.path.join(a.pretrained, "config.json")))
    full = albert.AlbertForPretraining(cfg)
    state = torch.load(os.path.join(a.pretrained, "backbone.pt"))
    # pretrain_backbone.py trains a pooler (SOP / polarity on [CLS]) and stores it beside the MLM model
    pooler = {k: state.pop(k) for k in list(state) if k.startswith("albert.pooler.")}
    full.load_state_dict(state)
    bb = full.albert
    tensors = full.backbone_state_dict()
    tensors.update(pooler)
    if "albert.pooler.weight" not in tensors:
        # MLM-only pretraining trains no pooler (no SOP); the task heads read [CLS] directly. An HF ALBERT folder
        # has one, so write a fixed-seed, untrained pooler (init as HF: N(0, 0.02), zero bias) for loaders
        # that expect it.
        H = cfg["hidden_size"]
        g = torch.Generator().manual_seed(0)
        tensors["albert.pooler.weight"] = torch.randn(H, H, generator=g) * cfg["initializer_range"]
        tensors["albert.pooler.bias"] = torch.zeros(H)
    export.write_backbone(a.out, cfg, tensors, os.path.join(a.pretrained, "spiece.model"),
                          cfg["max_position_embeddings"], weight_dtype=a.weight_dtype)
    for tdir in a.task:
        meta = json.load(open(os.path.join(tdir, "meta.json")))
        span = None
        if meta["span"]:
            s = meta["span"]
            span = spans.AdaptiveSpan(cfg["num_attention_heads"], mode=s["mode"], ramp=s["ramp"],
                                      max_span=s.get("max_span", 0.0), template_length=s.get("template_length", 128))
        t = taskmod.TaskModule(meta["task"], meta["labels"], cfg, meta["adapter_config"], ramps=meta["ramps"], span=span,
                               task_layer_norms=meta["task_ln"], backbone=bb)
        state = torch.load(os.path.join(tdir, "task.pt"))
        state = {k: v for k, v in state.items() if not k.startswith("scores.")}
        t.load_state_dict(state)
        t.fixed_masks = torch.load(os.path.join(tdir, "masks.pt"))
        export.write_task(os.path.join(a.out, "tasks", meta["task"]), t, a.name or os.path.basename(a.out.rstrip("/")),
                          exit_policy=meta["exit"], predictor_csv=os.path.join(tdir, "predictor.csv"),
                          mask_dtype=a.mask_dtype, weight_dtype=a.weight_dtype,
                          sentence_pairs=meta["task"] == "mrpc")  # train_adapter.py's one pair task
    print(json.dumps({"out": a.out, "tasks": [json.load(open(os.path.join(t, "meta.json")))["task"] for t in a.task]}))


def hf(a):
    export.export_hf(a.checkpoint, a.out, adapters=a.adapter, task_name=a.task_name,
                     labels=a.labels.split(",") if a.labels else None, predictor_csv=a.predictor, exit_policy=a.exit,
                     mask_threshold=a.mask_threshold, span_tensor=a.span_tensor, span_mode=a.span_mode,
                     span_ramp=a.span_ramp, span_scale=a.span_scale)
    print(json.dumps({"out": a.out}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundle")
    b.add_argument("--pretrained", required=True)
    b.add_argument("--task", action="append", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--name", default="")
    b.add_argument("--mask-dtype", choices=["F32", "U8"], default="F32",
                   help="pruning masks as F32 0/1 (default, as the first bundled model) or U8 (4x smaller)")
    b.add_argument("--weight-dtype", choices=["F32", "F16"], default="F32",
                   help="float weights as trained (F32) or rounded to F16 (half the folder; the reference outputs are "
                        "computed from the rounded weights)")
    h = sub.add_parser("hf")
    h.add_argument("--checkpoint", required=True)
    h.add_argument("--out", required=True)
    h.add_argument("--adapter", action="append", default=[])
    h.add_argument("--task-name", default=None)
    h.add_argument("--labels", default="")
    h.add_argument("--predictor", default=None)
    h.add_argument("--exit", default="none")
    h.add_argument("--mask-threshold", type=float, default=None)
    h.add_argument("--span-tensor", default=None)
    h.add_argument("--span-mode", default="absolute", choices=["absolute", "distance"])
    h.add_argument("--span-ramp", type=float, default=256.0)
    h.add_argument("--span-scale", type=float, default=128)
    a = ap.parse_args()
    torch.set_num_threads(1)
    bundle(a) if a.cmd == "bundle" else hf(a)


if __name__ == "__main__":
    main()
