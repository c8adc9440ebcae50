#!/usr/bin/env bash
# A bundled model's dev-set results (issues 6 and 15): for each task at full depth and at its own exit policy
# (tasks/<task>/task.json), accuracy, mean exit layer and energy per example on the accelerator model (all
# layers, early exit at nominal V/f, and early exit with DVFS under the default target), for the model as
# shipped and for compressed copies (8-bit AdaptivFloat; 8-bit + 50 % magnitude pruning of the backbone in
# EdgeBERT's bit-mask encoding), and the shipped and 8-bit models run with integer GEMMs (`--weights int8`:
# every matrix requantized per output channel at load). Text in: `edgebert classify` tokenizes every dev example (pairs for a task
# whose task.json says "input": "pair").
#
#   scripts/bundled_model_report.sh [BUILD_DIR] [WORK_DIR] [MODEL_DIR]      prints a markdown table
#   default MODEL_DIR: models/albert-imdb-multitask
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}; work=${2:-/tmp/edgebert-bundled-report}; model=${3:-$here/../models/albert-imdb-multitask}
bin=$build/examples/edgebert
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

echo "| model | task | exit | accuracy | mean exit layer | µJ/example, all layers | µJ/example, early exit | µJ/example, early exit + DVFS |"
echo "|---|---|---|---|---|---|---|---|"
for m in shipped shipped+int8 af8e3 af8e3+int8 af8e3-p50; do
  dir=$model; [ "${m%+int8}" = shipped ] || dir=$work/${m%+int8}
  weights=(); [ "${m%+int8}" = "$m" ] || weights=(--weights int8)
  for tdir in "$model"/tasks/*/; do
    task=$(basename "$tdir")
    [ -f "$model/reference/${task}_dev.tsv" ] || continue
    for exit in none own; do
      opt=(); [ "$exit" = own ] || opt=(--exit "$exit")
      "$bin" classify --model "$dir" --task "$task" "${opt[@]}" "${weights[@]}" --input "$model/reference/${task}_dev.tsv" --labeled \
        --no-progress | tail -1 | "$py" -c "
import json, sys
s = json.loads(sys.stdin.read()); b = s['baselines']
print('| $m | $task | %s | %.2f %% | %.2f | %.2f | %.2f | %.2f |' % (s['exit'], 100 * s['accuracy'], s['mean_exit_layer'],
      b['all_layers_nominal']['energy_uj_per_sentence'], b['early_exit_nominal']['energy_uj_per_sentence'],
      b['edgebert_dvfs']['energy_uj_per_sentence']))"
    done
  done
done
