"""Dataset, its loaders and SampleBatch: Python atdata's reading API over the
C++ pipeline."""

import dataclasses
import random
import types

from . import _atdata_cpp
from . import _schema

__all__ = ["Dataset", "SampleBatch", "Loader", "packable"]


def packable(cls):
    """Python atdata's ``@packable``: the class as a dataclass sample type."""
    if not dataclasses.is_dataclass(cls):
        cls = dataclasses.dataclass(cls)
    return cls


class SampleBatch:
    """A batch as Python atdata's ``SampleBatch``: ``batch.<field>`` is the
    field of every sample, arrays stacked into one numpy array (a view of the
    C++ batch's buffer, which the array keeps alive) and other values in a
    list. Each field is built on first access and cached."""

    __slots__ = ("_batch", "_cache", "_make", "sample_type")
    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(self, batch, sample_type=None, make_sample=None):
        self._batch = batch
        self._cache = {}
        self._make = make_sample
        self.sample_type = sample_type

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        cache = self._cache
        value = cache.get(name)
        if value is None:
            if not self._batch.has_field(name):
                raise AttributeError(f"No sample attribute named {name}")
            value = cache[name] = self._batch.field(name)
        return value

    def __len__(self):
        return len(self._batch)

    @property
    def field_names(self):
        return self._batch.field_names

    @property
    def samples(self):
        """The samples, as objects of the sample type (dicts when schemaless)."""
        make = self._make or (lambda d: d)
        return [make(self._batch.sample(i)) for i in range(len(self._batch))]

    def __repr__(self):
        name = getattr(self.sample_type, "__name__", "dict")
        return f"SampleBatch[{name}]({len(self)} samples: {', '.join(self.field_names)})"


class Loader:
    """One pass over a dataset: iterate it for batches (or samples). ``state``
    is where to resume after the last item returned; ``stats`` is the
    pipeline's progress."""

    __slots__ = ("_loader", "_wrap")

    def __init__(self, loader, wrap):
        self._loader = loader
        self._wrap = wrap

    def __iter__(self):
        return self

    def __next__(self):
        item = self._loader.next()
        if item is None:
            raise StopIteration
        return self._wrap(item)

    @property
    def state(self):
        return self._loader.state

    @property
    def stats(self):
        return self._loader.stats

    @property
    def shards(self):
        return self._loader.shards


class Dataset:
    """A WebDataset of packed samples, read by the C++ pipeline.

    ``Dataset(url, sample_type=T)`` or ``Dataset[T](url)`` as in Python
    atdata. ``sample_type`` is a dataclass with atdata's annotations, a
    published schema record (dict), a :class:`Schema`, or None (schemaless:
    samples are dicts). Construction does no I/O.

    Pipeline keywords: ``shards_in_flight`` (4), ``read_ahead_bytes`` (16 MiB
    per shard), ``queue_depth`` (4 items), ``decode_threads`` (1),
    ``max_retries`` (3), ``skip_bad_shards`` (False), ``cache_dir`` (None: no
    local cache of remote shards) and ``cache_max_bytes`` (0: unbounded).
    ``rank``/``world_size`` split the shards between processes.
    """

    _typed = {}

    def __class_getitem__(cls, sample_type):
        sub = cls._typed.get(sample_type)
        if sub is None:
            name = getattr(sample_type, "__name__", "schema")
            sub = type(f"Dataset[{name}]", (cls,), {"_default_sample_type": sample_type})
            cls._typed[sample_type] = sub
        return sub

    _default_sample_type = None

    def __init__(self, url, sample_type=None, *, metadata_url=None, rank=0, world_size=1,
                 shards_in_flight=4, read_ahead_bytes=16 << 20, queue_depth=4, decode_threads=1,
                 max_retries=3, skip_bad_shards=False, cache_dir=None, cache_max_bytes=0):
        if sample_type is None:
            sample_type = self._default_sample_type
        self._schema, self._sample_type = _schema.resolve(sample_type)
        self.url = url
        self.metadata_url = metadata_url
        self._ds = _atdata_cpp._Dataset(
            str(url), self._schema, rank, world_size, shards_in_flight, read_ahead_bytes, queue_depth,
            decode_threads, max_retries, skip_bad_shards,
            None if cache_dir is None else str(cache_dir), cache_max_bytes, metadata_url)

    @classmethod
    def _wrap(cls, cpp_dataset, schema, sample_class, url):
        """A Dataset over an already configured C++ dataset (AtmosphereIndex.load_dataset)."""
        ds = cls.__new__(cls)
        ds._schema, ds._sample_type = schema, sample_class
        ds.url, ds.metadata_url, ds._ds = url, None, cpp_dataset
        return ds

    @property
    def sample_type(self):
        return self._sample_type

    @property
    def schema(self):
        return self._schema

    @property
    def batch_type(self):
        return SampleBatch[self._sample_type]

    def list_shards(self):
        """The fully expanded shard URLs (all ranks)."""
        return self._ds.list_shards()

    @property
    def shard_list(self):
        return self._ds.list_shards()

    @property
    def metadata(self):
        """The msgpack map at ``metadata_url``, fetched once (the C++ dataset caches it); None without one."""
        return self._ds.metadata()

    def _make_sample(self):
        cls = self._sample_type
        if cls is None:
            return lambda d: d
        return lambda d: cls(**d)

    def _loader(self, cpp_loader, batched):
        make = self._make_sample()
        if batched:
            st = self._sample_type
            return Loader(cpp_loader, lambda b: SampleBatch(b, st, make))
        return Loader(cpp_loader, make)

    def ordered(self, batch_size=1, *, resume=None):
        """In shard order; ``batch_size=None`` yields samples, an int yields
        SampleBatches (the last one may be smaller)."""
        return self._loader(self._ds.ordered(batch_size, resume), batch_size is not None)

    def shuffled(self, buffer_shards=100, buffer_samples=10000, batch_size=1, *, seed=None, epoch=0,
                 resume=None):
        """Buffered shard and sample shuffle (webdataset's algorithm),
        reproducible for a given (seed, epoch); seed None draws one."""
        if seed is None:
            seed = random.getrandbits(63)
        return self._loader(
            self._ds.shuffled(buffer_shards, buffer_samples, seed, epoch, batch_size, resume),
            batch_size is not None)

    def __repr__(self):
        name = getattr(self._sample_type, "__name__", "dict")
        return f"Dataset[{name}]({self.url!r})"
