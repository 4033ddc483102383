"""Assembling a daemon from a configuration: store, Kafka ports, policy, attribution, HTTP.

`serve` is what `bounced run` does: it builds everything, installs the signal handlers (a first
SIGTERM/SIGINT stops gracefully, a second forces the exit), runs the daemon and the HTTP API
side by side, and closes the store at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import signal
import time
from collections.abc import Callable
from pathlib import Path

from bounced import log as logging
from bounced.attribute import AttributionConfig, attribute
from bounced.config import Config, attribution_config
from bounced.daemon import Daemon
from bounced.engine import Policy
from bounced.errors import ConfigError
from bounced.http import HttpServer
from bounced.io.kafka import KafkaAdmin, KafkaSink, KafkaSource
from bounced.io.ports import EventSink, MessageSource
from bounced.parse import Limits
from bounced.policy.config import default_policy, load_policy
from bounced.policy.reputation import ReputationPolicy
from bounced.prepare import BOUNCE, COMMAND, DELIVERY, FEEDBACK, Preparer
from bounced.store.ports import Store
from bounced.store.sqlite import SqliteStore

log = logging.get("app")


def open_store(url: str, *, base: Path | None = None) -> Store:
    """The store a URL names: ``sqlite:PATH`` (relative to `base`) or ``sqlite:///ABSOLUTE``."""
    if url.startswith("sqlite:"):
        raw = url.removeprefix("sqlite:")
        path = Path(raw[2:]) if raw.startswith("///") else Path(raw.removeprefix("//"))
        if not path.is_absolute() and base is not None:
            path = base / path
        return SqliteStore(path)
    if url.startswith(("postgresql:", "postgres:")):
        host = url.rsplit("@", 1)[-1]  # never echo credentials
        raise ConfigError(f"store.url {host!r}: this version has no PostgreSQL store")
    raise ConfigError(f"store.url must start with sqlite: (got {url.split(':', 1)[0]!r})")


def build_policy(config: Config) -> Policy:
    """The policy file the configuration names (`policy_file`, already resolved against the
    configuration file's folder), laid over the packaged default; the default without one."""
    if config.policy_file:
        return ReputationPolicy(load_policy(Path(config.policy_file)))
    return ReputationPolicy(default_policy())


def preparer(config: Config, attribution: AttributionConfig | None) -> Preparer:
    topics = config.topics
    limits = config.limits
    return Preparer(
        origins={
            topics.bounces: BOUNCE,
            topics.complaints: FEEDBACK,
            topics.deliveries: DELIVERY,
            topics.commands: COMMAND,
        },
        limits=Limits(
            max_bytes=limits.max_message_bytes,
            max_depth=limits.max_mime_depth,
            max_parts=limits.max_mime_parts,
            max_headers=limits.max_headers,
            max_header_bytes=limits.max_header_bytes,
        ),
        attributor=functools.partial(attribute, config=attribution) if attribution else None,
    )


def kafka_ports(config: Config) -> tuple[MessageSource, EventSink]:
    topics = config.topics
    kafka = config.kafka
    source = KafkaSource(
        bootstrap=kafka.bootstrap_servers,
        group=kafka.group_id,
        topics=[topics.bounces, topics.complaints, topics.deliveries, topics.commands],
        client_id=kafka.client_id,
        session_timeout_ms=kafka.session_timeout_ms,
        fetch_max_wait_ms=kafka.fetch_max_wait_ms,
        heartbeat_interval_ms=max(100, kafka.session_timeout_ms // 3),
    )
    return source, KafkaSink(bootstrap=kafka.bootstrap_servers, client_id=kafka.client_id)


def build_daemon(
    config: Config,
    store: Store,
    *,
    source: MessageSource | None = None,
    sink: EventSink | None = None,
    clock: Callable[[], float] | None = None,
) -> Daemon:
    """A daemon for a configuration; ports may be given (tests, the demo)."""
    if source is None or sink is None:
        made_source, made_sink = kafka_ports(config)
        source = source or made_source
        sink = sink or made_sink
    return Daemon(
        config=config,
        store=store,
        source=source,
        sink=sink,
        policy=build_policy(config),
        preparer=preparer(config, attribution_config(config.attribution)),
        clock=clock or time.time,
    )


async def run_daemon(daemon: Daemon, config: Config) -> None:
    """Run a daemon with its HTTP API and signal handlers until it stops."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    http = HttpServer(daemon, config.http.host, config.http.port) if config.http.enabled else None
    try:
        if config.kafka.create_topics:
            await create_topics(config)
        if http is not None:
            await http.start()
            log.info("http api listening", host=http.host, port=http.port)
        await daemon.run()
    finally:
        if http is not None:
            await http.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def create_topics(config: Config) -> None:
    """Create the topics that do not exist yet (with `kafka.partitions` partitions each)."""
    topics = config.topics
    names = [getattr(topics, f.name) for f in dataclasses.fields(topics)]
    async with KafkaAdmin(bootstrap=config.kafka.bootstrap_servers) as admin:
        counts = await admin.ensure_topics(names, config.kafka.partitions)
    log.info("topics ready", partitions=counts)


def serve(config: Config, *, base: Path | None = None) -> int:
    """`bounced run`: returns the process exit code."""
    logging.configure(
        fmt=str(config.log.format), level=config.log.level, redact=config.log.redact_addresses
    )
    store = open_store(config.store.url, base=base)
    try:
        daemon = build_daemon(config, store)
        asyncio.run(run_daemon(daemon, config))
    except asyncio.CancelledError:
        return 130  # forced exit
    finally:
        store.close()
    return 0
