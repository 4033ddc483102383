"""Many phrases, one pass: which keys of a phrase table have a phrase in a text.

Theory of operation: the smaller tables (each MTA's own, remote hosts) are one regular
expression each, their phrases merged into a character trie (bounced/parse/phrases.py). A
`Scanner` answers the question the large tables ask (reply phrases, MTA markers): which keys
(reasons, rule numbers, MTA names) have a phrase in the text. It does without the regex engine:
the literal beginnings of all phrases go into an Aho-Corasick automaton (ahocorasick_rs, in
Rust) that finds every occurrence of every beginning, overlapping ones included, in one pass;
where one occurs, the rest of each phrase that begins so is matched right after it with a small
pattern of its own. Most such matches fail (a short beginning such as "<" or "user " is
everywhere, the words after its gap are not), so a rest whose gap is followed by literal text is
only matched when the text holds that literal: a substring test costs a fraction of a match.

Phrases follow Rule 1 of bounced/parse/phrases.py; here the literal beginning may not be empty.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

from ahocorasick_rs import AhoCorasick

from bounced.parse.phrases import needle, parts

K = TypeVar("K", bound=Hashable)


class Scanner(Generic[K]):
    """Which keys of a phrase table have a phrase in a text, in one pass (module docstring).

    The phrases' literal beginnings go into an Aho-Corasick automaton (ahocorasick_rs, the
    Rust `aho-corasick` crate), which reports every occurrence of every beginning in one pass
    over the text, overlapping ones included, at a cost that does not grow with the number of
    phrases. Where a beginning occurs, the rest of each phrase that has it (if any) is matched
    right after it with its own small pattern, compiled when first needed, unless the text
    lacks the rest's `needle`.
    """

    __slots__ = ("_automaton", "_rests", "_rows")

    def __init__(self, table: Mapping[K, Iterable[str]]) -> None:
        by_head: dict[str, list[tuple[str, str, K]]] = {}
        for key, phrases in table.items():
            for head, rest in parts(phrases):
                if not head:
                    raise ValueError(f"a phrase of {key!r} has no literal beginning: {rest!r}")
                rows = by_head.setdefault(head, [])
                row = (rest, needle(rest), key)
                if row not in rows:
                    rows.append(row)
        self._automaton = AhoCorasick(by_head)
        # What the automaton reports by the index of a beginning: its rows, in the same order.
        self._rows = [tuple(rows) for rows in by_head.values()]
        self._rests: dict[str, re.Pattern[str]] = {}

    def _rest(self, source: str) -> re.Pattern[str]:
        pattern = self._rests.get(source)
        if pattern is None:
            pattern = self._rests[source] = re.compile(source)
        return pattern

    def keys_in(self, text: str) -> frozenset[K]:
        """Every key one of whose phrases the text holds."""
        found: set[K] = set()
        for index, _, end in self._automaton.find_matches_as_indexes(text, overlapping=True):
            for rest, literal, key in self._rows[index]:
                if key in found:
                    continue
                if not rest or (literal in text and self._rest(rest).match(text, end)):
                    found.add(key)
        return frozenset(found)
