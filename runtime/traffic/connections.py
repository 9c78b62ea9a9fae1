"""The traffic port's connections: how many, how long, and what is logged about them.

aiohttp's server waits forever for a request's headers and accepts connections
until the process runs out of file descriptors (after which asyncio logs a
traceback for every accept). On a public port that is a slowloris away from
serving nobody. `TrafficHttp` is aiohttp's low-level server with:

- a **header timeout**: a connection has `header_timeout_seconds` to send a
  request's headers, from when it opens and again after each answer (so an
  idle keep-alive connection is closed after as long); a request's body has
  `body_timeout_seconds` (`runtime.traffic.server.read_request`, answered 408);
- a **connection cap** per worker, below the open-file limit: past it, the
  connection that has waited longest without sending a request is closed to
  make room (a real client sends its request at once, a slowloris never does),
  and when every connection has a request in flight, the new one is answered
  503 at once and closed;
- **quiet malformed requests**: a request aiohttp cannot parse is answered 400
  by aiohttp, counted here, and logged as one line a minute at most, not a
  traceback each;
- a `Ledger` (see `runtime.inflight`), in a traffic worker, told of every
  connection and of when it has a request in flight.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from runtime.inflight import Ledger

log = logging.getLogger("gloam.traffic")

#: File descriptors kept back from the connection cap: the store, the logs, the
#: channel to the control process, the event loop's own.
FD_RESERVE = 128

_REFUSED_BODY = (b'{"error": "This server has as many connections open as it can hold.", '
                 b'"hint": "Try again in a moment."}')
REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           b"Connection: close\r\nRetry-After: 1\r\n"
           b"Content-Length: %d\r\n\r\n" % len(_REFUSED_BODY)) + _REFUSED_BODY


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard one; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def accept_batch(open_files: int) -> int:
    """How many connections a worker accepts in one go (asyncio takes up to the listen
    backlog per wake-up, before any of them is looked at), kept within the file limit."""
    return min(512, max(16, (open_files - FD_RESERVE) // 4))


def connection_cap(configured: int, workers: int, open_files: int) -> int:
    """Connections one worker keeps open at once: what the open-file limit leaves after
    the reserve and one accept batch. The control process holds a copy of every
    worker's connections (`runtime.inflight`), so the workers share its limit."""
    if configured > 0:
        return configured
    spare = open_files - FD_RESERVE - accept_batch(open_files)
    return max(16, spare // max(1, workers))


class MalformedLog(logging.Logger):
    """The logger aiohttp's request handler reports errors to. Requests it could not
    parse are counted and summed up in one line a minute; anything else is logged as
    aiohttp would (it is a bug)."""

    EVERY_SECONDS = 60.0

    def __init__(self) -> None:
        super().__init__("gloam.traffic.malformed")
        self.parent = logging.getLogger("gloam.traffic")
        self.count = 0
        self._since_line = 0
        self._last_line = 0.0

    def exception(self, msg: object, *args: Any, exc_info: Any = True, **kw: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.malformed(args[0] if args else "?", exc_info)
            return
        super().exception(msg, *args, exc_info=exc_info, **kw)

    def debug(self, msg: object, *args: Any, exc_info: Any = None, **kw: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.malformed(args[0] if args else "?", exc_info)
            return
        super().debug(msg, *args, exc_info=exc_info, **kw)

    def malformed(self, remote: object, error: HttpProcessingError) -> None:
        self.count += 1
        self._since_line += 1
        now = time.monotonic()
        if now - self._last_line >= self.EVERY_SECONDS:
            what = str(error.message or error).splitlines()[0][:200]
            self.warning("%d malformed request(s) answered 400 since the last such line "
                         "(latest from %s: %s)", self._since_line, remote, what)
            self._since_line = 0
            self._last_line = now


class TrafficHttp(web.Server):
    def __init__(self, handler: Any, *, header_timeout: float, cap: int,
                 ledger: Ledger | None = None, **kwargs: Any) -> None:
        self.malformed = MalformedLog()
        super().__init__(handler, logger=self.malformed, **kwargs)
        self.header_timeout = header_timeout
        self.cap = cap
        self.ledger = ledger
        self.open = 0
        self.refused = 0
        self.evicted = 0
        self.timed_out = 0
        #: Connections waiting for a request, with since when (the loop's clock), oldest
        #: first: a request takes its connection out, its answer puts it back at the end.
        #: One sweep a fraction of the timeout closes the overdue, rather than a timer
        #: set and cancelled per request (a tenth of a small request's time).
        self._waiting: dict[Any, float] = {}
        self._sweeper: asyncio.TimerHandle | None = None

    def connection_made(self, handler: Any, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self.open += 1
        if self.open > self.cap and self._evict_waiting():
            self.evicted += 1
        elif self.open > self.cap:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning("refused %d connection(s): %d open, the most this worker holds "
                            "(--max-connections)", self.refused, self.cap)
            transport.write(REFUSED)
            # Closed on the next turn: aiohttp starts the connection's task after this
            # returns, and a connection lost before that task runs trips it up.
            asyncio.get_running_loop().call_soon(transport.close)
            return
        if self.ledger is not None:
            self.ledger.opened(handler, transport)
        loop = asyncio.get_running_loop()
        self._waiting[handler] = loop.time()
        if self._sweeper is None:
            self._sweeper = loop.call_later(self.header_timeout / 4, self._sweep)

    def connection_lost(self, handler: Any, exc: BaseException | None = None) -> None:
        self.open -= 1
        self._waiting.pop(handler, None)
        if self.ledger is not None:
            # Called before the transport closes its socket: the ledger shuts it down first.
            self.ledger.closed(handler)
        super().connection_lost(handler, exc)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        overdue = loop.time() - self.header_timeout
        for handler, since in list(self._waiting.items()):
            if since > overdue:
                break  # oldest first: the rest are younger
            del self._waiting[handler]
            transport = handler.transport
            if transport is not None and not transport.is_closing():
                self.timed_out += 1
                transport.close()
        self._sweeper = (loop.call_later(self.header_timeout / 4, self._sweep)
                         if self._waiting or self.open else None)

    def _evict_waiting(self) -> bool:
        """Close the connection that has waited longest without sending a request, to
        make room: a real client sends its request at once, a slowloris never does.
        False when every one is busy."""
        while self._waiting:
            handler = next(iter(self._waiting))
            del self._waiting[handler]
            transport = handler.transport
            if transport is not None and not transport.is_closing():
                transport.close()
                return True
        return False

    def request_started(self, handler: Any) -> None:
        """Headers are in: no longer waiting; the ledger marks it busy."""
        self._waiting.pop(handler, None)
        if self.ledger is not None:
            self.ledger.busy(handler)

    def request_finished(self, handler: Any) -> None:
        if self.ledger is not None:
            self.ledger.answered(handler)
        self._waiting[handler] = asyncio.get_running_loop().time()

    def counters(self) -> dict[str, int]:
        return {"open": self.open, "refused": self.refused, "evicted": self.evicted,
                "timed_out": self.timed_out, "malformed": self.malformed.count}
