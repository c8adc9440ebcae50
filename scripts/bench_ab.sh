#!/usr/bin/env bash
# Two builds of the `edgebert` tool side by side on one model: interleaved rounds of `edgebert bench`, the
# median of each side's per-round medians and their ratio (B / A), per thread count. For "no speed regression"
# checks between commits on a shared machine (docs/performance.md).
#
#   scripts/bench_ab.sh BIN_A BIN_B MODEL [--rounds N] [--threads "1 2"] [--seq-len S] [--iters K] [--weights W]
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,6p "$0"; exit 2; }
a=$1 b=$2 model=$3; shift 3
rounds=5 threads="1 2" seq=128 iters=10 weights=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seq-len) seq=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --weights) weights="--weights $2"; shift 2 ;;
    *) echo "bench_ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ms() { "$1" bench --model "$model" --seq-len "$seq" --threads "$2" --iters "$iters" --warmup 2 $weights |
       sed -n 's/.*"median_ms": *\([0-9.e+-]*\).*/\1/p'; }
for t in $threads; do
  ra=() rb=()
  for ((r = 0; r < rounds; ++r)); do
    if ((r % 2)); then rb+=("$(ms "$b" "$t")"); ra+=("$(ms "$a" "$t")"); else ra+=("$(ms "$a" "$t")"); rb+=("$(ms "$b" "$t")"); fi
  done
  ma=$(printf '%s\n' "${ra[@]}" | median) mb=$(printf '%s\n' "${rb[@]}" | median)
  echo "{\"threads\": $t, \"seq_len\": $seq, \"rounds\": $rounds, \"a_median_ms\": $ma, \"b_median_ms\": $mb, \"b_over_a\": $(awk -v x="$mb" -v y="$ma" 'BEGIN{printf "%.4f", x/y}'), \"a_rounds\": [$(IFS=,; echo "${ra[*]}")], \"b_rounds\": [$(IFS=,; echo "${rb[*]}")]}"
done
