"""The one interface everything durable goes through.

The deploy path, the HTTP server, workers and crons speak only to `Store`;
SQL lives in the backends. SQLite (`runtime.store.sqlite`) is the embedded
default; a Postgres backend for several runtime processes serving one canvas
would implement this same protocol, so that day is a new backend, not a
rewrite.

Every method is synchronous and safe to call from any thread: the SQLite
backend funnels writes through one writer thread and reads through
per-thread connections. Async callers use `asyncio.to_thread` or the
backend's `submit` for the hot deploy path. Payloads cross this boundary as
already-encoded JSON text (the wire format), so a backend never needs to know
the AST.
"""

from __future__ import annotations

from typing import Protocol

import attrs


class StoreError(Exception):
    """A write could not be made durable (disk full, file unwritable, ...); nothing changed."""


class UnknownCanvas(StoreError):
    """No canvas by that name."""


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


class Store(Protocol):
    # ------------------------------------------------------------ canvases
    def create_canvas(self, name: str, token_hash: str) -> CanvasInfo: ...
    def canvases(self) -> list[CanvasInfo]: ...
    def token_hashes(self, canvas: str) -> list[str]: ...
    def add_token(self, canvas: str, token_hash: str) -> None: ...
    def snapshot(self, canvas: str) -> CanvasSnapshot: ...

    # ------------------------------------------------------------- deploys
    def commit_ops(
        self, canvas: str, author: str, ops_json: str, changed: dict[int, str | None]
    ) -> int:
        """Append a batch to the op log and write the changed snapshots (None = deleted),
        in one durable transaction. Returns the canvas's new sequence number."""
        ...

    def ops_since(self, canvas: str, seq: int) -> list[OpBatch]: ...

    # -------------------------------------------------------------- traces
    def add_trace(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> None: ...
    def traces(self, canvas: str, tlid: int | None, limit: int = 100) -> list[TraceRecord]: ...
    def last_traffic(self, canvas: str) -> dict[int, float]: ...
    def traffic_since(self, canvas: str, since: float) -> dict[int, tuple[int, float]]: ...

    # ---------------------------------------------------------- datastores
    def ds_set(self, canvas: str, datastore: str, key: str, value_json: str) -> None: ...
    def ds_get(self, canvas: str, datastore: str, key: str) -> str | None: ...
    def ds_items(self, canvas: str, datastore: str) -> list[tuple[str, str]]: ...
    def ds_delete(self, canvas: str, datastore: str, key: str) -> None: ...
    def ds_count(self, canvas: str, datastore: str) -> int: ...

    # ------------------------------------------------------------- workers
    def enqueue(self, canvas: str, queue: str, payload_json: str) -> int: ...
    def claim_events(self, now: float, limit: int) -> list[QueuedEvent]: ...
    def finish_event(self, event_id: int) -> None: ...
    def retry_event(self, event_id: int, error: str, next_at: float, dead: bool) -> None: ...
    def dead_letters(self, canvas: str) -> list[QueuedEvent]: ...

    # --------------------------------------------------------------- crons
    def cron_state(self, canvas: str, tlid: int) -> tuple[float | None, bool]: ...
    def set_cron_state(
        self, canvas: str, tlid: int, last_run: float | None, paused: bool
    ) -> None: ...

    def close(self) -> None: ...
