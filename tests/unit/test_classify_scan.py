"""The trie-merged phrase scanner finds exactly what the plain alternations find."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bounced.classify import patterns
from bounced.classify.scan import Scanner
from bounced.model import Reason
from bounced.parse.phrases import alternatives, finder, literal_head, needle, trie, word_phrase

R = Reason

SAMPLES = (
    "550 5.1.1 <kijitora@example.jp>... user unknown",
    "552 5.2.2 mailbox is full (quota exceeded)",
    "recipient address rejected: access denied",
    "421 4.7.0 [tss04] messages from 192.0.2.1 temporarily deferred due to unexpected volume",
    "554 5.7.1 message rejected as spam by content filtering",
    "this message has been in the queue too long",
    "",
)


SEPARATE = {reason: re.compile(trie(phrases)) for reason, phrases in patterns.PHRASES.items()}


def _plain(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{word_phrase(p)})" for p in phrases))


def test_literal_head_and_alternatives() -> None:
    """A phrase splits into its literal beginning and the regex that follows."""
    assert literal_head(r"mailbox .{0,80}?full") == ("mailbox ", r".{0,80}?full")
    assert literal_head(r"relay\. denied") == ("relay. denied", "")
    assert literal_head(r"ips? blocked") == ("ip", "s? blocked")
    assert alternatives(r"a|b(?:c|d)|\|e") == ["a", "b(?:c|d)", r"\|e"]


def test_needle_is_the_literal_text_after_a_leading_gap() -> None:
    """A rest is matched only where the text holds its needle; "" (in every text) when none."""
    assert needle(r".{0,80}?> not found") == "> not found"
    assert needle(r".{0,200}?5\.1\.1 .{0,80}? user") == "5.1.1 "
    assert needle(r".{0,40}(?:fail|policy)") == ""
    assert needle(r"s? blocked") == ""
    assert needle(r"(?: |$)") == ""


def test_trie_matches_the_same_texts_as_the_alternation() -> None:
    """Every reason's merged pattern agrees with its plain alternation on sample replies."""
    for reason, phrases in patterns.PHRASES.items():
        merged, plain = SEPARATE[reason], _plain(phrases)
        for text in SAMPLES:
            assert bool(merged.search(text)) == bool(plain.search(text)), (reason, text)


def test_phrase_ending_in_a_space_also_matches_at_the_end() -> None:
    """ "transaction failed " matches a trimmed reply that ends there, not a longer word."""
    found = patterns.reasons_in("554 transaction failed")
    assert R.SYSTEMERROR in found
    assert R.SYSTEMERROR not in patterns.reasons_in("554 transaction failedover")


def test_scanner_finds_overlapping_phrases_of_several_keys() -> None:
    """Phrases of different keys that overlap or begin at the same place are all found."""
    scanner: Scanner[str] = Scanner({"a": ("user unknown",), "b": ("unknown in",), "c": ("user",)})
    assert scanner.keys_in("550 user unknown in local table") == frozenset({"a", "b", "c"})
    assert scanner.keys_in("nothing here") == frozenset()


def test_scanner_matches_the_rest_right_after_the_beginning_in_any_script() -> None:
    """Where a beginning is found, its rest is tried at the next character, also after text
    that takes several bytes per character in UTF-8."""
    scanner: Scanner[str] = Scanner({"a": (r"unknown\s{1,3}user",), "b": ("user",)})
    for prefix in ("", "Empfänger ", "東京の ", "🙂 "):
        assert scanner.keys_in(f"{prefix}550 unknown  user") == frozenset({"a", "b"})
        assert scanner.keys_in(f"{prefix}550 unknown, user") == frozenset({"b"})


def test_reasons_in_excludes_rejected_for_recipient_replies() -> None:
    """ "Recipient address rejected" is about the address, not a rejected sender."""
    assert R.REJECTED in patterns.reasons_in("550 sender address rejected")
    assert R.REJECTED not in patterns.reasons_in("550 recipient address rejected: unknown user")


@given(st.text(alphabet="abcdeilmnorstu .:<>@0123456789", max_size=80))
def test_scanner_agrees_with_separate_searches(text: str) -> None:
    """On arbitrary text the one-pass scan equals searching every reason's pattern."""
    expected = {reason for reason, pattern in SEPARATE.items() if pattern.search(text)}
    assert patterns.SCANNER.keys_in(text) == expected


@pytest.mark.parametrize(
    "text", ["spam", "a spam b", "(spam)", "antispam", "spam_x", "x_spam", "spams", "1spam"]
)
def test_leading_word_boundary_matches_as_written(text: str) -> None:
    """A phrase opening with a word boundary finds exactly what the plain regex finds."""
    scanner: Scanner[str] = Scanner({"a": (r"\bspam\b",)})
    assert ("a" in scanner.keys_in(text)) is bool(re.search(r"\bspam\b", text))


def test_scanner_checks_phrases_with_a_short_or_no_literal_beginning() -> None:
    """A phrase with one literal character before its gap is found; one with none is refused."""
    scanner: Scanner[str] = Scanner({"a": (r"\(.{0,80}?@.{0,80}?:blocked\)",), "b": ("blocked",)})
    assert scanner.keys_in("550 (a@example.com:blocked)") == frozenset({"a", "b"})
    assert scanner.keys_in("550 a@example.com:blocked") == frozenset({"b"})
    with pytest.raises(ValueError, match="no literal beginning"):
        Scanner({"c": (r".{0,10}x",)})


def test_finder_tests_plain_phrases_as_substrings_and_the_rest_as_patterns() -> None:
    """A plain phrase is a substring test, escapes included; any other is a pattern search."""
    assert finder(r"5\.7\.1 denied")("550 5.7.1 denied here")
    assert not finder(r"5\.7\.1 denied")("550 5x7x1 denied here")
    assert finder(r"mailbox .{0,80}?full")("mailbox of kijitora is full")
    assert not finder("user unknown")("user")
