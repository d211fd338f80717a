#!/usr/bin/env bash
# Runs obsgen's compile benchmark (benches/compile.rs) and prints the size of
# the machine first, so that figures are never read without it.
# Extra arguments go to cargo, e.g. `scripts/bench.sh --quiet`.
# OBSGEN_BENCH_SIZES=1000,10000 and OBSGEN_BENCH_ITERATIONS=5 tune the run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "cpus: $(nproc)"
if command -v free >/dev/null 2>&1; then
  free -h
fi
if [ -r /proc/cpuinfo ]; then
  grep -m1 'model name' /proc/cpuinfo || true
fi
echo "rustc: $(rustc --version)"
echo

exec cargo bench --bench compile "$@"
