#!/usr/bin/env python3
"""Compare two output folders of .npy files (logits, pooler_output, hidden states as one stacked
hidden_states.npy or hidden_states_NN.npy files): print the largest absolute difference per tensor and
exit 1 if any exceeds --atol or a reference tensor is missing. numpy only.

    compare.py --ref REF_DIR --cand CAND_DIR [--atol 1e-4] [--mask inputs.json]
"""
import argparse
import json
import os
import sys

import numpy as np


def load(folder):
    out = {}
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".npy"):
            continue
        a = np.load(os.path.join(folder, f)).astype(np.float64)
        if f == "hidden_states.npy":
            out.update({f"hidden_states_{i:02d}": a[i] for i in range(a.shape[0])})
        else:
            out[f[:-4]] = a
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--cand", required=True)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--mask", help="accepted for compatibility; padded positions are compared too")
    a = ap.parse_args()
    ref, cand = load(a.ref), load(a.cand)
    worst, ok = 0.0, True
    for name, r in ref.items():
        c = cand.get(name)
        if c is None or c.shape != r.shape:
            print(json.dumps({"tensor": name, "status": "missing" if c is None else f"shape {c.shape} != {r.shape}"}))
            ok = False
            continue
        d = float(np.abs(c - r).max()) if r.size else 0.0
        worst = max(worst, d)
        print(json.dumps({"tensor": name, "max_abs": d}))
    ok = ok and worst <= a.atol
    print(json.dumps({"worst_max_abs": worst, "atol": a.atol, "pass": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
