"""Counters: only proven senders are counted; policies may add counts the engine cannot tell."""

from __future__ import annotations

from collections.abc import Sequence

from bounced import engine
from bounced.engine import Batch, Decided, Loaded, Needs
from bounced.events import SourceRef
from bounced.model import (
    Action,
    Attribution,
    AttributionSource,
    Category,
    Kind,
    Provider,
    Reason,
    Signal,
)
from bounced.state.counters import deltas_for_signal, deltas_for_trap
from bounced.store.ports import CounterDelta, Stored


def block(source: AttributionSource) -> Signal:
    return Signal(
        recipient="a@gmail.com",
        kind=Kind.DSN,
        reason=Reason.BLOCKED,
        category=Category.BLOCK,
        action=Action.REPUTATION,
        hard=False,
        status="5.7.1",
        reply_code=550,
        provider=Provider.GMAIL,
        attribution=Attribution(client="acme", sending_ip="192.0.2.1", source=source),
    )


def test_a_signal_counts_only_with_proof_of_its_sender() -> None:
    """A block named by an unsigned header moves no reputation; a signed one does."""
    assert deltas_for_signal(block(AttributionSource.HEADER), 0) == []
    assert deltas_for_signal(block(AttributionSource.RECEIVED), 0) == []
    proven = deltas_for_signal(block(AttributionSource.SIGNED_REFERENCE), 0)
    assert {(d.scope, d.key, d.metric) for d in proven} == {
        ("client", "acme", "block"),
        ("client_provider", "acme|gmail", "block"),
        ("ip", "192.0.2.1", "block"),
        ("ip_provider", "192.0.2.1|gmail", "block"),
    }


def test_a_trap_hit_counts_for_every_subject_it_names() -> None:
    """A trap hit counts under `trap` for the client, the IP and both x provider."""
    deltas = deltas_for_trap("acme", None, "yahoo", 600)
    assert {(d.scope, d.key, d.metric, d.bucket) for d in deltas} == {
        ("client", "acme", "trap", 2),
        ("client_provider", "acme|yahoo", "trap", 2),
    }


class Counting:
    """A policy that adds one counter increment per batch."""

    def needs(self, batch: Batch, now: float) -> Needs:
        return Needs()

    def decide(self, batch: Batch, loaded: Loaded, now: float) -> Decided:
        delta = CounterDelta(scope="ip", key="192.0.2.9", bucket=1, metric="trap", delta=1)
        return Decided(counters=[delta])

    def tick_needs(self, due: Sequence[tuple[str, str, Stored]], now: float) -> Needs:
        return Needs()

    def tick(self, due: Sequence[tuple[str, str, Stored]], loaded: Loaded, now: float) -> Decided:
        return Decided()


def test_the_step_stores_the_counts_a_policy_adds() -> None:
    """Counter increments a policy returns are stored with the batch's own."""
    item = engine.Input(
        source=SourceRef(topic="t", partition=0, offset=0), timestamp=0, fingerprint="f", origin="x"
    )
    step = engine.step(Counting(), [item], Loaded(), 0)
    assert [(c.scope, c.metric) for c in step.counters] == [("ip", "trap")]
