#!/usr/bin/env bash
# Bulk publishing records/s against a fresh loopback PDS: atdata-cpp
# BulkPublisher (applyWrites batches, 1 and 4 in flight, plus the resume re-run)
# vs the official TypeScript client @atproto/api doing one createRecord per
# call. Results: docs/benchmarks.md "Atmosphere bulk publishing".
#   bench/atmosphere_bulk.sh [build-dir] [N]      (defaults: build, 2000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
n="${2:-2000}"
run_dir="$build/bench-atmo-pds-run"
[[ -x "$build/bench/bench_atmosphere_bulk" ]] || cmake --build "$build" --target bench_atmosphere_bulk
bash "$root/bench/ts/install.sh"
"$root/tools/pds/ctest-fixture.sh" start "$run_dir" >/dev/null
trap '"$root/tools/pds/ctest-fixture.sh" stop "$run_dir"' EXIT
echo "# N=$n, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version)"
node "$root/bench/ts/create-records.js" "$run_dir/env.json" "$n"
"$build/bench/bench_atmosphere_bulk" "$run_dir/env.json" "$n" 1 4
