"""The store contract: what every `Store` must do, run against each implementation.

A test module subclasses `StoreContract` and provides a ``store`` fixture (a migrated, empty
store); pytest then runs every test below against it. `MemoryStore` runs it in the unit tests,
`SqliteStore` on a real file in the integration tests, and PostgreSQL will run it next.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from bounced.errors import StoreError
from bounced.store.ports import (
    ConflictError,
    CounterDelta,
    EntityWrite,
    OffsetAdvance,
    OutboxRecord,
    Store,
    Stored,
    UnitOfWork,
    WindowQuery,
)

GROUP = "bounced"
ADDRESS = "jane.doe@example.com"


def unit(**parts: Any) -> UnitOfWork:
    """A unit of work for the test group."""
    return UnitOfWork(group=GROUP, **parts)


def create(kind: str, key: str, data: dict[str, object], due_at: int | None = None) -> EntityWrite:
    """A write of a document that must not exist yet."""
    return EntityWrite(kind=kind, key=key, data=data, expected_version=0, due_at=due_at)


def advance(
    partition: int, previous: int | None, nxt: int, topic: str = "bounces.raw"
) -> OffsetAdvance:
    """An offset move on one partition."""
    return OffsetAdvance(topic=topic, partition=partition, previous=previous, next=nxt)


def delta(key: str, bucket: int, metric: str, value: int, scope: str = "ip") -> CounterDelta:
    """A counter increment."""
    return CounterDelta(scope=scope, key=key, bucket=bucket, metric=metric, delta=value)


def record(event_id: str, value: bytes = b"{}", **extra: Any) -> OutboxRecord:
    """An output event."""
    return OutboxRecord(id=event_id, topic="suppressions", key=b"k", value=value, **extra)


def query(key: str, first: int, last: int, scope: str = "ip") -> WindowQuery:
    """A window over buckets first..last of one subject."""
    return WindowQuery(scope=scope, key=key, first_bucket=first, last_bucket=last)


def everything(**overrides: Any) -> UnitOfWork:
    """A unit touching every table, for atomicity tests."""
    parts: dict[str, Any] = {
        "offsets": [advance(0, None, 10)],
        "fingerprints": [("fp-1", 100)],
        "counters": [delta("192.0.2.1", 1, "sent", 5)],
        "entities": [create("suppression", ADDRESS, {"reason": "userunknown"})],
        "outbox": [record("ev-1")],
    }
    parts.update(overrides)
    return unit(**parts)


def assert_untouched(store: Store) -> None:
    """Nothing of `everything()` was stored."""
    assert store.offsets(GROUP) == {}
    assert store.seen(["fp-1"]) == set()
    assert store.window([query("192.0.2.1", 0, 10)]) == {query("192.0.2.1", 0, 10): {}}
    assert store.load("suppression", [ADDRESS]) == {}
    assert store.pending(10) == []
    assert store.event("ev-1") is None


class StoreContract:
    """Tests every store must pass; subclasses provide the ``store`` fixture."""

    # -- documents and compare-and-set --------------------------------------------------------

    def test_new_store_is_empty(self, store: Store) -> None:
        """A freshly migrated store holds no offsets, fingerprints, documents or events."""
        assert_untouched(store)
        assert store.due(10**12, 10) == []
        assert store.scan("suppression") == {}

    def test_create_then_update_bumps_version(self, store: Store) -> None:
        """Creating stores version 1 and each update quoting the stored version adds one."""
        store.commit(unit(entities=[create("throttle", "192.0.2.1|gmail", {"step": 1})]))
        assert store.load("throttle", ["192.0.2.1|gmail"]) == {
            "192.0.2.1|gmail": Stored(data={"step": 1}, version=1)
        }
        write = EntityWrite(
            kind="throttle", key="192.0.2.1|gmail", data={"step": 2}, expected_version=1, due_at=500
        )
        store.commit(unit(entities=[write]))
        assert store.load("throttle", ["192.0.2.1|gmail", "absent"]) == {
            "192.0.2.1|gmail": Stored(data={"step": 2}, version=2, due_at=500)
        }

    def test_create_conflicts_when_document_exists(self, store: Store) -> None:
        """Expected version 0 means "must not exist", so a second create fails."""
        store.commit(unit(entities=[create("suppression", ADDRESS, {"n": 1})]))
        with pytest.raises(ConflictError):
            store.commit(unit(entities=[create("suppression", ADDRESS, {"n": 2})]))
        assert store.load("suppression", [ADDRESS])[ADDRESS] == Stored(data={"n": 1}, version=1)

    def test_update_conflicts_on_stale_version(self, store: Store) -> None:
        """A write quoting a version that is no longer stored fails and changes nothing."""
        store.commit(unit(entities=[create("pool", "client-1", {"pool": "dedicated"})]))
        store.commit(
            unit(
                entities=[
                    EntityWrite(
                        kind="pool", key="client-1", data={"pool": "grid"}, expected_version=1
                    )
                ]
            )
        )
        stale = EntityWrite(
            kind="pool", key="client-1", data={"pool": "dedicated"}, expected_version=1
        )
        with pytest.raises(ConflictError):
            store.commit(unit(entities=[stale]))
        assert store.load("pool", ["client-1"])["client-1"] == Stored(
            data={"pool": "grid"}, version=2
        )

    def test_update_of_missing_document_conflicts(self, store: Store) -> None:
        """A write quoting a version of a document that does not exist fails."""
        with pytest.raises(ConflictError):
            store.commit(
                unit(entities=[EntityWrite(kind="pool", key="nobody", data={}, expected_version=3)])
            )
        assert store.load("pool", ["nobody"]) == {}

    def test_writes_to_one_document_in_a_unit_apply_in_order(self, store: Store) -> None:
        """Within one unit a create then an update quoting version 1 both apply."""
        second = EntityWrite(kind="pool", key="client-1", data={"step": 2}, expected_version=1)
        store.commit(unit(entities=[create("pool", "client-1", {"step": 1}), second]))
        assert store.load("pool", ["client-1"])["client-1"] == Stored(data={"step": 2}, version=2)

    def test_same_version_quoted_twice_in_a_unit_conflicts(self, store: Store) -> None:
        """Two writes in one unit quoting the same version cannot both win."""
        store.commit(unit(entities=[create("pool", "client-1", {"step": 1})]))
        first = EntityWrite(kind="pool", key="client-1", data={"step": 2}, expected_version=1)
        again = EntityWrite(kind="pool", key="client-1", data={"step": 3}, expected_version=1)
        with pytest.raises(ConflictError):
            store.commit(unit(entities=[first, again]))
        assert store.load("pool", ["client-1"])["client-1"].version == 1

    def test_failed_document_cas_stores_nothing_of_the_unit(self, store: Store) -> None:
        """A failing document write leaves offsets, counters, fingerprints and outbox untouched."""
        bad = EntityWrite(kind="pool", key="client-1", data={}, expected_version=7)
        with pytest.raises(ConflictError):
            store.commit(everything(entities=[create("suppression", ADDRESS, {"r": 1}), bad]))
        assert_untouched(store)
        assert store.load("pool", ["client-1"]) == {}

    def test_failed_offset_cas_stores_nothing_of_the_unit(self, store: Store) -> None:
        """A failing offset move leaves documents, counters, fingerprints and outbox untouched."""
        with pytest.raises(ConflictError):
            store.commit(everything(offsets=[advance(0, None, 10), advance(1, 42, 50)]))
        assert_untouched(store)

    def test_loaded_document_is_a_copy(self, store: Store) -> None:
        """Mutating a loaded document does not change what is stored."""
        store.commit(unit(entities=[create("pool", "client-1", {"ips": ["192.0.2.1"]})]))
        loaded = store.load("pool", ["client-1"])["client-1"]
        loaded.data["ips"].append("192.0.2.99")
        assert store.load("pool", ["client-1"])["client-1"].data == {"ips": ["192.0.2.1"]}

    def test_conflict_message_leaves_out_the_key(self, store: Store) -> None:
        """Conflict messages never carry a document key, which may be an e-mail address."""
        store.commit(unit(entities=[create("suppression", ADDRESS, {})]))
        with pytest.raises(ConflictError) as caught:
            store.commit(unit(entities=[create("suppression", ADDRESS, {})]))
        assert ADDRESS not in str(caught.value)
        assert "suppression" in str(caught.value)

    def test_load_many_keys(self, store: Store) -> None:
        """Loading more keys than one statement binds still finds every stored document."""
        keys = [f"user{i}@example.com" for i in range(1200)]
        store.commit(
            unit(
                entities=[
                    create("suppression", k, {"i": i}) for i, k in enumerate(keys) if i % 3 == 0
                ]
            )
        )
        found = store.load("suppression", [*keys, *keys[:10]])
        assert sorted(found) == sorted(keys[::3])
        assert found[keys[999]].data == {"i": 999}

    # -- offsets ------------------------------------------------------------------------------

    def test_offsets_advance_by_compare_and_set(self, store: Store) -> None:
        """Each move quotes the stored next offset and replaces it."""
        store.commit(unit(offsets=[advance(0, None, 10), advance(1, None, 3)]))
        store.commit(unit(offsets=[advance(0, 10, 25)]))
        assert store.offsets(GROUP) == {("bounces.raw", 0): 25, ("bounces.raw", 1): 3}

    def test_first_offset_requires_no_stored_offset(self, store: Store) -> None:
        """Quoting None when an offset is stored fails: another consumer got there first."""
        store.commit(unit(offsets=[advance(0, None, 10)]))
        with pytest.raises(ConflictError):
            store.commit(unit(offsets=[advance(0, None, 12)]))
        assert store.offsets(GROUP) == {("bounces.raw", 0): 10}

    def test_fenced_consumer_cannot_move_offsets(self, store: Store) -> None:
        """A consumer that lost its partition quotes an old offset and stores nothing."""
        store.commit(unit(offsets=[advance(0, None, 100)]))
        store.commit(unit(offsets=[advance(0, 100, 180)]))  # the new owner
        with pytest.raises(ConflictError):
            store.commit(everything(offsets=[advance(0, 100, 150)]))  # the old one, late
        assert store.offsets(GROUP) == {("bounces.raw", 0): 180}
        assert store.seen(["fp-1"]) == set()
        assert store.pending(10) == []

    def test_offsets_are_per_group_and_topic(self, store: Store) -> None:
        """Groups and topics keep their own offsets."""
        store.commit(unit(offsets=[advance(0, None, 5), advance(0, None, 7, topic="delivery.log")]))
        store.commit(UnitOfWork(group="other", offsets=[advance(0, None, 99)]))
        assert store.offsets(GROUP) == {("bounces.raw", 0): 5, ("delivery.log", 0): 7}
        assert store.offsets("other") == {("bounces.raw", 0): 99}
        assert store.offsets("nobody") == {}

    # -- counters -----------------------------------------------------------------------------

    def test_counters_accumulate_across_units(self, store: Store) -> None:
        """Deltas to one bucket add up, within a unit and across units."""
        store.commit(
            unit(counters=[delta("192.0.2.1", 5, "sent", 10), delta("192.0.2.1", 5, "sent", 2)])
        )
        store.commit(
            unit(counters=[delta("192.0.2.1", 5, "sent", 3), delta("192.0.2.1", 5, "hard", 1)])
        )
        assert store.window([query("192.0.2.1", 5, 5)]) == {
            query("192.0.2.1", 5, 5): {"sent": 15, "hard": 1}
        }

    def test_window_sums_an_inclusive_bucket_range(self, store: Store) -> None:
        """A window includes its first and last buckets and nothing outside them."""
        store.commit(unit(counters=[delta("192.0.2.1", b, "sent", b) for b in range(1, 11)]))
        assert store.window([query("192.0.2.1", 3, 5)]) == {query("192.0.2.1", 3, 5): {"sent": 12}}
        assert store.window([query("192.0.2.1", 11, 20)]) == {query("192.0.2.1", 11, 20): {}}

    def test_window_keeps_subjects_and_scopes_apart(self, store: Store) -> None:
        """Several windows in one call each sum only their own scope and subject."""
        store.commit(
            unit(
                counters=[
                    delta("192.0.2.1", 1, "sent", 1),
                    delta("192.0.2.2", 1, "sent", 20),
                    delta("192.0.2.1", 1, "sent", 300, scope="ip_provider"),
                    delta("client-1", 1, "complaint", 4, scope="client"),
                ]
            )
        )
        queries = [
            query("192.0.2.1", 0, 9),
            query("192.0.2.2", 0, 9),
            query("192.0.2.1", 0, 9, scope="ip_provider"),
            query("client-1", 0, 9, scope="client"),
            query("client-2", 0, 9, scope="client"),
        ]
        assert store.window(queries) == dict(
            zip(
                queries,
                [{"sent": 1}, {"sent": 20}, {"sent": 300}, {"complaint": 4}, {}],
                strict=True,
            )
        )

    def test_window_omits_metrics_that_sum_to_zero(self, store: Store) -> None:
        """A metric whose deltas cancel out is left out of the window."""
        store.commit(
            unit(counters=[delta("192.0.2.1", 1, "deferred", 2), delta("192.0.2.1", 1, "sent", 1)])
        )
        store.commit(unit(counters=[delta("192.0.2.1", 2, "deferred", -2)]))
        assert store.window([query("192.0.2.1", 0, 9)]) == {query("192.0.2.1", 0, 9): {"sent": 1}}

    def test_window_many_subjects_in_one_call(self, store: Store) -> None:
        """A call with hundreds of windows answers every one of them."""
        ips = [f"198.51.100.{i}" for i in range(250)]
        store.commit(unit(counters=[delta(ip, 7, "sent", i + 1) for i, ip in enumerate(ips)]))
        result = store.window([query(ip, 0, 9) for ip in ips])
        assert len(result) == 250
        assert all(result[query(ip, 0, 9)] == {"sent": i + 1} for i, ip in enumerate(ips))

    def test_long_windows_match_a_plain_sum(self, store: Store) -> None:
        """Windows of any length and alignment sum exactly the buckets they cover."""
        rng = random.Random(5)
        written: dict[int, int] = {}
        deltas = []
        for _ in range(600):
            bucket = rng.randrange(-300, 3000)
            value = rng.randrange(1, 9)
            written[bucket] = written.get(bucket, 0) + value
            deltas.append(delta("192.0.2.1", bucket, "sent", value))
        store.commit(unit(counters=deltas))
        spans = [(0, 2015), (-300, 3000), (5, 5), (11, 12), (287, 576), (13, 2999), (-13, 300)]
        for _ in range(40):
            lo, hi = sorted((rng.randrange(-300, 3000), rng.randrange(-300, 3000)))
            spans.append((lo, hi))
        queries = [query("192.0.2.1", lo, hi) for lo, hi in spans]
        expected = {
            q: sum(v for b, v in written.items() if q.first_bucket <= b <= q.last_bucket)
            for q in queries
        }
        assert store.window(queries) == {
            q: {"sent": total} if total else {} for q, total in expected.items()
        }

    # -- fingerprints -------------------------------------------------------------------------

    def test_seen_returns_the_stored_subset(self, store: Store) -> None:
        """Only fingerprints stored by earlier units are reported as seen."""
        store.commit(unit(fingerprints=[("fp-1", 100), ("fp-2", 100)]))
        assert store.seen(["fp-1", "fp-3", "fp-2"]) == {"fp-1", "fp-2"}
        assert store.seen([]) == set()

    def test_duplicate_fingerprints_are_ignored(self, store: Store) -> None:
        """Storing a fingerprint again, in one unit or later, neither fails nor duplicates it."""
        store.commit(unit(fingerprints=[("fp-1", 100), ("fp-1", 100)]))
        store.commit(unit(fingerprints=[("fp-1", 500), ("fp-2", 500)]))
        assert store.seen(["fp-1", "fp-2"]) == {"fp-1", "fp-2"}

    def test_fingerprint_keeps_its_first_sighting(self, store: Store) -> None:
        """A fingerprint seen again keeps its first time, so pruning by age removes it."""
        store.commit(unit(fingerprints=[("fp-1", 100)]))
        store.commit(unit(fingerprints=[("fp-1", 900)]))
        store.prune(fingerprints_before=200, events_before=0, counters_before_bucket=0)
        assert store.seen(["fp-1"]) == set()

    def test_seen_many_fingerprints(self, store: Store) -> None:
        """Asking about more fingerprints than one statement binds still answers for all."""
        stored = [f"fp-{i}" for i in range(0, 1500, 2)]
        store.commit(unit(fingerprints=[(f, 1) for f in stored]))
        assert store.seen([f"fp-{i}" for i in range(1500)]) == set(stored)

    # -- outbox -------------------------------------------------------------------------------

    def test_pending_follows_storage_order(self, store: Store) -> None:
        """Unsent events come back in the order they were stored, across units, up to a limit."""
        store.commit(unit(outbox=[record("ev-z"), record("ev-a")]))
        store.commit(unit(outbox=[record("ev-m")]))
        assert [r.id for r in store.pending(10)] == ["ev-z", "ev-a", "ev-m"]
        assert [r.id for r in store.pending(2)] == ["ev-z", "ev-a"]

    def test_replayed_event_is_ignored(self, store: Store) -> None:
        """An event id stored again keeps its first content and its place in the queue."""
        store.commit(unit(outbox=[record("ev-1", b"first"), record("ev-2")]))
        store.commit(unit(outbox=[record("ev-1", b"second"), record("ev-3")]))
        assert [(r.id, r.value) for r in store.pending(10)] == [
            ("ev-1", b"first"),
            ("ev-2", b"{}"),
            ("ev-3", b"{}"),
        ]

    def test_replay_of_a_sent_event_stays_sent(self, store: Store) -> None:
        """Storing an already produced event again does not queue it a second time."""
        store.commit(unit(outbox=[record("ev-1")]))
        store.mark_sent(["ev-1"], 50)
        store.commit(unit(outbox=[record("ev-1")]))
        assert store.pending(10) == []

    def test_mark_sent_leaves_pending_but_keeps_the_event(self, store: Store) -> None:
        """Sent events leave the queue, stay readable by id, and unknown ids are ignored."""
        store.commit(unit(outbox=[record("ev-1"), record("ev-2"), record("ev-3")]))
        store.mark_sent(["ev-2", "ev-404"], 50)
        store.mark_sent([], 51)
        assert [r.id for r in store.pending(10)] == ["ev-1", "ev-3"]
        assert store.event("ev-2") == record("ev-2")

    def test_first_acknowledgement_time_is_kept(self, store: Store) -> None:
        """Marking an event sent again does not move its sent time, which pruning goes by."""
        store.commit(unit(outbox=[record("ev-1")]))
        store.mark_sent(["ev-1"], 100)
        store.mark_sent(["ev-1"], 300)
        store.prune(fingerprints_before=0, events_before=200, counters_before_bucket=0)
        assert store.event("ev-1") is None

    def test_event_round_trips_every_field(self, store: Store) -> None:
        """An event comes back with its key, value, headers, time and partition hint intact."""
        full = OutboxRecord(
            id="ev-full",
            topic="dlq",
            key=None,
            value=b"\x00\xffraw bytes",
            headers=(
                ("error", b"not-a-message"),
                ("source", b"bounces.raw/3/1234"),
                ("error", b""),
            ),
            created_at=1_700_000_000_123,
            partition_hint="bounces.raw/3",
        )
        empty_key = OutboxRecord(id="ev-empty", topic="t", key=b"", value=b"")
        store.commit(unit(outbox=[full, empty_key]))
        assert store.event("ev-full") == full
        assert store.event("ev-empty") == empty_key
        assert store.pending(10) == [full, empty_key]
        assert store.event("ev-absent") is None

    # -- due documents ------------------------------------------------------------------------

    def test_due_returns_passed_documents_oldest_first(self, store: Store) -> None:
        """Documents due at or before now come oldest first, up to the limit."""
        store.commit(
            unit(
                entities=[
                    create("throttle", "b", {}, due_at=300),
                    create("throttle", "a", {}, due_at=100),
                    create("pool", "c", {}, due_at=200),
                    create("pool", "later", {}, due_at=301),
                    create("pool", "never", {}),
                ]
            )
        )
        assert [(k, key) for k, key, _ in store.due(300, 10)] == [
            ("throttle", "a"),
            ("pool", "c"),
            ("throttle", "b"),
        ]
        assert [key for _, key, _ in store.due(300, 2)] == ["a", "c"]
        kind, key, doc = store.due(100, 10)[0]
        assert (kind, key, doc) == ("throttle", "a", Stored(data={}, version=1, due_at=100))

    def test_clearing_due_at_takes_a_document_off_the_timer(self, store: Store) -> None:
        """A document rewritten without `due_at` is no longer due."""
        store.commit(unit(entities=[create("throttle", "a", {}, due_at=100)]))
        store.commit(
            unit(entities=[EntityWrite(kind="throttle", key="a", data={}, expected_version=1)])
        )
        assert store.due(10**9, 10) == []

    # -- scan ---------------------------------------------------------------------------------

    def test_scan_matches_the_prefix_only(self, store: Store) -> None:
        """Scan returns the kind's keys that start with the prefix, in key order."""
        keys = [
            "client-1|a@example.com",
            "client-1|b@example.com",
            "client-10|c@example.com",
            "client-2|d@example.com",
            "client-1",
        ]
        store.commit(unit(entities=[create("suppression", k, {"k": k}) for k in keys]))
        store.commit(unit(entities=[create("pool", "client-1|x", {})]))
        assert list(store.scan("suppression", "client-1|")) == [
            "client-1|a@example.com",
            "client-1|b@example.com",
        ]
        # Code-point order: "0" sorts before "|".
        assert list(store.scan("suppression", "client-1")) == [
            "client-1",
            "client-10|c@example.com",
            "client-1|a@example.com",
            "client-1|b@example.com",
        ]
        assert store.scan("suppression", "client-1|b")["client-1|b@example.com"].data == {
            "k": "client-1|b@example.com"
        }
        assert list(store.scan("suppression", "client-1", limit=2)) == [
            "client-1",
            "client-10|c@example.com",
        ]
        assert len(store.scan("suppression")) == 5
        assert store.scan("suppression", "client-3") == {}

    def test_scan_takes_the_prefix_literally(self, store: Store) -> None:
        """Characters that are wildcards in LIKE patterns match only themselves."""
        keys = ["50%_off", "50xyoff", "a_b", "axb", "A_B"]
        store.commit(unit(entities=[create("tag", k, {}) for k in keys]))
        assert list(store.scan("tag", "50%")) == ["50%_off"]
        assert list(store.scan("tag", "a_")) == ["a_b"]

    def test_scan_at_code_point_boundaries(self, store: Store) -> None:
        """Prefixes ending in the last code point, or just below the surrogates, still match."""
        keys = ["a\U0010fffe", "a\U0010ffff", "a\U0010ffffz", "b", "\ud7ffx", "\ue000"]
        store.commit(unit(entities=[create("tag", k, {}) for k in keys]))
        assert list(store.scan("tag", "a\U0010ffff")) == ["a\U0010ffff", "a\U0010ffffz"]
        assert list(store.scan("tag", "a\U0010fffe")) == ["a\U0010fffe"]
        assert list(store.scan("tag", "\ud7ff")) == ["\ud7ffx"]
        assert list(store.scan("tag", "\U0010ffff")) == []

    # -- prune --------------------------------------------------------------------------------

    def test_prune_drops_only_old_rows(self, store: Store) -> None:
        """Pruning removes old fingerprints, sent events and buckets, and keeps the rest."""
        store.commit(
            unit(
                fingerprints=[("old", 100), ("new", 200)],
                counters=[delta("192.0.2.1", 9, "sent", 1), delta("192.0.2.1", 10, "sent", 2)],
                outbox=[record("sent-early"), record("sent-late"), record("unsent")],
            )
        )
        store.mark_sent(["sent-early"], 100)
        store.mark_sent(["sent-late"], 200)
        store.prune(fingerprints_before=200, events_before=200, counters_before_bucket=10)
        assert store.seen(["old", "new"]) == {"new"}
        assert store.event("sent-early") is None
        assert store.event("sent-late") is not None
        assert store.window([query("192.0.2.1", 0, 99)]) == {query("192.0.2.1", 0, 99): {"sent": 2}}
        assert [r.id for r in store.pending(10)] == ["unsent"]

    def test_windows_after_prune_sum_what_is_left(self, store: Store) -> None:
        """After pruning below a bucket, windows count only the buckets from there on."""
        store.commit(unit(counters=[delta("192.0.2.1", b, "sent", 1) for b in range(700)]))
        store.prune(fingerprints_before=0, events_before=0, counters_before_bucket=301)
        spans = {(0, 699): 399, (301, 699): 399, (290, 320): 20, (302, 600): 299, (0, 300): 0}
        result = store.window([query("192.0.2.1", lo, hi) for lo, hi in spans])
        assert {
            (q.first_bucket, q.last_bucket): r.get("sent", 0) for q, r in result.items()
        } == spans

    def test_late_counts_below_the_horizon_are_not_counted(self, store: Store) -> None:
        """A delta for a bucket already pruned away stays out of every window."""
        store.prune(fingerprints_before=0, events_before=0, counters_before_bucket=100)
        store.commit(
            unit(counters=[delta("192.0.2.1", 99, "sent", 1), delta("192.0.2.1", 100, "sent", 2)])
        )
        assert store.window([query("192.0.2.1", 0, 200)]) == {
            query("192.0.2.1", 0, 200): {"sent": 2}
        }

    def test_horizon_never_moves_back(self, store: Store) -> None:
        """Pruning with an older bound after a newer one does not bring old buckets back."""
        store.commit(unit(counters=[delta("192.0.2.1", b, "sent", 1) for b in range(400)]))
        store.prune(fingerprints_before=0, events_before=0, counters_before_bucket=300)
        store.prune(fingerprints_before=0, events_before=0, counters_before_bucket=10)
        store.commit(unit(counters=[delta("192.0.2.1", 50, "sent", 5)]))
        assert store.window([query("192.0.2.1", 0, 399)]) == {
            query("192.0.2.1", 0, 399): {"sent": 100}
        }

    def test_prune_never_drops_unsent_events(self, store: Store) -> None:
        """An event not yet produced survives pruning whatever its age."""
        store.commit(unit(outbox=[record("ev-1", created_at=1)]))
        store.prune(fingerprints_before=10**12, events_before=10**12, counters_before_bucket=10**12)
        assert [r.id for r in store.pending(10)] == ["ev-1"]

    # -- lifecycle ----------------------------------------------------------------------------

    def test_migrate_is_idempotent(self, store: Store) -> None:
        """Migrating an up-to-date store again changes nothing and keeps the data."""
        store.commit(everything())
        store.migrate()
        assert store.offsets(GROUP) == {("bounces.raw", 0): 10}
        assert store.load("suppression", [ADDRESS])[ADDRESS].version == 1

    def test_closed_store_raises_store_error(self, store: Store) -> None:
        """Every call on a closed store raises StoreError, and closing again is harmless."""
        store.close()
        store.close()
        with pytest.raises(StoreError):
            store.offsets(GROUP)
        with pytest.raises(StoreError):
            store.commit(everything())
