"""The C forms of a few of the parser's functions, in the compiled build.

The compiled build adds a small C module, `bounced/parse/_headers.c`, with the functions whose
Python forms make many short-lived strings per call: reading header blocks
(`mime._py_split_header_block`, `_py_fields`, `_py_index_fields`, `_py_field_value`), splitting
a structured field into its parameters (`mime._py_parse_params`) and collapsing white space
(`fields._py_collapse`). The Python forms stay the reference: the pure build runs them, and
tests/unit/test_parse_headers_c.py checks that both forms give the same results on any text.
`native` picks the form this build has.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., object])


def native(name: str, reference: _F) -> _F:
    """The C form of `reference` when this build has the C module, else `reference` itself."""
    try:
        module = importlib.import_module("bounced.parse._headers")
    except ImportError:
        return reference
    return cast(_F, getattr(module, name))
