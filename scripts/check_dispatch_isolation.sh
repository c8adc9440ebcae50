#!/usr/bin/env bash
# Runtime dispatch safety check (docs/building.md): in a program built with EDGEBERT_DISPATCH, every function that
# uses AVX registers (ymm/zmm) or AVX-512 mask registers must belong to one instruction set's kernels, i.e. carry
# its name in its symbol (the inline namespace avx2/avx2_vnni/avx512/avx512_icl, or an xsimd architecture tag). Anything else
# would run on processors without those instructions: a standard-library function compiled in an AVX file and
# kept by the linker instead of the baseline copy, for example.
#   scripts/check_dispatch_isolation.sh BINARY
# Exit 0 = clean, 1 = such functions found (listed).
set -euo pipefail
bin=$1
objdump -d --no-show-raw-insn -C "$bin" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); sub(/>:$/, "", fn); next }
  /%[yz]mm[0-9]|%k[1-7]/ { if (fn != "" && !(fn in seen)) { seen[fn] = 1; print fn } }
' > "${TMPDIR:-/tmp}/avx_functions.$$"
# Local functions (static, anonymous namespace, GCC's .constprop/.isra/.part clones) are only reachable from the
# object file that compiled them, which had the flags their code uses: only global and weak ones can be shared.
nm -C --defined-only "$bin" | awk '$2 == "t" { $1 = ""; $2 = ""; sub(/^  /, ""); print }' | sort -u > "${TMPDIR:-/tmp}/local_functions.$$"
total=$(wc -l < "${TMPDIR:-/tmp}/avx_functions.$$")
bad=$(grep -Ev '::(avx2|avx2_vnni|avx512|avx512_icl)::|xsimd::(avx|fma3<xsimd::avx2>|avx2|avx512|fma)' "${TMPDIR:-/tmp}/avx_functions.$$" |
      sort -u | comm -23 - "${TMPDIR:-/tmp}/local_functions.$$" || true)
rm -f "${TMPDIR:-/tmp}/avx_functions.$$" "${TMPDIR:-/tmp}/local_functions.$$"
if [ -n "$bad" ]; then
  echo "functions outside the instruction-set namespaces that use AVX registers:"
  echo "$bad" | head -50
  echo "$(echo "$bad" | wc -l) of $total functions with AVX registers are not isolated"
  exit 1
fi
echo "ok: all $total functions with AVX registers belong to an instruction set's kernels or are local to its file"
