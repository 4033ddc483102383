"""Warm-up: daily caps per dedicated IP and provider that rise only after clean days.

    (command warmup.start) --> warming at step 0: cap = schedule[0]      (event warmup)
    warming --day over, a [[warmup.back]] rule holds--> step - 1         (event warmup)
    warming --day over, a [[warmup.hold]] rule holds, or the cap was
              not used to min_fill--> same step                          (event warmup)
    warming --day over, clean--> step + 1; past the schedule: done       (event warmup, no cap)
    warming --command warmup.stop--> stopped                             (event warmup, no cap)

Rule 1: a day is judged on the IP x provider counters of that day (the rules' windows end with
it), so a quiet day does not count as a clean one (`min_fill`), and a bad one is not forgotten.
Rule 2: stepping back takes one step at a time, so one bad day costs a day, not the warm-up.
Every event carries the cap in force (`daily_cap`) and when the next judgement is due (`until`).
Warm-up is started by an operator: established IPs must never be capped by mistake.
"""

from __future__ import annotations

from typing import Any

from bounced.commands import CommandAction
from bounced.engine import Commanded, Needs
from bounced.events import EventType, ThrottleEvent, iso
from bounced.policy.config import PolicyConfig, Rule, seconds
from bounced.policy.context import Context, evidence
from bounced.policy.figures import Counts, all_hold, numbers
from bounced.policy.tally import span, whole
from bounced.store.ports import Stored

KIND = "warmup"
DAY = 86400
WARMING, DONE, STOPPED = "warming", "done", "stopped"


def warmup_key(ip: str, provider: str) -> str:
    return f"ip:{ip}|{provider}"


def _targets(policy: PolicyConfig, c: Commanded) -> list[str]:
    cmd = c.command
    if cmd.action not in (CommandAction.WARMUP_START, CommandAction.WARMUP_STOP) or not cmd.ip:
        return []
    providers = [cmd.provider] if cmd.provider else list(policy.warmup.providers)
    return [warmup_key(cmd.ip, p) for p in providers]


def needs(commands: list[Commanded], policy: PolicyConfig, out: Needs) -> None:
    for c in commands:
        for key in _targets(policy, c):
            out.entity(KIND, key)


def command(ctx: Context, c: Commanded) -> None:
    cmd = c.command
    note = f"command {c.id} by {cmd.operator or 'unknown'}: {cmd.note}".strip()
    schedule = ctx.policy.warmup.schedule
    for key in _targets(ctx.policy, c):
        doc = ctx.working.get(KIND, key)
        provider = key.rpartition("|")[2]
        if cmd.action == CommandAction.WARMUP_START:
            doc = doc or {"ip": cmd.ip, "provider": provider}
            doc.update(state=WARMING, step=0, cap=schedule[0], day_start=int(ctx.now))
            _announce(ctx, key, doc, f"operator.{cmd.action}", note=note)
        elif doc is not None and doc.get("state") == WARMING:
            doc.update(state=STOPPED, cap=None)
            _announce(ctx, key, doc, f"operator.{cmd.action}", note=note)


def _announce(
    ctx: Context,
    key: str,
    doc: dict[str, Any],
    rule: str,
    *,
    window: str | None = None,
    facts: dict[str, float] | None = None,
    note: str | None = None,
) -> None:
    due = doc["day_start"] + DAY if doc.get("state") == WARMING else None
    ident = ctx.announce(KIND, key, doc)
    ctx.put(KIND, key, doc, due)
    ctx.decisions.append(
        ThrottleEvent(
            id=ident,
            type=EventType.WARMUP,
            at=iso(ctx.now),
            subject="ip",
            ip=doc["ip"],
            client=None,
            provider=doc["provider"],
            rate_per_minute=None,
            daily_cap=doc.get("cap"),
            until=None if due is None else iso(due),
            evidence=evidence(rule, window=window, numbers=facts, note=note),
        )
    )


def _day_counts(ctx: Context, doc: dict[str, Any], rule_window: str) -> Counts:
    end = doc["day_start"] + DAY - 1
    return ctx.tally.counts(
        "ip_provider", f"{doc['ip']}|{doc['provider']}", *span(end, seconds(rule_window))
    )


def tick_needs(stored: Stored, policy: PolicyConfig, out: Needs) -> None:
    doc = stored.data
    if doc.get("state") != WARMING:
        return
    end = doc["day_start"] + DAY - 1
    subject = f"{doc['ip']}|{doc['provider']}"
    for window in {"24h", *(r.window for r in (*policy.warmup.back, *policy.warmup.hold))}:
        out.windows.add(whole("ip_provider", subject, *span(end, seconds(window))))


def _holding(
    ctx: Context, doc: dict[str, Any], rules: tuple[Rule, ...]
) -> tuple[Rule, Counts] | None:
    for rule in rules:
        counts = _day_counts(ctx, doc, rule.window)
        if all_hold(rule.when, counts) is True:
            return rule, counts
    return None


def tick(ctx: Context, key: str, stored: Stored) -> None:
    doc = ctx.working.get(KIND, key)
    if doc is None:
        return
    if doc.get("state") != WARMING:
        ctx.put(KIND, key, doc, None)
        return
    w = ctx.policy.warmup
    step = int(doc.get("step") or 0)
    judged = dict(doc)  # the day that is over
    sent = _day_counts(ctx, judged, "24h").count("sent")
    base = {"sent": float(sent), "cap": float(doc.get("cap") or 0), "step": float(step)}
    doc["day_start"] = int(ctx.now)
    back = _holding(ctx, judged, w.back)
    fired = back or _holding(ctx, judged, w.hold)
    if fired is not None:
        rule, counts = fired
        if back is not None:
            step = max(0, step - 1)
        doc.update(step=step, cap=w.schedule[step])
        facts = base | numbers(rule.when, counts)
        _announce(ctx, key, doc, rule.id, window=rule.window, facts=facts)
        return
    if sent < w.min_fill * (doc.get("cap") or 0):
        _announce(ctx, key, doc, "warmup.hold.underused", window="24h", facts=base)
        return
    step += 1
    if step >= len(w.schedule):
        doc.update(state=DONE, step=step, cap=None)
        _announce(ctx, key, doc, "warmup.complete", window="24h", facts=base)
        return
    doc.update(step=step, cap=w.schedule[step])
    _announce(ctx, key, doc, "warmup.advance", window="24h", facts=base)
