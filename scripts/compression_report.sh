#!/usr/bin/env bash
# Accuracy and footprint of compressed ALBERT-base models (issue 3): the peer's albert-base-v2-shaped weights
# (seeded), compressed in every number format and with magnitude pruning, run by `edgebert run` against the
# fp32 model; per layer the largest absolute difference and the mean cosine similarity of the token vectors;
# and the bytes of every compressed file against the fp32 checkpoint.
#
#   scripts/compression_report.sh [BUILD_DIR] [WORK_DIR]      (needs ../shared/peer and python3-onnx, numpy)
# Prints markdown tables.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}; work=${2:-/tmp/edgebert-compression}
bin=$build/examples/edgebert; peer=$here/../../shared/peer; py=/usr/bin/python3
mkdir -p "$work"
[ -f "$work/base/model.safetensors" ] || "$py" "$peer/make_weights.py" --graph "$peer/graphs/albert_base.graph.onnx" --seed 1234 --out "$work/base" > /dev/null
"$py" "$peer/make_inputs.py" --config "$work/base/config.json" --batch 8 --seq 64 --seed 7 --out "$work/in.json"
"$bin" run --model "$work/base" --input "$work/in.json" --out "$work/out-fp32" --threads 2 > /dev/null
fp32_bytes=$(stat -c %s "$work/base/model.safetensors")

echo "| model | file bytes | vs fp32 file | layer 1 max abs / cosine | layer 6 | layer 12 | logits max abs / cosine | same label |"
echo "|---|---|---|---|---|---|---|---|"
echo "| fp32 (HF checkpoint) | $fp32_bytes | 1.0x | | | | | |"
row() {  # name compress-options...
  local name=$1; shift
  local d=$work/c-$name
  "$bin" compress --model "$work/base" --out "$d" "$@" > "$d.json"
  "$bin" run --model "$d" --input "$work/in.json" --out "$d-out" --threads 2 > /dev/null
  "$py" "$here/compare_layers.py" --ref "$work/out-fp32" --cand "$d-out" --inputs "$work/in.json" > "$d-cmp.json"
  "$py" - "$d.json" "$d-cmp.json" "$fp32_bytes" "$name" <<'PY'
import json, sys
c, m, fp32, name = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
L = {l["layer"]: l for l in m["layers"]}
cell = lambda l: f'{L[l]["max_abs"]:.2e} / {L[l]["cosine"]:.6f}'
g = m["logits"]
print(f'| {name} | {c["compressed_bytes"]} | {fp32 / c["compressed_bytes"]:.2f}x | {cell(1)} | {cell(6)} | {cell(12)} | '
      f'{g["max_abs"]:.2e} / {g["cosine"]:.6f} | {g["same_argmax"]:.2f} |')
PY
}
for f in af8e3 af8e4 af8-hw af8e3-2022 e4m3 e5m2 fp16 bf16; do row "$f" --format "$f"; done
row "af8e3 per-row" --format af8e3 --per-row
for s in 0.5 0.6 0.8 0.9; do row "af8e3 + mask, encoder $s, emb 0.6" --format af8e3 --sparsity $s --embedding-sparsity 0.6; done
row "af8e3 + mask, encoder 0.9, emb 0.9" --format af8e3 --sparsity 0.9 --embedding-sparsity 0.9
row "af8e3 + mask, encoder 0.95, emb 0.95" --format af8e3 --sparsity 0.95 --embedding-sparsity 0.95
row "af8e3 dense codes, encoder 0.5" --format af8e3 --sparsity 0.5 --dense
for s in 0.5 0.8; do row "af8e3 + 4x8 blocks, encoder $s" --format af8e3 --sparsity $s --block 4x8; done
