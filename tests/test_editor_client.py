"""editor/client against a real runtime on loopback: connect, deploy, two editors,
the offline queue, lost acks, the queue file, requests, rejections, settings.

How the loop is driven: each test runs one coroutine with `asyncio.run` (a
plain asyncio loop). `CanvasSession` is a QObject, and its signals reach
directly connected slots without a Qt event loop running, so a `Signals`
recorder can collect them. One test runs the same session on qasync's Qt loop
(as the app does) to show the two are interchangeable.

Restarts: the runtime is taken away with kill -9 (`halt`; a graceful stop
waits 30 s while an editor is connected) and started again on the same data
folder and ports (`restart`, through the harness's `extra` arguments).

A lost ack is made exactly, not by luck: the session talks through `Proxy`, a
TCP relay that can swallow what the runtime sends back (the ack) and drop what
the editor sends (a batch that never arrives) while the test watches the
runtime commit over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web
from runtime_harness import EditorSession, RuntimeProcess, running

from editor.client import settings as client_settings
from editor.client.session import OFFLINE, ONLINE, CanvasSession, SessionError
from shared_ast import build as b
from shared_ast.ids import new_id
from shared_ast.nodes import EString
from shared_ast.ops import CreateToplevel, Op, ReplaceNode
from shared_ast.toplevels import Handler, HttpSpec

WAIT = 30.0


class Signals:
    """Everything a session emitted, and a way to wait for a condition on it."""

    def __init__(self, session: CanvasSession) -> None:
        self.states: list[tuple[str, str]] = []
        self.loaded: list[list[Any]] = []
        self.remote: list[tuple[list[Op], str]] = []
        self.acked: list[tuple[int, int]] = []
        self.rejected: list[tuple[int, str, int | None]] = []
        self.pending: list[int] = []
        self.problems: list[str] = []
        session.connection_changed.connect(lambda s, d: self.states.append((s, d)))
        session.loaded.connect(self.loaded.append)
        session.remote_ops.connect(lambda ops, who: self.remote.append((ops, who)))
        session.acked.connect(lambda n, seq: self.acked.append((n, seq)))
        session.rejected.connect(lambda n, m, i: self.rejected.append((n, m, i)))
        session.pending_changed.connect(self.pending.append)
        session.problem.connect(self.problems.append)

    async def until(self, check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            if loop.time() > deadline:
                raise AssertionError(
                    f"gave up waiting for {what}; last states {self.states[-3:]}, "
                    f"problems {self.problems}, rejected {self.rejected}"
                )
            await asyncio.sleep(0.02)


def session_for(rt: RuntimeProcess, author: str, url: str | None = None,
                queue: Path | None = None, token: str | None = None) -> CanvasSession:
    return CanvasSession(url or rt.editor, "demo", token or rt.token("demo"), author,
                         queue_path=queue)


async def online(session: CanvasSession) -> Signals:
    sig = Signals(session)
    session.start()
    await sig.until(lambda: session.state == ONLINE, "the session to come online")
    return sig


def text_handler(route: str, text: str) -> Handler:
    return b.http("GET", route, b.str_(text), pos=(600, 40))


def replace_text(handler: Handler, old: str, new: str) -> tuple[ReplaceNode, Handler]:
    """An op changing the handler's string body from `old` to `new`, and the handler after."""
    before = handler.body
    assert isinstance(before, EString) and before.value == old
    after = b.str_(new)
    return ReplaceNode(handler.tlid, before.id, before, after), attrs.evolve(handler, body=after)


async def http_get(rt: RuntimeProcess, path: str) -> tuple[int, Any]:
    return await asyncio.to_thread(rt.get, path)


async def served(rt: RuntimeProcess, path: str, body: str) -> None:
    for _ in range(500):
        if await http_get(rt, path) == (200, body):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never answered {body!r}; it answers {await http_get(rt, path)}")


async def log_since(rt: RuntimeProcess, seq: int) -> list[dict[str, Any]]:
    """The batches the runtime committed after `seq`, read with a resume connection."""
    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt, since=seq)
        batches = []
        while len(batches) < ed.hello["seq"] - seq:
            batches.append(await ed.receive())
        await ed.ws.close()
    return batches


async def halt(rt: RuntimeProcess) -> None:
    """Take the runtime away mid-session. With kill -9, because a graceful stop waits
    out aiohttp's 30 s shutdown timeout while an editor's websocket is open."""
    await asyncio.to_thread(rt.kill9)


async def restart(rt: RuntimeProcess) -> None:
    """Start the runtime again on the same data folder and the same ports."""
    ports = ["--port", str(rt.state["http_port"]), "--editor-port", str(rt.state["editor_port"])]
    rt.extra = [*rt.extra, *ports]
    await asyncio.to_thread(rt.start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """A TCP relay to the runtime's editor port that can lose bytes on purpose."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.swallow_down = False  # what the runtime sends never reaches the editor
        self.drop_up = False  # what the editor sends never reaches the runtime
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers += [writer, up_writer]
        for src, dst, lose in ((reader, up_writer, lambda: self.drop_up),
                               (up_reader, writer, lambda: self.swallow_down)):
            task = asyncio.ensure_future(self._pipe(src, dst, lose))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                    lose: Callable[[], bool]) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                if not lose():
                    dst.write(data)
                    await dst.drain()
        dst.transport.abort()


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shared_rt(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running(tmp_path_factory.mktemp("client") / "data") as rt:
        yield rt


# ------------------------------------------------------------------ tests


def test_connects_on_the_qt_loop_and_loads_the_demo_canvas(shared_rt: RuntimeProcess,
                                                           qapp: Any) -> None:
    from editor.event_loop import EditorLoop

    found = client_settings.discover_local(shared_rt.data_dir)
    assert found is not None and found.canvas == "demo" and found.editor_url == shared_rt.editor

    async def scenario() -> None:
        session = CanvasSession(found.editor_url, found.canvas, found.token, "qt")
        sig = await online(session)
        routes = {tl.spec.route for tl in sig.loaded[0]
                  if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)}
        assert {"/hello", "/sum/:a/:b"} <= routes
        assert session.seq is not None and session.seq >= 1
        assert (await session.request({"type": "ping"}))["type"] == "pong"
        assert [s for s, _ in sig.states][:2] == ["connecting", "online"]
        await session.close()
        assert session.state == OFFLINE

    loop = EditorLoop(qapp)
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_a_batch_is_acked_and_live(shared_rt: RuntimeProcess) -> None:
    async def scenario() -> None:
        session = session_for(shared_rt, "alice")
        sig = await online(session)
        start = session.seq
        assert start is not None
        handler = text_handler("/client-ack", "one")
        first = session.send_ops([CreateToplevel(handler)])
        change, _ = replace_text(handler, "one", "two")
        second = session.send_ops([change])
        await sig.until(lambda: len(sig.acked) == 2, "two acks")
        assert [n for n, _ in sig.acked] == [first, second]
        assert [seq for _, seq in sig.acked] == [start + 1, start + 2]
        assert session.pending == 0 and sig.pending[-1] == 0 and sig.rejected == []
        assert await http_get(shared_rt, "/client-ack") == (200, "two")
        assert sig.remote == []  # its own batches do not come back
        await session.close()

    run(scenario())


def test_two_editors_see_each_others_batches(shared_rt: RuntimeProcess) -> None:
    async def scenario() -> None:
        alice, bob = session_for(shared_rt, "alice"), session_for(shared_rt, "bob")
        sig_a, sig_b = await online(alice), await online(bob)
        handler = text_handler("/client-two", "from alice")
        alice.send_ops([CreateToplevel(handler)])
        await sig_b.until(lambda: sig_b.remote != [], "bob to see alice's batch")
        assert sig_b.remote == [([CreateToplevel(handler)], "alice")]
        change, _ = replace_text(handler, "from alice", "from bob")
        bob.send_ops([change])
        await sig_a.until(lambda: sig_a.remote != [], "alice to see bob's batch")
        assert sig_a.remote == [([change], "bob")]
        assert alice.seq == bob.seq
        await alice.close()
        await bob.close()

    run(scenario())


def test_offline_edits_wait_and_arrive_in_order(tmp_path: Path) -> None:
    async def scenario(rt: RuntimeProcess) -> None:
        session = session_for(rt, "dana")
        sig = await online(session)
        before = session.seq
        assert before is not None
        await halt(rt)
        await sig.until(lambda: session.state == OFFLINE, "the session to notice")
        handler = text_handler("/client-offline", "one")
        change_2, h2 = replace_text(handler, "one", "two")
        change_3, _ = replace_text(h2, "two", "three")
        numbers = [session.send_ops([op]) for op in (CreateToplevel(handler), change_2, change_3)]
        assert session.pending == 3 and session.state == OFFLINE
        assert "3 edits queued" in session.detail and "retrying in" in session.detail
        await restart(rt)
        await sig.until(lambda: session.pending == 0, "the queue to drain")
        assert [n for n, _ in sig.acked] == numbers
        assert [seq for _, seq in sig.acked] == [before + 1, before + 2, before + 3]
        assert sig.rejected == [] and sig.remote == []
        assert await http_get(rt, "/client-offline") == (200, "three")
        log = await log_since(rt, before)
        assert [(m["author"], len(m["ops"])) for m in log] == [("dana", 1)] * 3
        await session.close()

    with running(tmp_path / "data") as rt:
        run(scenario(rt))


def test_a_batch_whose_ack_was_lost_is_not_sent_again(tmp_path: Path) -> None:
    async def scenario(rt: RuntimeProcess) -> None:
        async with Proxy(rt.state["editor_port"]) as proxy:
            session = session_for(rt, "erin", url=proxy.url)
            sig = await online(session)
            before = session.seq
            assert before is not None
            proxy.swallow_down = True  # the ack will never arrive
            handler = text_handler("/client-lost", "kept")
            committed = session.send_ops([CreateToplevel(handler)])
            await served(rt, "/client-lost", "kept")
            proxy.drop_up = True  # this batch never reaches the runtime
            change, _ = replace_text(handler, "kept", "after")
            unsent = session.send_ops([change])
            with pytest.raises(SessionError, match="did not answer ping within"):
                await session.request({"type": "ping"}, timeout=0.3)
            await asyncio.to_thread(rt.kill9)
            await asyncio.to_thread(rt.start)  # new ports: the proxy follows
            proxy.target_port = rt.state["editor_port"]
            proxy.swallow_down = proxy.drop_up = False
            proxy.cut()
            await sig.until(lambda: session.pending == 0, "the queue to drain")
            assert [n for n, _ in sig.acked] == [committed, unsent]
            assert [seq for _, seq in sig.acked] == [before + 1, before + 2]
            assert sig.rejected == [] and sig.remote == []
            assert await http_get(rt, "/client-lost") == (200, "after")
            log = await log_since(rt, before)
            assert [m["ops"][0]["kind"] for m in log] == ["create_toplevel", "replace_node"]
            await session.close()

    with running(tmp_path / "data") as rt:
        run(scenario(rt))


def test_a_batch_refused_while_its_answer_was_lost_is_reported(shared_rt: RuntimeProcess) -> None:
    """Only the answers are lost: the replay shows the later batch committed, so the
    earlier one, which is not in the log, was refused; it is not sent again."""

    async def scenario() -> None:
        async with Proxy(shared_rt.state["editor_port"]) as proxy:
            session = session_for(shared_rt, "fred", url=proxy.url)
            sig = await online(session)
            proxy.swallow_down = True
            hello = next(tl for tl in sig.loaded[0] if isinstance(tl, Handler))
            refused = session.send_ops([ReplaceNode(hello.tlid, new_id(), b.str_("x"),
                                                    b.str_("y"))])
            committed = session.send_ops([CreateToplevel(text_handler("/client-mixed", "ok"))])
            await served(shared_rt, "/client-mixed", "ok")
            proxy.swallow_down = False
            proxy.cut()
            await sig.until(lambda: session.pending == 0, "both answers")
            assert [(n, i) for n, _, i in sig.rejected] == [(refused, None)]
            assert "answer was lost" in sig.rejected[0][1]
            assert [n for n, _ in sig.acked] == [committed] and sig.remote == []
            await session.close()

    run(scenario())


def test_the_queue_file_outlives_the_session(tmp_path: Path) -> None:
    queue = tmp_path / "queue.json"

    async def offline_then_close(rt: RuntimeProcess) -> list[int]:
        session = session_for(rt, "fay", queue=queue)
        sig = await online(session)
        await halt(rt)
        await sig.until(lambda: session.state == OFFLINE, "the session to notice")
        handler = text_handler("/client-queue", "one")
        change, _ = replace_text(handler, "one", "two")
        numbers = [session.send_ops([CreateToplevel(handler)]), session.send_ops([change])]
        await session.close()
        return numbers

    async def reopen(rt: RuntimeProcess, numbers: list[int]) -> None:
        session = session_for(rt, "fay", queue=queue)
        assert [p.number for p in session.pending_batches] == numbers
        sig = await online(session)
        await sig.until(lambda: session.pending == 0, "the saved queue to drain")
        assert [n for n, _ in sig.acked] == numbers and sig.rejected == []
        assert len(sig.loaded) == 1
        assert await http_get(rt, "/client-queue") == (200, "two")
        later = session.send_ops([CreateToplevel(text_handler("/client-queue-2", "new"))])
        assert later == max(numbers) + 1  # numbers go on from the saved queue
        await sig.until(lambda: session.pending == 0, "the new batch's ack")
        await session.close()
        saved = json.loads(queue.read_text())
        assert saved["batches"] == [] and saved["seq"] == session.seq

    with running(tmp_path / "data") as rt:
        numbers = run(offline_then_close(rt))
        assert len(json.loads(queue.read_text())["batches"]) == 2
        run(restart(rt))
        run(reopen(rt, numbers))


def test_a_new_session_recognises_a_batch_committed_before_the_editor_closed(
    tmp_path: Path,
) -> None:
    queue = tmp_path / "queue.json"

    async def scenario(rt: RuntimeProcess) -> None:
        async with Proxy(rt.state["editor_port"]) as proxy:
            first = session_for(rt, "gil", url=proxy.url, queue=queue)
            await online(first)
            before = first.seq
            assert before is not None
            proxy.swallow_down = True
            handler = text_handler("/client-probe", "once")
            number = first.send_ops([CreateToplevel(handler)])
            await served(rt, "/client-probe", "once")
            await first.close()  # the editor quits without ever seeing the ack
        second = session_for(rt, "gil", queue=queue)
        assert second.pending == 1
        sig = await online(second)
        await sig.until(lambda: second.pending == 0, "the committed batch to be recognised")
        assert sig.acked == [(number, before + 1)] and sig.rejected == []
        assert len(sig.loaded) == 1 and sig.remote == []  # the full reload, no replays
        assert handler.tlid in {tl.tlid for tl in sig.loaded[0]}
        assert len(await log_since(rt, before)) == 1
        await second.close()

    with running(tmp_path / "data") as rt:
        run(scenario(rt))


def test_requests_fail_clearly_offline_and_on_errors(shared_rt: RuntimeProcess) -> None:
    async def scenario() -> None:
        port = free_port()
        nowhere = CanvasSession(f"http://127.0.0.1:{port}", "demo", "t", "hal")
        sig = Signals(nowhere)
        nowhere.start()
        await sig.until(lambda: nowhere.state == OFFLINE, "the first failed attempt")
        assert f"runtime unreachable at 127.0.0.1:{port}: connection refused" in nowhere.detail
        assert "retrying in" in nowhere.detail
        with pytest.raises(SessionError, match="not connected to the runtime"):
            await nowhere.request({"type": "ping"})
        await nowhere.close()

        wrong = session_for(shared_rt, "hal", token="not-the-token")
        sig = Signals(wrong)
        wrong.start()
        await sig.until(lambda: wrong.state == OFFLINE, "the refusal")
        assert "refused the token" in wrong.detail
        await wrong.close()

        session = session_for(shared_rt, "hal")
        await online(session)
        with pytest.raises(SessionError, match=r"refused get_traces: .*tlid"):
            await session.request({"type": "get_traces", "tlid": "seven"})
        with pytest.raises(SessionError, match="send_ops"):
            await session.request({"type": "ops", "ops": []})
        reply = await session.request({"type": "get_404s"})
        assert reply["type"] == "404s"
        await session.close()

    run(scenario())


def test_a_failed_send_reconnects_and_loses_no_batch(shared_rt: RuntimeProcess) -> None:
    """If sending fails while the socket looks open, the session must not go on queueing
    into a writer that has stopped: it reconnects and sends the batch again."""
    async def scenario() -> None:
        session = session_for(shared_rt, "wendy")
        sig = await online(session)
        ws = session._ws
        assert ws is not None
        real_send = ws.send_str

        async def broken(text: str, *args: Any, **kwargs: Any) -> None:
            ws.send_str = real_send  # type: ignore[method-assign]
            raise RuntimeError("the transport went away")

        ws.send_str = broken  # type: ignore[method-assign]
        handler = text_handler("/client-writer", "sent")
        number = session.send_ops([CreateToplevel(handler)])
        await sig.until(lambda: any(n == number for n, _ in sig.acked), "the batch's ack")
        assert any("sending to the runtime failed (RuntimeError: the transport went away)"
                   in p for p in sig.problems), sig.problems
        assert [s for s, _ in sig.states].count(ONLINE) >= 2  # it reconnected
        assert await http_get(shared_rt, "/client-writer") == (200, "sent")
        reply = await session.request({"type": "ping"})
        assert reply["type"] == "pong"
        await session.close()

    run(scenario())


def test_a_refused_batch_is_rejected_with_the_runtimes_message(shared_rt: RuntimeProcess) -> None:
    async def scenario() -> None:
        session = session_for(shared_rt, "ivy")
        sig = await online(session)
        hello = next(tl for tl in sig.loaded[0]
                     if isinstance(tl, Handler) and getattr(tl.spec, "route", "") == "/hello")
        ghost = new_id()
        good = text_handler("/client-rejected", "fine")
        bad_op = ReplaceNode(hello.tlid, ghost, b.str_("x"), b.str_("y"))
        refused = session.send_ops([CreateToplevel(good), bad_op])
        after = session.send_ops([CreateToplevel(good)])
        await sig.until(lambda: session.pending == 0, "both answers")
        assert len(sig.rejected) == 1
        number, message, op_index = sig.rejected[0]
        assert (number, op_index) == (refused, 1)
        assert str(ghost) in message and "Nothing was changed" in message
        assert [n for n, _ in sig.acked] == [after]  # the session carries on
        assert await http_get(shared_rt, "/client-rejected") == (200, "fine")
        with pytest.raises(ValueError, match="at least one op"):
            session.send_ops([])
        session.resync()
        await sig.until(lambda: len(sig.loaded) == 2 and session.state == ONLINE, "a reload")
        assert good.tlid in {tl.tlid for tl in sig.loaded[1]}
        await session.close()

    run(scenario())


def test_unreadable_messages_are_reported_and_survived() -> None:
    """A fake runtime: junk first, then a hello and a broadcast that does not decode,
    then a proper session. The editor reports each and reloads after the bad batch."""
    connections: list[dict[str, str]] = []

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connections.append(dict(request.query))
        match len(connections):
            case 1:
                await ws.send_str("this is not json")
            case 2:
                await ws.send_json({"schema": 1, "type": "hello", "canvas": "demo", "seq": 4,
                                    "toplevels": []})
                await ws.send_json({"schema": 1, "type": "broadcast", "seq": 5,
                                    "author": "zed", "ops": [{"kind": "nonsense"}]})
                async for _ in ws:
                    pass
            case _:
                await ws.send_json({"schema": 1, "type": "hello", "canvas": "demo", "seq": 5,
                                    "toplevels": []})
                async for msg in ws:
                    data = json.loads(msg.data)
                    await ws.send_json({"schema": 1, "type": "pong", "id": data["id"]})
        await ws.close()
        return ws

    async def scenario() -> None:
        app = web.Application()
        app.router.add_get("/api/canvas/demo/ws", ws_handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        session = CanvasSession(f"http://127.0.0.1:{port}", "demo", "t", "jo")
        sig = Signals(session)
        session.start()
        await sig.until(lambda: len(connections) >= 3 and session.state == ONLINE,
                        "the third connection")
        assert any("not JSON" in p for p in sig.problems)
        assert any("broadcast of seq 5" in p for p in sig.problems)
        assert "since" not in connections[2]  # a full reload after the unreadable batch
        assert len(sig.loaded) == 2 and sig.remote == []
        assert (await session.request({"type": "ping"}))["type"] == "pong"
        await session.close()
        await runner.cleanup()

    run(scenario())


# ------------------------------------------------------------- settings


def test_settings_are_remembered_privately(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(client_settings.CONFIG_ENV, str(tmp_path / "config"))
    assert client_settings.load() is None
    remembered = client_settings.Settings("http://127.0.0.1:9999", "shop", "tok", "kim")
    path = client_settings.save(remembered)
    assert path.parent == tmp_path / "config"
    assert client_settings.load() == remembered
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert client_settings.queue_path(remembered).parent.is_relative_to(tmp_path / "config")
    path.write_text('{"editor_url": 3}')
    with pytest.raises(client_settings.SettingsError, match="delete the file"):
        client_settings.load()
    assert client_settings.Settings("localhost", "", "", "").problems()[0].startswith(
        "the runtime URL 'localhost'")


def test_discover_local_reads_the_runtime_folder(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "gloam-data"
    monkeypatch.setenv(client_settings.DATA_ENV, str(folder))
    assert client_settings.discover_local() is None
    folder.mkdir()
    (folder / "tokens.json").write_text(json.dumps({"shop": "s-tok", "demo": "d-tok"}))
    found = client_settings.discover_local()
    assert found is not None
    assert (found.editor_url, found.canvas, found.token) == ("http://127.0.0.1:8471", "demo",
                                                             "d-tok")
    (folder / "runtime.json").write_text(json.dumps({"editor_host": "127.0.0.1",
                                                     "editor_port": 9123}))
    shop = client_settings.discover_local(canvas="shop")
    assert shop is not None and (shop.editor_url, shop.token) == ("http://127.0.0.1:9123", "s-tok")
    assert client_settings.discover_local(canvas="nope") is None


def test_a_corrupt_queue_file_is_refused_not_overwritten(tmp_path: Path) -> None:
    queue = tmp_path / "queue.json"
    queue.write_text('{"schema": 1, "canvas": "other", "seq": 1, "next_number": 1, "batches": []}')
    with pytest.raises(SessionError, match="belongs to canvas 'other'"):
        CanvasSession("http://127.0.0.1:1", "demo", "t", "a", queue_path=queue)
    queue.write_text("{")
    with pytest.raises(SessionError, match="move it aside"):
        CanvasSession("http://127.0.0.1:1", "demo", "t", "a", queue_path=queue)
    assert queue.read_text() == "{"


def test_a_stopping_runtime_closes_editor_websockets_going_away(tmp_path: Path) -> None:
    """Without this the server waits out its shutdown timeout for every open editor."""
    import aiohttp

    from tests.runtime_harness import EditorSession

    async def scenario(rt: RuntimeProcess) -> None:
        async with aiohttp.ClientSession() as http:
            session = await EditorSession.open(http, rt, "demo")
            stopping = asyncio.ensure_future(asyncio.to_thread(rt.stop))
            message = await session.ws.receive(timeout=WAIT)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert session.ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
            assert await stopping == 0

    with running(tmp_path / "data") as rt:
        run(scenario(rt))


def test_a_batch_too_large_for_the_runtime_is_refused_before_it_is_queued(
        tmp_path: Path, qapp: Any) -> None:
    """A batch over the runtime's 4 MB would be refused (or its connection closed) on
    every resend, holding up every edit behind it: the session refuses it up front, and
    the controller leaves its canvas as it was."""
    from editor.controller import EditorController
    from editor.model.state import Outcome

    session = CanvasSession("http://127.0.0.1:1", "demo", "t", "big",
                            queue_path=tmp_path / "queue.json")
    huge = text_handler("/huge", "x" * (5 * 1024 * 1024))
    with pytest.raises(SessionError, match=r"runtime takes at most 4 MB in one batch"):
        session.send_ops([CreateToplevel(huge)])
    assert session.pending == 0
    small = text_handler("/small", "ok")
    assert session.send_ops([CreateToplevel(small)]) == 1  # the queue is not stuck

    controller = EditorController(session)
    before = controller.state
    out = controller.apply(Outcome(attrs.evolve(before, canvas={huge.tlid: huge}),
                                   (CreateToplevel(huge),)))
    assert out.refused and "smaller steps" in out.message
    assert controller.state is before and session.pending == 1
