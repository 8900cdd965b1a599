#!/usr/bin/env bash
# Python bindings benchmark (docs/benchmarks.md, "Python bindings"): the
# (a) features and (b) images sets of bench_dataset_read, read from Python in
# batches of 32, in one run and one process at a time:
#   1. ROUNDS rounds, each: the C++ loader's own rate (bench_dataset_read
#      BM_Features_Ordered32 and BM_Images_Ordered32: Dataset<T>::ordered(32),
#      stacked array touched; one repetition = the mean of ~2 s of passes),
#      then atdata_cpp's ordered(batch_size=32) on both sets with
#      decode_threads 1 and 2 (bench/python_read.py cpp). Interleaved because
#      this VM's speed drifts by ±20 % between minutes. The first C++ run also
#      writes the sets into $ATDATA_BENCH_DIR;
#   2. bench/python_read.py plain (the plain-Python reader: tarfile walk,
#      msgpack.unpackb, np.load per array, np.stack per batch), torch
#      (atdata_cpp.torch.IterableDataset in a DataLoader, 0/1/2 workers),
#      torchnull (the DataLoader alone, nothing read: its own ceiling) and
#      alloc (what a full pass allocates on the Python side, not timed);
# then prints the tables and the targets (markdown, on stdout; progress and
# the raw lines on stderr).
#   bench/python_read.sh [build-dir]
# Environment: REPS (Python passes per case after one warm-up, default 3),
# PLAIN_REPS (default REPS; a plain features pass takes ~30 s), ROUNDS
# (default 3), ATDATA_BENCH_DIR, ATDATA_BENCH_OUT (keep the raw JSON lines).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
build=$(cd "$build" && pwd)
reps=${REPS:-3}
plain_reps=${PLAIN_REPS:-$reps}
rounds=${ROUNDS:-3}
py=/usr/bin/python3  # Debian's python3 with python3-numpy, python3-msgpack (and torch)
bench=$build/bench/bench_dataset_read
script=$here/bench/python_read.py
run=$(mktemp -d /tmp/atdata-pyread.XXXXXX)
trap 'rm -rf "$run"' EXIT
out=${ATDATA_BENCH_OUT:-$run/results.jsonl}
: >"$out"
export PYTHONPATH=$build/python${PYTHONPATH:+:$PYTHONPATH}

[[ -x $bench ]] || { echo "missing $bench (build target bench_dataset_read)" >&2; exit 1; }
"$py" -c 'import atdata_cpp, msgpack, numpy' || { echo "atdata_cpp not importable from $build/python" >&2; exit 1; }

round=0
cxx_case() {
  echo "+ bench_dataset_read, round $round (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$bench" --benchmark_filter='^BM_(Features|Images)_Ordered32' --benchmark_repetitions=1 \
    --benchmark_out="$run/cxx-$round.json" --benchmark_out_format=json >&2
}
py_case() {
  echo "+ python_read.py $* (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  local res
  res=$("$py" "$script" "$@")
  printf '%s\n' "$res" | grep -v '^RESULT ' >&2 || true
  printf '%s\n' "$res" | sed -n "s/^RESULT {/{\"round\": $round, /p" >>"$out"
}

cat /proc/loadavg >"$run/load0"
for ((round = 1; round <= rounds; round++)); do
  cxx_case
  for set in features images; do
    for dt in 1 2; do py_case cpp --set "$set" --reps "$reps" --decode-threads "$dt"; done
  done
done
round=0
for set in features images; do
  py_case plain --set "$set" --reps "$plain_reps"
  for w in 0 1 2; do py_case torch --set "$set" --reps "$reps" --workers "$w"; done
  for w in 1 2; do py_case torchnull --set "$set" --reps "$reps" --workers "$w"; done
done
py_case alloc --set features
py_case alloc --set images
cat /proc/loadavg >"$run/load1"

"$py" - "$run" "$out" "$rounds" <<'PY'
import glob, json, os, statistics, sys

run, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
SETS = ("features", "images")
# C++: one repetition per round = the mean pass of ~2 s of passes.
cxx = {s: {} for s in SETS}
for path in glob.glob(os.path.join(run, "cxx-*.json")):
    r = int(path.rsplit("-", 1)[1].split(".")[0])
    for b in json.load(open(path))["benchmarks"]:
        s = "features" if b["name"].startswith("BM_Features") else "images"
        cxx[s][r] = {"samples_per_s": b["items_per_second"], "gb_per_s": b["bytes_per_second"] / 1e9}
rows = [json.loads(line) for line in open(out)]
alloc = {r["set"]: r for r in rows if r["mode"] == "alloc"}


def rate(r, which):  # samples/s of the best or the median pass of a case
    return r["samples"] / (r["best_s"] if which == "best" else r["median_s"])


def find(mode, set_, round_=None, **kw):
    return [r for r in rows if r["mode"] == mode and r["set"] == set_ and (round_ is None or r["round"] == round_)
            and all(r.get(k) == v for k, v in kw.items())]


def k(x):
    return f"{x / 1e3:,.1f} k" if x < 1e6 else f"{x / 1e6:.2f} M"


load0 = " ".join(open(os.path.join(run, "load0")).read().split()[:3])
load1 = " ".join(open(os.path.join(run, "load1")).read().split()[:3])
print(f"Load average before: {load0}; after: {load1}.")
print()
print("| set | reader | samples/s | GB/s | vs plain Python | % of C++ loader | machine cores busy |")
print("|---|---|---|---|---|---|---|")
summary = {}
for s in SETS:
    c_best = max(v["samples_per_s"] for v in cxx[s].values())
    c_med = statistics.median(v["samples_per_s"] for v in cxx[s].values())
    c_gb = max(v["gb_per_s"] for v in cxx[s].values())
    plain = find("plain", s)[0]
    p = rate(plain, "best")
    summary[s] = {"plain": plain, "c_best": c_best, "c_med": c_med}
    nbytes = plain["bytes"]
    tag = "(a)" if s == "features" else "(b)"
    print(f"| {tag} {s} | C++ `Dataset<T>::ordered(32)` (bench_dataset_read; best of {len(cxx[s])} rounds, each the mean of ~2 s) "
          f"| {k(c_best)} | {c_gb:.2f} | {c_best / p:.0f}× | 100 % | — |")
    print(f"| | plain Python: tarfile + msgpack + np.load + np.stack | {k(p)} | {plain['gb_per_s']:.3f} "
          f"| 1× | {100 * p / c_best:.1f} % | {plain['cores_busy']:.2f} |")
    for dt in (1, 2):
        rs = find("cpp", s, decode_threads=dt)
        best = max(rs, key=lambda r: rate(r, "best"))
        v = rate(best, "best")
        summary[s][("cpp", dt)] = v
        print(f"| | atdata_cpp `ordered(batch_size=32)`, decode_threads={dt} (best of {len(rs)} rounds × {best['reps']} passes) "
              f"| {k(v)} | {best['gb_per_s']:.2f} | {v / p:.0f}× | {100 * v / c_best:.0f} % | {best['cores_busy']:.2f} |")
    for mode, label in (("torch", "atdata_cpp.torch `IterableDataset` in a DataLoader"),
                        ("torchnull", "DataLoader alone (torch.empty batches, nothing read)")):
        for w in (0, 1, 2):
            rs = find(mode, s, workers=w)
            if not rs:
                continue
            r = rs[0]
            v = rate(r, "best")
            summary[s][(mode, w)] = v
            print(f"| | {label}, num_workers={w} | {k(v)} | {r['gb_per_s']:.3f} | {v / p:.1f}× "
                  f"| {100 * v / c_best:.0f} % | {r['cores_busy']:.2f} |")

print()
print("Interleaved rounds (C++: mean pass of the repetition; Python: best / median of its passes):")
print()
print("| round | (a) C++ samples/s | (a) decode_threads=1 | (a) decode_threads=2 | (b) C++ GB/s | (b) decode_threads=1 | (b) decode_threads=2 |")
print("|---|---|---|---|---|---|---|")
ratios = {(s, dt): [] for s in SETS for dt in (1, 2)}
for rnd in sorted(cxx["features"]):
    cells = [str(rnd)]
    for s in SETS:
        c = cxx[s][rnd]
        base = c["samples_per_s"]
        cells.append(k(base) if s == "features" else f"{c['gb_per_s']:.2f}")
        for dt in (1, 2):
            r = find("cpp", s, rnd, decode_threads=dt)[0]
            b, m = rate(r, "best") / base, rate(r, "median") / base
            ratios[(s, dt)].append((b, m))
            shown = k(rate(r, "best")) if s == "features" else f"{r['gb_per_s']:.2f}"
            cells.append(f"{shown}: {100 * b:.0f} % / {100 * m:.0f} %")
    print("| " + " | ".join(cells) + " |")

print()
f, im = summary["features"], summary["images"]


def verdict(ok):
    return "**met**" if ok else "**not met**"


def med(xs):
    return statistics.median(xs)


pf = rate(f["plain"], "best")
x1, x2 = f[("cpp", 1)] / pf, f[("cpp", 2)] / pf
print(f"* (a) features ≥ 50× plain Python: {x1:.0f}× with decode_threads=1, {x2:.0f}× with 2 — {verdict(max(x1, x2) >= 50)}")
r1 = [b for b, _ in ratios[("features", 1)]]
r2 = [b for b, _ in ratios[("features", 2)]]
m1 = [m for _, m in ratios[("features", 1)]]
m2 = [m for _, m in ratios[("features", 2)]]
print(f"* (a) features ≥ 70 % of the C++ loader, per round (best pass / median pass vs the C++ mean pass): "
      f"decode_threads=1 {', '.join(f'{100 * b:.0f}/{100 * m:.0f} %' for b, m in ratios[('features', 1)])} "
      f"(median {100 * med(r1):.0f}/{100 * med(m1):.0f} %), decode_threads=2 "
      f"{', '.join(f'{100 * b:.0f}/{100 * m:.0f} %' for b, m in ratios[('features', 2)])} "
      f"(median {100 * med(r2):.0f}/{100 * med(m2):.0f} %) — decode_threads=1: {verdict(med(m1) >= 0.7)}, "
      f"decode_threads=2: {verdict(med(m2) >= 0.7)} (judged on the median-pass ratio)")
pi = rate(im["plain"], "best")
y1, y2 = im[("cpp", 1)] / pi, im[("cpp", 2)] / pi
print(f"* (b) images ≥ 5× plain Python's GB/s: {y1:.1f}× with decode_threads=1, {y2:.1f}× with 2 — "
      f"{verdict(min(y1, y2) >= 5)}")
t1, t2 = im[("torch", 1)], im[("torch", 2)]
n1, n2 = im[("torchnull", 1)], im[("torchnull", 2)]
print(f"* (b) images, DataLoader 2 workers ≥ 1.5× 1 worker: {t2 / t1:.2f}× ({k(t1)} → {k(t2)} samples/s) — "
      f"{verdict(t2 / t1 >= 1.5)}; the DataLoader alone, nothing read: {n2 / n1:.2f}× ({k(n1)} → {k(n2)})")
for s, a in alloc.items():
    print(f"* alloc, {s}: one full atdata_cpp pass, {a['samples']:,} samples: the array field is one {a['array_type']} "
          f"{a['array_shape']} per batch, a view (owndata={a['array_owndata']}, base {a['array_base']}); label a "
          f"{a['label_type']} of {a['label_item_type']}; tracemalloc peak {a['traced_peak_bytes'] / 1024:.0f} KiB, "
          f"numpy-owned array data {a['numpy_owned_bytes_sampled_max']} B (the plain reader over one shard: peak "
          f"{a['plain_one_shard_traced_peak_bytes'] / 1024:.0f} KiB, numpy-owned "
          f"{a['plain_one_shard_numpy_owned_bytes_sampled_max'] / 1024:.0f} KiB)")
PY
