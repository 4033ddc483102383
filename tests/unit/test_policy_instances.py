"""Two instances that see the same threshold crossing emit one decision, not two."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bounced import engine
from bounced.events import ThrottleEvent
from bounced.model import Reason
from bounced.records import DeliveryEvent
from bounced.state.counters import bucket_of
from bounced.store.memory import MemoryStore
from bounced.store.ports import ConflictError, Store, WindowQuery
from bounced.store.sqlite import SqliteStore
from tests.unit.policy_support import T0, Runner, record

KEY = "ip:192.0.2.1|gmail"


def reply(n: int) -> list[engine.Input]:
    return [record(DeliveryEvent.DEFERRED, f"u{n}@gmail.com", when=T0 + n, reason=Reason.SPEEDING)]


def throttles(*runners: Runner) -> list[ThrottleEvent]:
    return [d for r in runners for d in r.decisions if isinstance(d, ThrottleEvent)]


def crossing(first: Store, second: Store) -> tuple[Runner, Runner, engine.Step, engine.Step]:
    """One Gmail rate-limit reply is stored; instance A and instance B each get one more, and
    each, on its own, sees the threshold (two within the hour) crossed."""
    a, b = Runner(store=first), Runner(store=second)
    a.feed(reply(0))
    step_a, step_b = a.compute(reply(1), T0 + 10), b.compute(reply(2), T0 + 10)
    decided = [e for s in (step_a, step_b) for _, _, e in s.events if isinstance(e, ThrottleEvent)]
    assert len(decided) == 2
    assert decided[0].id == decided[1].id  # the same transition, the same id
    return a, b, step_a, step_b


def rate_replies(store: Store) -> int:
    bucket = bucket_of(T0)
    query = WindowQuery(
        scope="ip_provider", key="192.0.2.1|gmail", first_bucket=bucket, last_bucket=bucket
    )
    return store.window([query])[query].get("rate", 0)


def test_one_decision_on_a_shared_memory_store() -> None:
    """The second commit fails compare-and-set; recomputed from fresh state, it emits nothing
    but still stores its counts."""
    store = MemoryStore()
    a, b, step_a, step_b = crossing(store, store)
    a.commit(step_a)
    with pytest.raises(ConflictError):
        b.commit(step_b)
    b.commit(b.compute(reply(2), T0 + 10))
    assert len(throttles(a, b)) == 1
    assert store.load("throttle", [KEY])[KEY].version == 1
    assert rate_replies(store) == 3


def test_one_decision_on_a_shared_sqlite_file(tmp_path: Path) -> None:
    """Two connections to one SQLite file commit at the same moment: exactly one wins."""
    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    first.migrate()
    try:
        a, b, step_a, step_b = crossing(first, second)
        lost: dict[int, ConflictError] = {}
        barrier = threading.Barrier(2)

        def commit(n: int, runner: Runner, step: engine.Step) -> None:
            barrier.wait()
            try:
                runner.commit(step)
            except ConflictError as exc:
                lost[n] = exc

        threads = [
            threading.Thread(target=commit, args=(0, a, step_a)),
            threading.Thread(target=commit, args=(1, b, step_b)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(lost) == 1
        loser, inputs = (a, reply(1)) if 0 in lost else (b, reply(2))
        loser.commit(loser.compute(inputs, T0 + 10))
        assert len(throttles(a, b)) == 1
        assert rate_replies(first) == 3
    finally:
        first.close()
        second.close()
