#!/usr/bin/env bash
# End-to-end speed of `edgebert bench` against the ONNX Runtime peer (../shared/peer) on the same ALBERT-base
# weights (make_weights.py, seed 1234), same machine, interleaved in one run: for each round, thread count and
# sequence length, every engine once, in this order:
#   ORT fp32              the peer's model.onnx
#   ORT int8 dynamic      model.int8.onnx (scripts/quantize_peer_int8.py: per-column int8 + DynamicQuantizeMatMul)
#   edgebert fp32         the HuggingFace folder
#   edgebert int8         the same folder, --weights int8 (per-channel int8 at load, integer GEMMs)
#   edgebert af8e3        `edgebert compress --format af8e3` of it, 8-bit codes decoded on the fly (--weights fastest)
#   edgebert af8e3 int8   the af8e3 model requantized per channel at load (--weights int8), integer GEMMs
#   edgebert fp32 logits  (not in the default list) edgebert fp32 with --logits-only: the last layer computes only
#                         the [CLS] row past attention, the one row the pooler and classifier read (ORT's graph
#                         computes every row though only logits are fetched); int8 logits likewise
#   edgebert blocks int8  (not in the default list) af8e3 with 80 % of every encoder matrix pruned in 4 x 8 blocks
#                         (`compress --sparsity 0.8 --block 4x8`), --weights int8: block-sparse integer GEMMs
# Prints a Markdown table of the median over rounds of each engine's median latency and the ratios to
# edgebert fp32 (how many times faster) and of its time to ORT fp32's and ORT int8's (below 1 = faster).
#
#   scripts/bench_vs_peer.sh [--rounds 3] [--iters 20] [--warmup 5] [--seqs "16 128 384"] [--threads "1 2"]
#                            [--engines "ort_fp32 ort_int8 eb_fp32 eb_int8 eb_af8 eb_af8_int8"] [--build build]
#   (engine keys: ort_fp32 ort_int8 eb_fp32 eb_int8 eb_af8 eb_af8_int8 eb_blocks_int8 eb_fp32_logits eb_int8_logits)
# Needs: bash scripts/install-deps.sh --test (sets up the peer) and a build with examples.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 iters=20 warmup=5 seqs="16 128 384" threads_list="1 2" build=$root/build
engines="ort_fp32 ort_int8 eb_fp32 eb_int8 eb_af8 eb_af8_int8"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;; --iters) iters=$2; shift 2 ;; --warmup) warmup=$2; shift 2 ;;
    --seqs) seqs=$2; shift 2 ;; --threads) threads_list=$2; shift 2 ;; --engines) engines=$2; shift 2 ;;
    --build) build=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
peer=$root/../shared/peer
eb=$build/examples/edgebert
[ -x "$eb" ] || { echo "build the tool first: cmake --build $build --target edgebert_cli" >&2; exit 1; }
[ -d "$peer/node_modules/onnxruntime-node" ] || { echo "set up the peer first: bash $peer/setup.sh" >&2; exit 1; }
work=$build/bench-vs-peer; mkdir -p "$work"
base=$work/base
[ -f "$base/model.safetensors" ] || /usr/bin/python3 "$peer/make_weights.py" --graph "$peer/graphs/albert_base.graph.onnx" --seed 1234 --out "$base" > /dev/null
[ -f "$base/model.int8.onnx" ] || /usr/bin/python3 "$root/scripts/quantize_peer_int8.py" --in "$base/model.onnx" --out "$base/model.int8.onnx" > /dev/null
[ -f "$work/af8/model.safetensors" ] || "$eb" compress --model "$base" --out "$work/af8" --format af8e3 > "$work/af8.json"
case " $engines " in *" eb_blocks_int8 "*)
  [ -f "$work/af8-blocks80/model.safetensors" ] ||
    "$eb" compress --model "$base" --out "$work/af8-blocks80" --format af8e3 --sparsity 0.8 --block 4x8 > "$work/af8-blocks80.json" ;;
esac
out=$work/results.jsonl; : > "$out"
run() {  # engine threads seq round
  local e=$1 t=$2 s=$3 r=$4 tag="{\"engine_key\":\"$1\",\"round\":$4,"
  case "$e" in
    ort_fp32) (cd "$peer" && node ort_run.mjs bench --model "$base/model.onnx" --seqs "$s" --threads "$t" --runs "$iters" --warmup "$warmup") ;;
    ort_int8) (cd "$peer" && node ort_run.mjs bench --model "$base/model.int8.onnx" --config "$base/config.json" --seqs "$s" --threads "$t" --runs "$iters" --warmup "$warmup") ;;
    eb_fp32) "$eb" bench --model "$base" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" ;;
    eb_int8) "$eb" bench --model "$base" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" --weights int8 ;;
    eb_fp32_logits) "$eb" bench --model "$base" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" --logits-only ;;
    eb_int8_logits) "$eb" bench --model "$base" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" --weights int8 --logits-only ;;
    eb_af8) "$eb" bench --model "$work/af8" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" --weights fastest ;;
    eb_af8_int8) "$eb" bench --model "$work/af8" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" --weights int8 ;;
    eb_blocks_int8) "$eb" bench --model "$work/af8-blocks80" --seq-len "$s" --threads "$t" --iters "$iters" --warmup "$warmup" --weights int8 ;;
    *) echo "unknown engine $e" >&2; exit 2 ;;
  esac | sed "s/^{/$tag/" >> "$out"
}
for r in $(seq 1 "$rounds"); do
  for t in $threads_list; do
    for s in $seqs; do
      for e in $engines; do run "$e" "$t" "$s" "$r"; done
      echo "round $r threads $t seq $s done" >&2
    done
  done
done
/usr/bin/python3 - "$out" "$engines" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
order = sys.argv[2].split()
label = {"ort_fp32": "ORT fp32", "ort_int8": "ORT int8 dynamic", "eb_fp32": "edgebert fp32", "eb_int8": "edgebert int8",
         "eb_af8": "edgebert af8e3 (decoded)", "eb_af8_int8": "edgebert af8e3 -> int8",
         "eb_blocks_int8": "edgebert af8e3, 80 % 4x8 blocks -> int8",
         "eb_fp32_logits": "edgebert fp32, --logits-only", "eb_int8_logits": "edgebert int8, --logits-only"}
cells = {}
for r in rows:
    cells.setdefault((r["threads"], r["seq"]), {}).setdefault(r["engine_key"], []).append(r["median_ms"])
print("| threads | seq | engine | median ms | vs edgebert fp32 | vs ORT fp32 | vs ORT int8 | rounds |")
print("|---|---|---|---|---|---|---|---|")
for k in sorted(cells):
    c = {e: statistics.median(v) for e, v in cells[k].items()}
    for e in order:
        if e not in c:
            continue
        f = f"{c['eb_fp32'] / c[e]:.2f}x faster" if "eb_fp32" in c else "-"
        p = f"{c[e] / c['ort_fp32']:.3f}" if "ort_fp32" in c else "-"
        o = f"{c[e] / c['ort_int8']:.3f}" if "ort_int8" in c else "-"
        print(f"| {k[0]} | {k[1]} | {label[e]} | {c[e]:.1f} | {f} | {p} | {o} | {len(cells[k][e])} |")
PY
