"""Helpers for tests against the embedded broker: raw production, reading back, fetch loops."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from bounced.errors import StoreError
from bounced.io.kafka import KafkaSource
from bounced.io.ports import InRecord, TopicPartition

Batches = dict[TopicPartition, list[InRecord]]


@dataclass(frozen=True, slots=True)
class Raw:
    """A record to produce as is, into a chosen partition."""

    partition: int
    value: bytes
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


async def produce(bootstrap: str, topic: str, records: Sequence[Raw]) -> None:
    """Write records into their partitions with a plain producer, in as few batches as it can."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic, value=r.value, key=r.key, headers=list(r.headers), partition=r.partition
            )
            for r in records
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def fetch_until(
    source: KafkaSource, done: Callable[[Batches], bool], *, bound: float = 15.0
) -> Batches:
    """Fetch into one dict of lists until `done` says so or `bound` seconds passed."""
    got: Batches = {}
    deadline = time.monotonic() + bound
    while not done(got) and time.monotonic() < deadline:
        for partition, records in (await source.fetch(500, 100)).items():
            got.setdefault(partition, []).extend(records)
    return got


def offsets(batches: Batches) -> dict[TopicPartition, list[int]]:
    """The offsets fetched per partition."""
    return {p: [r.offset for r in records] for p, records in batches.items()}


def count(expected: int) -> Callable[[Batches], bool]:
    """A `fetch_until` condition: at least `expected` records in all."""
    return lambda got: sum(map(len, got.values())) >= expected


class Member:
    """A consumer-group member whose callbacks are recorded; `stored` plays the store."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        stored: dict[TopicPartition, int] | None = None,
    ) -> None:
        # A short session makes Tansu form the group in about a second instead of five.
        self.source = KafkaSource(
            bootstrap=bootstrap,
            group=group,
            topics=topics,
            session_timeout_ms=2000,
            heartbeat_interval_ms=500,
            start_timeout=10.0,
            stop_timeout=5.0,
        )
        self.stored: dict[TopicPartition, int] = dict(stored or {})
        self.events: list[tuple[str, set[TopicPartition]]] = []
        self.failures = 0  # on_assigned raises StoreError this many times first

    async def on_assigned(
        self, partitions: set[TopicPartition]
    ) -> dict[TopicPartition, int | None]:
        self.events.append(("assigned", set(partitions)))
        if self.failures:
            self.failures -= 1
            raise StoreError("the store is down (simulated)")
        return {p: self.stored.get(p) for p in partitions}

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        self.events.append(("revoked", set(partitions)))

    async def __aenter__(self) -> Member:
        await self.source.start(self.on_assigned, self.on_revoked)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.source.stop()
