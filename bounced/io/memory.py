"""In-memory fakes of the message source and the event sink, for unit tests of the daemon.

`MemoryLog` holds topics as lists of records per partition. `MemorySource` is a consumer-group
member that owns every partition of its topics (a group of one): on start it asks for the stored
offsets, as the Kafka adapter does on assignment, and reads from there. `MemorySink` appends
produced records to the log and can be told to fail, to show that outages pause the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bounced.errors import BrokerError
from bounced.io.ports import InRecord, OnAssigned, OnRevoked, TopicPartition
from bounced.store.ports import OutboxRecord


class MemoryLog:
    """Topics -> partitions -> records."""

    def __init__(self, partitions: int = 1) -> None:
        self.partitions = partitions
        self.topics: dict[str, list[list[InRecord]]] = {}

    def topic(self, name: str) -> list[list[InRecord]]:
        return self.topics.setdefault(name, [[] for _ in range(self.partitions)])

    def append(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: tuple[tuple[str, bytes], ...] = (),
        partition: int | None = None,
        timestamp_ms: int = 0,
    ) -> InRecord:
        parts = self.topic(topic)
        index = (hash(key) % self.partitions if key else 0) if partition is None else partition
        record = InRecord(
            topic=topic,
            partition=index,
            offset=len(parts[index]),
            key=key,
            value=value,
            headers=headers,
            timestamp_ms=timestamp_ms,
        )
        parts[index].append(record)
        return record

    def records(self, topic: str) -> list[InRecord]:
        """Every record of a topic, partition by partition."""
        return [r for part in self.topic(topic) for r in part]


class MemorySource:
    """A group of one over some topics of a `MemoryLog`."""

    def __init__(self, log: MemoryLog, topics: Sequence[str]) -> None:
        self.log = log
        self.topics = list(topics)
        self.positions: dict[TopicPartition, int] = {}
        self.hints: dict[TopicPartition, int] = {}
        self.started = False
        self._revoked: OnRevoked | None = None

    async def start(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None:
        partitions = {
            (topic, p) for topic in self.topics for p in range(len(self.log.topic(topic)))
        }
        stored = await on_assigned(partitions)
        self.positions = {tp: stored.get(tp) or 0 for tp in partitions}
        # Records before the stored offsets were reported done by an earlier run.
        for tp, position in self.positions.items():
            self.hints[tp] = max(self.hints.get(tp, 0), position)
        self._revoked = on_revoked
        self.started = True

    async def stop(self) -> None:
        if self.started and self._revoked is not None:
            await self._revoked(set(self.positions))
        self.started = False

    async def fetch(
        self, max_records: int, timeout_ms: int
    ) -> dict[TopicPartition, list[InRecord]]:
        out: dict[TopicPartition, list[InRecord]] = {}
        budget = max_records
        for tp, position in sorted(self.positions.items()):
            records = self.log.topic(tp[0])[tp[1]][position : position + budget]
            if records:
                out[tp] = records
                self.positions[tp] = position + len(records)
                budget -= len(records)
            if budget <= 0:
                break
        if not out:
            await asyncio.sleep(min(timeout_ms, 20) / 1000)
        return out

    async def commit_hint(self, offsets: dict[TopicPartition, int]) -> None:
        self.hints.update(offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.positions[partition] = offset

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def unhandled(self) -> int:
        """Records the daemon has not yet reported done, fetched or not: the offset hints it
        sends once a batch is stored (or the offsets an earlier run stored) fall short of each
        partition's end by that many. A record counts from its arrival to its batch being
        stored: waiting for this, unlike for fetches, never stops a daemon with a batch in
        hand."""
        return sum(len(self.log.topic(t)[p]) - self.hints.get((t, p), 0) for t, p in self.positions)


class MemorySink:
    """Appends produced records to a `MemoryLog`; `fail` makes sends raise BrokerError."""

    def __init__(self, log: MemoryLog) -> None:
        self.log = log
        self.failures = 0
        self.sent: list[OutboxRecord] = []

    def fail(self, times: int) -> None:
        self.failures = times

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, records: Sequence[OutboxRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise BrokerError("the broker is unavailable (simulated)")
        for record in records:
            self.sent.append(record)
            self.log.append(record.topic, record.value, key=record.key, headers=record.headers)
