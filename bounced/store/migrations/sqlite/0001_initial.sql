-- The first schema: offsets, input fingerprints, counters, state documents, the outbox.
--
-- Written to run unchanged on PostgreSQL but for two types, marked "PostgreSQL:" below:
-- BLOB is bytea there, and the outbox sequence is an identity column. Keys are TEXT, epoch times
-- BIGINT, and column names avoid words either dialect reserves (group, partition, key).

-- Where each consumer group stands in each partition: the next offset to read. Written in the
-- same transaction as the state it produced, with a compare-and-set on the previous value.
CREATE TABLE consumer_offsets (
    group_id     TEXT    NOT NULL,
    topic        TEXT    NOT NULL,
    partition_id INTEGER NOT NULL,
    next_offset  BIGINT  NOT NULL,
    PRIMARY KEY (group_id, topic, partition_id)
);

-- One row per input already counted, so that a redelivered input counts once.
CREATE TABLE fingerprints (
    fingerprint TEXT   NOT NULL PRIMARY KEY,
    seen_at     BIGINT NOT NULL  -- epoch seconds of the first sighting
);
-- For pruning by age.
CREATE INDEX fingerprints_seen_at ON fingerprints (seen_at);

-- Commutative counters in time buckets, stored at several grains (see bounced/store/rollup.py):
-- a row sums `grain` consecutive buckets starting at `bucket`. The primary key serves the window
-- sums (equality on scope, subject and grain, a range on bucket).
CREATE TABLE counters (
    scope   TEXT    NOT NULL,  -- client | ip | client_provider | ip_provider
    subject TEXT    NOT NULL,
    grain   INTEGER NOT NULL,  -- 1, 12 or 288 buckets
    bucket  BIGINT  NOT NULL,  -- epoch seconds // bucket width: the first of the row's group
    metric  TEXT    NOT NULL,
    value   BIGINT  NOT NULL,
    PRIMARY KEY (scope, subject, grain, bucket, metric)
);
-- For pruning: old buckets are spread all over the primary key, which leads with scope.
CREATE INDEX counters_bucket ON counters (bucket);

-- Small named values the store keeps for itself, e.g. the counters' prune horizon.
CREATE TABLE store_meta (
    name  TEXT   NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);

-- State-machine documents (suppressions, throttles, pool membership...), versioned for
-- compare-and-set. `data` is a JSON document (PostgreSQL: text, or jsonb if it is ever queried).
CREATE TABLE entities (
    kind       TEXT   NOT NULL,
    entity_key TEXT   NOT NULL,
    data       TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    due_at     BIGINT,  -- epoch seconds of the next time-driven transition, if any
    PRIMARY KEY (kind, entity_key)
);
-- Only documents with a pending transition are indexed; the rest never enter the index.
CREATE INDEX entities_due ON entities (due_at, kind, entity_key) WHERE due_at IS NOT NULL;

-- Output events, stored in the transaction that decided them and produced afterwards.
CREATE TABLE outbox (
    -- Storage order, the order events are produced in. AUTOINCREMENT so that a number is never
    -- reused after the newest rows are pruned. PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY.
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT   NOT NULL UNIQUE,  -- deterministic: a replayed decision has the same id
    topic          TEXT   NOT NULL,
    msg_key        BLOB,                    -- PostgreSQL: bytea
    msg_value      BLOB   NOT NULL,         -- PostgreSQL: bytea
    headers        TEXT   NOT NULL,         -- JSON array of [name, base64 value]
    created_at     BIGINT NOT NULL,         -- epoch milliseconds
    partition_hint TEXT   NOT NULL,
    sent_at        BIGINT                   -- epoch seconds; NULL until the broker acknowledged
);
-- What is left to produce, in order; sent rows leave this index.
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
-- For pruning sent events by age.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
