"""The link between the control process and one traffic worker.

A socketpair made by the control process before it starts the worker; the
worker gets its end as an inherited file descriptor. Messages are JSON
objects, one per line (`json.dumps` escapes newlines inside strings), each
with a `"t"` naming its kind. A stream keeps order, which the deploy path
relies on: a worker applies deploys in the order the control process sent
them, and a `serve` sent after a deploy reaches the worker after it.

What travels (see `runtime.control.supervisor` and `runtime.traffic.worker`):

- control → worker: `deploy` (canvas, seq, the batch's ops), `reload`
  (canvas: load it afresh from the store), `settings` (a canvas's own settings,
  such as its time limit, changed), `flush` (write the buffered traces
  and report at once: the editor is about to read them), `serve` (start
  accepting traffic), `stop` (finish what is in flight and exit). `deploy`,
  `reload`, `settings` and `flush` carry an `id` the worker answers with `done`.
- worker → control: `loaded` (the live table is built), `done` (id), `beat`
  (every `BEAT_SECONDS`: requests served, and the traffic and flag decisions
  seen since the last beat, for locking and the editor's flag counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

#: How often a worker reports; the supervisor replaces one silent for `stall_seconds`.
BEAT_SECONDS = 0.25

#: The largest line read: a deploy carries one editor batch (4 MiB by default) as JSON text.
MAX_LINE = 256 * 1024 * 1024


class Channel:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_LINE)
        return cls(reader, writer)

    @property
    def closed(self) -> bool:
        return self.writer.is_closing()

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message; a closed channel drops it (the supervisor sees the worker die)."""
        if self.writer.is_closing():
            return
        data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        self.writer.write(data)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next message, or None when the other end is gone."""
        try:
            line = await self.reader.readline()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            return None
        if not line:
            return None
        message = json.loads(line)
        return message if isinstance(message, dict) else None

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
