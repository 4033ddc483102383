"""The Kafka adapter and the embedded broker, against a real Tansu broker.

Consumer groups take about a second to form here (short sessions), so tests that need one keep
to one or two members; every wait is bounded by `fetch_until` or the adapter's own bounds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bounced.errors import BrokerError, StoreError
from bounced.io.broker import EmbeddedBroker, free_port, kafka_ready
from bounced.io.kafka import KafkaAdmin, KafkaSink
from bounced.io.ports import InRecord
from bounced.store.ports import OutboxRecord
from tests.integration.kafka_support import Member, Raw, count, fetch_until, offsets, produce

pytestmark = pytest.mark.integration

Topics = Callable[..., Awaitable[list[str]]]
ReadAll = Callable[[str], Awaitable[list[InRecord]]]
HANG = 10.0  # seconds: generous bound that only catches hangs


def event(topic: str, n: int, *, key: bytes | None = None) -> OutboxRecord:
    return OutboxRecord(
        id=f"e{n}",
        topic=topic,
        key=key,
        value=b'{"n": %d}' % n,
        headers=(("event-id", f"e{n}".encode()), ("empty", b"")),
    )


async def test_kafka_round_trip_keeps_keys_values_and_headers(
    bootstrap: str, topics: Topics, read_all: ReadAll
) -> None:
    """Records sent by the sink come out of a group member with their keys, values and headers."""
    [topic] = await topics(partitions=2)
    sent = [event(topic, n, key=b"client-%d" % (n % 3)) for n in range(12)] + [event(topic, 12)]
    async with KafkaSink(bootstrap=bootstrap) as sink:
        await sink.send(sent)

    async with Member(bootstrap, f"{topic}-g", [topic]) as member:
        got = await fetch_until(member.source, count(len(sent)))

    def shape(r: InRecord | OutboxRecord) -> tuple[bool, bytes, bytes | None, object]:
        return (r.key is None, r.key or b"", r.value, r.headers)

    received = [r for records in got.values() for r in records]
    assert sorted(map(shape, received)) == sorted(map(shape, sent))
    assert sorted(map(shape, await read_all(topic))) == sorted(map(shape, sent))
    partitions_of_key: dict[bytes | None, set[int]] = {}
    for r in received:
        partitions_of_key.setdefault(r.key, set()).add(r.partition)
        assert r.timestamp_ms > 0
    assert all(len(ps) == 1 for key, ps in partitions_of_key.items() if key is not None)


async def test_kafka_assignment_seeks_to_stored_offsets(bootstrap: str, topics: Topics) -> None:
    """Each assigned partition starts at its stored offset, or at the earliest if none is stored."""
    a, b = await topics(2, partitions=2)
    for topic in (a, b):
        await produce(bootstrap, topic, [Raw(p, b"r%d" % n) for p in (0, 1) for n in range(6)])
    stored = {(a, 0): 4, (a, 1): 6}  # (a, 1) is fully done; nothing stored for b

    async with Member(bootstrap, f"{a}-g", [a, b], stored) as member:
        got = await fetch_until(member.source, count(2 + 6 + 6))
        got.update(await fetch_until(member.source, lambda _: False, bound=0.5))
        assert member.events == [("assigned", {(a, 0), (a, 1), (b, 0), (b, 1)})]

    assert offsets(got) == {(a, 0): [4, 5], (b, 0): list(range(6)), (b, 1): list(range(6))}


async def test_kafka_restart_resumes_from_stored_offsets_not_kafka_commits(
    bootstrap: str, topics: Topics
) -> None:
    """A restarted member reads from the stored offsets, whatever was committed to Kafka."""
    [topic] = await topics(partitions=1)
    await produce(bootstrap, topic, [Raw(0, b"r%d" % n) for n in range(10)])
    group = f"{topic}-g"

    async with Member(bootstrap, group, [topic]) as first:
        got = await fetch_until(first.source, count(10))
        await first.source.commit_hint({(topic, 0): 10})  # Kafka believes everything is done
    assert offsets(got) == {(topic, 0): list(range(10))}
    assert [name for name, _ in first.events] == ["assigned", "revoked"]  # stop hands back

    async with Member(bootstrap, group, [topic], {(topic, 0): 4}) as second:
        again = await fetch_until(second.source, count(6))
    assert offsets(again) == {(topic, 0): list(range(4, 10))}


async def test_kafka_rebalance_revokes_then_assigns_from_stored_offsets(
    bootstrap: str, topics: Topics
) -> None:
    """When a second member joins, the first hands back all its partitions before both are
    assigned a share, and each share is read from the stored offsets again."""
    [topic] = await topics(partitions=4)
    everything = {(topic, p) for p in range(4)}
    await produce(bootstrap, topic, [Raw(p, b"old") for p in range(4) for _ in range(2)])
    group = f"{topic}-g"

    async with Member(bootstrap, group, [topic]) as first:
        await fetch_until(first.source, count(8))
        first.stored = dict.fromkeys(everything, 2)  # what the store holds after that batch
        async with Member(bootstrap, group, [topic], first.stored) as second:

            def settled() -> bool:
                mine, theirs = first.source.assignment(), second.source.assignment()
                return bool(mine and theirs) and mine | theirs == everything

            async def spin(member: Member) -> None:
                await fetch_until(member.source, lambda _: settled())

            async with asyncio.timeout(15):
                await asyncio.gather(spin(first), spin(second))
            assert settled()
            mine, theirs = first.source.assignment(), second.source.assignment()
            assert first.events == [
                ("assigned", everything),
                ("revoked", everything),
                ("assigned", mine),
            ]
            assert second.events == [("assigned", theirs)]

            await produce(bootstrap, topic, [Raw(p, b"new") for p in range(4)])
            async with asyncio.timeout(15):
                got_first, got_second = await asyncio.gather(
                    fetch_until(first.source, count(len(mine))),
                    fetch_until(second.source, count(len(theirs))),
                )
    assert offsets(got_first) == {p: [2] for p in mine}
    assert offsets(got_second) == {p: [2] for p in theirs}


async def test_kafka_pause_holds_back_a_partition_until_resumed(
    bootstrap: str, topics: Topics
) -> None:
    """A paused partition yields nothing while the others flow; resumed, it yields its records."""
    [topic] = await topics(partitions=2)
    async with Member(bootstrap, f"{topic}-g", [topic]) as member:
        source = member.source
        await fetch_until(source, lambda _: bool(source.assignment()))
        source.pause([(topic, 0)])
        assert source.paused() == {(topic, 0)}
        await produce(bootstrap, topic, [Raw(p, b"r") for p in (0, 1) for _ in range(3)])

        flowing = await fetch_until(source, count(3))
        flowing.update(await fetch_until(source, lambda _: False, bound=0.5))
        assert offsets(flowing) == {(topic, 1): [0, 1, 2]}

        source.resume([(topic, 0)])
        assert source.paused() == set()
        held = await fetch_until(source, count(3))
    assert offsets(held) == {(topic, 0): [0, 1, 2]}


async def test_kafka_failed_assignment_callback_keeps_partitions_paused(
    bootstrap: str, topics: Topics
) -> None:
    """While the store cannot give offsets, nothing is read; `fetch` retries and reports it."""
    [topic] = await topics(partitions=1)
    await produce(bootstrap, topic, [Raw(0, b"r%d" % n) for n in range(5)])
    async with Member(bootstrap, f"{topic}-g", [topic], {(topic, 0): 2}) as member:
        member.failures = 2  # the listener's call fails, then the first retry from fetch
        got: dict[tuple[str, int], list[InRecord]] = {}
        errors = 0
        deadline = time.monotonic() + 15
        while sum(map(len, got.values())) < 3 and time.monotonic() < deadline:
            try:
                batch = await member.source.fetch(100, 100)
            except StoreError:
                errors += 1
                continue
            for partition, records in batch.items():
                got.setdefault(partition, []).extend(records)
    assert errors == 1
    assert [name for name, _ in member.events] == ["assigned"] * 3 + ["revoked"]
    assert offsets(got) == {(topic, 0): [2, 3, 4]}


async def test_kafka_sink_returns_once_every_record_is_acknowledged(
    bootstrap: str, topics: Topics, admin: KafkaAdmin, read_all: ReadAll
) -> None:
    """After `send` returns, the high watermarks count every record and all can be read."""
    [topic] = await topics(partitions=3)
    sent = [event(topic, n, key=b"k%d" % n) for n in range(50)]
    async with KafkaSink(bootstrap=bootstrap, linger_ms=20) as sink:
        await sink.send(sent)
        await sink.send([])
    marks = await admin.high_watermarks([topic])
    assert set(marks) == {(topic, p) for p in range(3)}
    assert sum(marks.values()) == 50
    ids = [dict(r.headers)["event-id"] for r in await read_all(topic)]
    assert sorted(ids) == sorted(r.id.encode() for r in sent)


async def test_kafka_high_watermarks_count_records_of_multi_record_batches(
    bootstrap: str, topics: Topics, admin: KafkaAdmin
) -> None:
    """High watermarks are right after batches of several records (Tansu's ListOffsets is not)."""
    [topic] = await topics(partitions=2)
    for size in (7, 1, 3):
        await produce(bootstrap, topic, [Raw(0, b"r")] * size)
    assert await admin.high_watermarks([topic]) == {(topic, 0): 11, (topic, 1): 0}


async def test_kafka_admin_tolerates_existing_topics_and_never_creates_on_lookup(
    topics: Topics, admin: KafkaAdmin
) -> None:
    """Creating existing topics is harmless; looking up a missing one fails without creating it."""
    [old] = await topics(partitions=3)
    new, missing = f"{old}-new", f"{old}-missing"
    assert await admin.ensure_topics([old, new], 2) == {old: 3, new: 2}
    assert await admin.ensure_topics([new], 2) == {new: 2}
    with pytest.raises(BrokerError, match="no such topic"):
        await admin.high_watermarks([missing])
    with pytest.raises(BrokerError, match="no such topic"):
        await admin.high_watermarks([missing])  # still missing: the lookup did not create it


async def test_kafka_sink_without_a_broker_fails_fast() -> None:
    """A sink pointed at a closed port fails to start with BrokerError, and cannot send."""
    sink = KafkaSink(bootstrap=f"127.0.0.1:{free_port()}", start_timeout=5.0)
    started = time.monotonic()
    with pytest.raises(BrokerError, match="cannot start the producer"):
        await sink.start()
    assert time.monotonic() - started < HANG
    with pytest.raises(BrokerError, match="not started"):
        await sink.send([event("any", 0)])


async def test_kafka_stalled_broker_fails_sends_then_recovers(
    broker: EmbeddedBroker, topics: Topics, read_all: ReadAll
) -> None:
    """While the broker is frozen `send` raises BrokerError in bounded time; once it runs again,
    retrying the send succeeds."""
    [topic] = await topics(partitions=1)
    async with KafkaSink(
        bootstrap=broker.bootstrap, request_timeout_ms=1000, send_timeout=3.0
    ) as sink:
        await sink.send([event(topic, 0)])
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(BrokerError, match="not acknowledged"):
                await sink.send([event(topic, 1)])
            assert time.monotonic() - started < HANG
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while True:  # what the daemon does: retry the same batch with backoff
            try:
                await sink.send([event(topic, 1)])
                break
            except BrokerError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
    ids = [dict(r.headers)["event-id"] for r in await read_all(topic)]
    assert ids[0] == b"e0"
    assert set(ids) == {b"e0", b"e1"}  # e1 may be there twice: output is at-least-once


def test_kafka_embedded_broker_leaves_nothing_behind() -> None:
    """A broker used as a context manager answers Kafka requests, then its process and log go."""
    with EmbeddedBroker() as embedded:
        pid, log_path = embedded.pid, embedded.log_path
        assert embedded.bootstrap.startswith("127.0.0.1:")
        assert kafka_ready("127.0.0.1", embedded.port, 1.0)
        assert "memory://" in embedded.output()
    assert not embedded.running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert log_path is not None
    assert not log_path.exists()


def test_kafka_embedded_broker_start_failure_is_explained() -> None:
    """A broker that cannot bind its port fails with its own output in the error."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        embedded = EmbeddedBroker(port=taken.getsockname()[1], ready_timeout=5.0)
        with pytest.raises(BrokerError, match=r"(?s)exited.*Address in use"):
            embedded.start()
    assert not embedded.running()
    with pytest.raises(BrokerError, match="cannot run the Tansu broker"):
        EmbeddedBroker(binary=Path("/nonexistent/tansu")).start()
