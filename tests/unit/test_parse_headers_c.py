"""The C forms of the compiled build (bounced/parse/_headers.c) do what their Python forms do."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounced.parse import fields, mime


def _native() -> ModuleType:
    try:
        return importlib.import_module("bounced.parse._headers")
    except ImportError:
        if os.environ.get("BOUNCED_EXPECT_COMPILED") == "1":
            raise
        pytest.skip("the pure Python build has no C forms (.ci/run tests the compiled one)")


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


# Pieces of structured field values: parameters, quotes and escapes, names and runs at and over
# the bounds of mime._PARAM, white space that is not ASCII, a backslash before a line end.
PARAM_PIECES = st.sampled_from(
    [
        ";",
        "; ",
        "=",
        " = ",
        '"',
        "\\",
        '\\"',
        "\\\n",
        "\n",
        " ",
        "\t",
        "\u00a0",
        "\u3000",
        "\x85",
        "*",
        "-",
        ".",
        "a",
        "B",
        "charset",
        "boundary",
        "Text/Plain",
        "İ",
        "é",
        "\U0001f600",
        "n" * 78,
        "n" * 79,
        "v" * 1999,
        "v" * 2000,
        "v" * 2001,
    ]
)
PARAM_TEXTS = st.lists(PARAM_PIECES, max_size=30).map("".join)


@settings(max_examples=1500, deadline=None)
@given(value=PARAM_TEXTS)
def test_parse_params(value: str) -> None:
    """The same value and parameters, the first of each name, as the pattern reads them."""
    assert _native().parse_params(value) == mime._py_parse_params(value)


@pytest.mark.parametrize(
    "value",
    [
        'multipart/report; report-type=delivery-status;\n\tboundary="b=_1;2"',
        'text/plain; charset="us-ascii"; format=flowed; CHARSET=x',
        'text/plain; name="a\\"b\\\\"; x*=y; x=z',
        'message/rfc822; name="unterminated; next=1',
        "text/plain;; ;=; a =  ; b= c d",
        'a; n="' + "\\x" * 21 + '"; m="' + "\\x" * 20 + '"',
        "; " + "n" * 79 + "=long; " + "n" * 78 + "=ok",
        'a; n="' + "v" * 2000 + '"; m="' + "v" * 2001 + '"',
        # the escape takes the first "v": the run after it is 2,001 long, then 2,000
        'a; n="x\\' + "v" * 2002 + '"; m="x\\' + "v" * 2001 + '"',
        "a; n=" + "v" * 2001 + ";m=" + "v" * 2000,
        'a; n="x\\\ny"; m="x\\"',
    ],
)
def test_parse_params_examples(value: str) -> None:
    """Real and awkward Content-Type values read the same both ways."""
    assert _native().parse_params(value) == mime._py_parse_params(value)


@settings(max_examples=800, deadline=None)
@given(text=st.one_of(TEXTS, PARAM_TEXTS, st.text(max_size=60)))
def test_collapse(text: str) -> None:
    """The same words, one space between them, on any text, in the same (narrowest) form."""
    collapsed, expected = _native().collapse(text), fields._py_collapse(text)
    assert collapsed == expected
    assert collapsed.isascii() == expected.isascii()


def test_collapse_keeps_a_collapsed_text_and_narrows_a_wide_one() -> None:
    """A text with nothing to collapse comes back as it is; one whose only wide characters are
    white space comes back in the narrow form Python gives it."""
    native = _native()
    text = "550 5.1.1 user unknown"
    assert native.collapse(text) is text
    wide = native.collapse("\u3000550\u2028user\u3000")
    assert wide == "550 user"
    assert wide.isascii()


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
    assert mime.parse_params is native.parse_params
    assert fields.collapse is native.collapse
