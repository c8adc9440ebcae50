#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""EdgeBERT mode on the SST-2 dev set, per sentence, against ONNX Runtime at full depth (docs/performance.md).

Every one of the 872 SST-2 dev sentences is run alone (batch 1) at its own token length, and leaves at the
layer that EdgeBERT's own off-ramp entropy trace says for the entropy threshold T (`edgebert exits
--per-sentence`, the library's policy). Engines:

  edgebert EdgeBERT mode   ALBERT-base (the peer's weights) compressed as EdgeBERT does: AdaptivFloat af8e3,
                           80 % of every encoder matrix and 60 % of the word embeddings pruned by magnitude
                           (`edgebert compress`), held as --weights says (default fp32: the codes decoded
                           once at load; `fastest` computes on the 8-bit codes and bit masks, `int8`
                           requantizes per channel for integer products); L layers
  edgebert full depth      the same model, all 12 layers (what early exit saves, apart from compression)
  ORT fp32, ORT int8       the peer's model.onnx and its dynamic-int8 form (scripts/quantize_peer_int8.py),
                           all 12 layers

Timing: one `edgebert bench` (median of --iters forward passes) per distinct (length, exit layer), with the
model's num_hidden_layers set to the exit layer: ALBERT applies one shared layer L times, so an L-layer model is
exactly the work of a sentence that leaves after layer L (the off-ramp's pooler + 2-way classifier, under 0.5 %
of a layer at these lengths, is not timed). ORT: one `ort_run.mjs bench` over all distinct lengths. The engines
take turns within each round; each cell's figure is the median over rounds; a total is the sum over sentences.

  scripts/bench_edgebert_mode.py [--rounds 3] [--iters 5] [--threads 1] [--thresholds 0.23,0.28,0.46]
                                 [--weights fp32|int8|fastest|stored] [--build build] [--work DIR]
                                 [--data ../shared/data]
Needs: bash scripts/install-deps.sh --test (the ONNX Runtime peer), a build with examples.
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(cmd, cwd=None):
    out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--thresholds", default="0.23,0.28,0.46")
    ap.add_argument("--weights", default="fp32", choices=["fp32", "int8", "fastest", "stored"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "albert-tiny-sst2-lang"))
    args = ap.parse_args()
    eb = os.path.join(args.build, "examples", "edgebert")
    peer = os.path.join(ROOT, "..", "shared", "peer")
    work = args.work or os.path.join(args.build, "bench-edgebert-mode")
    os.makedirs(work, exist_ok=True)
    for need in (eb, os.path.join(peer, "node_modules", "onnxruntime-node")):
        if not os.path.exists(need):
            sys.exit(f"missing {need}: build the tool and set up the peer (bash scripts/install-deps.sh --test)")

    # The weights: the peer's ALBERT-base (seed 1234) and its ORT int8 form.
    base = os.path.join(work, "base")
    if not os.path.exists(os.path.join(base, "model.safetensors")):
        subprocess.run(["/usr/bin/python3", os.path.join(peer, "make_weights.py"), "--graph",
                        os.path.join(peer, "graphs", "albert_base.graph.onnx"), "--seed", "1234", "--out", base],
                       check=True, capture_output=True)
    if not os.path.exists(os.path.join(base, "model.int8.onnx")):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "quantize_peer_int8.py"), "--in",
                        os.path.join(base, "model.onnx"), "--out", os.path.join(base, "model.int8.onnx")],
                       check=True, capture_output=True)
    config = json.load(open(os.path.join(base, "config.json")))
    depth = config["num_hidden_layers"]

    # Token lengths ([CLS] ... [SEP]) of the dev sentences, and each sentence's exit layer per threshold.
    dev = os.path.join(args.data, "glue-sst2", "dev.tsv")
    texts = [line.rstrip("\n").split("\t", 1)[1] for line in open(dev, encoding="utf-8").readlines()[1:]]
    text_file = os.path.join(work, "sst2_dev.txt")
    open(text_file, "w", encoding="utf-8").write("\n".join(texts) + "\n")
    ids = subprocess.run([eb, "tokenize", "--spm", args.tokenizer, "--input", text_file, "--albert"], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    lengths = [len(json.loads(line)) for line in ids]
    trace = os.path.join(args.data, "edgebert-sst2", "dataset_sst2_eval.txt")
    thresholds = [float(t) for t in args.thresholds.split(",")]
    exits = {}
    for t in thresholds:
        exits[t] = run_json([eb, "exits", "--traces", trace, "--policy", f"entropy:{t}", "--per-sentence"])[0]["exit_layers"]
        if len(exits[t]) != len(lengths):
            sys.exit(f"the trace has {len(exits[t])} sentences, the dev set {len(lengths)}")

    # One compressed model per depth: the same weights and codes, num_hidden_layers = L.
    def compressed(layers):
        out = os.path.join(work, f"af8e3-p80-L{layers}")
        if not os.path.exists(os.path.join(out, "model.safetensors")):
            src = os.path.join(work, f"base-L{layers}")
            os.makedirs(src, exist_ok=True)
            if not os.path.exists(os.path.join(src, "model.safetensors")):
                os.symlink(os.path.join(base, "model.safetensors"), os.path.join(src, "model.safetensors"))
            json.dump(dict(config, num_hidden_layers=layers), open(os.path.join(src, "config.json"), "w"))
            run_json([eb, "compress", "--model", src, "--out", out, "--format", "af8e3", "--sparsity", "0.8",
                      "--embedding-sparsity", "0.6"])
            shutil.rmtree(src)
        return out

    cells = sorted({(s, e[i]) for e in exits.values() for i, s in enumerate(lengths)} | {(s, depth) for s in lengths})
    models = {layers: compressed(layers) for layers in sorted({c[1] for c in cells})}
    seqs = sorted(set(lengths))
    times = collections.defaultdict(list)  # (engine, length, layers) -> medians of rounds
    for r in range(args.rounds):
        for engine in (["ort_fp32", "ort_int8", "edgebert"] if r % 2 == 0 else ["edgebert", "ort_int8", "ort_fp32"]):
            if engine == "edgebert":
                for s, layers in cells:
                    row = run_json([eb, "bench", "--model", models[layers], "--seq-len", str(s), "--threads",
                                    str(args.threads), "--iters", str(args.iters), "--warmup", str(args.warmup),
                                    "--weights", args.weights])[0]
                    times[("edgebert", s, layers)].append(row["median_ms"])
            else:
                onnx = os.path.join(base, "model.onnx" if engine == "ort_fp32" else "model.int8.onnx")
                rows = run_json(["node", "ort_run.mjs", "bench", "--model", onnx, "--config",
                                 os.path.join(base, "config.json"), "--seqs", ",".join(map(str, seqs)), "--threads",
                                 str(args.threads), "--runs", str(args.iters), "--warmup", str(args.warmup)], cwd=peer)
                for row in rows:
                    times[(engine, row["seq"], depth)].append(row["median_ms"])
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in times.items()}

    def total(engine, layers_of):
        return sum(med[(engine, s, layers_of(i))] for i, s in enumerate(lengths)) / 1e3

    ort_fp32 = total("ort_fp32", lambda i: depth)
    ort_int8 = total("ort_int8", lambda i: depth)
    full = total("edgebert", lambda i: depth)
    result = {"sentences": len(lengths), "mean_tokens": statistics.mean(lengths), "threads": args.threads,
              "rounds": args.rounds, "iters": args.iters, "weights": args.weights, "ort_fp32_s": ort_fp32, "ort_int8_s": ort_int8,
              "edgebert_full_depth_s": full, "thresholds": []}
    print(f"SST-2 dev: {len(lengths)} sentences, {statistics.mean(lengths):.1f} tokens on average "
          f"(bundled tokenizer), batch 1, {args.threads} thread(s), median of {args.rounds} rounds\n")
    print("| engine | mean exit layer | total s | ORT fp32 / this | ORT int8 / this |")
    print("|---|---|---|---|---|")
    print(f"| ORT fp32, 12 layers | {depth} | {ort_fp32:.2f} | 1.00 | {ort_int8 / ort_fp32:.2f} |")
    print(f"| ORT int8 dynamic, 12 layers | {depth} | {ort_int8:.2f} | {ort_fp32 / ort_int8:.2f} | 1.00 |")
    print(f"| edgebert af8e3, 80 % pruned ({args.weights}), 12 layers | {depth} | {full:.2f} | {ort_fp32 / full:.2f} | "
          f"{ort_int8 / full:.2f} |")
    for t in thresholds:
        e = exits[t]
        tt = total("edgebert", lambda i: e[i])
        mean_exit = statistics.mean(e)
        print(f"| edgebert EdgeBERT mode ({args.weights}), entropy T = {t} | {mean_exit:.2f} | {tt:.2f} | {ort_fp32 / tt:.2f} | "
              f"{ort_int8 / tt:.2f} |")
        result["thresholds"].append({"T": t, "mean_exit_layer": mean_exit, "edgebert_s": tt,
                                     "speedup_vs_ort_fp32": ort_fp32 / tt, "speedup_vs_ort_int8": ort_int8 / tt})
    out = os.path.join(work, f"result-{args.weights}-t{args.threads}.json")
    json.dump(result, open(out, "w"), indent=1)
    print(f"\n(json: {out})")


if __name__ == "__main__":
    main()
