"""The migration runner, on a fake database: order, skipping, refusal and failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounced.errors import StoreError
from bounced.store import migrate
from bounced.store.migrate import Migration


class FakeTarget:
    """Records what the runner applies; can fail on one version or find it already done."""

    def __init__(self, applied: list[int], *, fail_on: int = 0, raced: int = 0) -> None:
        self.applied = list(applied)
        self.fail_on = fail_on
        self.raced = raced

    def applied_versions(self) -> list[int]:
        """What the fake database has recorded."""
        return list(self.applied)

    def apply(self, migration: Migration) -> bool:
        """Record the version, unless told to fail or that another process got there first."""
        if migration.version == self.fail_on:
            raise StoreError("simulated failure")
        if migration.version == self.raced:
            return False
        self.applied.append(migration.version)
        return True


KNOWN = [Migration(version=v, name=f"m{v}", sql="") for v in (1, 2, 3)]


def test_applies_missing_versions_in_order() -> None:
    """A database at version 1 gets 2 then 3, and the runner says so."""
    target = FakeTarget([1])
    assert migrate.run(target, KNOWN) == [2, 3]
    assert target.applied == [1, 2, 3]


def test_up_to_date_database_is_left_alone() -> None:
    """Running against a database at the newest version applies nothing."""
    target = FakeTarget([1, 2, 3])
    assert migrate.run(target, KNOWN) == []


def test_newer_database_is_refused() -> None:
    """A version the code does not know stops the runner before it applies anything."""
    target = FakeTarget([1, 2, 3, 4])
    with pytest.raises(StoreError, match=r"version 4 .* up to 3"):
        migrate.run(target, KNOWN)
    assert target.applied == [1, 2, 3, 4]


def test_failure_stops_before_later_versions() -> None:
    """When version 2 fails, version 3 is not attempted."""
    target = FakeTarget([], fail_on=2)
    with pytest.raises(StoreError):
        migrate.run(target, KNOWN)
    assert target.applied == [1]


def test_version_applied_by_another_process_is_not_reported() -> None:
    """A version another process recorded first is skipped and not counted as applied here."""
    target = FakeTarget([], raced=1)
    assert migrate.run(target, KNOWN) == [2, 3]


def test_shipped_sqlite_migrations_start_at_one() -> None:
    """The package ships SQLite migrations numbered from 1, the first being the initial schema."""
    shipped = migrate.load("sqlite")
    assert [m.version for m in shipped] == list(range(1, len(shipped) + 1))
    assert shipped[0].name == "initial"
    assert "CREATE TABLE outbox" in shipped[0].sql


def test_gap_in_numbering_is_refused(tmp_path: Path) -> None:
    """Files numbered 1 and 3 are refused: a missing 2 would be skipped silently."""
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "sqlite" / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "sqlite" / "0003_c.sql").write_text("SELECT 1;")
    (tmp_path / "sqlite" / "README.md").write_text("not a migration")
    with pytest.raises(StoreError, match="without gaps"):
        migrate.load("sqlite", tmp_path)
