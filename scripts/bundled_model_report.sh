#!/usr/bin/env bash
# The bundled model's dev-set results (issue 6): for each task and several exit thresholds, accuracy, mean exit
# layer and energy per sentence on the accelerator model (early exit at nominal V/f, and with DVFS under the
# default target), for the fp32 model and compressed copies (8-bit AdaptivFloat; 8-bit + 50 % magnitude pruning
# of the backbone in EdgeBERT's bit-mask encoding). Text in: `edgebert classify` tokenizes every dev sentence.
#
#   scripts/bundled_model_report.sh [BUILD_DIR] [WORK_DIR]       prints a markdown table
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}; work=${2:-/tmp/edgebert-bundled-report}
bin=$build/examples/edgebert; model=$here/../models/albert-tiny-sst2-lang
py=/usr/bin/python3; [ -x "$py" ] || py=python3
mkdir -p "$work"

variant() {  # name compress-options...: a compressed copy with the model's tasks and tokenizer
  local name=$1; shift
  rm -rf "$work/$name"
  "$bin" compress --model "$model" --out "$work/$name" "$@" > "$work/$name.json"
  cp -r "$model/tasks" "$model/spiece.model" "$model/tokenizer_config.json" "$work/$name/"
}
variant af8e3 --format af8e3
variant af8e3-p50 --format af8e3 --sparsity 0.5

echo "| model | task | exit | accuracy | mean exit layer | µJ/sentence, all layers | µJ/sentence, early exit | µJ/sentence, early exit + DVFS |"
echo "|---|---|---|---|---|---|---|---|"
for m in fp32 af8e3 af8e3-p50; do
  dir=$model; [ "$m" = fp32 ] || dir=$work/$m
  for spec in "sst2 none" "sst2 entropy:0.45" "sst2 entropy:0.6" "sst2 entropy:0.65" "lang none" "lang entropy:0.6" "lang entropy:1.18"; do
    set -- $spec
    "$bin" classify --model "$dir" --task "$1" --exit "$2" --input "$model/reference/$1_dev.tsv" --labeled --no-progress \
      | tail -1 | "$py" -c "
import json, sys
s = json.loads(sys.stdin.read()); b = s['baselines']
print('| $m | $1 | $2 | %.2f %% | %.2f | %.2f | %.2f | %.2f |' % (100 * s['accuracy'], s['mean_exit_layer'],
      b['all_layers_nominal']['energy_uj_per_sentence'], b['early_exit_nominal']['energy_uj_per_sentence'],
      b['edgebert_dvfs']['energy_uj_per_sentence']))"
  done
done
