"""Ports of the I/O shell: where records come from and where events go.

The Kafka adapter (bounced/io/kafka.py) implements them for real; bounced/io/memory.py has
in-memory fakes for unit tests. The daemon only knows these protocols.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bounced.store.ports import OutboxRecord

TopicPartition = tuple[str, int]
# Called when partitions are assigned: returns the stored next offset of each (None: none stored).
OnAssigned = Callable[[set[TopicPartition]], Awaitable[dict[TopicPartition, int | None]]]
# Called before partitions are taken away: returns once in-flight work for them is stored.
OnRevoked = Callable[[set[TopicPartition]], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class InRecord:
    """One consumed record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = field(repr=False)  # record contents are personal data: never in logs
    value: bytes | None = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    timestamp_ms: int = 0


class MessageSource(Protocol):
    """A consumer-group member over the input topics; offsets come from our store."""

    async def start(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None: ...

    async def stop(self) -> None: ...

    async def fetch(
        self, max_records: int, timeout_ms: int
    ) -> dict[TopicPartition, list[InRecord]]: ...

    async def commit_hint(self, offsets: dict[TopicPartition, int]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...


class EventSink(Protocol):
    """A producer that returns only once every record is acknowledged (acks=all)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, records: Sequence[OutboxRecord]) -> None: ...
