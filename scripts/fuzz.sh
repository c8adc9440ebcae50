#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets with clang (tests/fuzz, -DEDGEBERT_FUZZ=ON) and fuzz each for SECONDS.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 60 seconds, every target
#
# Environment: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_WORK (corpora, logs, crashes; default
# build-fuzz/work, kept between runs so that each run starts from what the last one found), FUZZ_PARALLEL
# (targets run at once, default 1), FUZZ_MAX_LEN (default 8192). Seeds come from tests/fuzz/corpus/<t>
# and are never modified. A crash leaves its input in $FUZZ_WORK/artifacts/<t>/; copy it into
# tests/fuzz/corpus/<t>/ (named regression-*) once fixed, and the fuzz-replay tests keep it fixed.
# Prints one line per target: seconds, executions, edge coverage, final corpus (units/size), findings. Exit status 1 if any
# target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
BUILD=${FUZZ_BUILD:-build-fuzz}
WORK=${FUZZ_WORK:-$BUILD/work}
PARALLEL=${FUZZ_PARALLEL:-1}
MAX_LEN=${FUZZ_MAX_LEN:-8192}
ALL=$(sed -n 's/^set(EDGEBERT_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)
TARGETS=${*:-$ALL}

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CXX=${CXX:-clang++} cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEBERT_FUZZ=ON \
    -DEDGEBERT_BUILD_EXAMPLES=OFF -DEDGEBERT_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$BUILD" --target $(for t in $TARGETS; do printf 'fuzz_%s ' "$t"; done) >/dev/null

run_one() {
  local t=$1 dict=
  mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t" "$WORK/logs"
  case $t in
    safetensors|compressed_model) dict=tests/fuzz/dict/safetensors.dict ;;
    spm_model) dict= ;;
    npy|exit_tables|number_format) dict=tests/fuzz/dict/$t.dict ;;
    *) dict=tests/fuzz/dict/json.dict ;;
  esac
  # The first directory receives new inputs; the seeds are read only.
  # Seeds of whole model files run past the default length.
  local max_len=$MAX_LEN
  case $t in compressed_model|spm_model) [ "$max_len" -ge 16384 ] || max_len=16384 ;; esac
  "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -max_len="$max_len" -print_final_stats=1 \
    ${dict:+-dict="$dict"} -artifact_prefix="$WORK/artifacts/$t/" "$WORK/corpus/$t" "tests/fuzz/corpus/$t" \
    >"$WORK/logs/$t.log" 2>&1 || true
}

running=0
for t in $TARGETS; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

status=0
printf '%-16s %8s %12s %8s %16s %s\n' target seconds executions coverage corpus findings
for t in $TARGETS; do
  log=$WORK/logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  # libFuzzer's final corpus (seeds and new inputs, units/bytes) and edge coverage.
  corp=$(sed -n 's/.*DONE .* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' "$log" | tail -1)
  cov=$(sed -n 's/.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
  found=$(find "$WORK/artifacts/$t" -type f | wc -l)
  if grep -qE '^==[0-9]+==ERROR|runtime error:|deadly signal|fuzz invariant|threw after|uncaught exception' "$log"; then
    found=$((found > 0 ? found : 1))
  fi
  [ "$found" -eq 0 ] || status=1
  printf '%-16s %8s %12s %8s %16s %s\n' "$t" "${secs:-?}" "${execs:-?}" "${cov:-?}" "${corp:-?}" "$found"
done
exit $status
