"""What the runtime's parts share: config, store, live table, trace recording, run budgets.

`RuntimeServices` is built in each process: a traffic worker's reports what
traffic it saw to the control process (`runtime.traffic.worker.Reporter`);
the control process counts it for locking (`runtime.control.usage`).

Traces are written off the request path: `record_trace` keeps the trace, not
yet encoded, and returns at once. The event loop writes them in one
transaction TRACE_DELAY seconds after the first arrived (or at once when
TRACE_BATCH are waiting), and before anything reads traces; only those that
retention keeps (a handler's newest `trace_keep_last`) are ever encoded.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

import attrs

from runtime.config import RuntimeConfig
from runtime.store.protocol import Store, StoreError, TraceRecord
from runtime.traffic.live import LiveTable
from shared_ast import wire
from shared_ast.eval_context import Budget, ImpureCall, ImpureLog

log = logging.getLogger("gloam.services")

#: Trace ids: a random prefix per process and a counter. A uuid4 per request (an
#: os.urandom call and a UUID object) was about 4% of serving a small handler.
_TRACE_PREFIX = secrets.token_hex(10)
_trace_numbers = itertools.count()


def new_trace_id() -> str:
    """A trace id unique across processes: 32 hex digits, like a UUID's hex."""
    return f"{_TRACE_PREFIX}{next(_trace_numbers):012x}"


#: The canvas settings that override the runtime's limits: name → (lowest, highest,
#: what it counts). A run's time must end well inside a worker event's lease; what a
#: run may build stays well inside a worker's memory.
LIMITS: dict[str, tuple[float, float, str]] = {
    "time_limit_seconds": (0.0, 30.0, "seconds"),
    "alloc_limit_mb": (1.0, 1024.0, "MiB"),
}
TIME_LIMIT, ALLOC_LIMIT = "time_limit_seconds", "alloc_limit_mb"

#: How long a trace may wait in the buffer, and how many may, before they are written.
TRACE_DELAY = 0.05
TRACE_BATCH = 500


class TrafficSeen(Protocol):
    """Where a run of live traffic is counted (for locking)."""

    def saw(self, canvas: str, tlid: int, at: float) -> None: ...


class FlagsSeen(Protocol):
    """Where live traffic's flag decisions are counted (for the editor's flag counts)."""

    def saw(self, canvas: str, tlid: int, flag_id: int, name: str, took_new: bool) -> None: ...


class _Unseen:
    def saw(self, *args: object) -> None:
        pass


@attrs.define
class RuntimeServices:
    config: RuntimeConfig
    store: Store
    live: LiveTable
    usage: TrafficSeen = attrs.field(factory=_Unseen)
    flags: FlagsSeen = attrs.field(factory=_Unseen)
    started_at: float = attrs.field(factory=time.time)
    #: Runs traced by this process (requests, 404s included, worker events, crons).
    traced: int = 0
    #: The event loop that owns the trace buffer and the reports: a run in another
    #: thread (a slow handler, a worker event) records its trace through it.
    loop: asyncio.AbstractEventLoop | None = None

    #: canvas → its own settings (`Store.canvas_settings`), over the runtime's defaults.
    settings: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    #: Traces recorded and not yet handed to the store (see `write_traces`).
    _pending: list[_Pending] = attrs.field(factory=list, init=False)

    def limit(self, canvas: str, name: str) -> float:
        """A limit of a run on `canvas` (a key of LIMITS): its own, or the runtime's."""
        own = self.settings.get(canvas, {}).get(name)
        return float(own) if isinstance(own, int | float) else float(getattr(self.config, name))

    def limits(self, canvas: str) -> dict[str, float]:
        return {name: self.limit(canvas, name) for name in LIMITS}

    def budget(self, canvas: str) -> Budget:
        """The limits of one run of user code on `canvas`: the default steps, depth and
        sizes, and the canvas's wall-clock and allocation limits."""
        return Budget(time_limit=self.limit(canvas, TIME_LIMIT),
                      max_alloc=int(self.limit(canvas, ALLOC_LIMIT) * 1024 * 1024))

    def record_trace(
        self,
        *,
        canvas: str,
        tlid: int | None,
        description: str,
        trace_id: str,
        encode: Callable[[], tuple[str, str, str]],
        duration_ms: float,
    ) -> None:
        """Keep a run's trace for the next `write_traces`. `encode` gives its input,
        output and impure calls as JSON text; it is called only for the traces
        retention keeps, when they are written, off the request path."""
        loop = self.loop
        if loop is not None and not _on(loop):
            loop.call_soon_threadsafe(functools.partial(
                self.record_trace, canvas=canvas, tlid=tlid, description=description,
                trace_id=trace_id, encode=encode, duration_ms=duration_ms))
            return
        at = time.time()
        self.traced += 1
        if tlid is not None:
            self.usage.saw(canvas, tlid, at)
        self._pending.append(_Pending(trace_id, canvas, tlid, description, at, duration_ms,
                                      encode))
        waiting = len(self._pending)
        if waiting == 1:
            self._write_traces_soon(TRACE_DELAY)
        elif waiting == TRACE_BATCH:
            self._write_traces_soon(0)  # after this request's answer, not inside it

    def write_traces(self) -> int:
        """Encode the traces retention keeps and write them in one transaction; the
        others (a handler's beyond its newest `trace_keep_last`) are never encoded."""
        pending, self._pending = self._pending, []
        keep_last, keep_seconds = self.config.trace_keep_last, self.config.trace_keep_seconds
        seen: dict[tuple[str, int | None], int] = {}
        for p in reversed(pending):  # newest last: count from the newest
            key = (p.canvas, p.tlid)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > keep_last:
                continue
            try:
                input_json, output_json, impure_json = p.encode()
                self.store.buffer_trace(TraceRecord(
                    p.trace_id, p.canvas, p.tlid, p.description, p.at, p.duration_ms,
                    input_json, output_json, impure_json), keep_last, keep_seconds)
            except (StoreError, ValueError, TypeError) as e:
                log.warning("trace %s not stored: %s", p.trace_id, e)
        return self.store.write_traces()

    def _write_traces_soon(self, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop on this thread (a script, a test): write now
            self.write_traces()
            return
        loop.call_later(delay, self.write_traces)


@attrs.frozen
class _Pending:
    trace_id: str
    canvas: str
    tlid: int | None
    description: str
    at: float
    duration_ms: float
    encode: Callable[[], tuple[str, str, str]]


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this thread is running `loop`."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def impure_to_json(log_: ImpureLog | None) -> str:
    """The impure calls of a run, as a trace keeps them (to replay the run later)."""
    calls = log_.calls if log_ is not None else []
    if not calls:
        return "[]"
    return wire.json_text(
        [{"fn": c.name, "args": [wire.encode_value(a) for a in c.args],
          "result": wire.encode_value(c.result)} for c in calls])


def impure_from_json(text: str) -> list[ImpureCall]:
    return [
        ImpureCall(c["fn"], tuple(wire.decode_value(a) for a in c["args"]),
                   wire.decode_value(c["result"]))
        for c in wire.json_load(text)
    ]
