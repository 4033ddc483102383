"""The upper bound that turns a key prefix into an index range for `SqliteStore.scan`."""

from __future__ import annotations

import pytest

from bounced.store.sqlite import prefix_upper_bound


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("client-1|", "client-1}"),
        ("a", "b"),
        ("a\U0010ffff", "b"),
        ("\ud7ff", "\ue000"),
        ("\U0010ffff\U0010ffff", None),
        ("", None),
    ],
)
def test_bound_is_the_next_string_after_the_prefix(prefix: str, bound: str | None) -> None:
    """The bound increments the last code point that can be, skipping the surrogate block."""
    assert prefix_upper_bound(prefix) == bound


@pytest.mark.parametrize("key", ["ab", "ab\U0010ffff", "ab\x00", "ab" + "\uffff" * 3])
def test_every_key_with_the_prefix_is_below_the_bound(key: str) -> None:
    """Keys that start with the prefix sort at or after it and before the bound."""
    bound = prefix_upper_bound("ab")
    assert bound is not None
    assert "ab" <= key < bound
    assert bound <= "ac"  # the next prefix is out
