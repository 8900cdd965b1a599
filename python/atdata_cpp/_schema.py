"""Sample types: Python dataclasses <-> the library's run-time schemas."""

import dataclasses
import sys
import types
import typing

import numpy as np

from . import _atdata_cpp
from .errors import TypeError as _TypeError

_PRIMITIVES = {str: "str", int: "int", float: "float", bool: "bool", bytes: "bytes"}
_FROM_PRIMITIVE = {v: k for k, v in _PRIMITIVES.items()}


def _split_optional(tp):
    origin = typing.get_origin(tp)
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


def _ndarray_dtype(tp):
    # NDArray[np.float32] is np.ndarray[Any, np.dtype[np.float32]].
    args = typing.get_args(tp)
    if len(args) == 2:
        dt_args = typing.get_args(args[1])
        if dt_args and isinstance(dt_args[0], type) and issubclass(dt_args[0], np.generic):
            return np.dtype(dt_args[0]).name
    return None


def _field_type(tp, where):
    if tp in _PRIMITIVES:
        return _PRIMITIVES[tp]
    if tp is np.ndarray or typing.get_origin(tp) is np.ndarray:
        return ("ndarray", _ndarray_dtype(tp))
    origin = typing.get_origin(tp)
    if origin in (list, typing.List):
        args = typing.get_args(tp)
        return ("list", _field_type(args[0], where) if args else None)
    if tp is list:
        return ("list", None)
    if tp is typing.Any:
        return "any"
    raise _TypeError(f"Unsupported type for schema field: {where} ({tp!r})")


def schema_of(sample_type, version="1.0.0"):
    """The run-time schema of a dataclass with atdata's field annotations
    (``NDArray``, ``NDArray | None``, ``str``, ``int``, ``float``, ``bool``,
    ``bytes``, ``list[str]``, optionals). Python atdata's ``@packable``
    classes are such dataclasses."""
    if not dataclasses.is_dataclass(sample_type):
        raise _TypeError(f"{sample_type!r} is not a dataclass (decorate it with @dataclass or @packable)")
    hints = typing.get_type_hints(sample_type)
    fields = []
    for f in dataclasses.fields(sample_type):
        tp, optional = _split_optional(hints.get(f.name, f.type))
        fields.append((f.name, _field_type(tp, f.name), optional))
    return _atdata_cpp.Schema(sample_type.__name__, fields, version)


def _annotation(t):
    if isinstance(t, str):
        if t == "any":
            return typing.Any
        return _FROM_PRIMITIVE[t]
    if t[0] == "ndarray":
        return np.ndarray
    return list if t[1] is None else list[_annotation(t[1])]


def type_of(schema):
    """A dataclass for a run-time schema (what ``decode_schema`` returns).
    Fields are keyword-only; optional ones default to None."""
    fields = []
    for name, t, optional in schema.fields:
        ann = _annotation(t)
        if optional:
            fields.append((name, typing.Optional[ann], dataclasses.field(default=None)))
        else:
            fields.append((name, ann))
    cls = dataclasses.make_dataclass(schema.name, fields, kw_only=True)
    cls.__atdata_schema__ = schema
    return cls


def resolve(sample_type):
    """(schema or None, the Python type samples are built as, or None for dicts)."""
    if sample_type is None:
        return None, None
    if isinstance(sample_type, _atdata_cpp.Schema):
        return sample_type, type_of(sample_type)
    if isinstance(sample_type, dict):
        schema = _atdata_cpp.Schema.from_record(sample_type.get("value", sample_type))
        return schema, type_of(schema)
    cached = sample_type.__dict__.get("__atdata_schema__") if isinstance(sample_type, type) else None
    return (cached or schema_of(sample_type)), sample_type
