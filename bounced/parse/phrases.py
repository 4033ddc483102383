"""Many phrases as one regular expression: their literal beginnings merged into a character trie.

Theory of operation: Python's regular expression engine tries the alternatives of a pattern one
by one at every position of the text, so a table of hundreds of phrases costs hundreds of tries
per character. Merging the phrases' literal beginnings into a trie (`trie`) lets the engine
discard a position after one or two characters; and when every alternative opens with a literal
character, the engine first skips to a position where one of those characters stands. The
classifier's `Scanner` (bounced/classify/scan.py) splits phrases the same way for its
Aho-Corasick automaton.

Rule 1: a phrase is a regex fragment with bounded gaps; its literal beginning is what precedes
the first metacharacter. A phrase ending in a space ("transaction failed ") is a whole word and
also matches at the end of the text, since readers trim what followed the reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from itertools import groupby

_META = frozenset(".^$*+?{}[]\\|()")
_QUANTIFIERS = frozenset("*+?{")
_FIRST_META = re.compile(r"[.^$*+?{}\[\]\\|()]")


def alternatives(phrase: str) -> list[str]:
    """The top-level alternatives of a phrase ("a|b(?:c|d)" -> "a", "b(?:c|d)")."""
    if "|" not in phrase:
        return [phrase]  # most phrases: no character-by-character walk at start-up
    parts: list[str] = []
    depth, in_class, i, start = 0, False, 0, 0
    while i < len(phrase):
        char = phrase[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            parts.append(phrase[start:i])
            start = i + 1
        i += 1
    parts.append(phrase[start:])
    return parts


def literal_head(phrase: str) -> tuple[str, str]:
    """Split a phrase (without top-level "|") into its literal beginning and the rest."""
    # Up to the first metacharacter the phrase is literal, except for the character before a
    # quantifier; the walk below, one character at a time, starts from there.
    first = _FIRST_META.search(phrase)
    if first is None:
        return phrase, ""
    i = first.start()
    if i and phrase[i] in _QUANTIFIERS:
        i -= 1
    head = [phrase[:i]]
    while i < len(phrase):
        char = phrase[i]
        if char == "\\" and i + 1 < len(phrase) and not phrase[i + 1].isalnum():
            if phrase[i + 2 : i + 3] in _QUANTIFIERS:
                break
            head.append(phrase[i + 1])
            i += 2
            continue
        if char in _META or phrase[i + 1 : i + 2] in _QUANTIFIERS:
            break
        head.append(char)
        i += 1
    return "".join(head), phrase[i:]


@cache
def finder(phrase: str) -> Callable[[str], bool]:
    """A test for a phrase: a substring test when it is plain text (most rows: no pattern to
    compile), else its compiled pattern's search."""
    head, rest = literal_head(phrase)
    if not rest:
        return lambda text: head in text
    search = re.compile(phrase).search
    return lambda text: search(text) is not None


def word_phrase(phrase: str) -> str:
    """A phrase ending in a space also matches at the end of the text (Rule 1)."""
    if phrase.endswith(" ") and not phrase.endswith("\\ "):
        return f"{phrase[:-1]}(?: |$)"
    return phrase


def _split(phrase: str) -> tuple[str, str]:
    """A phrase's literal beginning and rest. A leading word boundary before a word character
    becomes a look-behind placed after the literal (a boundary then "spam" becomes "spam" then
    "not preceded by a word character and spam"), so that the literal still opens the phrase
    and the trie can skip positions by it."""
    head, rest = literal_head(phrase)
    if not head and phrase.startswith("\\b"):
        word, after = literal_head(phrase[2:])
        if word and (word[0].isalnum() or word[0] == "_"):
            return word, f"(?<!\\w{re.escape(word)}){after}"
    return head, rest


def parts(phrases: Iterable[str]) -> list[tuple[str, str]]:
    """Each top-level alternative of the phrases split into literal beginning and rest."""
    return [_split(word_phrase(part)) for whole in phrases for part in alternatives(whole)]


_GAP = re.compile(r"\.\{0,\d+\}\??")


def needle(rest: str) -> str:
    """Literal text that a phrase's rest cannot match without: what follows its leading gap
    (".{0,80}?> not found" -> "> not found"), or "" (which every text holds) when the rest
    does not go on with literal text."""
    gap = _GAP.match(rest)
    return literal_head(rest[gap.end() :] if gap else rest)[0]


def _shared_prefix(first: str, last: str) -> str:
    size, limit = 0, min(len(first), len(last))
    while size < limit and first[size] == last[size]:
        size += 1
    return first[:size]


def _emit(parts: list[tuple[str, str]]) -> str:
    """The regex of (beginning, rest) pairs: beginnings grouped by their first character, each
    group's common prefix written once (a character trie with its chains collapsed)."""
    options: list[str] = []
    ends = [rest for head, rest in parts if not head]
    for _, grouped in groupby(sorted(p for p in parts if p[0]), key=lambda p: p[0][0]):
        group = list(grouped)
        prefix = _shared_prefix(group[0][0], group[-1][0])  # sorted: first and last suffice
        tails = [(head[len(prefix) :], rest) for head, rest in group]
        options.append(re.escape(prefix) + _emit(tails))
    options += [f"(?:{rest})" for rest in ends if rest]
    optional = any(not rest for rest in ends)
    if not options:
        return ""
    merged = options[0] if len(options) == 1 and not optional else f"(?:{'|'.join(options)})"
    return f"{merged}?" if optional else merged


def trie(phrases: Iterable[str]) -> str:
    """One regex for many phrases, their literal beginnings merged into a character trie."""
    return _emit(parts(phrases))
