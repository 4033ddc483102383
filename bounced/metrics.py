"""Prometheus metrics and the plain counts the demo and the tests read.

Each daemon owns a `Metrics` with its own registry (several daemons can run in one test
process); /metrics on the HTTP server exposes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass(slots=True)
class Counts:
    """Totals since start, for summaries and tests."""

    consumed: int = 0
    signals: int = 0
    dead_letters: int = 0
    duplicates: int = 0
    produced: int = 0
    conflicts: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


class Metrics:
    """The daemon's instruments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.counts = Counts()
        r = self.registry
        self.consumed = Counter(
            "bounced_records_consumed", "Input records consumed", ["topic"], registry=r
        )
        self.signals = Counter("bounced_signals", "Signals emitted", ["category"], registry=r)
        self.dead_letters = Counter(
            "bounced_dead_letters", "Inputs sent to the dead-letter topic", ["code"], registry=r
        )
        self.duplicates = Counter(
            "bounced_duplicates", "Inputs ignored because their fingerprint was seen", registry=r
        )
        self.decisions = Counter("bounced_decisions", "Decisions emitted", ["type"], registry=r)
        self.produced = Counter("bounced_events_produced", "Output events produced", registry=r)
        self.conflicts = Counter(
            "bounced_store_conflicts", "Units retried after a compare-and-set conflict", registry=r
        )
        self.retries = Counter(
            "bounced_dependency_retries",
            "Retries after a failed dependency",
            ["dependency"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "bounced_batch_seconds",
            "Time to process, store and produce one batch",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.ready = Gauge("bounced_ready", "1 when the daemon is consuming normally", registry=r)
        self.outbox_pending = Gauge(
            "bounced_outbox_pending", "Events stored but not yet produced (last seen)", registry=r
        )

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
