"""Traces waiting to be written, for either backend.

A request must not wait on the database to be traced, so each backend keeps
its traces here (`add`) and whoever owns the event loop writes them in one
transaction a few times a second (`write`). The writing is the backend's;
what is the same for both is here: one writer at a time, the batch taken
whole, and one bad trace (a repeated id) never sinking the rest of its
batch, while a database that is away drops the batch with a line in the log:
traces are a record of traffic, not acknowledged work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from runtime.store.protocol import StoreError, TraceRecord

log = logging.getLogger("gloam.store")

#: A trace with the retention of its handler: keep the last N, none older than S seconds.
Waiting = tuple[TraceRecord, int, float]


class TraceBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the list
        self._waiting: list[Waiting] = []
        #: Held while a batch is written: hold it to close what the writing uses.
        self.writing = threading.Lock()
        self.closed = False

    def add(self, trace: TraceRecord, keep_last: int, keep_seconds: float) -> int:
        """Keep a trace for the next `write`; returns how many are waiting."""
        if self.closed:
            raise StoreError("the store is closed")
        with self._lock:
            self._waiting.append((trace, keep_last, keep_seconds))
            return len(self._waiting)

    def write(self, write_batch: Callable[[list[Waiting]], None],
              one_by_one: Callable[[Exception], bool]) -> int:
        """Write what waits with `write_batch` (one transaction); when it fails and
        `one_by_one(error)` says a single trace may be at fault, each trace alone.
        Returns how many were written; never raises for a failed write."""
        with self.writing:
            with self._lock:
                batch, self._waiting = self._waiting, []
            if not batch:
                return 0
            try:
                write_batch(batch)
            except Exception as e:
                if len(batch) == 1 or not one_by_one(e):
                    log.warning("%d traces were not stored: %s", len(batch), e)
                    return 0
                written = 0
                for one in batch:
                    try:
                        write_batch([one])
                        written += 1
                    except Exception as e1:
                        log.warning("trace %s not stored: %s", one[0].trace_id, e1)
                return written
            return len(batch)
