"""PyTorch: an IterableDataset over the C++ pipeline.

    from atdata_cpp.torch import IterableDataset
    loader = torch.utils.data.DataLoader(
        IterableDataset("data/train-{000000..000099}.tar", MySample, batch_size=32),
        batch_size=None, num_workers=4, pin_memory=True)
    for batch in loader:
        batch["image"]   # torch.Tensor (32, ...), no copy from the C++ batch
        batch["label"]   # list of 32 ints

Shards are split between DataLoader workers (``get_worker_info``) and
between DDP ranks (``torch.distributed`` when initialised, else the RANK and
WORLD_SIZE environment variables): worker w of rank r reads shards
``r * num_workers + w``, ``+ world_size * num_workers``, ... so every sample
is read once per epoch across all processes.
"""

import os

import numpy as np
import torch
import torch.utils.data

from .dataset import Dataset

__all__ = ["IterableDataset", "split_of"]


def split_of():
    """(index, count) of this process among all readers: DDP rank × DataLoader worker."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    elif "WORLD_SIZE" in os.environ:
        rank, world = int(os.environ.get("RANK", "0")), int(os.environ["WORLD_SIZE"])
    info = torch.utils.data.get_worker_info()
    wid, nworkers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * nworkers + wid, world * nworkers


def _batch_to_torch(batch):
    out = {}
    for name in batch.field_names:
        v = getattr(batch, name)
        # Stacked arrays are the batch's own, writable buffers: shared, not copied.
        out[name] = torch.from_numpy(v) if isinstance(v, np.ndarray) else v
    return out


def _sample_to_torch(sample):
    d = sample if isinstance(sample, dict) else vars(sample)
    # Per-sample arrays are read-only views of the shard (possibly a read-only
    # mapping): torch needs writable memory, so these are copied.
    return {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for k, v in d.items()}


class IterableDataset(torch.utils.data.IterableDataset):
    """Batches (``batch_size`` an int, default 32) or samples (None) of a
    dataset as dicts of tensors and lists. ``shuffle=True`` shuffles with
    ``seed`` and the epoch set by :meth:`set_epoch`. Other keywords go to
    :class:`atdata_cpp.Dataset` (pipeline options)."""

    def __init__(self, url, sample_type=None, *, batch_size=32, shuffle=False, seed=0,
                 buffer_shards=100, buffer_samples=10000, **dataset_options):
        super().__init__()
        self.url = url
        self.sample_type = sample_type
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.buffer_shards = buffer_shards
        self.buffer_samples = buffer_samples
        self.epoch = 0
        self.dataset_options = dataset_options

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        index, count = split_of()
        ds = Dataset(self.url, self.sample_type, rank=index, world_size=count, **self.dataset_options)
        if self.shuffle:
            it = ds.shuffled(self.buffer_shards, self.buffer_samples, self.batch_size, seed=self.seed,
                             epoch=self.epoch)
        else:
            it = ds.ordered(self.batch_size)
        convert = _batch_to_torch if self.batch_size is not None else _sample_to_torch
        for item in it:
            yield convert(item)
