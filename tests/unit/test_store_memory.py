"""The store contract on `MemoryStore`, plus the fake's own failure switch."""

from __future__ import annotations

import pytest

from bounced.errors import StoreError
from bounced.store.memory import MemoryStore
from bounced.store.ports import Store, UnitOfWork
from tests.contract.store_contract import StoreContract


class TestMemoryStore(StoreContract):
    """Every contract test, on a fresh in-memory store."""

    @pytest.fixture
    def store(self) -> Store:
        """An empty, migrated in-memory store."""
        store = MemoryStore()
        store.migrate()
        return store


def test_fail_next_simulates_an_outage_then_recovers() -> None:
    """After `fail_next(2)` two calls raise StoreError and the third works, storing nothing lost."""
    store = MemoryStore()
    store.fail_next(2)
    with pytest.raises(StoreError):
        store.offsets("g")
    with pytest.raises(StoreError):
        store.commit(UnitOfWork(group="g", fingerprints=[("fp", 1)]))
    store.commit(UnitOfWork(group="g", fingerprints=[("fp", 1)]))
    assert store.seen(["fp"]) == {"fp"}
