"""The MIME reader: structure, decoding, tolerance of broken input, and its limits."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bounced.errors import LimitError, ParseError
from bounced.model import Headers
from bounced.parse import parse
from bounced.parse.message import Mail
from bounced.parse.mime import (
    Limits,
    _flow,
    decode_bytes,
    html_to_text,
    parse_header_block,
    parse_message,
    split_header_block,
)


def _nested(depth: int) -> bytes:
    text = "Content-Type: text/plain\n\nhello\n"
    for level in range(depth):
        text = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\n\n'
            f"--b{level}\n{text}--b{level}--\n"
        )
    return text.encode()


def test_limits_are_enforced_with_codes() -> None:
    """Each limit is refused with its own error code, and only as ParseError."""
    with pytest.raises(LimitError) as too_large:
        parse_message(b"Subject: x\n\n" + b"a" * 100, Limits(max_bytes=50))
    assert too_large.value.code == "too-large"
    with pytest.raises(LimitError) as too_deep:
        Mail(parse_message(_nested(6), Limits(max_depth=3))).parts  # noqa: B018
    assert too_deep.value.code == "mime-depth"
    many = "".join(f"X-H{i}: {i}\n" for i in range(30)).encode() + b"\nbody"
    with pytest.raises(LimitError) as headers:
        parse_message(many, Limits(max_headers=10)).headers  # noqa: B018
    assert headers.value.code == "too-many-headers"
    with pytest.raises(ParseError) as empty:
        parse(b"\r\n\r\n")
    assert empty.value.code == "empty"


def test_field_count_limit_holds_for_the_shortest_fields() -> None:
    """A block of three-character fields is refused at one over the limit, not before."""
    limits = Limits(max_headers=10)
    assert len(parse_header_block("\n".join(["a:"] * 10), limits).fields) == 10
    with pytest.raises(LimitError) as over:
        parse_header_block("\n".join(["a:"] * 11), limits)
    assert over.value.code == "too-many-headers"


def test_children_are_split_on_first_use() -> None:
    """A multipart's parts are found when asked for, with types read from each header."""
    root = parse_message(_nested(2))
    assert root.ctype == "multipart/mixed"
    (child,) = root.children
    (leaf,) = child.children
    assert leaf.ctype == "text/plain"
    assert leaf.text().strip() == "hello"


def test_broken_boundary_keeps_the_body_readable() -> None:
    """A multipart whose boundary never appears is read as text instead of lost."""
    root = parse_message(b'Content-Type: multipart/report; boundary="nope"\n\nFinal words\n')
    assert root.ctype == "text/plain"
    assert "Final words" in root.text()


@pytest.mark.parametrize(
    ("text", "block", "body_start"),
    [
        ("A: 1\nB: 2\n\nbody", "A: 1\nB: 2", 11),  # the blank line is skipped
        ("A: 1\n  folded\nB: 2\n\nbody", "A: 1\n  folded\nB: 2", 20),  # folds kept
        ("A: 1\nB: 2", "A: 1\nB: 2", 9),  # no body at all
        ("A: 1\nB: 2\n", "A: 1\nB: 2", 10),
        ("A: 1\n\n", "A: 1", 6),
        ("\n\nbody", "", 2),  # a blank line first: no header, the body after it
        ("\nbody", "", 0),
        ("body text\n\nmore", "", 0),  # no field first: all of it is body
        ("From x@y Mon\nA: 1\n\nbody", "A: 1", 19),  # an mbox separator is skipped
        ("X-Odd \t: v\nnot a field\nA: 2", "X-Odd \t: v", 11),  # ends at a stray line
        ("", "", 0),
    ],
)
def test_header_block_and_body_start(text: str, block: str, body_start: int) -> None:
    """Where a header block ends and its body starts, for each way a block can end."""
    assert split_header_block(text) == (block, body_start)


def test_header_block_ends_at_a_line_that_is_not_a_field() -> None:
    """A missing blank line after the headers does not swallow the body."""
    block, start = split_header_block("Subject: x\nFrom: y\nThis is the body.\nmore")
    assert block == "Subject: x\nFrom: y"
    assert split_header_block("Subject: x\nFrom: y\nThis is the body.\nmore")[0] == block
    assert "This is the body." in "Subject: x\nFrom: y\nThis is the body.\nmore"[start:]


def test_type_and_encoding_are_read_in_any_case_and_unfolded() -> None:
    """The type and encoding fields are found in any case, after blanks, across folds."""
    root = parse_message(
        b"X-Content-Type: text/html\nCONTENT-type \t: multipart/mixed;\n\tboundary=B\n"
        b"Content-Transfer-Encoding:  7BIT\nSubject: x\n\n--B\n\nhi\n--B--\n"
    )
    assert root.ctype == "multipart/mixed"
    assert root.params == {"boundary": "B"}
    assert root.transfer_encoding == "7bit"
    assert root.has_field("subject")
    assert not root.has_field("from")


def test_index_groups_the_header_fields_by_name() -> None:
    """A part's index holds the fields its headers hold, each name's values in order."""
    root = parse_message(b"Received: a\n  b\nX-Odd \t:v \nreceived: c\nSubject: s\n\nbody")
    grouped: dict[str, list[str]] = {}
    for name, value in root.headers.fields:
        grouped.setdefault(name, []).append(value)
    assert root.index == grouped == {"received": ["a b", "c"], "x-odd": ["v"], "subject": ["s"]}


def test_missing_semicolon_in_content_type() -> None:
    """ "text/plain charset=..." keeps the type instead of falling back to nothing."""
    root = parse_message(
        b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/html\n'
        b'   charset="us-ascii"\n\n<p>hi</p>\n--B--\n'
    )
    assert root.children[0].ctype == "text/html"


def test_mislabelled_japanese_charset() -> None:
    """EUC-JP bytes labelled ISO-2022-JP are decoded as EUC-JP, not replaced."""
    data = "配信できませんでした".encode("euc-jp")
    assert decode_bytes(data, "iso-2022-jp") == "配信できませんでした"
    assert decode_bytes(b"\xff\xfe", "x-unknown-charset") == "\ufffd\ufffd"


def test_encoded_words_in_subject() -> None:
    """RFC 2047 subjects are decoded for the readers."""
    mail = Mail(parse_message(b"Subject: =?utf-8?B?UmV0dXJuZWQgbWFpbA==?=\n\nx"))
    assert mail.subject == "Returned mail"


def test_line_ends_crlf_and_cr_only() -> None:
    """CRLF files lose their CRs, stray ones included; CR-only (old Mac) files get LFs."""
    crlf = parse_message(b"Subject: a\rb\r\nFrom: x@example.com\r\n\r\nbody\r\n")
    assert crlf.headers.get("subject") == "ab"
    assert crlf.body == "body\n"
    mac = parse_message(b"Subject: a\rFrom: x@example.com\r\rbody\r")
    assert mac.headers.get("from") == "x@example.com"
    assert mac.body == "body\n"


def test_html_elements_without_text_are_dropped() -> None:
    """Style, script and head elements are dropped; one left open keeps what follows."""
    html = "<html><head><title>t</title></head><body>A<style>p{}</style>B<SCRIPT>x</script >C"
    assert html_to_text(html + "<style>open").split() == ["A", "B", "C", "open"]
    # The tag names match in any case as IGNORECASE has it, "ſ" for "s" included.
    assert html_to_text("A<ſtyle>p{}</STYLE>B<scrİpt>x</ſcrıpt>C").split() == ["A", "B", "C"]


def test_html_renders_as_a_browser_lays_it_out() -> None:
    """Source line ends are spaces; <br> and rows end lines, paragraphs end paragraphs; <pre>
    keeps its lines; entities are decoded."""
    html = (
        "<html><body><p>The address\n   is no longer\nin use.</p>"
        "<p>Recipient:<br>\n<b>bob@example.com</b></p>"
        "<table><tr><td>Status</td><td>5.1.1</td></tr><tr><td>Host</td></tr></table>"
        "<pre>550 5.1.1 user\n   unknown</pre><div>A &amp; B</div></body></html>"
    )
    lines = [line.strip() for line in html_to_text(html).split("\n")]
    assert "The address is no longer in use." in lines
    assert lines[lines.index("Recipient:") + 1] == "bob@example.com"
    assert "Status 5.1.1" in lines
    assert "550 5.1.1 user" in lines
    assert "A & B" in lines
    assert html_to_text("<pre>open, never closed\nline").split() == [
        "open,",
        "never",
        "closed",
        "line",
    ]


@given(st.lists(st.sampled_from([" ", "\n", "\t", "x", "<br>", "<p>", "</P>", "<b>", "<", ">"])))
def test_html_flow_lays_out_lines_as_the_patterns_do(pieces: list[str]) -> None:
    """Runs of white space are one space, and no line starts or ends with one, exactly as the
    patterns that once did the last steps (a space on either side of a line end dropped)."""
    html = "".join(pieces)
    text = " ".join(html.split())
    text = re.sub(r"<(?:br|/?div|/?tr|/?li|/?center)\b[^<>]{0,2000}>", "\n", text, flags=re.I)
    text = re.sub(r"</?(?:p|h\d|table|ul|ol|blockquote)\b[^<>]{0,2000}>", "\n\n", text, flags=re.I)
    text = re.sub(r"  +", " ", re.sub(r"<[^<>]{0,4000}>", " ", text))
    assert _flow(html) == re.sub(r" ?\n ?", "\n", text)


def test_deferred_headers_read_once_and_equal_plain_headers() -> None:
    """Deferred headers are read on first use only, and compare equal to the same fields."""
    calls: list[int] = []

    def read() -> Headers:
        calls.append(1)
        return parse_header_block("From: a@example.com\nSubject: hi\n folded")

    deferred = Headers.deferred(read)
    assert calls == []
    assert deferred.get("subject") == "hi folded"
    assert deferred == Headers(fields=(("from", "a@example.com"), ("subject", "hi folded")))
    assert Headers(fields=deferred.fields) == deferred
    assert "from" in deferred
    assert calls == [1]
    copied = pickle.loads(pickle.dumps(deferred))  # noqa: S301 - our own bytes
    assert type(copied) is Headers
    assert copied == deferred


@pytest.mark.parametrize(
    "line",
    [
        "------ This is a copy of the message, including all the headers. ------",
        "--- Below this line is a copy of the message.",
        "  ----- Original message follows -----",
        "|------------------------- Message text follows: ------------------------|",
        "Message headers follow.",
        "Original message follows.",
        "Your message reads (in part):",
        "*** Copy of the message follows",
        "Header of original message:",
        "The original message was:",
        "Diese Mail wurde an folgende Adresse nicht zugestellt",
        "Received: from mx.example.com by relay.example.net\n  (8.14/8.14)\nSubject: hi",
        "Return-Path: <a@example.com>\nFrom: a@example.com",
        "--- Kopfzeilen der ursprünglichen Nachricht ---\n\nFrom: a@example.com",
        "From a@example.com Mon Jan  1 00:00:00 2024\nSubject: hi",
    ],
)
def test_returned_message_start_is_found_on_any_line(line: str) -> None:
    """Each marker line and each block of header fields is where the returned message starts,
    on the first line of a notice as on a later one."""
    assert Mail.inline_original_start(f"{line}\n") == 0
    above = "Delivery failed.\n\n"
    assert Mail.inline_original_start(f"{above}{line}\n") == len(above)
