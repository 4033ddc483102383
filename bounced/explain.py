"""`bounced explain EVENT_ID`: why a decision fired, from what the store kept.

Every decision is stored in the outbox with its evidence (rule, window, numbers, the ids of the
signals that tipped it), and so is every signal event, under its own id. Explaining a decision
is reading the one and then the others; events pruned since (store.event_days) are reported as
missing rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from bounced.store.ports import Store


@dataclass(slots=True, kw_only=True)
class Explanation:
    id: str
    topic: str
    event: dict[str, Any]
    signals: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "event": self.event,
            "signals": self.signals,
            "missing_signals": self.missing,
        }


def explain(store: Store, event_id: str) -> Explanation | None:
    """The stored decision or signal `event_id` and the signal events its evidence names."""
    record = store.event(event_id)
    if record is None:
        return None
    try:
        event = orjson.loads(record.value)
    except orjson.JSONDecodeError:  # a dead letter: raw input, no evidence
        event = {"dead_letter": True}
    out = Explanation(id=event_id, topic=record.topic, event=event)
    evidence = event.get("evidence") if isinstance(event, dict) else None
    for ident in (evidence or {}).get("signals", []):
        found = store.event(ident)
        if found is None:
            out.missing.append(ident)
        else:
            out.signals.append(orjson.loads(found.value))
    return out


def render(e: Explanation) -> str:
    """A page an operator can read."""
    event = e.event
    lines = [f"Event {e.id} on {e.topic}: {event.get('type', '?')} at {event.get('at', '?')}"]
    lines.append(f"  {_what(event)}")
    evidence = event.get("evidence")
    if evidence:
        lines.append(f"Rule:    {evidence.get('rule')}")
        lines.append(f"Window:  {evidence.get('window') or '-'}")
        numbers = evidence.get("numbers") or {}
        if numbers:
            lines.append("Numbers:")
            width = max(len(k) for k in numbers)
            lines.extend(f"  {k:<{width}}  {_number(v)}" for k, v in sorted(numbers.items()))
        if evidence.get("note"):
            lines.append(f"Note:    {evidence['note']}")
        named = len(evidence.get("signals") or [])
        lines.append(f"Signals: {named} named, {len(e.signals)} found")
    for s in e.signals:
        who = s.get("attribution") or {}
        lines.append(
            f"  {s.get('id')}  {s.get('occurred_at')}  {s.get('reason')} ({s.get('category')})"
            f"  {s.get('reply_code') or ''} {s.get('status') or ''}  {s.get('recipient')}"
        )
        lines.append(
            f"      client {who.get('client')}, ip {who.get('sending_ip')},"
            f" pool {who.get('pool')}, proof {who.get('source')}; from {s.get('origin')}"
        )
        if s.get("diagnostic"):
            lines.append(f'      "{s["diagnostic"][:160]}"')
    lines.extend(f"  {ident}  (no longer stored)" for ident in e.missing)
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _what(event: dict[str, Any]) -> str:
    if event.get("dead_letter"):
        return "a dead letter (the input could not be used; see its headers)"
    kind = event.get("type")
    if "address" in event:
        scope = event.get("scope")
        whom = f" for client {event.get('client')}" if scope == "client" else " for every client"
        until = f" until {event['expires_at']}" if event.get("expires_at") else ""
        verb = "suppressed" if kind == "suppress" else "no longer suppressed"
        return f"{event['address']} {verb}{whom}{until} ({event.get('reason')})"
    if "from_state" in event:
        return f"client {event.get('client')}: {event['from_state']} -> {event['to_state']}"
    if "provider" in event and "subject" in event:
        who = event.get("ip") if event.get("subject") == "ip" else f"client {event.get('client')}"
        if kind == "warmup":
            cap = event.get("daily_cap")
            return f"{who} -> {event['provider']}: " + (
                f"at most {cap} a day" if cap is not None else "no daily cap"
            )
        rate = event.get("rate_per_minute")
        speed = f"{rate}/min" if rate is not None else "paused" if kind == "pause" else "full speed"
        until = f" until {event['until']}" if event.get("until") else ""
        return f"{who} -> {event['provider']}: {speed}{until}"
    if kind == "signal":
        return f"{event.get('recipient')}: {event.get('reason')} ({event.get('category')})"
    return ""
