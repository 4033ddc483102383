"""Figures: what policy rules compare, computed from counter sums over a window.

Rule 1: a count is a counter metric summed over the window (``attempts`` = sent + deferred).
Rule 2: a ratio has a denominator, and a condition on it says nothing (neither true nor false)
until the denominator reaches the condition's `min_volume`, and never with a zero denominator.
Rule 3: a rule holds when every one of its conditions holds.

The counters (bounced/state/counters.py) only hold facts with a proven sender, so every figure
here is about mail the client or IP really sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

COUNTS = frozenset(
    {
        "sent",
        "delivered",
        "bounced",
        "deferred",
        "attempts",
        "hard",
        "soft",
        "block",
        "rate",
        "auth",
        "complaint",
        "trap",
    }
)


def _delivered_share(c: Counts) -> float:
    return max(0, c.count("sent") - c.count("hard") - c.count("block"))


# ratio -> (numerator, denominator): both computed from the counts.
_RATIOS: dict[str, tuple[Callable[[Counts], float], str]] = {
    "bounce_rate": (lambda c: c.count("hard"), "sent"),
    "block_rate": (lambda c: c.count("block"), "attempts"),
    "deferral_rate": (lambda c: c.count("deferred"), "attempts"),
    "complaint_rate": (lambda c: c.count("complaint"), "delivered"),
    "deliverability": (_delivered_share, "sent"),
}
RATIOS = frozenset(_RATIOS)
FIGURES = COUNTS | RATIOS


@dataclass(frozen=True, slots=True)
class Counts:
    """Counter sums of one subject over one window."""

    metrics: Mapping[str, int]

    def count(self, name: str) -> int:
        if name == "attempts":
            return self.metrics.get("sent", 0) + self.metrics.get("deferred", 0)
        return self.metrics.get(name, 0)

    def volume(self, figure: str) -> int | None:
        """The denominator of a ratio (None for a count, which needs none)."""
        if figure in _RATIOS:
            return self.count(_RATIOS[figure][1])
        return None

    def value(self, figure: str) -> float | None:
        """The figure, or None for a ratio whose denominator is zero."""
        if figure in _RATIOS:
            numerator, denominator = _RATIOS[figure]
            below = self.count(denominator)
            return numerator(self) / below if below else None
        return float(self.count(figure))


class ConditionLike(Protocol):
    """What `holds` needs of a condition (bounced.policy.config.Condition)."""

    @property
    def figure(self) -> str: ...
    @property
    def above(self) -> float | None: ...
    @property
    def at_least(self) -> float | None: ...
    @property
    def below(self) -> float | None: ...
    @property
    def min_volume(self) -> int: ...


def holds(condition: ConditionLike, counts: Counts) -> bool | None:
    """Whether a condition holds; None when its ratio lacks the volume to say."""
    volume = counts.volume(condition.figure)
    if volume is not None and (volume == 0 or volume < condition.min_volume):
        return None
    value = counts.value(condition.figure)
    if value is None:
        return None
    if condition.above is not None:
        return value > condition.above
    if condition.at_least is not None:
        return value >= condition.at_least
    if condition.below is not None:
        return value < condition.below
    return None


def all_hold(conditions: Sequence[ConditionLike], counts: Counts) -> bool | None:
    """True if every condition holds, False if one fails, None if one cannot tell."""
    unknown = False
    for condition in conditions:
        result = holds(condition, counts)
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True


def numbers(conditions: Sequence[ConditionLike], counts: Counts) -> dict[str, float]:
    """The figures and thresholds behind a decision, for its evidence."""
    out: dict[str, float] = {}
    for condition in conditions:
        value = counts.value(condition.figure)
        if value is not None:
            out[condition.figure] = round(value, 6)
        volume = counts.volume(condition.figure)
        if volume is not None:
            out[f"{condition.figure}.volume"] = float(volume)
        for name in ("above", "at_least", "below"):
            threshold = getattr(condition, name)
            if threshold is not None:
                out[f"{condition.figure}.{name}"] = float(threshold)
    return out
