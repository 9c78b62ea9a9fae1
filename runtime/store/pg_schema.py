"""Schema of the PostgreSQL store, as named migrations applied at open.

Like `sqlite_migrations`: each change is a new entry appended to
`MIGRATIONS`, never an edit to an old one, and the `gloam_schema` table
records which ran. Several nodes may open the same database at the same
moment, so the whole check-and-apply runs in one transaction holding a
transaction-level advisory lock: the first node migrates, the others wait
for it and then find nothing left to do.

Types: times are seconds since the epoch as `DOUBLE PRECISION` (what the
protocol and the SQLite store use), tlids and sequence numbers `BIGINT`.
Program text (toplevels, op batches, traces, event payloads) stays `TEXT`:
the store hands back exactly the wire text it was given. Datastore values
are `JSONB`, so they can be queried in place one day; they come back as
equal JSON, not as the same text. Names and keys use the "C" collation, so
they sort by code point, as SQLite sorts them, whatever the database's locale.
"""

from __future__ import annotations

import time

import psycopg

#: Key of the advisory lock that serializes migrations across nodes ("gloam" in ASCII).
MIGRATION_LOCK = 0x676C6F616D

MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_initial",
        """
        CREATE TABLE canvases (
            name TEXT COLLATE "C" PRIMARY KEY,
            created_at DOUBLE PRECISION NOT NULL,
            seq BIGINT NOT NULL
        );
        CREATE TABLE tokens (
            canvas TEXT COLLATE "C" NOT NULL REFERENCES canvases(name),
            token_hash TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (canvas, token_hash)
        );
        CREATE TABLE toplevels (
            canvas TEXT COLLATE "C" NOT NULL REFERENCES canvases(name),
            tlid BIGINT NOT NULL,
            json TEXT NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (canvas, tlid)
        );
        CREATE TABLE oplog (
            canvas TEXT COLLATE "C" NOT NULL REFERENCES canvases(name),
            seq BIGINT NOT NULL,
            author TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            ops_json TEXT NOT NULL,
            PRIMARY KEY (canvas, seq)
        );
        CREATE TABLE datastore_rows (
            canvas TEXT COLLATE "C" NOT NULL,
            datastore TEXT COLLATE "C" NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            value JSONB NOT NULL,
            PRIMARY KEY (canvas, datastore, key)
        );
        CREATE TABLE events (
            event_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            canvas TEXT COLLATE "C" NOT NULL,
            queue TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_at DOUBLE PRECISION NOT NULL,
            status TEXT NOT NULL,
            last_error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            lease_until DOUBLE PRECISION
        );
        CREATE INDEX events_due ON events (status, next_at);
        -- Claims look for expired leases on every poll; only running events have one.
        CREATE INDEX events_leases ON events (lease_until) WHERE status = 'running';
        CREATE TABLE cron_state (
            canvas TEXT COLLATE "C" NOT NULL,
            tlid BIGINT NOT NULL,
            last_run DOUBLE PRECISION,
            paused BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (canvas, tlid)
        );
        CREATE TABLE traces (
            trace_id TEXT PRIMARY KEY,
            canvas TEXT COLLATE "C" NOT NULL,
            tlid BIGINT,
            description TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            duration_ms DOUBLE PRECISION NOT NULL,
            input_json TEXT NOT NULL,
            output_json TEXT NOT NULL,
            impure_json TEXT NOT NULL
        );
        CREATE INDEX traces_by_handler ON traces (canvas, tlid, at);
        """,
    ),
    (
        "m002_canvas_settings",
        """
        CREATE TABLE canvas_settings (
            canvas TEXT COLLATE "C" PRIMARY KEY REFERENCES canvases(name),
            settings_json TEXT NOT NULL
        );
        """,
    ),
    (
        "m003_datastore_versions",
        # Datastore migrations: each row keeps the version of its datastore it was
        # written in. Rows stored before live under their datastore's own name,
        # `Name_vN`, and were written in version N. Rows per version are counted on
        # deploys that delete a version and by the background converter: an index. It
        # ends in the key so that a lookup by key and version (the converter's
        # compare-and-set) finds one row whichever index the planner picks.
        # `datastore_migrations` holds the converter's record and its lease per storage.
        """
        ALTER TABLE datastore_rows ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
        UPDATE datastore_rows SET version = substring(datastore FROM '_v([0-9]+)$')::bigint
            WHERE datastore ~ '_v[0-9]+$';
        CREATE INDEX datastore_versions ON datastore_rows (canvas, datastore, version, key);
        CREATE TABLE datastore_migrations (
            canvas TEXT COLLATE "C" NOT NULL,
            datastore TEXT COLLATE "C" NOT NULL,
            state_json TEXT,
            holder TEXT,
            lease_until DOUBLE PRECISION,
            PRIMARY KEY (canvas, datastore)
        );
        """,
    ),
]


def migrate(conn: psycopg.Connection) -> list[str]:
    """Bring the database's schema up to date; returns the names of the migrations run.

    `conn` must not be inside a transaction; it is left outside one.
    """
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS gloam_schema ("
            "name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM gloam_schema")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            conn.execute(sql)  # no parameters, so it may hold several statements
            conn.execute(
                "INSERT INTO gloam_schema (name, applied_at) VALUES (%s, %s)", [name, time.time()]
            )
            applied.append(name)
    return applied
