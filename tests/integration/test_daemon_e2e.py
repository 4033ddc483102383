"""The daemon end to end on the real broker and a real SQLite file: output, crashes, restarts.

The reference for "what an uninterrupted run produces" is the same daemon code run in process on
the in-memory fakes, over the very records read back from the broker (same topics, partitions
and offsets, hence the same event ids).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from bounced.app import build_daemon
from bounced.config import Config, load_config
from bounced.io.kafka import KafkaAdmin, KafkaSink
from bounced.io.memory import MemoryLog, MemorySink, MemorySource
from bounced.io.ports import InRecord
from bounced.signing import Key, Keyring
from bounced.store.memory import MemoryStore
from bounced.store.ports import OutboxRecord, Store
from bounced.store.sqlite import SqliteStore
from bounced.traffic import VERP_DOMAIN, VERP_PREFIX, demo_traffic

pytestmark = pytest.mark.integration

SECRET = bytes(range(32))
KEYRING = Keyring(signing=Key(key_id="t1", secret=SECRET))
SCHEMAS = Path(__file__).resolve().parent.parent.parent / "schemas"
ROLES = ("bounces", "complaints", "deliveries", "commands")
OUTPUTS = ("signals", "suppressions", "throttles", "pool", "dlq")


def write_config(path: Path, bootstrap: str, names: dict[str, str], store: Path) -> Path:
    topics = "\n".join(f'{role} = "{name}"' for role, name in names.items())
    key = base64.b64encode(SECRET).decode()
    path.write_text(
        f"""
[kafka]
bootstrap_servers = "{bootstrap}"
group_id = "g-{names["bounces"]}"
session_timeout_ms = 2000

[topics]
{topics}

[store]
url = "sqlite:///{store}"

[daemon]
max_batch = 50
fetch_timeout_ms = 50
retry_initial_seconds = 0.05
retry_max_seconds = 1.0
shutdown_timeout_seconds = 10

[http]
enabled = false

[log]
format = "json"
level = "warning"

[attribution]
verp_domains = ["{VERP_DOMAIN}"]
verp_prefix = "{VERP_PREFIX}"
keys = {{ t1 = "{key}" }}
"""
    )
    return path


async def setup_topics(
    topics: Callable[..., Awaitable[list[str]]],
) -> dict[str, str]:
    names = await topics(len(ROLES) + len(OUTPUTS), partitions=2)
    return dict(zip(ROLES + OUTPUTS, names, strict=True))


async def produce_traffic(bootstrap: str, names: dict[str, str], mails: int) -> int:
    traffic = demo_traffic(KEYRING, mails=mails, seed=3, start=1_790_000_000)
    records = [
        OutboxRecord(id=f"{role}-{n}", topic=names[role], key=str(n).encode(), value=value)
        for role, values in (
            ("bounces", traffic.bounces),
            ("complaints", traffic.complaints),
            ("deliveries", traffic.deliveries),
        )
        for n, value in enumerate(values)
    ]
    records.append(
        OutboxRecord(
            id="cmd",
            topic=names["commands"],
            key=b"c",
            value=orjson.dumps({"action": "x", "unknown": 1}),  # invalid: dead-lettered
        )
    )
    async with KafkaSink(bootstrap=bootstrap) as sink:
        await sink.send(records)
    return len(records)


async def reference(config: Config, inputs: list[InRecord]) -> tuple[set[str], dict[str, int]]:
    """Event ids and state counts of an uninterrupted run over the same records, in memory."""
    log = MemoryLog(partitions=2)
    for record in inputs:
        log.topic(record.topic)[record.partition].append(record)
    store = MemoryStore()
    topics = config.topics
    source = MemorySource(
        log, [topics.bounces, topics.complaints, topics.deliveries, topics.commands]
    )
    sink = MemorySink(log)
    daemon = build_daemon(config, store, source=source, sink=sink)
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(60):
        while not source.started or source.unhandled() or store.pending(1):
            await asyncio.sleep(0.02)
    daemon.request_stop()
    await task
    return {r.id for r in sink.sent}, state_counts(store)


def state_counts(store: Store) -> dict[str, int]:
    """What a run left in its store, in numbers that do not depend on timing."""
    return {
        "suppressions": len(store.scan("suppression", "", 100_000)),
        "throttles": len(store.scan("throttle", "", 100_000)),
        "unsent": len(store.pending(100_000)),
    }


async def output_ids(admin: KafkaAdmin, names: dict[str, str]) -> list[str]:
    ids: list[str] = []
    for role in OUTPUTS:
        for record in await admin.records(names[role]):
            headers = dict(record.headers)
            ids.append(headers["bounced-event-id"].decode())
    return ids


async def inputs_of(admin: KafkaAdmin, names: dict[str, str]) -> list[InRecord]:
    out: list[InRecord] = []
    for role in ROLES:
        out.extend(await admin.records(names[role]))
    return out


def start_daemon(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "bounced", "run", "--config", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def stored_progress(store_path: Path, group: str) -> int:
    if not store_path.exists():
        return 0
    reader = SqliteStore(store_path)
    try:
        return sum(reader.offsets(group).values())
    except Exception:  # noqa: BLE001 (the schema may not exist yet: no progress)
        return 0
    finally:
        reader.close()


async def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_crash_and_restart_lose_nothing_and_repeat_nothing(
    bootstrap: str, admin: KafkaAdmin, topics: Callable[..., Awaitable[list[str]]], tmp_path: Path
) -> None:
    """SIGKILL mid-stream, restart, SIGTERM: same event ids and state as an uninterrupted run."""
    names = await setup_topics(topics)
    store_path = tmp_path / "state.db"
    config_path = write_config(tmp_path / "bounced.toml", bootstrap, names, store_path)
    config = load_config(config_path)
    total = await produce_traffic(bootstrap, names, mails=1500)
    goal = sum((await admin.high_watermarks([names[r] for r in ROLES])).values())
    assert goal == total
    log_path = tmp_path / "daemon.log"

    first = start_daemon(config_path, log_path)
    try:
        await wait_for(
            lambda: stored_progress(store_path, config.kafka.group_id) > goal // 10,
            60,
            "the first run to store some progress",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = stored_progress(store_path, config.kafka.group_id)
    assert killed_at < goal, "the first run finished before it could be killed mid-stream"

    second = start_daemon(config_path, log_path)
    try:
        await wait_for(
            lambda: stored_progress(store_path, config.kafka.group_id) >= goal,
            90,
            "the second run to store everything",
        )
        reader = SqliteStore(store_path)
        try:
            await wait_for(lambda: not reader.pending(1), 30, "the outbox to drain")
        finally:
            reader.close()
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(30)
    assert code == 0, log_path.read_text()[-3000:]

    produced = await output_ids(admin, names)
    expected_ids, expected_counts = await reference(config, await inputs_of(admin, names))
    assert set(produced) == expected_ids  # nothing missing, nothing extra (repeats allowed)
    reader = SqliteStore(store_path)
    try:
        assert state_counts(reader) == expected_counts
    finally:
        reader.close()


async def test_outputs_match_schemas_and_expectations(
    bootstrap: str, admin: KafkaAdmin, topics: Callable[..., Awaitable[list[str]]], tmp_path: Path
) -> None:
    """Raw messages in, schema-valid signals and decisions out; bad input dead-lettered."""
    names = await setup_topics(topics)
    config = load_config(write_config(tmp_path / "b.toml", bootstrap, names, tmp_path / "s.db"))
    await produce_traffic(bootstrap, names, mails=200)
    store = SqliteStore(tmp_path / "s.db")
    daemon = build_daemon(config, store)
    task = asyncio.create_task(daemon.run())
    goal = await admin.high_watermarks([names[r] for r in ROLES])
    try:
        async with asyncio.timeout(60):
            while True:
                if daemon.ready:
                    stored = await daemon.query(store.offsets, config.kafka.group_id)
                    pending = await daemon.query(store.pending, 1)
                    if all(stored.get(tp, 0) >= end for tp, end in goal.items()) and not pending:
                        break
                await asyncio.sleep(0.05)
    finally:
        daemon.request_stop()
        await task
        store.close()
    schema_of = {
        "signals": "signal.json",
        "suppressions": "suppression.json",
        "throttles": "throttle.json",
        "pool": "pool.json",
    }
    seen: dict[str, int] = {}
    for role, schema in schema_of.items():
        check = Draft202012Validator(
            json.loads((SCHEMAS / schema).read_text()), format_checker=FormatChecker()
        )
        for record in await admin.records(names[role]):
            event: Any = orjson.loads(record.value or b"")
            assert not list(check.iter_errors(event)), event
            seen[role] = seen.get(role, 0) + 1
    assert seen["signals"] > 0
    assert seen["suppressions"] > 0
    assert seen["throttles"] > 0
    dead = await admin.records(names["dlq"])
    codes = sorted(dict(r.headers)["bounced-error-code"].decode() for r in dead)
    assert "invalid-command" in codes
    assert "invalid-record" in codes
    assert len(dead) == 6  # five malformed inputs of the generator and the bad command
    assert daemon.metrics.counts.duplicates == 1  # the bounce delivered twice


class _StalledSink:
    """A real producer whose sends never complete: the process will die before it produces."""

    def __init__(self, inner: KafkaSink) -> None:
        self.inner = inner

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def send(self, records: list[OutboxRecord]) -> None:
        await asyncio.Event().wait()


async def test_outbox_is_drained_after_a_crash_between_commit_and_produce(
    bootstrap: str, admin: KafkaAdmin, topics: Callable[..., Awaitable[list[str]]], tmp_path: Path
) -> None:
    """Events committed but not produced before a crash are produced by the next start."""
    names = await setup_topics(topics)
    loaded = load_config(write_config(tmp_path / "b.toml", bootstrap, names, tmp_path / "s.db"))
    config = replace(loaded, daemon=replace(loaded.daemon, shutdown_timeout_seconds=3.0))
    await produce_traffic(bootstrap, names, mails=20)
    store = SqliteStore(tmp_path / "s.db")
    try:
        first = build_daemon(config, store, sink=_StalledSink(KafkaSink(bootstrap=bootstrap)))
        task = asyncio.create_task(first.run())
        async with asyncio.timeout(60):
            while not first.ready or not store.pending(1):
                await asyncio.sleep(0.05)
        task.cancel()  # the process dies between the commit and the produce
        with pytest.raises(asyncio.CancelledError):
            await task
        stored = {r.id for r in store.pending(100_000)}
        assert not await admin.records(names["signals"])  # nothing was produced
        second = build_daemon(config, store)
        task = asyncio.create_task(second.run())
        async with asyncio.timeout(60):
            while not second.ready or store.pending(1):
                await asyncio.sleep(0.05)
        second.request_stop()
        await task
    finally:
        store.close()
    produced = set(await output_ids(admin, names))
    assert stored <= produced
