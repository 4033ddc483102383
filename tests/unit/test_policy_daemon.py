"""The policy inside the daemon: operator commands from the command topic become decisions."""

from __future__ import annotations

import asyncio

import orjson

from bounced.app import build_daemon
from bounced.config import Config, DaemonConfig, HttpConfig
from bounced.io.memory import MemoryLog, MemorySink, MemorySource
from bounced.store.memory import MemoryStore

CONFIG = Config(
    daemon=DaemonConfig(tick_seconds=0.05, fetch_timeout_ms=5, retry_initial_seconds=0.001),
    http=HttpConfig(enabled=False),
)
T = CONFIG.topics


async def test_commands_on_the_topic_promote_and_start_a_warmup() -> None:
    """pool.promote and warmup.start, produced like `bounced command` does, are obeyed once."""
    log = MemoryLog()
    for body in (
        {"action": "pool.promote", "client": "acme", "operator": "ana"},
        {"action": "warmup.start", "ip": "203.0.113.5", "provider": "gmail"},
        {"action": "pool.promote", "client": "acme", "operator": "ana", "note": "again"},
    ):
        log.append(T.commands, orjson.dumps(body), key=b"k")
    store = MemoryStore()
    source = MemorySource(log, [T.commands])
    daemon = build_daemon(CONFIG, store, source=source, sink=MemorySink(log))
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(10):
        while not source.started or source.unhandled() or store.pending(1):
            await asyncio.sleep(0.01)
    daemon.request_stop()
    await task
    pool = [orjson.loads(r.value or b"") for r in log.records(T.pool)]
    assert [(p["client"], p["from_state"], p["to_state"]) for p in pool] == [
        ("acme", "dedicated", "grid")
    ]
    assert "ana" in pool[0]["evidence"]["note"]
    [warmup] = [orjson.loads(r.value or b"") for r in log.records(T.throttles)]
    assert (warmup["type"], warmup["ip"], warmup["daily_cap"]) == ("warmup", "203.0.113.5", 50)
