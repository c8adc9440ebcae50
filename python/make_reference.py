#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-sentence reference outputs of an exported model folder, computed by loading the folder's files back into
the torch model (so they describe exactly what was written), one unpadded sentence at a time, fp32, full depth,
no early exit:

    make_reference.py --model MODEL_DIR --task NAME --input FILE.tsv [--header] --out FILE.jsonl

FILE.tsv holds `label<TAB>text` lines (integer gold label), or `label<TAB>text_a<TAB>text_b` for a sentence-pair
task (encoded as [CLS] a [SEP] b [SEP]; the line then also gets `token_type_ids`). Each output line is a JSON object:
  index (0-based line of FILE.tsv after the header), gold, input_ids (our tokenizer: ALBERT preprocessing +
  spiece + [CLS]/[SEP]), logits (final head, full depth), entropies (off-ramp entropies of layers 1..L, natural
  log), final_entropy (of the final logits), pred (argmax of logits), pred_label; with --full also text and
  ramp_logits. Floats are written as the shortest decimal that reads back to the same float32.
A summary (accuracy, full depth) is printed as JSON."""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edgebert_tools import export, task as taskmod, tokenizer  # noqa: E402


def f32(x):
    """The shortest decimal that parses back to the same float32 (keeps the files small, loses nothing)."""
    return float(repr(np.float32(float(x))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--header", action="store_true", help="skip the first line")
    ap.add_argument("--out", required=True)
    ap.add_argument("--full", action="store_true", help="also write text and ramp_logits")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg, bb, tasks = export.load_folder(a.model)
    t = tasks[a.task]
    tc = json.load(open(os.path.join(a.model, "tokenizer_config.json")))
    tok = tokenizer.AlbertTokenizer(os.path.join(a.model, "spiece.model"), tc["do_lower_case"], tc["keep_accents"], tc["max_length"])
    lines = open(a.input, encoding="utf-8").read().splitlines()[1 if a.header else 0:]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    correct = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for i, line in enumerate(lines):
            parts = line.split("\t")
            gold, text = parts[0], "\t".join(parts[1:])
            tt = None
            if len(parts) == 3:
                ids, tt = tok.encode_pair(parts[1], parts[2])
            else:
                ids = tok.encode(text)
            r = taskmod.run_reference(bb, t, torch.tensor(ids), None if tt is None else torch.tensor(tt))
            pred = int(r["logits"].argmax())
            correct += pred == int(gold)
            rec = {"index": i, "gold": int(gold), "input_ids": ids}
            if tt is not None:
                rec["token_type_ids"] = tt
            rec.update({"logits": [f32(x) for x in r["logits"]],
                        "entropies": [f32(x) for x in r["entropies"]], "final_entropy": f32(r["final_entropy"]),
                        "pred": pred, "pred_label": t.labels[pred]})
            if a.full:
                rec["text"] = text
                rec["ramp_logits"] = [[f32(x) for x in rl] for rl in r["ramp_logits"]]
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(json.dumps({"task": a.task, "sentences": len(lines), "accuracy": correct / len(lines), "out": a.out}))


if __name__ == "__main__":
    main()
