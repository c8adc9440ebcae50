#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare the C++ `edgebert run` output on a model folder with the reference outputs written by
make_reference.py: same prediction for every sentence (early exit off), largest logit and entropy differences.
Goldens with `token_type_ids` (sentence pairs) pass them to the C++ run as well.

    compare_cpp.py --cli build/examples/edgebert --model MODEL_DIR --task NAME --reference FILE.jsonl [--batch 64]
Prints one JSON line; exit status 1 if any prediction differs."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    with open(a.reference, encoding="utf-8") as f:
        rows = [json.loads(l) for l in f]
    dl, de, mismatch, margin_min = 0.0, 0.0, [], float("inf")
    with tempfile.TemporaryDirectory() as d:
        for s in range(0, len(rows), a.batch):
            chunk = rows[s:s + a.batch]
            S = max(len(r["input_ids"]) for r in chunk)
            doc = {"input_ids": [r["input_ids"] + [0] * (S - len(r["input_ids"])) for r in chunk],
                   "attention_mask": [[1] * len(r["input_ids"]) + [0] * (S - len(r["input_ids"])) for r in chunk]}
            if any("token_type_ids" in r for r in chunk):  # sentence pairs (make_reference.py on a pair task)
                doc["token_type_ids"] = [r.get("token_type_ids", [0] * len(r["input_ids"])) +
                                         [0] * (S - len(r["input_ids"])) for r in chunk]
            inp, out = os.path.join(d, "in.json"), os.path.join(d, "out")
            with open(inp, "w") as f:
                json.dump(doc, f)
            subprocess.run([a.cli, "run", "--model", a.model, "--task", a.task, "--exit", "none", "--input", inp,
                            "--out", out], check=True, stdout=subprocess.DEVNULL)
            logits = np.load(os.path.join(out, "logits.npy"))
            with open(os.path.join(out, "exit.json")) as f:
                ex = json.load(f)["sentences"]
            for r, lg, e in zip(chunk, logits, ex):
                ref = np.asarray(r["logits"])
                dl = max(dl, float(np.abs(lg - ref).max()))
                de = max(de, float(np.abs(np.asarray(e["entropies"]) - np.asarray(r["entropies"])).max()))
                top = np.sort(ref)[::-1]
                margin_min = min(margin_min, float(top[0] - top[1]))
                if int(np.argmax(lg)) != r["pred"]:
                    mismatch.append(r["index"])
    res = {"task": a.task, "sentences": len(rows), "prediction_mismatches": mismatch, "max_abs_logit_diff": dl,
           "max_abs_entropy_diff": de, "smallest_reference_logit_margin": margin_min}
    print(json.dumps(res))
    sys.exit(1 if mismatch else 0)


if __name__ == "__main__":
    main()
