"""The ATProto side: Python atdata's ``atmosphere`` module over the C++ client.

    from atdata_cpp.atmosphere import AtmosphereClient, AtmosphereIndex

    client = AtmosphereClient(base_url="https://bsky.social")
    client.login("alice.example.com", app_password)
    index = AtmosphereIndex(client)
    schema_uri = index.publish_schema(MySample, version="1.0.0")
    entry = index.insert_dataset(dataset, name="my-data", schema_ref=schema_uri)
    ds = index.load_dataset(entry["uri"], MySample)

Every call blocks the calling thread (not the interpreter: the GIL is
released during network I/O). Errors are atdata_cpp.errors classes: XrpcError
carries the XRPC ``error`` name and ``message``, AuthError means not logged
in or refused credentials.
"""

from . import _atdata_cpp
from . import _schema
from .dataset import Dataset

__all__ = ["AtmosphereClient", "AtmosphereIndex"]


class AtmosphereClient:
    """A session with a PDS (``base_url``, default https://bsky.social).
    ``plc_url`` is the PLC directory DIDs resolve through (default: the
    ATDATA_PLC_URL environment variable, else https://plc.directory)."""

    def __init__(self, base_url="https://bsky.social", plc_url=None):
        self.base_url = base_url
        self._c = _atdata_cpp._Client(base_url, plc_url or "")

    def login(self, identifier, password):
        """Create a session with a handle (or DID) and an app password."""
        self._c.login(identifier, password)

    def export_session(self):
        """The session as a string to store and pass to :meth:`login_with_session`."""
        return self._c.export_session()

    def login_with_session(self, session):
        """Resume an exported session (refreshing it if its access token expired)."""
        self._c.login_with_session(session)

    def logout(self):
        self._c.logout()

    @property
    def is_authenticated(self):
        return self._c.is_authenticated

    @property
    def did(self):
        return self._c.did

    @property
    def handle(self):
        return self._c.handle

    @property
    def service_url(self):
        return self._c.service_url

    def get_record(self, repo, collection, rkey):
        """{"uri", "cid", "value"} of one record."""
        return self._c.get_record(repo, collection, rkey)


def _schema_of(sample_type):
    schema, _ = _schema.resolve(sample_type)
    return schema


class AtmosphereIndex:
    """Datasets and schemas as ``ac.foundation.dataset.*`` records, as Python
    atdata's AtmosphereIndex. Entries are dicts: ``uri``, ``name``,
    ``schema_ref``, ``data_urls``, ``metadata`` and the full ``record``."""

    def __init__(self, client):
        self.client = client
        self._c = client._c

    def publish_schema(self, sample_type, version="1.0.0", description="", metadata=None):
        """Publish a sample type's schema; returns the record's AT-URI."""
        return self._c.publish_schema(_schema_of(sample_type), version, description, metadata)

    def insert_dataset(self, dataset, *, name, schema_ref=None, description="", tags=(), license="",
                       metadata=None, metadata_url=None):
        """A dataset record over the dataset's URL (or a list of URLs), stored
        verbatim. Without ``schema_ref`` the sample type's schema is published
        first."""
        if isinstance(dataset, Dataset):
            urls, schema = [str(dataset.url)], dataset.schema
            metadata_url = metadata_url or dataset.metadata_url
        else:
            urls, schema = [dataset] if isinstance(dataset, str) else list(dataset), None
        if not schema_ref and schema is None:
            raise ValueError("insert_dataset needs schema_ref, or a Dataset with a sample type to publish")
        return self._c.insert_dataset(urls, None if schema_ref else schema, name, schema_ref or "", description,
                                      list(tags), license, metadata, metadata_url or "")

    def publish_with_blobs(self, shard_paths, *, schema_ref, name, description="", tags=(), license="",
                           metadata=None):
        """Upload shard files as blobs and publish a record listing them; returns its AT-URI."""
        return self._c.publish_with_blobs([str(p) for p in shard_paths], schema_ref, name, description,
                                          list(tags), license, metadata)

    def get_dataset(self, uri):
        return self._c.get_dataset(str(uri))

    def list_datasets(self, repo=""):
        """Every dataset record of ``repo`` (a DID or handle; empty = own)."""
        return self._c.list_datasets(repo)

    def get_schema(self, uri):
        """The schema record (a dict)."""
        return self._c.get_schema(str(uri))

    def list_schemas(self, repo=""):
        """[{"uri", "cid", "record"}] of ``repo``'s schemas."""
        return self._c.list_schemas(repo)

    def decode_schema(self, uri):
        """The published schema as a Python sample type (a dataclass)."""
        return _schema.type_of(self._c.decode_schema(str(uri)))

    def shard_urls(self, uri):
        """The URLs a dataset record's shards are read from (blobs: getBlob URLs)."""
        return self._c.shard_urls(str(uri))

    def load_dataset(self, uri, sample_type=None):
        """A Dataset over the record's shards, samples typed by ``sample_type``
        (default: the record's published schema decoded)."""
        if sample_type is None:
            sample_type = self.decode_schema(self.get_dataset(uri)["schema_ref"])
        schema, cls = _schema.resolve(sample_type)
        return Dataset._wrap(self._c.load_dataset(str(uri), schema), schema, cls, str(uri))
