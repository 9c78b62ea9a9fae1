"""The editor API: one websocket per editor session, on its own port.

`GET /api/canvas/{name}/ws` with the canvas's token (`Authorization: Bearer
TOKEN`, or `?token=` where a header cannot be set). A wrong or missing token,
or a canvas that does not exist, gets 401 and nothing else; tokens are
compared as SHA-256 digests in constant time.

Every message is a JSON object with `"schema"` and `"type"`; `docs/protocol.md`
documents each with an example. A malformed or invalid message gets an
`error` reply naming what was wrong; the connection and the server stay up and
the store is unchanged.

Ordering: each connection has one outbox drained by one sender task. Acks and
broadcasts are put in the outboxes while the canvas's deploy lock is held, so
every editor sees batches in sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from runtime.control import replay
from runtime.control.deploy import Deployed, Deployer, DeployError
from runtime.control.migration_view import MigrationApi, MigrationRequestError
from runtime.control.migrations import MigrationRunner, migration_states
from runtime.control.supervisor import Supervisor
from runtime.control.sync import NodeSync
from runtime.control.test_api import TestApi, TestRequestError
from runtime.control.usage import FlagCounts, Usage
from runtime.services import LIMITS, RuntimeServices
from runtime.store.protocol import StoreError
from runtime.tokens import hash_token, read_admin_token, token_matches
from runtime.traffic.host import CanvasHost
from runtime.traffic.live import load_canvas
from runtime.traffic.server import EDITOR_HEADER
from runtime.traffic.trace_input import input_wire
from shared_ast import wire
from shared_ast.eval_context import ImpureLog, LiveValues
from shared_ast.evaluator import run_toplevel
from shared_ast.toplevels import CronSpec, Handler, ReplSpec, UserFunction

log = logging.getLogger("gloam.editor_api")

WS_PATH = "/api/canvas/{name}/ws"

#: What an editor may send; each is documented in docs/protocol.md.
MESSAGE_TYPES = ("ops", "get_traces", "get_404s", "get_in_use", "get_flags", "get_info",
                 "get_dead_letters", "run", "replay", "set_cron_paused", "set_limits",
                 "get_migration", "get_migrations", "delete_row", "run_tests", "trace_to_test",
                 "ping")


class ProtocolError(Exception):
    """A message the server cannot act on; the text is sent back as an error reply."""


def broadcast_text(seq: int, author: str, ops_json: str) -> str:
    """A `broadcast` message, encoded once for all the sessions that get it (the stored
    ops text goes in as it is, not decoded and encoded again)."""
    head = wire.json_text({"schema": wire.SCHEMA_VERSION, "type": "broadcast", "seq": seq,
                           "author": author}, ensure_ascii=False)
    return head[:-1] + ', "ops": ' + ops_json + "}"


class Session:
    """One connected editor.

    Its outbox holds messages already encoded, and counts their bytes: an editor that
    stops reading (a laptop asleep, a stuck client) while edits keep coming would
    otherwise grow the daemon without bound. Past `backlog_bytes` the session is
    closed with a reason (1013, try again later); the editor reconnects and resumes
    from the last sequence number it saw.
    """

    def __init__(self, ws: web.WebSocketResponse, canvas: str, author: str,
                 backlog_bytes: int = 64 * 1024 * 1024,
                 transport: asyncio.Transport | None = None) -> None:
        self.ws = ws
        self.canvas = canvas
        self.author = author
        self.backlog_bytes = backlog_bytes
        self.transport = transport
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        #: Bytes in the outbox, not yet handed to the socket.
        self.queued = 0
        self.behind = False
        self.closer: asyncio.Task[None] | None = None

    def send(self, message: dict[str, Any]) -> None:
        if self.behind:
            return
        message.setdefault("schema", wire.SCHEMA_VERSION)
        self.send_text(wire.json_text(message, ensure_ascii=False))

    def send_text(self, text: str) -> None:
        """A message already encoded (a broadcast, encoded once for every session)."""
        if self.behind:
            return
        # One message larger than the backlog still goes, alone (a big canvas's hello).
        if self.queued and self.queued + len(text) > self.backlog_bytes:
            self.fall_behind()
            return
        self.queued += len(text)
        self.outbox.put_nowait(text)

    def fall_behind(self) -> None:
        """Too much waits for this editor: drop it all and close the session."""
        self.behind = True
        log.warning("editor %r on canvas %r fell %.1f MiB behind; closing its session (it "
                    "resumes when it reconnects)", self.author, self.canvas,
                    self.queued / 2**20)
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.queued = 0
        self.outbox.put_nowait(None)
        self.closer = asyncio.get_running_loop().create_task(self._close_behind())

    async def _close_behind(self) -> None:
        reason = b"too far behind: reconnect and resume from your last seq"
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
            await asyncio.wait_for(self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER,
                                                 message=reason), 5)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()  # it reads nothing, not even our close: cut it off

    async def pump(self) -> None:
        while True:
            text = await self.outbox.get()
            if text is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
            self.queued -= len(text)


class EditorApi:
    def __init__(self, services: RuntimeServices, deployer: Deployer,
                 supervisor: Supervisor | None = None, sync: NodeSync | None = None,
                 migrations: MigrationRunner | None = None) -> None:
        self.services = services
        # The control process counts traffic and flag decisions itself (a worker's
        # services only report them): its counters answer locks and flag counts.
        assert isinstance(services.usage, Usage) and isinstance(services.flags, FlagCounts)
        self.usage, self.flags = services.usage, services.flags
        self.deployer = deployer
        self.supervisor = supervisor
        self.sync = sync
        self.sessions: dict[str, set[Session]] = {}
        #: The user-traffic port, once the runtime listens on it (for `get_info`).
        self.traffic_port: int | None = None
        #: Datastore migrations: previews, progress pushed to the editors, row deletion.
        self.migrations = MigrationApi(services, migrations,
                                       lambda canvas: self.sessions.get(canvas, ()))
        #: Tests: `run_tests` and `trace_to_test` (runtime/control/test_api.py).
        self.tests = TestApi(services)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.services.config.max_message_bytes)
        app.router.add_get(WS_PATH, self.connect)
        app.router.add_get("/api/health", self.health)
        app.router.add_post("/api/admin/canvas/{name}/reload", self.reload)
        app.router.add_get("/api/admin/status", self.status)
        app.on_shutdown.append(self.close_sessions)
        return app

    async def close_sessions(self, _app: web.Application) -> None:
        """On stop, close every editor's websocket ("going away": the editor reconnects
        later), so the server does not wait out its shutdown timeout for them."""
        for sessions in list(self.sessions.values()):
            for session in list(sessions):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await session.ws.close(code=WSCloseCode.GOING_AWAY,
                                           message=b"the runtime is stopping")

    def require_admin(self, request: web.Request) -> None:
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        admin = read_admin_token(self.services.config.data_dir)
        if not admin or not token_matches(auth, [hash_token(admin)]):
            raise web.HTTPUnauthorized(text="401: the admin token is required\n")

    async def status(self, request: web.Request) -> web.Response:
        """What `gloam runtime status` shows: the store, the canvases, the workers."""
        self.require_admin(request)
        store = self.services.store

        def migrations() -> dict[str, list[dict[str, Any]]]:
            return {s.name: found for s in self.services.live.states()
                    if (found := migration_states(store, s.name, s.program))}

        return web.json_response({
            "store": store.describe(), "store_available": store.available(),
            "canvases": self.services.live.names(),
            "workers": self.supervisor.status() if self.supervisor else [],
            "migrations": await asyncio.to_thread(migrations),
        })

    async def reload(self, request: web.Request) -> web.Response:
        """Load a canvas afresh from the store (after an import) and tell its editors."""
        self.require_admin(request)
        canvas = request.match_info["name"]
        if canvas not in {c.name for c in self.services.store.canvases()}:
            raise web.HTTPNotFound(text=f"no canvas named {canvas!r}\n")
        async with self.deployer.lock(canvas):
            before = self.services.live.get(canvas)
            state = load_canvas(self.services.store, canvas, compile_all=False)
            self.services.live.swap(state)
            if self.supervisor is not None:
                await self.supervisor.fanout({"t": "reload", "canvas": canvas})
            if before is not None:
                for b in self.services.store.ops_since(canvas, before.seq):
                    text = broadcast_text(b.seq, b.author, b.ops_json)
                    for session in self.sessions.get(canvas, ()):
                        session.send_text(text)
        return web.json_response({"canvas": canvas, "seq": state.seq})

    async def health(self, request: web.Request) -> web.Response:
        """Up or not, for anyone: the canvases are listed only to the admin token
        (`/api/admin/status`)."""
        return web.json_response({"ok": True})

    # -------------------------------------------------------------- auth

    async def authorized(self, request: web.Request, canvas: str) -> bool:
        token = ""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        token = token or request.query.get("token", "")
        if not token:
            return False
        hashes = await asyncio.to_thread(self.services.store.token_hashes, canvas)
        if not token_matches(token, hashes):
            return False
        if self.services.live.get(canvas) is None and self.sync is not None:
            await self.sync.catch_up(canvas)  # created on another node of this database
        return self.services.live.get(canvas) is not None

    def broadcast(self, canvas: str, seq: int, author: str, ops_json: str) -> None:
        """A batch deployed on another node, to this node's editors of the canvas."""
        text = broadcast_text(seq, author, ops_json)
        for session in self.sessions.get(canvas, ()):
            session.send_text(text)

    # --------------------------------------------------------- connection

    async def connect(self, request: web.Request) -> web.StreamResponse:
        canvas = request.match_info["name"]
        try:
            allowed = await self.authorized(request, canvas)
        except StoreError as e:
            raise web.HTTPServiceUnavailable(
                text=f"503: this runtime cannot reach its store: {e}\n") from None
        if not allowed:
            raise web.HTTPUnauthorized(text="401: a valid token for this canvas is required\n")
        config = self.services.config
        ws = web.WebSocketResponse(max_msg_size=config.max_message_bytes * 4, heartbeat=30)
        await ws.prepare(request)
        session = Session(ws, canvas, request.query.get("author", "editor"),
                          backlog_bytes=int(config.editor_backlog_mb * 2**20),
                          transport=request.transport)
        pump = asyncio.create_task(session.pump())
        try:
            await self.greet(session, request.query.get("since"))
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.receive(session, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    session.send(
                        {
                            "type": "error",
                            "id": None,
                            "message": "binary messages are not understood; send JSON text",
                        }
                    )
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.sessions.get(canvas, set()).discard(session)
            session.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        return ws

    async def greet(self, session: Session, since: str | None) -> None:
        canvas = session.canvas
        async with self.deployer.lock(canvas):
            state = self.services.live.get(canvas)
            assert state is not None
            self.sessions.setdefault(canvas, set()).add(session)
            # ASCII digits only ("²".isdigit() is true, and int() refuses it), and no
            # more than a sequence number can hold.
            last = (int(since) if since is not None and since.isascii() and since.isdigit()
                    and len(since) <= 18 else None)
            batches = (self.services.store.ops_since(canvas, last)
                       if last is not None and last <= state.seq else None)
            if batches is not None and sum(len(b.ops_json) for b in batches) > (
                    session.backlog_bytes // 2):
                batches = None  # more missed than a session may queue: the whole canvas
            if batches is not None:
                session.send(
                    {"type": "hello", "canvas": canvas, "seq": state.seq, "resumed_from": last}
                )
                for b in batches:
                    session.send_text(broadcast_text(b.seq, b.author, b.ops_json))
            else:
                session.send(
                    {
                        "type": "hello",
                        "canvas": canvas,
                        "seq": state.seq,
                        "toplevels": [wire.encode_toplevel(t) for t in state.toplevels.values()],
                    }
                )

    # ----------------------------------------------------------- messages

    async def receive(self, session: Session, text: str) -> None:
        msg_id: Any = None
        try:
            if len(text.encode()) > self.services.config.max_message_bytes:
                raise ProtocolError(
                    f"the message is larger than {self.services.config.max_message_bytes} bytes; "
                    "send fewer ops per batch"
                )
            try:
                msg = wire.parse_json(text)
            except wire.WireError as e:
                raise ProtocolError(f"the message is not JSON the runtime reads: {e}") from None
            if not isinstance(msg, dict):
                raise ProtocolError('a message is a JSON object with a "type"')
            msg_id = msg.get("id")
            schema = msg.get("schema")
            if type(schema) is not int or schema != wire.SCHEMA_VERSION:
                raise ProtocolError(
                    f"unsupported schema {msg.get('schema')!r}; this runtime speaks schema "
                    f"{wire.SCHEMA_VERSION}"
                )
            kind = msg.get("type")
            match kind:
                case "ops":
                    await self.on_ops(session, msg)
                case "get_traces":
                    await self.on_traces(session, msg)
                case "get_404s":
                    await self.on_404s(session, msg)
                case "get_in_use":
                    await self.catch_up_with_workers()
                    self.on_in_use(session, msg)
                case "get_flags":
                    await self.catch_up_with_workers()
                    session.send({"type": "flags", "id": msg_id,
                                  "flags": self.flags.report(session.canvas)})
                case "get_info":
                    session.send({"type": "info", "id": msg_id, "canvas": session.canvas,
                                  "traffic_url": self.traffic_url(session.canvas),
                                  "editor_header": EDITOR_HEADER,
                                  "lock_window_seconds": self.usage.window_seconds,
                                  **self.services.limits(session.canvas)})
                case "set_limits":
                    await self.on_set_limits(session, msg)
                case "run":
                    await self.on_run(session, msg)
                case "replay":
                    await self.on_replay(session, msg)
                case "get_dead_letters":
                    self.on_dead_letters(session, msg)
                case "set_cron_paused":
                    self.on_cron_paused(session, msg)
                case "get_migration" | "get_migrations" | "delete_row":
                    try:
                        reply = await self.migrations.handle(session.canvas, session.author,
                                                             msg)
                    except MigrationRequestError as e:
                        raise ProtocolError(str(e)) from None
                    session.send(reply)
                case "run_tests" | "trace_to_test":
                    if kind == "trace_to_test":
                        await self.catch_up_with_workers()  # the trace may still be buffered
                    try:
                        session.send(await self.tests.handle(session.canvas, msg))
                    except TestRequestError as e:
                        raise ProtocolError(str(e)) from None
                case "ping":
                    session.send({"type": "pong", "id": msg_id})
                case _:
                    known = ", ".join(MESSAGE_TYPES)
                    raise ProtocolError(f"unknown message type {kind!r}; expected one of: {known}")
        except ProtocolError as e:
            session.send({"type": "error", "id": msg_id, "message": str(e)})
        except RecursionError:
            session.send({"type": "error", "id": msg_id, "message":
                          "the message is nested too deeply to read; nothing was changed. "
                          "Send shallower trees (see the nesting limit in docs/protocol.md)."})
        except DeployError as e:
            session.send(
                {
                    "type": "error",
                    "id": msg_id,
                    "op_index": e.op_index,
                    "message": e.message + " Nothing was changed.",
                }
            )
        except Exception as e:
            log.exception("editor message failed")
            session.send(
                {
                    "type": "error",
                    "id": msg_id,
                    "message": f"the runtime failed on this message ({e}); nothing was "
                    "changed. This is a bug in Gloam; it is in the log.",
                }
            )

    async def on_ops(self, session: Session, msg: dict[str, Any]) -> None:
        try:
            ops = wire.decode_ops(msg.get("ops"))
        except wire.WireError as e:
            raise ProtocolError(f"the ops do not decode: {e}") from None

        def announce(done: Deployed) -> None:
            session.send({"type": "ack", "id": msg.get("id"), "seq": done.seq})
            others = [o for o in self.sessions.get(session.canvas, ()) if o is not session]
            if others:
                text = broadcast_text(done.seq, done.author, done.ops_json)
                for other in others:
                    other.send_text(text)

        await self.deployer.deploy(session.canvas, ops, session.author, on_deployed=announce)

    async def catch_up_with_workers(self) -> None:
        """Have every traffic worker write the traces it still buffers and report the
        traffic it saw: both leave the request path in batches, and an editor asking
        right after a request expects to see it."""
        self.services.write_traces()
        await self.deployer.flush_workers()

    async def on_traces(self, session: Session, msg: dict[str, Any]) -> None:
        tlid = msg.get("tlid")
        if not isinstance(tlid, int) or isinstance(tlid, bool) or not -2**63 <= tlid < 2**63:
            raise ProtocolError('get_traces needs "tlid", the handler\'s id (an integer '
                                "of at most 64 bits)")
        limit = msg.get("limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ProtocolError('"limit" is an integer from 1 to 1000')
        await self.catch_up_with_workers()
        traces = self.services.store.traces(session.canvas, tlid, limit)
        session.send(
            {
                "type": "traces",
                "id": msg.get("id"),
                "tlid": tlid,
                "traces": [_trace_json(t) for t in traces],
            }
        )

    def on_dead_letters(self, session: Session, msg: dict[str, Any]) -> None:
        events = self.services.store.dead_letters(session.canvas)
        session.send({
            "type": "dead_letters", "id": msg.get("id"),
            "events": [
                {"event_id": e.event_id, "queue": e.queue, "attempts": e.attempts,
                 "last_error": e.last_error, "event": wire.json_load(e.payload_json)}
                for e in events
            ],
        })

    async def on_set_limits(self, session: Session, msg: dict[str, Any]) -> None:
        """The canvas's own limits (each null: the runtime's `--time-limit` or
        `--alloc-limit` again), stored for every node and in force in every worker
        before the reply."""
        given = {name: msg[name] for name in LIMITS if name in msg}
        if not given:
            raise ProtocolError("set_limits needs at least one of "
                                + ", ".join(f'"{name}"' for name in LIMITS)
                                + ": a number, or null for the runtime's default")
        for name, value in given.items():
            low, high, unit = LIMITS[name]
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float)
                                      or not low < value <= high):
                raise ProtocolError(f'"{name}" is a number of {unit} above {low:g} and at '
                                    f"most {high:g}, or null; got {value!r}")
        canvas = session.canvas
        store = self.services.store
        settings = dict(await asyncio.to_thread(store.canvas_settings, canvas))
        for name, value in given.items():
            if value is None:
                settings.pop(name, None)
            else:
                settings[name] = float(value)
        await asyncio.to_thread(store.set_canvas_settings, canvas, settings)
        if self.sync is not None:
            await self.sync.apply_settings(canvas, settings)
        else:
            self.services.settings[canvas] = settings
        session.send({"type": "limits", "id": msg.get("id"),
                      **self.services.limits(canvas)})

    def on_cron_paused(self, session: Session, msg: dict[str, Any]) -> None:
        state = self.services.live.get(session.canvas)
        assert state is not None
        tlid, paused = msg.get("tlid"), msg.get("paused")
        cron = state.toplevels.get(tlid) if isinstance(tlid, int) else None
        if not (isinstance(cron, Handler) and isinstance(cron.spec, CronSpec)):
            raise ProtocolError(f"set_cron_paused needs the tlid of a cron; {tlid!r} is none")
        if not isinstance(paused, bool):
            raise ProtocolError("\"paused\" is true or false")
        last_run, _ = self.services.store.cron_state(session.canvas, cron.tlid)
        self.services.store.set_cron_state(session.canvas, cron.tlid, last_run, paused)
        session.send({"type": "cron_paused", "id": msg.get("id"), "tlid": tlid, "paused": paused})

    async def on_404s(self, session: Session, msg: dict[str, Any]) -> None:
        await self.catch_up_with_workers()
        traces = self.services.store.traces(session.canvas, None, 1000)
        grouped: dict[str, dict[str, Any]] = {}
        for t in traces:
            entry = grouped.setdefault(
                t.description,
                {
                    "description": t.description,
                    "count": 0,
                    "last_at": t.at,
                    "trace_id": t.trace_id,
                },
            )
            entry["count"] += 1
        session.send({"type": "404s", "id": msg.get("id"), "requests": list(grouped.values())})

    def traffic_url(self, canvas: str) -> str:
        """Where user traffic reaches the canvas (the port actually listened on)."""
        config = self.services.config
        port = self.traffic_port or config.port
        return f"http://{config.host}:{port}/c/{canvas}"

    def on_in_use(self, session: Session, msg: dict[str, Any]) -> None:
        """The canvas's locked toplevels: what traffic reached recently, and through what."""
        state = self.services.live.get(session.canvas)
        assert state is not None
        usage = self.usage
        found = usage.in_use(session.canvas, state.toplevels)
        session.send({
            "type": "in_use", "id": msg.get("id"), "window_seconds": usage.window_seconds,
            "locked": [{"tlid": u.tlid, "requests": u.requests, "last_at": u.last_at,
                           "via": u.via} for u in found.values()],
        })

    async def on_run(self, session: Session, msg: dict[str, Any]) -> None:
        """Run a toplevel for the editor, off the event loop and within the run limits,
        so a runaway never holds up the editor API or a deploy."""
        state = self.services.live.get(session.canvas)
        assert state is not None
        tlid = msg.get("tlid")
        tl = state.toplevels.get(tlid) if isinstance(tlid, int) else None
        if not isinstance(tl, Handler | UserFunction):
            raise ProtocolError(
                f"run needs the tlid of a handler, REPL or function; {tlid!r} is none"
            )
        inputs = self.run_inputs(session.canvas, tl, msg)
        budget = self.services.budget(session.canvas)
        host = CanvasHost(self.services, session.canvas, state.program)

        def run_and_encode() -> tuple[Any, Any]:
            # Encoding a run's live values can take a while too (every iteration of every
            # lambda, up to live.MAX_WEIGHT): off the event loop, with the run.
            live = LiveValues()
            value = run_toplevel(tl, inputs, state.program, live=live, budget=budget,
                                 impure=ImpureLog(), host=host)
            return wire.encode_value(value), wire.encode_live_values(live)

        value, live = await asyncio.to_thread(run_and_encode)
        session.send({"type": "result", "id": msg.get("id"), "tlid": tlid, "value": value,
                      "live": live})

    async def on_replay(self, session: Session, msg: dict[str, Any]) -> None:
        """Run a handler's stored traces with its live code and with a candidate version."""
        state = self.services.live.get(session.canvas)
        assert state is not None
        tlid = msg.get("tlid")
        live = state.toplevels.get(tlid) if isinstance(tlid, int) else None
        if not isinstance(live, Handler):
            raise ProtocolError(f"replay needs the tlid of a handler; {tlid!r} is none")
        try:
            candidate = wire.decode_toplevel(msg.get("toplevel"), "$.toplevel")
        except wire.WireError as e:
            raise ProtocolError(f"the candidate does not decode: {e}") from None
        if not isinstance(candidate, Handler) or candidate.tlid != live.tlid:
            raise ProtocolError("the candidate must be a version of the same handler "
                                f"(tlid {live.tlid})")
        limit = msg.get("limit", 100)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise ProtocolError('"limit" is a whole number from 1 to 1000')
        try:
            others = replay.changed_toplevels(msg.get("changed", []), state.toplevels, live.tlid)
        except ValueError as e:
            raise ProtocolError(str(e)) from None
        await self.catch_up_with_workers()
        traces = self.services.store.traces(session.canvas, live.tlid, limit)
        program = replay.program_with(list(state.toplevels.values()), candidate, *others)
        # Replays can take a while: run them off the event loop so traffic keeps flowing.
        rows = await asyncio.to_thread(replay.replay, live, candidate, state.program, program,
                                       traces)
        differ = sum(1 for r in rows if not r.same)
        session.send({"type": "replay_report", "id": msg.get("id"), "tlid": live.tlid,
                      "replayed": len(rows), "differ": differ,
                      "rows": [r.to_json() for r in rows]})

    def run_inputs(
        self, canvas: str, tl: Handler | UserFunction, msg: dict[str, Any]
    ) -> dict[str, Any]:
        trace_id = msg.get("trace_id")
        if trace_id is not None:
            for t in self.services.store.traces(canvas, tl.tlid, 1000):
                if t.trace_id == trace_id:
                    return replay.trace_inputs(tl, t)
            raise ProtocolError(f"no trace {trace_id!r} for toplevel {tl.tlid}")
        raw = msg.get("inputs", {})
        if not isinstance(raw, dict):
            raise ProtocolError('"inputs" is an object from name to a value in the wire format')
        try:
            inputs = {k: wire.decode_value(v) for k, v in raw.items()}
        except wire.WireError as e:
            raise ProtocolError(f"an input does not decode: {e}") from None
        if (
            isinstance(tl, Handler)
            and not isinstance(tl.spec, ReplSpec)
            and "request" not in inputs
        ):
            inputs.setdefault("request", None)
        return inputs


def _trace_json(t: Any) -> dict[str, Any]:
    return {
        "trace_id": t.trace_id,
        "at": t.at,
        "description": t.description,
        "duration_ms": t.duration_ms,
        "input": input_wire(t.input_json),
        "output": wire.json_load(t.output_json),
    }
