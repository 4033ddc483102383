"""One daemon instance, end to end: raw topic -> committed state -> produced decisions.

    python benchmarks/daemon.py [--messages 20000] [--rate 500] [--seconds 20]

Starts the embedded broker, runs `bounced run` as its own process on a SQLite file, and measures:

1. throughput: N raw bounce messages are produced first; the daemon then processes them, and the
   rate is the slope of the stored offsets (read from the SQLite file) between 10% and 90% of
   the way, so group formation and the tail do not count;
2. latency at a fixed offered load: messages are produced at --rate per second for --seconds;
   the latency of each is the time from its produce (the input record's timestamp) to the
   produce of the signal and of the decision it caused (the output records' timestamps).

Traffic is corpus-like: the labelled corpus's real bounces when ../shared/corpus is present
(each made unique by a header, so that none is a duplicate of another) mixed with generated
Postfix and Exim bounces of many providers. Every run is bounded in count and time, binds to
127.0.0.1 and stops what it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

from bounced.io.broker import EmbeddedBroker
from bounced.io.kafka import KafkaAdmin, KafkaSink
from bounced.signing import Key, Keyring
from bounced.store.ports import OutboxRecord
from bounced.store.sqlite import SqliteStore
from bounced.traffic import (
    DEMO_CLIENTS,
    MAILBOX_FULL,
    USER_UNKNOWN,
    VERP_DOMAIN,
    VERP_PREFIX,
    Generator,
)

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "sisimai-dev"
PARTITIONS = 3
ROLES = ("bounces", "complaints", "deliveries", "commands")
OUTPUTS = ("signals", "suppressions", "throttles", "pool", "dlq")


def corpus_messages() -> list[bytes]:
    if not CORPUS.is_dir():
        return []
    return [p.read_bytes() for p in sorted(CORPUS.rglob("*.eml"))]


def traffic(keyring: Keyring, count: int, seed: int, first: int = 0) -> list[bytes]:
    """`count` unique raw bounce messages: half real corpus bounces, half generated."""
    gen = Generator(keyring, seed)
    corpus = corpus_messages()
    out: list[bytes] = []
    now = time.time()
    for n in range(count):
        if corpus and n % 2:
            message = corpus[n % len(corpus)]
            cut = message.index(b"\n") + 1 if message.startswith(b"From ") else 0
            out.append(message[:cut] + b"X-Bench-Seq: %d\n" % (first + n) + message[cut:])
            continue
        client = DEMO_CLIENTS[n % len(DEMO_CLIENTS)]
        mail = gen.outbound(client, "bench", now)
        domain = mail.recipient.rpartition("@")[2]
        reply = USER_UNKNOWN.get(domain, USER_UNKNOWN["other"]) if n % 5 else MAILBOX_FULL
        maker = gen.dsn if n % 3 else gen.exim_bounce
        out.append(maker(mail, reply, now))
    return out


def config_text(
    bootstrap: str,
    *,
    names: dict[str, str],
    store: Path,
    secret: bytes,
    http_port: int,
    parse_workers: int,
    max_batch: int,
) -> str:
    topics = "\n".join(f'{role} = "{name}"' for role, name in names.items())
    return f"""
[kafka]
bootstrap_servers = "{bootstrap}"
group_id = "bench"
session_timeout_ms = 4000
[topics]
{topics}
[store]
url = "sqlite:///{store}"
[daemon]
max_batch = {max_batch}
fetch_timeout_ms = 20
parse_workers = {parse_workers}
[http]
enabled = true
port = {http_port}
[log]
level = "warning"
[attribution]
verp_domains = ["{VERP_DOMAIN}"]
verp_prefix = "{VERP_PREFIX}"
keys = {{ b1 = "{base64.b64encode(secret).decode()}" }}
"""


def progress(store_path: Path) -> int:
    try:
        reader = SqliteStore(store_path)
    except Exception:  # noqa: BLE001 (not created yet)
        return 0
    try:
        return sum(reader.offsets("bench").values())
    except Exception:  # noqa: BLE001 (not migrated yet)
        return 0
    finally:
        reader.close()


def pending(store_path: Path) -> int:
    reader = SqliteStore(store_path)
    try:
        return len(reader.pending(1))
    finally:
        reader.close()


async def produce(bootstrap: str, topic: str, values: list[bytes], *, rate: float | None) -> None:
    async with KafkaSink(bootstrap=bootstrap, linger_ms=2) as sink:
        if rate is None:
            for start in range(0, len(values), 2000):
                chunk = values[start : start + 2000]
                await sink.send(
                    [
                        OutboxRecord(
                            id=str(start + i), topic=topic, key=b"%d" % (start + i), value=v
                        )
                        for i, v in enumerate(chunk)
                    ]
                )
            return
        began = time.monotonic()
        step = 0.02  # send every 20 ms the messages due by then
        sent = 0
        while sent < len(values):
            due = min(len(values), int((time.monotonic() - began) * rate) + 1)
            if due > sent:
                await sink.send(
                    [
                        OutboxRecord(id=str(i), topic=topic, key=b"%d" % i, value=values[i])
                        for i in range(sent, due)
                    ]
                )
                sent = due
            await asyncio.sleep(step)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def batch_figures(port: int) -> str:
    """The daemon's own view: batches and mean seconds per batch (fetch to produced)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith(("bounced_batch_seconds_count", "bounced_batch_seconds_sum")):
            name, value = line.split()
            values[name] = float(value)
    count = values.get("bounced_batch_seconds_count", 0.0)
    total = values.get("bounced_batch_seconds_sum", 0.0)
    return f"{count:.0f} batches, {1000 * total / count:.0f} ms each on average" if count else "-"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench(args: argparse.Namespace) -> None:
    secret = secrets.token_bytes(32)
    keyring = Keyring(signing=Key(key_id="b1", secret=secret))
    print(f"generating {args.messages + int(args.rate * args.seconds)} messages...", flush=True)
    first = traffic(keyring, args.messages, seed=1)
    second = traffic(keyring, int(args.rate * args.seconds), seed=2, first=args.messages)
    with (
        tempfile.TemporaryDirectory(prefix="bounced-bench-") as folder,
        EmbeddedBroker(log_path=Path(folder) / "broker.log") as broker,
    ):
        names = {role: f"bench-{role}" for role in ROLES + OUTPUTS}
        store_path = Path(folder) / "state.db"
        config = Path(folder) / "bounced.toml"
        http_port = free_port()
        config.write_text(
            config_text(
                broker.bootstrap,
                names=names,
                store=store_path,
                secret=secret,
                http_port=http_port,
                parse_workers=args.parse_workers,
                max_batch=args.max_batch,
            )
        )
        async with KafkaAdmin(bootstrap=broker.bootstrap) as admin:
            await admin.ensure_topics(names.values(), PARTITIONS)
            await produce(broker.bootstrap, names["bounces"], first, rate=None)
            goal = sum((await admin.high_watermarks([names["bounces"]])).values())
            with (Path(folder) / "daemon.log").open("ab") as log:
                daemon = subprocess.Popen(
                    [sys.executable, "-m", "bounced", "run", "--config", str(config)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                samples: list[tuple[float, int]] = []
                deadline = time.monotonic() + args.timeout
                while time.monotonic() < deadline:
                    done = progress(store_path)
                    samples.append((time.monotonic(), done))
                    if done >= goal:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise SystemExit("throughput phase did not finish in time")
                lo = next(s for s in samples if s[1] >= goal * 0.1)
                hi = next(s for s in samples if s[1] >= goal * 0.9)
                rate = (hi[1] - lo[1]) / (hi[0] - lo[0])
                print(
                    f"\nthroughput: {goal} raw bounces; {rate:,.0f} messages/s stored "
                    f"(10%..90% of the backlog), target >= 3,000"
                )
                while pending(store_path):
                    await asyncio.sleep(0.05)

                print(
                    f"\nlatency: producing {len(second)} messages at {args.rate:.0f}/s...",
                    flush=True,
                )
                marks = await admin.high_watermarks([names["bounces"]])
                await produce(broker.bootstrap, names["bounces"], second, rate=args.rate)
                goal += len(second)
                deadline = time.monotonic() + args.timeout
                while progress(store_path) < goal or pending(store_path):
                    if time.monotonic() > deadline:
                        raise SystemExit("latency phase did not finish in time")
                    await asyncio.sleep(0.05)
                inputs = {
                    (r.partition, r.offset): r.timestamp_ms
                    for r in await admin.records(names["bounces"])
                    if r.offset >= marks.get((names["bounces"], r.partition), 0)
                }
                to_signal: dict[tuple[int, int], float] = {}
                for r in await admin.records(names["signals"]):
                    event = orjson.loads(r.value or b"{}")
                    where = (event["source"]["partition"], event["source"]["offset"])
                    if where in inputs:
                        lat = (r.timestamp_ms - inputs[where]) / 1000
                        to_signal[where] = min(lat, to_signal.get(where, lat))
                to_decision: list[float] = []
                signal_source = {}
                for r in await admin.records(names["signals"]):
                    event = orjson.loads(r.value or b"{}")
                    signal_source[event["id"]] = (
                        event["source"]["partition"],
                        event["source"]["offset"],
                    )
                for r in await admin.records(names["suppressions"]):
                    event = orjson.loads(r.value or b"{}")
                    for sid in event["evidence"]["signals"]:
                        where = signal_source.get(sid)
                        if where in inputs:
                            to_decision.append((r.timestamp_ms - inputs[where]) / 1000)
                lat = list(to_signal.values())
                print(
                    f"  produce -> signal:   n={len(lat)} p50={percentile(lat, 0.5) * 1000:.0f} ms "
                    f"p99={percentile(lat, 0.99) * 1000:.0f} ms max={max(lat) * 1000:.0f} ms "
                    f"(target p99 < 250 ms)"
                )
                print(f"  daemon (both phases): {batch_figures(http_port)}")
                if to_decision:
                    print(
                        f"  produce -> decision: n={len(to_decision)} "
                        f"p50={percentile(to_decision, 0.5) * 1000:.0f} ms "
                        f"p99={percentile(to_decision, 0.99) * 1000:.0f} ms "
                        f"mean={statistics.fmean(to_decision) * 1000:.0f} ms"
                    )
            finally:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(30)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--max-batch", type=int, default=500, help="daemon.max_batch")
    parser.add_argument(
        "--parse-workers", type=int, default=0, help="the daemon's daemon.parse_workers setting"
    )
    args = parser.parse_args()
    if args.messages < 1000 or args.rate <= 0 or args.seconds <= 0:
        parser.error("--messages >= 1000, --rate and --seconds > 0")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
