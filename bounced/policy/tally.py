"""What a batch adds to the counters, and counter sums that include it.

Theory of operation. The daemon loads counter windows before a batch is stored, so what the store
returns lacks the batch's own facts; `Tally` adds them back, bucket by bucket, so that a rule sees
the rate-limit reply that just arrived. The increments come from the same functions the engine
uses to store them (bounced/state/counters.py), plus the spam-trap hits only the policy can tell.

A window is a range of five-minute buckets ending at an anchor: the newest fact of the subject in
the batch for rules evaluated as facts arrive (so a replay of old records is judged as of their
time, not of the clock), or `now` for rules evaluated by the timer. Throttle rules also clip the
window at the subject's last transition (`since`): a subject that just resumed needs new trouble
to be held again, not the replies that held it before. Those windows are loaded one bucket per
query, since where to clip is only known once the subject's document is loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bounced.classify.providers import provider_of
from bounced.engine import Batch, Loaded, Recorded, Tipped
from bounced.model import Category
from bounced.policy.config import PolicyConfig
from bounced.policy.figures import Counts
from bounced.records import DeliveryEvent
from bounced.state.counters import (
    bucket_of,
    deltas_for_trap,
)
from bounced.store.ports import CounterDelta, WindowQuery

Subject = tuple[str, str]  # (scope, key): ("ip_provider", "192.0.2.1|gmail")
Increment = tuple[int, str, int]  # (bucket, metric, delta)


@functools.lru_cache(maxsize=4096)
def _provider(domain: str, mx_host: str | None) -> str:
    return str(provider_of(f"postmaster@{domain}", mx_host))


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """One signal or delivery record of the batch, as the rules look at it."""

    when: float  # when it happened (the input's time)
    recipient: str  # lower-cased
    provider: str
    client: str | None  # set only when proven (Attribution.verified or the delivery log)
    ip: str | None  # likewise
    category: Category | None  # the signal's category; None for a record
    event: DeliveryEvent | None  # the record's event; None for a signal
    tipped: Tipped | None = None
    recorded: Recorded | None = None
    trap: bool = False

    @property
    def order(self) -> tuple[float, str, int]:
        item = self.tipped.input if self.tipped else self.recorded.input if self.recorded else None
        return (self.when, item.fingerprint if item else "", 0 if self.recorded else 1)


@dataclass(slots=True)
class BatchView:
    """The batch's facts in time order, with their counter increments by subject."""

    facts: list[Fact] = field(default_factory=list)
    trap_deltas: list[CounterDelta] = field(default_factory=list)
    deltas: dict[Subject, list[Increment]] = field(default_factory=dict)
    counting: bool = True

    @classmethod
    def of(cls, batch: Batch, policy: PolicyConfig, *, counting: bool = True) -> BatchView:
        """The batch's facts; with `counting`, also what they add to each subject's counters
        (`batch.counters`: the increments the engine computed once and stores)."""
        view = cls(counting=counting)
        if counting:
            view._add(batch.counters)
        traps = policy.traps
        for t in batch.signals:
            s = t.signal
            who = s.attribution
            proven = who.verified
            trap = traps.is_trap(s.recipient)
            view.facts.append(
                Fact(
                    when=t.input.timestamp,
                    recipient=s.recipient.lower(),
                    provider=str(s.provider),
                    client=who.client if proven else None,
                    ip=who.sending_ip if proven else None,
                    category=s.category,
                    event=None,
                    tipped=t,
                    trap=trap,
                )
            )
            if trap and proven and t.input.record is None:  # a record counts its own hit
                view._trap(who.client, who.sending_ip, str(s.provider), t.input.timestamp)
        for r in batch.records:
            rec = r.record
            provider = _provider(rec.recipient.rpartition("@")[2].lower(), rec.mx_host)
            trap = traps.is_trap(rec.recipient)
            view.facts.append(
                Fact(
                    when=rec.timestamp,
                    recipient=rec.recipient.lower(),
                    provider=provider,
                    client=rec.client,
                    ip=rec.sending_ip,
                    category=None,
                    event=rec.event,
                    recorded=r,
                    trap=trap,
                )
            )
            if trap and rec.event is not DeliveryEvent.DEFERRED:
                view._trap(rec.client, rec.sending_ip, provider, rec.timestamp)
        view.facts.sort(key=lambda f: f.order)
        return view

    def _add(self, deltas: Sequence[CounterDelta]) -> None:
        for d in deltas:
            self.deltas.setdefault((d.scope, d.key), []).append((d.bucket, d.metric, d.delta))

    def _trap(self, client: str | None, ip: str | None, provider: str, when: float) -> None:
        deltas = deltas_for_trap(client, ip, provider, when)
        self.trap_deltas.extend(deltas)
        if self.counting:
            self._add(deltas)


def span(anchor: float, seconds: int) -> tuple[int, int]:
    """The buckets of a window of `seconds` ending with the bucket of `anchor`."""
    last = bucket_of(anchor)
    return last - seconds // 300 + 1, last


def per_bucket(scope: str, key: str, first: int, last: int) -> Iterator[WindowQuery]:
    """One query per bucket (for windows clipped once the documents are loaded)."""
    for bucket in range(first, last + 1):
        yield WindowQuery(scope=scope, key=key, first_bucket=bucket, last_bucket=bucket)


def whole(scope: str, key: str, first: int, last: int) -> WindowQuery:
    return WindowQuery(scope=scope, key=key, first_bucket=first, last_bucket=last)


class Tally:
    """Counter sums over loaded windows plus the batch's own increments."""

    def __init__(self, loaded: Loaded, view: BatchView | None = None) -> None:
        self._windows = loaded.windows
        self._view = view

    def counts(
        self, scope: str, key: str, first: int, last: int, *, since: float | None = None
    ) -> Counts:
        """Sums over buckets [first, last]; with `since`, stored counts only from the buckets
        after the one holding `since`, and the batch's own from that bucket on (they are new)."""
        lo = first if since is None else max(first, bucket_of(since) + 1)
        metrics: dict[str, int] = {}
        if lo <= last:
            stored = self._windows.get(whole(scope, key, lo, last))
            if stored is None:
                for bucket in range(lo, last + 1):
                    _merge(metrics, self._windows.get(whole(scope, key, bucket, bucket), {}))
            else:
                _merge(metrics, stored)
        if self._view is not None:
            for bucket, metric, delta in self._view.deltas.get((scope, key), ()):
                if first <= bucket <= last and (since is None or bucket >= lo - 1):
                    metrics[metric] = metrics.get(metric, 0) + delta
        return Counts(metrics)


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for metric, value in more.items():
        into[metric] = into.get(metric, 0) + value
