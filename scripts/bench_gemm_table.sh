#!/usr/bin/env bash
# The GEMM table of the README: edgebert's gemm and OpenBLAS sgemm on ALBERT's shapes, and the machine's FMA
# peak at the compiled SIMD width, in one run of build/benchmarks/bench_gemm (medians of --reps repetitions).
#   scripts/bench_gemm_table.sh [--reps 5] [--build build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd); reps=5; build=$root/build
while [ $# -gt 0 ]; do case "$1" in --reps) reps=$2; shift 2 ;; --build) build=$2; shift 2 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; done
out=$build/bench_gemm.json
"$build/benchmarks/bench_gemm" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_filter='BM_(edgebert_gemm|openblas_sgemm|fma_peak)' --benchmark_out="$out" --benchmark_out_format=json > /dev/null
/usr/bin/python3 - "$out" <<'PY'
import json, re, sys
rows = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"]
peak = {int(re.search(r"threads:(\d+)", b["run_name"]).group(1)): b["GFLOPS"] / 1e9 for b in rows if "fma_peak" in b["run_name"]}
cells = {}
for b in rows:
    m = re.search(r"BM_(\w+?)/m:(\d+)/k:(\d+)/n:(\d+)/threads:(\d+)", b["run_name"])
    if m:
        cells.setdefault((int(m[5]), int(m[2]), int(m[3]), int(m[4])), {})[m[1]] = b["GFLOPS"] / 1e9
print(f"FMA peak at this width: {peak.get(1, 0):.0f} GFLOP/s (1 thread), {peak.get(2, 0):.0f} (2 threads)\n")
print("| threads | m x k x n | edgebert GFLOP/s | OpenBLAS GFLOP/s | edgebert / OpenBLAS | edgebert / peak |")
print("|---|---|---|---|---|---|")
for (t, m, k, n), c in sorted(cells.items()):
    e, o = c.get("edgebert_gemm", 0), c.get("openblas_sgemm", 0)
    print(f"| {t} | {m} x {k} x {n} | {e:.0f} | {o:.0f} | {e / o if o else 0:.2f} | {e / peak.get(t, 1):.0%} |")
PY
