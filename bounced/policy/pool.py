"""Grid (shared IP pool) membership per client, as a state machine.

    dedicated --every [[pool.enter]] rule holds, list audit passed, no cooldown--> eligible
    eligible  --any [[pool.leave]] rule holds, or the audit failed--> dedicated
    eligible  --command pool.promote, or auto_promote after auto_promote_after--> grid
    grid      --any [[pool.demote]] rule holds--> demoted
    demoted   --cooldown over--> dedicated
    any       --command pool.promote | pool.demote--> grid | demoted

Rule 1: demotion is judged as facts arrive (a batch that brings a grid client a hard bounce,
block, complaint or trap hit), over windows ending at the client's newest fact; everything else
is judged by the timer every `evaluate_every`, over windows ending now.
Rule 2: entry and exit thresholds differ (hysteresis, checked when the policy is loaded), and a
demoted client waits out `cooldown` before it can be eligible again: no flapping.
Rule 3: a frozen client (command pool.freeze) makes no automatic transition; commands still act.
A client is first seen in the state its mail names: a pool in `grid_pools` means grid (it was
there before bounced), anything else dedicated. Only proven facts count (bounced/policy/tally.py).
"""

from __future__ import annotations

from typing import Any

from bounced.commands import CommandAction
from bounced.engine import Commanded, Needs
from bounced.events import EventType, PoolEvent, iso
from bounced.model import Category
from bounced.policy.config import PolicyConfig, Rule, seconds
from bounced.policy.context import Context, evidence
from bounced.policy.figures import Counts, all_hold, numbers
from bounced.policy.tally import BatchView, Fact, span, whole
from bounced.store.ports import Stored

KIND = "pool"
DEDICATED, ELIGIBLE, GRID, DEMOTED = "dedicated", "eligible", "grid", "demoted"
_BAD = frozenset({Category.HARD, Category.BLOCK, Category.COMPLAINT})
_COMMANDS = frozenset(
    {
        CommandAction.POOL_PROMOTE,
        CommandAction.POOL_DEMOTE,
        CommandAction.POOL_FREEZE,
        CommandAction.POOL_UNFREEZE,
        CommandAction.AUDIT_PASS,
        CommandAction.AUDIT_FAIL,
    }
)


def _bad(f: Fact) -> bool:
    return f.trap or f.category in _BAD


def _clients(view: BatchView) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = {}
    for f in view.facts:
        if f.client:
            out.setdefault(f.client, []).append(f)
    return out


def _anchor(facts: list[Fact], now: float) -> float:
    return min(now, max(f.when for f in facts))


def needs(
    view: BatchView, commands: list[Commanded], policy: PolicyConfig, now: float, out: Needs
) -> None:
    for client, facts in _clients(view).items():
        out.entity(KIND, client)
        if any(_bad(f) for f in facts):
            _windows(policy.pool.demote, client, _anchor(facts, now), out)
    for c in commands:
        if c.command.action in _COMMANDS and c.command.client:
            out.entity(KIND, c.command.client)


def _windows(rules: tuple[Rule, ...], client: str, anchor: float, out: Needs) -> None:
    for rule in rules:
        out.windows.add(whole("client", client, *span(anchor, seconds(rule.window))))


def _first_pool(facts: list[Fact]) -> str | None:
    for f in facts:
        if f.recorded is not None and f.recorded.record.pool:
            return f.recorded.record.pool
        if f.tipped is not None and f.tipped.signal.attribution.pool:
            return f.tipped.signal.attribution.pool
    return None


def _blank(client: str, state: str, now: float) -> dict[str, Any]:
    return {
        "client": client,
        "state": state,
        "since": int(now),
        "frozen": False,
        "audit": None,
        "cooldown_until": None,
    }


def decide(ctx: Context) -> None:
    pool = ctx.policy.pool
    for client, facts in sorted(_clients(ctx.view).items()):
        doc = ctx.working.get(KIND, client)
        if doc is None:
            state = GRID if _first_pool(facts) in pool.grid_pools else DEDICATED
            doc = _blank(client, state, ctx.now)
            ctx.put(KIND, client, doc, ctx.now + seconds(pool.evaluate_every))
        if doc["state"] != GRID or doc.get("frozen"):
            continue
        bad = [f for f in facts if _bad(f)]
        if not bad:
            continue
        anchor = _anchor(facts, ctx.now)
        fired = _first_holding(ctx, pool.demote, client, anchor)
        if fired is not None:
            rule, counts = fired
            signals = tuple(f.tipped.id for f in bad if f.tipped is not None)
            figures = numbers(rule.when, counts)
            _move(
                ctx,
                client,
                doc,
                DEMOTED,
                rule.id,
                window=rule.window,
                facts=figures,
                signals=signals,
            )


def _counts(ctx: Context, rule: Rule, client: str, anchor: float) -> Counts:
    return ctx.tally.counts("client", client, *span(anchor, seconds(rule.window)))


def _first_holding(
    ctx: Context, rules: tuple[Rule, ...], client: str, anchor: float
) -> tuple[Rule, Counts] | None:
    for rule in rules:
        counts = _counts(ctx, rule, client, anchor)
        if all_hold(rule.when, counts) is True:
            return rule, counts
    return None


def _due(ctx: Context, doc: dict[str, Any]) -> float:
    if doc["state"] == DEMOTED and doc.get("cooldown_until"):
        return float(doc["cooldown_until"])
    return ctx.now + seconds(ctx.policy.pool.evaluate_every)


def _move(
    ctx: Context,
    client: str,
    doc: dict[str, Any],
    to: str,
    rule: str,
    *,
    window: str | None = None,
    facts: dict[str, float] | None = None,
    signals: tuple[str, ...] = (),
    note: str | None = None,
) -> None:
    before = doc["state"]
    doc.update(state=to, since=int(ctx.now))
    if to == DEMOTED:
        doc["cooldown_until"] = int(ctx.now + seconds(ctx.policy.pool.cooldown))
    ident = ctx.announce(KIND, client, doc)
    ctx.put(KIND, client, doc, _due(ctx, doc))
    ctx.decisions.append(
        PoolEvent(
            id=ident,
            type=EventType.POOL,
            at=iso(ctx.now),
            client=client,
            from_state=before,
            to_state=to,
            evidence=evidence(rule, window=window, numbers=facts, signals=signals, note=note),
        )
    )


# -- time ------------------------------------------------------------------------------------


def _rules_for(policy: PolicyConfig, state: str) -> tuple[Rule, ...]:
    pool = policy.pool
    return {DEDICATED: pool.enter, ELIGIBLE: pool.leave, GRID: pool.demote}.get(state, ())


def tick_needs(stored: Stored, policy: PolicyConfig, now: float, out: Needs) -> None:
    client = stored.data.get("client")
    if client and not stored.data.get("frozen"):
        _windows(_rules_for(policy, str(stored.data.get("state"))), client, now, out)


def _move_on_rule(
    ctx: Context, client: str, doc: dict[str, Any], rules: tuple[Rule, ...], to: str
) -> bool:
    """Move the client to `to` under the first of `rules` that holds; False when none does."""
    fired = _first_holding(ctx, rules, client, ctx.now)
    if fired is None:
        return False
    rule, counts = fired
    _move(ctx, client, doc, to, rule.id, window=rule.window, facts=numbers(rule.when, counts))
    return True


def tick(ctx: Context, key: str, stored: Stored) -> None:
    doc = ctx.working.get(KIND, key)
    if doc is None:
        return
    pool = ctx.policy.pool
    state = doc["state"]
    now = ctx.now
    if not doc.get("frozen"):
        if state == DEMOTED and now >= (doc.get("cooldown_until") or 0):
            _move(ctx, key, doc, DEDICATED, "pool.cooldown-over")
            return
        if state == DEDICATED and _may_enter(ctx, doc):
            facts: dict[str, float] = {}
            for rule in pool.enter:
                counts = _counts(ctx, rule, key, now)
                if all_hold(rule.when, counts) is not True:
                    break
                facts.update(numbers(rule.when, counts))
            else:
                doc["eligible_since"] = int(now)
                windows = ",".join(sorted({r.window for r in pool.enter}))
                _move(ctx, key, doc, ELIGIBLE, "pool.enter", window=windows, facts=facts)
                return
        if state == ELIGIBLE:
            if _move_on_rule(ctx, key, doc, pool.leave, DEDICATED):
                return
            if pool.auto_promote and now - (doc.get("since") or now) >= seconds(
                pool.auto_promote_after
            ):
                _move(ctx, key, doc, GRID, "pool.auto-promote")
                return
        if state == GRID and _move_on_rule(ctx, key, doc, pool.demote, DEMOTED):
            return
    ctx.put(KIND, key, doc, _due(ctx, doc))


def _may_enter(ctx: Context, doc: dict[str, Any]) -> bool:
    if ctx.policy.pool.require_list_audit and doc.get("audit") != "passed":
        return False
    return ctx.now >= (doc.get("cooldown_until") or 0)


# -- commands --------------------------------------------------------------------------------


def command(ctx: Context, c: Commanded) -> None:
    cmd = c.command
    client = cmd.client
    if cmd.action not in _COMMANDS or not client:
        return
    doc = ctx.working.get(KIND, client) or _blank(client, DEDICATED, ctx.now)
    note = f"command {c.id} by {cmd.operator or 'unknown'}: {cmd.note}".strip()
    rule = f"operator.{cmd.action}"
    action = cmd.action
    if action == CommandAction.POOL_PROMOTE and doc["state"] != GRID:
        _move(ctx, client, doc, GRID, rule, note=note)
    elif action == CommandAction.POOL_DEMOTE and doc["state"] != DEMOTED:
        _move(ctx, client, doc, DEMOTED, rule, note=note)
    elif action == CommandAction.AUDIT_FAIL and doc["state"] == ELIGIBLE:
        doc["audit"] = "failed"
        _move(ctx, client, doc, DEDICATED, rule, note=note)
    else:
        if action in (CommandAction.POOL_FREEZE, CommandAction.POOL_UNFREEZE):
            doc["frozen"] = action == CommandAction.POOL_FREEZE
        elif action in (CommandAction.AUDIT_PASS, CommandAction.AUDIT_FAIL):
            doc["audit"] = "passed" if action == CommandAction.AUDIT_PASS else "failed"
        ctx.put(KIND, client, doc, _due(ctx, doc))
