"""The classification defaults as a policy: the simplest rules that act on single signals.

Rule 1: a signal whose default action is `suppress` (hard bounces) suppresses the address in the
global scope, once: later hard bounces of a suppressed address update its document, not the topic.
Rule 2: a complaint (`suppress_client`) suppresses the address for the client complained about;
an unattributed complaint suppresses it globally (nobody else can be named).
Rule 3: a rate-limit reply (category rate) from a known sending IP throttles that IP toward that
provider for `throttle_seconds` at `throttle_rate_per_minute`, unless it is throttled already.
When the time is up, a resume event ends the throttle.
Nothing else decides anything here: blocks, soft bounces and auth failures are only counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bounced.engine import Batch, Decided, Loaded, Needs, Tipped
from bounced.events import (
    Decision,
    EventType,
    Evidence,
    SuppressionEvent,
    ThrottleEvent,
    event_id,
    iso,
)
from bounced.model import Action, Category, Signal
from bounced.policy.working import Working
from bounced.store.ports import EntityWrite, Stored

SUPPRESSION = "suppression"
THROTTLE = "throttle"


def suppression_key(address: str, client: str | None) -> str:
    """Document key of a suppression: the address first, so one prefix scan finds every scope."""
    scope = f"client:{client}" if client else "global"
    return f"{address.lower()}|{scope}"


def throttle_key(ip: str, provider: str) -> str:
    return f"ip:{ip}|{provider}"


def _suppression_target(signal: Signal) -> str | None:
    if signal.action is Action.SUPPRESS:
        return suppression_key(signal.recipient, None)
    if signal.action is Action.SUPPRESS_CLIENT:
        return suppression_key(signal.recipient, signal.attribution.client)
    return None


def _throttle_target(signal: Signal) -> str | None:
    if signal.category is Category.RATE and signal.attribution.sending_ip:
        return throttle_key(signal.attribution.sending_ip, signal.provider)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultPolicy:
    """Classification defaults (see the module docstring)."""

    throttle_rate_per_minute: int = 60
    throttle_seconds: int = 900

    def needs(self, batch: Batch, now: float) -> Needs:
        out = Needs()
        for t in batch.signals:
            key = _suppression_target(t.signal)
            if key:
                out.entity(SUPPRESSION, key)
            key = _throttle_target(t.signal)
            if key:
                out.entity(THROTTLE, key)
        return out

    def decide(self, batch: Batch, loaded: Loaded, now: float) -> Decided:
        working = Working(loaded)
        decisions: list[Decision] = []
        for t in batch.signals:
            decision = self._suppress(t, working, now)
            if decision is not None:
                decisions.append(decision)
            decision = self._throttle(t, working, now)
            if decision is not None:
                decisions.append(decision)
        return Decided(writes=working.writes(), decisions=decisions)

    def _suppress(self, t: Tipped, working: Working, now: float) -> Decision | None:
        key = _suppression_target(t.signal)
        if key is None:
            return None
        signal = t.signal
        doc = working.get(SUPPRESSION, key)
        if doc is not None and doc.get("active"):
            doc["last_seen"] = int(now)
            doc["count"] = int(doc.get("count", 0)) + 1
            working.put(SUPPRESSION, key, doc, doc.get("expires_at"))
            return None
        client = signal.attribution.client if signal.action is Action.SUPPRESS_CLIENT else None
        scope = "client" if client else "global"
        doc = {
            "address": signal.recipient.lower(),
            "scope": scope,
            "client": client,
            "reason": str(signal.reason),
            "first_seen": int(now),
            "last_seen": int(now),
            "count": 1,
            "expires_at": None,
            "active": True,
        }
        previous = working.get(SUPPRESSION, key)
        doc["seq"] = previous.get("seq", 0) if previous else 0
        ident = working.transition(SUPPRESSION, key, doc)
        working.put(SUPPRESSION, key, doc, None)
        rule = "complaint" if signal.action is Action.SUPPRESS_CLIENT else "hard-bounce"
        return SuppressionEvent(
            id=ident,
            type=EventType.SUPPRESS,
            at=iso(now),
            address=doc["address"],
            scope=scope,
            client=client,
            reason=doc["reason"],
            expires_at=None,
            evidence=Evidence(rule=f"default.{rule}", signals=(t.id,)),
        )

    def _throttle(self, t: Tipped, working: Working, now: float) -> Decision | None:
        key = _throttle_target(t.signal)
        if key is None:
            return None
        doc = working.get(THROTTLE, key)
        if doc is not None and doc.get("state") == "throttled" and doc.get("until", 0) > now:
            return None
        seq = doc.get("seq", 0) if doc else 0
        signal = t.signal
        until = int(now) + self.throttle_seconds
        doc = {
            "seq": seq,
            "subject": "ip",
            "ip": signal.attribution.sending_ip,
            "client": None,
            "provider": str(signal.provider),
            "state": "throttled",
            "rate_per_minute": self.throttle_rate_per_minute,
            "until": until,
            "since": int(now),
        }
        ident = working.transition(THROTTLE, key, doc)
        working.put(THROTTLE, key, doc, until)
        return ThrottleEvent(
            id=ident,
            type=EventType.THROTTLE,
            at=iso(now),
            subject="ip",
            ip=doc["ip"],
            client=None,
            provider=doc["provider"],
            rate_per_minute=self.throttle_rate_per_minute,
            daily_cap=None,
            until=iso(until),
            evidence=Evidence(
                rule="default.rate-limit-reply",
                numbers={"reply_code": float(signal.reply_code or 0)},
                signals=(t.id,),
                note=signal.status,
            ),
        )

    def tick_needs(self, due: Sequence[tuple[str, str, Stored]], now: float) -> Needs:
        return Needs()

    def tick(self, due: Sequence[tuple[str, str, Stored]], loaded: Loaded, now: float) -> Decided:
        out = Decided()
        for kind, key, stored in due:
            if kind != THROTTLE or stored.data.get("state") != "throttled":
                continue
            doc = dict(stored.data)
            doc["state"] = "normal"
            doc["since"] = int(now)
            doc["seq"] = int(doc.get("seq", 0)) + 1
            out.writes.append(
                EntityWrite(kind=kind, key=key, data=doc, expected_version=stored.version)
            )
            out.decisions.append(
                ThrottleEvent(
                    id=event_id("transition", kind, key, doc["seq"]),
                    type=EventType.RESUME,
                    at=iso(now),
                    subject="ip",
                    ip=doc.get("ip"),
                    client=None,
                    provider=str(doc.get("provider")),
                    rate_per_minute=None,
                    daily_cap=None,
                    until=None,
                    evidence=Evidence(rule="default.throttle-expired"),
                )
            )
        return out
