"""What every format module uses: the `Format` row, a registry, and cheap detection tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bounced.model import Entry
from bounced.parse.message import Mail
from bounced.parse.notice import Layout, read_layout

Reader = Callable[[Mail], list[Entry]]
Detector = Callable[[Mail], bool]


@dataclass(frozen=True, slots=True)
class Format:
    """One MTA's or provider's bounce format."""

    name: str
    detect: Detector
    read: Reader


class Registry:
    """The formats of one module, in the order they are declared."""

    __slots__ = ("formats",)

    def __init__(self) -> None:
        self.formats: list[Format] = []

    def reader(self, name: str, detect: Detector) -> Callable[[Reader], Reader]:
        """Decorator that adds a reader under `name`, tested by `detect`."""

        def add(read: Reader) -> Reader:
            self.formats.append(Format(name=name, detect=detect, read=read))
            return read

        return add

    def layout(self, name: str, detect: Detector, layout: Layout) -> None:
        """Add a format that is read with `notice.read_layout` and nothing else."""

        def read(mail: Mail) -> list[Entry]:
            return read_layout(mail.notice, layout)

        self.formats.append(Format(name=name, detect=detect, read=read))


def any_header(mail: Mail, names: tuple[str, ...]) -> bool:
    """True when the message has one of these (lower-case) header fields."""
    return any(name in mail.index for name in names)


def received_has(mail: Mail, needle: str) -> bool:
    """True when a Received field of the message contains `needle`."""
    return needle in mail.received


def notice_has(mail: Mail, pattern: re.Pattern[str]) -> bool:
    """True when the notice contains the pattern (a marker line)."""
    return pattern.search(mail.notice) is not None


def words(*phrases: str) -> re.Pattern[str]:
    """One alternation of literal phrases (escaped), for markers and subjects."""
    return re.compile("|".join(re.escape(p) for p in phrases))
