"""`SqliteStore` on real database files: the store contract, then what only a file can show
(reopening, several connections, threads, locks, migrations)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bounced.errors import StoreError
from bounced.store import migrate
from bounced.store.ports import (
    ConflictError,
    CounterDelta,
    EntityWrite,
    OffsetAdvance,
    Store,
    UnitOfWork,
    WindowQuery,
)
from bounced.store.sqlite import SqliteMigrationTarget, SqliteStore
from tests.contract.store_contract import (
    ADDRESS,
    GROUP,
    StoreContract,
    assert_untouched,
    everything,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the test's database file lives."""
    return tmp_path / "bounced.db"


def open_store(path: Path, **options: Any) -> SqliteStore:
    """A migrated store on the file."""
    store = SqliteStore(path, **options)
    store.migrate()
    return store


class TestSqliteStore(StoreContract):
    """Every contract test, on a fresh database file."""

    @pytest.fixture
    def store(self, path: Path) -> Iterator[Store]:
        """An empty, migrated store on a file in the test's temporary folder."""
        store = open_store(path)
        yield store
        store.close()


def test_reopened_file_has_everything(path: Path) -> None:
    """A unit committed, the store closed and the file opened again: everything is there."""
    first = open_store(path)
    first.commit(everything())
    first.close()
    again = open_store(path)
    assert again.offsets(GROUP) == {("bounces.raw", 0): 10}
    assert again.seen(["fp-1"]) == {"fp-1"}
    assert again.load("suppression", [ADDRESS])[ADDRESS].data == {"reason": "userunknown"}
    window = WindowQuery(scope="ip", key="192.0.2.1", first_bucket=0, last_bucket=9)
    assert again.window([window]) == {window: {"sent": 5}}
    assert [r.id for r in again.pending(10)] == ["ev-1"]
    again.close()


def test_two_stores_on_one_file_one_compare_and_set_wins(path: Path) -> None:
    """Two stores (two processes' view) write from the same version: the second one conflicts."""
    a, b = open_store(path), open_store(path)
    a.commit(
        UnitOfWork(
            group=GROUP, entities=[EntityWrite(kind="pool", key="c1", data={}, expected_version=0)]
        )
    )
    version = b.load("pool", ["c1"])["c1"].version
    assert a.load("pool", ["c1"])["c1"].version == version
    a.commit(
        UnitOfWork(
            group=GROUP,
            entities=[
                EntityWrite(kind="pool", key="c1", data={"by": "a"}, expected_version=version)
            ],
        )
    )
    with pytest.raises(ConflictError):
        b.commit(
            UnitOfWork(
                group=GROUP,
                fingerprints=[("fp-b", 1)],
                entities=[
                    EntityWrite(kind="pool", key="c1", data={"by": "b"}, expected_version=version)
                ],
            )
        )
    assert b.load("pool", ["c1"])["c1"].data == {"by": "a"}
    assert a.seen(["fp-b"]) == set()
    a.close()
    b.close()


def test_threads_with_own_stores_count_every_increment_once(path: Path) -> None:
    """Two threads race on one document; successful increments equal the final version."""
    open_store(path).close()
    attempts = 150
    start = threading.Barrier(2)
    successes = [0, 0]
    conflicts = [0, 0]
    errors: list[BaseException] = []

    def hammer(slot: int) -> None:
        store = SqliteStore(path, busy_timeout=30.0)
        try:
            start.wait()
            for _ in range(attempts):
                current = store.load("counter", ["shared"]).get("shared")
                version = 0 if current is None else current.version
                time.sleep(0)  # let the other thread in between the read and the write
                write = EntityWrite(
                    kind="counter", key="shared", data={"by": slot}, expected_version=version
                )
                bump = CounterDelta(scope="client", key="shared", bucket=0, metric="wins", delta=1)
                try:
                    store.commit(UnitOfWork(group=GROUP, entities=[write], counters=[bump]))
                    successes[slot] += 1
                except ConflictError:
                    conflicts[slot] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=hammer, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(successes) + sum(conflicts) == 2 * attempts
    check = open_store(path)
    final = check.load("counter", ["shared"])["shared"].version
    wins = WindowQuery(scope="client", key="shared", first_bucket=0, last_bucket=0)
    assert final == sum(successes)
    # Counters of units that lost their compare-and-set were rolled back with them.
    assert check.window([wins]) == {wins: {"wins": sum(successes)}}
    check.close()


def test_locked_database_raises_retryable_store_error(path: Path) -> None:
    """While another connection holds the write lock a commit fails retryably, then succeeds."""
    store = open_store(path, busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    unit = UnitOfWork(
        group=GROUP,
        entities=[
            EntityWrite(kind="suppression", key=ADDRESS, data={"a": ADDRESS}, expected_version=0)
        ],
    )
    with pytest.raises(StoreError) as caught:
        store.commit(unit)
    message = str(caught.value)
    assert "commit" in message
    assert "retryable" in message
    assert "not retryable" not in message
    assert ADDRESS not in message
    other.execute("ROLLBACK")
    other.close()
    store.commit(unit)
    assert store.load("suppression", [ADDRESS])[ADDRESS].version == 1
    store.close()


def test_error_mid_transaction_rolls_back_and_recovers(path: Path) -> None:
    """A database error halfway through a unit stores nothing, and the next commit works."""
    store = open_store(path)
    raw = sqlite3.connect(path, isolation_level=None)
    # Stands in for a failure after the first statements of the unit (I/O error, full disk...).
    raw.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'failure'); END"
    )
    with pytest.raises(StoreError, match="commit"):
        store.commit(everything())
    assert_untouched(store)
    raw.execute("DROP TRIGGER fail")
    raw.close()
    store.commit(everything())
    assert [r.id for r in store.pending(10)] == ["ev-1"]
    store.close()


def test_file_that_is_not_a_database_raises_store_error(path: Path) -> None:
    """Opening a file that is not a SQLite database fails with a non-retryable StoreError."""
    path.write_bytes(b"this is not a database, just some text that is long enough" * 20)
    with pytest.raises(StoreError, match="not retryable"):
        SqliteStore(path)


def test_unknown_synchronous_setting_is_refused(path: Path) -> None:
    """Only NORMAL and FULL are accepted: OFF would give up durability silently."""
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore(path, synchronous="OFF")  # type: ignore[arg-type]


def test_journal_mode_is_wal(path: Path) -> None:
    """The store puts the file in WAL mode, which other connections then see."""
    open_store(path).close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_migrations_are_recorded_once(path: Path) -> None:
    """Migrating twice, from two stores, records each shipped version exactly once."""
    open_store(path).close()
    open_store(path).close()
    raw = sqlite3.connect(path)
    rows = raw.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    raw.close()
    assert rows == [(m.version, m.name) for m in migrate.load("sqlite")]


def test_newer_schema_is_refused(path: Path) -> None:
    """A database migrated by a newer bounced makes migrate fail with a clear StoreError."""
    open_store(path).close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"
    )
    raw.close()
    store = SqliteStore(path)
    with pytest.raises(StoreError, match=r"version 999 .* upgrade bounced"):
        store.migrate()
    store.close()


def test_failed_migration_leaves_no_trace(path: Path) -> None:
    """A migration that fails halfway leaves neither its tables nor its version behind."""
    known = [
        migrate.Migration(version=1, name="one", sql="CREATE TABLE one (a TEXT);"),
        migrate.Migration(
            version=2, name="two", sql="CREATE TABLE two (a TEXT); INSERT INTO nowhere VALUES (1);"
        ),
        migrate.Migration(version=3, name="three", sql="CREATE TABLE three (a TEXT);"),
    ]
    raw = sqlite3.connect(path, isolation_level=None)
    target = SqliteMigrationTarget(raw)
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        migrate.run(target, known)
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not raw.in_transaction
    assert target.applied_versions() == [1]
    assert "one" in tables
    assert not {"two", "three"} & tables
    raw.close()


def test_migration_with_a_trigger_runs_whole(path: Path) -> None:
    """Statements with semicolons inside (a trigger body) are run as one statement."""
    trigger = """
        CREATE TABLE t (a INTEGER);  -- a comment; with a semicolon
        CREATE TABLE log (a INTEGER);
        CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END;
        INSERT INTO t VALUES (7);
    """
    raw = sqlite3.connect(path, isolation_level=None)
    assert migrate.run(
        SqliteMigrationTarget(raw), [migrate.Migration(version=1, name="t", sql=trigger)]
    ) == [1]
    assert raw.execute("SELECT a FROM log").fetchall() == [(7,)]
    raw.close()


def test_prune_is_bounded_per_call(path: Path) -> None:
    """Prune deletes at most its batch budget per call and finishes on the next calls."""
    store = open_store(path, prune_batch=3, prune_max_batches=2)
    store.commit(UnitOfWork(group=GROUP, fingerprints=[(f"fp-{i}", 1) for i in range(10)]))
    everything_old = {"fingerprints_before": 2, "events_before": 0, "counters_before_bucket": 0}
    store.prune(**everything_old)
    assert len(store.seen([f"fp-{i}" for i in range(10)])) == 4
    store.prune(**everything_old)
    assert store.seen([f"fp-{i}" for i in range(10)]) == set()
    store.close()


def test_offset_conflict_names_the_partition(path: Path) -> None:
    """An offset conflict says which topic and partition, for the operator's log."""
    store = open_store(path)
    store.commit(
        UnitOfWork(
            group=GROUP,
            offsets=[OffsetAdvance(topic="delivery.log", partition=4, previous=None, next=1)],
        )
    )
    with pytest.raises(ConflictError, match=r"delivery\.log\[4\]"):
        store.commit(
            UnitOfWork(
                group=GROUP,
                offsets=[OffsetAdvance(topic="delivery.log", partition=4, previous=0, next=2)],
            )
        )
    store.close()
