#!/usr/bin/env bash
# Prefetching loader over HTTP (docs/benchmarks.md, "Prefetching loader").
# In one run: starts nginx (tools/nginx/ctest-fixture.sh) and the fault proxy
# (tools/faultproxy/ctest-fixture.sh), writes the sets once
# (bench_prefetch_http generate), links them into nginx's www, warms the page
# cache, then measures, sequentially, one process at a time:
#   1. throughput: features / images, ordered(32), shards_in_flight 1/2/4/8,
#      next to curl fetching the same URLs to /dev/null (one curl process,
#      keep-alive, sequentially; and `curl --parallel --parallel-max N`);
#   2. latency hiding: the features samples in 64 shards (of 2,500 and of
#      250 samples) through the proxy with delay=20 ms per response,
#      N = 1/2/4/8 (curl likewise, as a reference);
#   3. overlap: a consumer training 1 ms per batch (sleep, and busy-wait) on
#      features over HTTP vs the same consumer over batches in memory;
#   4. memory: peak RSS while streaming the images set for several epochs
#      with the default options, vs the documented bound.
# and prints the tables (raw JSON lines are kept in $ATDATA_BENCH_OUT if set).
#   bench/prefetch_http.sh [build-dir] [reps] [memory-epochs]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
reps=${2:-3}
mem_epochs=${3:-5}
bench=$build/bench/bench_prefetch_http
run=$(mktemp -d /tmp/atdata-prefetch-bench.XXXXXX)
out=${ATDATA_BENCH_OUT:-$run/results.jsonl}
cleanup() {
  "$here/tools/faultproxy/ctest-fixture.sh" stop "$run/proxy" || true
  "$here/tools/nginx/ctest-fixture.sh" stop "$run" || true
  rm -rf "$run"
}
trap cleanup EXIT
"$here/tools/nginx/ctest-fixture.sh" start "$run" >/dev/null
"$here/tools/faultproxy/ctest-fixture.sh" start "$run/proxy" "$run/url" >/dev/null
base=$(cat "$run/url")
proxy=$(cat "$run/proxy/url")/f/delay=20
: >"$out"

declare -A dir
while read -r name d _; do
  dir[$name]=$d
  ln -sfn "$d" "$run/www/$name"
  cat "$d"/*.tar >/dev/null  # warm the page cache
done < <("$bench" generate)

# "<base>/<set>/<set>-{000000..000015}.tar" and the list of its URLs.
pattern() {
  local files=("${dir[$2]}"/*.tar)
  local first last
  first=$(basename "${files[0]}" .tar)
  last=$(basename "${files[-1]}" .tar)
  echo "$1/$2/$2-{${first#"$2"-}..${last#"$2"-}}.tar"
}
urls() {
  local f
  for f in "${dir[$2]}"/*.tar; do echo "$1/$2/$(basename "$f")"; done
}
set_bytes() { cat "${dir[$1]}"/*.tar | wc -c; }

# curl_case <case> <set> <base> <N>: N = 1 → one process, sequential.
curl_case() {
  local args=() u
  while read -r u; do args+=(-o /dev/null "$u"); done < <(urls "$3" "$2")
  local par=()
  [[ $4 -gt 1 ]] && par=(--parallel --parallel-immediate --parallel-max "$4")
  /usr/bin/time -f "%e %U %S" -o "$run/t" curl -sSf "${par[@]}" "${args[@]}" 2>/dev/null
  local wall user sys
  read -r wall user sys <"$run/t"
  printf '{"case":"%s","tool":"curl","set":"%s","in_flight":%d,"wall":%s,"cpu":%s,"bytes":%d}\n' \
    "$1" "$2" "$4" "$wall" "$(awk "BEGIN{print $user + $sys}")" "$(set_bytes "$2")" >>"$out"
}
# ours <case> <set> <kind> <base> [bench options]
ours() {
  local c=$1 s=$2 k=$3 b=$4
  shift 4
  "$bench" read "$(pattern "$b" "$s")" "$k" "$@" | sed "s/^{/{\"case\":\"$c\",\"tool\":\"ours\",\"set\":\"$s\",/" >>"$out"
}

echo "load before: $(cat /proc/loadavg)" >&2
for rep in $(seq "$reps"); do
  for s in features images; do
    for n in 1 2 4 8; do
      curl_case throughput "$s" "$base" "$n"
      ours throughput "$s" "$s" "$base" --in-flight "$n"
    done
  done
  for s in features64 features64s; do
    for n in 1 2 4 8; do
      curl_case latency "$s" "$proxy" "$n"
      ours latency "$s" features "$proxy" --in-flight "$n"
    done
  done
  for mode in --sleep-us --busy-us; do
    ours overlap features features "$base" "$mode" 1000 --in-memory
    ours overlap features features "$base" "$mode" 1000
  done
  echo "rep $rep done, load: $(cat /proc/loadavg)" >&2
done
ours memory images images "$base" --epochs "$mem_epochs"
echo "load after: $(cat /proc/loadavg)" >&2

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def pick(**kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
def med(rs, key):
    return statistics.median(r[key] for r in rs)
def rng(rs, key, f=lambda x: x):
    v = sorted(f(r) for r in rs)
    return v[0], statistics.median(v), v[-1]

print("\n1. Throughput from nginx, ordered(32), MB/s of shard bytes over wall time (median, [min-max] of reps)")
print("| set | N in flight | ours MB/s | curl MB/s | ours / curl | ours CPU s / pass | curl CPU s | ours samples/s |")
print("|---|---|---|---|---|---|---|---|")
for s in ("features", "images"):
    for n in (1, 2, 4, 8):
        o = pick(case="throughput", tool="ours", set=s, in_flight=n)
        c = pick(case="throughput", tool="curl", set=s, in_flight=n)
        if not o or not c:
            continue
        ob = rng(o, None, lambda r: r["bytes"] / r["wall"] / 1e6)
        cb = rng(c, None, lambda r: r["bytes"] / r["wall"] / 1e6)
        sps = statistics.median(r["samples"] / r["wall"] for r in o)
        print(f"| {s} | {n} | {ob[1]:.0f} [{ob[0]:.0f}-{ob[2]:.0f}] | {cb[1]:.0f} [{cb[0]:.0f}-{cb[2]:.0f}] | "
              f"{ob[1] / cb[1]:.0%} | {med(o, 'cpu'):.3f} | {med(c, 'cpu'):.3f} | {sps / 1e3:.0f} k |")

for s in ("features64", "features64s"):
    print(f"\n2. Latency hiding: {s} (64 shards) through the proxy, delay=20 ms per response")
    o1 = pick(case="latency", tool="ours", set=s, in_flight=1)
    c1 = pick(case="latency", tool="curl", set=s, in_flight=1)
    t1 = med(o1, "wall") if o1 else float("nan")
    ct1 = med(c1, "wall") if c1 else float("nan")
    print("| N in flight | ours T(N) s | target T(1)/N x 1.3 s | met | curl T(N) s | curl T(1)/N x 1.3 s | ours CPU s |")
    print("|---|---|---|---|---|---|---|")
    for n in (1, 2, 4, 8):
        o = pick(case="latency", tool="ours", set=s, in_flight=n)
        c = pick(case="latency", tool="curl", set=s, in_flight=n)
        if not o:
            continue
        t = rng(o, "wall", lambda r: r["wall"])
        target = t1 / n * 1.3
        ct = med(c, "wall") if c else float("nan")
        print(f"| {n} | {t[1]:.3f} [{t[0]:.3f}-{t[2]:.3f}] | {target:.3f} | {'yes' if t[1] <= target else 'no'} | "
              f"{ct:.3f} | {ct1 / n * 1.3:.3f} | {med(o, 'cpu'):.3f} |")

print("\n3. Overlap: 1 ms of 'training' per batch, features over HTTP (default options) vs batches in memory")
print("| consumer | in memory s | HTTP s | loss | HTTP CPU s |")
print("|---|---|---|---|---|")
for key, label in (("sleep_us", "sleep 1 ms"), ("busy_us", "busy-wait 1 ms")):
    m = [r for r in pick(case="overlap", in_memory=True) if r[key] == 1000]
    h = [r for r in pick(case="overlap", in_memory=False) if r[key] == 1000]
    if not m or not h:
        continue
    tm, th = med(m, "wall"), med(h, "wall")
    print(f"| {label} | {tm:.3f} | {th:.3f} | {th / tm - 1:+.1%} | {med(h, 'cpu'):.3f} |")

print("\n4. Memory: images over HTTP, ordered(32), default options")
for r in pick(case="memory"):
    mib = 1 << 20
    batch = 32 * 3 * 224 * 224
    bound = 4 * (16 * mib + 2 * mib) + (4 + 2) * batch
    print(f"streamed {r['bytes'] / 1e9:.2f} GB in {r['wall']:.2f} s ({r['bytes'] / r['wall'] / 1e6:.0f} MB/s), "
          f"RSS before the first batch {r['rss0_kb'] / 1024:.1f} MiB, peak RSS {r['hwm_kb'] / 1024:.1f} MiB, "
          f"peak - baseline {(r['hwm_kb'] - r['rss0_kb']) / 1024:.1f} MiB; "
          f"bound without the few MiB {bound / mib:.1f} MiB; max buffered_bytes seen {r['max_buffered'] / mib:.1f} MiB")
PY
