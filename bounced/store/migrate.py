"""Versioned schema migrations, shared by the SQLite and PostgreSQL stores.

Theory of operation. Each SQL dialect has a folder of numbered files,
``bounced/store/migrations/<dialect>/NNNN_name.sql``, numbered from 1 without gaps. A database
records the versions it has applied in ``schema_migrations``. `run` compares the two lists and
applies the missing versions in order, each in its own transaction together with its row in
``schema_migrations``, so a failure leaves the schema at the last complete version and the next
start carries on from there.

A database holding a version this code does not know was migrated by a newer bounced. The runner
refuses to touch it: old code reading a newer schema could misread it or write rows the newer code
cannot trust. Upgrading bounced is the fix, and the error says so.

The runner knows no database driver. Each store hands it a `MigrationTarget` that runs SQL its own
way (statement by statement for sqlite3, a whole script for psycopg) and takes whatever lock its
database needs so that two processes starting together apply each version once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Protocol

from bounced.errors import StoreError

# Identical in both dialects; created by the targets before anything else is read.
SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
)
"""

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """One schema version: the SQL that takes the schema from `version - 1` to `version`."""

    version: int
    name: str
    sql: str


class MigrationTarget(Protocol):
    """A database the runner can inspect and migrate."""

    def applied_versions(self) -> list[int]:
        """The versions recorded in ``schema_migrations`` (creating the table if missing)."""

    def apply(self, migration: Migration) -> bool:
        """Run the migration and record it, in one transaction. Return False without changing
        anything if the version is already recorded (another process applied it first)."""


def load(dialect: str, root: Traversable | None = None) -> list[Migration]:
    """The migrations of a dialect, in version order, checked to be numbered 1, 2, 3...

    `root` holds one folder per dialect; by default the migrations shipped in the package."""
    folder = (root or resources.files("bounced.store") / "migrations") / dialect
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        found.append(Migration(version=version, name=match.group(2), sql=entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise StoreError(f"{dialect} migrations are not numbered 1..{len(found)} without gaps")
    return found


def pending(applied: Sequence[int], known: Sequence[Migration]) -> list[Migration]:
    """The known migrations not yet applied; refuses a database migrated by newer code."""
    known_versions = {m.version for m in known}
    newest_known = max(known_versions, default=0)
    unknown = sorted(v for v in applied if v not in known_versions)
    if unknown:
        raise StoreError(
            f"database schema has version {unknown[-1]} but this bounced knows versions up to "
            f"{newest_known}; it was migrated by a newer bounced: upgrade bounced, do not "
            "downgrade the database"
        )
    done = set(applied)
    return [m for m in known if m.version not in done]


def run(target: MigrationTarget, known: Sequence[Migration]) -> list[int]:
    """Bring the target up to the newest known version; return the versions applied now."""
    todo = pending(target.applied_versions(), known)
    # In order, and stop at the first failure: apply() raises, leaving later versions alone.
    return [m.version for m in todo if target.apply(m)]
