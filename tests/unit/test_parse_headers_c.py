"""The compiled build's header-block reader in C does what its Python reference forms do."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounced.parse import mime


def _native() -> ModuleType:
    try:
        return importlib.import_module("bounced.parse._headers")
    except ImportError:
        if os.environ.get("BOUNCED_EXPECT_COMPILED") == "1":
            raise
        pytest.skip("the pure Python build has no C header reader (.ci/run tests the compiled one)")


# Pieces that make header blocks and the texts around them, with the cases that matter: folds,
# blanks before colons, names at and over the length limits, mbox separators, blank lines,
# white space that is not ASCII, letters whose lower case is longer, stray bytes.
PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        " ",
        "\t",
        ":",
        ": ",
        "a",
        "B",
        "-",
        "x",
        "Subject",
        "content-TYPE",
        "Content-Type",
        "From ",
        "Received",
        "é",
        "İ",
        "\u00a0",
        "\u2028",
        "\x0b",
        "\x1c",
        "\udc80",
        "\U0001f600",
        "n" * 79,
        "n" * 80,
        "n" * 81,
        "m" * 199,
        "m" * 200,
        "m" * 201,
        "       ",
        "        ",
    ]
)
TEXTS = st.lists(PIECES, max_size=40).map("".join)
NAMES = st.sampled_from(["content-type", "subject", "received", "x", "from", "é", "b"])


@settings(max_examples=600, deadline=None)
@given(text=TEXTS, data=st.data())
def test_split_header_block(text: str, data: st.DataObject) -> None:
    """The same block and body start, from any start within the text."""
    start = data.draw(st.integers(0, len(text)))
    native = _native()
    assert native.split_header_block(text, start) == mime._py_split_header_block(text, start)
    assert native.split_header_block(text) == mime._py_split_header_block(text)


@settings(max_examples=600, deadline=None)
@given(block=TEXTS)
def test_fields_and_index(block: str) -> None:
    """The same fields, in the same order, and the same index by name."""
    native = _native()
    assert native.fields(block) == mime._py_fields(block)
    assert native.index_fields(block) == mime._py_index_fields(block)


@settings(max_examples=600, deadline=None)
@given(block=TEXTS, name=NAMES)
def test_field_value(block: str, name: str) -> None:
    """The same value for any name, found or not."""
    assert _native().field_value(block, name) == mime._py_field_value(block, name)


def test_real_header_block() -> None:
    """A folded block as messages have them reads the same both ways."""
    text = (
        "From bounce@example.net  Mon Jan  1 00:00:00 2024\n"
        "Received: from mx.example.net (mx.example.net [192.0.2.1])\n"
        "\tby relay.example.org with ESMTP id 1234\n"
        "\tfor <bob@example.org>; Mon, 1 Jan 2024 00:00:00 +0000\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        '    boundary="b"\n'
        "Subject: =?utf-8?q?Undelivered?=\n"
        "X-Long-Name-" + "n" * 100 + ": over the limit\n"
        "\n"
        "body\n"
    )
    native = _native()
    assert native.split_header_block(text) == mime._py_split_header_block(text)
    block, _ = native.split_header_block(text)
    assert native.fields(block) == mime._py_fields(block)
    assert native.field_value(block, "content-type") == (
        'multipart/report; report-type=delivery-status; boundary="b"'
    )


def test_wrong_arguments_are_errors() -> None:
    """Wrong types and a start outside the text raise, as Python functions would."""
    native = _native()
    with pytest.raises(TypeError):
        native.fields(b"Subject: x")
    with pytest.raises(TypeError):
        native.field_value("Subject: x")
    with pytest.raises(ValueError, match="start"):
        native.split_header_block("Subject: x", 99)
    with pytest.raises(ValueError, match="start"):
        native.split_header_block("Subject: x", -1)


def test_mime_uses_the_c_reader_when_built() -> None:
    """When the build has the C reader, the parser reads with it."""
    native = _native()
    assert mime.split_header_block is native.split_header_block
    assert mime._fields is native.fields
    assert mime._index_fields is native.index_fields
    assert mime._field_value is native.field_value
