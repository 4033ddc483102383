"""The store port: a narrow, synchronous interface that SQLite and PostgreSQL both implement.

Theory of operation. The daemon works in units: it reads the state a batch of input needs
(`load`, `window`, `seen`), runs the pure pipeline and policy on values, and writes everything the
batch produced in one `commit`: counter increments, state-machine rows, output events (the
outbox), input fingerprints and the consumed offsets. Either all of it is stored or none of it.

State machines (suppressions, throttles, pool membership, warm-up...) are stored as versioned
JSON documents keyed by (kind, key): the store does not know their shape, which keeps this
interface narrow and the SQL portable. Every write states the version it read; a write whose
version no longer matches fails the whole commit with `ConflictError`, so two instances that see
the same threshold crossing cannot both fire the same decision: the loser reloads and re-decides.
Offsets are written the same way (compare-and-set on the previous offset), which also fences a
consumer that lost its partition in a rebalance but has not noticed yet.

Counters are commutative increments in time buckets and need no versions.

The interface is synchronous on purpose: SQLite is, and the daemon runs the store in one worker
thread so that neither database blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class ConflictError(Exception):
    """A compare-and-set failed: someone else changed the row (or offset) first. Retry the unit."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """A state-machine document as stored, with the version a write must quote."""

    data: dict[str, Any]
    version: int
    due_at: int | None = None  # epoch seconds of its next time-driven transition


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityWrite:
    """Write one document if its stored version is still `expected_version` (0: must not exist)."""

    kind: str
    key: str
    data: dict[str, Any]
    expected_version: int
    due_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterDelta:
    """Add `delta` to one metric of one subject in one time bucket."""

    scope: str  # client | ip | client_provider | ip_provider
    key: str
    bucket: int  # epoch seconds // bucket width
    metric: str
    delta: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowQuery:
    """Sum the metrics of one subject over buckets [first_bucket, last_bucket]."""

    scope: str
    key: str
    first_bucket: int
    last_bucket: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRecord:
    """One output event, stored before it is produced. The id is deterministic."""

    id: str
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    created_at: int = 0  # epoch milliseconds
    partition_hint: str = ""  # the input topic/partition it came from ("" for timer events)


@dataclass(frozen=True, slots=True, kw_only=True)
class OffsetAdvance:
    """Move the stored next offset of a partition from `previous` (None: not stored yet)."""

    topic: str
    partition: int
    previous: int | None
    next: int


@dataclass(slots=True, kw_only=True)
class UnitOfWork:
    """Everything one batch produced; committed atomically by `Store.commit`."""

    group: str
    offsets: list[OffsetAdvance] = field(default_factory=list)
    fingerprints: list[tuple[str, int]] = field(default_factory=list)  # (fingerprint, seen_at)
    counters: list[CounterDelta] = field(default_factory=list)
    entities: list[EntityWrite] = field(default_factory=list)
    outbox: list[OutboxRecord] = field(default_factory=list)


class Store(Protocol):
    """What the daemon needs from a database. Implementations translate driver errors into
    `bounced.errors.StoreError` (retryable) and CAS failures into `ConflictError`."""

    def migrate(self) -> None:
        """Create or upgrade the schema (versioned migrations, idempotent)."""

    def close(self) -> None:
        """Release connections."""

    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The next offset to read for every (topic, partition) the group has stored."""

    def seen(self, fingerprints: Collection[str]) -> set[str]:
        """The subset of fingerprints already stored."""

    def load(self, kind: str, keys: Collection[str]) -> dict[str, Stored]:
        """The stored documents of one kind for these keys (absent keys are left out)."""

    def scan(self, kind: str, prefix: str = "", limit: int = 1000) -> dict[str, Stored]:
        """Documents of one kind whose key starts with `prefix` (lookups, operator views)."""

    def due(self, now: int, limit: int) -> list[tuple[str, str, Stored]]:
        """Documents whose `due_at` has passed: (kind, key, document), oldest first."""

    def window(self, queries: Collection[WindowQuery]) -> dict[WindowQuery, dict[str, int]]:
        """For each query, the sum of every metric over its buckets (empty metrics omitted).

        Buckets below the horizon of the last `prune` count as empty, even if written later."""

    def commit(self, unit: UnitOfWork) -> None:
        """Store a unit atomically. Raises `ConflictError` if any compare-and-set fails."""

    def pending(self, limit: int) -> list[OutboxRecord]:
        """Output events not yet marked sent, in the order they were stored."""

    def mark_sent(self, ids: Sequence[str], sent_at: int) -> None:
        """Record that these events were produced (acknowledged by the broker)."""

    def event(self, event_id: str) -> OutboxRecord | None:
        """One stored output event by id (for `bounced explain`)."""

    def prune(
        self, *, fingerprints_before: int, events_before: int, counters_before_bucket: int
    ) -> None:
        """Drop fingerprints seen and events sent before the given epoch seconds, and counter
        buckets numbered below `counters_before_bucket`."""
