"""Throttling: slow down or pause an IP (or a client) toward one provider, and recover gradually.

State machine per subject (document "ip:IP|provider" or "client:ID|provider"):

    normal --trigger--> throttled | paused
    paused --hold over--> throttled at the probe rate              (event throttle)
    throttled --recheck, clean--> ramping step 1                    (event ramp)
    throttled --recheck, troubled--> throttled at rate / factor     (event throttle, if it changed)
    ramping --step over, clean--> next step ... --> normal          (events ramp ..., resume)
    ramping --trouble--> throttled | paused at level + 1            (event throttle | pause)
    any --command throttle.release--> normal                        (event resume)

Rule 1 (trigger): the rules of `[[throttle.rules]]` that cover the subject's provider are
evaluated when the batch brings it new trouble (rate-limit replies, blocks, deferrals after its
last transition), over their window clipped at that transition; the strongest that holds acts:
a pause beats a throttle, then the longer hold, then the lower rate.
Rule 2 (backoff): `level` counts trouble since the subject was last clean for `backoff_memory`;
a hold lasts hold x backoff_factor^level (at most max_hold) and a throttle runs at
rate / backoff_factor^level (at least min_rate_per_minute).
Rule 3 (recovery): a check looks at the buckets since the last transition. Clean: enough attempts
and no more trouble than the clean_* limits. Troubled: anything more. Quiet: too few attempts to
tell; the subject stays as it is, and resumes after `quiet_resume` without traffic.
The `until` of a throttle is when it is reconsidered at the earliest: a throttle stays in force
until a ramp or resume event replaces it, and a pause ends in a probe, never in full speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bounced.commands import CommandAction
from bounced.engine import Commanded, Needs
from bounced.events import EventType, ThrottleEvent, iso
from bounced.model import Category
from bounced.policy.config import ThrottlePolicy, ThrottleRule, seconds
from bounced.policy.context import Context, evidence
from bounced.policy.figures import Counts, all_hold, numbers
from bounced.policy.tally import BatchView, Fact, per_bucket, span, whole
from bounced.records import DeliveryEvent
from bounced.state.counters import bucket_of
from bounced.store.ports import Stored

KIND = "throttle"
SCOPE = {"ip": "ip_provider", "client": "client_provider"}
NORMAL, THROTTLED, PAUSED, RAMPING = "normal", "throttled", "paused", "ramping"


def throttle_key(subject: str, who: str, provider: str) -> str:
    return f"{subject}:{who}|{provider}"


@dataclass(slots=True)
class Trouble:
    """A subject that the batch brings rate-limit replies, blocks or deferrals."""

    subject: str  # ip | client
    who: str
    provider: str
    facts: list[Fact] = field(default_factory=list)

    @property
    def counter_key(self) -> str:
        return f"{self.who}|{self.provider}"

    def anchor(self, now: float) -> float:
        return min(now, max(f.when for f in self.facts))


def troubles(view: BatchView) -> dict[str, Trouble]:
    out: dict[str, Trouble] = {}
    for f in view.facts:
        if (
            f.category not in (Category.RATE, Category.BLOCK)
            and f.event is not DeliveryEvent.DEFERRED
        ):
            continue
        for subject, who in (("ip", f.ip), ("client", f.client)):
            if who:
                key = throttle_key(subject, who, f.provider)
                out.setdefault(key, Trouble(subject, who, f.provider)).facts.append(f)
    return out


def _rules(policy: ThrottlePolicy, subject: str, provider: str) -> list[ThrottleRule]:
    return [r for r in policy.rules if r.subject == subject and r.covers(provider)]


def needs(
    view: BatchView, commands: list[Commanded], policy: ThrottlePolicy, now: float, out: Needs
) -> None:
    for key, trouble in troubles(view).items():
        rules = _rules(policy, trouble.subject, trouble.provider)
        if not rules:
            continue
        out.entity(KIND, key)
        longest = max(seconds(r.window) for r in rules)
        first, last = span(trouble.anchor(now), longest)
        out.windows.update(per_bucket(SCOPE[trouble.subject], trouble.counter_key, first, last))
    for c in commands:
        wanted = _command_key(c)
        if wanted:
            out.entity(KIND, wanted)


def decide(ctx: Context) -> None:
    policy = ctx.policy.throttle
    for key, trouble in sorted(troubles(ctx.view).items()):
        _trigger(ctx, policy, key, trouble)


def _blank(trouble: Trouble) -> dict[str, Any]:
    return {
        "subject": trouble.subject,
        "ip": trouble.who if trouble.subject == "ip" else None,
        "client": trouble.who if trouble.subject == "client" else None,
        "provider": trouble.provider,
        "state": NORMAL,
        "rate_per_minute": None,
        "until": None,
        "since": None,
        "level": 0,
        "last_trouble_at": None,
    }


def _trigger(ctx: Context, policy: ThrottlePolicy, key: str, trouble: Trouble) -> None:
    doc = ctx.working.get(KIND, key) or _blank(trouble)
    state = doc.get("state") or NORMAL
    if state == PAUSED:
        return
    since: float | None = doc.get("since")
    new = [f for f in trouble.facts if since is None or f.when >= since]
    if not new:
        return
    anchor = trouble.anchor(ctx.now)
    fired: list[tuple[ThrottleRule, Counts]] = []
    for rule in _rules(policy, trouble.subject, trouble.provider):
        first, last = span(anchor, seconds(rule.window))
        counts = ctx.tally.counts(
            SCOPE[trouble.subject], trouble.counter_key, first, last, since=since
        )
        if all_hold(rule.when, counts) is True:
            fired.append((rule, counts))
    if not fired:
        return
    rule, counts = max(fired, key=lambda rc: _strength(rc[0]))
    if state == THROTTLED and (rule.action != "pause" or rule.id == doc.get("rule")):
        # Held already: only a different, stronger trigger (a block burst while throttled for
        # rate limits) escalates. A probe after a pause that still meets trouble stays at the
        # probe rate and is re-checked; pausing it again would only delay the recovery.
        return
    level = int(doc.get("level") or 0)
    previous = doc.get("last_trouble_at")
    recent = previous is not None and ctx.now - previous < seconds(policy.backoff_memory)
    if state != NORMAL or recent:
        level += 1
    else:
        level = 0
    signals = tuple(f.tipped.id for f in new if f.tipped is not None)
    facts = numbers(rule.when, counts)
    _hold(
        ctx,
        key,
        doc,
        action=rule.action,
        base_hold=seconds(rule.hold),
        base_rate=rule.rate_per_minute,
        level=level,
        rule=rule.id,
        window=rule.window,
        facts=facts,
        signals=signals,
    )


def _strength(rule: ThrottleRule) -> tuple[bool, int, int]:
    return (rule.action == "pause", seconds(rule.hold), -rule.rate_per_minute)


def _hold(
    ctx: Context,
    key: str,
    doc: dict[str, Any],
    *,
    action: str,
    base_hold: int,
    base_rate: int,
    level: int,
    rule: str,
    window: str | None,
    facts: dict[str, float],
    signals: tuple[str, ...],
) -> None:
    policy = ctx.policy.throttle
    factor = policy.backoff_factor**level
    hold = min(seconds(policy.max_hold), int(base_hold * factor))
    pause = action == "pause"
    rate = None if pause else max(policy.min_rate_per_minute, int(base_rate / factor))
    doc.update(
        state=PAUSED if pause else THROTTLED,
        rate_per_minute=rate,
        until=int(ctx.now + hold),
        since=int(ctx.now),
        level=level,
        last_trouble_at=int(ctx.now),
        rule=rule,
        action=action,
        base_hold=base_hold,
        base_rate=base_rate,
        step=0,
    )
    facts = {**facts, "level": float(level), "hold_seconds": float(hold)}
    kind = EventType.PAUSE if pause else EventType.THROTTLE
    _announce(ctx, key, doc, kind, rule, window=window, facts=facts, signals=signals)


def _announce(
    ctx: Context,
    key: str,
    doc: dict[str, Any],
    kind: EventType,
    rule: str,
    *,
    window: str | None = None,
    facts: dict[str, float] | None = None,
    signals: tuple[str, ...] = (),
    note: str | None = None,
) -> None:
    ident = ctx.announce(KIND, key, doc)
    ctx.put(KIND, key, doc, doc.get("until"))
    until = doc.get("until")
    ctx.decisions.append(
        ThrottleEvent(
            id=ident,
            type=kind,
            at=iso(ctx.now),
            subject=doc["subject"],
            ip=doc.get("ip"),
            client=doc.get("client"),
            provider=doc["provider"],
            rate_per_minute=doc.get("rate_per_minute")
            if kind in (EventType.THROTTLE, EventType.RAMP)
            else None,
            daily_cap=None,
            until=None if until is None else iso(until),
            evidence=evidence(rule, window=window, numbers=facts, signals=signals, note=note),
        )
    )


# -- time ------------------------------------------------------------------------------------


def _check_span(doc: dict[str, Any], now: float) -> tuple[int, int]:
    return bucket_of(doc.get("since") or now) + 1, bucket_of(now)


def _counter_key(doc: dict[str, Any]) -> tuple[str, str]:
    who = doc.get("ip") if doc.get("subject", "ip") == "ip" else doc.get("client")
    return SCOPE[doc.get("subject", "ip")], f"{who}|{doc['provider']}"


def tick_needs(stored: Stored, now: float, out: Needs) -> None:
    if stored.data.get("state") in (THROTTLED, RAMPING):
        first, last = _check_span(stored.data, now)
        if first <= last:
            out.windows.add(whole(*_counter_key(stored.data), first, last))


def _verdict(policy: ThrottlePolicy, counts: Counts) -> str:
    attempts = counts.count("attempts")
    if counts.count("rate") > policy.clean_max_rate_replies:
        return "troubled"
    if attempts >= policy.clean_min_attempts:
        block = counts.value("block_rate") or 0.0
        deferred = counts.value("deferral_rate") or 0.0
        if block > policy.clean_max_block_rate or deferred > policy.clean_max_deferral_rate:
            return "troubled"
        return "clean"
    return "quiet"


def tick(ctx: Context, key: str, stored: Stored) -> None:
    policy = ctx.policy.throttle
    doc = ctx.working.get(KIND, key)
    if doc is None:
        return
    state = doc.get("state") or NORMAL
    now = ctx.now
    if state == PAUSED:
        recheck = seconds(policy.recheck)
        doc.update(
            state=THROTTLED,
            rate_per_minute=policy.probe_rate_per_minute,
            since=int(now),
            until=int(now + recheck),
            step=0,
        )
        _announce(ctx, key, doc, EventType.THROTTLE, "throttle.probe", note="the pause is over")
        return
    if state not in (THROTTLED, RAMPING):
        ctx.put(KIND, key, doc, None)
        return
    first, last = _check_span(doc, now)
    scope, counter_key = _counter_key(doc)
    counts = ctx.tally.counts(scope, counter_key, first, last) if first <= last else Counts({})
    verdict = _verdict(policy, counts)
    facts = {
        "attempts": float(counts.count("attempts")),
        "rate": float(counts.count("rate")),
        "block": float(counts.count("block")),
        "deferred": float(counts.count("deferred")),
    }
    if verdict == "quiet":
        if now - (doc.get("since") or now) >= seconds(policy.quiet_resume):
            _resume(ctx, key, doc, "throttle.quiet-resume", facts, note="no traffic to judge by")
        else:
            doc["until"] = int(now + seconds(policy.recheck))
            ctx.put(KIND, key, doc, doc["until"])
        return
    if verdict == "clean":
        step = int(doc.get("step") or 0) + 1 if state == RAMPING else 1
        _ramp(ctx, key, doc, step, facts)
        return
    level = int(doc.get("level") or 0) + 1
    if state == RAMPING:  # trouble while recovering: a repeated trigger
        _hold(
            ctx,
            key,
            doc,
            action=str(doc.get("action") or "throttle"),
            base_hold=int(doc.get("base_hold") or seconds(policy.recheck)),
            base_rate=int(doc.get("base_rate") or policy.probe_rate_per_minute),
            level=level,
            rule="throttle.ramp-troubled",
            window=None,
            facts=facts,
            signals=(),
        )
        return
    rate = int(doc.get("rate_per_minute") or policy.min_rate_per_minute)
    slower = max(policy.min_rate_per_minute, int(rate / policy.backoff_factor))
    until = int(now + seconds(policy.recheck))
    doc.update(level=level, last_trouble_at=int(now), since=int(now), until=until)
    if slower == rate:
        ctx.put(KIND, key, doc, doc["until"])
        return
    doc["rate_per_minute"] = slower
    facts["level"] = float(level)
    note = "still troubled at the held rate"
    _announce(ctx, key, doc, EventType.THROTTLE, "throttle.backoff", facts=facts, note=note)


def _ramp(ctx: Context, key: str, doc: dict[str, Any], step: int, facts: dict[str, float]) -> None:
    policy = ctx.policy.throttle
    if step > policy.ramp_steps:
        _resume(ctx, key, doc, "throttle.recovered", facts)
        return
    rate = int(doc.get("rate_per_minute") or policy.probe_rate_per_minute)
    doc.update(
        state=RAMPING,
        step=step,
        rate_per_minute=max(rate + 1, int(rate * policy.ramp_factor)),
        since=int(ctx.now),
        until=int(ctx.now + seconds(policy.ramp_step)),
    )
    facts = {**facts, "step": float(step), "steps": float(policy.ramp_steps)}
    _announce(ctx, key, doc, EventType.RAMP, "throttle.ramp", facts=facts)


def _resume(
    ctx: Context,
    key: str,
    doc: dict[str, Any],
    rule: str,
    facts: dict[str, float] | None,
    *,
    note: str | None = None,
) -> None:
    doc.update(state=NORMAL, rate_per_minute=None, until=None, since=int(ctx.now), step=0)
    _announce(ctx, key, doc, EventType.RESUME, rule, facts=facts, note=note)


# -- commands --------------------------------------------------------------------------------


def _command_key(c: Commanded) -> str | None:
    cmd = c.command
    if cmd.action != CommandAction.THROTTLE_RELEASE or not cmd.provider:
        return None
    if cmd.ip:
        return throttle_key("ip", cmd.ip, cmd.provider)
    if cmd.client:
        return throttle_key("client", cmd.client, cmd.provider)
    return None


def command(ctx: Context, c: Commanded) -> None:
    key = _command_key(c)
    if key is None:
        return
    doc = ctx.working.get(KIND, key)
    if doc is None or (doc.get("state") or NORMAL) == NORMAL:
        return
    doc.update(level=0, last_trouble_at=None)
    note = f"command {c.id} by {c.command.operator or 'unknown'}: {c.command.note}".strip()
    _resume(ctx, key, doc, "operator.throttle.release", None, note=note)
