"""atdata_cpp: Python atdata's datasets, read by the atdata-cpp pipeline.

    import atdata_cpp as atdata

    ds = atdata.Dataset[MySample]("data/train-{000000..000099}.tar")
    for batch in ds.ordered(batch_size=32):
        batch.image      # numpy array (32, ...), a view of the C++ batch
        batch.label      # list of 32 ints
"""

from . import errors
from ._atdata_cpp import Catalogue, Schema
from ._schema import schema_of, type_of
from .dataset import Dataset, Loader, SampleBatch, packable
from .errors import Error

__all__ = ["Catalogue", "Dataset", "Loader", "SampleBatch", "Schema", "packable", "schema_of", "type_of", "errors", "Error"]
__version__ = "0.1.0"
