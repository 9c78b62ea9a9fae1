"""The editor end to end: real widgets, real key events, a real runtime on loopback.

Each test starts a runtime process (tests/runtime_harness.py), opens the
editor's main window on an asyncio loop that runs inside Qt's (qasync), types
with pytest-qt's `qtbot.keyClicks` / `keyClick` into the code view, and checks what a real
HTTP request to the runtime answers.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from editor.client.session import CanvasSession
from editor.controller import EditorController
from editor.model.state import commit
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast.ops import CreateToplevel
from shared_ast.toplevels import Handler, HttpSpec
from tests.runtime_harness import ROOT, RuntimeProcess, http_request, running

WAIT = 20.0

pytestmark = pytest.mark.qt_e2e


def new_canvas(rt: RuntimeProcess, name: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "gloam.cli", "canvas", "new", name, "--data-dir",
         str(rt.data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return rt.token(name)


class Editor:
    """A main window on a session, with a qasync loop to let the session run."""

    def __init__(self, qtbot: Any, loop: Any, rt: RuntimeProcess, canvas: str, token: str,
                 author: str, queue_path: Path | None = None) -> None:
        self.qtbot = qtbot
        self.loop = loop
        self.rt = rt
        self.session = CanvasSession(rt.editor, canvas, token, author, queue_path=queue_path)
        self.controller = EditorController(self.session)
        self.window = MainWindow(self.controller, f"test {author}")
        qtbot.addWidget(self.window)
        self.window.show()
        self.session.start()

    def wait(self, check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        async def poll() -> None:
            deadline = time.monotonic() + timeout
            while not check():
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out waiting for {what}; status: "
                                         f"{self.window.status.currentMessage()!r}, "
                                         f"connection: {self.session.detail!r} "
                                         f"({self.session.diagnose()}), "
                                         f"inspector: {self.window.inspector.result.text()!r}, "
                                         f"runtime log: {self.rt.log()[-1500:]!r}")
                await asyncio.sleep(0.02)
        self.loop.run_until_complete(poll())

    def settle(self) -> None:
        self.wait(lambda: self.session.pending == 0, "every edit to be acked")

    @property
    def code(self) -> Any:
        caret = self.controller.state.caret
        assert caret is not None, "no toplevel has the caret"
        return self.window.canvas.frames[caret.tlid].code

    def keys(self, text: str) -> None:
        self.qtbot.keyClicks(self.code, text)

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
            ) -> None:
        self.qtbot.keyClick(self.code, key, modifier)

    def close(self) -> None:
        self.loop.run_until_complete(self.controller.close())
        self.window.close()


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    with running(tmp_path_factory.mktemp("e2e") / "data") as runtime:
        yield runtime


def get(rt: RuntimeProcess, canvas: str, path: str) -> tuple[int, Any]:
    return http_request("GET", f"{rt.http}/c/{canvas}{path}")


def type_sum_handler(ed: Editor) -> None:
    """Create `GET /sum/:a/:b` and type its body, key by key."""
    ed.window.new_actions["http"].trigger()
    tlid = ed.controller.state.caret.tlid
    route = ed.window.canvas.frames[tlid].fields["route"]
    assert route.hasFocus() and route.selectedText() == "/new"   # typed over, as the README says
    ed.qtbot.keyClicks(route, "/sum/:a/:b")
    ed.qtbot.keyClick(route, Qt.Key.Key_Return)                  # and on into the code
    assert ed.code.hasFocus()
    ed.keys("let")
    ed.key(Qt.Key.Key_Return)          # completes the keyword: let ___ = ___
    ed.keys("x")
    ed.key(Qt.Key.Key_Tab)              # to the right-hand side
    ed.keys("String::toInt")
    ed.key(Qt.Key.Key_Return)          # the completion: a call on the error rail
    ed.keys("a")
    ed.key(Qt.Key.Key_Return)          # the variable a, and on to the blank line below
    ed.keys("let y = String::toInt")
    ed.key(Qt.Key.Key_Return)
    ed.keys("b")
    ed.key(Qt.Key.Key_Return)          # b, and on to the last line
    ed.keys("x + y * 1")


def test_typing_a_sum_handler_serves_it_and_a_changed_literal_goes_live(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    token = new_canvas(rt, "typed")
    ed = Editor(qtbot, loop, rt, "typed", token, "alice")
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")
        assert ed.controller.state.canvas == {}
        assert get(rt, "typed", "/sum/3/4")[0] == 404
        type_sum_handler(ed)
        assert ed.controller.state.projection().text == (
            "let x = String::toInt_v1 a\nlet y = String::toInt_v1 b\nx + y * 1")
        ed.settle()
        assert get(rt, "typed", "/sum/3/4") == (200, 7)
        assert get(rt, "typed", "/sum/30/12") == (200, 42)
        # Change the literal 1 into 10: backspace empties it to a hole, then type.
        ed.key(Qt.Key.Key_Backspace)
        ed.keys("10")
        assert ed.controller.state.projection().text.endswith("x + y * 10")
        ed.settle()
        assert get(rt, "typed", "/sum/3/4") == (200, 43)
        # Live values: the handler's traces, and for the newest the value at the caret.
        tlid = ed.controller.state.caret.tlid
        ed.controller.request_traces(tlid)
        ed.wait(lambda: ed.controller.live.get(tlid), "the newest trace's live values")
        assert ed.controller.traces[tlid][0]["description"] == "GET /sum/3/4"
        assert ed.controller.live_at_caret() == ("10", True)
        assert ed.window.inspector.live_label.text() == "10"
        ed.key(Qt.Key.Key_Home)             # the caret on x: the value from this trace
        assert ed.controller.live_at_caret() == ("3", True)
        assert ed.window.inspector.traces.count() == len(ed.controller.traces[tlid])
        # The indicator says we are online and nothing is queued.
        assert "online" in ed.window.indicator.text()
    finally:
        ed.close()


def test_live_values_of_every_map_iteration_come_over_the_websocket(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    """A handler whose trace ran a List::map: Ctrl+] steps the lambda's calls, whose
    values the runtime ran and sent over the real websocket."""
    token = new_canvas(rt, "tens")
    ed = Editor(qtbot, loop, rt, "tens", token, "alice")
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")
        times = b.infix("*", b.var("x"), 10)
        handler = b.http("GET", "/tens", b.call("List::map_v0", b.list_(1, 2, 3),
                                                 b.lam(["x"], times)), pos=(20, 20))
        ed.controller.apply(commit(ed.controller.state, [CreateToplevel(handler)], None))
        ed.settle()
        assert get(rt, "tens", "/tens") == (200, [10, 20, 30])
        frame = ed.window.canvas.frames[handler.tlid]
        line = frame.code.projection.lines[0].text
        ed.controller.click(handler.tlid, 0, line.index("*"))
        frame.code.setFocus()
        # The newest trace is chosen by itself: no trace picked in the list.
        ed.wait(lambda: handler.tlid in ed.controller.live, "the newest trace's live values")
        assert ed.controller.traces[handler.tlid][0]["description"] == "GET /tens"
        inspector = ed.window.inspector
        assert inspector.live_label.text() == "10"
        assert inspector.iteration_label.text() == "iteration 1 of 3"
        ed.key(Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert (inspector.live_label.text(), inspector.iteration_label.text()) == \
            ("20", "iteration 2 of 3")
        ed.key(Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "30"
        ed.key(Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "20"
    finally:
        ed.close()


def test_two_editors_on_one_canvas_see_each_others_edits(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    token = new_canvas(rt, "pair")
    alice = Editor(qtbot, loop, rt, "pair", token, "alice")
    bob = Editor(qtbot, loop, rt, "pair", token, "bob")
    try:
        alice.wait(lambda: alice.session.state == "online", "alice to connect")
        bob.wait(lambda: bob.session.state == "online", "bob to connect")
        alice.window.new_actions["http"].trigger()
        alice.code.setFocus()
        alice.keys('"hi from alice"')
        alice.settle()
        bob.wait(lambda: len(bob.controller.state.canvas) == 1, "alice's handler at bob's")
        (tl,) = bob.controller.state.canvas.values()
        assert isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)
        frame = bob.window.canvas.frames[tl.tlid]
        assert frame.code.projection is not None
        assert frame.code.projection.text == '"hi from alice"'
        # Bob edits the string alice typed; alice sees it.
        bob.controller.focus(tl.tlid)
        bob.code.setFocus()
        bob.key(Qt.Key.Key_End)
        bob.key(Qt.Key.Key_Left)     # inside the closing quote
        bob.keys(", and bob")
        bob.settle()
        alice.wait(lambda: alice.controller.state.projection(tl.tlid).text
                   == '"hi from alice, and bob"', "bob's edit at alice's")
        status, body = get(rt, "pair", tl.spec.route)
        assert (status, body) == (200, "hi from alice, and bob")
    finally:
        alice.close()
        bob.close()


def test_edits_typed_while_the_runtime_is_down_arrive_in_order(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    with running(tmp_path / "data") as runtime:
        token = new_canvas(runtime, "offline")
        ed = Editor(qtbot, loop, runtime, "offline", token, "carol",
                    queue_path=tmp_path / "queue.json")
        try:
            ed.wait(lambda: ed.session.state == "online", "the session to connect")
            ed.window.new_actions["http"].trigger()
            ed.code.setFocus()
            ed.keys("1")
            ed.settle()
            tlid = ed.controller.state.caret.tlid
            route = ed.controller.state.canvas[tlid].spec.route
            assert get(runtime, "offline", route) == (200, 1)
            ports = ["--port", str(runtime.state["http_port"]), "--editor-port",
                     str(runtime.state["editor_port"])]
            runtime.kill9()
            ed.wait(lambda: ed.session.state != "online", "the session to notice")
            # Typed while the runtime is down: each key is its own queued batch.
            ed.keys(" + 2 * 3")
            assert ed.session.pending >= 3
            assert "offline" in ed.window.indicator.text() or "connecting" in \
                ed.window.indicator.text()
            assert "queued" in ed.window.indicator.text()
            assert ed.controller.state.projection().text == "1 + 2 * 3"
            runtime.extra = [*runtime.extra, *ports]
            runtime.start()
            ed.wait(lambda: ed.session.state == "online", "the session to reconnect")
            ed.settle()
            assert get(runtime, "offline", route) == (200, 7)
        finally:
            ed.close()


def test_the_play_button_runs_a_function_with_arguments_on_the_runtime(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    from PySide6.QtCore import QTimer

    from editor.widgets.popups import ArgumentsDialog

    token = new_canvas(rt, "play")
    ed = Editor(qtbot, loop, rt, "play", token, "dave")
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")
        ed.window.new_actions["function"].trigger()
        ed.code.setFocus()
        ed.keys("x * 2")
        ed.settle()
        tlid = ed.controller.state.caret.tlid

        def answer() -> None:
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, ArgumentsDialog)
            ed.qtbot.keyClicks(dialog.edits["x"], "21")
            dialog.accept()

        QTimer.singleShot(0, answer)
        ed.window.canvas.frames[tlid].fields["play"].click()
        ed.wait(lambda: ed.window.inspector.result.text() != "", "the run's result")
        assert ed.window.inspector.result.text() == "42"
        assert ed.window.arguments[tlid] == {"x": "21"}
    finally:
        ed.close()


def test_a_locked_handler_is_upgraded_through_a_flag_checked_by_replay(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    from shared_ast import build as b
    from shared_ast.nodes import ECall, EFlag
    from tests.runtime_harness import create_toplevels

    handler = b.http("GET", "/lookup/:key",
                     b.call("Dict::get_v0", b.record(a=1, b=2), b.var("key")))
    with running(tmp_path / "data", ["--lock-window", "3600"]) as runtime:
        create_toplevels(runtime, [handler])
        asyncio.set_event_loop(loop)          # asyncio.run (inside create_toplevels) unset it
        for key in ("a", "zzz", "b"):
            http_request("GET", f"{runtime.http}/c/demo/lookup/{key}")
        ed = Editor(qtbot, loop, runtime, "demo", runtime.token("demo"), "erin")
        try:
            ed.wait(lambda: ed.session.state == "online", "the session to connect")
            ed.wait(lambda: handler.tlid in ed.controller.state.canvas, "the canvas")
            ed.controller.refresh_locks()
            ed.wait(lambda: handler.tlid in ed.controller.state.locks, "the lock")
            frame = ed.window.canvas.frames[handler.tlid]
            assert frame.fields["lock"].isVisible()
            ed.controller.focus(handler.tlid)
            ed.code.setFocus()
            ed.key(Qt.Key.Key_Home)
            ed.keys("x")                       # refused: the handler is in use
            assert "is in use" in ed.window.status.currentMessage()
            ed.window.run_command("list-deprecated")
            assert "Dict::get_v0 → Dict::get_v2" in ed.window.inspector.result.text()
            ed.window.run_command("upgrade-call")
            # Done once its replay agrees (the new branch is behind a flag without a condition).
            ed.wait(lambda: isinstance(ed.controller.state.canvas[handler.tlid].body, EFlag),
                    "the upgrade, after its replay")
            flag = ed.controller.state.canvas[handler.tlid].body
            assert isinstance(flag, EFlag) and isinstance(flag.new, ECall)
            assert flag.new.fn.qualified == "Dict::get_v2"
            ed.settle()
            ed.window.run_command("check-flag-commit")
            ed.wait(lambda: "Replayed" in ed.window.inspector.result.text(), "the replay")
            report = ed.window.inspector.result.text()
            assert "Replayed 3 request(s)" in report and "1 answer(s) differently" in report
            assert "GET /lookup/zzz: 200 'null' → 404" in report
            ed.window.run_command("commit-flag")
            # The replay answers differently for zzz: the editor asks first.
            ed.wait(lambda: ed.window.change_dialog is not None, "the question")
            dialog = ed.window.change_dialog
            assert "GET /lookup/zzz answers 200 'null' now, 404" in dialog.items.item(0).text()
            qtbot.keyClick(dialog, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)  # go ahead
            assert not isinstance(ed.controller.state.canvas[handler.tlid].body, EFlag)
            ed.settle()
            status, _ = http_request("GET", f"{runtime.http}/c/demo/lookup/zzz")
            assert status == 404
            assert http_request("GET", f"{runtime.http}/c/demo/lookup/a") == (200, 1)
        finally:
            ed.close()


def test_a_just_me_flag_is_a_private_sandbox_and_its_traffic_is_counted(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    from shared_ast import build as b
    from shared_ast.nodes import EFlag
    from tests.runtime_harness import create_toplevels

    handler = b.http("GET", "/banner", "Welcome")
    with running(tmp_path / "data", ["--lock-window", "3600"]) as runtime:
        create_toplevels(runtime, [handler])
        asyncio.set_event_loop(loop)
        url = f"{runtime.http}/c/demo/banner"
        assert http_request("GET", url) == (200, "Welcome")
        ed = Editor(qtbot, loop, runtime, "demo", runtime.token("demo"), "fay")
        try:
            ed.wait(lambda: ed.session.state == "online", "the session to connect")
            ed.wait(lambda: handler.tlid in ed.controller.state.canvas, "the canvas")
            ed.controller.refresh_locks()
            ed.wait(lambda: handler.tlid in ed.controller.state.locks, "the lock")
            ed.controller.focus(handler.tlid)
            ed.code.setFocus()
            ed.window.run_command("wrap-in-flag")      # the caret goes to the condition
            ed.keys("Flag::justMe")
            ed.key(Qt.Key.Key_Return)
            flag = ed.controller.state.canvas[handler.tlid].body
            assert isinstance(flag, EFlag)
            # Into the new branch: the end of the last line, inside the string's quotes.
            ed.key(Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
            ed.key(Qt.Key.Key_Left)
            ed.keys(" back")
            ed.settle()
            assert http_request("GET", url) == (200, "Welcome")
            qtbot.keyClicks(ed.window.inspector.request_line, "GET /banner")
            qtbot.keyClick(ed.window.inspector.request_line, Qt.Key.Key_Return)
            ed.wait(lambda: ed.window.inspector.result.text().startswith("200"), "the reply")
            assert ed.window.inspector.result.text() == '200  "Welcome back"'
            assert http_request("GET", url) == (200, "Welcome")
            ed.window.poll_runtime()
            ed.wait(lambda: ed.controller.flag_counts, "the flag's counts")
            ed.window.refresh()
            text = ed.window.inspector.flag_label.text()
            assert "recent live requests: 2 old, 1 new" in text, text
        finally:
            ed.close()


def test_a_locked_function_gets_a_v1_that_one_of_two_handlers_adopts_through_a_flag(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    from shared_ast import build as b
    from shared_ast.nodes import EFlag
    from shared_ast.toplevels import UserFunction
    from shared_ast.type_ast import INT
    from tests.runtime_harness import create_toplevels

    price = b.function("price", [("n", INT)], INT, b.infix("*", b.var("n"), 10),
                       pos=(600, 40))
    one = b.http("GET", "/one/:n", b.user_call(price, b.call("Int::parse_v0", b.var("n"),
                                                              rail=True)), pos=(40, 40))
    two = b.http("GET", "/two/:n", b.user_call(price, b.call("Int::parse_v0", b.var("n"),
                                                              rail=True)), pos=(40, 240))
    with running(tmp_path / "data", ["--lock-window", "3600"]) as runtime:
        create_toplevels(runtime, [price, one, two])
        asyncio.set_event_loop(loop)
        base = f"{runtime.http}/c/demo"
        assert http_request("GET", f"{base}/one/2") == (200, 20)
        assert http_request("GET", f"{base}/two/2") == (200, 20)
        ed = Editor(qtbot, loop, runtime, "demo", runtime.token("demo"), "gus")
        try:
            ed.wait(lambda: ed.session.state == "online", "the session to connect")
            ed.wait(lambda: two.tlid in ed.controller.state.canvas, "the canvas")
            ed.controller.refresh_locks()
            ed.wait(lambda: price.tlid in ed.controller.state.locks, "the locks")
            ed.controller.focus(price.tlid)
            ed.code.setFocus()
            ed.key(Qt.Key.Key_End)
            ed.keys("0")                                 # price_v0 is locked
            assert "function price_v0 is in use" in ed.window.status.currentMessage()
            ed.window.run_command("new-function-version")
            v1 = next(t for t in ed.controller.state.canvas.values()
                      if isinstance(t, UserFunction) and t.version == 1)
            ed.key(Qt.Key.Key_End)
            ed.keys("0")                                 # price_v1: n * 100, free to edit
            ed.settle()
            assert ed.controller.state.projection(v1.tlid).text == "n * 100"
            ed.controller.focus(one.tlid)
            ed.code.setFocus()
            ed.key(Qt.Key.Key_Home)
            ed.window.run_command("use-newest-version")  # through a flag: /one is in use
            # Done once the replay of /one's stored request agrees (the flag has no condition).
            ed.wait(lambda: isinstance(ed.controller.state.canvas[one.tlid].body, EFlag),
                    "the move, after its replay")
            ed.keys("true")
            ed.key(Qt.Key.Key_Return)
            ed.settle()
            assert isinstance(ed.controller.state.canvas[one.tlid].body, EFlag)
            assert http_request("GET", f"{base}/one/2") == (200, 200)
            assert http_request("GET", f"{base}/two/2") == (200, 20)
            # /two's code is untouched (its frame may have been pushed down by /one's growth).
            assert attrs.evolve(ed.controller.state.canvas[two.tlid], pos=two.pos) == two
        finally:
            ed.close()
