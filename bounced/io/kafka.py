"""The Kafka adapter: the only module of bounced that imports aiokafka.

Three small classes implement the ports of `bounced.io.ports` (and a little more):

`KafkaSource` (a `MessageSource`) reads the input topics as a member of a consumer group, with
  Kafka's auto commit off, because offsets belong to the store.

  - ``start(on_assigned, on_revoked)`` joins the group (it forms during the first fetches).
  - On every assignment the source awaits ``on_assigned(partitions)``, which returns the stored
    next offset of each partition (None or absent: nothing stored), and seeks there; a partition
    with nothing stored starts at its earliest offset. Newly assigned partitions stay paused until
    they are positioned, so no record is ever read from where Kafka's own commit points. If
    ``on_assigned`` raises, its partitions stay paused and the next `fetch` calls it again and
    lets the exception through, so the daemon's retry loop covers a store outage.
  - Before partitions are taken away (a rebalance, or `stop`), the source awaits
    ``on_revoked(partitions)``, so the daemon can finish and store the work it holds for them.
    The callback must not call `fetch`, and must return well within the session timeout.
  - ``fetch(max_records, timeout_ms)`` returns the records that arrived, by partition, as frozen
    `InRecord` values; it returns as soon as there are some. It must be called regularly, also
    while every partition is paused (at least every ``max_poll_interval_ms``), or the group
    drops the member.
  - ``pause(partitions)`` / ``resume(partitions)`` bound in-flight work: a paused partition is
    not fetched and what was already buffered for it is held back. Pauses do not survive a
    rebalance (a new assignment starts resumed). ``seek(partition, offset)`` moves one owned
    partition (after a fenced write, for instance); ``assignment()`` lists the owned ones.
  - ``commit_hint(offsets)`` commits to Kafka for lag tools; the source never reads it back.

`KafkaSink` (an `EventSink`) produces `OutboxRecord` values with ``acks="all"``.
  ``send(records)`` returns once the broker acknowledged every record and raises `BrokerError`
  otherwise, within ``send_timeout``. Some records of a failed call may be written anyway (even
  after the error, when a stalled broker wakes up): the daemon retries the whole batch with
  backoff, marks records sent only after `send` returned, and consumers de-duplicate by event id.

`KafkaAdmin` creates missing topics with a partition count, reports high watermarks, and reads a
  topic back up to its high watermark (for the demo and the tests).

Every error of aiokafka, of the network, or of a bound on waiting becomes a `BrokerError` whose
message names what failed, never the content of a record (values hold personal data). Every
wait is bounded.

Tansu, the broker of the demo and the tests, shapes three choices (measured, see docs/kafka.md):
the producer is neither idempotent nor transactional, because Tansu rejects the InitProducerId
v0 request aiokafka sends for either; high watermarks come from fetch responses, because Tansu
answers ListOffsets(latest), hence aiokafka's ``end_offsets()``, with the base offset of the last
batch plus one; and topics are created before anyone subscribes or produces, because Tansu
creates an unknown topic with 4 partitions as soon as a client asks for its metadata.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from bounced import log
from bounced.errors import BrokerError
from bounced.io.ports import InRecord, OnAssigned, OnRevoked, TopicPartition
from bounced.store.ports import OutboxRecord

if TYPE_CHECKING:
    from bounced.io.ports import EventSink, MessageSource

_log = log.get("kafka")

# What a failure of the broker or of the network looks like when it reaches us.
_FAILURES = (KafkaError, OSError, TimeoutError)
_TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code


def _failure(action: str, exc: BaseException) -> BrokerError:
    name = type(exc).__name__
    detail = str(exc) or ("no answer in time" if isinstance(exc, TimeoutError) else "no detail")
    if not detail.startswith(name):  # aiokafka's messages often start with their class name
        detail = f"{name}: {detail}"
    return BrokerError(f"{action}: {detail}")


def _tp(partition: TopicPartition) -> Any:
    return aiokafka.TopicPartition(partition[0], partition[1])


def _own(partitions: Iterable[Any]) -> set[TopicPartition]:
    return {(tp.topic, tp.partition) for tp in partitions}


def _names(partitions: Iterable[TopicPartition]) -> list[str]:
    return sorted(f"{topic}/{partition}" for topic, partition in partitions)


def _record(message: Any) -> InRecord:
    return InRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((name, value or b"") for name, value in message.headers),
        timestamp_ms=message.timestamp,
    )


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, source: KafkaSource) -> None:
        self._source = source

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._source._revoked(_own(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._source._assigned(_own(assigned))


class KafkaSource:
    """Input records from a consumer group, positioned from the store (see the module doc)."""

    def __init__(
        self,
        *,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        client_id: str = "bounced",
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_poll_interval_ms: int = 300_000,
        request_timeout_ms: int = 40_000,
        max_partition_fetch_bytes: int = 1024 * 1024,
        fetch_max_wait_ms: int = 500,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        hint_timeout: float = 5.0,
    ) -> None:
        if not topics:
            raise ValueError("a source needs at least one topic")
        self._topics = tuple(topics)
        self._group = group
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "group_id": group,
            "client_id": client_id,
            "enable_auto_commit": False,
            # Only used when a stored offset is out of range (retention deleted it): start over
            # from what is left rather than from the end.
            "auto_offset_reset": "earliest",
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": heartbeat_interval_ms,
            "max_poll_interval_ms": max_poll_interval_ms,
            "request_timeout_ms": request_timeout_ms,
            "max_partition_fetch_bytes": max_partition_fetch_bytes,
            "fetch_max_wait_ms": fetch_max_wait_ms,
        }
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._hint_timeout = hint_timeout
        self._consumer: Any = None
        self._on_assigned: OnAssigned | None = None
        self._on_revoked: OnRevoked | None = None
        self._paused: set[TopicPartition] = set()  # paused by the caller
        self._pending: set[TopicPartition] = set()  # assigned, not positioned from the store yet
        self._positioning = asyncio.Lock()

    async def start(self, on_assigned: OnAssigned, on_revoked: OnRevoked) -> None:
        """Connect and subscribe; the group assigns partitions during the first fetches."""
        if self._consumer is not None:
            raise BrokerError("the source is already started")
        self._on_assigned, self._on_revoked = on_assigned, on_revoked
        consumer = AIOKafkaConsumer(**self._options)
        try:
            async with asyncio.timeout(self._start_timeout):
                await consumer.start()
            consumer.subscribe(list(self._topics), listener=_Listener(self))
        except _FAILURES as exc:
            await _close_quietly(consumer.stop(), self._stop_timeout)
            raise _failure(f"cannot start the consumer of group {self._group!r}", exc) from exc
        self._consumer = consumer

    async def stop(self) -> None:
        """Hand back the partitions (``on_revoked``), leave the group and close; bounded.

        Failures are logged, not raised: stopping is part of shutting down.
        """
        if self._consumer is None:
            return
        owned = self.assignment()
        if owned:
            try:
                async with asyncio.timeout(self._stop_timeout):
                    await self._revoked(owned)
            except TimeoutError:
                _log.warning("on_revoked did not return in time", group=self._group)
        consumer, self._consumer = self._consumer, None
        self._paused.clear()
        self._pending.clear()
        await _close_quietly(consumer.stop(), self._stop_timeout)

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member owns now (none while the group forms or rebalances)."""
        if self._consumer is None:
            return set()
        return _own(self._consumer.assignment())

    def paused(self) -> set[TopicPartition]:
        """The owned partitions paused by `pause` (not those waiting for stored offsets)."""
        return self._paused & self.assignment()

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        """Stop fetching these partitions (those not owned are ignored)."""
        owned = set(partitions) & self.assignment()
        self._paused |= owned
        if owned:
            self._require().pause(*(_tp(p) for p in owned))

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        """Fetch these partitions again (unless they still wait for their stored offsets)."""
        wanted = set(partitions)
        self._paused -= wanted
        ready = wanted & self.assignment() - self._pending
        if ready:
            self._require().resume(*(_tp(p) for p in ready))

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Read `partition` from `offset` on (ignored if the partition is not owned)."""
        if offset < 0:
            raise ValueError(f"offset {offset} is negative")
        if partition in self.assignment():
            self._require().seek(_tp(partition), offset)

    async def fetch(
        self, max_records: int, timeout_ms: int
    ) -> dict[TopicPartition, list[InRecord]]:
        """Records that arrive within `timeout_ms` (at most `max_records`), by partition.

        Calls ``on_assigned`` again for partitions it failed for, and lets its exception through.
        """
        consumer = self._require()
        if self._pending:
            await self._position(set(self._pending))
        try:
            # aiokafka honours timeout_ms; the outer bound only guards against a stuck client.
            async with asyncio.timeout(timeout_ms / 1000 + 5.0):
                batches = await consumer.getmany(
                    timeout_ms=max(0, timeout_ms), max_records=max_records
                )
        except _FAILURES as exc:
            raise _failure(f"fetch from {', '.join(self._topics)} failed", exc) from exc
        return {
            (tp.topic, tp.partition): [_record(m) for m in messages]
            for tp, messages in batches.items()
            if messages
        }

    async def commit_hint(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit next offsets to Kafka, for monitoring; partitions not owned are skipped.

        Bounded by ``hint_timeout`` (a stalled broker would otherwise hold the caller for the
        whole request timeout, for a commit nobody relies on).
        """
        consumer = self._require()
        owned = self.assignment()
        wanted = {_tp(p): offset for p, offset in offsets.items() if p in owned}
        if not wanted:
            return
        try:
            async with asyncio.timeout(self._hint_timeout):
                await consumer.commit(wanted)
        except _FAILURES as exc:
            raise _failure(f"commit of group {self._group!r} failed", exc) from exc

    def _require(self) -> Any:
        if self._consumer is None:
            raise BrokerError("the source is not started")
        return self._consumer

    async def _assigned(self, partitions: set[TopicPartition]) -> None:
        if not partitions:
            return
        try:
            await self._position(partitions)
        except Exception as exc:  # noqa: BLE001  (the next fetch tries again and raises it)
            _log.warning(
                "positioning assigned partitions failed; they stay paused",
                group=self._group,
                partitions=_names(partitions),
                error=f"{type(exc).__name__}: {exc}",
            )

    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        positioned = partitions - self._pending
        self._paused -= partitions
        self._pending -= partitions
        if not positioned or self._on_revoked is None:
            return
        try:
            await self._on_revoked(set(positioned))
        except Exception as exc:  # noqa: BLE001  (aiokafka would only log it and go on, too)
            _log.warning(
                "on_revoked failed",
                group=self._group,
                partitions=_names(positioned),
                error=f"{type(exc).__name__}: {exc}",
            )

    async def _position(self, partitions: set[TopicPartition]) -> None:
        """Seek `partitions` to their stored offsets; they stay paused until that succeeded."""
        consumer = self._require()
        if self._on_assigned is None:
            raise BrokerError("the source is not started")
        partitions = partitions & self.assignment()
        if not partitions:
            return
        # Paused before any await, so that no fetch can return records of these partitions
        # from the position Kafka's commit gives them.
        self._pending |= partitions
        consumer.pause(*(_tp(p) for p in partitions))
        async with self._positioning:
            partitions = partitions & self._pending  # not positioned meanwhile, nor revoked
            if not partitions:
                return
            stored = await self._on_assigned(set(partitions))
            partitions = partitions & self._pending & self.assignment()  # a rebalance may have run
            earliest = []
            for p in sorted(partitions):
                offset = stored.get(p)
                if offset is None:
                    earliest.append(_tp(p))
                elif offset < 0:
                    raise BrokerError(f"the stored offset of {p[0]}/{p[1]} is negative")
                else:
                    consumer.seek(_tp(p), offset)
            if earliest:
                try:
                    async with asyncio.timeout(self._options["request_timeout_ms"] / 1000):
                        await consumer.seek_to_beginning(*earliest)
                except _FAILURES as exc:
                    raise _failure("cannot find the earliest offsets", exc) from exc
            self._pending -= partitions
            ready = partitions - self._paused
            if ready:
                consumer.resume(*(_tp(p) for p in ready))


class _Started(ABC):
    """`async with` for a client with `start()` and `stop()`: started on entry, stopped on exit."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class KafkaSink(_Started):
    """Output records, each acknowledged by the broker (``acks="all"``).

    Not idempotent and not transactional: Tansu rejects the InitProducerId v0 request that
    aiokafka sends for either, and the outbox with stable event ids gives at-least-once output
    without them.
    """

    def __init__(
        self,
        *,
        bootstrap: str,
        client_id: str = "bounced",
        request_timeout_ms: int = 30_000,
        send_timeout: float = 60.0,
        linger_ms: int = 5,
        max_request_size: int = 16 * 1024 * 1024,
        compression: str | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": False,  # Tansu: InitProducerId v0 is rejected
            "request_timeout_ms": request_timeout_ms,
            "linger_ms": linger_ms,
            "max_request_size": max_request_size,
            "compression_type": compression,
        }
        self._send_timeout = send_timeout
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._producer: Any = None

    async def start(self) -> None:
        """Connect to the cluster (fails with `BrokerError` if no broker answers)."""
        if self._producer is not None:
            raise BrokerError("the sink is already started")
        producer = AIOKafkaProducer(**self._options)
        try:
            async with asyncio.timeout(self._start_timeout):
                await producer.start()
        except _FAILURES as exc:
            await _close_quietly(producer.stop(), self._stop_timeout)
            raise _failure("cannot start the producer", exc) from exc
        self._producer = producer

    async def stop(self) -> None:
        """Flush what is queued and close (bounded; failures are logged, not raised)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await _close_quietly(producer.stop(), self._stop_timeout)

    async def send(self, records: Sequence[OutboxRecord]) -> None:
        """Produce `records`; return when all are acknowledged, else raise `BrokerError`."""
        if not records:
            return
        if self._producer is None:
            raise BrokerError("the sink is not started")
        producer = self._producer
        topics = ", ".join(sorted({r.topic for r in records}))
        deadline = time.monotonic() + self._send_timeout
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self._send_timeout):
                for r in records:
                    future = await producer.send(
                        r.topic, value=r.value, key=r.key, headers=list(r.headers)
                    )
                    futures.append(future)
        except _FAILURES as exc:
            _abandon(futures)
            raise _failure(
                f"cannot queue {len(records) - len(futures)} of {len(records)} records "
                f"for {topics}",
                exc,
            ) from exc
        done, pending = await asyncio.wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        _abandon(pending)
        errors = [e for f in done if (e := f.exception()) is not None]
        if errors or pending:
            first: BaseException = errors[0] if errors else TimeoutError()
            raise _failure(
                f"{len(errors) + len(pending)} of {len(records)} records for {topics} were not "
                f"acknowledged ({len(pending)} without an answer in {self._send_timeout:g} s)",
                first,
            ) from (first if errors else None)


def _abandon(futures: Iterable[asyncio.Future[Any]]) -> None:
    """Retrieve the outcome of futures nobody waits for, so asyncio does not report them."""
    for future in futures:
        future.add_done_callback(lambda f: f.cancelled() or f.exception())


async def _close_quietly(closing: Awaitable[Any], bound: float) -> None:
    try:
        async with asyncio.timeout(bound):
            await closing
    except (*_FAILURES, RuntimeError) as exc:
        _log.warning("closing a Kafka client failed", error=f"{type(exc).__name__}: {exc}")


class KafkaAdmin(_Started):
    """Topic creation, high watermarks and reading a topic back."""

    def __init__(
        self,
        *,
        bootstrap: str,
        client_id: str = "bounced-admin",
        request_timeout_ms: int = 30_000,
        timeout: float = 30.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._request_timeout_ms = request_timeout_ms
        self._timeout = timeout
        self._admin: Any = None
        self._consumer: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._admin is not None:
            raise BrokerError("the admin client is already started")
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            request_timeout_ms=self._request_timeout_ms,
        )
        # A consumer outside any group, for watermarks and reading: short fetch waits so that
        # an empty partition answers quickly.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=self._request_timeout_ms,
            fetch_max_wait_ms=20,
        )
        try:
            async with asyncio.timeout(self._timeout):
                await admin.start()
                await consumer.start()
        except _FAILURES as exc:
            await _close_quietly(consumer.stop(), self._timeout)
            await _close_quietly(admin.close(), self._timeout)
            raise _failure("cannot start the admin client", exc) from exc
        self._admin, self._consumer = admin, consumer

    async def stop(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        if consumer is not None:
            await _close_quietly(consumer.stop(), self._timeout)
        if admin is not None:
            await _close_quietly(admin.close(), self._timeout)

    async def ensure_topics(
        self, topics: Iterable[str], partitions: int, *, replication_factor: int = 1
    ) -> dict[str, int]:
        """Create the topics that do not exist yet; return every topic's partition count.

        An existing topic is left as it is, even with another partition count: callers compare.
        """
        names = sorted(set(topics))
        if not names:
            return {}
        admin = self._require()
        new = [NewTopic(name, partitions, replication_factor) for name in names]
        try:
            async with asyncio.timeout(self._timeout):
                response = await admin.create_topics(new)
        except _FAILURES as exc:
            raise _failure(f"cannot create topics {', '.join(names)}", exc) from exc
        for name, code, message in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise BrokerError(f"cannot create topic {name}: error {code}: {message}")
        return {name: len(ps) for name, ps in (await self._describe(names)).items()}

    async def high_watermarks(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """The high watermark (offset of the next record) of every partition of `topics`.

        Read from fetch responses, not from ListOffsets, which Tansu answers wrongly when the last
        batch holds several records. Counts only records acknowledged before the call.
        """
        names = sorted(set(topics))
        if not names:
            return {}
        consumer = self._consumer_required()
        partitions = [
            (topic, p) for topic, ps in (await self._describe(names)).items() for p in sorted(ps)
        ]
        async with self._lock:
            tps = [_tp(p) for p in partitions]
            try:
                async with asyncio.timeout(self._timeout):
                    consumer.assign(tps)
                    # Tansu's answer is the last batch's base offset + 1: never beyond the true
                    # high watermark, so a fetch from there reads at most one batch.
                    lower = await consumer.end_offsets(tps)
                    for tp in tps:
                        consumer.seek(tp, lower[tp])
                    # A fetch sent before this call may answer after it: wait for two fresh
                    # answers per partition, the second one for a request sent after the first.
                    for _ in range(2):
                        since = int(time.time() * 1000)
                        while any((consumer.last_poll_timestamp(tp) or 0) < since for tp in tps):
                            await consumer.getmany(timeout_ms=20)
                    return {p: consumer.highwater(_tp(p)) for p in partitions}
            except _FAILURES as exc:
                raise _failure(f"cannot read high watermarks of {', '.join(names)}", exc) from exc
            finally:
                consumer.assign([])

    async def records(self, topic: str) -> list[InRecord]:
        """Every record of `topic` up to its high watermark at the time of the call."""
        ends = await self.high_watermarks([topic])
        consumer = self._consumer_required()
        out: list[InRecord] = []
        async with self._lock:
            tps = [_tp(p) for p, end in ends.items() if end > 0]
            if not tps:
                return out
            try:
                async with asyncio.timeout(self._timeout):
                    consumer.assign(tps)
                    await consumer.seek_to_beginning(*tps)
                    while any(await _positions_below(consumer, ends)):
                        for messages in (await consumer.getmany(timeout_ms=100)).values():
                            out.extend(
                                _record(m)
                                for m in messages
                                if m.offset < ends[(m.topic, m.partition)]
                            )
            except _FAILURES as exc:
                raise _failure(f"cannot read topic {topic}", exc) from exc
            finally:
                consumer.assign([])
        out.sort(key=lambda r: (r.partition, r.offset))
        return out

    async def _describe(self, names: Sequence[str]) -> dict[str, set[int]]:
        """Partition numbers of existing topics (an unknown name is an error, not a creation:
        describing a missing topic makes Tansu create it)."""
        admin = self._require()
        try:
            async with asyncio.timeout(self._timeout):
                existing = set(await admin.list_topics())
                missing = [n for n in names if n not in existing]
                if missing:
                    raise BrokerError(f"no such topic: {', '.join(missing)}")
                described = await admin.describe_topics(list(names))
        except _FAILURES as exc:
            raise _failure(f"cannot describe topics {', '.join(names)}", exc) from exc
        result: dict[str, set[int]] = {}
        for topic in described:
            if topic["error_code"]:
                raise BrokerError(f"cannot describe topic {topic['topic']}: {topic['error_code']}")
            result[topic["topic"]] = {p["partition"] for p in topic["partitions"]}
        return result

    def _require(self) -> Any:
        if self._admin is None:
            raise BrokerError("the admin client is not started")
        return self._admin

    def _consumer_required(self) -> Any:
        self._require()
        return self._consumer


async def _positions_below(consumer: Any, ends: Mapping[TopicPartition, int]) -> list[bool]:
    below = []
    for p, end in ends.items():
        if end > 0:
            below.append(await consumer.position(_tp(p)) < end)
    return below


if TYPE_CHECKING:  # the adapter implements the daemon's ports

    def _implements(source: KafkaSource, sink: KafkaSink) -> tuple[MessageSource, EventSink]:
        return source, sink
