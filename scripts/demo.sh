#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs the main demo end to end, on loopback only:
#   1. installs the build dependencies and the official ATProto PDS (npm, from the lockfile);
#   2. builds the library, the `atdata` CLI and the examples;
#   3. boots a throw-away PDS + in-memory PLC directory with a demo account;
#   4. starts `atdata watch --db` on the PDS's firehose (every commit verified against the
#      account's signing key) so each schema and dataset shows up as it is written;
#   5. runs examples/complete_example.cpp — Python atdata's "complete example" in C++:
#      1,000 samples → WebDataset shard → publish schema → insert dataset record →
#      list datasets → decode_schema → load the dataset back in batches of 32;
#   6. prints the first samples of the shard with `atdata cat`, then serves shards from
#      nginx on loopback, loads them back through the prefetching pipeline with
#      `atdata load` (progress bar, then the summary line), and reads them again from
#      Python (atdata_cpp, then a PyTorch DataLoader with two workers);
#   7. bulk-publishes 500 more dataset records with `atdata publish-records` (progress
#      bar, then a re-run that writes nothing: resumable) and lists them with `atdata ls`;
#   8. queries the catalogue the watcher kept with `atdata search`;
#   9. exports the account's repository (com.atproto.sync.getRepo) and verifies it offline
#      with `atdata repo`: every block's CID, the tree, the commit signature with the key
#      from the account's DID document;
#  10. stops the watcher, nginx and the PDS (all their data is deleted).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup-deps.sh
bash tools/pds/install.sh

dir=${ATDATA_BUILD_DIR:-build}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$dir" -j "$(nproc)" --target example_complete_example atdata_cli $(grep -q "^_atdata_cpp:" <(cmake --build "$dir" --target help 2>/dev/null) && echo _atdata_cpp)

run="$root/$dir/demo-pds"
web="$root/$dir/demo-nginx"
watch_pid=""
cleanup() {
  [[ -n "$watch_pid" ]] && kill "$watch_pid" 2>/dev/null || true
  bash tools/nginx/ctest-fixture.sh stop "$web" >/dev/null 2>&1 || true
  bash tools/pds/ctest-fixture.sh stop "$run" >/dev/null 2>&1 || true
}
trap cleanup EXIT
ATDATA_PDS_ACCOUNTS="alice" bash tools/pds/ctest-fixture.sh start "$run"

eval "$(node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  const a = Object.values(e.accounts)[0]
  console.log(`export ATDATA_PDS_URL=${e.pds_url} ATDATA_PLC_URL=${e.plc_url} ATDATA_HANDLE=${a.handle} ATDATA_PASSWORD=${a.password}`)
' "$run/env.json")"

work="$root/$dir/demo-data"
rm -rf "$work" && mkdir -p "$work"
echo "== atdata watch: following $ATDATA_PDS_URL's firehose into $work/catalogue.db"
# The first 12 records it reports are echoed live; all go to watch.log.
"$dir/src/cli/atdata" watch --db "$work/catalogue.db" -v >"$work/watch.log" 2>"$work/watch.err" &
watch_pid=$!
(tail -n +1 -f --pid="$watch_pid" "$work/watch.log" | sed -u -n '1,12s/^/   [watch] /p') &
for _ in $(seq 1 100); do grep -q "connected" "$work/watch.err" 2>/dev/null && break; sleep 0.1; done
echo "== complete example against $ATDATA_PDS_URL as $ATDATA_HANDLE"
ATDATA_DEMO_DIR="$work" "$dir/examples/example_complete_example"
echo "== atdata cat (first 2 samples)"
shard=$(ls "$work"/*.tar | head -n 1)
"$dir/src/cli/atdata" cat "$shard" --limit 2 | cut -c 1-300
echo "== atdata load: 16 shards over HTTP from nginx on loopback, 4 in flight"
bash tools/nginx/ctest-fixture.sh start "$web" >/dev/null
mkdir -p "$web/www/demo"
for i in $(seq -f '%06g' 0 15); do ln -sf "$shard" "$web/www/demo/data-$i.tar"; done
"$dir/src/cli/atdata" load "$(cat "$web/url")/demo/data-{000000..000015}.tar" --batch-size 32 --in-flight 4
if [[ -d "$dir/python/atdata_cpp" ]]; then
  echo "== from Python: atdata_cpp reads the same 16 shards, then a PyTorch DataLoader with 2 workers"
  PYTHONPATH="$dir/python" /usr/bin/python3 examples/python_demo.py "$(cat "$web/url")/demo/data-{000000..000015}.tar"
fi
echo "== atdata publish-records: 500 dataset records in applyWrites batches"
"$dir/src/cli/atdata" ls --schemas >"$work/schemas.tsv"
schema=$(head -n 1 "$work/schemas.tsv" | cut -f 1)
for i in $(seq 0 499); do
  printf '{"$type":"ac.foundation.dataset.record","name":"demo-bulk-%d","schemaRef":"%s","storage":{"$type":"ac.foundation.dataset.storageExternal","urls":["https://example.com/demo/%d/data-{000000..000009}.tar"]},"createdAt":"2026-01-01T00:00:00.000000+00:00"}\n' "$i" "$schema" "$i"
done >"$work/records.jsonl"
"$dir/src/cli/atdata" publish-records ac.foundation.dataset.record "$work/records.jsonl" >/dev/null
echo "== the same command again (resumes; nothing is written twice)"
"$dir/src/cli/atdata" publish-records ac.foundation.dataset.record "$work/records.jsonl" --no-progress >/dev/null
"$dir/src/cli/atdata" ls >"$work/datasets.tsv"
echo "== atdata ls: $(wc -l <"$work/datasets.tsv") dataset records in the repository; the first 3:"
head -n 3 "$work/datasets.tsv"
for _ in $(seq 1 100); do grep -q "demo-bulk-499" "$work/watch.log" && break; sleep 0.1; done
echo "== atdata watch saw $(wc -l <"$work/watch.log") records appear; stopping it"
kill -TERM "$watch_pid"; wait "$watch_pid" || true; watch_pid=""
echo "== atdata search 'demo-bulk-42' (full text over the catalogue)"
"$dir/src/cli/atdata" search "demo-bulk-42" --db "$work/catalogue.db"
echo "== atdata search --schema <the example's schema> --limit 3 (newest first)"
"$dir/src/cli/atdata" search --db "$work/catalogue.db" --schema "$schema" --limit 3
echo "== atdata repo: the repository export, verified offline (first 2 records, then the commit)"
did=$(node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(Object.values(e.accounts)[0].did)' "$run/env.json")
curl -sf "$ATDATA_PDS_URL/xrpc/com.atproto.sync.getRepo?did=$did" -o "$work/repo.car"
curl -sf "$ATDATA_PLC_URL/$did" -o "$work/did.json"
"$dir/src/cli/atdata" repo "$work/repo.car" --did-doc "$work/did.json" >"$work/repo.jsonl"
head -n 2 "$work/repo.jsonl" | cut -c 1-200
tail -n 1 "$work/repo.jsonl"
echo "== demo finished"
