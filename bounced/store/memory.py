"""An in-memory `Store` with the same semantics as the databases, for unit tests.

Theory of operation. State lives in plain dicts. `commit` first plays the whole unit against a
scratch overlay (offsets and documents it would change), checking every compare-and-set in the
order the SQL stores check them, and only when all of them pass does it apply the unit; a
`ConflictError` therefore leaves everything as it was, as a rolled-back transaction would.

Documents go through the same JSON encoding as the SQL stores on the way in and out, so what a
test can store here a database can store too, and a caller that mutates a loaded document does not
change the stored one. Everything else follows the contract in ``tests/contract``: the same
test suite runs against this class and against `SqliteStore`.

`fail_next` makes the next calls raise `StoreError`, so daemon tests can show that a store outage
pauses the work instead of losing it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import orjson

from bounced.errors import StoreError
from bounced.store.ports import (
    ConflictError,
    OutboxRecord,
    Stored,
    UnitOfWork,
    WindowQuery,
)


@dataclass(slots=True)
class _Document:
    data: bytes  # JSON, decoded afresh for every reader
    version: int
    due_at: int | None

    def stored(self) -> Stored:
        return Stored(data=orjson.loads(self.data), version=self.version, due_at=self.due_at)


@dataclass(slots=True)
class _Event:
    record: OutboxRecord  # frozen, safe to hand out
    sent_at: int | None = None


class MemoryStore:
    """The `Store` port on dicts; one instance is one database."""

    def __init__(self) -> None:
        self._offsets: dict[tuple[str, str, int], int] = {}
        self._fingerprints: dict[str, int] = {}
        # (scope, subject) -> (bucket, metric) -> value: a window reads one subject's buckets.
        self._counters: dict[tuple[str, str], dict[tuple[int, str], int]] = {}
        self._horizon: int | None = None  # windows start no earlier (see bounced.store.rollup)
        self._documents: dict[tuple[str, str], _Document] = {}
        self._outbox: dict[str, _Event] = {}  # insertion order is storage order
        self._failures = 0
        self._closed = False

    def fail_next(self, calls: int = 1) -> None:
        """Make the next `calls` store calls raise `StoreError` (a simulated outage)."""
        self._failures = calls

    def _check(self, operation: str) -> None:
        if self._closed:
            raise StoreError(f"memory {operation} failed: the store is closed")
        if self._failures > 0:
            self._failures -= 1
            raise StoreError(f"memory {operation} failed: simulated outage (retryable)")

    # -- lifecycle --------------------------------------------------------------------------

    def migrate(self) -> None:
        """Nothing to create; present for the port."""
        self._check("migrate")

    def close(self) -> None:
        """Later calls raise `StoreError`, as they do on a closed database."""
        self._closed = True

    # -- reads ------------------------------------------------------------------------------

    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The next offset to read for every (topic, partition) the group has stored."""
        self._check("offsets")
        return {(t, p): o for (g, t, p), o in self._offsets.items() if g == group}

    def seen(self, fingerprints: Collection[str]) -> set[str]:
        """The subset of fingerprints already stored."""
        self._check("seen")
        return {f for f in fingerprints if f in self._fingerprints}

    def load(self, kind: str, keys: Collection[str]) -> dict[str, Stored]:
        """The stored documents of one kind for these keys (absent keys are left out)."""
        self._check("load")
        found = ((key, self._documents.get((kind, key))) for key in keys)
        return {key: doc.stored() for key, doc in found if doc is not None}

    def scan(self, kind: str, prefix: str = "", limit: int = 1000) -> dict[str, Stored]:
        """Documents of one kind whose key starts with `prefix`, in key order, at most `limit`."""
        self._check("scan")
        # Python orders str by code point, as SQLite orders TEXT (UTF-8 bytes).
        keys = sorted(k for d, k in self._documents if d == kind and k.startswith(prefix))
        return {k: self._documents[kind, k].stored() for k in keys[:limit]}

    def due(self, now: int, limit: int) -> list[tuple[str, str, Stored]]:
        """Documents whose `due_at` is at or before `now`, oldest first (ties by kind and key)."""
        self._check("due")
        ready = sorted(
            (doc.due_at, kind, key)
            for (kind, key), doc in self._documents.items()
            if doc.due_at is not None and doc.due_at <= now
        )
        return [(kind, key, self._documents[kind, key].stored()) for _, kind, key in ready[:limit]]

    def window(self, queries: Collection[WindowQuery]) -> dict[WindowQuery, dict[str, int]]:
        """For each query, the non-zero sum of every metric over its buckets (buckets below the
        prune horizon count as empty, as in the SQL stores)."""
        self._check("window")
        result: dict[WindowQuery, dict[str, int]] = {}
        for q in queries:
            first = q.first_bucket if self._horizon is None else max(q.first_bucket, self._horizon)
            sums: dict[str, int] = {}
            for (bucket, metric), value in self._counters.get((q.scope, q.key), {}).items():
                if first <= bucket <= q.last_bucket:
                    sums[metric] = sums.get(metric, 0) + value
            result[q] = {metric: total for metric, total in sums.items() if total != 0}
        return result

    def pending(self, limit: int) -> list[OutboxRecord]:
        """Output events not yet marked sent, in the order they were stored."""
        self._check("pending")
        unsent = (e.record for e in self._outbox.values() if e.sent_at is None)
        return [record for record, _ in zip(unsent, range(limit), strict=False)]

    def event(self, event_id: str) -> OutboxRecord | None:
        """One stored output event by id, sent or not."""
        self._check("event")
        found = self._outbox.get(event_id)
        return None if found is None else found.record

    # -- writes -----------------------------------------------------------------------------

    def commit(self, unit: UnitOfWork) -> None:
        """Store a unit atomically; `ConflictError` (and nothing changed) if any CAS fails."""
        self._check("commit")
        # Play the compare-and-sets on an overlay, in the SQL stores' order.
        offsets: dict[tuple[str, str, int], int] = {}
        for o in unit.offsets:
            place = (unit.group, o.topic, o.partition)
            current = offsets.get(place, self._offsets.get(place))
            if current != o.previous:
                raise ConflictError(
                    f"offset of {o.topic}[{o.partition}] for group {unit.group} "
                    f"is no longer {o.previous}"
                )
            offsets[place] = o.next
        documents: dict[tuple[str, str], _Document] = {}
        for w in unit.entities:
            slot = (w.kind, w.key)
            doc = documents.get(slot, self._documents.get(slot))
            if (0 if doc is None else doc.version) != w.expected_version:
                # The key is left out on purpose: it may be an e-mail address.
                raise ConflictError(
                    f"a {w.kind} document is no longer at version {w.expected_version}"
                )
            documents[slot] = _Document(orjson.dumps(w.data), w.expected_version + 1, w.due_at)
        # Every check passed: apply.
        self._offsets.update(offsets)
        self._documents.update(documents)
        for c in unit.counters:
            buckets = self._counters.setdefault((c.scope, c.key), {})
            buckets[c.bucket, c.metric] = buckets.get((c.bucket, c.metric), 0) + c.delta
        for fingerprint, seen_at in unit.fingerprints:
            self._fingerprints.setdefault(fingerprint, seen_at)
        for record in unit.outbox:
            if record.id not in self._outbox:
                self._outbox[record.id] = _Event(_copy(record))

    def mark_sent(self, ids: Sequence[str], sent_at: int) -> None:
        """Record that these events were produced; the first acknowledgement's time is kept."""
        self._check("mark_sent")
        for event_id in ids:
            found = self._outbox.get(event_id)
            if found is not None and found.sent_at is None:
                found.sent_at = sent_at

    def prune(
        self, *, fingerprints_before: int, events_before: int, counters_before_bucket: int
    ) -> None:
        """Drop old fingerprints, events sent before `events_before`, and old counter buckets."""
        self._check("prune")
        self._fingerprints = {
            f: at for f, at in self._fingerprints.items() if at >= fingerprints_before
        }
        self._outbox = {
            i: e for i, e in self._outbox.items() if e.sent_at is None or e.sent_at >= events_before
        }
        if self._horizon is None or counters_before_bucket > self._horizon:
            self._horizon = counters_before_bucket
        for subject, buckets in list(self._counters.items()):
            kept = {k: v for k, v in buckets.items() if k[0] >= counters_before_bucket}
            if kept:
                self._counters[subject] = kept
            else:
                del self._counters[subject]


def _copy(record: OutboxRecord) -> OutboxRecord:
    """The record as a database returns it: plain bytes, headers as a tuple of pairs."""
    return OutboxRecord(
        id=record.id,
        topic=record.topic,
        key=None if record.key is None else bytes(record.key),
        value=bytes(record.value),
        headers=tuple((name, bytes(value)) for name, value in record.headers),
        created_at=record.created_at,
        partition_hint=record.partition_hint,
    )
