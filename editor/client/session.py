"""The editor's websocket session with the runtime: one canvas, edits out, news in.

Widgets never hold a socket. They call `CanvasSession.send_ops` and
`CanvasSession.request` and listen to Qt signals; everything about the wire
(docs/protocol.md, "Messages between editor and runtime") stays here.

The promise is that nothing typed is lost or applied twice:

* A batch of ops is queued with a local number and kept until the runtime
  acks it (or refuses it). Batches go out in order; while the runtime is
  unreachable they wait, and with a `queue_path` they are written to disk on
  every change, so closing the editor while offline keeps them.
* Reconnecting resumes from the last sequence number seen (`since=SEQ`); the
  runtime replays every batch committed after it, the editor's own included.
  A replayed batch with our author and exactly the ops of a queued batch is
  one the runtime committed while its ack was lost: it counts as acked and is
  not sent again. Only after the replay are the remaining batches sent.
* A full reload (the first connection, or `resync()`) carries no replay, so
  when batches may be in flight a short resume connection is made first to
  learn which of them the runtime already has.

The session runs on whatever asyncio loop is current: qasync's Qt loop in the
app, a plain asyncio loop in tests. Signals are emitted on that loop's thread,
so connected slots run directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from PySide6.QtCore import QObject, Signal

from editor.client.queue_file import (
    PendingBatch,
    QueueFileError,
    SavedQueue,
    is_int,
    load_queue,
    save_queue,
)
from shared_ast import wire
from shared_ast.ops import Op

CONNECTING = "connecting"
ONLINE = "online"
OFFLINE = "offline"

FIRST_DELAY = 0.2
MAX_DELAY = 5.0
#: How long the runtime may take to greet and replay before the attempt counts as failed.
GREETING_TIMEOUT = 15.0
HEARTBEAT = 15.0
#: A whole canvas arrives in one hello; the runtime's own cap on what it accepts is lower.
MAX_INCOMING_BYTES = 256 * 1024 * 1024
#: The largest batch message the runtime accepts (its `max_message_bytes`); a larger
#: one would be refused, or its connection closed, on every resend.
MAX_BATCH_BYTES = 4 * 1024 * 1024
LOST_REFUSAL = ("the runtime refused this batch while the connection was down (its answer "
                "was lost); nothing of it was applied")
_CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


class SessionError(Exception):
    """A request that cannot be answered, or an edit queue that cannot be read."""


class _Malformed(Exception):
    """A message from the runtime that this editor cannot read."""


class _Dropped(Exception):
    """The connection ended; the text says how."""


class SessionSignals(QObject):
    """What a canvas session tells the editor: the signals `EditorController` listens to.

    `CanvasSession` sends them from its websocket; a test's stand-in session subclasses
    this to send them by hand.

    Signals:
        connection_changed(str state, str detail): `state` is "connecting",
            "online" or "offline"; `detail` says where, why and how many edits wait,
            e.g. "runtime unreachable at 127.0.0.1:8471: connection refused;
            retrying in 2 s; 3 edits queued".
        loaded(object): the canvas as a list of `Toplevel`, from a full hello.
            Batches still pending (`pending_batches`) are not in it yet.
        remote_ops(object, str): (list of `Op`, author) for a batch another
            editor committed, including those replayed on resume, in order.
        acked(int, int): (local batch number, canvas sequence number).
        rejected(int, str, object): (local batch number, the runtime's message,
            index of the op at fault or None). Nothing of that batch was applied;
            the usual answer is `resync()`.
        pending_changed(int): the number of batches not yet acked.
        problem(str): something the runtime sent could not be read, or the
            edit queue could not be saved; the session carries on.
        migrations_pushed(object): the canvas's datastore migration states (a list of dicts,
            docs/protocol.md "get_migrations"), pushed by the runtime when one changes.
    """

    connection_changed = Signal(str, str)
    loaded = Signal(object)
    remote_ops = Signal(object, str)
    acked = Signal(int, int)
    rejected = Signal(int, str, object)
    pending_changed = Signal(int)
    problem = Signal(str)
    migrations_pushed = Signal(object)


class CanvasSession(SessionSignals):
    """The websocket session of one canvas (its signals: `SessionSignals`)."""

    def __init__(self, editor_url: str, canvas: str, token: str, author: str,
                 queue_path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        parts = urlsplit(editor_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SessionError(f"the editor URL {editor_url!r} is not like http://127.0.0.1:8471;"
                               " `gloam runtime status` prints the editor port")
        scheme = "wss" if parts.scheme == "https" else "ws"
        base = parts.path.rstrip("/")
        self._ws_url = f"{scheme}://{parts.netloc}{base}/api/canvas/{quote(canvas, safe='')}/ws"
        self._where = parts.netloc
        self.canvas = canvas
        self.author = author
        self._token = token
        self._queue_path = queue_path
        self._state, self._detail = OFFLINE, "not started"
        self._seq: int | None = None
        self._pending: list[PendingBatch] = []
        self._next_number = 1
        self._want_full = True
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._reconnect_now = False
        self._offline_reason, self._retry_delay = "not started", FIRST_DELAY
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closing: asyncio.Future[bool] | None = None  # held so the close is not collected
        self._outbox: asyncio.Queue[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._requests: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._request_count = 0
        if queue_path is not None and queue_path.exists():
            self._load_queue(queue_path)

    # ------------------------------------------------------------ public

    @property
    def state(self) -> str:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def token(self) -> str:
        """The canvas's editor token (the editor's own requests carry it: Send as me)."""
        return self._token

    @property
    def seq(self) -> int | None:
        """The last canvas sequence number seen, or None before the first hello."""
        return self._seq

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def pending_batches(self) -> tuple[PendingBatch, ...]:
        return tuple(self._pending)

    def start(self) -> None:
        """Connect, and keep reconnecting (0.2 s doubling to 5 s) until `close()`."""
        if self._closed:
            raise SessionError("this session is closed; make a new one")
        if self._task is None:
            self._set_state(CONNECTING, self._connecting_detail())
            self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        """Disconnect for good; unacked batches stay in the queue file."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail_requests("the session was closed")
        self._persist()
        self._set_state(OFFLINE, f"closed; {_edits(len(self._pending))} queued")

    def send_ops(self, ops: Iterable[Op]) -> int:
        """Queue a batch (applied all or nothing by the runtime); returns its local number."""
        batch_ops = tuple(ops)
        if not batch_ops:
            raise ValueError("a batch holds at least one op")
        for op in batch_ops:
            if not isinstance(op, Op):
                raise TypeError(f"a batch holds ops from shared_ast.ops, not {op!r}")
        batch = PendingBatch(self._next_number, batch_ops, self.author)
        message = self._batch_message(batch)  # fails here, not later, if an op cannot encode
        problem = _size_problem(message)
        if problem is not None:
            raise SessionError(problem)
        self._next_number += 1
        self._pending.append(batch)
        self._pending_changed()
        if self._state == ONLINE and self._outbox is not None:
            self._outbox.put_nowait(message)
        return batch.number

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send get_traces, get_404s, run, ping... and return the reply with the same id."""
        kind = message.get("type")
        if kind == "ops":
            raise SessionError("send ops with send_ops(), which keeps them until they are acked")
        if not isinstance(kind, str):
            raise SessionError('a request needs a "type", for example {"type": "ping"}')
        if self._state != ONLINE or self._outbox is None:
            why = f"the editor is not connected to the runtime ({self._detail})"
            raise SessionError(f"cannot send {kind}: {why}")
        self._request_count += 1
        request_id = f"q{self._request_count}"
        try:
            text = json.dumps({**message, "schema": wire.SCHEMA_VERSION, "id": request_id})
        except (TypeError, ValueError) as e:
            raise SessionError(f"the {kind} request is not JSON: {e}") from None
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._requests[request_id] = future
        self._outbox.put_nowait(text)
        try:
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            why = f"the runtime at {self._where} did not answer {kind} within {timeout:g} s"
            raise SessionError(why) from None
        finally:
            self._requests.pop(request_id, None)
        if reply.get("type") == "error":
            raise SessionError(f"the runtime refused {kind}: {reply.get('message')}")
        return reply

    def resync(self) -> None:
        """Reload the whole canvas: reconnect without `since`, for a full hello."""
        self._want_full = True
        self._reconnect_now = True
        self._wake.set()
        if self._ws is not None and not self._ws.closed:
            self._closing = asyncio.ensure_future(self._ws.close())

    # ------------------------------------------------------ connection loop

    async def _run(self) -> None:
        delay = FIRST_DELAY
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not self._closed:
                self._reconnect_now = False
                self._set_state(CONNECTING, self._connecting_detail())
                went_online, reason = await self._connect(http)
                if self._closed:
                    return
                if went_online:
                    delay = FIRST_DELAY
                if self._reconnect_now:
                    self._reconnect_now = False
                    continue
                self._offline_reason, self._retry_delay = reason, delay
                self._set_state(OFFLINE, self._offline_detail())
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                self._reconnect_now = False
                delay = min(delay * 2, MAX_DELAY)

    async def _connect(self, http: aiohttp.ClientSession) -> tuple[bool, str]:
        """One attempt, with its resume probe if needed: (went online, why it ended)."""
        went_online, probed = False, False
        try:
            while True:
                probe = (self._want_full and not probed and bool(self._pending)
                         and self._seq is not None)
                since = self._seq if probe or not self._want_full else None
                went_online, reason = await self._open(http, since, probe)
                if reason is not None:
                    return went_online, reason
                probed = probed or probe
        except aiohttp.WSServerHandshakeError as e:
            return went_online, (
                f"the runtime at {self._where} refused the token for canvas {self.canvas!r} "
                "(401): the canvas does not exist there or the token is wrong; check the "
                "connection settings" if e.status == 401 else
                f"the runtime at {self._where} refused the connection ({e.status})"
            )
        except aiohttp.ClientConnectorError as e:
            errno = getattr(e.os_error, "errno", None)
            why = os.strerror(errno).lower() if errno else str(e.os_error)
            return went_online, f"runtime unreachable at {self._where}: {why}"
        except _Malformed as e:
            self.problem.emit(f"the runtime sent a message this editor cannot read: {e}")
            return went_online, f"the runtime at {self._where} sent an unreadable greeting"
        except _Dropped as e:
            return went_online, str(e)
        except TimeoutError:
            return went_online, f"the runtime at {self._where} did not greet in time"
        except (aiohttp.ClientError, OSError) as e:
            return went_online, f"lost the connection to {self._where}: {e or type(e).__name__}"

    async def _open(
        self, http: aiohttp.ClientSession, since: int | None, probe: bool
    ) -> tuple[bool, str | None]:
        """Connect once. Returns (went online, why it ended), or a None reason when a
        full reload should follow at once (after a probe, or a resync asked meanwhile)."""
        params = {"author": self.author}
        if since is not None:
            params["since"] = str(since)
        async with http.ws_connect(
            self._ws_url, params=params, headers={"Authorization": f"Bearer {self._token}"},
            heartbeat=HEARTBEAT, max_msg_size=MAX_INCOMING_BYTES,
        ) as ws:
            hello = await self._receive(ws)
            if hello["type"] != "hello":
                raise _Malformed(f"expected a hello first, got {hello['type']!r}")
            target = _int_field(hello, "seq")
            if "toplevels" in hello:
                self._on_full_hello(hello, target)
            else:
                while self._seq is not None and self._seq < target:
                    self._on_replayed(await self._receive(ws), quiet=probe)
                if probe or self._want_full:
                    return False, None
            return True, await self._serve(ws)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> str:
        outbox: asyncio.Queue[str] = asyncio.Queue()
        writer = asyncio.ensure_future(_write(ws, outbox))
        writer.add_done_callback(lambda done: self._writer_stopped(ws, done))
        self._ws, self._outbox, self._writer = ws, outbox, writer
        for batch in self._pending:
            outbox.put_nowait(self._batch_message(batch))
        self._persist()  # the queue file now records the seq a later resume starts from
        queued = f"; sending {_edits(len(self._pending))}" if self._pending else ""
        where = f"connected to {self._where}, canvas {self.canvas} at seq {self._seq}"
        self._set_state(ONLINE, where + queued)
        reason = ""
        try:
            while True:
                msg = await ws.receive()
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self._on_text(msg.data)
                elif msg.type in _CLOSED:
                    if msg.type == aiohttp.WSMsgType.CLOSE and msg.extra:
                        reason = f": {msg.extra}"  # e.g. this editor fell too far behind
                    break
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    break
                else:
                    self.problem.emit(f"the runtime sent a {msg.type.name} frame; ignored")
        finally:
            self._ws = self._outbox = self._writer = None
            writer.cancel()
            self._fail_requests("the connection to the runtime was lost before it answered")
        if self._reconnect_now:
            return "reloading the canvas"
        return f"the runtime at {self._where} closed the connection{reason}"

    def _writer_stopped(self, ws: aiohttp.ClientWebSocketResponse, done: asyncio.Task[None]
                        ) -> None:
        """The writer ended while the connection was up: close it, so the session
        reconnects and sends what is queued again, instead of queueing into nothing."""
        if done.cancelled():
            return
        error = done.exception()  # retrieved even when ignored, so asyncio does not warn
        if ws.closed or self._ws is not ws:
            return
        why = f"{type(error).__name__}: {error}" if error is not None else "the socket closed"
        self.problem.emit(f"sending to the runtime failed ({why}); reconnecting")
        self._closing = asyncio.ensure_future(ws.close())

    def diagnose(self) -> str:
        """The connection's insides in one line, for a stalled test or a bug report."""
        writer = self._writer
        writer_state = ("none" if writer is None else "running" if not writer.done()
                        else "cancelled" if writer.cancelled()
                        else f"ended ({writer.exception()!r})")
        outbox = self._outbox.qsize() if self._outbox is not None else None
        return (f"state {self._state}, seq {self._seq}, {len(self._pending)} batches unacked, "
                f"{len(self._requests)} requests waiting, outbox {outbox}, writer {writer_state}, "
                f"socket closed: {self._ws.closed if self._ws is not None else None}")

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        msg = await ws.receive(timeout=GREETING_TIMEOUT)
        if msg.type == aiohttp.WSMsgType.TEXT:
            return _parse(msg.data)
        if msg.type == aiohttp.WSMsgType.ERROR:
            raise _Dropped(f"lost the connection to {self._where}: {ws.exception()}")
        if msg.type in _CLOSED:
            raise _Dropped(f"the runtime at {self._where} closed the connection")
        raise _Malformed(f"a {msg.type.name} frame where a JSON text message belongs")

    # ------------------------------------------------------------ messages

    def _on_full_hello(self, hello: dict[str, Any], seq: int) -> None:
        raw = hello["toplevels"]
        if not isinstance(raw, list):
            raise _Malformed("the hello's toplevels are not a list")
        try:
            toplevels = [wire.decode_toplevel(t, f"$.toplevels[{i}]") for i, t in enumerate(raw)]
        except wire.WireError as e:
            raise _Malformed(f"hello: {e}") from None
        self._seq = seq
        self._want_full = False
        self.loaded.emit(toplevels)

    def _on_replayed(self, msg: dict[str, Any], quiet: bool) -> None:
        """A batch replayed on resume: ours (its ack was lost) or another editor's."""
        if msg["type"] != "broadcast":
            raise _Malformed(f"expected the replayed batches, got {msg['type']!r}")
        seq, author, ops = _broadcast(msg)
        self._seq = seq
        for i, batch in enumerate(self._pending):
            if batch.author == author and batch.ops == tuple(ops):
                # Batches queued before it reached the runtime first, so the runtime
                # refused them; their answers were lost with the connection.
                for lost in self._pending[:i]:
                    self._drop(lost.number)
                    self.rejected.emit(lost.number, LOST_REFUSAL, None)
                self._drop(batch.number)
                self.acked.emit(batch.number, seq)
                return
        if not quiet:
            self.remote_ops.emit(ops, author)

    def _on_text(self, text: str) -> None:
        try:
            msg = _parse(text)
            match msg["type"]:
                case "ack":
                    self._on_ack(msg)
                case "error":
                    self._on_error(msg)
                case "broadcast":
                    try:
                        seq, author, ops = _broadcast(msg)
                    except _Malformed:
                        self.resync()  # a batch we cannot read leaves our copy behind
                        raise
                    self._seq = seq
                    self.remote_ops.emit(ops, author)
                case "migrations" if "id" not in msg:
                    self.migrations_pushed.emit(_migration_states(msg))
                case _:
                    future = self._waiting(msg)
                    if future is None:
                        raise _Malformed(f"an unexpected {msg['type']!r} message")
                    future.set_result(msg)
        except _Malformed as e:
            self.problem.emit(f"the runtime sent a message this editor cannot read: {e}")

    def _on_ack(self, msg: dict[str, Any]) -> None:
        number = _batch_number(msg.get("id"))
        seq = _int_field(msg, "seq")
        self._seq = max(seq, self._seq or 0)
        if number is None or not self._drop(number):
            raise _Malformed(f"an ack for {msg.get('id')!r}, which is no batch waiting here")
        self.acked.emit(number, seq)

    def _on_error(self, msg: dict[str, Any]) -> None:
        text = msg.get("message")
        message = text if isinstance(text, str) else "the runtime refused it (no reason given)"
        number = _batch_number(msg.get("id"))
        if number is not None and self._drop(number):
            op_index = msg.get("op_index")
            self.rejected.emit(number, message, op_index if isinstance(op_index, int) else None)
            return
        future = self._waiting(msg)
        if future is not None:
            future.set_result(msg)
            return
        self.problem.emit(f"the runtime reported: {message}")

    def _waiting(self, msg: dict[str, Any]) -> asyncio.Future[dict[str, Any]] | None:
        """The request this message answers, if one is still waiting."""
        msg_id = msg.get("id")
        future = self._requests.get(msg_id) if isinstance(msg_id, str) else None
        return future if future is not None and not future.done() else None

    # -------------------------------------------------------------- queue

    def _batch_message(self, batch: PendingBatch) -> str:
        return json.dumps(
            {"schema": wire.SCHEMA_VERSION, "type": "ops", "id": f"b{batch.number}",
             "ops": wire.encode_ops(batch.ops)},
            allow_nan=False, ensure_ascii=False,
        )

    def _drop(self, number: int) -> bool:
        for i, batch in enumerate(self._pending):
            if batch.number == number:
                del self._pending[i]
                self._pending_changed()
                return True
        return False

    def _persist(self) -> None:
        if self._queue_path is None:
            return
        try:
            save_queue(self._queue_path, self.canvas,
                       SavedQueue(self._seq, self._next_number, tuple(self._pending)))
        except OSError as e:
            self.problem.emit(f"cannot save the edit queue to {self._queue_path}: {e}; unsent "
                              "edits are kept in memory only until the runtime acks them")

    def _load_queue(self, path: Path) -> None:
        try:
            saved = load_queue(path, self.canvas)
        except QueueFileError as e:
            raise SessionError(str(e)) from None
        self._seq, self._next_number = saved.seq, saved.next_number
        self._pending = list(saved.batches)

    # --------------------------------------------------------------- misc

    def _connecting_detail(self) -> str:
        return f"connecting to {self._where} (canvas {self.canvas})"

    def _offline_detail(self) -> str:
        return (f"{self._offline_reason}; retrying in {self._retry_delay:g} s; "
                f"{_edits(len(self._pending))} queued")

    def _pending_changed(self) -> None:
        self._persist()
        self.pending_changed.emit(len(self._pending))
        if self._state == OFFLINE and not self._closed and self._task is not None:
            self._set_state(OFFLINE, self._offline_detail())

    def _set_state(self, state: str, detail: str) -> None:
        if (state, detail) == (self._state, self._detail):
            return
        self._state, self._detail = state, detail
        self.connection_changed.emit(state, detail)

    def _fail_requests(self, why: str) -> None:
        for future in self._requests.values():
            if not future.done():
                future.set_exception(SessionError(why))
        self._requests.clear()


async def _write(ws: aiohttp.ClientWebSocketResponse, outbox: asyncio.Queue[str]) -> None:
    """The one writer of a connection, so messages leave in the order they were queued."""
    while True:
        text = await outbox.get()
        await ws.send_str(text)  # a failure ends the writer, and the session reconnects


def _parse(text: str) -> dict[str, Any]:
    try:
        msg = json.loads(text)
    except ValueError as e:
        raise _Malformed(f"not JSON ({e})") from None
    if not isinstance(msg, dict):
        raise _Malformed("not a JSON object")
    if msg.get("schema") != wire.SCHEMA_VERSION:
        raise _Malformed(
            f"schema {msg.get('schema')!r}; this editor speaks schema {wire.SCHEMA_VERSION}"
        )
    if not isinstance(msg.get("type"), str):
        raise _Malformed('a message without a "type"')
    return msg


def _broadcast(msg: dict[str, Any]) -> tuple[int, str, list[Op]]:
    seq = _int_field(msg, "seq")
    author = msg.get("author")
    if not isinstance(author, str):
        raise _Malformed('a broadcast without an "author"')
    try:
        ops = wire.decode_ops(msg.get("ops"), "$.ops")
    except wire.WireError as e:
        raise _Malformed(f"broadcast of seq {seq}: {e}") from None
    return seq, author, ops


def _migration_states(msg: dict[str, Any]) -> list[dict[str, Any]]:
    states = msg.get("migrations")
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise _Malformed(f"migrations: 'migrations' is not a list of objects ({states!r:.80})")
    return states


def _int_field(msg: dict[str, Any], key: str) -> int:
    value = msg.get(key)
    if not is_int(value):
        raise _Malformed(f"{msg.get('type')}: {key!r} is not an integer ({value!r})")
    return int(value)


def _batch_number(message_id: object) -> int | None:
    if isinstance(message_id, str) and message_id.startswith("b") and message_id[1:].isdigit():
        return int(message_id[1:])
    return None


def _size_problem(message: str) -> str | None:
    size = len(message.encode())
    if size <= MAX_BATCH_BYTES:
        return None
    return (f"the edit is {size / 2**20:.1f} MB on the wire, and the runtime takes at most "
            f"{MAX_BATCH_BYTES // 2**20} MB in one batch; make it in smaller steps")


def _edits(n: int) -> str:
    return "no edits" if n == 0 else "1 edit" if n == 1 else f"{n} edits"
