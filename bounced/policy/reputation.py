"""The policy the daemon runs: suppression, throttling, grid membership and warm-up, composed.

Theory of operation. The engine asks `needs` what to load for a batch: the suppression documents
of the addresses the batch mentions, the throttle documents and bucket-by-bucket windows of the
IPs and clients it brings trouble, the pool documents of the clients it names (with demotion
windows when it brings them bad news), and whatever the operator commands in it touch. `decide`
then applies the commands first (an operator's word comes before the rules), then the rules of
each concern, all through one working copy of the documents, so each changed document is
written once, compare-and-set against the version loaded. Two instances that see the same
threshold crossing both try to write the same document from the same version: one commit wins,
the other gets `ConflictError`, reloads, finds the transition made, and emits nothing.

`tick_needs` and `tick` do the same for documents whose time has come (`due_at`): expiries,
re-checks and ramp steps of throttles, eligibility and cooldowns, warm-up days.

Everything here is pure: state and `now` in, decisions out. The rules and their thresholds live
in the policy file (bounced/policy/default.toml, docs/policy.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bounced.engine import Batch, Decided, Loaded, Needs
from bounced.policy import pool, suppression, throttle, warmup
from bounced.policy.config import PolicyConfig, default_policy
from bounced.policy.context import Context
from bounced.policy.tally import BatchView
from bounced.store.ports import Stored

_TICKS: dict[str, Callable[[Context, str, Stored], None]] = {
    suppression.KIND: suppression.tick,
    throttle.KIND: throttle.tick,
    pool.KIND: pool.tick,
    warmup.KIND: warmup.tick,
}


class ReputationPolicy:
    """The `engine.Policy` built from a policy file (`PolicyConfig`)."""

    def __init__(self, config: PolicyConfig | None = None) -> None:
        self.config = config or default_policy()

    def needs(self, batch: Batch, now: float) -> Needs:
        view = BatchView.of(batch, self.config, counting=False)
        commands = list(batch.commands)
        out = Needs()
        suppression.needs(view, commands, out)
        throttle.needs(view, commands, self.config.throttle, now, out)
        pool.needs(view, commands, self.config, now, out)
        warmup.needs(commands, self.config, out)
        return out

    def decide(self, batch: Batch, loaded: Loaded, now: float) -> Decided:
        view = BatchView.of(batch, self.config)
        ctx = Context.of(self.config, loaded, now, view)
        for c in batch.commands:
            suppression.command(ctx, c)
            throttle.command(ctx, c)
            pool.command(ctx, c)
            warmup.command(ctx, c)
        suppression.decide(ctx)
        throttle.decide(ctx)
        pool.decide(ctx)
        return ctx.decided()

    def tick_needs(self, due: Sequence[tuple[str, str, Stored]], now: float) -> Needs:
        out = Needs()
        for kind, _, stored in due:
            if kind == throttle.KIND:
                throttle.tick_needs(stored, now, out)
            elif kind == pool.KIND:
                pool.tick_needs(stored, self.config, now, out)
            elif kind == warmup.KIND:
                warmup.tick_needs(stored, self.config, out)
        return out

    def tick(self, due: Sequence[tuple[str, str, Stored]], loaded: Loaded, now: float) -> Decided:
        # The due documents are the versions the writes must quote.
        entities = {kind: dict(docs) for kind, docs in loaded.entities.items()}
        for kind, key, stored in due:
            entities.setdefault(kind, {})[key] = stored
        ctx = Context.of(
            self.config, Loaded(entities=entities, windows=loaded.windows), now, BatchView()
        )
        for kind, key, stored in due:
            handler = _TICKS.get(kind)
            if handler is not None:
                handler(ctx, key, stored)
        return Decided(writes=ctx.working.writes(), decisions=ctx.decisions)
