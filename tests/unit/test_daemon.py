"""The daemon's lifecycle and guarantees, on in-memory fakes of Kafka and the store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest

from bounced.config import Config, DaemonConfig
from bounced.daemon import Daemon
from bounced.io.memory import MemoryLog, MemorySink, MemorySource
from bounced.prepare import Preparer
from bounced.store.memory import MemoryStore
from bounced.store.ports import UnitOfWork
from tests.unit.policies import trusting

DATA = Path(__file__).resolve().parent.parent / "data"
POSTFIX = (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes()
CONFIG = Config(
    daemon=DaemonConfig(
        tick_seconds=0.05,
        prune_seconds=3600,
        retry_initial_seconds=0.001,
        retry_max_seconds=0.01,
        fetch_timeout_ms=5,
        shutdown_timeout_seconds=2,
    )
)
T = CONFIG.topics


def rate_limited(recipient: str = "someone@gmail.com", ip: str = "192.0.2.1") -> bytes:
    return orjson.dumps(
        {
            "event": "deferred",
            "timestamp": 1_790_000_000,
            "recipient": recipient,
            "client": "acme",
            "sending_ip": ip,
            "mx_host": "gmail-smtp-in.l.google.com",
            "reply_code": 421,
            "enhanced_status": "4.7.28",
            "reply_text": "421-4.7.28 Our system has detected an unusual rate of unsolicited mail "
            "originating from your IP address. To protect our users from spam, mail sent from "
            "your IP address has been temporarily rate limited.",
        }
    )


class Harness:
    """A daemon over a memory log and store, run until the source has nothing left."""

    def __init__(self, store: MemoryStore | None = None, log: MemoryLog | None = None) -> None:
        self.log = log or MemoryLog(partitions=2)
        self.store = store or MemoryStore()
        self.source = MemorySource(self.log, [T.bounces, T.complaints, T.deliveries])
        self.sink = MemorySink(self.log)
        self.daemon = Daemon(
            config=CONFIG,
            store=self.store,
            source=self.source,
            sink=self.sink,
            policy=trusting(),
            preparer=Preparer(
                origins={
                    T.bounces: "bounce",
                    T.complaints: "feedback",
                    T.deliveries: "delivery_record",
                }
            ),
        )

    async def run_until_idle(self, during: Callable[[], Awaitable[None]] | None = None) -> None:
        task = asyncio.create_task(self.daemon.run())
        async with asyncio.timeout(10):
            while not self.source.started or self.source.unhandled():
                await asyncio.sleep(0.01)
            if during is not None:
                await during()
            while self.store.pending(10):
                await asyncio.sleep(0.01)
        self.daemon.request_stop()
        await asyncio.wait_for(task, 5)

    def values(self, topic: str) -> list[dict[str, object]]:
        return [orjson.loads(r.value or b"{}") for r in self.log.records(topic)]


async def test_bounce_in_signal_and_suppression_out() -> None:
    """A hard bounce yields one signal and one global suppression, with the same ids on replay."""
    h = Harness()
    h.log.append(T.bounces, POSTFIX, key=b"1", timestamp_ms=1_790_000_000_000)
    await h.run_until_idle()
    signals = h.values(T.signals)
    suppressions = h.values(T.suppressions)
    assert [s["recipient"] for s in signals] == ["alice@recipient.example"]
    assert [(s["type"], s["address"], s["scope"]) for s in suppressions] == [
        ("suppress", "alice@recipient.example", "global")
    ]
    assert suppressions[0]["evidence"]["signals"] == [signals[0]["id"]]  # type: ignore[index]


async def test_same_bounce_twice_counts_once() -> None:
    """The same bounce at two offsets makes one signal and one suppression."""
    h = Harness()
    for key in (b"1", b"2"):
        h.log.append(T.bounces, POSTFIX, key=key, partition=0)
    await h.run_until_idle()
    assert len(h.values(T.signals)) == 1
    assert len(h.values(T.suppressions)) == 1
    assert h.daemon.metrics.counts.duplicates == 1


async def test_unreadable_input_goes_to_dead_letters_with_its_origin() -> None:
    """A record that is not JSON on the delivery log is dead-lettered with error headers."""
    h = Harness()
    h.log.append(T.deliveries, b"{not json", key=b"k", partition=1)
    for n in range(2):  # Gmail's rate limit throttles at the second reply within an hour
        h.log.append(T.deliveries, rate_limited(f"user{n}@gmail.com"), key=b"k2", partition=1)
    await h.run_until_idle()
    dead = h.log.records(T.dlq)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert dead[0].value == b"{not json"
    assert headers["bounced-error-class"] == b"ValidationError"
    assert headers["bounced-source-topic"] == T.deliveries.encode()
    assert headers["bounced-source-partition"] == b"1"
    assert headers["bounced-source-offset"] == b"0"
    assert len(h.values(T.throttles)) == 1  # the partition went on after the bad record


async def test_rate_limit_reply_throttles_ip_and_provider_once() -> None:
    """Three rate-limit replies from one IP to Gmail make one throttle decision."""
    h = Harness()
    for n in range(3):
        h.log.append(T.deliveries, rate_limited(f"user{n}@gmail.com"), key=bytes([n]), partition=0)
    await h.run_until_idle()
    throttles = h.values(T.throttles)
    assert [(t["type"], t["ip"], t["provider"]) for t in throttles] == [
        ("throttle", "192.0.2.1", "gmail")
    ]


async def test_store_outage_pauses_then_resumes_without_loss() -> None:
    """While the store fails the daemon is not ready; afterwards every input is processed."""
    h = Harness()
    h.log.append(T.bounces, POSTFIX, key=b"1")
    h.store.fail_next(5)
    await h.run_until_idle()
    assert len(h.values(T.signals)) == 1
    assert h.store.offsets(CONFIG.kafka.group_id)


async def test_broker_outage_keeps_events_in_the_outbox_until_sent() -> None:
    """Sends that fail are retried; nothing is produced twice and nothing is lost."""
    h = Harness()
    h.log.append(T.bounces, POSTFIX, key=b"1")
    h.sink.fail(3)
    await h.run_until_idle()
    assert len(h.values(T.signals)) == 1
    assert not h.store.pending(10)


async def test_outbox_is_drained_at_start_after_a_crash_before_produce() -> None:
    """Events committed but never produced (crash) are produced by the next start."""
    store = MemoryStore()
    first = Harness(store=store)
    first.log.append(T.bounces, POSTFIX, key=b"1")
    first.sink.fail(1_000_000)  # the broker never acknowledges: the process will "crash"
    task = asyncio.create_task(first.daemon.run())
    async with asyncio.timeout(5):
        while not store.pending(10):
            await asyncio.sleep(0.01)
    task.cancel()  # a crash: no graceful shutdown
    with pytest.raises(asyncio.CancelledError):
        await task
    ids = {r.id for r in store.pending(10)}
    second = Harness(store=store, log=first.log)
    await second.run_until_idle()
    produced = {orjson.loads(r.value)["id"] for r in second.sink.sent if r.topic != T.dlq}
    assert ids <= produced
    assert len(second.values(T.signals)) == 1  # the input was not processed a second time


async def test_restart_resumes_from_stored_offsets() -> None:
    """A second run over the same log and store processes only what arrived since."""
    store = MemoryStore()
    first = Harness(store=store)
    first.log.append(T.bounces, POSTFIX, key=b"1")
    await first.run_until_idle()
    for n in range(2):  # Gmail's rate limit throttles at the second reply within an hour
        first.log.append(T.deliveries, rate_limited(f"user{n}@gmail.com"), key=b"2", partition=0)
    second = Harness(store=store, log=first.log)
    await second.run_until_idle()
    assert len(second.sink.sent) == 3  # the signals and the throttle of the new records only


async def test_a_conflicting_writer_makes_the_batch_recompute() -> None:
    """When another instance changes a document first, the unit is recomputed, not lost."""
    h = Harness()
    original = h.store.commit
    calls = {"n": 0}

    def racing_commit(unit: UnitOfWork) -> None:
        calls["n"] += 1
        if calls["n"] == 1 and unit.entities:
            # Another instance suppresses the same address just before us.
            write = unit.entities[0]
            original(UnitOfWork(group="other", entities=[write]))
        original(unit)

    h.store.commit = racing_commit  # type: ignore[method-assign]
    h.log.append(T.bounces, POSTFIX, key=b"1")
    await h.run_until_idle()
    assert h.daemon.metrics.counts.conflicts == 1
    assert len(h.values(T.signals)) == 1
    assert h.values(T.suppressions) == []  # the other instance emitted it; we did not repeat it


async def test_second_stop_request_cancels_at_once() -> None:
    """A second signal cancels the daemon even while a dependency is failing."""
    h = Harness()
    h.log.append(T.bounces, POSTFIX, key=b"1")
    h.store.fail_next(10_000_000)
    task = asyncio.create_task(h.daemon.run())
    await asyncio.sleep(0.05)
    h.daemon.request_stop()
    h.daemon.request_stop()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_parse_workers_survive_a_dead_worker() -> None:
    """Parsing in worker processes works, and a killed worker costs no input."""
    import os
    import signal as signals
    from dataclasses import replace

    h = Harness()
    h.daemon.config = replace(CONFIG, daemon=replace(CONFIG.daemon, parse_workers=1))
    h.log.append(T.bounces, POSTFIX, key=b"1")
    task = asyncio.create_task(h.daemon.run())
    async with asyncio.timeout(20):
        while not h.source.started or h.source.unhandled() or h.store.pending(1):
            await asyncio.sleep(0.01)
        pool = h.daemon._parse_pool
        assert pool is not None
        for pid in list(pool._processes):
            os.kill(pid, signals.SIGKILL)
        h.log.append(T.deliveries, rate_limited("a@gmail.com"), key=b"2")
        h.log.append(T.deliveries, rate_limited("b@gmail.com"), key=b"3")
        while h.source.unhandled() or h.store.pending(1):
            await asyncio.sleep(0.01)
    h.daemon.request_stop()
    await task
    assert len(h.values(T.signals)) == 3
