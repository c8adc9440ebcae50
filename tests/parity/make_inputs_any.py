#!/usr/bin/env python3
"""Seeded padded inputs for any config (like the peer's make_inputs.py, plus every token type in range).

    make_inputs_any.py --config DIR/config.json --batch 3 --seq 13 --seed 1 --out in.json
Row 0 is full length; later rows get random lengths in [1, seq]; pads have id 0 and mask 0.
"""
import argparse
import json

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg = json.load(open(a.config))
    rng = np.random.default_rng(a.seed)
    ids = rng.integers(1, cfg["vocab_size"], size=(a.batch, a.seq))
    lens = rng.integers(1, a.seq + 1, size=a.batch)
    lens[0] = a.seq
    mask = (np.arange(a.seq)[None, :] < lens[:, None]).astype(np.int64)
    tt = rng.integers(0, cfg.get("type_vocab_size", 2), size=(a.batch, a.seq)) * mask
    ids = np.where(mask == 1, ids, 0)
    json.dump({"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "token_type_ids": tt.tolist()},
              open(a.out, "w"))


if __name__ == "__main__":
    main()
