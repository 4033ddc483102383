"""The daemon's small HTTP API: health, readiness, metrics and lookups.

GET /healthz              200 while the process's event loop runs
GET /readyz               200 when consuming normally, 503 while a dependency is failing
GET /metrics              Prometheus text format
GET /v1/suppressions/ADDR the suppression documents of an address (every scope)
GET /v1/events/ID         one stored output event, with its evidence (what `explain` shows)

Lookups go through the daemon's store thread, like everything else that touches the store.
It listens on 127.0.0.1 by default: put an authenticating proxy in front of it before exposing
it, since lookups return personal data.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from bounced.errors import StoreError

DAEMON: web.AppKey[Any] = web.AppKey("daemon", object)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = bool(request.app[DAEMON].ready)
    return _json({"ready": ready}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[DAEMON].metrics.exposition()
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


async def suppressions(request: web.Request) -> web.Response:
    address = request.match_info["address"].strip().lower()
    if "@" not in address or len(address) > 320:
        return _json({"error": "expected an e-mail address"}, status=400)
    daemon = request.app[DAEMON]
    try:
        found = await daemon.query(daemon.store.scan, "suppression", f"{address}|", 100)
    except StoreError:
        return _json({"error": "the store is unavailable"}, status=503)
    return _json(
        {"address": address, "suppressions": [doc.data for doc in found.values()]},
    )


async def event(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    if not ident.isalnum() or len(ident) > 64:
        return _json({"error": "expected an event id"}, status=400)
    daemon = request.app[DAEMON]
    try:
        record = await daemon.query(daemon.store.event, ident)
    except StoreError:
        return _json({"error": "the store is unavailable"}, status=503)
    if record is None:
        return _json({"error": "no such event (or it was pruned)"}, status=404)
    if record.topic == daemon.config.topics.dlq:
        return _json({"id": ident, "topic": record.topic, "dead_letter": True})
    return _json({"id": ident, "topic": record.topic, "event": orjson.loads(record.value)})


def application(daemon: Any) -> web.Application:
    """The aiohttp application bound to one daemon."""
    app = web.Application()
    app[DAEMON] = daemon
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/suppressions/{address}", suppressions)
    app.router.add_get("/v1/events/{id}", event)
    return app


class HttpServer:
    """Runs the API on host:port until stopped."""

    def __init__(self, daemon: Any, host: str, port: int) -> None:
        self._runner = web.AppRunner(application(daemon), access_log=None)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:  # port 0 asks for a free port: report the one bound
            self.port = int(addresses[0][1])

    async def stop(self) -> None:
        await self._runner.cleanup()
