import dataclasses

import numpy as np
import pytest
from numpy.typing import NDArray

torch = pytest.importorskip("torch")

import atdata_cpp as atdata  # noqa: E402
from atdata_cpp.torch import IterableDataset, split_of  # noqa: E402
from conftest import write_shard  # noqa: E402


@dataclasses.dataclass
class Item:
    x: NDArray
    idx: int
    name: str


SHARDS, PER_SHARD = 16, 25


@pytest.fixture
def url(tmp_path):
    for s in range(SHARDS):
        write_shard(tmp_path / f"t-{s:06d}.tar",
                    [(f"k{s}-{i}", {"x": np.full(4, s * PER_SHARD + i, dtype="<f4"), "idx": s * PER_SHARD + i,
                                    "name": f"n{s}"}) for i in range(PER_SHARD)])
    return str(tmp_path / "t-{000000..000015}.tar")


ALL = list(range(SHARDS * PER_SHARD))


def test_two_workers_yield_every_sample_once(url):
    loader = torch.utils.data.DataLoader(IterableDataset(url, Item, batch_size=None), num_workers=2, batch_size=None)
    got = []
    for s in loader:
        assert isinstance(s["x"], torch.Tensor) and s["x"].dtype == torch.float32
        assert int(s["x"][0]) == s["idx"]
        got.append(s["idx"])
    assert sorted(got) == ALL


def test_batches_as_tensors_with_workers_and_pin_memory(url):
    ds = IterableDataset(url, Item, batch_size=8, shuffle=True, seed=3)
    loader = torch.utils.data.DataLoader(ds, num_workers=2, batch_size=None, pin_memory=torch.cuda.is_available())
    got = []
    for b in loader:
        assert b["x"].shape[1:] == (4,) and b["x"].shape[0] <= 8
        assert b["x"][:, 0].long().tolist() == b["idx"]
        got += b["idx"]
    assert sorted(got) == ALL


def test_rank_split_world_size_two(url, monkeypatch):
    per_rank = []
    for rank in range(2):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        assert split_of() == (rank, 2)
        loader = torch.utils.data.DataLoader(IterableDataset(url, Item, batch_size=None), num_workers=2,
                                             batch_size=None)
        per_rank.append([s["idx"] for s in loader])
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == ALL
    # rank r, worker w reads shards r*2 + w, + 4, ...: rank 0 has shards 0, 1, 4, 5, ...
    assert {i // PER_SHARD for i in per_rank[0]} == {s for s in range(SHARDS) if s % 4 in (0, 1)}


def test_tensors_share_the_batch_buffer(url):
    b = next(iter(atdata.Dataset[Item](url).ordered(batch_size=16)))
    t = torch.from_numpy(b.x)
    assert t.data_ptr() == b._batch._buffer("x")[0]
    from atdata_cpp.torch import _batch_to_torch

    assert _batch_to_torch(b)["x"].data_ptr() == t.data_ptr()
