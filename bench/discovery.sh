#!/usr/bin/env bash
# Live discovery (docs/benchmarks.md, "Live discovery"):
#  1. boots a throw-away PDS, publishes N dataset records one commit each
#     and 9 N other records (`atdata publish-records --max-ops 1`), records the PDS's whole event
#     stream (real signed frames) and the account's DID document;
#  2. replays those frames, cycled with fresh sequence numbers, from a loopback
#     WebSocket server at full speed into Firehose + Catalogue (SQLite file),
#     with and without signature checks, on one core;
#  3. runs the TypeScript SDK reference over the same frames (bench/discovery_reference.js);
#  4. measures createRecord → catalogue latency against the PDS.
#   bench/discovery.sh [build-dir] [events] [records]   (defaults: build, 1000000, 2000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
events="${2:-1000000}"
records="${3:-2000}"
cmake --build "$build" --target bench_discovery atdata_cli >/dev/null
work=$(mktemp -d)
run="$work/pds"
trap 'bash "$root/tools/pds/ctest-fixture.sh" stop "$run" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
ATDATA_PDS_ACCOUNTS="alice" bash "$root/tools/pds/ctest-fixture.sh" start "$run" >/dev/null
eval "$(node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  const a = Object.values(e.accounts)[0]
  console.log(`export ATDATA_PDS_URL=${e.pds_url} ATDATA_PLC_URL=${e.plc_url} ATDATA_HANDLE=${a.handle} ATDATA_PASSWORD=${a.password} DID=${a.did}`)
' "$run/env.json")"
for i in $(seq 1 "$records"); do
  printf '{"$type":"ac.foundation.dataset.record","name":"bench-%d","description":"benchmark dataset %d","tags":["bench","t%d"],"schemaRef":"at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k","storage":{"$type":"ac.foundation.dataset.storageExternal","urls":["https://example.com/bench/%d/data-{000000..000009}.tar"]},"createdAt":"2026-01-01T00:00:00.000000+00:00"}\n' "$i" "$i" $((i % 50)) "$i"
done >"$work/records.jsonl"
"$build/src/cli/atdata" publish-records ac.foundation.dataset.record "$work/records.jsonl" --max-ops 1 --in-flight 8 --no-progress >/dev/null
# The network's mix: most commits are not about datasets (here 9 of 10).
for i in $(seq 1 $((records * 9))); do
  printf '{"$type":"app.bench.post","text":"post %d","createdAt":"2026-01-01T00:00:00.000Z"}\n' "$i"
done >"$work/posts.jsonl"
"$build/src/cli/atdata" publish-records app.bench.post "$work/posts.jsonl" --max-ops 1 --in-flight 8 --no-progress --no-validate >/dev/null
"$build/bench/bench_discovery" record "$ATDATA_PDS_URL" "$work/frames.bin"
curl -sf "$ATDATA_PLC_URL/$DID" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const d=JSON.parse(s);console.log(JSON.stringify({[d.id]:d}))})' >"$work/dids.json"
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
b="$build/bench/bench_discovery"
for mode in "" "--no-verify"; do
  rm -f "$work"/catalogue.db*
  "$b" replay "$work/frames.bin" "$work/dids.json" "$events" --db "$work/catalogue.db" --only-datasets $mode
  rm -f "$work"/catalogue.db*
  "$b" replay "$work/frames.bin" "$work/dids.json" "$events" --db "$work/catalogue.db" $mode
done
# The reference: the same frames through the official TypeScript packages
# (decode, verifyProofs), in memory, on one core.
for mode in "" "--no-verify"; do
  taskset -c 0 node "$root/bench/discovery_reference.js" "$work/frames.bin" "$work/dids.json" $((events / 10)) $mode
done
"$build/bench/bench_discovery" latency 200
