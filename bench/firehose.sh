#!/usr/bin/env bash
# Firehose frames (docs/benchmarks.md, "Firehose frames"): decoding and full
# verification of the captured event-stream frames in tests/data/firehose,
# one core, atdata-cpp next to the reference TypeScript stack
# (bench/ts/firehose-decode.js and firehose-verify.js: @atproto/xrpc-server
# Frame.fromBytes, @atproto/repo readCarWithRoot, @atproto/lex-cbor decode;
# @atproto/sync's commit verification) in the same run.
#   bench/firehose.sh [build-dir] [seconds]     (defaults: build, 3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
secs="${2:-3}"
frames="$root/tests/data/firehose"
[[ -x "$build/bench/bench_firehose_decode" ]] || cmake --build "$build" --target bench_firehose_decode
bash "$root/bench/ts/install.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
# taskset pins each run to one core, so "per core" is what is measured.
taskset -c 0 "$build/bench/bench_firehose_decode" "$frames" --seconds "$secs" | tee -a "$out"
taskset -c 0 node "$root/bench/ts/firehose-decode.js" "$frames" --seconds "$secs" | tee -a "$out"
taskset -c 0 "$build/bench/bench_firehose_decode" "$frames" --verify "$frames/dids.json" --seconds "$secs" | tee -a "$out"
taskset -c 0 node "$root/bench/ts/firehose-verify.js" "$frames" "$frames/dids.json" --seconds "$secs" | tee -a "$out"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
dec = {(r["impl"], r["set"]): r for r in rows if "frames_per_s" in r}
ver = {(r["impl"], r["set"]): r for r in rows if r.get("bench") == "verify"}
print()
print("| frames | atdata-cpp frames/s | MB/s | TypeScript frames/s | MB/s | ratio |")
print("|---|---|---|---|---|---|")
for s in ("small", "large"):
    c, t = dec.get(("atdata-cpp", s)), dec.get(("ts", s))
    if c and t:
        print(f"| {s} ({c['frames']}) | {c['frames_per_s']:,.0f} | {c['mb_per_s']:,.1f} | {t['frames_per_s']:,.0f} | {t['mb_per_s']:,.1f} | {c['frames_per_s'] / t['frames_per_s']:.0f}x |")
print()
print("| commits (full verification) | atdata-cpp commits/s | TypeScript commits/s | ratio |")
print("|---|---|---|---|")
for s in ("small", "large"):
    c, t = ver.get(("atdata-cpp", s)), ver.get(("ts", s))
    if c and t:
        print(f"| {s} ({c['commits']}) | {c['commits_per_s']:,.0f} | {t['commits_per_s']:,.0f} | {c['commits_per_s'] / t['commits_per_s']:.0f}x |")
PY
