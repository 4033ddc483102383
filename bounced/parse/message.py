"""A read-only view of one returned message that every reader shares.

Readers ask the same questions of a message: its subject and sender, the human-readable notice,
the machine-readable status part, and the headers of the message that came back. `Mail` answers
each once and caches the answer, so the cost of trying several readers stays small.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from mypy_extensions import mypyc_attr

from bounced.model import Headers
from bounced.parse import fields as F
from bounced.parse.mime import (
    DEFAULT_LIMITS,
    Limits,
    Part,
    decode_words,
    parse_headers_text,
    parse_message,
)

_STATUS_TYPES = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "text/delivery-status"}
)
_ORIGINAL_TYPES = frozenset(
    {
        "message/rfc822",
        "message/global",
        "text/rfc822-headers",
        "text/rfc822-header",
        "message/rfc822-headers",
        "message/global-headers",
        "message/partial",
    }
)
_FEEDBACK_TYPES = frozenset({"message/feedback-report", "text/feedback-report"})

# Lines that announce where the returned message starts inside a plain-text notice.
# Each comes from a real MTA's template (named alongside).
#
# The markers and header patterns below start with a newline rather than "^": a literal first
# character lets the regex engine skip from line to line, twice as fast on long notices, and
# `_search_lines` puts a newline in front of the text so that its first line counts too. A
# look-ahead then names the characters a match can begin its line with, so that most lines are
# dropped after one test instead of being tried against each alternative (a fifth faster): a new
# marker or header pattern must begin with one of them. For the same reason the dashes open with
# a literal ("--+", not "-{2,}"), which the engine checks before it enters the branch.
_ORIGINAL_MARKERS = re.compile(
    r"\n(?=[ \t|*DHMOTYmo-])[ \t]*(?:"
    r"--+ ?(?:"  # the dashed lines, factored so that the regex tries them in one branch
    r"This is a copy of (?:the|your) message|"  # Exim
    r"Below (?:this|the next) line is a copy of the (?:message|mail header)|"  # qmail
    r"Enclosed is a copy of the message|"  # qmail clones
    r"Mensaje original|"  # qmail clones (Spanish)
    r"(?:The )?[Oo]riginal message (?:headers? )?(?:follows?|is following)|"
    r"[Oo]riginal [Mm]essage -{2,}|"
    r"Original message header -{2,}|"
    r"Returned [Mm]essage -{2,}|"  # Notes
    r"Unsent message follows -{2,}|"  # sendmail V5
    r"Message [Hh]eaders? [Ff]ollows?|"
    r"(?:The )?header of (?:the )?original message|"  # GMX, 1&1
    r"Forwarded message -{2,}"
    r")|"
    r"\|-{5,} ?Message (?:header|text|body) follows|"  # Smail 3, Deutsche Telekom
    r"[Mm]essage headers follow\.?$|"  # DragonFly
    r"Original message follows\.?$|"  # DragonFly, IMail
    r"Your message reads \(in part\):|"
    r"\*\*\* ?Copy of the ?message follows|"
    r"Header of original message:|"
    r"The original message was:|"
    r"Diese Mail wurde an folgende Adresse"
    r")",
    re.MULTILINE,
)
# A returned message pasted without a known marker: a Received or Return-Path field at the
# start of a line, followed by more header lines; a dashed rule in any language
# ("--- Kopfzeilen der ursprünglichen Nachricht ---") right above header fields; or an mbox
# "From " line above them.
_ORIGINAL_HEADERS = re.compile(
    r"\n(?=[ \tFMR-])(?:"
    r"(?:Received: ?(?:from|by)\b|Return-Path: ?<|Message-I[Dd]: ?<)[^\n]{0,400}\n"
    r"(?:[ \t][^\n]{0,400}\n){0,10}[A-Z][\w-]{1,40}: ?|"
    r"[ \t]{0,8}-{3,}[^\n]{0,100}\n(?:[ \t]{0,8}\n){0,2}"
    r"(?:Return-Path|Received|From|To|Subject|Date|Message-I[Dd]|MIME-Version|Reply-To): |"
    # an mbox "From " separator line pasted above the returned message's header
    r"From [^\s@]{1,200}@[^\n]{1,200}\n(?:Return-Path|Received|Date|From|To|Subject): "
    r")",
    re.MULTILINE,
)
_UNDISCLOSED = re.compile(r"undisclosed|unlisted|recipients? suppressed", re.IGNORECASE)
_HEADER_START = re.compile(
    r"^(?:Return-Path|Received|From|To|Subject|Message-I[Dd]|Date|X-[\w-]{1,60}|Reply-To|"
    r"MIME-Version|Content-Type|Delivered-To|DKIM-Signature):[ \t]",
    re.MULTILINE,
)


def _search_lines(pattern: re.Pattern[str], text: str) -> tuple[int, int] | None:
    """Where a newline-led pattern first matches a line of `text`: (line start, match end)."""
    match = pattern.search("\n" + text)
    return None if match is None else (match.start(), match.end() - 1)


def marker_line(text: str) -> tuple[int, int] | None:
    """The first line of a text that announces the returned message (see _ORIGINAL_MARKERS):
    where the line starts and where the marker ends."""
    return _search_lines(_ORIGINAL_MARKERS, text)


def _is_message_part(part: Part) -> bool:
    """True for a part whose header block is a message's rather than a MIME part's."""
    return (part.has_field("received") or part.has_field("message-id")) and (
        part.has_field("subject") or part.has_field("from") or part.has_field("date")
    )


def _starts_with_headers(text: str) -> bool:
    """True for a text that opens with two or more header fields (a message sent as text)."""
    head = text.lstrip("\n")[:2000]
    return bool(_HEADER_START.match(head)) and head.count(":", 0, head.find("\n\n")) >= 2


T = TypeVar("T")


class lazy(Generic[T]):  # noqa: N801 - reads as the decorator it is
    """A computed-once attribute: `functools.cached_property` without its lock (Python 3.11).

    The value is stored in the instance dict under the same name, so later reads never reach
    the descriptor again. The name comes from the class (`__set_name__`), not from the
    function, whose compiled form has no `__name__`.
    """

    __slots__ = ("func", "name")

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> lazy[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | lazy[T]:
        if obj is None:
            return self
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


@mypyc_attr(native_class=False)  # compiled, it keeps the instance dict `lazy` caches in
class Mail:
    """One message as readers see it."""

    __slots__ = ("__dict__", "_start_memo", "depth", "index", "limits", "root")

    def __init__(self, root: Part, limits: Limits = DEFAULT_LIMITS, depth: int = 0) -> None:
        self.root = root
        # The top-level header fields by lower-case name, for lookups in constant time.
        self.index: dict[str, list[str]] = root.index
        self.limits = limits
        self.depth = depth  # how many bounces this one is wrapped in
        self._start_memo: tuple[str, int | None] | None = None

    def has(self, name: str) -> bool:
        """True when the message has a top-level field of this (lower-case) name."""
        return name in self.index

    def field(self, name: str) -> str:
        """The raw value of the first top-level field of this name; empty when absent."""
        values = self.index.get(name)
        return values[0] if values else ""

    def field_all(self, name: str) -> list[str]:
        """Every raw value of a top-level field, in order."""
        return self.index.get(name, [])

    def header(self, name: str) -> str:
        """A top-level header, RFC 2047-decoded; empty when absent."""
        value = self.field(name)
        return decode_words(value) if value else ""

    @lazy
    def received(self) -> str:
        """The Received fields of the message, one a line (for substring tests)."""
        return "\n".join(self.field_all("received"))

    @lazy
    def subject(self) -> str:
        return F.collapse(self.header("subject"))

    @lazy
    def sender(self) -> str:
        return self.header("from")

    @lazy
    def sender_address(self) -> str:
        return (F.find_address(self.sender) or "").lower()

    @lazy
    def content_type(self) -> str:
        return self.root.ctype

    @lazy
    def parts(self) -> list[Part]:
        """Every part outside of returned messages, depth first."""
        out: list[Part] = []
        stack = [self.root]
        while stack:
            part = stack.pop()
            out.append(part)
            if part.ctype not in _ORIGINAL_TYPES:
                stack.extend(reversed(part.children))
        return out

    def first(self, types: frozenset[str]) -> Part | None:
        for part in self.parts:
            if part.ctype in types:
                return part
        return None

    @lazy
    def status_part(self) -> Part | None:
        """The machine-readable delivery status part, if any."""
        return self.first(_STATUS_TYPES)

    @lazy
    def feedback_part(self) -> Part | None:
        return self.first(_FEEDBACK_TYPES)

    @lazy
    def original_part(self) -> Part | None:
        """The returned message: a message/rfc822 (or headers) part, or a text part that is a
        message in all but its type (its own header block has Received, From, Subject...)."""
        found = self.first(_ORIGINAL_TYPES)
        if found is not None:
            return found
        for part in self.parts[1:]:
            if not part.children and _is_message_part(part):
                return part
        return None

    @lazy
    def notice(self) -> str:
        """The human-readable notice: the text before any status part or returned message.

        A text part that starts with header fields (a returned message sent as text) ends the
        notice; so does, inside a text, a marker line or a block of header fields that shows
        where the returned message starts.
        """
        texts: list[str] = []
        html: Part | None = None
        for part in self.parts:
            if part.ctype in _STATUS_TYPES or part.ctype in _ORIGINAL_TYPES:
                break
            if part.children:
                continue
            if part.ctype == "text/plain":
                if texts and _is_message_part(part):
                    break  # a returned message sent as a text part
                text = part.text()
                if texts and _starts_with_headers(text):
                    break
                texts.append(text)
            elif part.ctype == "text/html" and html is None:
                html = part  # read only when there is no plain text
        if not texts and html is not None:
            texts.append(html.text())
        text = "\n".join(texts)
        cut = self._original_start(text)
        return text if cut is None else text[:cut]

    def _original_start(self, text: str) -> int | None:
        """`inline_original_start`, remembered for the last text (the notice's text and the
        body are the same string when the message has one text part)."""
        memo = self._start_memo
        if memo is not None and (memo[0] is text or memo[0] == text):
            return memo[1]
        start = self.inline_original_start(text)
        self._start_memo = (text, start)
        return start

    @lazy
    def body(self) -> str:
        """All readable text of the message outside returned messages (notice included)."""
        return "\n".join(
            p.text() for p in self.parts if p.ctype.startswith("text/") and not p.children
        )

    @staticmethod
    def inline_original_start(text: str) -> int | None:
        """Where a returned message starts inside a plain-text notice.

        A marker line says so, or else a block of header fields that a returned message opens
        with (Received:, Return-Path:, ...), several lines long and not indented.
        """
        found = marker_line(text) or _search_lines(_ORIGINAL_HEADERS, text)
        return None if found is None else found[0]

    @lazy
    def original(self) -> Headers:
        """The headers of the message that came back, wherever the report put them (read
        when first asked for)."""
        return Headers.deferred(self._read_original)

    def original_mentions(self, name: str) -> bool:
        """False when the returned message's header cannot hold a field of this (lower-case)
        name: a test that spares reading its headers."""
        part = self.original_part
        if part is None:
            return name in self.body.lower()
        text = part.body if part.transfer_encoding in ("", "7bit", "8bit") else part.text()
        return name in text[: text.find("\n\n") + 1 or len(text)].lower()

    def _read_original(self) -> Headers:
        part = self.original_part
        if part is not None:
            if part.children:
                return part.children[0].headers
            if part.ctype not in _ORIGINAL_TYPES:
                return part.headers  # a returned message sent as a text part
            return parse_headers_text(part.text())
        text = self.body
        marker = marker_line(text)
        if marker is None:
            return Headers()
        start = _HEADER_START.search(text, marker[1], marker[1] + 2100)
        if start is None or start.start() - marker[1] > 2000:
            return Headers()
        try:
            return parse_headers_text(text[start.start() :])
        except ValueError:
            return Headers()

    @lazy
    def returned(self) -> Mail | None:
        """The returned message as a `Mail` of its own: attached, or pasted after a marker.

        Readers look at it when the message is a wrapper around another bounce (a bounce
        forwarded by a relay, or a notice that quotes the bounce it received).
        """
        if self.depth >= 2:
            return None
        part = self.original_part
        if part is not None:
            if not part.children:
                return None
            return Mail(part.children[0], self.limits, self.depth + 1)
        text = self.body
        start = self._original_start(text)
        if start is None:
            return None
        rest = text[start:]
        header = _HEADER_START.search(rest, 0, 2000)
        if header is None:
            return None
        return Mail(parse_message(rest[header.start() :], self.limits), self.limits, self.depth + 1)

    @lazy
    def source(self) -> str:
        """The whole message as text again (for a reader that parses it on its own)."""
        return self.root.block + "\n\n" + self.root.body

    @lazy
    def failed_recipients(self) -> list[str]:
        """Addresses of the X-Failed-Recipients header (Exim, Gmail): failed, by definition."""
        out: list[str] = []
        for value in self.field_all("x-failed-recipients"):
            out.extend(F.find_addresses(value))
        return out

    @lazy
    def original_recipients(self) -> list[str]:
        """Where the returned message was addressed (its X-Original-To, Envelope-To or To)."""
        original = self.original
        for name in ("x-original-to", "envelope-to", "to"):
            value = original.get(name)
            if value and not _UNDISCLOSED.search(value):
                found = F.find_addresses(decode_words(value))
                if found:
                    return found
        return []

    @lazy
    def envelope_to(self) -> tuple[str, ...]:
        """Where the report was delivered: VERP return paths come back in these fields."""
        out: list[str] = []
        seen: set[str] = set()
        for name in ("x-original-to", "delivered-to", "envelope-to", "to"):
            for value in self.field_all(name):
                for address in F.find_addresses(value):
                    if address.lower() not in seen:
                        seen.add(address.lower())
                        out.append(address)
        return tuple(out)
