"""The PostgreSQL backend of `Store`: several nodes, one database.

What the SQLite store gets from being the only writer, this one gets from
the server, because other processes on other hosts write the same rows:

- Deploys: the canvas row is locked (`SELECT ... FOR UPDATE`) for the whole
  commit, so concurrent commits from any node serialize and get consecutive
  sequence numbers; with `base_seq` a commit prepared against an older state
  is refused (StaleCanvas) instead of being interleaved. The same
  transaction sends `NOTIFY gloam_deploys`, delivered only if it commits, and
  every node's listener (see `pg_connections.Listener`) hears it.
- Queues: claims take rows with `FOR UPDATE SKIP LOCKED`, so two claimers
  never get the same event and never wait on each other; a claim is a lease,
  and an event whose claimer died is claimed again once the lease runs out.
- Crons: one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` decides the run, so
  exactly one node runs each tick.
- Traces: buffered and written a batch at a time with COPY, like the SQLite
  store's; the batch commits with `synchronous_commit = off`, because traces
  are not acknowledged work and a deploy should not queue behind their WAL
  flushes. Deploys keep the server's default (durable) commit.

Commits run on the calling thread over a small pool (`pg_connections`); the
deploy path's `submit_ops` runs them on a few threads of its own.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.abc import Params

from runtime.store.pg_connections import DEPLOY_CHANNEL, Connections, Listener, unreachable
from runtime.store.pg_schema import migrate
from runtime.store.protocol import (
    CanvasInfo,
    CanvasSnapshot,
    FirstBatch,
    OpBatch,
    QueuedEvent,
    StaleCanvas,
    StoreError,
    TraceRecord,
    UnknownCanvas,
    prune_plan,
)
from runtime.store.trace_buffer import TraceBuffer

log = logging.getLogger("gloam.store")

#: Serializes trace pruning across nodes: two batches deleting overlapping rows in
#: different orders would otherwise deadlock, and one of them would be lost.
TRACE_LOCK = 0x676C6F616D + 1

_EVENT_COLUMNS = "event_id, canvas, queue, payload_json, attempts, last_error"
_TRACE_COLUMNS = ("trace_id, canvas, tlid, description, at, duration_ms, input_json, "
                  "output_json, impure_json")


def _tlid_is(tlid: int | None) -> str:
    # `IS NOT DISTINCT FROM` would match NULL too but cannot use the index.
    return "tlid IS NULL" if tlid is None else "tlid = %(tlid)s"


class PostgresStore:
    """`Store` over one PostgreSQL database, shared by every node that opens it."""

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout: float = 5.0) -> None:
        self._connect_timeout = connect_timeout
        self._conns = Connections(url, max_size=pool_size, connect_timeout=connect_timeout)
        conn = self._conns.connect()
        try:
            migrate(conn)
        except psycopg.Error as e:
            if conn.broken:
                raise unreachable(e, self._conns.where) from None
            raise StoreError(
                f"the Gloam tables in the PostgreSQL database at {self._conns.where} could "
                f"not be created or updated ({e}); nothing was changed. Check that the user "
                "may create tables in that database."
            ) from None
        finally:
            conn.close()
        self._listener = Listener(self._conns)
        self._commits = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(4, pool_size), thread_name_prefix="gloam-pg-commit")
        self._traces = TraceBuffer()
        self._closed = False

    # ------------------------------------------------------------ plumbing

    def available(self) -> bool:
        return self._conns.available

    def describe(self) -> str:
        return f"PostgreSQL {self._conns.label}"

    def close(self) -> None:
        if self._closed:
            return
        self.write_traces()
        self._closed = self._traces.closed = True
        self._commits.shutdown(wait=True)
        self._listener.close()
        self._conns.close()

    def _require_canvas(self, conn: psycopg.Connection, canvas: str, *, lock: bool = False
                        ) -> int:
        sql = "SELECT seq FROM canvases WHERE name = %s" + (" FOR UPDATE" if lock else "")
        row = conn.execute(sql, [canvas]).fetchone()
        if row is None:
            raise UnknownCanvas(f"there is no canvas named {canvas!r}")
        return int(row[0])

    def _rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return self._conns.run(lambda conn: conn.execute(sql, params).fetchall())

    def _one(self, sql: str, params: Params | None = None) -> tuple[Any, ...] | None:
        return self._conns.run(lambda conn: conn.execute(sql, params).fetchone())

    def _exec(self, sql: str, params: Params | None = None) -> None:
        def tx(conn: psycopg.Connection) -> None:
            conn.execute(sql, params)

        self._conns.run(tx)

    # ------------------------------------------------------------ canvases

    def create_canvas(self, name: str, token_hash: str,
                      first: FirstBatch | None = None) -> CanvasInfo:
        now = time.time()

        def tx(conn: psycopg.Connection) -> CanvasInfo:
            try:
                conn.execute("INSERT INTO canvases (name, created_at, seq) VALUES (%s, %s, 0)",
                             [name, now])
            except pg_errors.UniqueViolation:
                raise StoreError(f"there is already a canvas named {name!r}") from None
            conn.execute("INSERT INTO tokens (canvas, token_hash, created_at) VALUES (%s, %s, %s)",
                         [name, token_hash, now])
            if first is None:
                return CanvasInfo(name, now, 0)
            seq = self._commit(conn, name, first.author, first.ops_json, first.changed, now, 0)
            return CanvasInfo(name, now, seq)

        return self._conns.run(tx)

    def canvases(self) -> list[CanvasInfo]:
        rows = self._rows("SELECT name, created_at, seq FROM canvases ORDER BY name")
        return [CanvasInfo(r[0], r[1], int(r[2])) for r in rows]

    def canvas_seq(self, canvas: str) -> int:
        return self._conns.run(lambda conn: self._require_canvas(conn, canvas))

    def canvas_settings(self, canvas: str) -> dict[str, Any]:
        row = self._one("SELECT settings_json FROM canvas_settings WHERE canvas = %s", [canvas])
        return dict(json.loads(row[0])) if row else {}

    def set_canvas_settings(self, canvas: str, settings: dict[str, Any]) -> None:
        text = json.dumps(settings, allow_nan=False, sort_keys=True)

        def tx(conn: psycopg.Connection) -> None:
            self._require_canvas(conn, canvas)
            conn.execute("INSERT INTO canvas_settings (canvas, settings_json) VALUES (%s, %s) "
                         "ON CONFLICT (canvas) DO UPDATE SET settings_json = "
                         "excluded.settings_json", [canvas, text])

        self._conns.run(tx)

    def token_hashes(self, canvas: str) -> list[str]:
        return [r[0] for r in self._rows("SELECT token_hash FROM tokens WHERE canvas = %s",
                                         [canvas])]

    def add_token(self, canvas: str, token_hash: str) -> None:
        def tx(conn: psycopg.Connection) -> None:
            self._require_canvas(conn, canvas)
            conn.execute(
                "INSERT INTO tokens (canvas, token_hash, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING", [canvas, token_hash, time.time()])

        self._conns.run(tx)

    def snapshot(self, canvas: str) -> CanvasSnapshot:
        def tx(conn: psycopg.Connection) -> CanvasSnapshot:
            seq = self._require_canvas(conn, canvas)
            rows = conn.execute("SELECT tlid, json FROM toplevels WHERE canvas = %s ORDER BY tlid",
                                [canvas]).fetchall()
            return CanvasSnapshot(canvas, seq, {int(r[0]): r[1] for r in rows})

        # One snapshot of the database, so the sequence number and the rows agree.
        return self._conns.run(tx, snapshot=True)

    # ------------------------------------------------------------- deploys

    def commit_ops(self, canvas: str, author: str, ops_json: str,
                   changed: dict[int, str | None], base_seq: int | None = None) -> int:
        now = time.time()
        return self._conns.run(
            lambda conn: self._commit(conn, canvas, author, ops_json, changed, now, base_seq))

    def _commit(self, conn: psycopg.Connection, canvas: str, author: str, ops_json: str,
                changed: dict[int, str | None], now: float, base_seq: int | None) -> int:
        """One batch, inside the caller's transaction; returns its seq."""
        # The row lock makes every other node's commit to this canvas wait here.
        current = self._require_canvas(conn, canvas, lock=True)
        if base_seq is not None and current != base_seq:
            raise StaleCanvas(canvas, base_seq, current)
        seq = current + 1
        conn.execute(
            "INSERT INTO oplog (canvas, seq, author, at, ops_json) VALUES (%s, %s, %s, %s, %s)",
            [canvas, seq, author, now, ops_json])
        gone = [tlid for tlid, text in changed.items() if text is None]
        if gone:
            conn.execute("DELETE FROM toplevels WHERE canvas = %s AND tlid = ANY(%s)",
                         [canvas, gone])
        kept = [(canvas, tlid, text, seq) for tlid, text in changed.items()
                if text is not None]
        if kept:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO toplevels (canvas, tlid, json, seq) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (canvas, tlid) DO UPDATE SET json = excluded.json, "
                    "seq = excluded.seq", kept)
        conn.execute("UPDATE canvases SET seq = %s WHERE name = %s", [seq, canvas])
        conn.execute("SELECT pg_notify(%s, %s)", [DEPLOY_CHANNEL, json.dumps([canvas, seq])])
        return seq

    def submit_ops(self, canvas: str, author: str, ops_json: str,
                   changed: dict[int, str | None], base_seq: int | None = None
                   ) -> concurrent.futures.Future[int]:
        if self._closed:
            raise StoreError("the store is closed")
        return self._commits.submit(self.commit_ops, canvas, author, ops_json, changed, base_seq)

    def ops_since(self, canvas: str, seq: int) -> list[OpBatch]:
        rows = self._rows(
            "SELECT seq, author, at, ops_json FROM oplog WHERE canvas = %s AND seq > %s "
            "ORDER BY seq", [canvas, seq])
        return [OpBatch(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def subscribe(self, callback: Callable[[str, int], None]) -> None:
        if self._closed:
            raise StoreError("the store is closed")
        self._listener.add(callback, wait=self._connect_timeout)

    # -------------------------------------------------------------- traces

    def add_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> None:
        self.buffer_trace(trace, keep_last, keep_seconds)
        self.write_traces()

    def buffer_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> int:
        return self._traces.add(trace, keep_last, keep_seconds)

    def write_traces(self) -> int:
        """Write every buffered trace in one transaction (see `TraceBuffer`): a batch
        that fails while the server is reachable is retried one trace at a time."""
        return self._traces.write(
            lambda batch: self._conns.run(lambda conn: _insert_traces(conn, batch)),
            lambda _e: self._conns.available)

    def traces(self, canvas: str, tlid: int | None, limit: int = 100) -> list[TraceRecord]:
        rows = self._rows(
            f"SELECT {_TRACE_COLUMNS} FROM traces WHERE canvas = %(canvas)s AND {_tlid_is(tlid)} "
            "ORDER BY at DESC LIMIT %(limit)s", {"canvas": canvas, "tlid": tlid, "limit": limit})
        return [TraceRecord(*r) for r in rows]

    def traffic_since(self, canvas: str, since: float) -> dict[int, tuple[int, float]]:
        rows = self._rows(
            "SELECT tlid, COUNT(*), MAX(at) FROM traces WHERE canvas = %s AND tlid IS NOT NULL "
            "AND at >= %s GROUP BY tlid", [canvas, since])
        return {int(r[0]): (int(r[1]), float(r[2])) for r in rows}

    def last_traffic(self, canvas: str) -> dict[int, float]:
        rows = self._rows(
            "SELECT tlid, MAX(at) FROM traces WHERE canvas = %s AND tlid IS NOT NULL "
            "GROUP BY tlid", [canvas])
        return {int(r[0]): float(r[1]) for r in rows}

    # ---------------------------------------------------------- datastores

    def ds_set(self, canvas: str, datastore: str, key: str, value_json: str,
               version: int) -> None:
        self._exec(
            "INSERT INTO datastore_rows (canvas, datastore, key, value, version) "
            "VALUES (%s, %s, %s, %s::jsonb, %s) ON CONFLICT (canvas, datastore, key) "
            "DO UPDATE SET value = excluded.value, version = excluded.version",
            [canvas, datastore, key, value_json, version])

    def ds_get(self, canvas: str, datastore: str, key: str) -> tuple[int, str] | None:
        row = self._one(
            "SELECT version, value::text FROM datastore_rows "
            "WHERE canvas = %s AND datastore = %s AND key = %s", [canvas, datastore, key])
        return None if row is None else (int(row[0]), str(row[1]))

    def ds_items(self, canvas: str, datastore: str) -> list[tuple[str, int, str]]:
        rows = self._rows(
            "SELECT key, version, value::text FROM datastore_rows "
            "WHERE canvas = %s AND datastore = %s ORDER BY key", [canvas, datastore])
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def ds_delete(self, canvas: str, datastore: str, key: str) -> None:
        self._exec("DELETE FROM datastore_rows WHERE canvas = %s AND datastore = %s AND key = %s",
                   [canvas, datastore, key])

    def ds_count(self, canvas: str, datastore: str) -> int:
        row = self._one("SELECT COUNT(*) FROM datastore_rows WHERE canvas = %s AND datastore = %s",
                        [canvas, datastore])
        return int(row[0]) if row else 0

    def ds_version_counts(self, canvas: str, datastore: str) -> dict[int, int]:
        rows = self._rows(
            "SELECT version, COUNT(*) FROM datastore_rows WHERE canvas = %s AND datastore = %s "
            "GROUP BY version", [canvas, datastore])
        return {int(r[0]): int(r[1]) for r in rows}

    def ds_rows_not_at(self, canvas: str, datastore: str, version: int, after_key: str | None,
                       limit: int) -> list[tuple[str, int, str]]:
        # Along the primary key (keys in "C" order, as SQLite's) from the cursor.
        after = "" if after_key is None else "AND key > %(after)s "
        rows = self._rows(
            "SELECT key, version, value::text FROM datastore_rows WHERE canvas = %(canvas)s "
            f"AND datastore = %(ds)s {after}AND version <> %(version)s ORDER BY key "
            "LIMIT %(limit)s",
            {"canvas": canvas, "ds": datastore, "after": after_key, "version": version,
             "limit": limit})
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def ds_convert(self, canvas: str, datastore: str, version: int,
                   rows: list[tuple[str, int, str, str]]) -> int:
        if not rows:
            return 0
        # Row by row in one transaction (psycopg pipelines them: one round trip), each a
        # compare-and-set on the version and the value (as JSON) it had when read. One
        # UPDATE joined to unnest() of the batch would hash the whole storage per batch.
        params = [(version, new, canvas, datastore, key, old_version, old)
                  for key, old_version, old, new in rows]

        def tx(conn: psycopg.Connection) -> int:
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE datastore_rows SET version = %s, value = %s::jsonb "
                    "WHERE canvas = %s AND datastore = %s AND key = %s AND version = %s "
                    "AND value = %s::jsonb", params)
                return cur.rowcount

        return self._conns.run(tx)

    def migration_state(self, canvas: str, datastore: str) -> dict[str, Any] | None:
        row = self._one("SELECT state_json FROM datastore_migrations "
                        "WHERE canvas = %s AND datastore = %s", [canvas, datastore])
        return None if row is None or row[0] is None else dict(json.loads(row[0]))

    def set_migration_state(self, canvas: str, datastore: str,
                            state: dict[str, Any] | None) -> None:
        text = None if state is None else json.dumps(state, allow_nan=False, sort_keys=True)
        self._exec(
            "INSERT INTO datastore_migrations (canvas, datastore, state_json) "
            "VALUES (%s, %s, %s) ON CONFLICT (canvas, datastore) "
            "DO UPDATE SET state_json = excluded.state_json", [canvas, datastore, text])

    def claim_migration(self, canvas: str, datastore: str, holder: str, now: float,
                        lease_seconds: float) -> bool:
        # One statement: a concurrent claimer waits on the row, then re-checks the WHERE
        # against the winner's lease, so exactly one claimer sees a row come back.
        row = self._one(
            "INSERT INTO datastore_migrations (canvas, datastore, holder, lease_until) "
            "VALUES (%(canvas)s, %(ds)s, %(holder)s, %(until)s) "
            "ON CONFLICT (canvas, datastore) DO UPDATE SET holder = excluded.holder, "
            "lease_until = excluded.lease_until "
            "WHERE datastore_migrations.holder IS NULL "
            "OR datastore_migrations.holder = excluded.holder "
            "OR datastore_migrations.lease_until IS NULL "
            "OR datastore_migrations.lease_until <= %(now)s RETURNING 1",
            {"canvas": canvas, "ds": datastore, "holder": holder, "now": now,
             "until": now + lease_seconds})
        return row is not None

    # ------------------------------------------------------------- workers

    def enqueue(self, canvas: str, queue: str, payload_json: str) -> int:
        now = time.time()
        row = self._one(
            "INSERT INTO events (canvas, queue, payload_json, attempts, next_at, status, "
            "created_at) VALUES (%s, %s, %s, 0, %s, 'ready', %s) RETURNING event_id",
            [canvas, queue, payload_json, now, now])
        assert row is not None
        return int(row[0])

    def has_due_events(self, now: float) -> bool:
        row = self._one(
            "SELECT EXISTS (SELECT 1 FROM events WHERE status = 'ready' AND next_at <= %(now)s) "
            "OR EXISTS (SELECT 1 FROM events WHERE status = 'running' "
            "AND lease_until <= %(now)s)", {"now": now})
        return bool(row and row[0])

    def claim_events(self, now: float, limit: int, lease_seconds: float = 60.0
                     ) -> list[QueuedEvent]:
        rows = self._rows(
            "UPDATE events SET status = 'running', lease_until = %(lease)s "
            "WHERE event_id IN (SELECT event_id FROM events "
            "  WHERE (status = 'ready' AND next_at <= %(now)s) "
            "     OR (status = 'running' AND lease_until <= %(now)s) "
            "  ORDER BY next_at, event_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            f"RETURNING next_at, {_EVENT_COLUMNS}",
            {"now": now, "lease": now + lease_seconds, "limit": limit})
        rows.sort(key=lambda r: (r[0], r[1]))
        return [QueuedEvent(int(r[1]), r[2], r[3], r[4], int(r[5]), r[6]) for r in rows]

    def finish_event(self, event_id: int) -> None:
        self._exec("DELETE FROM events WHERE event_id = %s", [event_id])

    def retry_event(self, event_id: int, error: str, next_at: float, dead: bool) -> None:
        self._exec(
            "UPDATE events SET attempts = attempts + 1, last_error = %s, next_at = %s, "
            "status = %s, lease_until = NULL WHERE event_id = %s",
            [error, next_at, "dead" if dead else "ready", event_id])

    def dead_letters(self, canvas: str) -> list[QueuedEvent]:
        rows = self._rows(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE canvas = %s AND status = 'dead' "
            "ORDER BY event_id", [canvas])
        return [QueuedEvent(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5]) for r in rows]

    # --------------------------------------------------------------- crons

    def cron_state(self, canvas: str, tlid: int) -> tuple[float | None, bool]:
        row = self._one("SELECT last_run, paused FROM cron_state WHERE canvas = %s AND tlid = %s",
                        [canvas, tlid])
        return (None, False) if row is None else (row[0], bool(row[1]))

    def set_cron_state(self, canvas: str, tlid: int, last_run: float | None, paused: bool
                       ) -> None:
        self._exec(
            "INSERT INTO cron_state (canvas, tlid, last_run, paused) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (canvas, tlid) DO UPDATE SET last_run = excluded.last_run, "
            "paused = excluded.paused", [canvas, tlid, last_run, paused])

    def claim_cron(self, canvas: str, tlid: int, now: float, interval_seconds: float) -> bool:
        # A concurrent claimer waits on the row, then re-checks the WHERE against the
        # winner's update: one statement, so exactly one claimer sees a row come back.
        row = self._one(
            "INSERT INTO cron_state (canvas, tlid, last_run, paused) "
            "VALUES (%(canvas)s, %(tlid)s, %(now)s, FALSE) "
            "ON CONFLICT (canvas, tlid) DO UPDATE SET last_run = excluded.last_run "
            "WHERE NOT cron_state.paused AND (cron_state.last_run IS NULL "
            "OR cron_state.last_run <= %(due)s) RETURNING 1",
            {"canvas": canvas, "tlid": tlid, "now": now, "due": now - interval_seconds})
        return row is not None


def _insert_traces(conn: psycopg.Connection, batch: list[tuple[TraceRecord, int, float]]
                   ) -> None:
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [TRACE_LOCK])
    with conn.cursor() as cur, cur.copy(f"COPY traces ({_TRACE_COLUMNS}) FROM STDIN") as copy:
        for t, _, _ in batch:
            copy.write_row((t.trace_id, t.canvas, t.tlid, t.description, t.at, t.duration_ms,
                            t.input_json, t.output_json, t.impure_json))
    for (canvas, tlid), (at, keep_last, keep_seconds) in prune_plan(batch).items():
        params = {"canvas": canvas, "tlid": tlid, "before": at - keep_seconds, "keep": keep_last}
        conn.execute(f"DELETE FROM traces WHERE canvas = %(canvas)s AND {_tlid_is(tlid)} "
                     "AND at < %(before)s", params)
        conn.execute(
            "DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM traces "
            f"WHERE canvas = %(canvas)s AND {_tlid_is(tlid)} ORDER BY at DESC "
            "OFFSET %(keep)s)", params)
