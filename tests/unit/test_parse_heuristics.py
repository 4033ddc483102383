"""The bounce subject and wording tries find what their phrases find in any letter case."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounced.parse import heuristics
from bounced.parse.phrases import alternatives, literal_head, word_phrase

TABLES = {
    "subject": (heuristics._SUBJECT_PHRASES, heuristics.BOUNCE_SUBJECT),
    "wording": (heuristics._WORDING_PHRASES, heuristics.BOUNCE_WORDING),
}
# Letters of the phrases and around them, for texts that come close to a phrase.
ALPHABET = st.sampled_from(
    list("abcdefilmnoprstuvwyADEILNORSTU ':-éèàãüöäßłиндставлено配信送エラー실패")
)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_phrase_opens_with_a_literal(table: str) -> None:
    """Each alternative has a literal beginning: the engine can skip to where it may start."""
    phrases, _ = TABLES[table]
    for alternative in alternatives(phrases):
        assert literal_head(word_phrase(alternative))[0], alternative


@pytest.mark.parametrize("table", sorted(TABLES))
def test_phrases_are_lower_case(table: str) -> None:
    """The text is lower-cased before the search, so a capital in a phrase would never match."""
    phrases, _ = TABLES[table]
    assert phrases == phrases.lower()


@pytest.mark.parametrize("table", sorted(TABLES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_each_phrase_is_found_in_any_case(table: str, data: st.DataObject) -> None:
    """A text holding any phrase, in any letter case, is found, as the alternation finds it."""
    phrases, trie = TABLES[table]
    alternative = data.draw(st.sampled_from(alternatives(phrases)))
    phrase = data.draw(st.from_regex(re.compile(alternative), fullmatch=True))
    flips = data.draw(st.lists(st.booleans(), min_size=len(phrase), max_size=len(phrase)))
    cased = "".join(c.upper() if up else c for c, up in zip(phrase, flips, strict=True))
    text = data.draw(st.text(ALPHABET, max_size=30)) + cased + " " + data.draw(st.text(ALPHABET))
    plain = re.compile(phrases, re.IGNORECASE)
    assert plain.search(text) is not None
    assert trie.search(text.lower()) is not None


@pytest.mark.parametrize("table", sorted(TABLES))
@settings(max_examples=300, deadline=None)
@given(text=st.text(ALPHABET, max_size=200))
def test_the_trie_agrees_with_the_plain_alternation(table: str, text: str) -> None:
    """On any text the trie in lower case and the case-insensitive alternation agree."""
    phrases, trie = TABLES[table]
    plain = re.compile(phrases, re.IGNORECASE)
    assert (trie.search(text.lower()) is None) == (plain.search(text) is None)
