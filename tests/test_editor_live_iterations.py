"""Live values per iteration in the editor: the stepper, its keys, the newest trace first.

Real key events (`QTest.keyClick`) into the real main window. The session is a
stand-in that answers `get_traces` and `run` as the runtime does: it runs the
handler with the real evaluator and sends the live values through the real wire
codec. The same over a real runtime's websocket is in tests/test_editor_e2e.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from editor.client.session import SessionSignals
from editor.controller import EditorController
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast import wire
from shared_ast.evaluator import run_toplevel
from shared_ast.live import LiveValues
from shared_ast.program import Program
from shared_ast.toplevels import Handler, Toplevel


class StandInSession(SessionSignals):
    """Answers the two requests live values need, as the runtime's editor API does."""


    def __init__(self, canvas: list[Toplevel], traces: list[dict[str, Any]]) -> None:
        super().__init__()
        self.canvas = {tl.tlid: tl for tl in canvas}
        self.traces = traces
        self.state = "online"
        self.detail = "stand-in"
        self.pending = 0
        self.requests: list[dict[str, Any]] = []

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        self.requests.append(message)
        if message["type"] == "get_traces":
            return {"type": "traces", "traces": self.traces}
        if message["type"] == "run":
            tl = self.canvas[message["tlid"]]
            live = LiveValues()
            value = run_toplevel(tl, {}, Program.from_toplevels(list(self.canvas.values())),
                                 live=live)
            return {"type": "result", "value": wire.encode_value(value),
                    "live": wire.encode_live_values(live)}
        return {}

    async def close(self) -> None:
        pass

    def resync(self) -> None:
        pass


def wait(loop: Any, check: Callable[[], Any], what: str) -> None:
    async def poll() -> None:
        deadline = time.monotonic() + 10
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.01)
    loop.run_until_complete(poll())


TRACES = [{"trace_id": "newest", "at": 2000.0, "description": "GET /m", "output": {"status": 200}},
          {"trace_id": "older", "at": 1000.0, "description": "GET /m", "output": {"status": 200}}]


def open_window(loop: Any, handler: Handler) -> tuple[MainWindow, StandInSession]:
    session = StandInSession([handler], TRACES)
    controller = EditorController(session)
    controller.load([handler])
    window = MainWindow(controller)
    window.show()
    return window, session


def caret_on(window: MainWindow, handler: Handler, text: str) -> Any:
    """Click at `text` in the handler's code (the first place it is written)."""
    c = window.controller
    c.focus(handler.tlid)
    code = window.canvas.frames[handler.tlid].code
    proj = code.projection
    line = next(i for i, ln in enumerate(proj.lines) if text in ln.text)
    c.click(handler.tlid, line, proj.lines[line].text.index(text))
    code.setFocus()
    return code


def test_the_pane_starts_on_the_newest_trace_and_steps_through_a_map(
        qapp: Any, loop: Any) -> None:
    times = b.infix("*", b.var("x"), 10)
    fn = b.lam(["x"], times)
    handler = b.http("GET", "/m", b.call("List::map_v0", b.list_(1, 2, 3), fn), pos=(20, 20))
    window, session = open_window(loop, handler)
    try:
        c = window.controller
        code = caret_on(window, handler, "*")
        assert c.state.caret is not None and c.state.caret.node_id == times.id
        # Traces arrive: the newest is chosen at once, with no pick by the user.
        wait(loop, lambda: handler.tlid in c.live, "the newest trace's live values")
        assert c.selected_trace[handler.tlid] == "newest"
        assert {"type": "run", "tlid": handler.tlid, "trace_id": "newest"} in session.requests
        assert window.inspector.traces.currentItem().data(Qt.ItemDataRole.UserRole) == "newest"
        inspector = window.inspector
        assert inspector.live_label.text() == "10"
        assert inspector.stepper.isVisibleTo(inspector)
        assert inspector.iteration_label.text() == "iteration 1 of 3"
        assert not inspector.previous_iteration.isEnabled()
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "20"
        assert inspector.iteration_label.text() == "iteration 2 of 3"
        assert code.hint is not None and code.hint.text == "20"  # the inline hint follows
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "30"
        assert not inspector.next_iteration.isEnabled()
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "30"
        assert "last iteration" in window.status.currentMessage()
        QTest.keyClick(code, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "20"
        # The chosen iteration holds for every node in the lambda: x is this call's argument.
        QTest.keyClick(code, Qt.Key.Key_Left)
        QTest.keyClick(code, Qt.Key.Key_Left)
        assert c.state.caret.node_id == times.left.id
        assert inspector.live_label.text() == "2"
        assert inspector.iteration_label.text() == "iteration 2 of 3"
        QTest.keyClick(code, Qt.Key.Key_Left)  # onto the lambda itself: it steps too
        assert c.state.caret.node_id == fn.id
        assert inspector.iteration_label.text() == "iteration 2 of 3"
        # The stepper's button does what the key does.
        caret_on(window, handler, "*")
        inspector.previous_iteration.click()
        assert inspector.live_label.text() == "10"
        # A chosen trace stays chosen when newer traces arrive (re-running a trace repeats
        # its writes, and the pane would jump away while stepping); only no choice picks one.
        c.selected_trace[handler.tlid] = "older"
        asked = len(session.requests)
        c.traces.pop(handler.tlid, None)
        c.request_traces(handler.tlid)
        wait(loop, lambda: handler.tlid in c.traces, "the traces")
        assert c.selected_trace[handler.tlid] == "older"
        assert not [r for r in session.requests[asked:] if r.get("type") == "run"]
        # Outside the lambda there is nothing to step.
        caret_on(window, handler, "List::map")
        assert not inspector.stepper.isVisibleTo(inspector)
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert "inside a lambda" in window.status.currentMessage()
    finally:
        loop.run_until_complete(window.controller.close())
        window.close()
        window.deleteLater()


def test_stepping_an_outer_lambda_shows_the_first_call_of_the_inner_one(
        qapp: Any, loop: Any) -> None:
    inner_body = b.infix("+", b.var("x"), b.var("y"))
    inner = b.lam(["y"], inner_body)
    outer_body = b.call("List::map_v0", b.list_(1, 2), inner)
    outer = b.lam(["x"], outer_body)
    handler = b.http("GET", "/m", b.call("List::map_v0", b.list_(10, 20, 30), outer),
                     pos=(20, 20))
    window, _ = open_window(loop, handler)
    try:
        c = window.controller
        code = caret_on(window, handler, "+")
        wait(loop, lambda: handler.tlid in c.live, "live values")
        inspector = window.inspector
        assert inspector.live_label.text() == "11"
        assert inspector.iteration_label.text() == "iteration 1 of 3 ▸ iteration 1 of 2"
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert inspector.live_label.text() == "12"  # the inner lambda stepped
        # On the outer lambda's own code (its map call), Ctrl+] steps the outer lambda...
        code = caret_on(window, handler, "[1, 2]")
        assert c.state.caret is not None and c.state.caret.node_id != inner_body.id
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
        assert inspector.iteration_label.text().startswith("iteration 2 of 3")
        # ...and the inner one starts again at its first call of that outer call.
        caret_on(window, handler, "+")
        assert inspector.live_label.text() == "21"
        assert inspector.iteration_label.text() == "iteration 2 of 3 ▸ iteration 1 of 2"
    finally:
        loop.run_until_complete(window.controller.close())
        window.close()
        window.deleteLater()


def test_the_stepper_says_how_many_iterations_were_kept(qapp: Any, loop: Any) -> None:
    body = b.infix("+", b.var("x"), 1)
    handler = b.http("GET", "/m", b.call("List::map_v0", b.call("List::range_v0", 1, 150),
                                          b.lam(["x"], body)), pos=(20, 20))
    window, _ = open_window(loop, handler)
    try:
        c = window.controller
        caret_on(window, handler, "+")
        wait(loop, lambda: handler.tlid in c.live, "live values")
        assert window.inspector.iteration_label.text() == \
            "iteration 1 of 150 (the first 100 are kept)"
        for _ in range(120):
            c.step_iteration(1)
        assert window.inspector.iteration_label.text().startswith("iteration 100 of 150")
        assert window.inspector.live_label.text() == "101"
    finally:
        loop.run_until_complete(window.controller.close())
        window.close()
        window.deleteLater()


def test_with_no_trace_yet_the_pane_says_how_to_get_one(qapp: Any, loop: Any) -> None:
    handler = b.http("GET", "/m", b.infix("+", 1, 2), pos=(20, 20))
    session = StandInSession([handler], [])
    controller = EditorController(session)
    controller.load([handler])
    window = MainWindow(controller)
    window.show()
    try:
        code = caret_on(window, handler, "1")
        QTest.keyClick(code, Qt.Key.Key_End)  # on the 2
        wait(loop, lambda: {"type": "get_traces", "tlid": handler.tlid, "limit": 50}
             in session.requests, "the traces to be asked for")
        loop.run_until_complete(asyncio.sleep(0.05))
        assert window.inspector.live_label.text() == "(no trace yet: send it a request, or run)"
        session.traces = TRACES  # a request came in: the next poll shows its values
        window.poll_runtime()
        wait(loop, lambda: handler.tlid in controller.live, "the newest trace's live values")
        assert controller.selected_trace[handler.tlid] == "newest"
        assert window.inspector.live_label.text() == "2"
    finally:
        loop.run_until_complete(controller.close())
        window.close()
        window.deleteLater()
