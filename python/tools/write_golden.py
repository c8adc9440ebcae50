#!/usr/bin/env python3
"""Write a model folder's golden.json (model/golden.hpp) from PyTorch's recorded outputs.

Each reference file is a JSON-lines dump the exporter wrote while running the PyTorch model on a task's dev set
(reference/<task>_dev.jsonl: input_ids, optional token_type_ids, and "logits" of the final classifier at full
depth). The first --per-task lines of each become golden cases; the C++ loader reruns them on every load.

    python3 python/tools/write_golden.py models/albert-tiny-sst2-lang --per-task 3
"""
import argparse
import glob
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="model folder with reference/<task>_dev.jsonl and tasks/<task>/")
    ap.add_argument("--per-task", type=int, default=3, help="cases per task (default 3)")
    ap.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance (default 1e-5)")
    ap.add_argument("--rtol", type=float, default=1e-5, help="relative tolerance (default 1e-5)")
    a = ap.parse_args()
    cases = []
    for path in sorted(glob.glob(os.path.join(a.folder, "reference", "*_dev.jsonl"))):
        task = os.path.basename(path)[: -len("_dev.jsonl")]
        if not os.path.isdir(os.path.join(a.folder, "tasks", task)):
            raise SystemExit(f"{path}: no task folder tasks/{task}")
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                if n >= a.per_task:
                    break
                r = json.loads(line)
                case = {"name": f"{task} dev {r.get('index', n)}", "task": task, "input_ids": r["input_ids"],
                        "logits": r["logits"]}
                if "token_type_ids" in r:
                    case["token_type_ids"] = r["token_type_ids"]
                cases.append(case)
    if not cases:
        raise SystemExit(f"no reference/*_dev.jsonl in {a.folder}")
    out = {"format": "edgebert-golden", "atol": a.atol, "rtol": a.rtol,
           "source": "PyTorch outputs recorded by the exporter (reference/*_dev.jsonl), full depth, no early exit",
           "cases": cases}
    with open(os.path.join(a.folder, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} golden cases -> {os.path.join(a.folder, 'golden.json')}")


if __name__ == "__main__":
    main()
