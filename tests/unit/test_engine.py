"""The pure batch step: duplicates, dead letters, counters and stable ids."""

from __future__ import annotations

from pathlib import Path

import orjson

from bounced import engine
from bounced.events import Role, SignalEvent
from bounced.io.ports import InRecord
from bounced.prepare import BOUNCE, DELIVERY, prepare
from tests.unit.policies import trusting

DATA = Path(__file__).resolve().parent.parent / "data"
POSTFIX = (DATA / "dsn" / "postfix-user-unknown.eml").read_bytes()
POLICY = trusting()


def item(value: bytes, offset: int, origin: str = BOUNCE, partition: int = 0) -> engine.Input:
    record = InRecord(
        topic="in",
        partition=partition,
        offset=offset,
        key=None,
        value=value,
        timestamp_ms=1_790_000_000_000,
    )
    return prepare(record, origin)


def run(inputs: list[engine.Input], seen: set[str] | None = None) -> engine.Step:
    return engine.step(POLICY, inputs, engine.Loaded(seen=seen or set()), 1_790_000_100.0)


def test_the_same_content_twice_counts_once() -> None:
    """Two copies of a bounce in one batch make one signal and one fingerprint."""
    step = run([item(POSTFIX, 0), item(POSTFIX, 1, partition=1)])
    signals = [e for role, _, e in step.events if role is Role.SIGNALS]
    assert len(signals) == 1
    assert len(step.fingerprints) == 1
    assert step.duplicates == 1


def test_a_fingerprint_seen_before_is_a_duplicate() -> None:
    """Content already stored by an earlier batch makes no event and no state change."""
    first = item(POSTFIX, 0)
    step = run([item(POSTFIX, 5)], seen={first.fingerprint})
    assert step.events == []
    assert step.writes == []
    assert step.duplicates == 1


def test_ids_depend_on_content_not_position() -> None:
    """Whichever copy is processed, the signal and the decision carry the same ids."""
    a = run([item(POSTFIX, 0)])
    b = run([item(POSTFIX, 7, partition=2)])
    assert [ident for _, ident, _ in a.events] == [ident for _, ident, _ in b.events]


def test_rejected_input_becomes_a_dead_letter_and_nothing_else() -> None:
    """A record that cannot be read is dead-lettered, with no fingerprint and no counters."""
    step = run([item(b"\x00\x01 not mail", 3)])
    assert step.dead_letters == 1
    assert [role for role, _, _ in step.events] == [Role.DLQ]
    assert step.fingerprints == []


def test_delivery_records_count_for_each_subject() -> None:
    """A delivered record counts sent and delivered for client, IP and both x provider."""
    value = orjson.dumps(
        {
            "event": "delivered",
            "timestamp": 1_790_000_000,
            "recipient": "x@gmail.com",
            "client": "acme",
            "sending_ip": "192.0.2.1",
        }
    )
    step = run([item(value, 0, DELIVERY)])
    counted = {(c.scope, c.key, c.metric) for c in step.counters}
    assert counted == {
        (scope, key, metric)
        for scope, key in (
            ("client", "acme"),
            ("client_provider", "acme|gmail"),
            ("ip", "192.0.2.1"),
            ("ip_provider", "192.0.2.1|gmail"),
        )
        for metric in ("sent", "delivered")
    }


def test_a_signal_event_points_at_its_source() -> None:
    """The signal event says where the input was consumed."""
    step = run([item(POSTFIX, 4, partition=1)])
    event = next(e for role, _, e in step.events if role is Role.SIGNALS)
    assert isinstance(event, SignalEvent)
    assert (event.source.topic, event.source.partition, event.source.offset) == ("in", 1, 4)
