#!/usr/bin/env bash
# Compressed shard benchmark (see docs/benchmarks.md, "Compressed shards"):
# writes the .tar shards of bench_dataset_read once, compresses them with the
# zstd and gzip tools (zstd -3, gzip -6: the tools' defaults), then times the
# tools' own single-threaded decompression of the same files next to
# bench_compressed_read, all from the page cache.
#   bench/compressed_read.sh [build-dir] [extra benchmark flags...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bench=$build/bench/bench_compressed_read
out=$(mktemp -d /tmp/atdata-zbench.XXXXXX)
trap 'rm -rf "$out"' EXIT

mapfile -t dirs < <("$bench" --generate)
for d in "${dirs[@]}"; do
  for f in "$d"/*.tar; do
    [[ -s $f.zst ]] || zstd -q -3 -T1 -f -o "$f.zst" "$f"
    [[ -s $f.gz ]] || gzip -6 -c "$f" >"$f.gz"
  done
done
cat /proc/loadavg

# Reference: the tool decompressing every shard of a set to /dev/null, best
# of 3 by user+sys CPU time (and the wall time of that run).
for d in "${dirs[@]}"; do
  set_name=$(basename "$d")
  for codec in zst gz; do
    tool=zstd
    [[ $codec == gz ]] && tool=gzip
    for rep in 1 2 3; do
      /usr/bin/time -f "%e %U %S" -o "$out/t" bash -c \
        "for f in \"$d\"/*.tar.$codec; do $tool -d -c \"\$f\" >/dev/null; done"
      read -r wall user sys <"$out/t"
      csize=$(cat "$d"/*.tar."$codec" | wc -c)
      echo "$set_name $codec $wall $user $sys $csize" >>"$out/ref"
    done
  done
done

"$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/ours.json" --benchmark_out_format=json "${@:2}" >&2
cat /proc/loadavg

python3 - "$out/ref" "$out/ours.json" <<'PY'
import json, sys
ref = {}
for line in open(sys.argv[1]):
    s, c, wall, user, sys_t, size = line.split()
    cpu = float(user) + float(sys_t)
    key = (s, c)
    if key not in ref or cpu < ref[key][1]:
        ref[key] = (float(wall), cpu, int(size))
ours = {}
for b in json.load(open(sys.argv[2]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    kind, s, c = b["run_name"].split("/")[:3]
    ours[(kind, s, c)] = b
print("| set | codec | compressed MB | tool MB/s (CPU) | tool MB/s (wall) | ours decode MB/s (CPU) | ours decode / tool | ours ordered(32) MB/s (CPU) | samples/s (CPU) | ordered / tool |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (s, c), (wall, cpu, size) in sorted(ref.items()):
    tool_cpu = size / cpu / 1e6
    tool_wall = size / wall / 1e6
    row = [s, c, f"{size / 1e6:.1f}", f"{tool_cpu:.0f}", f"{tool_wall:.0f}"]
    d = ours.get(("Decode", s, c))
    o = ours.get(("Ordered32", s, c))
    def per_cpu(b):  # bytes/s over CPU time (the counters are over wall time)
        return b["bytes_per_second"] * b["real_time"] / b["cpu_time"] / 1e6
    if d:
        row += [f"{per_cpu(d):.0f}", f"{per_cpu(d) / tool_cpu:.0%}"]
    else:
        row += ["-", "-"]
    if o:
        items = o["items_per_second"] * o["real_time"] / o["cpu_time"]
        row += [f"{per_cpu(o):.0f}", f"{items / 1e3:.0f} k", f"{per_cpu(o) / tool_cpu:.0%}"]
    else:
        row += ["-", "-", "-"]
    print("| " + " | ".join(row) + " |")
PY
