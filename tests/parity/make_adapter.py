#!/usr/bin/env python3
"""Write a task folder with a seeded AdapterHub bottleneck adapter for an ALBERT folder made by make_albert.py:
adapter_config.json + adapter.safetensors (AdapterHub's parameter names), optionally an AdapterHub
classification head (head_config.json + model_head.safetensors) and EdgeBERT extras (edgebert.safetensors with
off-ramps and span values, task.json). numpy only.

    make_adapter.py --model DIR --out DIR --preset houlsby|pfeiffer [--set key=value ...] [--head LAYERS]
                    [--labels C] [--highway] [--span MODE:RAMP:SCALE] [--zero-up] [--legacy] [--no-prefix]
"""
import argparse
import json
import os
import zlib

import numpy as np

from make_albert import write_safetensors

PRESETS = {
    "pfeiffer": {"original_ln_before": True, "original_ln_after": True, "residual_before_ln": True,
                 "adapter_residual_before_ln": False, "ln_before": False, "ln_after": False, "mh_adapter": False,
                 "output_adapter": True, "non_linearity": "relu", "reduction_factor": 4, "init_weights": "bert",
                 "is_parallel": False, "scaling": 1.0, "use_gating": False, "inv_adapter": None,
                 "inv_adapter_reduction_factor": None, "cross_adapter": False, "leave_out": [], "dropout": 0.0,
                 "phm_layer": False, "stochastic_depth": 0.0},
}
PRESETS["houlsby"] = dict(PRESETS["pfeiffer"], original_ln_before=False, mh_adapter=True, non_linearity="swish")


def rand(name, seed, shape, scale):
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return (rng.standard_normal(shape) * scale).astype("<f4")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--name", default="task")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--set", nargs="*", default=[], help="adapter config overrides key=value (JSON values)")
    ap.add_argument("--head", type=int, default=0, help="AdapterHub classification head with this many layers")
    ap.add_argument("--use-pooler", action="store_true")
    ap.add_argument("--labels", type=int, default=2)
    ap.add_argument("--highway", action="store_true", help="off-ramps in edgebert.safetensors")
    ap.add_argument("--span", default="", help="MODE:RAMP:SCALE, learned span values in edgebert.safetensors")
    ap.add_argument("--exit", default="", help="exit policy written to task.json")
    ap.add_argument("--zero-up", action="store_true", help="up-projections zero (the adapter must change nothing)")
    ap.add_argument("--legacy", action="store_true", help="an adapter-transformers file: no version key")
    ap.add_argument("--no-prefix", action="store_true", help="names saved from a bare AlbertModel (no 'albert.')")
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    H, G, J, L = cfg["hidden_size"], cfg.get("num_hidden_groups", 1), cfg.get("inner_group_num", 1), cfg["num_hidden_layers"]
    bn = dict(PRESETS[a.preset])
    for kv in a.set:
        k, v = kv.split("=", 1)
        try:
            bn[k] = json.loads(v)
        except json.JSONDecodeError:
            bn[k] = v
    os.makedirs(a.out, exist_ok=True)
    doc = {"config": bn, "hidden_size": H, "model_class": "AlbertAdapterModel", "model_name": "edgebert-test",
           "model_type": "albert", "name": a.name}
    if not a.legacy:
        doc["version"] = "adapters.1.1.0"
    json.dump(doc, open(os.path.join(a.out, "adapter_config.json"), "w"), indent=2)

    prefix = "" if a.no_prefix else "albert."
    rf = bn["reduction_factor"]
    per_depth = bn.get("edgebert_per_depth", False)
    ts = {}
    modules = [(o, j) for o in range(L if per_depth else G) for j in range(J)]
    for idx, (o, j) in enumerate(modules):
        if idx in bn.get("leave_out", []):
            continue
        r = rf[str(idx)] if isinstance(rf, dict) and str(idx) in rf else (rf["default"] if isinstance(rf, dict) else rf)
        m = max(1, int(H // r))
        kinds = (["attention"] if bn["mh_adapter"] else []) + (["output"] if bn["output_adapter"] else [])
        for kind in kinds:
            if per_depth:
                p = f"{prefix}encoder.adapter_depth.{o}.{j}.{kind}_adapters.adapters.{a.name}."
            elif kind == "attention":
                p = f"{prefix}encoder.albert_layer_groups.{o}.albert_layers.{j}.attention.attention_adapters.adapters.{a.name}."
            else:
                p = f"{prefix}encoder.albert_layer_groups.{o}.albert_layers.{j}.output_adapters.adapters.{a.name}."
            down = p + "adapter_down.0."
            if bn.get("ln_before"):
                ts[p + "adapter_down.0.weight"] = 1 + rand(p + "lnb.w", a.seed, (H,), 0.1)
                ts[p + "adapter_down.0.bias"] = rand(p + "lnb.b", a.seed, (H,), 0.1)
                down = p + "adapter_down.1."
            ts[down + "weight"] = rand(down + "weight", a.seed, (m, H), 0.3)
            ts[down + "bias"] = rand(down + "bias", a.seed, (m,), 0.1)
            up_scale = 0.0 if a.zero_up else 0.3
            ts[p + "adapter_up.weight"] = rand(p + "up.w", a.seed, (H, m), up_scale)
            ts[p + "adapter_up.bias"] = rand(p + "up.b", a.seed, (H,), up_scale)
            if bn.get("ln_after"):
                ts[p + "adapter_norm_after.weight"] = 1 + rand(p + "lna.w", a.seed, (H,), 0.1)
                ts[p + "adapter_norm_after.bias"] = rand(p + "lna.b", a.seed, (H,), 0.1)
            if bn.get("scaling") == "learned":
                ts[p + "scaling"] = 1 + rand(p + "s", a.seed, (1,), 0.3)
            elif bn.get("scaling") == "channel":
                ts[p + "scaling"] = 1 + rand(p + "s", a.seed, (H,), 0.3)
    write_safetensors(os.path.join(a.out, "adapter.safetensors"), dict(sorted(ts.items())), "F32")

    C = a.labels
    if a.head:
        head = {"config": {"head_type": "classification", "num_labels": C, "layers": a.head,
                           "activation_function": "tanh", "use_pooler": a.use_pooler,
                           "label2id": {f"class_{i}": i for i in range(C)}},
                "hidden_size": H, "model_class": "AlbertAdapterModel", "model_name": "edgebert-test",
                "model_type": "albert", "name": a.name, "version": "adapters.1.1.0"}
        json.dump(head, open(os.path.join(a.out, "head_config.json"), "w"), indent=2)
        hs = {}
        for i in range(a.head):
            out = C if i == a.head - 1 else H
            n = f"heads.{a.name}.{1 + 3 * i}."
            hs[n + "weight"] = rand(n + "w", a.seed, (out, H), 0.3)
            hs[n + "bias"] = rand(n + "b", a.seed, (out,), 0.1)
        write_safetensors(os.path.join(a.out, "model_head.safetensors"), hs, "F32")

    extras, meta = {}, {}
    if a.highway:
        for i in range(L):
            n = f"albert.encoder.highway.{i}."
            extras[n + "pooler.weight"] = rand(n + "pw", a.seed, (H, H), 0.3)
            extras[n + "pooler.bias"] = rand(n + "pb", a.seed, (H,), 0.1)
            extras[n + "classifier.weight"] = rand(n + "cw", a.seed, (C, H), 0.5)
            extras[n + "classifier.bias"] = rand(n + "cb", a.seed, (C,), 0.1)
    if a.span:
        mode, ramp, scale = a.span.split(":")
        nh = cfg["num_attention_heads"]
        extras["albert.encoder.span.value"] = np.linspace(0.05, 0.9, nh).astype("<f4")
        meta["span"] = {"mode": mode, "ramp": float(ramp)}
        meta["span"]["max_span" if mode == "distance" else "template_length"] = float(scale) if mode == "distance" else int(scale)
    if extras:
        write_safetensors(os.path.join(a.out, "edgebert.safetensors"), dict(sorted(extras.items())), "F32")
    if a.exit:
        meta["exit"] = a.exit
    if meta:
        json.dump(meta, open(os.path.join(a.out, "task.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
