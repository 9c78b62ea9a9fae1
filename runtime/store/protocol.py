"""The one interface everything durable goes through.

The deploy path, the HTTP server, workers and crons speak only to `Store`;
SQL lives in the backends. SQLite (`runtime.store.sqlite`) is the embedded
default: one file, one node. PostgreSQL (`runtime.store.postgres`) lets
several nodes serve the same canvases from one database: deploys carry the
sequence number they were prepared against (`base_seq`) so two nodes never
interleave theirs, queue claims are leases that another node takes over when
they expire, a cron run is claimed once across nodes, and `subscribe` tells
every node of every deploy. `open_store` (in `runtime.store`) picks the
backend from a path or a URL.

Every method is synchronous and safe to call from any thread. Async callers
use `asyncio.to_thread`, or `submit_ops` for the hot deploy path. Payloads
cross this boundary as already-encoded JSON text (the wire format), so a
backend never needs to know the AST. Every failure of the database comes out
as `StoreError` (or a subclass) whose message says what happened and what to
do, never as a driver's exception; after one, the next call tries again.
"""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Callable
from typing import Any, Protocol

import attrs


class StoreError(Exception):
    """The database could not do this (disk full, file unwritable, server unreachable, ...);
    the message says what happened and what to do."""


class UnknownCanvas(StoreError):
    """No canvas by that name."""


class StoreUnavailable(StoreError):
    """The database could not be reached (a server down, a network cut); try again later."""


class StaleCanvas(StoreError):
    """A commit was prepared against an older sequence number than the canvas is at now:
    another node deployed first. Nothing was written; `seq` is the canvas's current one."""

    def __init__(self, canvas: str, base_seq: int, seq: int) -> None:
        super().__init__(
            f"canvas {canvas!r} is at sequence number {seq}, not {base_seq}: another node "
            "deployed to it first, so nothing was written. Catch up from the ops log "
            f"(ops_since {base_seq}) and prepare the batch again."
        )
        self.canvas = canvas
        self.base_seq = base_seq
        self.seq = seq

    def __reduce__(self) -> tuple[type[StaleCanvas], tuple[str, int, int]]:
        # Errors cross process boundaries pickled; rebuild from the fields, not the message.
        return (StaleCanvas, (self.canvas, self.base_seq, self.seq))


@attrs.frozen
class CanvasInfo:
    name: str
    created_at: float
    seq: int


@attrs.frozen
class CanvasSnapshot:
    """What a canvas holds at sequence number `seq`: tlid → toplevel JSON text."""

    name: str
    seq: int
    toplevels: dict[int, str]


@attrs.frozen
class OpBatch:
    """One committed batch from the op log."""

    seq: int
    author: str
    at: float
    ops_json: str


@attrs.frozen
class TraceRecord:
    trace_id: str
    canvas: str
    #: The handler's tlid, or None for a request that matched no handler (a 404).
    tlid: int | None
    #: What the request looked like, e.g. `GET /hello`: lets the editor create a handler from a 404.
    description: str
    at: float
    duration_ms: float
    input_json: str
    output_json: str
    impure_json: str


@attrs.frozen
class QueuedEvent:
    event_id: int
    canvas: str
    queue: str
    payload_json: str
    attempts: int
    last_error: str | None = None


def prune_plan(batch: list[tuple[TraceRecord, int, float]]
               ) -> dict[tuple[str, int | None], tuple[float, int, float]]:
    """For a batch of (trace, keep_last, keep_seconds) being written: per handler
    (canvas, tlid), its newest trace time and limits, so a backend prunes each handler
    once per batch and keeps exactly what writing the traces one by one would keep."""
    newest: dict[tuple[str, int | None], tuple[float, int, float]] = {}
    for t, keep_last, keep_seconds in batch:
        seen = newest.get((t.canvas, t.tlid))
        newest[(t.canvas, t.tlid)] = (max(t.at, seen[0]) if seen else t.at, keep_last,
                                      keep_seconds)
    return newest


_VERSION_SUFFIX = re.compile(r"_v([0-9]+)$")


def storage_version(storage: str) -> int:
    """The version in a storage name's `_vN` suffix (`Users_v0` → 0; 0 without one): the
    version rows stored before per-row versions existed were written in."""
    found = _VERSION_SUFFIX.search(storage)
    return int(found.group(1)) if found else 0


@attrs.frozen
class FirstBatch:
    """A canvas's first code, committed with the canvas itself (as seq 1)."""

    author: str
    ops_json: str
    changed: dict[int, str | None]


class Store(Protocol):
    # ------------------------------------------------------------ canvases
    def create_canvas(self, name: str, token_hash: str,
                      first: FirstBatch | None = None) -> CanvasInfo:
        """A new canvas with its first editor token (a digest) and, when given, its first
        code: all in one transaction, so a crash leaves all of it or none of it."""
        ...

    def canvases(self) -> list[CanvasInfo]: ...
    def canvas_seq(self, canvas: str) -> int:
        """The canvas's current sequence number (a cheap read); UnknownCanvas if none."""
        ...

    def canvas_settings(self, canvas: str) -> dict[str, Any]:
        """The canvas's own settings (e.g. `time_limit_seconds`), {} when none are set."""
        ...

    def set_canvas_settings(self, canvas: str, settings: dict[str, Any]) -> None:
        """Replace the canvas's settings (a JSON object); UnknownCanvas if there is none."""
        ...

    def token_hashes(self, canvas: str) -> list[str]: ...
    def add_token(self, canvas: str, token_hash: str) -> None: ...
    def snapshot(self, canvas: str) -> CanvasSnapshot:
        """The canvas's toplevels and the seq they are at, read at one moment."""
        ...

    # ------------------------------------------------------------- deploys
    def commit_ops(
        self, canvas: str, author: str, ops_json: str, changed: dict[int, str | None],
        base_seq: int | None = None,
    ) -> int:
        """Append a batch to the op log and write the changed snapshots (None = deleted),
        in one durable transaction. Returns the canvas's new sequence number.

        With `base_seq`, the batch is only written if the canvas is still at that
        sequence number; otherwise StaleCanvas, and nothing is written."""
        ...

    def submit_ops(
        self, canvas: str, author: str, ops_json: str, changed: dict[int, str | None],
        base_seq: int | None = None,
    ) -> concurrent.futures.Future[int]:
        """`commit_ops` without blocking the caller: the future resolves once durable."""
        ...

    def ops_since(self, canvas: str, seq: int) -> list[OpBatch]: ...

    def subscribe(self, callback: Callable[[str, int], None]) -> None:
        """Call `callback(canvas, seq)` from a background thread after every commit by any
        store on the same database, and `callback("", -1)` when notifications may have
        been missed (catch every canvas up from the ops log). Callbacks must return
        quickly: hand the work to your own thread or event loop."""
        ...

    # -------------------------------------------------------------- traces
    def add_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> None: ...
    def buffer_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> int:
        """Keep a trace for the next `write_traces`; returns how many are waiting."""
        ...

    def write_traces(self) -> int:
        """Write the buffered traces in one transaction and apply retention (the newest
        `keep_last` per handler, none older than `keep_seconds`); returns how many were
        written. A failure is logged, not raised: traces are a record, not an ack."""
        ...

    def traces(self, canvas: str, tlid: int | None, limit: int = 100) -> list[TraceRecord]: ...
    def last_traffic(self, canvas: str) -> dict[int, float]: ...
    def traffic_since(self, canvas: str, since: float) -> dict[int, tuple[int, float]]: ...

    # ---------------------------------------------------------- datastores
    # `datastore` is the storage name, `Name_vT` (`shared_ast.migration.storage_name`):
    # the versions of a migration chain share one. Each row keeps the `version` it was
    # written in; rows stored before versions existed read as the storage's own `T`.
    def ds_set(self, canvas: str, datastore: str, key: str, value_json: str,
               version: int) -> None: ...
    def ds_get(self, canvas: str, datastore: str, key: str) -> tuple[int, str] | None:
        """(version, value as JSON text): equal as JSON to what was set, not always the
        same text."""
        ...

    def ds_items(self, canvas: str, datastore: str) -> list[tuple[str, int, str]]:
        """(key, version, value JSON) of every row, ordered by key."""
        ...

    def ds_delete(self, canvas: str, datastore: str, key: str) -> None: ...
    def ds_count(self, canvas: str, datastore: str) -> int: ...
    def ds_version_counts(self, canvas: str, datastore: str) -> dict[int, int]:
        """How many rows were written in each version."""
        ...

    def ds_rows_not_at(self, canvas: str, datastore: str, version: int, after_key: str | None,
                       limit: int) -> list[tuple[str, int, str]]:
        """Up to `limit` rows (key, version, value JSON) whose version is not `version`,
        with keys after `after_key` (from the first when None), ordered by key."""
        ...

    def ds_convert(self, canvas: str, datastore: str, version: int,
                   rows: list[tuple[str, int, str, str]]) -> int:
        """Rewrite converted rows, each (key, old version, old value JSON, new value JSON),
        as written in `version`, all in one transaction. A row that changed since it was
        read (another version or value, or deleted) is left as it now is. Returns how
        many rows were rewritten."""
        ...

    def migration_state(self, canvas: str, datastore: str) -> dict[str, Any] | None:
        """The background conversion's record for a storage (JSON-able), None when none."""
        ...

    def set_migration_state(self, canvas: str, datastore: str,
                            state: dict[str, Any] | None) -> None:
        """Replace (None: remove) the background conversion's record."""
        ...

    def claim_migration(self, canvas: str, datastore: str, holder: str, now: float,
                        lease_seconds: float) -> bool:
        """Atomically: when no other holder has an unexpired lease on converting this
        storage, lease it to `holder` until `now + lease_seconds` and return True. One
        converter at a time, across processes and nodes; a holder renews by claiming
        again."""
        ...

    # ------------------------------------------------------------- workers
    def enqueue(self, canvas: str, queue: str, payload_json: str) -> int: ...
    def has_due_events(self, now: float) -> bool:
        """Whether `claim_events(now, ...)` would find anything (a cheap read)."""
        ...

    def claim_events(
        self, now: float, limit: int, lease_seconds: float = 60.0
    ) -> list[QueuedEvent]:
        """Claim up to `limit` events that are ready and due, or running with an expired
        lease (their claimer died), oldest first: each becomes running, leased until
        `now + lease_seconds`. No event is handed to two claimers at once, whichever
        process or node they run on."""
        ...

    def finish_event(self, event_id: int) -> None: ...
    def retry_event(self, event_id: int, error: str, next_at: float, dead: bool) -> None: ...
    def dead_letters(self, canvas: str) -> list[QueuedEvent]: ...

    # --------------------------------------------------------------- crons
    def cron_state(self, canvas: str, tlid: int) -> tuple[float | None, bool]: ...
    def set_cron_state(
        self, canvas: str, tlid: int, last_run: float | None, paused: bool
    ) -> None: ...

    def claim_cron(self, canvas: str, tlid: int, now: float, interval_seconds: float) -> bool:
        """Atomically: if the cron is not paused and never ran or last ran at least
        `interval_seconds` before `now`, record `now` as its last run and return True
        (run it); otherwise False. Exactly one claimer wins, across processes and nodes."""
        ...

    # ------------------------------------------------------------- the store
    def available(self) -> bool:
        """Whether the last contact with the database succeeded."""
        ...

    def describe(self) -> str:
        """Where the data lives, for people: `SQLite /path` or `PostgreSQL user@host:port/db`
        (never a password)."""
        ...

    def close(self) -> None: ...
