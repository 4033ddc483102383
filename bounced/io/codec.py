"""JSON encoding of bounced's values with orjson.

Dataclasses become objects of their fields, enums their values, tuples arrays; `Headers`
becomes an array of ``[name, value]`` pairs, which keeps order and repeated fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from bounced.model import Headers

_FIELDS: dict[type, tuple[str, ...]] = {}


def _default(value: Any) -> Any:
    if isinstance(value, Headers):
        return [list(pair) for pair in value.fields]
    cls = type(value)
    names = _FIELDS.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(value):
            raise TypeError(f"cannot encode {cls.__name__}")
        names = tuple(f.name for f in dataclasses.fields(value))
        _FIELDS[cls] = names
    return {name: getattr(value, name) for name in names}


def encode_event(value: Any) -> bytes:
    """Encode an output event: orjson's own dataclass support, the fast path of the daemon."""
    return orjson.dumps(value)


def dumps(value: Any) -> bytes:
    """Encode a value (dataclasses, enums, tuples, dicts) as compact JSON bytes."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATACLASS)


def to_plain(value: Any) -> Any:
    """The JSON-compatible form of a value (dataclasses to dicts), e.g. for schema validation."""
    return orjson.loads(dumps(value))


def loads(data: bytes | str) -> Any:
    """Decode JSON."""
    return orjson.loads(data)
