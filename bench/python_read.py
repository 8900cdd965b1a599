#!/usr/bin/python3
"""Reading the bench_dataset_read shard sets from Python, in batches of 32
(docs/benchmarks.md, "Python bindings").

The sets are the ones bench_dataset_read writes into $ATDATA_BENCH_DIR
(default /tmp/atdata-bench) on first use:
  features: 16 shards x 10,000 {features f32[128], label int, source str}
  images:    8 shards x  1,000 {image u8[3,224,224], label int}

Modes, one full pass each, best of --reps after one warm-up pass:
  plain  what Python atdata does, in plain Python: a webdataset-style tar walk
         (tarfile in stream mode, members grouped by key), msgpack.unpackb,
         np.load of each ndarray field (msgpack bin holding .npy bytes),
         np.stack per batch of 32 for array fields, lists for the others;
  cpp    atdata_cpp.Dataset(url, sample_type=...).ordered(batch_size=32);
  torch  atdata_cpp.torch.IterableDataset in a torch DataLoader
         (batch_size=None, num_workers=N, persistent workers);
  torchnull  the DataLoader alone, for reference: the same number of batches
         of the same shapes made by torch.empty in the workers, nothing read;
  alloc  not timed: tracemalloc over one full cpp pass of a set, and the
         kind of objects a batch holds (no per-sample Python arrays).
Every batch's array field and label list are fetched (as a training loop
would before handing them on: the array object and its shape, the label
list and its length; bench_dataset_read likewise takes the stacked array's
data pointer without reading the data).

Prints one human line and one JSON line (prefixed "RESULT ") per run.
  /usr/bin/python3 bench/python_read.py {plain,cpp,torch,torchnull,alloc} --set {features,images}
"""

import argparse
import dataclasses
import glob
import io
import json
import os
import sys
import tarfile
import time

import msgpack
import numpy as np
from numpy.typing import NDArray

SETS = {
    # name: (shards, array field, other fields)
    "features": (16, "features", ("label", "source")),
    "images": (8, "image", ("label",)),
}


@dataclasses.dataclass
class FeatureSample:
    features: NDArray
    label: int
    source: str


@dataclasses.dataclass
class ImageSample:
    image: NDArray
    label: int


SAMPLE_TYPES = {"features": FeatureSample, "images": ImageSample}


def bench_dir():
    return os.environ.get("ATDATA_BENCH_DIR", "/tmp/atdata-bench")


def set_url(name):
    shards = SETS[name][0]
    return os.path.join(bench_dir(), name, f"{name}-{{000000..{shards - 1:06d}}}.tar")


def set_files(name):
    files = sorted(glob.glob(os.path.join(bench_dir(), name, f"{name}-*.tar")))
    if len(files) != SETS[name][0] or not os.path.exists(os.path.join(bench_dir(), name, "COMPLETE")):
        sys.exit(f"{name}: expected {SETS[name][0]} shards in {bench_dir()}/{name}; "
                 "run bench_dataset_read --benchmark_filter='Features|Images' once to write them")
    return files


# ---------------------------------------------------------------- plain Python


def tar_samples(path):
    """webdataset's tar walk: members grouped by key (the basename up to its
    first dot), each sample a dict {extension: bytes, "__key__": key}."""
    current = None
    with open(path, "rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
        for m in tar:
            if not m.isfile():
                continue
            dirname, base = os.path.split(m.name)
            key, _, ext = base.partition(".")
            key = os.path.join(dirname, key) if dirname else key
            data = tar.extractfile(m).read()
            tar.members = []  # as webdataset does: the stream does not keep every TarInfo
            if current is None or current["__key__"] != key:
                if current is not None:
                    yield current
                current = {"__key__": key}
            current[ext] = data
    if current is not None:
        yield current


def plain_batches(files, sample_type, batch_size=32):
    """What Python atdata does for ordered(batch_size=...): unpack each
    sample's msgpack, np.load its ndarray fields, stack arrays per batch."""
    names = [f.name for f in dataclasses.fields(sample_type)]
    array_fields = {f.name for f in dataclasses.fields(sample_type) if f.type is NDArray}
    samples = []
    for path in files:
        for wds in tar_samples(path):
            d = msgpack.unpackb(wds["msgpack"], raw=False)
            for k in array_fields:
                d[k] = np.load(io.BytesIO(d[k]), allow_pickle=False)
            samples.append(sample_type(**d))
            if len(samples) == batch_size:
                yield plain_batch(samples, names, array_fields)
                samples = []
    if samples:
        yield plain_batch(samples, names, array_fields)


def plain_batch(samples, names, array_fields):
    return {n: np.stack([getattr(s, n) for s in samples]) if n in array_fields else [getattr(s, n) for s in samples]
            for n in names}


def pass_plain(args):
    array_field = SETS[args.set][1]
    files = set_files(args.set)
    n = 0
    sink = 0
    for b in plain_batches(files, SAMPLE_TYPES[args.set]):
        sink += b[array_field].shape[0]
        n += len(b["label"])
    return n


# ------------------------------------------------------------------ atdata_cpp


def make_dataset(args):
    import atdata_cpp
    return atdata_cpp.Dataset(set_url(args.set), sample_type=SAMPLE_TYPES[args.set],
                              decode_threads=args.decode_threads)


def pass_cpp(args, ds):
    array_field = SETS[args.set][1]
    n = 0
    sink = 0
    for b in ds.ordered(batch_size=32):
        sink += getattr(b, array_field).shape[0]
        n += len(b.label)
    return n


def make_torch_loader(args):
    import torch.utils.data
    from atdata_cpp.torch import IterableDataset
    ds = IterableDataset(set_url(args.set), SAMPLE_TYPES[args.set], batch_size=32,
                         decode_threads=args.decode_threads)
    kw = {}
    if args.workers > 0:
        kw["persistent_workers"] = True
    return torch.utils.data.DataLoader(ds, batch_size=None, num_workers=args.workers, **kw)


class NullBatches:
    """torch reference (mode torchnull): batches of the set's shapes made
    with torch.empty in the worker, nothing read: what the DataLoader itself
    (worker -> main process transfer through shared memory) costs."""

    SHAPES = {"features": ((32, 128), "float32", 160000), "images": ((32, 3, 224, 224), "uint8", 8000)}

    def __new__(cls, name):
        import torch.utils.data

        shape, dtype, total = cls.SHAPES[name]
        array_field = SETS[name][1]
        others = SETS[name][2]

        class _Null(torch.utils.data.IterableDataset):
            def __iter__(self):
                info = torch.utils.data.get_worker_info()
                wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
                for i in range(wid, total // 32, nw):
                    b = {array_field: torch.empty(shape, dtype=getattr(torch, dtype))}
                    for o in others:
                        b[o] = [i] * 32
                    yield b

        return _Null()


def make_null_loader(args):
    import torch.utils.data
    kw = {"persistent_workers": True} if args.workers > 0 else {}
    return torch.utils.data.DataLoader(NullBatches(args.set), batch_size=None, num_workers=args.workers, **kw)


def pass_torch(args, loader):
    array_field = SETS[args.set][1]
    n = 0
    sink = 0
    for b in loader:
        sink += b[array_field].shape[0]
        n += len(b["label"])
    return n


# ------------------------------------------------------------------ the timing


def busy_seconds():
    """CPU seconds the whole machine has spent busy so far (all processes,
    all cores; /proc/stat), so that DataLoader workers are counted too."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed(fn, reps):
    """(samples, [(wall s, process CPU s, machine busy CPU s)] per rep)."""
    fn()  # warm-up: page cache, first-use costs, DataLoader workers
    times = []
    samples = None
    for _ in range(reps):
        b0 = busy_seconds()
        c0 = time.process_time()
        t0 = time.perf_counter()
        samples = fn()
        t1 = time.perf_counter()
        times.append((t1 - t0, time.process_time() - c0, busy_seconds() - b0))
    return samples, times


def alloc_report(args):
    """Not timed: what a full cpp pass allocates on the Python side, and what
    a batch holds. numpy traces the data of arrays it allocates itself in
    tracemalloc (its own domain), so per-sample np.load/np.stack shows up
    there; the pipeline's buffers are C++'s and are not traced."""
    import tracemalloc

    ds = make_dataset(args)
    array_field = SETS[args.set][1]
    first = next(iter(ds.ordered(batch_size=32)))
    arr = getattr(first, array_field)
    info = {
        "array_type": type(arr).__name__,
        "array_shape": list(arr.shape),
        "array_owndata": bool(arr.flags.owndata),
        "array_base": type(arr.base).__name__,
        "label_type": type(first.label).__name__,
        "label_item_type": type(first.label[0]).__name__,
    }
    del first, arr
    numpy_domain = np.lib.tracemalloc_domain
    tracemalloc.start()
    n = 0
    batches = 0
    numpy_peak = 0
    for b in ds.ordered(batch_size=32):
        getattr(b, array_field)
        b.label
        for name in SETS[args.set][2]:
            getattr(b, name)
        n += len(b)
        batches += 1
        if batches % 50 == 1:  # numpy-owned bytes alive, sampled
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, numpy_domain)])
            numpy_peak = max(numpy_peak, sum(s.size for s in snap.statistics("filename")))
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # The same measure for the plain reader over one shard, for contrast.
    tracemalloc.start()
    plain_numpy_peak = 0
    pb = 0
    for b in plain_batches(set_files(args.set)[:1], SAMPLE_TYPES[args.set]):
        pb += 1
        if pb % 50 == 1:
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, numpy_domain)])
            plain_numpy_peak = max(plain_numpy_peak, sum(s.size for s in snap.statistics("filename")))
    _, plain_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    info.update(samples=n, batches=batches, traced_peak_bytes=peak, traced_current_bytes=current,
                numpy_owned_bytes_sampled_max=numpy_peak, plain_one_shard_traced_peak_bytes=plain_peak,
                plain_one_shard_numpy_owned_bytes_sampled_max=plain_numpy_peak)
    print(f"alloc {args.set}: {n} samples in {batches} batches; {array_field}: {info['array_type']} "
          f"{info['array_shape']} owndata={info['array_owndata']} base={info['array_base']}; "
          f"label: {info['label_type']} of {info['label_item_type']}; tracemalloc peak over the pass "
          f"{peak / 1024:.0f} KiB, numpy-owned array data alive (sampled) {numpy_peak} B; "
          f"plain reader, one shard: peak {plain_peak / 1024:.0f} KiB, numpy-owned {plain_numpy_peak} B")
    print("RESULT " + json.dumps({"mode": "alloc", "set": args.set, **info}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("plain", "cpp", "torch", "torchnull", "alloc"))
    p.add_argument("--set", choices=tuple(SETS), required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--decode-threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=1, help="DataLoader num_workers (torch mode)")
    p.add_argument("--profile", metavar="FILE", help="cProfile one extra pass into FILE (not timed)")
    args = p.parse_args()

    if args.mode == "alloc":
        alloc_report(args)
        return

    files = set_files(args.set)
    nbytes = sum(os.path.getsize(f) for f in files)
    if args.mode == "plain":
        fn = lambda: pass_plain(args)  # noqa: E731
        label = "plain"
    elif args.mode == "cpp":
        ds = make_dataset(args)
        fn = lambda: pass_cpp(args, ds)  # noqa: E731
        label = f"cpp decode_threads={args.decode_threads}"
    elif args.mode == "torch":
        loader = make_torch_loader(args)
        fn = lambda: pass_torch(args, loader)  # noqa: E731
        label = f"torch workers={args.workers} decode_threads={args.decode_threads}"
    else:
        loader = make_null_loader(args)
        fn = lambda: pass_torch(args, loader)  # noqa: E731
        label = f"torchnull workers={args.workers}"

    samples, times = timed(fn, args.reps)
    wall, cpu, busy = min(times)
    out = {
        "mode": args.mode, "set": args.set, "decode_threads": args.decode_threads,
        "workers": args.workers if args.mode.startswith("torch") else None,
        "samples": samples, "bytes": nbytes, "reps": args.reps,
        "wall_s": [round(t[0], 4) for t in times], "process_cpu_s": [round(t[1], 4) for t in times],
        "machine_busy_s": [round(t[2], 3) for t in times], "cores_busy": busy / wall,
        "best_s": wall, "median_s": sorted(t[0] for t in times)[len(times) // 2], "samples_per_s": samples / wall, "gb_per_s": nbytes / wall / 1e9,
        "loadavg": open("/proc/loadavg").read().split()[:3],
    }
    print(f"{label:<40} {args.set:<8} {samples} samples, best {wall * 1e3:8.1f} ms/pass "
          f"(of {', '.join(f'{t[0] * 1e3:.0f}' for t in times)}): {samples / wall:12,.0f} samples/s "
          f"{nbytes / wall / 1e9:6.3f} GB/s; process CPU {cpu * 1e3:.0f} ms, "
          f"machine {busy / wall:.2f} cores busy", flush=True)
    print("RESULT " + json.dumps(out), flush=True)

    if args.profile:
        import cProfile
        cProfile.runctx("fn()", globals(), {"fn": fn}, args.profile)


if __name__ == "__main__":
    main()
