#!/usr/bin/env bash
# Several builds of the `edgebert` tool (or wrappers that set an environment variable first) on one model, every
# one once per round in rotating order: the median of each one's per-round medians, and the median of its
# per-round ratio to the first (a paired ratio cancels the machine's slow drifts). bench_ab.sh for more than two.
#
#   scripts/bench_rotate.sh MODEL THREADS ROUNDS ITERS BIN_1 BIN_2 [BIN_3 ...]
set -euo pipefail
[ $# -ge 6 ] || { sed -n 2,6p "$0"; exit 2; }
model=$1 threads=$2 rounds=$3 iters=$4; shift 4
bins=("$@"); n=${#bins[@]}
declare -A ms
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for ((r = 0; r < rounds; ++r)); do
  for ((j = 0; j < n; ++j)); do
    i=$(((j + r) % n))
    ms[$r,$i]=$("${bins[$i]}" bench --model "$model" --seq-len 128 --threads "$threads" --iters "$iters" --warmup 2 |
                sed -n 's/.*"median_ms": *\([0-9.e+-]*\).*/\1/p')
  done
done
for ((i = 0; i < n; ++i)); do
  med=$(for ((r = 0; r < rounds; ++r)); do echo "${ms[$r,$i]}"; done | median)
  paired=$(for ((r = 0; r < rounds; ++r)); do awk -v x="${ms[$r,$i]}" -v y="${ms[$r,0]}" 'BEGIN {print x / y}'; done | median)
  echo "{\"binary\": \"${bins[$i]}\", \"threads\": $threads, \"rounds\": $rounds, \"median_ms\": $med, \"paired_ratio_to_first\": $paired}"
done
