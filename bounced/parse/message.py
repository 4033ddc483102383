"""A read-only view of one returned message that every reader shares.

Readers ask the same questions of a message: its subject and sender, the human-readable notice,
the machine-readable status part, and the headers of the message that came back. `Mail` answers
each once and caches the answer, so the cost of trying several readers stays small.
"""

from __future__ import annotations

import re
from functools import cached_property

from bounced.model import Headers
from bounced.parse import fields as F
from bounced.parse.mime import Part, decode_words, parse_headers_text

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
_ORIGINAL_MARKERS = re.compile(
    r"^[ \t]*(?:"
    r"-{2,} ?This is a copy of (?:the|your) message|"  # Exim
    r"-{2,} ?Below this line is a copy of the message|"  # qmail
    r"-{2,} ?(?:The )?[Oo]riginal message (?:headers? )?(?:follows?|is following)|"
    r"-{2,} ?[Oo]riginal [Mm]essage -{2,}|"
    r"-{2,} ?Original message header -{2,}|"
    r"-{2,} ?Returned [Mm]essage -{2,}|"
    r"-{2,} ?Unsent message follows -{2,}|"  # sendmail V5
    r"-{2,} ?Message [Hh]eaders? [Ff]ollows?|"
    r"-{2,} ?(?:The )?header of (?:the )?original message|"
    r"[Mm]essage headers follow\.?$|"  # DragonFly
    r"Original message follows\.?$|"
    r"Your message reads \(in part\):|"
    r"\*\*\* ?Copy of the ?message follows|"
    r"-{2,} ?Forwarded message -{2,}|"
    r"Header of original message:|"
    r"The original message was:|"
    r"Diese Mail wurde an folgende Adresse|"
    r"-{2,} ?Mensaje original"
    r")",
    re.MULTILINE,
)
_HEADER_START = re.compile(
    r"^(?:Return-Path|Received|From|To|Subject|Message-I[Dd]|Date|X-[\w-]{1,60}|Reply-To|"
    r"MIME-Version|Content-Type|Delivered-To|DKIM-Signature):[ \t]",
    re.MULTILINE,
)


class Mail:
    """One message as readers see it."""

    __slots__ = ("__dict__", "headers", "root")

    def __init__(self, root: Part) -> None:
        self.root = root
        self.headers: Headers = root.headers

    def header(self, name: str) -> str:
        """A top-level header, RFC 2047-decoded; empty when absent."""
        value = self.headers.get(name)
        return decode_words(value) if value else ""

    @cached_property
    def subject(self) -> str:
        return F.collapse(self.header("subject"))

    @cached_property
    def sender(self) -> str:
        return self.header("from")

    @cached_property
    def sender_address(self) -> str:
        return (F.find_address(self.sender) or "").lower()

    @cached_property
    def content_type(self) -> str:
        return self.root.ctype

    @cached_property
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

    @cached_property
    def status_part(self) -> Part | None:
        """The machine-readable delivery status part, if any."""
        return self.first(_STATUS_TYPES)

    @cached_property
    def feedback_part(self) -> Part | None:
        return self.first(_FEEDBACK_TYPES)

    @cached_property
    def original_part(self) -> Part | None:
        return self.first(_ORIGINAL_TYPES)

    @cached_property
    def notice(self) -> str:
        """The human-readable notice: the text before any status part or returned message.

        For a single-part message this is the body up to the returned message, when a marker
        line shows where that starts.
        """
        texts: list[str] = []
        html: str | None = None
        for part in self.parts:
            if part.ctype in _STATUS_TYPES or part.ctype in _ORIGINAL_TYPES:
                break
            if part.children:
                continue
            if part.ctype == "text/plain":
                texts.append(part.text())
            elif part.ctype == "text/html" and html is None:
                html = part.text()
        if not texts and html is not None:
            texts.append(html)
        text = "\n".join(texts)
        if self.original_part is None:
            cut = self.inline_original_start(text)
            if cut is not None:
                text = text[:cut]
        return text

    @cached_property
    def body(self) -> str:
        """All readable text of the message outside returned messages (notice included)."""
        return "\n".join(
            p.text() for p in self.parts if not p.children and p.ctype.startswith("text/")
        )

    @staticmethod
    def inline_original_start(text: str) -> int | None:
        """Where a returned message starts inside a plain-text notice, if a marker says so."""
        match = _ORIGINAL_MARKERS.search(text)
        return match.start() if match else None

    @cached_property
    def original(self) -> Headers:
        """The headers of the message that came back, wherever the report put them."""
        part = self.original_part
        if part is not None:
            if part.children:
                return part.children[0].headers
            return parse_headers_text(part.text())
        text = self.body
        match = _ORIGINAL_MARKERS.search(text)
        if match is None:
            return Headers()
        start = _HEADER_START.search(text, match.end())
        if start is None or start.start() - match.end() > 2000:
            return Headers()
        try:
            return parse_headers_text(text[start.start() :])
        except ValueError:
            return Headers()

    @cached_property
    def envelope_to(self) -> tuple[str, ...]:
        """Where the report was delivered: VERP return paths come back in these fields."""
        out: list[str] = []
        for name in ("x-original-to", "delivered-to", "envelope-to", "to"):
            for value in self.headers.get_all(name):
                for address in F.find_addresses(value):
                    if address.lower() not in (a.lower() for a in out):
                        out.append(address)
        return tuple(out)
