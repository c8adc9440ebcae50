#!/usr/bin/env bash
# End-to-end speed of compressed ALBERT-base models (issue 3): `edgebert bench` on the fp32 checkpoint and on
# compressed copies of it, against the ONNX Runtime peer (../shared/peer) on the same fp32 weights, same machine,
# interleaved: for each round and thread count, the peer, then every edgebert model. Prints a Markdown table of
# the median over rounds of each run's median latency, its ratio to ONNX Runtime and to edgebert fp32, and the
# bytes of the weights as held in memory (matrices + embedding tables; LayerNorms and biases of the heads aside).
#
#   scripts/bench_compressed.sh [--rounds 3] [--iters 20] [--warmup 5] [--seq 128] [--threads "1 2"] [--build build]
# Needs: bash scripts/install-deps.sh --test (sets up the peer) and a build with examples.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 iters=20 warmup=5 seq=128 threads_list="1 2" build=$root/build
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;; --iters) iters=$2; shift 2 ;; --warmup) warmup=$2; shift 2 ;;
    --seq) seq=$2; shift 2 ;; --threads) threads_list=$2; shift 2 ;; --build) build=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
peer=$root/../shared/peer
eb=$build/examples/edgebert
[ -x "$eb" ] || { echo "build the tool first: cmake --build $build --target edgebert_cli" >&2; exit 1; }
[ -d "$peer/node_modules/onnxruntime-node" ] || { echo "set up the peer first: bash $peer/setup.sh" >&2; exit 1; }
work=$build/bench-compressed; mkdir -p "$work"
base=$work/base
[ -f "$base/model.safetensors" ] || /usr/bin/python3 "$peer/make_weights.py" --graph "$peer/graphs/albert_base.graph.onnx" --seed 1234 --out "$base" > /dev/null

# name | compress options ("" = the fp32 checkpoint itself) | --weights
variants=(
  "fp32 checkpoint||fastest"
  "af8e3, no pruning|--format af8e3|fastest"
  "af8e3 + bit mask, encoder 50 %, emb 60 %|--format af8e3 --sparsity 0.5 --embedding-sparsity 0.6|fastest"
  "af8e3 + bit mask, encoder 80 %, emb 60 %|--format af8e3 --sparsity 0.8 --embedding-sparsity 0.6|fastest"
  "af8e3 + 4x8 blocks, encoder 50 %|--format af8e3 --sparsity 0.5 --block 4x8|fastest"
  "af8e3 + 4x8 blocks, encoder 80 %|--format af8e3 --sparsity 0.8 --block 4x8|fastest"
  "af8e3 + bit mask, encoder 80 % (decoded to fp32)|--format af8e3 --sparsity 0.8 --embedding-sparsity 0.6|fp32"
)
paths=()
for i in "${!variants[@]}"; do
  IFS='|' read -r name opts weights <<< "${variants[$i]}"
  if [ -z "$opts" ]; then paths+=("$base"); continue; fi
  d=$work/c$i
  # shellcheck disable=SC2086
  [ -f "$d/model.safetensors" ] || "$eb" compress --model "$base" --out "$d" $opts > "$d.json"
  paths+=("$d")
done

out=$work/results.jsonl; : > "$out"
for r in $(seq 1 "$rounds"); do
  for t in $threads_list; do
    (cd "$peer" && node ort_run.mjs bench --model "$base/model.onnx" --seqs "$seq" --threads "$t" --runs "$iters" --warmup "$warmup") \
      | sed "s/^{/{\"variant\":\"ONNX Runtime (fp32)\",\"round\":$r,/" >> "$out"
    for i in "${!variants[@]}"; do
      IFS='|' read -r name opts weights <<< "${variants[$i]}"
      "$eb" bench --model "${paths[$i]}" --seq-len "$seq" --threads "$t" --iters "$iters" --warmup "$warmup" --weights "$weights" \
        | sed "s/^{/{\"variant\":\"$name\",\"round\":$r,/" >> "$out"
    done
    echo "round $r threads $t done" >&2
  done
done
/usr/bin/python3 - "$out" "$base/model.safetensors" "$work" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
order, cells = [], {}
for r in rows:
    if r["variant"] not in order: order.append(r["variant"])
    cells.setdefault((r["threads"], r["variant"]), []).append(r)
med = lambda k: statistics.median(r["median_ms"] for r in cells[k])
print("| threads | model | file MiB | weights in memory MiB | median ms | vs ONNX Runtime | vs edgebert fp32 | storages | rounds |")
print("|---|---|---|---|---|---|---|---|---|")
for t in sorted({k[0] for k in cells}):
    ort, fp = med((t, "ONNX Runtime (fp32)")), med((t, "fp32 checkpoint"))
    for v in order:
        c = cells[(t, v)]
        m = med((t, v))
        first = c[0]
        mem = f'{(first["matrix_bytes"] + first["embedding_bytes"]) / 2**20:.1f}' if "matrix_bytes" in first else ""
        path = first.get("model", "")
        f = os.path.join(path, "model.safetensors") if os.path.isdir(path) else path
        size = f'{os.path.getsize(f) / 2**20:.1f}' if f and os.path.exists(f) else ""
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(first.get("matrices", {}).items()))
        if "word_embeddings" in first: kinds += f', {first["word_embeddings"]} word embeddings'

        print(f"| {t} | {v} | {size} | {mem} | {m:.1f} | {m / ort:.3f} | {m / fp:.3f} | {kinds} | {len(c)} |")
PY
