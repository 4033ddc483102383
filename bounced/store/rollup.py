"""Counter roll-ups for the SQL stores: long windows read a few coarse rows, not every bucket.

Theory of operation. Every counter delta is stored at three grains: its own bucket (grain 1) and
the groups of 12 and 288 buckets that hold it, each row keyed by the first bucket of its group.
With the daemon's 5-minute buckets those groups are the hour and the day. A window [lo, hi] is
cut into the coarsest whole groups that fit inside it, and finer pieces at both ends, so a 7-day
window reads at most 11 + 23 + 6 + 23 + 11 rows per metric instead of 2,016, and a 24-hour one
about 35 instead of 288. The price is three counter rows written per fine row; with a week of
history, windows for every subject of a batch cost about a tenth of what they cost without
(figures in benchmarks/store.py's report).

The grains are part of the stored data: changing them needs a migration that rebuilds the coarse
rows, never a setting, and every store sharing a database must use the same ones.

Pruning below bucket B removes the rows of every grain whose group starts below B, and records B
as the counters' horizon; windows never start before the horizon. A coarse group that straddles
B is gone with the rest, so a window reaching below B would otherwise miss part of it; clamped,
a window sums exactly the buckets that are left, as a store without roll-ups would.
"""

from __future__ import annotations

from collections.abc import Iterable

from bounced.store.ports import CounterDelta

# Coarsest first; each grain divides the one before it. With 5-minute buckets: day, hour, bucket.
GRAINS: tuple[int, ...] = (288, 12, 1)

# (scope, subject, grain, first bucket of the group, metric, value)
Row = tuple[str, str, int, int, str, int]


def expand(deltas: Iterable[CounterDelta]) -> list[Row]:
    """The rows a unit's deltas add to, at every grain: summed per row, zero sums dropped,
    sorted so that neighbouring rows share pages (and concurrent writers lock in one order)."""
    totals: dict[tuple[str, str, int, int, str], int] = {}
    for d in deltas:
        for grain in GRAINS:
            row = (d.scope, d.key, grain, d.bucket - d.bucket % grain, d.metric)
            totals[row] = totals.get(row, 0) + d.delta
    return sorted((*row, value) for row, value in totals.items() if value != 0)


def pieces(lo: int, hi: int, grains: tuple[int, ...] = GRAINS) -> list[tuple[int, int, int]]:
    """Cover buckets [lo, hi] with whole groups: (grain, first group start, last group start),
    coarsest in the middle, finer toward the ends."""
    if lo > hi:
        return []
    grain, finer = grains[0], grains[1:]
    if not finer:
        return [(grain, lo, hi)]
    first = -(-lo // grain) * grain  # the first group starting at or after lo
    end = (hi + 1) // grain * grain  # one past the last group ending at or before hi
    if first >= end:
        return pieces(lo, hi, finer)
    return [*pieces(lo, first - 1, finer), (grain, first, end - grain), *pieces(end, hi, finer)]
