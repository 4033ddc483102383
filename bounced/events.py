"""Output events: what bounced writes to its output topics, and their stable ids.

Every event has an id that depends only on where it came from: the input record (topic,
partition, offset) and its index among the events that record produced, or, for events that
time produces (an expiry, a ramp step), the state document and the version it moved from. A
replay after a crash therefore produces the same ids, and consumers de-duplicate by id.

The shapes here are the public API: schemas/*.json describe them and tests validate real output
against those schemas.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bounced.model import Attribution, FeedbackType, Kind, Signal


class Role(StrEnum):
    """The output topics, by role (their names are configured)."""

    SIGNALS = "signals"
    SUPPRESSIONS = "suppressions"
    THROTTLES = "throttles"
    POOL = "pool"
    DLQ = "dlq"


class EventType(StrEnum):
    SIGNAL = "signal"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"
    THROTTLE = "throttle"
    PAUSE = "pause"
    RAMP = "ramp"
    RESUME = "resume"
    POOL = "pool"
    WARMUP = "warmup"


def event_id(*parts: object) -> str:
    """A stable 128-bit id (hex) from the parts that make an event unique."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:32]


def iso(epoch: float) -> str:
    """Epoch seconds as an RFC 3339 UTC time with milliseconds."""
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    """Where an input came from."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Why a decision fired: the rule, the window it looked at, the numbers, the signals."""

    rule: str
    window: str | None = None
    numbers: dict[str, float] = field(default_factory=dict)
    signals: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalEvent:
    """One recipient of one input, classified and attributed (topic: signals, key: client)."""

    id: str
    type: EventType
    at: str
    occurred_at: str
    source: SourceRef
    fingerprint: str
    origin: str  # bounce | feedback | delivery_record
    kind: Kind
    recipient: str
    reason: str
    category: str
    action: str
    hard: bool
    status: str | None
    reply_code: int | None
    provider: str
    diagnostic: str
    remote_mta: str | None
    command: str | None
    feedback_type: FeedbackType | None
    attribution: Attribution

    @staticmethod
    def of(
        signal: Signal,
        *,
        ident: str,
        at: float,
        occurred_at: float,
        source: SourceRef,
        fingerprint: str,
        origin: str,
    ) -> SignalEvent:
        return SignalEvent(
            id=ident,
            type=EventType.SIGNAL,
            at=iso(at),
            occurred_at=iso(occurred_at),
            source=source,
            fingerprint=fingerprint,
            origin=origin,
            kind=signal.kind,
            recipient=signal.recipient,
            reason=signal.reason,
            category=signal.category,
            action=signal.action,
            hard=signal.hard,
            status=signal.status,
            reply_code=signal.reply_code,
            provider=signal.provider,
            diagnostic=signal.diagnostic[:2000],
            remote_mta=signal.remote_mta,
            command=signal.command,
            feedback_type=signal.feedback_type,
            attribution=signal.attribution,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionEvent:
    """Stop (or resume) mailing an address (topic: suppressions, key: address)."""

    id: str
    type: EventType  # suppress | unsuppress
    at: str
    address: str
    scope: str  # global | client
    client: str | None
    reason: str
    expires_at: str | None
    evidence: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleEvent:
    """Slow down, pause, ramp up or resume sending from an IP (or a client) toward a provider
    (topic: throttles, key: ``ip|provider`` or ``client:ID|provider``)."""

    id: str
    type: EventType  # throttle | pause | ramp | resume | warmup
    at: str
    subject: str  # ip | client
    ip: str | None
    client: str | None
    provider: str
    rate_per_minute: int | None
    daily_cap: int | None
    until: str | None
    evidence: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolEvent:
    """A client's shared-pool membership changed (topic: pool, key: client)."""

    id: str
    type: EventType  # pool
    at: str
    client: str
    from_state: str
    to_state: str
    evidence: Evidence


Decision = SuppressionEvent | ThrottleEvent | PoolEvent

ROLE_OF: dict[type, Role] = {
    SignalEvent: Role.SIGNALS,
    SuppressionEvent: Role.SUPPRESSIONS,
    ThrottleEvent: Role.THROTTLES,
    PoolEvent: Role.POOL,
}


def key_of(event: SignalEvent | Decision) -> str:
    """The record key an event is produced with (keeps one subject's events in order)."""
    if isinstance(event, SignalEvent):
        return event.attribution.client or ""
    if isinstance(event, SuppressionEvent):
        return event.address.lower()
    if isinstance(event, ThrottleEvent):
        who = event.ip if event.subject == "ip" else f"client:{event.client}"
        return f"{who}|{event.provider}"
    return event.client
