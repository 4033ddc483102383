"""Suppression: which addresses to stop mailing, for whom, and until when.

Rule suppress.hard: a hard bounce suppresses the address globally, for good.
Rule suppress.trap: mail to a configured spam trap suppresses it globally, for good.
Rule suppress.soft: `soft_bounces` soft bounces of distinct messages within `soft_within`, with
no delivery in between, suppress it globally for the next expiry of `soft_expiry` (a week, a
month, for good): each soft suppression escalates, a delivery resets the escalation.
Rule suppress.complaint: a complaint suppresses the address for the client complained about; for
the feedback types in `global_types`, or when no client can be named, globally.
Rule unsuppress.*: an expiry, a proven delivery (soft suppressions only) or an operator's
suppression.lift command ends a suppression, with an unsuppress event.
Blocks, rate limits and authentication failures never suppress an address: they count against
the sender (bounced/policy/throttle.py, pool.py).

Proof. A global suppression from a bounce or complaint message whose reference is not verified
follows `attribution.unverified_global`: act, ignore, or wait for `corroborate_reports` distinct
reports (different content) within `corroborate_within`; a proven delivery clears the reports.

One document per address and scope, keyed "address|global" or "address|client:ID", so that one
prefix scan of the lower-cased address finds every scope (the HTTP lookup does).
"""

from __future__ import annotations

from typing import Any

from bounced.commands import CommandAction
from bounced.engine import Commanded, Needs
from bounced.events import EventType, SuppressionEvent, iso
from bounced.model import Category
from bounced.policy.config import FOREVER, seconds
from bounced.policy.context import Context, evidence
from bounced.policy.tally import BatchView, Fact
from bounced.records import DeliveryEvent
from bounced.store.ports import Stored

KIND = "suppression"
_ACTS_ON = frozenset({Category.HARD, Category.SOFT, Category.COMPLAINT, Category.DELIVERED})


def suppression_key(address: str, client: str | None) -> str:
    """Document key of a suppression: the address first, so one prefix scan finds every scope."""
    scope = f"client:{client}" if client else "global"
    return f"{address.lower()}|{scope}"


def _blank(address: str, client: str | None) -> dict[str, Any]:
    return {
        "address": address,
        "scope": "client" if client else "global",
        "client": client,
        "active": False,
        "kind": None,
        "reason": None,
        "rule": None,
        "expires_at": None,
        "first_seen": None,
        "last_seen": None,
        "count": 0,
        "level": 0,
        "soft": [],  # [when, message, signal id] since the last delivery
        "reports": [],  # [when, fingerprint, signal id] awaiting corroboration
    }


def needs(view: BatchView, commands: list[Commanded], out: Needs) -> None:
    for f in view.facts:
        if f.tipped is not None and (f.trap or f.category in _ACTS_ON):
            out.entity(KIND, suppression_key(f.recipient, None))
            client = f.tipped.signal.attribution.client
            if f.category is Category.COMPLAINT and client:
                out.entity(KIND, suppression_key(f.recipient, client))
        elif f.event is DeliveryEvent.DELIVERED or (f.recorded is not None and f.trap):
            out.entity(KIND, suppression_key(f.recipient, None))
    for c in commands:
        if c.command.action == CommandAction.SUPPRESSION_LIFT and c.command.address:
            out.entity(KIND, suppression_key(c.command.address, c.command.client))


def decide(ctx: Context) -> None:
    for f in ctx.view.facts:
        if f.trap and ctx.policy.traps.suppress:
            _suppress_global(ctx, f, "suppress.trap", reason="spamtrap", proven=True)
        elif f.tipped is not None:
            category = f.category
            if category is Category.HARD and ctx.policy.suppression.hard:
                proven = f.tipped.signal.attribution.verified
                _suppress_global(ctx, f, "suppress.hard", proven=proven)
            elif category is Category.SOFT:
                _soft(ctx, f)
            elif category is Category.COMPLAINT:
                _complaint(ctx, f)
            elif category is Category.DELIVERED and f.tipped.signal.attribution.verified:
                _delivered(ctx, f)
        elif f.event is DeliveryEvent.DELIVERED:
            _delivered(ctx, f)


def _doc(ctx: Context, address: str, client: str | None) -> dict[str, Any]:
    return ctx.working.get(KIND, suppression_key(address, client)) or _blank(address, client)


def _seen(doc: dict[str, Any], when: float) -> None:
    doc["first_seen"] = doc.get("first_seen") or int(when)
    doc["last_seen"] = int(when)
    doc["count"] = int(doc.get("count") or 0) + 1


def _suppress_global(
    ctx: Context, f: Fact, rule: str, *, proven: bool, reason: str | None = None
) -> None:
    key = suppression_key(f.recipient, None)
    doc = _doc(ctx, f.recipient, None)
    signal_id = f.tipped.id if f.tipped else None
    why = reason or (str(f.tipped.signal.reason) if f.tipped else "spamtrap")
    if doc.get("active"):
        _seen(doc, f.when)
        if doc.get("kind") == "soft":  # it turned out to be permanent
            _activate(ctx, key, doc, f, rule=rule, reason=why, kind="hard", signals=(signal_id,))
        else:
            ctx.put(KIND, key, doc, doc.get("expires_at"))
        return
    rule_id, signals = rule, (signal_id,)
    numbers: dict[str, float] = {}
    mode = ctx.policy.attribution.unverified_global
    if not proven and mode != "suppress":
        if mode == "ignore":
            return
        reports, need = _corroborate(ctx, doc, f)
        if len(reports) < need:
            doc["reports"] = reports
            ctx.put(KIND, key, doc, None)
            return
        rule_id = f"{rule}.corroborated"
        signals = tuple(r[2] for r in reports)
        numbers = {"reports": float(len(reports)), "reports.at_least": float(need)}
    _seen(doc, f.when)
    _activate(
        ctx, key, doc, f, rule=rule_id, reason=why, kind="hard", signals=signals, numbers=numbers
    )


def _corroborate(ctx: Context, doc: dict[str, Any], f: Fact) -> tuple[list[list[Any]], int]:
    """The unproven reports of this address still in the window, with this one added once."""
    a = ctx.policy.attribution
    oldest = f.when - seconds(a.corroborate_within)
    fingerprint = f.tipped.input.fingerprint if f.tipped else ""
    reports = [r for r in doc.get("reports") or [] if r[0] >= oldest and r[1] != fingerprint]
    reports.append([int(f.when), fingerprint, f.tipped.id if f.tipped else ""])
    return reports, a.corroborate_reports


def _activate(
    ctx: Context,
    key: str,
    doc: dict[str, Any],
    f: Fact,
    *,
    rule: str,
    reason: str,
    kind: str,
    signals: tuple[str | None, ...],
    expires: float | None = None,
    window: str | None = None,
    numbers: dict[str, float] | None = None,
) -> None:
    doc.update(
        active=True,
        kind=kind,
        reason=reason,
        rule=rule,
        expires_at=None if expires is None else int(expires),
        soft=[],
        reports=[],
    )
    ident = ctx.announce(KIND, key, doc)
    ctx.put(KIND, key, doc, expires)
    ctx.decisions.append(
        SuppressionEvent(
            id=ident,
            type=EventType.SUPPRESS,
            at=iso(ctx.now),
            address=doc["address"],
            scope=doc["scope"],
            client=doc["client"],
            reason=reason,
            expires_at=None if expires is None else iso(expires),
            evidence=evidence(
                rule,
                window=window,
                numbers=numbers,
                signals=tuple(s for s in signals if s),
                note=None if f.tipped is None else f.tipped.signal.status,
            ),
        )
    )


def _soft(ctx: Context, f: Fact) -> None:
    if f.tipped is None:
        return
    s = ctx.policy.suppression
    key = suppression_key(f.recipient, None)
    doc = _doc(ctx, f.recipient, None)
    if doc.get("active"):
        _seen(doc, f.when)
        ctx.put(KIND, key, doc, doc.get("expires_at"))
        return
    message = f.tipped.signal.attribution.message_id or f.tipped.input.fingerprint
    oldest = f.when - seconds(s.soft_within)
    soft = [e for e in doc.get("soft") or [] if e[0] >= oldest]
    if any(e[1] == message for e in soft):
        return  # the same message deferred again, or its DSN after the MTA's record: one bounce
    soft.append([int(f.when), message, f.tipped.id])
    if len(soft) < s.soft_bounces:
        doc["soft"] = soft
        ctx.put(KIND, key, doc, None)
        return
    level = int(doc.get("level") or 0)
    expiry = s.soft_expiry[min(level, len(s.soft_expiry) - 1)]
    expires = None if expiry == FOREVER else ctx.now + seconds(expiry)
    doc["level"] = level + 1
    _seen(doc, f.when)
    _activate(
        ctx,
        key,
        doc,
        f,
        rule="suppress.soft",
        reason=str(f.tipped.signal.reason),
        kind="soft",
        expires=expires,
        signals=tuple(e[2] for e in soft),
        window=s.soft_within,
        numbers={
            "soft_bounces": float(len(soft)),
            "soft_bounces.at_least": float(s.soft_bounces),
            "level": float(level + 1),
        },
    )


def _complaint(ctx: Context, f: Fact) -> None:
    if f.tipped is None:
        return
    signal = f.tipped.signal
    c = ctx.policy.complaints
    kind = str(signal.feedback_type or "abuse")
    if kind not in c.suppress_types:
        return
    client = signal.attribution.client
    if client:
        key = suppression_key(f.recipient, client)
        doc = _doc(ctx, f.recipient, client)
        _seen(doc, f.when)
        if doc.get("active"):
            ctx.put(KIND, key, doc, doc.get("expires_at"))
        else:
            _activate(
                ctx,
                key,
                doc,
                f,
                rule="suppress.complaint",
                reason=f"feedback:{kind}",
                kind="complaint",
                signals=(f.tipped.id,),
            )
    if kind in c.global_types or not client:
        _suppress_global(
            ctx,
            f,
            "suppress.complaint-global",
            reason=f"feedback:{kind}",
            proven=signal.attribution.verified,
        )


def _delivered(ctx: Context, f: Fact) -> None:
    """A proven delivery: the mailbox works. Clears soft counts, pending reports and the
    escalation; ends a soft suppression. Hard, trap and complaint suppressions stay."""
    key = suppression_key(f.recipient, None)
    doc = ctx.working.get(KIND, key)
    if doc is None:
        return
    if doc.get("active") and doc.get("kind") == "soft":
        _deactivate(ctx, key, doc, "unsuppress.delivered", "delivered")
        return
    if doc.get("soft") or doc.get("reports") or doc.get("level"):
        doc.update(soft=[], reports=[], level=0)
        ctx.put(KIND, key, doc, doc.get("expires_at") if doc.get("active") else None)


def _deactivate(
    ctx: Context, key: str, doc: dict[str, Any], rule: str, reason: str, *, note: str | None = None
) -> None:
    doc.update(active=False, expires_at=None, soft=[], reports=[])
    if rule != "unsuppress.expired":
        doc["level"] = 0
    ident = ctx.announce(KIND, key, doc)
    ctx.put(KIND, key, doc, None)
    ctx.decisions.append(
        SuppressionEvent(
            id=ident,
            type=EventType.UNSUPPRESS,
            at=iso(ctx.now),
            address=doc["address"],
            scope=doc["scope"],
            client=doc["client"],
            reason=reason,
            expires_at=None,
            evidence=evidence(rule, note=note),
        )
    )


def command(ctx: Context, c: Commanded) -> None:
    cmd = c.command
    if cmd.action != CommandAction.SUPPRESSION_LIFT or not cmd.address:
        return
    key = suppression_key(cmd.address, cmd.client)
    doc = ctx.working.get(KIND, key)
    if doc is not None and doc.get("active"):
        note = f"command {c.id} by {cmd.operator or 'unknown'}: {cmd.note}".strip()
        _deactivate(ctx, key, doc, "operator.suppression.lift", "lifted", note=note)


def tick(ctx: Context, key: str, stored: Stored) -> None:
    doc = ctx.working.get(KIND, key)
    if doc is None:
        return
    expires = doc.get("expires_at")
    if doc.get("active") and expires is not None and expires <= ctx.now:
        _deactivate(ctx, key, doc, "unsuppress.expired", "expired")
    else:  # nothing due (an operator lifted it meanwhile): keep the document off the timer
        ctx.put(KIND, key, doc, expires if doc.get("active") else None)
