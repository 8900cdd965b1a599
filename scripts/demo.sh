#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs the main demo end to end, on loopback only:
#   1. installs the build dependencies and the official ATProto PDS (npm, from the lockfile);
#   2. builds the library, the `atdata` CLI and the examples;
#   3. boots a throw-away PDS + in-memory PLC directory with a demo account;
#   4. runs examples/complete_example.cpp — the seed document's "complete example":
#      1,000 samples → WebDataset shard → publish schema → insert dataset record →
#      list datasets → decode_schema → load the dataset back in batches of 32;
#   5. prints the first samples of the shard with `atdata cat`;
#   6. stops the PDS (all its data is deleted).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup-deps.sh
bash tools/pds/install.sh

dir=${ATDATA_BUILD_DIR:-build}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$dir" -j "$(nproc)" --target example_complete_example atdata_cli

run="$root/$dir/demo-pds"
cleanup() { bash tools/pds/ctest-fixture.sh stop "$run" >/dev/null 2>&1 || true; }
trap cleanup EXIT
ATDATA_PDS_ACCOUNTS="alice" bash tools/pds/ctest-fixture.sh start "$run"

eval "$(node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  const a = Object.values(e.accounts)[0]
  console.log(`export ATDATA_PDS_URL=${e.pds_url} ATDATA_PLC_URL=${e.plc_url} ATDATA_HANDLE=${a.handle} ATDATA_PASSWORD=${a.password}`)
' "$run/env.json")"

work="$root/$dir/demo-data"
rm -rf "$work" && mkdir -p "$work"
echo "== complete example against $ATDATA_PDS_URL as $ATDATA_HANDLE"
ATDATA_DEMO_DIR="$work" "$dir/examples/example_complete_example"
echo "== atdata cat (first 2 samples)"
shard=$(ls "$work"/*.tar | head -n 1)
"$dir/src/cli/atdata" cat "$shard" --limit 2 | cut -c 1-300
echo "== demo finished"
