#!/usr/bin/env bash
# Accuracy of the 8-bit models against fp32 on the ONNX Runtime peer's ALBERT-base weights (seed 1234): per
# layer, the cosine similarity of the hidden states (real tokens only) to ORT fp32 (the HuggingFace reference),
# and the largest logit error. Candidates: edgebert fp32, edgebert --weights int8, edgebert af8e3 (decoded on
# the fly), edgebert af8e3 --weights int8 (requantized per channel), ORT dynamic int8 (scripts/quantize_peer_int8.py).
#
#   scripts/accuracy_int8.sh [--batch 2] [--seq 128] [--build build]
# Needs: the peer set up (bash ../shared/peer/setup.sh) and a build of the edgebert tool.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
batch=2 seq=128 build=$root/build
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;; --seq) seq=$2; shift 2 ;; --build) build=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
peer=$root/../shared/peer
eb=$build/examples/edgebert
[ -x "$eb" ] || { echo "build the tool first: cmake --build $build --target edgebert_cli" >&2; exit 1; }
work=$build/bench-vs-peer; mkdir -p "$work"
base=$work/base
[ -f "$base/model.safetensors" ] || /usr/bin/python3 "$peer/make_weights.py" --graph "$peer/graphs/albert_base.graph.onnx" --seed 1234 --out "$base" > /dev/null
[ -f "$base/model.int8.onnx" ] || /usr/bin/python3 "$root/scripts/quantize_peer_int8.py" --in "$base/model.onnx" --out "$base/model.int8.onnx" > /dev/null
[ -f "$work/af8/model.safetensors" ] || "$eb" compress --model "$base" --out "$work/af8" --format af8e3 > "$work/af8.json"
acc=$work/accuracy; mkdir -p "$acc"
/usr/bin/python3 "$peer/make_inputs.py" --config "$base/config.json" --batch "$batch" --seq "$seq" --seed 7 --out "$acc/in.json" > /dev/null
(cd "$peer" && node ort_run.mjs run --model "$base/model.onnx" --inputs "$acc/in.json" --out "$acc/ort_fp32" > /dev/null)
(cd "$peer" && node ort_run.mjs run --model "$base/model.int8.onnx" --inputs "$acc/in.json" --out "$acc/ort_int8" > /dev/null)
"$eb" run --model "$base" --input "$acc/in.json" --out "$acc/eb_fp32" --threads 2 > /dev/null
"$eb" run --model "$base" --input "$acc/in.json" --out "$acc/eb_int8" --threads 2 --weights int8 > /dev/null
"$eb" run --model "$work/af8" --input "$acc/in.json" --out "$acc/eb_af8" --threads 2 > /dev/null
"$eb" run --model "$work/af8" --input "$acc/in.json" --out "$acc/eb_af8_int8" --threads 2 --weights int8 > /dev/null
/usr/bin/python3 - "$acc" <<'PY'
import glob, json, os, sys
import numpy as np
d = sys.argv[1]
mask = np.array(json.load(open(os.path.join(d, "in.json")))["attention_mask"], dtype=bool)
def hidden(folder):
    f = os.path.join(folder, "hidden_states.npy")
    if os.path.exists(f):
        return np.load(f)
    return np.stack([np.load(p) for p in sorted(glob.glob(os.path.join(folder, "hidden_states_*.npy")))])
ref_h, ref_l = hidden(os.path.join(d, "ort_fp32")), np.load(os.path.join(d, "ort_fp32", "logits.npy"))
names = [("edgebert fp32", "eb_fp32"), ("edgebert int8", "eb_int8"), ("edgebert af8e3", "eb_af8"),
         ("edgebert af8e3 -> int8", "eb_af8_int8"), ("ORT int8 dynamic", "ort_int8")]
def cos(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))
rows = []
for label, sub in names:
    h, l = hidden(os.path.join(d, sub)), np.load(os.path.join(d, sub, "logits.npy"))
    per_layer = [cos(h[i][mask], ref_h[i][mask]) for i in range(ref_h.shape[0])]
    rows.append((label, per_layer, float(np.abs(l - ref_l).max())))
L = ref_h.shape[0]
print("| vs ORT fp32 | " + " | ".join(f"h{i}" for i in range(L)) + " | max logit error |")
print("|---|" + "---|" * (L + 1))
for label, pl, le in rows:
    print(f"| {label} | " + " | ".join(f"{c:.5f}" for c in pl) + f" | {le:.4f} |")
PY
