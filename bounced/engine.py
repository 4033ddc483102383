"""One batch of prepared inputs -> everything to store and produce. Pure: values in, values out.

Theory of operation. The daemon turns each consumed record into an `Input` (parsed, classified and
attributed, or rejected with a reason) — that is the CPU-heavy part, done before this module.
Then, for a batch:

1. `needs(inputs)` says which state documents and counter windows the policy will read; the
   daemon loads them from the store (`Loaded`) together with the fingerprints already seen.
2. `step(inputs, loaded, now)` drops inputs seen before (same fingerprint: the same bounce
   delivered twice counts once), emits one signal event per recipient, counts every signal and
   delivery record in time buckets, lets the policy decide, and turns rejected inputs into
   dead letters. It returns a `Step`: counter deltas, document writes (compare-and-set), output
   events with stable ids, and the fingerprints to remember.
3. The daemon stores the step and the offsets in one transaction, then produces the events.

A `ConflictError` from the store means another instance changed a document first: the daemon
reloads and calls `step` again on the same inputs, which yields the same ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bounced.commands import Command
from bounced.events import ROLE_OF, Decision, Role, SignalEvent, SourceRef, event_id
from bounced.model import Signal
from bounced.records import DeliveryRecord
from bounced.state.counters import deltas_for_record, deltas_for_signal
from bounced.store.ports import CounterDelta, EntityWrite, Stored, WindowQuery


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Why an input could not be used; becomes the dead letter's headers."""

    error_class: str
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    """One consumed record after the pure pipeline."""

    source: SourceRef
    timestamp: float  # when it happened (record time), epoch seconds
    fingerprint: str
    origin: str  # bounce | feedback | delivery_record
    signals: tuple[Signal, ...] = ()
    record: DeliveryRecord | None = None
    command: Command | None = None
    rejection: Rejection | None = None
    raw: bytes | None = None  # kept only for rejections (the dead letter carries it)
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Tipped:
    """A signal as the policy sees it: with its event id and the input it came from."""

    id: str
    signal: Signal
    input: Input


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """A delivery record as the policy sees it: with the input it came from."""

    record: DeliveryRecord
    input: Input


@dataclass(frozen=True, slots=True, kw_only=True)
class Commanded:
    """An operator command as the policy sees it: with its id and the input it came from."""

    id: str
    command: Command
    input: Input


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """The new facts of one batch, in input order within each kind."""

    signals: Sequence[Tipped] = ()
    records: Sequence[Recorded] = ()
    commands: Sequence[Commanded] = ()
    # What the batch adds to the counters, computed once by `step` for the store; the policy
    # reads the same increments to include the batch in its windows.
    counters: Sequence[CounterDelta] = ()


@dataclass(slots=True, kw_only=True)
class Needs:
    """What the policy will read for a batch."""

    entities: dict[str, set[str]] = field(default_factory=dict)
    windows: set[WindowQuery] = field(default_factory=set)

    def entity(self, kind: str, key: str) -> None:
        self.entities.setdefault(kind, set()).add(key)


@dataclass(slots=True, kw_only=True)
class Loaded:
    """What the daemon loaded for a batch."""

    entities: dict[str, dict[str, Stored]] = field(default_factory=dict)
    windows: dict[WindowQuery, dict[str, int]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def get(self, kind: str, key: str) -> Stored | None:
        return self.entities.get(kind, {}).get(key)


@dataclass(slots=True, kw_only=True)
class Decided:
    """What the policy decided: document writes and decision events (ids already set), and
    counter increments only the policy can tell (spam-trap hits; ignored for ticks)."""

    writes: list[EntityWrite] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    counters: list[CounterDelta] = field(default_factory=list)


class Policy(Protocol):
    """Rules over state -> decisions. Pure; see bounced/policy."""

    def needs(self, batch: Batch, now: float) -> Needs:
        """The documents and counter windows `decide` will read for this batch."""
        ...

    def decide(self, batch: Batch, loaded: Loaded, now: float) -> Decided:
        """Decisions for a batch; writes are compare-and-set against the loaded versions."""
        ...

    def tick(self, due: Sequence[tuple[str, str, Stored]], loaded: Loaded, now: float) -> Decided:
        """Time-driven transitions (expiries, ramp steps) for documents whose time has come."""
        ...

    def tick_needs(self, due: Sequence[tuple[str, str, Stored]], now: float) -> Needs: ...


@dataclass(slots=True, kw_only=True)
class Step:
    """Everything a batch produced, ready for one store transaction."""

    counters: list[CounterDelta] = field(default_factory=list)
    writes: list[EntityWrite] = field(default_factory=list)
    events: list[tuple[Role, str, SignalEvent | Decision | Input]] = field(default_factory=list)
    fingerprints: list[tuple[str, int]] = field(default_factory=list)
    duplicates: int = 0
    dead_letters: int = 0


def fact_id(item: Input, *parts: object) -> str:
    """The id of an event an input causes: from its content (fingerprint), not its position.

    The same bounce delivered twice, in two partitions, counts once, and whichever copy is
    processed first, the events carry the same ids: a replay after a crash, which may interleave
    partitions differently, produces exactly the ids of an uninterrupted run.
    """
    return event_id(item.fingerprint, *parts)


def tipped(inputs: Sequence[Input], seen: set[str]) -> tuple[Batch, list[Input]]:
    """The facts of the inputs not seen before (with stable ids), and those inputs."""
    signals: list[Tipped] = []
    records: list[Recorded] = []
    commands: list[Commanded] = []
    fresh: list[Input] = []
    prints: set[str] = set()
    for item in inputs:
        if item.rejection is not None or item.fingerprint in seen or item.fingerprint in prints:
            continue
        prints.add(item.fingerprint)
        fresh.append(item)
        signals.extend(
            Tipped(
                id=fact_id(item, "signal", index),
                signal=s,
                input=item,
            )
            for index, s in enumerate(item.signals)
        )
        if item.record is not None:
            records.append(Recorded(record=item.record, input=item))
        if item.command is not None:
            ident = fact_id(item, "command")
            commands.append(Commanded(id=ident, command=item.command, input=item))
    return Batch(signals=signals, records=records, commands=commands), fresh


def needs(policy: Policy, inputs: Sequence[Input], now: float) -> Needs:
    """What to load for a batch (the fingerprints are always checked)."""
    batch, _ = tipped(inputs, set())
    return policy.needs(batch, now)


def step(policy: Policy, inputs: Sequence[Input], loaded: Loaded, now: float) -> Step:
    """Turn a batch of inputs into what to store and produce."""
    out = Step()
    batch, fresh = tipped(inputs, loaded.seen)
    out.fingerprints = [(item.fingerprint, int(item.timestamp)) for item in fresh]
    for item in inputs:
        if item.rejection is not None:
            out.dead_letters += 1
            out.events.append((Role.DLQ, event_id(*_where(item), "dlq"), item))
    out.duplicates = len(inputs) - out.dead_letters - len(fresh)
    for t in batch.signals:
        src = t.input.source
        out.events.append(
            (
                Role.SIGNALS,
                t.id,
                SignalEvent.of(
                    t.signal,
                    ident=t.id,
                    at=now,
                    occurred_at=t.input.timestamp,
                    source=src,
                    fingerprint=t.input.fingerprint,
                    origin=t.input.origin,
                ),
            )
        )
        out.counters.extend(deltas_for_signal(t.signal, t.input.timestamp))
    for r in batch.records:
        out.counters.extend(deltas_for_record(r.record))
    decided = policy.decide(replace(batch, counters=tuple(out.counters)), loaded, now)
    out.counters.extend(decided.counters)
    out.writes.extend(decided.writes)
    out.events.extend((_role(d), d.id, d) for d in decided.decisions)
    return out


def _where(item: Input) -> tuple[str, int, int]:
    return item.source.topic, item.source.partition, item.source.offset


def _role(decision: Decision) -> Role:
    return ROLE_OF[type(decision)]
