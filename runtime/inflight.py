"""Requests in flight in a traffic worker, answered 503 when the worker dies.

A connection belongs to the process that accepted it: when a worker is killed
(kill -9, a crash, or the supervisor stopping one that went silent), the
kernel would close its connections and their clients would see nothing but a
reset. So the control process keeps a second handle on each of them:

- when a worker accepts a connection, it hands a duplicate of the socket to
  the control process over a datagram socketpair (`SCM_RIGHTS`: message
  ``o<slot>`` with the descriptor), and when the connection ends, it shuts the
  socket down itself (so the control's handle never keeps a client waiting)
  and says ``c<slot>``;
- for each connection the worker keeps one byte in memory shared with the
  control process (a memfd): `BUSY` while a request on it is being read or run
  and has no answer yet, `NOT_BUSY` otherwise. Writing it costs a memory store
  per request, no message;
- when the worker is gone, the control process (`Keeper.answer_in_flight`)
  answers every `BUSY` connection 503 with a clear body and `Connection:
  close`, and closes the others (idle keep-alive connections, whose clients
  open a new one, which another worker accepts).

A request whose answer was started but not finished when the worker died is
closed, not answered twice. A connection the worker could not register (more
than `SLOTS` open at once, or the control process not reading) is served as
before, without the guarantee.

`Keeper` is the control process's side, `Ledger` the worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mmap
import os
import socket
from typing import Any

log = logging.getLogger("gloam.inflight")

#: Connections tracked at once per worker; more are served without the 503 guarantee.
SLOTS = 16384
NOT_BUSY = 0
BUSY = 1
#: How long the control process keeps a 503'd connection open before closing it, so
#: the client reads the answer before a close with unread request bytes resets it.
LINGER_SECONDS = 2.0


def _slot_message(kind: bytes, slot: int) -> bytes:
    return kind + str(slot).encode()


def unavailable_response(why: str) -> bytes:
    """The 503 a client gets when the worker running its request died."""
    body = json.dumps({
        "error": f"The traffic worker running this request {why}, and was replaced "
                 "before it answered.",
        "hint": "The request may have had some of its effects: send it again if that is "
                "safe. Other requests are being served; if this one keeps doing this, look "
                "at its handler and the runtime's log.",
    }).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Retry-After: 1\r\n"
            "Connection: close\r\n\r\n").encode()
    return head + body


class Keeper:
    """The control process's handles on one worker's connections."""

    def __init__(self) -> None:
        self.sock, self._child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self._state_fd = os.memfd_create("gloam-inflight", os.MFD_CLOEXEC)
        os.ftruncate(self._state_fd, SLOTS)
        self.state = mmap.mmap(self._state_fd, SLOTS)
        self.held: dict[int, socket.socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def child_fds(self) -> tuple[int, int]:
        """(keeper socket, state memfd): the descriptors the worker inherits."""
        return self._child_sock.fileno(), self._state_fd

    def started(self, loop: asyncio.AbstractEventLoop) -> None:
        """The worker has its copies: close ours and read its messages as they come."""
        self.started_without_loop()
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self.drain)

    def started_without_loop(self) -> None:
        """The worker has its copies: close ours (`drain` reads its messages)."""
        self._child_sock.close()
        os.close(self._state_fd)
        self._state_fd = -1

    def drain(self) -> None:
        """Take every message the worker has sent."""
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, 32, 4)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            kind, slot = data[:1], int(data[1:] or b"-1")
            if kind == b"o" and fds:
                old = self.held.pop(slot, None)
                if old is not None:
                    old.close()
                self.held[slot] = socket.socket(fileno=fds[0])
                fds = fds[1:]
            elif kind == b"c":
                old = self.held.pop(slot, None)
                if old is not None:
                    old.close()
            for fd in fds:  # nothing else carries descriptors
                os.close(fd)
            if not data:
                return

    def answer_in_flight(self, why: str) -> int:
        """The worker is gone: answer its busy connections 503, close the rest.
        Returns how many were answered."""
        self.drain()
        answered = 0
        response = unavailable_response(why)
        for slot, sock in sorted(self.held.items()):
            if self.state[slot] == BUSY:
                sock.setblocking(False)
                try:
                    sock.send(response)
                    sock.shutdown(socket.SHUT_WR)
                    answered += 1
                except OSError:  # the client went away meanwhile
                    sock.close()
                    continue
                if self._loop is not None:
                    self._loop.call_later(LINGER_SECONDS, sock.close)
                else:
                    sock.close()
            else:
                sock.close()
        self.held.clear()
        self.state[:] = bytes(SLOTS)
        if answered:
            log.warning("answered %s request(s) in flight 503: the worker %s", answered, why)
        return answered

    def close(self) -> None:
        if self._loop is not None and self.sock.fileno() >= 0:
            self._loop.remove_reader(self.sock.fileno())
        for sock in self.held.values():
            sock.close()
        self.held.clear()
        self.sock.close()
        self._child_sock.close()
        if self._state_fd >= 0:
            os.close(self._state_fd)
            self._state_fd = -1
        with contextlib.suppress(BufferError):
            self.state.close()


class Ledger:
    """The worker's side: registers connections with the control process and marks
    each busy while a request on it has no answer."""

    def __init__(self, keeper_fd: int, state_fd: int) -> None:
        self.sock = socket.socket(fileno=keeper_fd)
        self.sock.setblocking(False)
        self.state = mmap.mmap(state_fd, SLOTS)
        os.close(state_fd)
        self.free = list(range(SLOTS - 1, -1, -1))
        #: connection (the aiohttp protocol object) → (slot, its socket)
        self.slots: dict[Any, tuple[int, Any]] = {}
        #: closes the control process has not been told of yet (its socket was full)
        self.unsent: list[int] = []

    def _send(self, message: bytes, fds: list[int] | None = None) -> bool:
        try:
            if fds:
                socket.send_fds(self.sock, [message], fds)
            else:
                self.sock.send(message)
            return True
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # the control process is gone; the worker stops soon
            return False

    def _flush_unsent(self) -> None:
        while self.unsent:
            slot = self.unsent[-1]
            if not self._send(_slot_message(b"c", slot)):
                return
            self.unsent.pop()
            self.free.append(slot)

    def opened(self, conn: Any, transport: asyncio.BaseTransport) -> None:
        self._flush_unsent()
        sock = transport.get_extra_info("socket")
        if sock is None or not self.free:
            return
        slot = self.free.pop()
        self.state[slot] = NOT_BUSY
        if self._send(_slot_message(b"o", slot), [sock.fileno()]):
            self.slots[conn] = (slot, sock)
        else:
            self.free.append(slot)

    def closed(self, conn: Any) -> None:
        entry = self.slots.pop(conn, None)
        if entry is None:
            return
        slot, sock = entry
        self.state[slot] = NOT_BUSY
        # The control process holds a duplicate: shut the connection down here, so the
        # client sees it end now, not when the control process closes its copy.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        self.unsent.append(slot)
        self._flush_unsent()

    def busy(self, conn: Any) -> None:
        entry = self.slots.get(conn)
        if entry is not None:
            self.state[entry[0]] = BUSY

    def answered(self, conn: Any) -> None:
        entry = self.slots.get(conn)
        if entry is not None:
            self.state[entry[0]] = NOT_BUSY
