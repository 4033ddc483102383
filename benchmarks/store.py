"""Throughput of the SQLite store on realistic units of work, against a temporary file.

    python benchmarks/store.py [--units N] [--seconds S] [--inputs 200] [--synchronous NORMAL]
                               [--windows 1,24,168] [--uniform]
                               [--prefill-fingerprints N] [--prefill-hours H] [--keep DIR]

Each unit is what the daemon stores for one batch of `--inputs` raw inputs: one fingerprint per
input; for three inputs in four (the attributed ones) a delta to each of the four subjects of
bounced/state/counters.py (about 600 for 200 inputs, stored at three grains, see
bounced/store/rollup.py); a document write per four inputs (new suppressions and throttle
updates); five output events per four inputs (250); three offset moves. Traffic is skewed as
at an ESP (Zipf over clients, market share over providers), or `--uniform` for the worst case.
Two loops run on the same file, each bounded by `--units` and `--seconds`:

- commit only: `Store.commit` of prepared units;
- full cycle: what the daemon asks of the store per batch: `seen`, `load`, `window` (for every
  subject the batch touched, the rolling windows of `--windows` hours: 1 h, 24 h and 7 d, as
  bounced/state/counters.py describes them), `commit`, then `pending` and `mark_sent` as the
  outbox is produced.

It prints units/s, rows/s and inputs/s for both, the time of each call, and how much of one core
the store would use at the daemon's target (3,000 raw inputs/s per instance, end to end).
Optional prefill puts a history in the file first (old fingerprints, `--prefill-hours` of
counter buckets for every subject), so that indexes and windows have a realistic depth.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bounced.store import rollup
from bounced.store.ports import (
    CounterDelta,
    EntityWrite,
    OffsetAdvance,
    OutboxRecord,
    UnitOfWork,
    WindowQuery,
)
from bounced.store.sqlite import SqliteStore

TARGET_INPUTS_PER_S = 3000
BUCKET_SECONDS = 300
GROUP = "bounced"
TOPICS = ("bounces.raw", "complaints.raw", "delivery.log")
PROVIDERS = ("gmail", "microsoft", "yahoo", "orange", "sfr", "free", "laposte", "gmx", "other")
_SHARE = (35, 20, 10, 8, 5, 5, 4, 3, 10)
_ZIPF = [1 / rank for rank in range(1, 1001)]
METRICS = ("sent", "delivered", "hard", "soft", "block", "rate", "complaint")
SCOPES = ("client", "ip", "client_provider", "ip_provider")  # the order of `subjects` below


@dataclass
class World:
    """The simulated ESP: its clients and IPs, the clock, and what the store holds so far."""

    rng: random.Random
    uniform: bool = False  # every client, IP and provider equally likely: the worst case
    clients: list[str] = field(default_factory=lambda: [f"client-{i}" for i in range(60)])
    ips: list[str] = field(default_factory=lambda: [f"198.51.100.{i}" for i in range(250)])
    now: float = 1_800_000_000.0
    serial: int = 0
    offsets: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(TOPICS))
    throttles: dict[str, int] = field(default_factory=dict)  # key -> stored version

    def sender(self) -> tuple[str, str, str]:
        """Who sent the mail an input is about: client, sending IP, receiving provider.

        By default traffic is skewed as at an ESP: client volumes follow a Zipf law, each client
        sends from its own three IPs or from the 50-IP grid, providers by rough market share."""
        rng = self.rng
        if self.uniform:
            return rng.choice(self.clients), rng.choice(self.ips), rng.choice(PROVIDERS)
        n = rng.choices(range(len(self.clients)), weights=_ZIPF[: len(self.clients)])[0]
        own = self.ips[50 + 3 * n : 53 + 3 * n]
        ip = rng.choice(own) if own and rng.random() < 0.5 else rng.choice(self.ips[:50])
        return self.clients[n], ip, rng.choices(PROVIDERS, weights=_SHARE)[0]

    def fingerprint(self) -> str:
        self.serial += 1
        return hashlib.blake2b(self.serial.to_bytes(8, "big"), digest_size=16).hexdigest()


def make_unit(world: World, inputs: int) -> UnitOfWork:
    """One batch's worth of writes; also advances the world's clock and offsets."""
    rng = world.rng
    world.now += inputs / TARGET_INPUTS_PER_S
    bucket = int(world.now) // BUCKET_SECONDS
    seen_at = int(world.now)
    unit = UnitOfWork(group=GROUP)
    unit.fingerprints = [(world.fingerprint(), seen_at) for _ in range(inputs)]
    for _ in range(inputs):
        if rng.random() < 0.25:
            continue  # unattributed: counts nowhere (bounced/state/counters.py, rule 1)
        metric = rng.choice(METRICS)
        client, ip, provider = world.sender()
        subjects = (client, ip, f"{client}|{provider}", f"{ip}|{provider}")
        unit.counters += (
            CounterDelta(scope=scope, key=key, bucket=bucket, metric=metric, delta=1)
            for scope, key in zip(SCOPES, subjects, strict=True)
        )
    for _ in range(inputs // 4):
        if rng.random() < 0.7 or not world.throttles:
            address = f"user{world.fingerprint()[:12]}@example.com"
            data = {"scope": "global", "reason": "userunknown", "first": seen_at, "count": 1}
            unit.entities.append(
                EntityWrite(kind="suppression", key=address, data=data, expected_version=0)
            )
        else:
            key = rng.choice(list(world.throttles))
            data = {"state": "backoff", "rate": rng.randint(1, 100), "since": seen_at}
            unit.entities.append(
                EntityWrite(
                    kind="throttle",
                    key=key,
                    data=data,
                    expected_version=world.throttles[key],
                    due_at=seen_at + 600,
                )
            )
    # Throttles touched twice in one unit would need chained versions; keep one write each.
    unique: dict[tuple[str, str], EntityWrite] = {}
    for write in unit.entities:
        unique.setdefault((write.kind, write.key), write)
    unit.entities = list(unique.values())
    for _ in range(inputs * 5 // 4):
        world.serial += 1
        unit.outbox.append(
            OutboxRecord(
                id=f"ev-{world.serial:012d}",
                topic=rng.choice(("suppressions", "throttles", "signals")),
                key=f"user{world.serial}@example.com".encode(),
                value=b'{"decision":"suppress","evidence":' + b"x" * 260 + b"}",
                headers=(("content-type", b"application/json"), ("origin", b"bounced")),
                created_at=int(world.now * 1000),
                partition_hint="bounces.raw/0",
            )
        )
    for topic in TOPICS:
        previous = world.offsets[topic]
        following = (previous or 0) + inputs // len(TOPICS)
        unit.offsets.append(
            OffsetAdvance(topic=topic, partition=0, previous=previous, next=following)
        )
        world.offsets[topic] = following
    return unit


def after_commit(world: World, unit: UnitOfWork) -> None:
    """Remember the versions the unit stored, and new throttles to update later."""
    for write in unit.entities:
        if write.kind == "throttle":
            world.throttles[write.key] = write.expected_version + 1
    for _ in range(2):
        key = f"{world.rng.choice(world.ips)}|{world.rng.choice(PROVIDERS)}"
        world.throttles.setdefault(key, 0)


def rows_written(unit: UnitOfWork) -> int:
    """Rows one unit inserts or updates: counter deltas summed per row, at every grain."""
    counter_rows = rollup.expand(unit.counters)
    return (
        len(unit.fingerprints)
        + len(counter_rows)
        + len(unit.entities)
        + len(unit.outbox)
        + len(unit.offsets)
    )


class Timer:
    """Total seconds per named call."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.total[name] += time.perf_counter() - start
        self.calls[name] += 1


def prefill(store: SqliteStore, world: World, fingerprints: int, hours: int) -> None:
    """A history: old fingerprints, and counter buckets for every subject over `hours`."""
    chunk = 20_000
    for start in range(0, fingerprints, chunk):
        count = min(chunk, fingerprints - start)
        seen_at = int(world.now) - 86400
        store.commit(
            UnitOfWork(
                group=GROUP, fingerprints=[(world.fingerprint(), seen_at) for _ in range(count)]
            )
        )
    # Every subject of every scope has a count in about a third of the buckets.
    subjects = [("client", c) for c in world.clients] + [("ip", ip) for ip in world.ips]
    subjects += [("client_provider", f"{c}|{p}") for c in world.clients for p in PROVIDERS]
    subjects += [("ip_provider", f"{ip}|{p}") for ip in world.ips for p in PROVIDERS]
    first = int(world.now) // BUCKET_SECONDS - hours * 3600 // BUCKET_SECONDS
    for bucket in range(first, int(world.now) // BUCKET_SECONDS):
        deltas = [
            CounterDelta(scope=scope, key=key, bucket=bucket, metric=metric, delta=3)
            for scope, key in subjects
            if world.rng.random() < 0.33
            for metric in ("sent", "delivered")
        ]
        store.commit(UnitOfWork(group=GROUP, counters=deltas))


def windows_for(unit: UnitOfWork, last_bucket: int, hours: list[int]) -> list[WindowQuery]:
    """The rolling windows of every subject the unit touched, as the policy would ask."""
    subjects = sorted({(c.scope, c.key) for c in unit.counters})
    return [
        WindowQuery(
            scope=scope,
            key=key,
            first_bucket=last_bucket - h * 3600 // BUCKET_SECONDS + 1,
            last_bucket=last_bucket,
        )
        for scope, key in subjects
        for h in hours
    ]


def loop(
    label: str,
    step: Callable[[UnitOfWork], None],
    world: World,
    args: argparse.Namespace,
) -> tuple[int, int, float]:
    """Run `step` on fresh units until the unit or time bound; return units, rows, seconds."""
    units = rows = 0
    spent = 0.0
    deadline = time.perf_counter() + args.seconds
    while units < args.units and time.perf_counter() < deadline:
        unit = make_unit(world, args.inputs)  # not timed: the pipeline builds it
        start = time.perf_counter()
        step(unit)
        spent += time.perf_counter() - start
        after_commit(world, unit)
        units += 1
        rows += rows_written(unit)
    print(
        f"{label:<12} {units:>6} units in {spent:6.2f} s: {units / spent:8.1f} units/s "
        f"{rows / spent:10,.0f} rows/s {units * args.inputs / spent:10,.0f} inputs/s"
    )
    return units, rows, spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300, help="at most this many units per loop")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most this long per loop")
    parser.add_argument("--inputs", type=int, default=200, help="raw inputs per unit")
    parser.add_argument("--synchronous", choices=("NORMAL", "FULL"), default="FULL")
    parser.add_argument("--prefill-fingerprints", type=int, default=0)
    parser.add_argument("--prefill-hours", type=int, default=0, help="of counter buckets")
    parser.add_argument(
        "--windows",
        type=lambda text: [int(h) for h in text.split(",") if h],
        default=[1, 24, 168],
        help="window lengths in hours, comma-separated (default 1,24,168)",
    )
    parser.add_argument("--keep", type=Path, help="put the database here instead of a temp dir")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--uniform", action="store_true", help="spread traffic evenly (worst case for windows)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bounced-bench-") as tmp:
        path = (args.keep or Path(tmp)) / "bench.db"
        if path.exists():
            parser.error(f"{path} exists; give --keep an empty folder")
        store = SqliteStore(path, synchronous=args.synchronous)
        store.migrate()
        world = World(rng=random.Random(args.seed), uniform=args.uniform)
        sample = make_unit(World(rng=random.Random(args.seed), uniform=args.uniform), args.inputs)
        counter_rows = len(rollup.expand(sample.counters))
        print(
            f"file {path} synchronous={args.synchronous}\n"
            f"unit: {args.inputs} inputs -> {len(sample.fingerprints)} fingerprints, "
            f"{len(sample.counters)} counter deltas ({counter_rows} rows at all grains), "
            f"{len(sample.entities)} documents, {len(sample.outbox)} events, "
            f"{len(sample.offsets)} offsets = {rows_written(sample)} rows; "
            f"windows of {','.join(map(str, args.windows))} h for each of the "
            f"{len({(c.scope, c.key) for c in sample.counters})} subjects touched; "
            f"traffic {'uniform' if args.uniform else 'skewed'}"
        )
        if args.prefill_fingerprints or args.prefill_hours:
            start = time.perf_counter()
            prefill(store, world, args.prefill_fingerprints, args.prefill_hours)
            print(
                f"prefill: {args.prefill_fingerprints:,} fingerprints, {args.prefill_hours} h "
                f"of counters in {time.perf_counter() - start:.1f} s"
            )

        loop("commit only", store.commit, world, args)

        timer = Timer()

        def cycle(unit: UnitOfWork) -> None:
            with timer("seen"):
                store.seen([f for f, _ in unit.fingerprints])
            with timer("load"):
                for kind in ("suppression", "throttle"):
                    store.load(kind, [w.key for w in unit.entities if w.kind == kind])
            with timer("window"):
                store.window(windows_for(unit, unit.counters[0].bucket, args.windows))
            with timer("commit"):
                store.commit(unit)
            with timer("pending"):
                pending = store.pending(1000)
            with timer("mark_sent"):
                store.mark_sent([r.id for r in pending], int(world.now))

        units, _, spent = loop("full cycle", cycle, world, args)
        for name, total in timer.total.items():
            print(f"  {name:<10} {1000 * total / timer.calls[name]:7.2f} ms per call")
        inputs_per_s = units * args.inputs / spent
        print(
            f"store share of one core at {TARGET_INPUTS_PER_S:,} inputs/s: "
            f"{100 * TARGET_INPUTS_PER_S / inputs_per_s:.0f}% "
            f"(headroom x{inputs_per_s / TARGET_INPUTS_PER_S:.1f})"
        )
        store.close()
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        print(f"database size {size / 2**20:.1f} MiB (with WAL)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
