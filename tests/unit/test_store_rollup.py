"""Counter roll-ups: how deltas fan out to coarse rows and how windows are cut into pieces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bounced.store.ports import CounterDelta
from bounced.store.rollup import GRAINS, expand, pieces

buckets = st.integers(min_value=-10_000, max_value=10_000)


@given(buckets, buckets)
def test_pieces_cover_the_window_exactly_once(a: int, b: int) -> None:
    """Every bucket of the window is in exactly one piece, and no bucket outside it is."""
    lo, hi = min(a, b), max(a, b)
    covered: list[int] = []
    for grain, first, last in pieces(lo, hi):
        assert first % grain == 0
        assert last % grain == 0
        for start in range(first, last + 1, grain):
            covered.extend(range(start, start + grain))
    assert covered == list(range(lo, hi + 1))


@given(buckets, buckets)
def test_pieces_stay_few(a: int, b: int) -> None:
    """A window needs at most one run of whole groups per grain, and finer runs only at its ends."""
    lo, hi = min(a, b), max(a, b)
    used = [grain for grain, _, _ in pieces(lo, hi)]
    assert len(used) <= 2 * len(GRAINS) - 1
    assert used.count(GRAINS[0]) <= 1


def test_seven_days_of_five_minute_buckets_read_few_rows() -> None:
    """An unaligned 7-day window reads at most 74 rows per metric, not 2,016."""
    lo = 1_000_003
    rows = sum((last - first) // grain + 1 for grain, first, last in pieces(lo, lo + 2015))
    assert rows <= 11 + 23 + 6 + 23 + 11


def test_empty_window_has_no_pieces() -> None:
    """A window that ends before it starts reads nothing."""
    assert pieces(10, 9) == []


def test_expand_adds_every_delta_at_every_grain() -> None:
    """Deltas are summed per row at each grain, rows that sum to zero are dropped."""
    deltas = [
        CounterDelta(scope="ip", key="192.0.2.1", bucket=290, metric="sent", delta=2),
        CounterDelta(scope="ip", key="192.0.2.1", bucket=291, metric="sent", delta=3),
        CounterDelta(scope="ip", key="192.0.2.1", bucket=-1, metric="soft", delta=1),
        CounterDelta(scope="ip", key="192.0.2.1", bucket=-1, metric="soft", delta=-1),
    ]
    assert expand(deltas) == [
        ("ip", "192.0.2.1", 1, 290, "sent", 2),
        ("ip", "192.0.2.1", 1, 291, "sent", 3),
        ("ip", "192.0.2.1", 12, 288, "sent", 5),
        ("ip", "192.0.2.1", 288, 288, "sent", 5),
    ]
