"""The parser's contract under hostile input: a Report or ParseError, nothing else, quickly.

Arbitrary bytes, and mangled versions of real-looking bounces: truncated boundaries, deep
nesting, huge and many headers, random transfer encodings and charsets, stray CRs. Example
counts are bounded so that the whole module runs in a few seconds.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounced.errors import ParseError
from bounced.model import Report
from bounced.parse import Limits, parse
from bounced.parse.notice import SHARE_BUDGET

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LIMITS = Limits(max_bytes=256 * 1024, max_depth=8, max_parts=64, max_headers=200)

_DSN = (
    "From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="{b}"\n\n'
    "--{b}\nContent-Type: text/plain; charset={cs}\nContent-Transfer-Encoding: {cte}\n\n"
    "<a@example.com>: host mx[192.0.2.1] said: 550 5.1.1 nope (in reply to RCPT TO command)\n"
    "--{b}\nContent-Type: message/delivery-status\n\n"
    "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
    "--{b}\nContent-Type: message/rfc822\n\nFrom: b@example.org\nTo: a@example.com\n\nhi\n"
    "--{b}--\n"
)


def _check(raw: bytes) -> None:
    try:
        report = parse(raw, _LIMITS)
    except ParseError:
        return
    assert isinstance(report, Report)


@_SETTINGS
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    """Any bytes give a Report or ParseError."""
    _check(raw)


@_SETTINGS
@given(
    boundary=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=0, max_size=20),
    cut=st.integers(min_value=0, max_value=len(_DSN) + 40),
    cte=st.sampled_from(["7bit", "base64", "quoted-printable", "x-uuencode", "b@se64", ""]),
    charset=st.sampled_from(["utf-8", "iso-2022-jp", "x-nonsense", '"', "shift_jis"]),
    noise=st.binary(max_size=64),
    crlf=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_mangled_bounces(  # noqa: PLR0917 - hypothesis passes the drawn values by name
    boundary: str, cut: int, cte: str, charset: str, noise: bytes, crlf: str
) -> None:
    """Truncated boundaries, odd encodings and charsets, any line ends: still the contract."""
    text = _DSN.format(b=boundary, cs=charset, cte=cte)[:cut].replace("\n", crlf)
    _check(text.encode("utf-8", "surrogatepass") + noise)


@_SETTINGS
@given(depth=st.integers(min_value=0, max_value=40), kind=st.sampled_from(["multipart", "rfc822"]))
def test_deep_nesting(depth: int, kind: str) -> None:
    """Nesting beyond the limit is refused as ParseError, never a RecursionError."""
    text = "From: MAILER-DAEMON@example.com\nSubject: failure notice\n\nend\n"
    for level in range(depth):
        if kind == "multipart":
            text = (
                f'Content-Type: multipart/mixed; boundary="n{level}"\n\n'
                f"--n{level}\n{text}\n--n{level}--\n"
            )
        else:
            text = f"Content-Type: message/rfc822\n\n{text}"
    _check(("Subject: wrapper\n" + text).encode())


@settings(max_examples=20, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=5000),
    width=st.integers(min_value=0, max_value=20000),
)
def test_huge_headers_cost_linear_time(count: int, width: int) -> None:
    """Many or very long header lines are refused or read quickly, not backtracked over."""
    raw = ("X-Junk: " + "a:" * (width // 2) + "\n").encode() + b"X-H: v\n" * count
    raw += b"Subject: Returned mail\n\n" + b"<" * width + b"@" * width
    started = time.perf_counter()
    _check(raw)
    assert time.perf_counter() - started < 2.0


@settings(max_examples=30, deadline=None)
@given(
    fill=st.sampled_from(
        [" ", "\n", "\t \n", "-", "-----\n", "<a@b>", "a.", "5.", "@", "> ", "<style>", "<b"]
    ),
    ctype=st.sampled_from(["text/plain", "text/html", "message/delivery-status"]),
    subject=st.sampled_from(["Undelivered Mail Returned to Sender", "hello"]),
)
def test_long_runs_in_a_body_cost_linear_time(fill: str, ctype: str, subject: str) -> None:
    """Long runs of one character or line in any part are read in time linear in their size."""
    body = fill * (200_000 // len(fill))
    raw = f"From: MAILER-DAEMON@example.com\nSubject: {subject}\nContent-Type: {ctype}\n\n{body}\n"
    started = time.perf_counter()
    _check(raw.encode())
    assert time.perf_counter() - started < 2.0


@settings(max_examples=6, deadline=None)
@given(
    recipients=st.sampled_from([2, 300, 3000]),
    filler=st.sampled_from([0, 20, 2000]),
)
def test_many_recipients_sharing_a_transcript_stay_bounded(recipients: int, filler: int) -> None:
    """A list of many recipients, then a transcript that names each among many other lines:
    what is shared out among them stays bounded (a few times the notice, plus the budget), where
    copying the transcript to every recipient grows with recipients x transcript."""
    listed = "".join(f"user{i}@example.com\n" for i in range(recipients))
    named = "".join(
        f"RCPT TO:<user{i}@example.com>\n550 5.1.1 User unknown\n" + "<<< 250 ok\n" * filler
        for i in range(0, recipients, max(1, recipients // 50))
    )
    raw = (
        "From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\n\n"
        f"The following addresses had permanent fatal errors:\n\n{listed}\n"
        f"   ----- Transcript of session follows -----\n{named}"
    ).encode()
    report = parse(raw)  # the default limits: the large cases must be read, not refused
    assert len(report.entries) == recipients
    handed_out = sum(len(entry.diagnostic) for entry in report.entries)
    assert handed_out <= 2 * len(raw) + SHARE_BUDGET


@pytest.mark.parametrize("charset", [b"iso-8\xa859-1", b"iso-8859-1\x00", b"iso-8859\x01-1"])
def test_a_charset_name_with_stray_bytes_is_read_as_utf8(charset: bytes) -> None:
    """A Content-Type whose charset name holds bytes that are not text (or control characters)
    names no codec: the part is read as UTF-8 (with replacement), not refused as a reader
    failure."""
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n"
        b'Content-Type: text/plain; charset="' + charset + b'"\n\n'
        b"<a@example.com>: host mx.example.com said: 550 5.1.1 caf\xe9 user unknown\n"
    )
    report = parse(raw)
    (entry,) = report.entries
    assert entry.recipient == "a@example.com"
    assert "user unknown" in entry.diagnostic
