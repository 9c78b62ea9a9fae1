"""Making a test from a trace, the editor's half (editor/model/trace_test.py): which trace,
where the test goes, what the editor says; and the command in the palette."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from editor.model import motion, trace_test
from editor.model.placement import Box
from editor.model.state import EditorState
from shared_ast import build as b
from shared_ast.toplevels import Pos
from tests.test_editor_canvas_layout import CTRL, focus_code, make_window

SHOW = b.http("GET", "/users/:id", b.str_("x"), pos=(40, 400))
REPL = b.repl("scratch", b.int_(1), pos=(40, 40))


def focused(state: EditorState, tlid: int) -> EditorState:
    return motion.focus(state, tlid).state


def test_the_trace_shown_is_chosen_else_the_newest() -> None:
    state = focused(EditorState({SHOW.tlid: SHOW, REPL.tlid: REPL}), SHOW.tlid)
    traces = {SHOW.tlid: [{"trace_id": "new"}, {"trace_id": "old"}]}
    assert trace_test.chosen_trace(state, traces, {}) == (SHOW.tlid, "new")
    assert trace_test.chosen_trace(state, traces, {SHOW.tlid: "old"}) == (SHOW.tlid, "old")
    assert trace_test.chosen_trace(state, {}, {}) == (
        "This handler has no trace yet: send it a request, then make a test from the trace.")
    in_repl = focused(state, REPL.tlid)
    assert "Put the caret in an HTTP handler" in str(trace_test.chosen_trace(in_repl, {}, {}))


def _test() -> Any:
    return b.test("GET /users/7 answers as traced",
                  b.expect(b.call("Test::http_v0", "GET", "/users/7", None), "x"))


@given(st.lists(st.tuples(st.integers(-200, 1500), st.integers(-200, 1500)), max_size=6))
def test_the_test_goes_beside_its_handler_on_no_other_frame(spots: list[tuple[int, int]]) -> None:
    others = [b.http("GET", f"/o{i}", 1, pos=p) for i, p in enumerate(spots)]
    canvas = {t.tlid: t for t in [SHOW, *others]}
    state = focused(EditorState(canvas), SHOW.tlid)
    sizes = dict.fromkeys(canvas, (420, 200))
    out = trace_test.add_test(state, _test(), SHOW.tlid, sizes, {"status": "passed"})
    assert not out.refused
    (made,) = [t for t in out.state.canvas.values() if t.tlid not in canvas]
    assert made.pos.x >= SHOW.pos.x + 420 and made.pos.y >= SHOW.pos.y
    box = Box(made.pos.x, made.pos.y, *trace_test.DEFAULT_SIZE)
    assert not any(box.overlaps(Box(t.pos.x, t.pos.y, 420, 200)) for t in canvas.values())
    assert out.state.caret == state.caret          # the caret stays in the handler
    assert out.message.endswith("it passes.")


def test_a_test_that_does_not_pass_says_why_and_undo_removes_it() -> None:
    state = focused(EditorState({SHOW.tlid: SHOW}), SHOW.tlid)
    test = _test()
    out = trace_test.add_test(state, test, SHOW.tlid, {},
                              {"status": "failed", "summary": "t: failed: expected 1, got 2"})
    assert "it does not pass yet: t: failed: expected 1, got 2" in out.message
    assert dict(out.state.history.undo_stacks).get(test.tlid)
    again = trace_test.add_test(out.state, attrs.evolve(test, pos=Pos(0, 0)), SHOW.tlid, {})
    assert again.refused and "already" in again.message


def test_the_palette_offers_it_and_without_a_runtime_it_says_so(qapp: Any) -> None:
    w = make_window([b.http("GET", "/one", 1, pos=(20, 20))])
    try:
        focus_code(w, "/one")
        QTest.keyClick(w, Qt.Key.Key_K, CTRL)
        QTest.keyClicks(w.palette_.filter, "make a test from this trace")
        assert w.palette_.list.count() == 1
        QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
        assert "no trace yet" in w.status.currentMessage()
    finally:
        w.close()
        w.deleteLater()
