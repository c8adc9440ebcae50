#!/usr/bin/env bash
# Runtime dispatch vs -march=native (docs/building.md): `edgebert bench` of two builds, rounds interleaved
# (A, B, A, B, ...) so that a shared or throttling machine affects both alike; prints each round's median and
# the medians of the rounds, and their ratio.
#   scripts/bench_dispatch.sh NATIVE_BINARY DISPATCH_BINARY MODEL_DIR [ROUNDS] [SEQ] [THREADS]
set -euo pipefail
native=$1 dispatched=$2 model=$3 rounds=${4:-7} seq=${5:-128} threads=${6:-1}
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$dispatched" version | sed -n 2p
one() { "$1" bench --model "$model" --seq-len "$seq" --threads "$threads" --iters 5 --warmup 2 |
        "$py" -c 'import json,sys; j=json.loads(sys.stdin.readline()); print(j["median_ms"])'; }
a=() b=()
for r in $(seq 1 "$rounds"); do
  x=$(one "$native"); y=$(one "$dispatched")
  a+=("$x"); b+=("$y")
  echo "round $r: native $x ms, dispatched $y ms"
done
"$py" - "${a[*]}" "${b[*]}" <<'PY'
import statistics, sys
a = [float(v) for v in sys.argv[1].split()]
b = [float(v) for v in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"median of rounds: native {ma:.1f} ms, dispatched {mb:.1f} ms, dispatched/native {mb / ma:.3f}")
PY
