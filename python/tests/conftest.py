"""Shared helpers: shards written here the way Python atdata writes them
(one '<key>.msgpack' member per sample: a msgpack map of the fields in
declaration order, ndarrays as bin holding .npy bytes)."""

import io
import os
import pathlib
import tarfile

import msgpack
import numpy as np
import pytest

DATA = pathlib.Path(os.environ.get("ATDATA_TEST_DATA", pathlib.Path(__file__).parents[2] / "tests" / "data")).resolve()


def npy_bytes(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


def pack_sample(fields):
    return msgpack.packb({k: npy_bytes(v) if isinstance(v, np.ndarray) else v for k, v in fields.items()},
                         use_bin_type=True)


def write_shard(path, samples):
    """samples: [(key, {field: value})]."""
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for key, fields in samples:
            data = pack_sample(fields)
            info = tarfile.TarInfo(f"{key}.msgpack")
            info.size = len(data)
            info.mode = 0o444
            tar.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.fixture
def data_dir():
    return DATA
