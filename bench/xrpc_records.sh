#!/usr/bin/env bash
# Records/s against a fresh loopback PDS: atdata-cpp (sequential, 8 in flight,
# applyWrites batches) vs the official TypeScript client @atproto/api
# (sequential createRecord, one call per record). Results: docs/benchmarks.md "XRPC".
#   bench/xrpc_records.sh [build-dir] [N]      (defaults: build, 2000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
n="${2:-2000}"
run_dir="$build/bench-pds-run"
[[ -x "$build/bench/bench_xrpc_records" ]] || cmake --build "$build" --target bench_xrpc_records
bash "$root/bench/ts/install.sh"
"$root/tools/pds/ctest-fixture.sh" start "$run_dir" >/dev/null
trap '"$root/tools/pds/ctest-fixture.sh" stop "$run_dir"' EXIT
echo "# N=$n, $(nproc) cores, node $(node --version)"
node "$root/bench/ts/create-records.js" "$run_dir/env.json" "$n"
"$build/bench/bench_xrpc_records" "$run_dir/env.json" "$n"
