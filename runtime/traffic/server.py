"""Serving user traffic: HTTP request → canvas → handler → value → response.

A request reaches a canvas by Host name (`NAME.localhost:PORT`) or by a
`/c/NAME/` path prefix. It takes the canvas's current `CanvasState` once, at
the start, and runs on that snapshot to the end, whatever deploys happen
meanwhile. The handler's value becomes the response (see `runtime.traffic.responses`),
and every request, matched or not, is stored as a trace.

User code runs inside the evaluator's step and depth budget; anything that
still goes wrong inside it is caught here, logged with the trace id and
answered 500: a crash in user code never stops the server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

from runtime.inflight import Ledger
from runtime.services import RuntimeServices, impure_to_json, new_trace_id
from runtime.tokens import token_matches
from runtime.traffic.connections import (
    TrafficHttp,
    accept_batch,
    connection_cap,
    raise_open_file_limit,
)
from runtime.traffic.host import CanvasHost
from runtime.traffic.live import LiveTable
from runtime.traffic.responses import HttpAnswer, answer_for, error_answer, handler_label
from runtime.traffic.trace_input import RawRequest, parse_body, request_value
from shared_ast.compiler import Compiled
from shared_ast.eval_context import Budget, ImpureLog
from shared_ast.evaluator import run_toplevel
from shared_ast.limits import Preempted
from shared_ast.program import Program
from shared_ast.toplevels import Handler
from shared_ast.values import FrozenDict

log = logging.getLogger("gloam.traffic")

CANVAS_PREFIX = "/c/"


#: The header the editor's "Send as me" sets to its canvas token (see `Flag::justMe_v0`).
EDITOR_HEADER = "X-Gloam-Editor"
EDITOR_HEADER_KEY = EDITOR_HEADER.lower()


def resolve_canvas(request: web.BaseRequest) -> tuple[str | None, str]:
    """(canvas name, path inside the canvas) from the Host header or a /c/NAME/ prefix."""
    path = request.path
    if path.startswith(CANVAS_PREFIX):
        rest = path[len(CANVAS_PREFIX) :]
        name, _, inner = rest.partition("/")
        return (name or None), "/" + inner
    host = (request.host or "").rsplit(":", 1)[0].lower()
    if host.endswith(".localhost"):
        return host[: -len(".localhost")].split(".")[-1] or None, path
    return None, path


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


async def read_request(request: web.BaseRequest, max_body: int, timeout: float = 30.0
                       ) -> tuple[RawRequest | None, FrozenDict, tuple[int, str] | None]:
    """The request as a trace keeps it and as the handler sees it, or a reason it
    cannot be read, with its status (400; 413 when the body is too large, 408 when it
    is too slow)."""
    too_large = f"the request body is larger than {max_body} bytes"
    try:
        data = await asyncio.wait_for(request.read(), timeout)
    except web.HTTPRequestEntityTooLarge:  # far larger: aiohttp stopped reading it
        return None, FrozenDict(), (413, too_large)
    except TimeoutError:
        return None, FrozenDict(), (408, f"the request body did not arrive within {timeout:g} s")
    except ConnectionError:  # the client left halfway through its body; nobody will read
        return None, FrozenDict(), (400, "the client closed the connection before its whole "
                                         "body")
    if len(data) > max_body:
        return None, FrozenDict(), (413, too_large)
    text = _text(data) if data else None
    ctype = request.content_type
    is_json = ctype == "application/json" or ctype.endswith("+json")
    try:
        body = parse_body(text, is_json)
    except Exception as e:
        return None, FrozenDict(), (400, f"the request body is not valid JSON: {e}")
    query = dict(request.query.items())
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.pop(EDITOR_HEADER_KEY, None)  # a token must never reach user code or a trace
    raw = RawRequest(request.method, request.path, query, headers, text, is_json)
    return raw, request_value(request.method, request.path, query, headers, body), None


#: What `TrafficServer.run` gives: the answer, and the impure calls the run made.
RunResult = tuple["HttpAnswer", "ImpureLog | None"]


class SlowLane:
    """Where a handler runs: on the event loop, or in a thread when it takes long.

    Most handlers answer in well under a millisecond, and handing every request to
    a thread would cost more than it runs. But one that runs long (a runaway that
    its limits stop only after a second, a big computation) would hold the loop,
    and every request of the worker behind it. So a run on the loop gives the loop
    up after `SLOW_SECONDS` (`Budget.yield_at`): it is abandoned and run again from
    the start in a thread, with the same deadline, replaying the effects the first
    attempt made (its impure log) instead of repeating them. In the thread, the
    interpreter switches between it and the loop every millisecond
    (`sys.setswitchinterval` in the worker), so quick requests keep flowing. The
    handler's next requests go straight to a thread, until one of them is quick.
    """

    SLOW_SECONDS = 0.005
    THREADS = 4

    def __init__(self) -> None:
        self._slow: set[tuple[str, int]] = set()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.THREADS, thread_name_prefix="gloam-slow")
        return self._pool

    def holds(self, key: tuple[str, int]) -> bool:
        return key in self._slow

    def on_loop(self, budget: Budget) -> Budget:
        """The budget of a run on the loop: it gives the loop up after SLOW_SECONDS."""
        budget.start()  # the deadline counts from the request, wherever it runs
        budget.yield_at = time.monotonic() + self.SLOW_SECONDS
        return budget

    async def moved(self, key: tuple[str, int], run: Callable[..., RunResult],
                    budget: Budget, impure: ImpureLog) -> RunResult:
        """Run again in a thread a run that gave the loop up, replaying its effects."""
        self._slow.add(key)
        again = attrs.evolve(budget, steps=0, depth=0, allocated=0, yield_at=None)
        return await asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(
            run, budget=again, impure=ImpureLog(impure.calls)))

    async def in_thread(self, key: tuple[str, int], run: Callable[..., RunResult],
                        budget: Budget) -> RunResult:
        """A run of a handler slow lately: in a thread, until one is quick again."""
        budget.start()
        started = time.monotonic()
        result = await asyncio.get_running_loop().run_in_executor(
            self.pool, functools.partial(run, budget=budget))
        if time.monotonic() - started < self.SLOW_SECONDS / 2:
            self._slow.discard(key)  # quick again: back to the loop
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class TrafficServer:
    def __init__(self, live: LiveTable, services: RuntimeServices,
                 ledger: Ledger | None = None) -> None:
        self.live = live
        self.services = services
        self.config = services.config
        self.slow_lane = SlowLane()
        #: In a traffic worker: the connections the control process answers 503 if
        #: this worker dies with a request in flight (see `runtime.inflight`).
        self.ledger = ledger
        self.http: TrafficHttp | None = None
        #: The listen backlog to serve with (see `runtime.traffic.connections.accept_batch`).
        self.accept_batch = 512

    def server(self) -> web.Server:
        """aiohttp's low-level server, without an Application: the runtime routes each
        request itself (Host or /c/NAME/, then the canvas's routes), so aiohttp's
        router and middleware chain were work for nothing (about a tenth of a
        small request)."""
        max_size = self.config.max_body_bytes + 1024

        def make_request(message: Any, payload: Any, protocol: Any, writer: Any,
                         task: Any, _cls: Any = None) -> web.BaseRequest:
            return web.BaseRequest(message, payload, protocol, writer, task,
                                   asyncio.get_running_loop(), client_max_size=max_size)

        config = self.config
        open_files = raise_open_file_limit()
        self.accept_batch = accept_batch(open_files)
        cap = connection_cap(config.max_connections, config.workers, open_files)
        self.http = TrafficHttp(self.handle_timed, request_factory=make_request,
                                access_log=None, header_timeout=config.header_timeout_seconds,
                                cap=cap, ledger=self.ledger)
        return self.http

    async def handle_timed(self, request: web.BaseRequest) -> web.StreamResponse:
        """`handle`, with the connection's header timer stopped (and it marked busy in
        the ledger) until the request has its answer."""
        http, conn = self.http, request.protocol
        assert http is not None
        http.request_started(conn)
        try:
            return await self.handle(request)
        finally:
            http.request_finished(conn)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        trace_id = new_trace_id()
        canvas, path = resolve_canvas(request)
        if canvas is None:
            return _send(
                error_answer(
                    404,
                    "This address names no canvas.",
                    # Which canvases exist is not for strangers: the editor lists them.
                    f"Reach a canvas as http://NAME.localhost:{self.config.port}/... or "
                    f"http://{self.config.host}:{self.config.port}/c/NAME/...",
                ),
                trace_id,
            )
        state = self.live.get(canvas)  # taken once: this request runs on this snapshot
        if state is None:
            return _send(
                error_answer(
                    404,
                    f"There is no canvas named {canvas!r}.",
                    "Check the name in the address; `gloam runtime status` on the runtime's "
                    "machine lists the canvases.",
                ),
                trace_id,
            )
        raw, req_value, problem = await read_request(request, self.config.max_body_bytes,
                                                     self.config.body_timeout_seconds)
        if raw is None:
            # Traced too (without its body): the editor shows what a client got wrong.
            assert problem is not None
            status, why = problem
            hint = {413: "Send a smaller body.", 408: "Send the whole body at once, or faster."
                    }.get(status, "Send a valid body.")
            answer, close = error_answer(status, why, hint), status == 408
            headers = {k.lower(): v for k, v in request.headers.items()
                       if k.lower() != EDITOR_HEADER_KEY}
            unread = RawRequest(request.method, request.path, dict(request.query.items()),
                                headers, None, False)
            matched = state.routes.match(request.method, path)
            self._trace(canvas, matched[0] if matched else None,
                        f"{request.method} {path}", unread, answer, None, started, trace_id)
            return _send(answer, trace_id, close=close)
        found = state.routes.match(request.method, path)
        description = f"{request.method} {path}"
        if found is None:
            answer = error_answer(
                404,
                f"No handler for {description} on canvas {canvas!r}.",
                "The request is listed among this canvas's 404s in the editor: "
                "create a handler from it there.",
            )
            self._trace(canvas, None, description, raw, answer, None, started, trace_id)
            return _send(answer, trace_id)
        handler, params = found
        run = functools.partial(self.run, canvas, state.program, handler, req_value, params,
                                trace_id, from_editor=self.from_editor(canvas, request),
                                compiled=state.compiled_for(handler))
        key = (canvas, handler.tlid)
        budget = self.services.budget(canvas)
        lane = self.slow_lane
        if lane.holds(key):
            answer, impure = await lane.in_thread(key, run, budget)
        else:
            first = ImpureLog()
            try:
                answer, impure = run(budget=lane.on_loop(budget), impure=first)
            except Preempted:
                answer, impure = await lane.moved(key, run, budget, first)
        self._trace(canvas, handler, description, raw, answer, impure, started, trace_id)
        return _send(answer, trace_id)

    def from_editor(self, canvas: str, request: web.BaseRequest) -> bool:
        """Whether the request came from the canvas's editor (its token in
        `X-Gloam-Editor`; `read_request` keeps the header from user code and traces)."""
        token = request.headers.get(EDITOR_HEADER)
        return token is not None and token_matches(token, self.services.store.token_hashes(canvas))

    def run(
        self,
        canvas: str,
        program: Program,
        handler: Handler,
        req_value: FrozenDict,
        params: dict[str, str],
        trace_id: str,
        *,
        from_editor: bool = False,
        compiled: Compiled | None = None,
        budget: Budget | None = None,
        impure: ImpureLog | None = None,
    ) -> tuple[HttpAnswer, ImpureLog | None]:
        """Run the handler to its answer; raises `Preempted` only when the budget
        says to give up the thread (see `SlowLane`)."""
        impure = impure if impure is not None else ImpureLog()
        label = handler_label(handler)
        try:
            inputs = {"request": req_value, **params}
            host = CanvasHost(self.services, canvas, program, tlid=handler.tlid,
                              traffic=True, from_editor=from_editor)
            budget = budget if budget is not None else self.services.budget(canvas)
            if compiled is not None:
                # The fast path (issue 6); it agrees with the reference evaluator.
                value = compiled.run(inputs, budget=budget, impure=impure, host=host)
            else:
                value = run_toplevel(handler, inputs, program, budget=budget, impure=impure,
                                     host=host)
            return answer_for(value, label, trace_id), impure
        except Exception:
            log.exception("crash while running %s (trace %s)", label, trace_id)
            return error_answer(
                500,
                f"Gloam crashed while running {label}.",
                f"This is a bug in Gloam, not in your code; it is logged with trace id {trace_id}.",
            ), impure

    def _trace(
        self,
        canvas: str,
        handler: Handler | None,
        description: str,
        request: RawRequest,
        answer: HttpAnswer,
        impure: ImpureLog | None,
        started: float,
        trace_id: str,
    ) -> None:
        self.services.record_trace(
            canvas=canvas,
            tlid=handler.tlid if handler else None,
            description=description,
            trace_id=trace_id,
            # strings and ints in the summary: no NaN to refuse
            encode=lambda: (request.to_json(), json.dumps(answer.summary()),
                            impure_to_json(impure)),
            duration_ms=(time.perf_counter() - started) * 1000,
        )


def _send(answer: HttpAnswer, trace_id: str, close: bool = False) -> web.Response:
    # For HEAD, aiohttp sends the headers (Content-Length included) and leaves the body out.
    headers = dict(answer.headers)
    headers["X-Gloam-Trace"] = trace_id
    if close:
        headers["Connection"] = "close"
    return web.Response(
        status=answer.status,
        body=answer.body,
        headers=headers,
        content_type=answer.content_type,
    )
