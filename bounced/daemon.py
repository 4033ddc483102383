"""The daemon: consume -> pipeline -> store -> outbox -> produce.

Lifecycle (read top to bottom in `run`): migrate the store, start the producer, drain the outbox
(events stored but not produced before a crash), join the consumer group, then run the consume,
tick and prune loops until asked to stop. A first stop request (SIGTERM, SIGINT) stops fetching;
the batch in hand is finished and stored, the outbox drained, the group left, all within the
shutdown timeout. A second request cancels everything at once: nothing is lost, because offsets
only advance with the state they produced.

One batch: records are prepared (parsed, classified, attributed) in chunks that yield to the
event loop between them, or in a process pool; the engine turns the inputs and the state they
need into a unit of work; the store commits the unit and the new offsets in one transaction;
then the unit's events are produced (acks=all) and marked sent. On a compare-and-set conflict the
unit is recomputed from fresh state, unless the partition's stored offset moved: then another
instance owns it now, and the batch is dropped for that partition (it was fenced).

A store or broker that fails pauses the daemon (not ready) and the operation is retried with
capped exponential backoff until it succeeds or a stop is requested. The store is called from
one worker thread so that SQLite and PostgreSQL never block the event loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from bounced import engine
from bounced import log as logging
from bounced.config import Config
from bounced.errors import BrokerError, StoreError
from bounced.events import ROLE_OF, Decision, Role, SignalEvent, key_of
from bounced.io.codec import encode_event
from bounced.io.ports import EventSink, InRecord, MessageSource, TopicPartition
from bounced.metrics import Metrics
from bounced.prepare import Preparer
from bounced.state.counters import BUCKET_SECONDS
from bounced.store.ports import ConflictError, OffsetAdvance, OutboxRecord, Store, UnitOfWork

T = TypeVar("T")
log = logging.get("daemon")


class StoppingError(Exception):
    """Raised inside a retry loop when a stop was requested: give up the operation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    initial: float
    maximum: float

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * 2.0 ** min(attempt, 30))
        return float(base * (0.5 + random.random() / 2))  # jitter: spread retries of many instances


class Daemon:
    """One instance of the daemon. Build it with its ports, then `await run()`."""

    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        source: MessageSource,
        sink: EventSink,
        policy: engine.Policy,
        preparer: Preparer,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.source = source
        self.sink = sink
        self.policy = policy
        self.preparer = preparer
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.ready = False
        self._parse_pool: ProcessPoolExecutor | None = None
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bounced-store")
        self._stopping = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._forced = False
        self._writer: asyncio.Task[None] | None = None
        self._positions: dict[TopicPartition, int | None] = {}
        self._lock = asyncio.Lock()
        # One prepared batch may wait while the previous one is stored: parsing (CPU) overlaps
        # with the store's commit and the broker's acknowledgements (I/O), and in-flight work
        # stays bounded by two batches.
        self._prepared: asyncio.Queue[
            tuple[dict[TopicPartition, list[InRecord]], list[engine.Input], float] | None
        ] = asyncio.Queue(maxsize=1)
        self._backoff = Backoff(
            initial=config.daemon.retry_initial_seconds, maximum=config.daemon.retry_max_seconds
        )
        topics = config.topics
        self._topic_of = {
            Role.SIGNALS: topics.signals,
            Role.SUPPRESSIONS: topics.suppressions,
            Role.THROTTLES: topics.throttles,
            Role.POOL: topics.pool,
            Role.DLQ: topics.dlq,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until a stop is requested; then shut down cleanly."""
        self._main = asyncio.current_task()
        try:
            await self._retry("store", lambda: self._in_db(self.store.migrate))
            await self._retry("broker", self.sink.start)
            await self._drain_outbox()
            await self._retry("broker", lambda: self.source.start(self._assigned, self._revoked))
            self._set_ready(ready=True)
            log.info("started", group=self.config.kafka.group_id)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._consume_loop())
                self._writer = tasks.create_task(self._write_loop())
                tasks.create_task(self._every(self.config.daemon.tick_seconds, self._tick))
                tasks.create_task(self._every(self.config.daemon.prune_seconds, self._prune))
        except* StoppingError:  # a stop while a dependency was failing: not an error
            pass
        finally:
            await self._shutdown()
        if self._forced:  # a forced exit must not look like a clean one to the caller
            raise asyncio.CancelledError

    def request_stop(self) -> None:
        """Signal handler: the first call stops gracefully, the second cancels everything."""
        if self._stopping.is_set():
            log.warning("forced exit requested")
            self._forced = True
            if self._main is not None:
                self._main.cancel()
            return
        log.info("stop requested")
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def _shutdown(self) -> None:
        """Drain the outbox, leave the group and close the producer, each within the shutdown
        timeout, and each even if the one before failed. The store stays open: it belongs to
        whoever built the daemon. A forced exit skips all three."""
        self._set_ready(ready=False)
        try:
            if not self._forced:
                steps: list[Callable[[], Awaitable[None]]] = [
                    lambda: self._drain_outbox(retry=False),
                    self.source.stop,
                    self.sink.stop,
                ]
                for step in steps:
                    try:
                        async with asyncio.timeout(self.config.daemon.shutdown_timeout_seconds):
                            await step()
                    except (TimeoutError, BrokerError, StoreError, StoppingError) as exc:
                        log.warning("shutdown step incomplete", error=str(exc) or "timed out")
        finally:
            self._db.shutdown(wait=False, cancel_futures=True)
            if self._parse_pool is not None:
                self._parse_pool.shutdown(wait=False, cancel_futures=True)
            log.info("stopped", forced=self._forced)

    def _set_ready(self, *, ready: bool) -> None:
        self.ready = ready
        self.metrics.ready.set(1 if ready else 0)

    async def _every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        while not await self._sleep_or_stop(seconds):
            await work()

    async def _sleep_or_stop(self, seconds: float) -> bool:
        """Sleep, waking early on a stop request; True if a stop was requested."""
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            return False
        return True

    # -- dependencies ------------------------------------------------------------------------

    async def query(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call (a lookup) on the store thread, once, without retrying."""
        return await self._in_db(fn, *args)

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def _retry(self, dependency: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run an operation until it succeeds; store and broker failures back off and retry."""
        attempt = 0
        while True:
            try:
                result = await operation()
            except (StoreError, BrokerError) as exc:
                if isinstance(exc, StoreError) and not exc.retryable:
                    log.exception("dependency failed for good", dependency=dependency)
                    raise
                if self.stopping:
                    raise StoppingError from exc
                self._set_ready(ready=False)
                self.metrics.retries.labels(dependency).inc()
                delay = self._backoff.delay(attempt)
                log.warning(
                    "dependency failed",
                    dependency=dependency,
                    error=str(exc),
                    retry_in=round(delay, 2),
                )
                attempt += 1
                if await self._sleep_or_stop(delay):
                    raise StoppingError from exc
                continue
            if attempt:
                log.info("dependency recovered", dependency=dependency)
                self._set_ready(ready=True)
            return result

    # -- partitions --------------------------------------------------------------------------

    async def _assigned(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int | None]:
        stored = await self._retry(
            "store", lambda: self._in_db(self.store.offsets, self.config.kafka.group_id)
        )
        found = {tp: stored.get(tp) for tp in partitions}
        self._positions.update(found)
        log.info("partitions assigned", partitions=sorted(f"{t}/{p}" for t, p in partitions))
        return found

    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        if self._writer is not None and not self._writer.done():
            await self._prepared.join()  # every prepared batch is stored first
        # (With the writer gone, queued batches are dropped unstored: their offsets did not
        # advance, so whoever owns the partitions next reads them again.)
        async with self._lock:
            for tp in partitions:
                self._positions.pop(tp, None)
        log.info("partitions revoked", partitions=sorted(f"{t}/{p}" for t, p in partitions))

    # -- the consume loop --------------------------------------------------------------------

    async def _consume_loop(self) -> None:
        """Fetch and prepare batches; the writer stores them while the next one is prepared."""
        settings = self.config.daemon
        while not self.stopping:
            batch = await self._retry(
                "broker",
                lambda: self.source.fetch(settings.max_batch, settings.fetch_timeout_ms),
            )
            batch = {tp: rs for tp, rs in batch.items() if tp in self._positions and rs}
            if not batch:
                continue
            started = time.perf_counter()
            records = [r for rs in batch.values() for r in rs]
            for r in records:
                self.metrics.consumed.labels(r.topic).inc()
            self.metrics.counts.consumed += len(records)
            inputs = await self._prepare(records)
            await self._prepared.put((batch, inputs, started))
        # A graceful stop: the writer finishes what is queued, then stops. (When the loop is
        # cancelled or fails instead, the task group cancels the writer as well.)
        await self._prepared.put(None)

    async def _write_loop(self) -> None:
        """Store and produce prepared batches, in order, one at a time."""
        while True:
            item = await self._prepared.get()
            try:
                if item is None:
                    return
                batch, inputs, started = item
                async with self._lock:
                    await self._handle(batch, inputs)
                self.metrics.batch_seconds.observe(time.perf_counter() - started)
            finally:
                self._prepared.task_done()

    async def _handle(
        self, batch: dict[TopicPartition, list[InRecord]], inputs: list[engine.Input]
    ) -> None:
        # Keep only what is still ours and not stored yet: a partition revoked or fenced while
        # this batch waited in the queue has moved on, and its records here are someone else's.
        kept: dict[TopicPartition, list[InRecord]] = {}
        for tp, records in batch.items():
            if tp not in self._positions:
                continue
            position = self._positions[tp]
            fresh = [r for r in records if position is None or r.offset >= position]
            if fresh:
                kept[tp] = fresh
        if not kept:
            return
        if kept != batch:
            alive = {(tp, r.offset) for tp, rs in kept.items() for r in rs}
            inputs = [
                i
                for i in inputs
                if ((i.source.topic, i.source.partition), i.source.offset) in alive
            ]
        outbox = await self._store_batch(kept, inputs)
        if outbox:
            await self._produce(outbox)
        hints = {tp: self._positions[tp] for tp in kept if self._positions.get(tp) is not None}
        try:
            await self.source.commit_hint({tp: o for tp, o in hints.items() if o is not None})
        except BrokerError as exc:  # only a hint: our store holds the truth
            log.debug("offset hint not committed", error=str(exc))

    async def _prepare(self, records: list[InRecord]) -> list[engine.Input]:
        chunk = max(1, self.config.daemon.chunk)
        pieces = [records[i : i + chunk] for i in range(0, len(records), chunk)]
        workers = self.config.daemon.parse_workers
        if workers > 0:
            if self._parse_pool is None:
                self._parse_pool = ProcessPoolExecutor(max_workers=workers)
            loop = asyncio.get_running_loop()
            try:
                done = await asyncio.gather(
                    *(
                        loop.run_in_executor(self._parse_pool, _prepare_all, self.preparer, p)
                        for p in pieces
                    )
                )
            except BrokenProcessPool:
                # A worker died (killed, out of memory): start a new pool next time and parse
                # this batch here, so that no input is skipped.
                log.exception("parse worker died; parsing in the daemon process for this batch")
                self._parse_pool.shutdown(wait=False, cancel_futures=True)
                self._parse_pool = None
            else:
                return [item for part in done for item in part]
        out: list[engine.Input] = []
        for piece in pieces:
            out.extend(_prepare_all(self.preparer, piece))
            await asyncio.sleep(0)  # let heartbeats and the rest of the loop run
        return out

    async def _store_batch(
        self, batch: dict[TopicPartition, list[InRecord]], inputs: list[engine.Input]
    ) -> list[OutboxRecord]:
        while True:
            now = self.clock()
            advances = [
                OffsetAdvance(
                    topic=tp[0],
                    partition=tp[1],
                    previous=self._positions.get(tp),
                    next=max(r.offset for r in records) + 1,
                )
                for tp, records in batch.items()
            ]
            step, unit = await self._compute(inputs, now, advances)
            try:
                await self._retry("store", _bind(self._in_db, self.store.commit, unit))
            except ConflictError:
                self.metrics.conflicts.inc()
                self.metrics.counts.conflicts += 1
                batch, inputs = await self._after_conflict(batch, inputs)
                if not batch:
                    return []
                continue
            for advance in advances:
                self._positions[(advance.topic, advance.partition)] = advance.next
            self._count(step)
            return unit.outbox

    async def _compute(
        self, inputs: Sequence[engine.Input], now: float, advances: list[OffsetAdvance]
    ) -> tuple[engine.Step, UnitOfWork]:
        needs = engine.needs(self.policy, inputs, now)
        prints = [i.fingerprint for i in inputs if i.fingerprint]
        loaded = await self._retry("store", lambda: self._in_db(_load, self.store, needs, prints))
        step = engine.step(self.policy, inputs, loaded, now)
        unit = UnitOfWork(
            group=self.config.kafka.group_id,
            offsets=advances,
            fingerprints=step.fingerprints,
            counters=step.counters,
            entities=step.writes,
            outbox=[self._encode(role, ident, event, now) for role, ident, event in step.events],
        )
        return step, unit

    async def _after_conflict(
        self, batch: dict[TopicPartition, list[InRecord]], inputs: list[engine.Input]
    ) -> tuple[dict[TopicPartition, list[InRecord]], list[engine.Input]]:
        """Drop partitions whose stored offset moved (fenced); keep the rest for a recompute."""
        stored = await self._retry(
            "store", lambda: self._in_db(self.store.offsets, self.config.kafka.group_id)
        )
        fenced = {tp for tp in batch if stored.get(tp) != self._positions.get(tp)}
        for tp in fenced:
            log.warning(
                "partition fenced: another instance stored it", partition=f"{tp[0]}/{tp[1]}"
            )
            self._positions[tp] = stored.get(tp)
            offset = stored.get(tp)
            if offset is not None and tp in self.source.assignment():
                self.source.seek(tp, offset)
        if not fenced:
            return batch, inputs
        kept = {tp: rs for tp, rs in batch.items() if tp not in fenced}
        return kept, [i for i in inputs if (i.source.topic, i.source.partition) not in fenced]

    def _count(self, step: engine.Step) -> None:
        counts = self.metrics.counts
        counts.duplicates += step.duplicates
        counts.dead_letters += step.dead_letters
        self.metrics.duplicates.inc(step.duplicates)
        for role, _, event in step.events:
            if isinstance(event, SignalEvent):
                counts.signals += 1
                self.metrics.signals.labels(event.category).inc()
            elif isinstance(event, engine.Input):
                code = event.rejection.code if event.rejection else "unknown"
                self.metrics.dead_letters.labels(code).inc()
            elif role is not Role.DLQ:
                kind = str(event.type)
                counts.decisions[kind] = counts.decisions.get(kind, 0) + 1
                self.metrics.decisions.labels(kind).inc()

    # -- output ------------------------------------------------------------------------------

    def _encode(
        self, role: Role, ident: str, event: SignalEvent | Decision | engine.Input, now: float
    ) -> OutboxRecord:
        topic = self._topic_of[role]
        created = int(now * 1000)
        if isinstance(event, engine.Input):
            src = event.source
            rejection = event.rejection
            headers = (
                *event.headers,
                ("bounced-event-id", ident.encode()),
                ("bounced-error-class", (rejection.error_class if rejection else "").encode()),
                ("bounced-error-code", (rejection.code if rejection else "").encode()),
                ("bounced-error-message", (rejection.message if rejection else "").encode()),
                ("bounced-source-topic", src.topic.encode()),
                ("bounced-source-partition", str(src.partition).encode()),
                ("bounced-source-offset", str(src.offset).encode()),
            )
            return OutboxRecord(
                id=ident,
                topic=topic,
                key=event.key,
                value=event.raw or b"",
                headers=headers,
                created_at=created,
                partition_hint=f"{src.topic}/{src.partition}",
            )
        return OutboxRecord(
            id=ident,
            topic=topic,
            key=key_of(event).encode(),
            value=encode_event(event),
            headers=(
                ("bounced-event-id", ident.encode()),
                ("bounced-event-type", str(event.type).encode()),
            ),
            created_at=created,
        )

    async def _produce(self, records: list[OutboxRecord]) -> None:
        await self._retry("broker", lambda: self.sink.send(records))
        ids = [r.id for r in records]
        now = int(self.clock())
        await self._retry("store", lambda: self._in_db(self.store.mark_sent, ids, now))
        self.metrics.produced.inc(len(records))
        self.metrics.counts.produced += len(records)

    async def _drain_outbox(self, *, retry: bool = True) -> None:
        """Produce every stored event not yet marked sent (after a crash, or at shutdown)."""
        while True:
            if retry:
                pending = await self._retry("store", lambda: self._in_db(self.store.pending, 500))
            else:
                pending = await self._in_db(self.store.pending, 500)
            self.metrics.outbox_pending.set(len(pending))
            if not pending:
                return
            log.info("draining outbox", events=len(pending))
            if retry:
                await self._produce(pending)
            else:
                await self.sink.send(pending)
                await self._in_db(self.store.mark_sent, [r.id for r in pending], int(self.clock()))

    # -- time ------------------------------------------------------------------------------

    async def _tick(self) -> None:
        """Time-driven decisions (expiries, ramp steps) for documents whose time has come."""
        async with self._lock:
            now = self.clock()
            due = await self._retry("store", lambda: self._in_db(self.store.due, int(now), 500))
            if not due:
                return
            needs = self.policy.tick_needs(due, now)
            loaded = await self._retry("store", lambda: self._in_db(_load, self.store, needs, []))
            decided = self.policy.tick(due, loaded, now)
            if not decided.writes and not decided.decisions:
                return
            unit = UnitOfWork(
                group=self.config.kafka.group_id,
                entities=decided.writes,
                outbox=[self._encode(_role(d), d.id, d, now) for d in decided.decisions],
            )
            try:
                await self._retry("store", lambda: self._in_db(self.store.commit, unit))
            except ConflictError:  # another instance moved these documents first
                self.metrics.conflicts.inc()
                return
            for d in decided.decisions:
                kind = str(d.type)
                self.metrics.counts.decisions[kind] = self.metrics.counts.decisions.get(kind, 0) + 1
                self.metrics.decisions.labels(kind).inc()
            await self._produce(unit.outbox)

    async def _prune(self) -> None:
        now = int(self.clock())
        day = 86400
        store = self.config.store
        await self._retry(
            "store",
            lambda: self._in_db(
                lambda: self.store.prune(
                    fingerprints_before=now - store.fingerprint_days * day,
                    events_before=now - store.event_days * day,
                    counters_before_bucket=(now - store.counter_days * day) // BUCKET_SECONDS,
                )
            ),
        )


def _role(decision: Decision) -> Role:
    return ROLE_OF[type(decision)]


def _bind(fn: Callable[..., Awaitable[T]], *args: Any) -> Callable[[], Awaitable[T]]:
    """A zero-argument callable for `_retry` that calls `fn(*args)` anew on each attempt."""
    return lambda: fn(*args)


def _prepare_all(preparer: Preparer, records: Sequence[InRecord]) -> list[engine.Input]:
    return [preparer(r) for r in records]


def _load(store: Store, needs: engine.Needs, fingerprints: list[str]) -> engine.Loaded:
    """Everything a batch reads, in one trip to the store thread."""
    return engine.Loaded(
        entities={kind: store.load(kind, keys) for kind, keys in needs.entities.items()},
        windows=store.window(needs.windows) if needs.windows else {},
        seen=store.seen(fingerprints) if fingerprints else set(),
    )
