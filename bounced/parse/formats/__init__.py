"""Readers for the plain-text bounces of particular MTAs and providers.

Each format is a row in `FORMATS`: a name, a cheap test on the message (sender, subject, a
header, a marker in the notice) and a reader that returns entries. They are tried in order
after the standard readers (ARF, SES, RFC 3464) and before the generic heuristics; the first
format whose test passes and whose reader finds a recipient wins. A reader that finds nothing
lets the next one try, so a wrong guess costs time, never a result. The same readers also
tell the RFC 3464 reader what a DSN's notice says about each recipient.

Formats live in modules by family; the order below puts formats recognised by a header or a
sender of their own before those recognised by wording that other MTAs share.
"""

from __future__ import annotations

from bounced.parse.formats import appliances, google, japan, lists, microsoft, providers, unix
from bounced.parse.formats.base import Format

__all__ = ["FORMATS", "Format"]

FORMATS: list[Format] = [
    *lists.FORMATS,
    *google.FORMATS,
    *microsoft.FORMATS,
    *providers.FORMATS,
    *japan.FORMATS,
    *appliances.FORMATS,
    *unix.FORMATS,
]
