#!/usr/bin/env bash
# Install what edgebert needs on Debian 12 (idempotent: only missing packages are installed).
#   bash scripts/install-deps.sh          build the library, examples and benchmarks
#   bash scripts/install-deps.sh --test   also what the tests use (Catch2, numpy, sentencepiece) and, when
#                                         ../shared/peer is beside the checkout, the ONNX Runtime peer
#   bash scripts/install-deps.sh --fuzz   also clang, its libFuzzer runtime, OpenMP and lld (tests/fuzz, the asan preset)
#   bash scripts/install-deps.sh --cross  also the AArch64 cross compiler and QEMU (docs/building.md)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want_tests=0 want_fuzz=0 want_cross=0
for a in "$@"; do
  case "$a" in
    --test) want_tests=1 ;;
    --fuzz) want_fuzz=1 ;;
    --cross) want_cross=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
pkgs=(g++ cmake ninja-build libxsimd-dev nlohmann-json3-dev libbenchmark-dev libopenblas-dev)
if [ "$want_tests" = 1 ]; then pkgs+=(catch2 python3 python3-numpy python3-sentencepiece locales-all libeigen3-dev); fi
if [ "$want_fuzz" = 1 ]; then pkgs+=(catch2 clang libclang-rt-14-dev libomp-14-dev lld); fi
if [ "$want_cross" = 1 ]; then pkgs+=(catch2 python3 python3-numpy g++-aarch64-linux-gnu qemu-user-static); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[install-deps] apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_wait=(-o DPkg::Lock::Timeout=600)  # another apt or dpkg run (unattended upgrades) holds the lock: wait for it
  # An install that was cut off (a killed job, a lost machine) leaves dpkg "interrupted", and apt-get then refuses
  # every install until the half-done work is finished; finish it first. Packages left half-installed are not
  # "install ok installed" and so are in $missing: the install below puts them right.
  if [ -n "$($sudo dpkg --audit 2>/dev/null)" ]; then
    echo "[install-deps] dpkg was interrupted earlier: dpkg --configure -a"
    $sudo dpkg --configure -a > /dev/null || true
  fi
  $sudo apt-get "${apt_wait[@]}" update -qq
  ${sudo:+$sudo -E} apt-get "${apt_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
else
  echo "[install-deps] Debian packages already present"
fi
if [ "$want_tests" = 1 ] && [ -f "$here/../shared/peer/setup.sh" ]; then
  echo "[install-deps] setting up the ONNX Runtime peer in ../shared/peer"
  bash "$here/../shared/peer/setup.sh"
fi
