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
#   two bounds on fp32 (not in the default list; ALBERT-base shapes, --seqs 16, 128 or 384), each run in its turn:
#   eb_parts              edgebert's fp32 pass if it were nothing but its parts run alone: the four products
#                         (bench_gemm BM_edgebert_gemm, weights warm in cache) and attention (bench_attention
#                         BM_attention), medians of 3 repetitions, summed and times the layers
#   eb_parts_cold         the same with the products' weights coming from memory, as in the model
#                         (BM_cold_edgebert_gemm; --seqs 128 or 384)
#   fma_peak              the pass's FLOPs (`edgebert bench`'s gflop) at this machine's FMA peak (bench_gemm
#                         BM_fma_peak, registers only): no fp32 engine on this CPU can take less
# Prints a Markdown table of the median over rounds of each engine's median latency and the ratios to
# edgebert fp32 (how many times faster) and of its time to ORT fp32's and ORT int8's (below 1 = faster).
#
#   scripts/bench_vs_peer.sh [--rounds 3] [--iters 20] [--warmup 5] [--seqs "16 128 384"] [--threads "1 2"]
#                            [--engines "ort_fp32 ort_int8 eb_fp32 eb_int8 eb_af8 eb_af8_int8"] [--build build]
#   (engine keys: ort_fp32 ort_int8 eb_fp32 eb_int8 eb_af8 eb_af8_int8 eb_blocks_int8 eb_fp32_logits eb_int8_logits
#    eb_parts eb_parts_cold fma_peak)
# Needs: bash scripts/install-deps.sh --test (sets up the peer) and a build with examples (and benchmarks for the
# bounds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 iters=20 warmup=5 seqs="16 128 384" threads_list="1 2" build=$root/build
engines="ort_fp32 ort_int8 eb_fp32 eb_int8 eb_af8 eb_af8_int8"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;; --iters) iters=$2; shift 2 ;; --warmup) warmup=$2; shift 2 ;;
    --seqs) seqs=$2; shift 2 ;; --threads) threads_list=$2; shift 2 ;; --engines) engines=$2; shift 2 ;;
    --build) build=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
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
median_of() {  # google-benchmark JSON on stdin -> "name median_ms" per benchmark (medians of its repetitions)
  /usr/bin/python3 -c '
import json, statistics, sys
try:
    benchmarks = json.load(sys.stdin)["benchmarks"]
except ValueError:  # no benchmark matched the filter: the caller names what is missing
    benchmarks = []
runs = {}
for b in benchmarks:
    if b.get("run_type") == "iteration":
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        runs.setdefault(b["run_name"], []).append((b["real_time"] * scale, b.get("GFLOPS", 0)))
for name, v in runs.items():
    print(name, statistics.median(t for t, _ in v), statistics.median(g for _, g in v))'
}
parts() {  # threads seq gemm-benchmark: the four products and attention alone, summed over the layers
  local t=$1 s=$2 g=$3 layers
  layers=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["num_hidden_layers"])' "$base/config.json")
  { "$build/benchmarks/bench_gemm" --benchmark_filter="^$g/m:$s/.*/threads:$t/" --benchmark_repetitions=3 --benchmark_format=json | median_of
    "$build/benchmarks/bench_attention" --benchmark_filter="^BM_attention/seq:$s/threads:$t/keep:1/" --benchmark_repetitions=3 --benchmark_format=json | median_of
  } | /usr/bin/python3 -c '
import json, sys
t, s, layers, g = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ms = {l.split()[0].split("/threads")[0]: float(l.split()[1]) for l in sys.stdin if l.strip()}
want = [f"{g}/m:{s}/k:768/n:2304", f"{g}/m:{s}/k:768/n:768", f"{g}/m:{s}/k:768/n:3072", f"{g}/m:{s}/k:3072/n:768",
        f"BM_attention/seq:{s}"]
missing = [w for w in want if w not in ms]
if missing: sys.exit("no benchmark " + ", ".join(missing) + " (ALBERT-base shapes; bench_gemm has 16, 128 and 384 rows warm, 128 and 384 cold)")
parts = {w.split("/", 1)[1]: ms[w] for w in want}
print(json.dumps({"threads": t, "seq": s, "median_ms": layers * sum(parts.values()), "layers": layers, "per_layer_ms": parts}))' "$t" "$s" "$layers" "$g"
}
peak() {  # threads seq: the pass's FLOPs at the FMA peak (the benchmark's GFLOPS counter is in flop/s)
  local t=$1 s=$2 gflop gflops
  gflop=$("$eb" bench --model "$base" --seq-len "$s" --threads "$t" --iters 1 --warmup 0 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gflop"])')
  gflops=$("$build/benchmarks/bench_gemm" --benchmark_filter="^BM_fma_peak/threads:$t/" --benchmark_repetitions=3 --benchmark_format=json | median_of | awk '{print $3}')
  /usr/bin/python3 -c 'import json,sys; g,p=float(sys.argv[3]),float(sys.argv[4])/1e9; print(json.dumps({"threads":int(sys.argv[1]),"seq":int(sys.argv[2]),"median_ms":g/p*1e3,"gflop":g,"peak_gflops":p}))' "$t" "$s" "$gflop" "$gflops"
}
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
    eb_parts) parts "$t" "$s" BM_edgebert_gemm ;;
    eb_parts_cold) parts "$t" "$s" BM_cold_edgebert_gemm ;;
    fma_peak) peak "$t" "$s" ;;
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
         "eb_fp32_logits": "edgebert fp32, --logits-only", "eb_int8_logits": "edgebert int8, --logits-only",
         "eb_parts": "bound: edgebert's products + attention alone (warm) x layers",
         "eb_parts_cold": "edgebert's products (weights from memory) + attention alone x layers", "fma_peak": "bound: the pass's FLOPs at the FMA peak"}
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
