"""Exceptions raised by atdata_cpp.

Every error of the C++ library arrives as a subclass of :class:`Error`, with
the same fields as its C++ type (shard URL and byte offset, sample key, field,
XRPC error name and message, ...). Where a built-in exception has the same
meaning, the class derives from it as well, so ``except ValueError`` and
``except TypeError`` keep working in code written for Python atdata.
"""

import builtins

__all__ = [
    "Error", "DecodeError", "SchemaError", "SampleError", "TypeError", "InvalidArgument",
    "ShardError", "NetworkError", "HttpError", "S3Error", "DidResolutionError", "XrpcError",
    "VerifyError", "AuthError", "RecordError", "StreamError", "CatalogueError", "NotFound",
    "LocalIndexError", "RedisError",
]


class Error(Exception):
    """Base of every atdata_cpp error. ``str(e)`` is the full message."""

    def __init__(self, what, **fields):
        super().__init__(what)
        self.message = what
        for name, value in fields.items():
            setattr(self, name, value)


class DecodeError(Error, builtins.ValueError):
    """Bytes that do not decode (msgpack, .npy, tar, CBOR). ``field``, ``reason``, ``offset``."""


class SchemaError(Error, builtins.ValueError):
    """A value that does not fit the sample type. ``field``, ``reason``."""


class SampleError(SchemaError):
    """A sample that does not decode: ``url`` and ``offset`` of the shard, the sample ``key``,
    ``sample_type``, ``field`` and ``reason``."""


class TypeError(Error, builtins.TypeError):  # noqa: A001 - mirrors atdata::TypeError
    """A value of the wrong kind (for example an unsupported field annotation)."""


class InvalidArgument(Error, builtins.ValueError):
    """An argument out of range or malformed."""


class ShardError(Error):
    """A damaged or unreadable shard: ``url`` and byte ``offset``."""


class NetworkError(Error, builtins.OSError):
    """Connecting, TLS or a dropped connection."""


class HttpError(NetworkError):
    """A non-2xx answer: ``status`` and ``url``."""


class S3Error(HttpError):
    """An S3 error answer: ``status``, ``url`` and the S3 error ``code``."""


class DidResolutionError(Error):
    """A DID or handle that does not resolve: ``did``, ``resolver_url``, ``http_status``."""


class XrpcError(Error):
    """An XRPC error answer: ``status``, ``nsid``, ``error`` (e.g. ``RecordNotFound``), ``message``."""


class VerifyError(Error):
    """A signature, CID or MST check that failed: ``subject``, ``offset``."""


class AuthError(Error):
    """Not logged in, or the credentials were refused."""


class RecordError(Error, builtins.ValueError):
    """A record missing or mistyping a ``member``."""


class StreamError(Error):
    """An event-stream error frame: ``source``, ``error_name``, ``message``."""


class CatalogueError(Error):
    """The discovery catalogue's store failed: ``operation``, ``sqlite_message``, ``code``."""


class NotFound(Error, builtins.LookupError):
    """No dataset or schema by that reference: ``kind``, ``ref``."""


class LocalIndexError(Error):
    """The local index's store failed: ``operation``, ``backend``, ``code``."""


class RedisError(Error):
    """A Redis error reply or connection failure."""
