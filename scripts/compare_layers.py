#!/usr/bin/env python3
"""Per-layer agreement of two `edgebert run` output folders (a compressed model against fp32): for every hidden
state (0 = embeddings after the E->H projection, i = layer i) and the logits, the largest absolute difference
and the mean cosine similarity of the token vectors (padding excluded). Prints one JSON object.

    compare_layers.py --ref FP32_OUT --cand COMPRESSED_OUT --inputs in.json
"""
import argparse
import json
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--cand", required=True)
    ap.add_argument("--inputs", required=True)
    a = ap.parse_args()
    inp = json.load(open(a.inputs))
    ids = np.asarray(inp["input_ids"])
    mask = np.asarray(inp.get("attention_mask", np.ones_like(ids))).astype(bool)
    ref = np.load(os.path.join(a.ref, "hidden_states.npy")).astype(np.float64)
    cand = np.load(os.path.join(a.cand, "hidden_states.npy")).astype(np.float64)
    layers = []
    for i in range(ref.shape[0]):
        r, c = ref[i][mask], cand[i][mask]  # [tokens, H]
        cos = (r * c).sum(-1) / (np.linalg.norm(r, axis=-1) * np.linalg.norm(c, axis=-1))
        layers.append({"layer": i, "max_abs": float(np.abs(r - c).max()), "cosine": float(cos.mean()),
                       "cosine_min": float(cos.min())})
    lr = np.load(os.path.join(a.ref, "logits.npy")).astype(np.float64)
    lc = np.load(os.path.join(a.cand, "logits.npy")).astype(np.float64)
    cos = (lr * lc).sum(-1) / (np.linalg.norm(lr, axis=-1) * np.linalg.norm(lc, axis=-1))
    print(json.dumps({"layers": layers, "logits": {"max_abs": float(np.abs(lr - lc).max()), "cosine": float(cos.mean()),
                                                    "same_argmax": float((lr.argmax(-1) == lc.argmax(-1)).mean())}}))


if __name__ == "__main__":
    main()
