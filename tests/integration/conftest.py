"""Fixtures for tests against real services started by the test session.

One Tansu broker (memory storage, 127.0.0.1) serves the whole session; each test gets topics of
its own, named after it, so tests never see each other's records. A missing broker binary fails
the tests that need it: they are never skipped.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from bounced.errors import BrokerError
from bounced.io.broker import EmbeddedBroker
from bounced.io.kafka import KafkaAdmin
from bounced.io.ports import InRecord

READ_TIMEOUT = 10.0  # seconds: bound on each admin call, reading a topic back included


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """The session's Tansu broker; stopped (and checked gone) when the session ends."""
    embedded = EmbeddedBroker()
    try:
        embedded.start()
    except BrokerError as exc:
        pytest.fail(f"the embedded Kafka broker (Tansu) cannot start: {exc}", pytrace=False)
    try:
        yield embedded
    finally:
        embedded.stop()
        assert not embedded.running()


@pytest.fixture
def bootstrap(broker: EmbeddedBroker) -> str:
    """``host:port`` of the session's broker."""
    return broker.bootstrap


@pytest.fixture
async def admin(bootstrap: str) -> AsyncIterator[KafkaAdmin]:
    """An admin client of the session's broker."""
    async with KafkaAdmin(bootstrap=bootstrap, timeout=READ_TIMEOUT) as client:
        yield client


@pytest.fixture
def topics(
    admin: KafkaAdmin, request: pytest.FixtureRequest
) -> Callable[..., Awaitable[list[str]]]:
    """Create fresh topics: ``await topics(2, partitions=3)`` gives two new topic names."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-")
    serial = itertools.count()
    run = uuid.uuid4().hex[:6]

    async def create(count: int = 1, *, partitions: int = 2) -> list[str]:
        names = [f"{base}-{run}-{next(serial)}" for _ in range(count)]
        created = await admin.ensure_topics(names, partitions)
        assert created == dict.fromkeys(names, partitions)
        return names

    return create


@pytest.fixture
def read_all(admin: KafkaAdmin) -> Callable[[str], Awaitable[list[InRecord]]]:
    """Read every record of a topic up to its high watermark, by partition then offset."""
    return admin.records
