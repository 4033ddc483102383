"""Schemas are the public API: real output validates against schemas/*.json, and the delivery
record validator accepts exactly what its schema accepts."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from bounced.attribute import AttributionConfig, attribute
from bounced.commands import CommandAction, read_command
from bounced.config import Config, DaemonConfig
from bounced.daemon import Daemon
from bounced.errors import ValidationError
from bounced.io.memory import MemoryLog, MemorySink, MemorySource
from bounced.prepare import Preparer
from bounced.records import read_record
from bounced.signing import Key, Keyring
from bounced.store.memory import MemoryStore
from bounced.traffic import VERP_DOMAIN, VERP_PREFIX, demo_traffic
from tests.unit.policies import trusting

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "schemas"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_every_schema_is_a_valid_2020_12_schema() -> None:
    """Each file in schemas/ is itself a valid JSON Schema (2020-12) with an $id."""
    names = sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert {
        "signal.json",
        "suppression.json",
        "throttle.json",
        "pool.json",
        "command.json",
    } <= set(names)
    for name in names:
        schema = json.loads((SCHEMAS / name).read_text())
        assert schema["$schema"].endswith("2020-12/schema")
        assert schema["$id"].endswith(name)
        Draft202012Validator.check_schema(schema)


def _run_demo_traffic() -> MemoryLog:
    keyring = Keyring(signing=Key(key_id="t1", secret=secrets.token_bytes(32)))
    config = Config(
        daemon=DaemonConfig(tick_seconds=0.05, fetch_timeout_ms=5, retry_initial_seconds=0.001)
    )
    topics = config.topics
    log = MemoryLog(partitions=3)
    traffic = demo_traffic(keyring, mails=300, start=1_790_000_000)
    for topic, values in (
        (topics.bounces, traffic.bounces),
        (topics.complaints, traffic.complaints),
        (topics.deliveries, traffic.deliveries),
    ):
        for n, value in enumerate(values):
            log.append(topic, value, key=str(n).encode(), timestamp_ms=1_790_000_000_000)
    attribution = AttributionConfig(
        keyring=keyring, verp_domains=frozenset({VERP_DOMAIN}), verp_prefix=VERP_PREFIX
    )
    store = MemoryStore()
    source = MemorySource(log, [topics.bounces, topics.complaints, topics.deliveries])
    daemon = Daemon(
        config=config,
        store=store,
        source=source,
        sink=MemorySink(log),
        policy=trusting(),
        preparer=Preparer(
            origins={
                topics.bounces: "bounce",
                topics.complaints: "feedback",
                topics.deliveries: "delivery_record",
            },
            attributor=lambda report: attribute(report, attribution),
        ),
    )

    async def main() -> None:
        task = asyncio.create_task(daemon.run())
        async with asyncio.timeout(20):
            while not source.started or source.unhandled() or store.pending(1):
                await asyncio.sleep(0.01)
        daemon.request_stop()
        await task

    asyncio.run(main())
    return log


@pytest.fixture(scope="module")
def produced() -> MemoryLog:
    return _run_demo_traffic()


@pytest.mark.parametrize(
    ("topic", "schema"),
    [
        ("signals", "signal.json"),
        ("suppressions", "suppression.json"),
        ("throttles", "throttle.json"),
        ("pool", "pool.json"),
    ],
)
def test_produced_events_match_their_schema(produced: MemoryLog, topic: str, schema: str) -> None:
    """Every event the daemon produced on a topic validates against that topic's schema."""
    check = validator(schema)
    records = produced.records(topic)
    if topic != "pool":
        assert records, f"the demo traffic produced nothing on {topic}"
    for record in records:
        errors = sorted(check.iter_errors(orjson.loads(record.value or b"")), key=str)
        assert not errors, f"{topic}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_dead_letter_headers_match_their_schema(produced: MemoryLog) -> None:
    """Every dead letter carries the documented headers with the documented shapes."""
    check = validator("dead-letter.json")
    dead = produced.records("dlq")
    assert dead
    for record in dead:
        headers = {name: value.decode() for name, value in record.headers}
        errors = list(check.iter_errors(headers))
        assert not errors, errors[0].message


RECORD_SCHEMA = validator("delivery-record.json")
FIELDS: dict[str, Any] = {
    "event": st.sampled_from(["delivered", "bounced", "deferred", "sent", ""]),
    "timestamp": st.one_of(
        st.integers(-5, 4_000_000_000),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(
            [
                "2026-11-29T10:00:00Z",
                "2026-11-29T10:00:00.5+01:00",
                "2026-11-29 10:00:00",
                "2026-11-29T10:00",
                "yesterday",
            ]
        ),
        st.booleans(),
    ),
    "recipient": st.one_of(
        st.sampled_from(["a@b.example", "ab", "a b@c.example", "x@"]), st.text(max_size=8)
    ),
    "client": st.one_of(st.text(max_size=3), st.none(), st.integers()),
    "sending_ip": st.sampled_from(["192.0.2.1", "2001:db8::1", "300.1.1.1", "", "01.2.3.4"]),
    "reply_code": st.one_of(st.integers(100, 700), st.sampled_from([True, "550"])),
    "enhanced_status": st.sampled_from(["5.1.1", "4.7.28", "5.1", "6.1.1", "5.1.1 x"]),
    "reply_text": st.text(max_size=5),
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_record_validator_agrees_with_the_schema(doc: dict[str, Any]) -> None:
    """The hand-written validator accepts a delivery record exactly when the schema does."""
    by_schema = RECORD_SCHEMA.is_valid(doc)
    try:
        read_record(json.dumps(doc).encode())
    except ValidationError:
        by_code = False
    else:
        by_code = True
    assert by_code == by_schema, doc


COMMAND_SCHEMA = validator("command.json")
COMMAND_FIELDS: dict[str, Any] = {
    "action": st.one_of(st.sampled_from([a.value for a in CommandAction]), st.just("pool.x")),
    "client": st.one_of(st.sampled_from(["acme", ""]), st.none(), st.integers()),
    "address": st.one_of(st.sampled_from(["a@b.example", ""]), st.none()),
    "ip": st.one_of(st.sampled_from(["192.0.2.1", ""]), st.none()),
    "provider": st.one_of(st.sampled_from(["gmail", "yahoo", "nope", ""]), st.none()),
    "operator": st.one_of(st.text(max_size=3), st.none()),
    "note": st.one_of(st.text(max_size=3), st.integers()),
    "extra": st.just(1),
}


@settings(max_examples=600, deadline=None)
@given(st.fixed_dictionaries({}, optional=COMMAND_FIELDS))
def test_command_reader_agrees_with_the_schema(doc: dict[str, Any]) -> None:
    """`read_command` accepts an operator command exactly when schemas/command.json does."""
    by_schema = COMMAND_SCHEMA.is_valid(doc)
    try:
        read_command(json.dumps(doc).encode())
    except ValidationError:
        by_code = False
    else:
        by_code = True
    assert by_code == by_schema, doc
