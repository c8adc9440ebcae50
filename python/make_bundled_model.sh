#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Rebuild models/albert-tiny-sst2-lang end to end with fixed seeds: tokenizer + MLM pretraining, the two tasks,
# export, reference outputs. One thread per process; about 40-60 CPU-minutes on a 2-core machine.
#   python/make_bundled_model.sh [WORK_DIR] [OUT_DIR]
# Needs Debian's python3-torch python3-numpy python3-sentencepiece fortunes fortunes-min fortunes-de fortunes-es
# fortunes-it, and GLUE SST-2 in ../shared/data/glue-sst2 (train.tsv, dev.tsv).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
WORK=${1:-/tmp/edgebert-bundled}
OUT=${2:-$REPO/models/albert-tiny-sst2-lang}
PY=${PYTHON:-/usr/bin/python3}
SST2=${SST2_DIR:-$REPO/../shared/data/glue-sst2}
mkdir -p "$WORK"

"$PY" "$HERE/pretrain_mlm.py" --out "$WORK/pre" --vocab 5000 --steps 4000 --seed 1
# SST-2: Houlsby adapters (m = 64), task LayerNorms, distance adaptive span (R = 8, max 64 tokens),
# movement pruning of the shared encoder Linears to 60 % kept (cubic schedule), 5 off-ramps
"$PY" "$HERE/train_task.py" --pretrained "$WORK/pre" --task sst2 --out "$WORK/sst2" --adapter houlsby --reduction 2 \
    --epochs 2 --ramp-epochs 0.5 --task-ln --span distance:8:64 --prune movement:0.6 --seed 1
# language identification over Debian's fortunes (en de es it): Pfeiffer adapter (m = 16), 5 off-ramps
"$PY" "$HERE/train_task.py" --pretrained "$WORK/pre" --task lang --out "$WORK/lang" --adapter pfeiffer --reduction 8 \
    --epochs 2 --ramp-epochs 0.5 --seed 1

rm -rf "$OUT"
"$PY" "$HERE/export_model.py" bundle --pretrained "$WORK/pre" --task "$WORK/sst2" --task "$WORK/lang" --out "$OUT"
mkdir -p "$OUT/reference"
"$PY" "$HERE/write_lang_split.py" --split dev --out "$OUT/reference/lang_dev.tsv"
"$PY" "$HERE/make_reference.py" --model "$OUT" --task sst2 --input "$SST2/dev.tsv" --header --out "$OUT/reference/sst2_dev.jsonl"
"$PY" "$HERE/make_reference.py" --model "$OUT" --task lang --input "$OUT/reference/lang_dev.tsv" --out "$OUT/reference/lang_dev.jsonl"
for t in sst2 lang; do cp "$WORK/$t/log.jsonl" "$OUT/reference/${t}_train_log.jsonl"; cp "$WORK/$t/meta.json" "$OUT/reference/${t}_train_meta.json"; done
cp "$WORK/pre/log.jsonl" "$OUT/reference/pretrain_log.jsonl"
du -sh "$OUT"
