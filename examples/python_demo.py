"""The demo's Python step: the same shards read through atdata_cpp, in
batches of 32, then through a PyTorch DataLoader with two workers.

    PYTHONPATH=build/python /usr/bin/python3 examples/python_demo.py URL
"""

import sys
import time

from numpy.typing import NDArray

import atdata_cpp as atdata


@atdata.packable
class FeatureSample:
    features: NDArray
    label: int
    source: str


def main(url):
    ds = atdata.Dataset[FeatureSample](url, shards_in_flight=4)
    t0 = time.perf_counter()
    samples = batches = 0
    for batch in ds.ordered(batch_size=32):
        assert batch.features.shape[1:] == (128,)
        samples += len(batch)
        batches += 1
    dt = time.perf_counter() - t0
    print(f"python: {samples} samples in {batches} batches of 32 from {len(ds.list_shards())} shards, "
          f"{samples / dt:,.0f} samples/s; batch.features is numpy {batch.features.shape} {batch.features.dtype}")
    try:
        import torch
        from atdata_cpp.torch import IterableDataset
    except ImportError:
        print("python: torch not installed; skipping the DataLoader")
        return
    loader = torch.utils.data.DataLoader(IterableDataset(url, FeatureSample, batch_size=32),
                                         batch_size=None, num_workers=2)
    n = sum(len(b["label"]) for b in loader)
    print(f"torch:  DataLoader(num_workers=2) yielded {n} samples exactly once, as tensors")


if __name__ == "__main__":
    main(sys.argv[1])
