"""Readers for the plain-text bounces of particular MTAs and providers.

Each format is a row in `FORMATS`: a name, a cheap test on the message (sender, subject, a
header, a marker in the notice) and a reader that returns entries. They are tried in order
after the standard readers (ARF, SES, RFC 3464) and before the generic heuristics; the first
format whose test passes and whose reader finds a recipient wins. A reader that finds nothing
lets the next one try, so a wrong guess costs time, never a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bounced.model import Entry
from bounced.parse.message import Mail


@dataclass(frozen=True, slots=True)
class Format:
    """One MTA's or provider's bounce format."""

    name: str
    detect: Callable[[Mail], bool]
    read: Callable[[Mail], list[Entry]]


FORMATS: list[Format] = []


def register(
    name: str, detect: Callable[[Mail], bool]
) -> Callable[[Callable[[Mail], list[Entry]]], Callable[[Mail], list[Entry]]]:
    """Decorator that adds a reader to `FORMATS` under `name`, tested by `detect`."""

    def add(read: Callable[[Mail], list[Entry]]) -> Callable[[Mail], list[Entry]]:
        FORMATS.append(Format(name=name, detect=detect, read=read))
        return read

    return add
