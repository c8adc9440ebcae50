#!/usr/bin/env bash
# End-to-end speed of `edgebert bench` against the ONNX Runtime peer (../shared/peer) on the same
# ALBERT-base weights, same machine, interleaved in one run: for each round, each thread count and
# each sequence length, the peer then edgebert. Prints a Markdown table of the median over rounds of
# each engine's median latency, and the ratio edgebert / ONNX Runtime (below 1 = edgebert faster).
#
#   scripts/bench_vs_peer.sh [--rounds 3] [--iters 20] [--warmup 5] [--seqs "16 128 384"] [--threads "1 2"]
#                            [--graph base] [--build build]
# Needs: bash scripts/install-deps.sh --test (sets up the peer) and a build with examples.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 iters=20 warmup=5 seqs="16 128 384" threads_list="1 2" graph=base build=$root/build
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;; --iters) iters=$2; shift 2 ;; --warmup) warmup=$2; shift 2 ;;
    --seqs) seqs=$2; shift 2 ;; --threads) threads_list=$2; shift 2 ;; --graph) graph=$2; shift 2 ;;
    --build) build=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
peer=$root/../shared/peer
eb=$build/examples/edgebert
[ -x "$eb" ] || { echo "build the tool first: cmake --build $build --target edgebert_cli" >&2; exit 1; }
[ -d "$peer/node_modules/onnxruntime-node" ] || { echo "set up the peer first: bash $peer/setup.sh" >&2; exit 1; }
work=$build/bench-vs-peer; mkdir -p "$work"
model=$work/$graph
[ -f "$model/model.safetensors" ] || /usr/bin/python3 "$peer/make_weights.py" --graph "$peer/graphs/albert_$graph.graph.onnx" --seed 1234 --out "$model" > /dev/null
out=$work/results.jsonl; : > "$out"
for r in $(seq 1 "$rounds"); do
  for t in $threads_list; do
    for s in $seqs; do
      (cd "$peer" && node ort_run.mjs bench --model "$model/model.onnx" --seqs "$s" --threads "$t" --runs "$iters" --warmup "$warmup") \
        | sed "s/^{/{\"engine_key\":\"ort\",\"round\":$r,/" >> "$out"
      "$eb" bench --model "$model" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" \
        | sed "s/^{/{\"engine_key\":\"edgebert\",\"round\":$r,/" >> "$out"
      echo "round $r threads $t seq $s done" >&2
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
key = lambda r: (r["threads"], r["seq"])
cells = {}
for r in rows:
    cells.setdefault(key(r), {}).setdefault(r["engine_key"], []).append(r)
print("| threads | seq | ONNX Runtime median ms | edgebert median ms | edgebert / ORT | edgebert GFLOP/s | rounds |")
print("|---|---|---|---|---|---|---|")
for k in sorted(cells):
    c = cells[k]
    ort = statistics.median(r["median_ms"] for r in c["ort"])
    eb = statistics.median(r["median_ms"] for r in c["edgebert"])
    gf = statistics.median(r["gflops_at_median"] for r in c["edgebert"])
    print(f"| {k[0]} | {k[1]} | {ort:.2f} | {eb:.2f} | {eb / ort:.3f} | {gf:.1f} | {len(c['ort'])} |")
PY
