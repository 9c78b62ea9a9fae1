"""Schema of the runtime's SQLite file, as sqlite-utils migrations.

Each change to the store's own schema is a new function appended here, never
an edit to an old one: a data file written by any earlier Gloam opens and is
brought forward in order, and `_sqlite_migrations` records what ran.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from runtime.store.protocol import storage_version

MIGRATIONS = Migrations("gloam")


@MIGRATIONS()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE canvases (
            name TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            seq INTEGER NOT NULL
        );
        CREATE TABLE tokens (
            canvas TEXT NOT NULL REFERENCES canvases(name),
            token_hash TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (canvas, token_hash)
        );
        CREATE TABLE toplevels (
            canvas TEXT NOT NULL REFERENCES canvases(name),
            tlid INTEGER NOT NULL,
            json TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (canvas, tlid)
        );
        CREATE TABLE oplog (
            canvas TEXT NOT NULL REFERENCES canvases(name),
            seq INTEGER NOT NULL,
            author TEXT NOT NULL,
            at REAL NOT NULL,
            ops_json TEXT NOT NULL,
            PRIMARY KEY (canvas, seq)
        );
        CREATE TABLE datastore_rows (
            canvas TEXT NOT NULL,
            datastore TEXT NOT NULL,
            key TEXT NOT NULL,
            value_json TEXT NOT NULL,
            PRIMARY KEY (canvas, datastore, key)
        );
        CREATE TABLE events (
            event_id INTEGER PRIMARY KEY AUTOINCREMENT,
            canvas TEXT NOT NULL,
            queue TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_at REAL NOT NULL,
            status TEXT NOT NULL,
            last_error TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX events_due ON events (status, next_at);
        CREATE TABLE cron_state (
            canvas TEXT NOT NULL,
            tlid INTEGER NOT NULL,
            last_run REAL,
            paused INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (canvas, tlid)
        );
        """
    )


#: Traces live in a file of their own (see `runtime.store.sqlite`), with their own migrations.
TRACE_MIGRATIONS = Migrations("gloam-traces")


@TRACE_MIGRATIONS()
def t001_traces(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE traces (
            trace_id TEXT PRIMARY KEY,
            canvas TEXT NOT NULL,
            tlid INTEGER,
            description TEXT NOT NULL,
            at REAL NOT NULL,
            duration_ms REAL NOT NULL,
            input_json TEXT NOT NULL,
            output_json TEXT NOT NULL,
            impure_json TEXT NOT NULL
        );
        CREATE INDEX traces_by_handler ON traces (canvas, tlid, at);
        """
    )


@MIGRATIONS()
def m002_event_leases(db: sqlite_utils.Database) -> None:
    # A claim is a lease: once it runs out, another worker process claims the event
    # again. Events left running by an older Gloam get a lease that has already run
    # out, so they are claimed again at once (as restarting used to requeue them).
    # Statement by statement, not executescript: that would commit the migration's
    # transaction early, and a failure would leave the column without its record.
    db.execute("ALTER TABLE events ADD COLUMN lease_until REAL")
    db.execute("UPDATE events SET lease_until = 0 WHERE status = 'running'")
    db.execute("CREATE INDEX events_leases ON events (status, lease_until)")


@MIGRATIONS()
def m003_canvas_settings(db: sqlite_utils.Database) -> None:
    # A canvas's own settings (its run time limit), as one JSON object.
    db.execute("CREATE TABLE canvas_settings (canvas TEXT PRIMARY KEY REFERENCES "
               "canvases(name), settings_json TEXT NOT NULL)")


@MIGRATIONS()
def m004_datastore_versions(db: sqlite_utils.Database) -> None:
    # Datastore migrations: each row keeps the version of its datastore it was written
    # in. Rows stored before live under their datastore's own name, `Name_vN`, and were
    # written in version N. Rows per version are counted on every deploy that deletes a
    # version, and by the background converter: an index of their own.
    db.execute("ALTER TABLE datastore_rows ADD COLUMN version INTEGER NOT NULL DEFAULT 0")
    stores = db.execute("SELECT DISTINCT canvas, datastore FROM datastore_rows").fetchall()
    db.conn.executemany(
        "UPDATE datastore_rows SET version = ? WHERE canvas = ? AND datastore = ?",
        [(storage_version(ds), canvas, ds) for canvas, ds in stores],
    )
    db.execute("CREATE INDEX datastore_versions ON datastore_rows (canvas, datastore, version)")
    # The background converter's record and its lease, per storage.
    db.execute(
        "CREATE TABLE datastore_migrations (canvas TEXT NOT NULL, datastore TEXT NOT NULL, "
        "state_json TEXT, holder TEXT, lease_until REAL, PRIMARY KEY (canvas, datastore))"
    )

