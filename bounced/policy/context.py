"""What every rule module works with during one batch or one tick.

A `Context` holds the policy, the working copy of the documents (compare-and-set on commit), the
counter tally and `now`, and collects the decisions. Each decision is announced with the id of a
document transition (`Working.transition`: document key + transition number), so the same
transition has the same id however the inputs were batched, and a replay repeats it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bounced.engine import Decided, Loaded
from bounced.events import Decision, Evidence
from bounced.policy.config import PolicyConfig
from bounced.policy.tally import BatchView, Tally
from bounced.policy.working import Working


@dataclass(slots=True)
class Context:
    policy: PolicyConfig
    working: Working
    tally: Tally
    now: float
    view: BatchView = field(default_factory=BatchView)
    decisions: list[Decision] = field(default_factory=list)

    @classmethod
    def of(cls, policy: PolicyConfig, loaded: Loaded, now: float, view: BatchView) -> Context:
        return cls(
            policy=policy,
            working=Working(loaded),
            tally=Tally(loaded, view),
            now=now,
            view=view,
        )

    def put(self, kind: str, key: str, doc: dict[str, Any], due_at: float | None) -> None:
        """Store a document without announcing anything (bookkeeping, a silent extension)."""
        self.working.put(kind, key, doc, None if due_at is None else int(due_at))

    def announce(self, kind: str, key: str, doc: dict[str, Any]) -> str:
        """Count a transition of a document; returns the id of the event that announces it."""
        return self.working.transition(kind, key, doc)

    def decided(self) -> Decided:
        return Decided(
            writes=self.working.writes(),
            decisions=self.decisions,
            counters=list(self.view.trap_deltas),
        )


def evidence(
    rule: str,
    *,
    window: str | None = None,
    numbers: dict[str, float] | None = None,
    signals: tuple[str, ...] = (),
    note: str | None = None,
) -> Evidence:
    """Evidence with at most 50 signal ids (the newest; a decision's own ids come last)."""
    return Evidence(
        rule=rule, window=window, numbers=numbers or {}, signals=signals[-50:], note=note
    )
