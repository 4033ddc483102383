"""The HTTP API: health, readiness, metrics and lookups, against a daemon on fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bounced.config import Config, DaemonConfig
from bounced.daemon import Daemon
from bounced.http import HttpServer
from bounced.io.memory import MemoryLog, MemorySink, MemorySource
from bounced.prepare import Preparer
from bounced.store.memory import MemoryStore
from tests.unit.policies import trusting

DATA = Path(__file__).resolve().parent.parent / "data"
CONFIG = Config(daemon=DaemonConfig(fetch_timeout_ms=5, tick_seconds=0.05))


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Daemon]]:
    log = MemoryLog()
    log.append(CONFIG.topics.bounces, (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes())
    store = MemoryStore()
    source = MemorySource(log, [CONFIG.topics.bounces])
    daemon = Daemon(
        config=CONFIG,
        store=store,
        source=source,
        sink=MemorySink(log),
        policy=trusting(),
        preparer=Preparer(origins={CONFIG.topics.bounces: "bounce"}),
    )
    server = HttpServer(daemon, "127.0.0.1", 0)
    await server.start()
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(10):
        while not source.started or source.unhandled() or store.pending(1):
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.port}", daemon
    finally:
        daemon.request_stop()
        await task
        await server.stop()


async def test_health_readiness_and_metrics(served: tuple[str, Daemon]) -> None:
    """A running daemon is healthy and ready, and exposes its counters to Prometheus."""
    base, _ = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{base}/readyz") as response:
            assert response.status == 200
            assert (await response.json()) == {"ready": True}
        async with http.get(f"{base}/metrics") as response:
            text = await response.text()
            assert "bounced_records_consumed_total" in text
            assert 'bounced_decisions_total{type="suppress"} 1.0' in text


async def test_not_ready_is_503(served: tuple[str, Daemon]) -> None:
    """While a dependency fails the readiness probe says so."""
    base, daemon = served
    daemon.ready = False
    async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as response:
        assert response.status == 503


async def test_suppression_lookup_and_event_lookup(served: tuple[str, Daemon]) -> None:
    """An address's suppressions and a decision with its evidence can be looked up."""
    base, daemon = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/v1/suppressions/Alice@Recipient.example") as response:
            body = await response.json()
        assert [s["scope"] for s in body["suppressions"]] == ["global"]
        decision = next(r for r in daemon.sink.sent if r.topic == CONFIG.topics.suppressions)  # type: ignore[attr-defined]
        async with http.get(f"{base}/v1/events/{decision.id}") as response:
            event = await response.json()
        assert event["event"]["evidence"]["rule"] == "suppress.hard"
        async with http.get(f"{base}/v1/events/ffffffffffffffffffffffffffffffff") as response:
            assert response.status == 404
        async with http.get(f"{base}/v1/suppressions/not-an-address") as response:
            assert response.status == 400
