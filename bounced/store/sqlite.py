"""The embedded store: one SQLite file in WAL mode, through the standard library's sqlite3.

Theory of operation. A `SqliteStore` owns one connection, opened in autocommit mode so that every
transaction is explicit. `commit` runs a whole unit in one ``BEGIN IMMEDIATE`` transaction: the
write lock is taken up front, so the compare-and-set checks that follow read the newest committed
state and nobody can commit in between; a check that fails rolls everything back and raises
`ConflictError`. Reads that take several statements run in one deferred transaction, which in WAL
mode is a consistent snapshot that does not block the writer.

Compare-and-set is an ``UPDATE ... WHERE version = ?`` (or an ``INSERT ... ON CONFLICT DO
NOTHING`` for a document that must not exist yet) whose row count tells whether it won. Offsets
work the same way on the stored next offset. Counters, fingerprints and outbox rows are upserts
(``ON CONFLICT DO UPDATE`` / ``DO NOTHING``), which makes replaying a unit's outbox harmless.
Counters are written at three grains so that long windows read few rows (`bounced.store.rollup`),
and the windows of a whole batch are one statement per few hundred subjects.

Threads. The daemon calls the store from one worker thread, so each store has one connection and
a lock that makes every call exclusive. The connection is opened by whichever thread builds the
store (usually the main thread, which also migrates) and then used by the worker thread, hence
``check_same_thread=False``; the lock, not sqlite3's thread check, is what keeps two calls from
interleaving their transactions. Several processes (or several store objects) may share a file:
SQLite's own locking serialises their writers, waiting up to `busy_timeout`.

Errors. Driver errors become `StoreError`. Their messages name the operation and SQLite's error
and never carry stored values: keys and documents hold e-mail addresses, which are personal data.
"""

from __future__ import annotations

import base64
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Literal, TypeVar

import orjson

from bounced.errors import StoreError
from bounced.store import migrate as migrations
from bounced.store import rollup
from bounced.store.ports import (
    ConflictError,
    OutboxRecord,
    Stored,
    UnitOfWork,
    WindowQuery,
)

T = TypeVar("T")

# Bound parameters per statement stay far below SQLite's limit (32766 since 3.32) and keep
# statements small enough to prepare quickly; the same chunks suit PostgreSQL.
_CHUNK = 500
_WINDOW_ROWS = 256  # window pieces per statement, six parameters each

# Primary result codes after which the same call may succeed later: another writer holds the
# lock, the file system hiccuped or filled up. Anything else (corruption, a missing table, a bug)
# will not heal by itself, and the message says so.
_RETRYABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_PROTOCOL,
}

# Each deletes one batch chosen by an indexed range. Unsent events never match (NULL < x is not
# true), so nothing still to be produced is lost.
_PRUNE_FINGERPRINTS = (
    "DELETE FROM fingerprints WHERE fingerprint IN"
    " (SELECT fingerprint FROM fingerprints WHERE seen_at < ? LIMIT ?)"
)
_PRUNE_EVENTS = "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_at < ? LIMIT ?)"
_PRUNE_COUNTERS = (
    "DELETE FROM counters WHERE (scope, subject, grain, bucket, metric) IN"
    " (SELECT scope, subject, grain, bucket, metric FROM counters WHERE bucket < ? LIMIT ?)"
)
_HORIZON = "counters_horizon"

_OUTBOX_COLUMNS = "event_id, topic, msg_key, msg_value, headers, created_at, partition_hint"


def _translate(operation: str, exc: sqlite3.Error) -> StoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", type(exc).__name__)
    retryable = code is not None and (code & 0xFF) in _RETRYABLE
    hint = "retryable" if retryable else "not retryable"
    # sqlite3's messages name tables, columns and constraints, never bound values.
    return StoreError(f"sqlite {operation} failed ({name}, {hint}): {exc}", retryable=retryable)


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with `prefix`, or None if there
    is none. SQLite compares TEXT as UTF-8 bytes, whose order is code-point order, so
    ``prefix <= key < bound`` is exactly "key starts with prefix", and it can use the index."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be encoded; skip past them
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _encode_headers(headers: tuple[tuple[str, bytes], ...]) -> str:
    # JSON rather than a blob so that an operator can read the row; values are bytes, hence base64.
    pairs = [(name, base64.b64encode(value).decode("ascii")) for name, value in headers]
    return orjson.dumps(pairs).decode()


def _decode_headers(text: str) -> tuple[tuple[str, bytes], ...]:
    return tuple((name, base64.b64decode(value)) for name, value in orjson.loads(text))


def _stored(data: str, version: int, due_at: int | None) -> Stored:
    return Stored(data=orjson.loads(data), version=version, due_at=due_at)


def _record(row: tuple[Any, ...]) -> OutboxRecord:
    event_id, topic, key, value, headers, created_at, hint = row
    return OutboxRecord(
        id=event_id,
        topic=topic,
        key=key,
        value=value,
        headers=_decode_headers(headers),
        created_at=created_at,
        partition_hint=hint,
    )


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(count: int) -> str:
    return ",".join("?" * count)


@functools.lru_cache(maxsize=64)
def _window_sql(count: int) -> str:
    # One statement for many subjects: the pieces of every window (see rollup.pieces) become a
    # constant table joined to the counters' primary key (equality on scope, subject and grain,
    # a range on bucket), summed per window and metric.
    rows = ",".join(["(?,?,?,?,?,?)"] * count)
    return (
        f"WITH q(i, scope, subject, grain, lo, hi) AS (VALUES {rows}) "  # noqa: S608 - only ?s
        "SELECT q.i, c.metric, SUM(c.value) FROM q JOIN counters c "
        "ON c.scope = q.scope AND c.subject = q.subject AND c.grain = q.grain "
        "AND c.bucket BETWEEN q.lo AND q.hi "
        "GROUP BY q.i, c.metric HAVING SUM(c.value) <> 0"
    )


class SqliteStore:
    """The `Store` port on one SQLite database file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        synchronous: Literal["NORMAL", "FULL"] = "FULL",
        cache_mib: int = 64,
        prune_batch: int = 2000,
        prune_max_batches: int = 50,
    ) -> None:
        """Open (creating if needed) the database at `path`; call `migrate` before anything else.

        `busy_timeout` is how long a call waits for another writer before failing with a
        retryable `StoreError`; `synchronous` is discussed in `_configure`. `prune` deletes at
        most `prune_max_batches` batches of `prune_batch` rows per table per call, each batch in
        its own short transaction, so one call never holds the write lock or the worker thread
        for long; the rest goes next time.
        """
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self._lock = threading.Lock()
        self._prune_batch = prune_batch
        self._prune_max_batches = prune_max_batches
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                os.fspath(path),
                timeout=busy_timeout,
                isolation_level=None,  # autocommit: we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # built on one thread, used by the worker (see above)
                cached_statements=64,
            )
        except sqlite3.Error as exc:
            raise _translate("open", exc) from exc
        try:
            self._configure(self._conn, busy_timeout, synchronous, cache_mib)
        except sqlite3.Error as exc:
            self._conn.close()
            raise _translate("open", exc) from exc
        except StoreError:
            self._conn.close()
            raise

    @staticmethod
    def _configure(
        conn: sqlite3.Connection, busy_timeout: float, synchronous: str, cache_mib: int
    ) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            # WAL is what lets readers run beside the writer and makes NORMAL sync safe.
            raise StoreError(f"sqlite open failed: the database refuses WAL mode (got {mode})")
        # FULL: the log is synced at every commit, so a commit that returned survives a power
        # cut. NORMAL would sync only at checkpoints. It would still be safe for the state: a
        # transaction is all or nothing, a crash of the process loses nothing, and a power cut
        # or OS crash loses the last commits whole, offsets included, so their inputs are read
        # again and counted once. But the outbox is produced right after the commit: with NORMAL
        # a power cut could take back a commit whose events the MTAs already act on, and the state
        # would forget, say, a throttle it announced and never send its resume. FULL costs one
        # fsync per commit and per mark_sent, a few per batch of hundreds of inputs; the benchmark
        # (--synchronous) shows no measurable difference at that batch size. NORMAL remains an
        # option for disks where fsync is slow and that risk is accepted.
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys=OFF")  # the schema has none: rows refer by value
        conn.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")  # negative: KiB
        conn.execute("PRAGMA temp_store=MEMORY")  # GROUP BY scratch space in window sums
        # After a checkpoint, cut the log back instead of keeping its largest size forever.
        conn.execute("PRAGMA journal_size_limit=67108864")

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _connection(self, operation: str) -> Iterator[sqlite3.Connection]:
        """The connection, held exclusively, with driver errors translated; rolls back any
        transaction left open by an error so the next call starts clean."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"sqlite {operation} failed: the store is closed")
            try:
                yield conn
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise _translate(operation, exc) from exc
            except BaseException:
                self._rollback(conn)
                raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            # The original error is the one worth reporting.
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def _read(self, operation: str, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run `body` in one read transaction: a consistent snapshot across its statements."""
        with self._connection(operation) as conn:
            conn.execute("BEGIN")
            result = body(conn)
            conn.execute("COMMIT")
            return result

    def _write(self, operation: str, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run `body` in one write transaction, taking the write lock at BEGIN."""
        with self._connection(operation) as conn:
            conn.execute("BEGIN IMMEDIATE")
            result = body(conn)
            conn.execute("COMMIT")
            return result

    # -- lifecycle --------------------------------------------------------------------------

    def migrate(self) -> None:
        """Create or upgrade the schema; refuses a database migrated by a newer bounced."""
        known = migrations.load("sqlite")
        with self._connection("migrate") as conn:
            migrations.run(SqliteMigrationTarget(conn), known)

    def close(self) -> None:
        """Close the connection; later calls raise `StoreError`. Closing twice is harmless."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise _translate("close", exc) from exc

    # -- reads ------------------------------------------------------------------------------

    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The next offset to read for every (topic, partition) the group has stored."""
        with self._connection("offsets") as conn:
            rows = conn.execute(
                "SELECT topic, partition_id, next_offset FROM consumer_offsets WHERE group_id = ?",
                (group,),
            ).fetchall()
        return {(topic, partition): offset for topic, partition, offset in rows}

    def seen(self, fingerprints: Collection[str]) -> set[str]:
        """The subset of fingerprints already stored."""
        wanted = list(set(fingerprints))

        def body(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for chunk in _chunks(wanted, _CHUNK):
                sql = (
                    "SELECT fingerprint FROM fingerprints "  # noqa: S608 - placeholders only
                    f"WHERE fingerprint IN ({_marks(len(chunk))})"
                )
                found.update(row[0] for row in conn.execute(sql, chunk))
            return found

        return self._read("seen", body) if wanted else set()

    def load(self, kind: str, keys: Collection[str]) -> dict[str, Stored]:
        """The stored documents of one kind for these keys (absent keys are left out)."""
        wanted = list(set(keys))

        def body(conn: sqlite3.Connection) -> dict[str, Stored]:
            found: dict[str, Stored] = {}
            for chunk in _chunks(wanted, _CHUNK):
                sql = (
                    "SELECT entity_key, data, version, due_at FROM entities "  # noqa: S608
                    f"WHERE kind = ? AND entity_key IN ({_marks(len(chunk))})"
                )
                for key, data, version, due_at in conn.execute(sql, (kind, *chunk)):
                    found[key] = _stored(data, version, due_at)
            return found

        return self._read("load", body) if wanted else {}

    def scan(self, kind: str, prefix: str = "", limit: int = 1000) -> dict[str, Stored]:
        """Documents of one kind whose key starts with `prefix`, in key order, at most `limit`.

        A range on the primary key rather than LIKE: no escaping of ``%`` and ``_`` in keys,
        no case folding, and the index is used whatever the prefix holds."""
        upper = prefix_upper_bound(prefix)
        sql = (
            "SELECT entity_key, data, version, due_at FROM entities"
            " WHERE kind = ? AND entity_key >= ?"
        )
        params: list[Any] = [kind, prefix]
        if upper is not None:
            sql += " AND entity_key < ?"
            params.append(upper)
        sql += " ORDER BY entity_key LIMIT ?"
        params.append(limit)
        with self._connection("scan") as conn:
            rows = conn.execute(sql, params).fetchall()
        return {key: _stored(data, version, due_at) for key, data, version, due_at in rows}

    def due(self, now: int, limit: int) -> list[tuple[str, str, Stored]]:
        """Documents whose `due_at` is at or before `now`, oldest first (ties by kind and key)."""
        with self._connection("due") as conn:
            rows = conn.execute(
                "SELECT kind, entity_key, data, version, due_at FROM entities "
                "WHERE due_at <= ? ORDER BY due_at, kind, entity_key LIMIT ?",
                (now, limit),
            ).fetchall()
        return [(kind, key, _stored(data, version, at)) for kind, key, data, version, at in rows]

    def window(self, queries: Collection[WindowQuery]) -> dict[WindowQuery, dict[str, int]]:
        """For each query, the non-zero sum of every metric over its buckets (buckets below the
        prune horizon count as empty)."""
        distinct = list(dict.fromkeys(queries))
        sums: list[dict[str, int]] = [{} for _ in distinct]

        def body(conn: sqlite3.Connection) -> None:
            horizon = self._horizon(conn)  # read in the same snapshot as the counters
            rows: list[tuple[int, str, str, int, int, int]] = []
            for i, q in enumerate(distinct):
                first = q.first_bucket if horizon is None else max(q.first_bucket, horizon)
                rows += (
                    (i, q.scope, q.key, g, lo, hi)
                    for g, lo, hi in rollup.pieces(first, q.last_bucket)
                )
            for chunk in _chunks(rows, _WINDOW_ROWS):
                # Padded to a power of two with rows that match nothing, so that a handful of
                # statement texts cover every call and stay prepared in the statement cache.
                size = max(8, 1 << (len(chunk) - 1).bit_length())
                params = [v for row in chunk for v in row]
                params += (-1, "", "", 0, 0, -1) * (size - len(chunk))
                for i, metric, total in conn.execute(_window_sql(size), params):
                    sums[i][metric] = total

        if distinct:
            self._read("window", body)
        return dict(zip(distinct, sums, strict=True))

    @staticmethod
    def _horizon(conn: sqlite3.Connection) -> int | None:
        row = conn.execute("SELECT value FROM store_meta WHERE name = ?", (_HORIZON,)).fetchone()
        return None if row is None else int(row[0])

    def pending(self, limit: int) -> list[OutboxRecord]:
        """Output events not yet marked sent, in the order they were stored."""
        with self._connection("pending") as conn:
            rows = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox "  # noqa: S608 - constant column list
                "WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [_record(row) for row in rows]

    def event(self, event_id: str) -> OutboxRecord | None:
        """One stored output event by id, sent or not."""
        with self._connection("event") as conn:
            row = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE event_id = ?",  # noqa: S608
                (event_id,),
            ).fetchone()
        return None if row is None else _record(row)

    # -- writes -----------------------------------------------------------------------------

    def commit(self, unit: UnitOfWork) -> None:
        """Store a unit in one transaction; `ConflictError` (and nothing stored) if any offset
        or document compare-and-set fails."""
        # Encode before taking the write lock: the transaction only runs SQL.
        entities = [
            (w.kind, w.key, orjson.dumps(w.data).decode(), w.expected_version, w.due_at)
            for w in unit.entities
        ]
        counters = rollup.expand(unit.counters)
        outbox = [
            (
                r.id,
                r.topic,
                None if r.key is None else bytes(r.key),
                bytes(r.value),
                _encode_headers(r.headers),
                r.created_at,
                r.partition_hint,
            )
            for r in unit.outbox
        ]

        def body(conn: sqlite3.Connection) -> None:
            # Offsets first: a fenced consumer fails before doing any other work.
            for o in unit.offsets:
                if o.previous is None:
                    cur = conn.execute(
                        "INSERT INTO consumer_offsets (group_id, topic, partition_id, next_offset)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic, partition_id)"
                        " DO NOTHING",
                        (unit.group, o.topic, o.partition, o.next),
                    )
                else:
                    cur = conn.execute(
                        "UPDATE consumer_offsets SET next_offset = ? WHERE group_id = ?"
                        " AND topic = ? AND partition_id = ? AND next_offset = ?",
                        (o.next, unit.group, o.topic, o.partition, o.previous),
                    )
                if cur.rowcount != 1:
                    raise ConflictError(
                        f"offset of {o.topic}[{o.partition}] for group {unit.group} "
                        f"is no longer {o.previous}"
                    )
            for kind, key, data, expected, due_at in entities:
                if expected == 0:
                    cur = conn.execute(
                        "INSERT INTO entities (kind, entity_key, data, version, due_at)"
                        " VALUES (?, ?, ?, 1, ?) ON CONFLICT (kind, entity_key) DO NOTHING",
                        (kind, key, data, due_at),
                    )
                else:
                    cur = conn.execute(
                        "UPDATE entities SET data = ?, version = version + 1, due_at = ?"
                        " WHERE kind = ? AND entity_key = ? AND version = ?",
                        (data, due_at, kind, key, expected),
                    )
                if cur.rowcount != 1:
                    # The key is left out on purpose: it may be an e-mail address.
                    raise ConflictError(f"a {kind} document is no longer at version {expected}")
            conn.executemany(
                "INSERT INTO counters (scope, subject, grain, bucket, metric, value)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, subject, grain, bucket, metric)"
                " DO UPDATE SET value = counters.value + excluded.value",
                counters,
            )
            conn.executemany(
                "INSERT INTO fingerprints (fingerprint, seen_at) VALUES (?, ?)"
                " ON CONFLICT (fingerprint) DO NOTHING",
                unit.fingerprints,
            )
            conn.executemany(
                f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
                " ON CONFLICT (event_id) DO NOTHING",
                outbox,
            )

        self._write("commit", body)

    def mark_sent(self, ids: Sequence[str], sent_at: int) -> None:
        """Record that these events were produced; the first acknowledgement's time is kept."""
        if not ids:
            return
        self._write(
            "mark_sent",
            lambda conn: conn.executemany(
                "UPDATE outbox SET sent_at = ? WHERE event_id = ? AND sent_at IS NULL",
                [(sent_at, event_id) for event_id in ids],
            ),
        )

    def prune(
        self, *, fingerprints_before: int, events_before: int, counters_before_bucket: int
    ) -> None:
        """Delete old fingerprints, sent events and counter buckets in bounded batches."""
        # The horizon moves first, in its own transaction: from then on windows stop short of
        # the rows about to go, so no window ever sees a half-pruned roll-up.
        self._write(
            "prune",
            lambda conn: conn.execute(
                "INSERT INTO store_meta (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = excluded.value WHERE excluded.value > store_meta.value",
                (_HORIZON, counters_before_bucket),
            ),
        )
        statements = (
            (_PRUNE_FINGERPRINTS, fingerprints_before),
            (_PRUNE_EVENTS, events_before),
            (_PRUNE_COUNTERS, counters_before_bucket),
        )
        for sql, bound in statements:
            for _ in range(self._prune_max_batches):
                # One short transaction per batch: other writers get the lock in between.
                with self._connection("prune") as conn:
                    conn.execute("BEGIN IMMEDIATE")
                    deleted = conn.execute(sql, (bound, self._prune_batch)).rowcount
                    conn.execute("COMMIT")
                if deleted < self._prune_batch:
                    break


class SqliteMigrationTarget:
    """The migration runner's view of a SQLite connection in autocommit mode."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def applied_versions(self) -> list[int]:
        """The versions recorded in ``schema_migrations``, creating the table if missing."""
        self._conn.execute(migrations.SCHEMA_MIGRATIONS_DDL)
        return [row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")]

    def apply(self, migration: migrations.Migration) -> bool:
        """Run one migration and record it in one transaction; False if already recorded."""
        conn = self._conn
        # IMMEDIATE: a second process starting at the same time waits here, then finds the
        # version recorded and skips it.
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ).fetchone()
            if done is not None:
                conn.execute("ROLLBACK")
                return False
            # Statement by statement: executescript would commit our transaction first.
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, int(time.time())),
            )
            conn.execute("COMMIT")
        except BaseException:
            SqliteStore._rollback(conn)  # DDL is transactional in SQLite: no half schema
            raise
        return True


def _statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (sqlite3 knows where triggers end)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        raise StoreError("sqlite migrate failed: a migration ends with an incomplete statement")
