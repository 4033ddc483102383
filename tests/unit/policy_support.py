"""Builders of engine inputs and a runner that feeds them to a policy over a store, as the
daemon does (needs -> load -> step -> commit; due -> tick_needs -> load -> tick -> commit)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import orjson

from bounced import engine
from bounced.commands import read_command
from bounced.events import Decision, PoolEvent, SourceRef, SuppressionEvent, ThrottleEvent
from bounced.model import (
    Action,
    Attribution,
    AttributionSource,
    Category,
    FeedbackType,
    Kind,
    Provider,
    Reason,
    Signal,
)
from bounced.policy.config import PolicyConfig, default_policy
from bounced.policy.reputation import ReputationPolicy
from bounced.records import DeliveryEvent, DeliveryRecord
from bounced.store.memory import MemoryStore
from bounced.store.ports import Store, UnitOfWork

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
_offsets = itertools.count()
PROOF = AttributionSource.SIGNED_REFERENCE
CATEGORY_OF = {
    Reason.USERUNKNOWN: (Category.HARD, Action.SUPPRESS),
    Reason.MAILBOXFULL: (Category.SOFT, Action.COUNT),
    Reason.BLOCKED: (Category.BLOCK, Action.REPUTATION),
    Reason.SPEEDING: (Category.RATE, Action.THROTTLE),
    Reason.AUTHFAILURE: (Category.AUTH, Action.ALERT),
    Reason.FEEDBACK: (Category.COMPLAINT, Action.SUPPRESS_CLIENT),
    Reason.DELIVERED: (Category.DELIVERED, Action.DELIVERED),
}


def _input(when: float, origin: str, **fields: Any) -> engine.Input:
    offset = next(_offsets)
    return engine.Input(
        source=SourceRef(topic=origin, partition=0, offset=offset),
        timestamp=when,
        fingerprint=f"fp-{offset}",
        origin=origin,
        **fields,
    )


def signal(
    address: str,
    reason: Reason,
    *,
    when: float = T0,
    client: str | None = "acme",
    ip: str | None = "192.0.2.1",
    provider: Provider = Provider.GMAIL,
    source: AttributionSource = PROOF,
    message_id: str | None = None,
    feedback: FeedbackType | None = None,
) -> engine.Input:
    """A bounce (or complaint) message about one recipient."""
    category, action = CATEGORY_OF[reason]
    attribution = (
        Attribution()
        if source is AttributionSource.NONE
        else Attribution(client=client, sending_ip=ip, source=source, message_id=message_id)
    )
    s = Signal(
        recipient=address,
        kind=Kind.FEEDBACK if category is Category.COMPLAINT else Kind.DSN,
        reason=reason,
        category=category,
        action=action,
        hard=category is Category.HARD,
        status=None,
        reply_code=None,
        provider=provider,
        feedback_type=feedback,
        attribution=attribution,
    )
    origin = "feedback" if category is Category.COMPLAINT else "bounce"
    return _input(when, origin, signals=(s,))


def record(
    event: DeliveryEvent,
    address: str,
    *,
    when: float = T0,
    client: str = "acme",
    ip: str = "192.0.2.1",
    pool: str | None = None,
    reason: Reason | None = None,
    message_id: str | None = None,
) -> engine.Input:
    """A delivery record; a bounced or deferred one carries its reply as a proven signal."""
    rec = DeliveryRecord(
        event=event,
        timestamp=when,
        recipient=address,
        client=client,
        sending_ip=ip,
        pool=pool,
        mx_host=None,
        message_id=message_id,
    )
    signals: tuple[Signal, ...] = ()
    if reason is not None:
        item = signal(
            address,
            reason,
            when=when,
            client=client,
            ip=ip,
            provider=_provider(address),
            source=AttributionSource.DELIVERY_LOG,
            message_id=message_id,
        )
        signals = tuple(replace(s, kind=Kind.DSN) for s in item.signals)
    return _input(when, "delivery_record", record=rec, signals=signals)


def _provider(address: str) -> Provider:
    domain = address.rpartition("@")[2]
    return {
        "gmail.com": Provider.GMAIL,
        "yahoo.com": Provider.YAHOO,
        "outlook.com": Provider.MICROSOFT,
        "orange.fr": Provider.ORANGE,
    }.get(domain, Provider.OTHER)


def command(action: str, *, when: float = T0, **fields: str) -> engine.Input:
    cmd = read_command(orjson.dumps({"action": action, **fields}))
    return _input(when, "command", command=cmd)


def delivered(
    n: int,
    *,
    when: float = T0,
    client: str = "acme",
    ip: str = "192.0.2.1",
    domain: str = "gmail.com",
    pool: str | None = None,
) -> list[engine.Input]:
    """`n` successful deliveries to distinct addresses."""
    return [
        record(
            DeliveryEvent.DELIVERED,
            f"ok{next(_offsets)}@{domain}",
            when=when,
            client=client,
            ip=ip,
            pool=pool,
        )
        for _ in range(n)
    ]


class Runner:
    """A policy over a store, driven batch by batch and tick by tick."""

    def __init__(self, policy: PolicyConfig | None = None, store: Store | None = None) -> None:
        self.policy = ReputationPolicy(policy or default_policy())
        self.store: Store = store or MemoryStore()
        self.decisions: list[Decision] = []
        self.counters = 0

    def load(self, needs: engine.Needs, prints: list[str]) -> engine.Loaded:
        s = self.store
        return engine.Loaded(
            entities={kind: s.load(kind, keys) for kind, keys in needs.entities.items()},
            windows=s.window(needs.windows) if needs.windows else {},
            seen=s.seen(prints) if prints else set(),
        )

    def compute(self, inputs: list[engine.Input], now: float) -> engine.Step:
        needs = engine.needs(self.policy, inputs, now)
        loaded = self.load(needs, [i.fingerprint for i in inputs])
        return engine.step(self.policy, inputs, loaded, now)

    def commit(self, step: engine.Step) -> list[Decision]:
        self.store.commit(
            UnitOfWork(
                group="test",
                fingerprints=step.fingerprints,
                counters=step.counters,
                entities=step.writes,
            )
        )
        made: list[Decision] = [
            e
            for _, _, e in step.events
            if isinstance(e, SuppressionEvent | ThrottleEvent | PoolEvent)
        ]
        self.decisions.extend(made)
        return made

    def feed(self, inputs: list[engine.Input], now: float | None = None) -> list[Decision]:
        """Run one batch; returns its decisions."""
        when = now if now is not None else max(i.timestamp for i in inputs)
        return self.commit(self.compute(inputs, when))

    def tick(self, now: float) -> list[Decision]:
        """Run the timer once at `now`; returns its decisions."""
        due = self.store.due(int(now), 1000)
        if not due:
            return []
        loaded = self.load(self.policy.tick_needs(due, now), [])
        decided = self.policy.tick(due, loaded, now)
        self.store.commit(UnitOfWork(group="test", entities=decided.writes))
        self.decisions.extend(decided.decisions)
        return decided.decisions

    def doc(self, kind: str, key: str) -> dict[str, Any] | None:
        found = self.store.load(kind, [key]).get(key)
        return None if found is None else found.data
