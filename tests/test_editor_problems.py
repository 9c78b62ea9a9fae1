"""Problems and the error rail on screen: gutter marks, hover, header count, F8, the rail key.

Real key events into the real main window (offscreen), as a programmer would
type; what is on screen is read from the code view's public state and from
its painted pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from editor.controller import EditorController
from editor.model import actions, checking, inspecting, problems
from editor.model.state import EditorState
from editor.projection import Caret
from editor.widgets.code_view import GUTTER, LEFT, MARK_W, PAD, PROBLEM_X, RAIL_X, CodeView
from editor.widgets.main_window import MainWindow
from editor.widgets.theme import RAIL_INK, token_style
from shared_ast import build as b
from shared_ast import traverse
from shared_ast.evaluator import run_toplevel
from shared_ast.nodes import ECall, EHole, ELet, EPipe
from shared_ast.toplevels import Handler, HttpSpec, Pos, Toplevel

SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    controller.load([Handler(7001, Pos(20, 20), 0, HttpSpec("GET", "/x/:a"), EHole(7002))])
    w = MainWindow(controller)
    w.show()
    yield w
    w.close()
    w.deleteLater()


def tl_of(w: MainWindow, route: str) -> Handler:
    return next(tl for tl in w.controller.state.canvas.values()
                if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)
                and tl.spec.route == route)


def code_of(w: MainWindow, route: str) -> CodeView:
    tl = tl_of(w, route)
    w.controller.focus(tl.tlid)
    code = w.canvas.frames[tl.tlid].code
    code.setFocus()
    return code


def pixel(code: CodeView, x: int, y: int) -> QColor:
    code.resize(code.sizeHint())
    return code.grab().toImage().pixelColor(x, y)


def mark_top(code: CodeView, line: int) -> int:
    h = code.cell[1]
    return PAD + line * h + (h - MARK_W) // 2


def has_problem_dot(code: CodeView, line: int) -> bool:
    color = pixel(code, PROBLEM_X + MARK_W // 2, mark_top(code, line) + MARK_W // 2)
    return color == QColor(token_style("error").foreground)


def has_rail_mark(code: CodeView, line: int) -> bool:
    return pixel(code, RAIL_X + MARK_W // 2, mark_top(code, line) + 1) == QColor(RAIL_INK)


def tooltip(code: CodeView, at: QPoint) -> str:
    QToolTip.hideText()
    QTest.qWait(400)     # a hidden tooltip fades out first
    assert not QToolTip.isVisible()
    event = QHelpEvent(QEvent.Type.ToolTip, at, code.mapToGlobal(at))
    QApplication.sendEvent(code, event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def header_count(w: MainWindow, tlid: int) -> str:
    label = w.canvas.frames[tlid].fields.get("problems")
    return label.text() if label is not None and label.isVisible() else ""


# ------------------------------------------------------------- the rail


def test_a_call_on_the_rail_shows_in_the_gutter_and_the_key_takes_it_off(
        window: MainWindow) -> None:
    w = window
    code = code_of(w, "/x/:a")
    QTest.keyClicks(code, "String::toInt a")
    call = tl_of(w, "/x/:a").body
    assert isinstance(call, ECall) and call.on_rail
    assert set(code.gutter.rails) == {0} and code.gutter.problems == {}
    assert has_rail_mark(code, 0) and not has_problem_dot(code, 0)
    assert "error rail" in tooltip(code, QPoint(GUTTER // 2, PAD + code.cell[1] // 2))
    # So does the call's name: what the rail does with its Result.
    said = tooltip(code, QPoint(LEFT + 3 * code.cell[0], PAD + code.cell[1] // 2))
    assert said.startswith("On the error rail: String::toInt returns Result<Int, String>")
    # Piped whole into Result::withDefault, the unwrapped Int does not fit: a problem.
    QTest.keyClicks(code, " |> Result::withDefault 0")
    tlid = tl_of(w, "/x/:a").tlid
    assert isinstance(tl_of(w, "/x/:a").body, EPipe)
    assert set(code.gutter.problems) == {1} and has_problem_dot(code, 1)
    assert header_count(w, tlid) == "1 problem"
    # The problem says how to fix it, on hover over its gutter dot.
    h = code.cell[1]
    said = tooltip(code, QPoint(PROBLEM_X + 2, PAD + h + h // 2))
    assert "expected Result" in said and "Ctrl+Shift+R" in said
    # On the call's line, Ctrl+Shift+R takes it off the rail: the pipe checks clean and runs.
    QTest.keyClick(code, Qt.Key.Key_Up)
    QTest.keyClick(code, Qt.Key.Key_R, CTRL_SHIFT)
    pipe = tl_of(w, "/x/:a").body
    assert isinstance(pipe, EPipe) and isinstance(pipe.head, ECall) and not pipe.head.on_rail
    assert "off the error rail" in w.status.currentMessage()
    assert code.gutter.rails == {} and code.gutter.problems == {}
    assert not has_rail_mark(code, 0) and not has_problem_dot(code, 1)
    assert header_count(w, tlid) == ""
    assert not any(info.marks for info in w.controller.infos[tlid].values())
    assert run_toplevel(tl_of(w, "/x/:a"), {"a": "12"}) == 12
    assert run_toplevel(tl_of(w, "/x/:a"), {"a": "twelve"}) == 0
    # Undo puts it back on the rail, with its mark and the problem.
    QTest.keyClick(code, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    pipe = tl_of(w, "/x/:a").body
    assert isinstance(pipe, EPipe) and isinstance(pipe.head, ECall) and pipe.head.on_rail
    assert has_rail_mark(code, 0) and has_problem_dot(code, 1)
    assert header_count(w, tlid) == "1 problem"


def test_the_rail_toggle_is_in_the_palette_and_refuses_a_call_that_cannot_go_on_it(
        window: MainWindow) -> None:
    w = window
    code = code_of(w, "/x/:a")
    QTest.keyClicks(code, "Int::add 1 2")
    QTest.keyClick(w, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(w.palette_.filter, "toggle error rail")
    assert w.palette_.list.count() == 1
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
    call = tl_of(w, "/x/:a").body
    assert isinstance(call, ECall) and not call.on_rail
    assert "only a call that returns an Option or a Result" in w.status.currentMessage()


def test_a_locked_handler_refuses_the_rail_toggle(window: MainWindow) -> None:
    from shared_ast.locking import InUse

    w = window
    code = code_of(w, "/x/:a")
    QTest.keyClicks(code, "String::toInt a")
    tlid = tl_of(w, "/x/:a").tlid
    w.controller.set_locks({tlid: InUse(tlid, 3, 0.0)})
    QTest.keyClick(code, Qt.Key.Key_R, CTRL_SHIFT)
    call = tl_of(w, "/x/:a").body
    assert isinstance(call, ECall) and call.on_rail
    assert "in use" in w.status.currentMessage()


# ------------------------------------------------------------- problems


def two_problems() -> Handler:
    # `1 + "a"` and `n + true`: two type errors on two lines.
    return b.http("GET", "/bad", b.let("n", b.infix("+", 1, b.str_("a")),
                                       b.infix("+", b.var("n"), True)), pos=(20, 300))


def load(w: MainWindow, *tls: Toplevel) -> None:
    w.controller.load([*w.controller.state.canvas.values(), *tls])


def test_a_type_error_shows_a_gutter_dot_the_count_a_tooltip_and_the_inspector_message(
        window: MainWindow) -> None:
    w = window
    tl = two_problems()
    load(w, tl)
    code = code_of(w, "/bad")
    assert set(code.gutter.problems) == {0, 1}
    assert has_problem_dot(code, 0) and has_problem_dot(code, 1)
    assert not has_rail_mark(code, 0)
    assert header_count(w, tl.tlid) == "2 problems"
    message = code.gutter.problems[0][0]
    assert "String" in message
    # Hovering the gutter dot or the underlined token shows the message.
    h = code.cell[1]
    assert tooltip(code, QPoint(PROBLEM_X + 2, PAD + h // 2)) == message
    (shown,) = (i for i, text in code.gutter.tips.items() if text == message)
    first = code.projection.own_tokens(shown)[0]
    w_ = code.cell[0]
    assert tooltip(code, QPoint(LEFT + first.column * w_ + w_ // 2, PAD + h // 2)) == message
    assert tooltip(code, QPoint(LEFT + 1, PAD + h // 2)) == ""     # `let`: no problem there
    # F8 puts the caret on the first problem, and the inspector says what is wrong.
    QTest.keyClick(code, Qt.Key.Key_Home)
    QTest.keyClick(code, Qt.Key.Key_F8)
    assert w.controller.state.caret.node_id == shown
    assert message in w.inspector.type_label.text()
    assert "Problem 1 of 2" in w.status.currentMessage()


def test_f8_and_shift_f8_walk_the_problems_in_order_and_wrap(window: MainWindow) -> None:
    w = window
    tl = two_problems()
    load(w, tl)
    code = code_of(w, "/bad")
    QTest.keyClick(code, Qt.Key.Key_Home)
    found = problems.problems_in(tl, code.projection, w.controller.infos[tl.tlid])
    assert [p.line for p in found] == [0, 1]

    def at() -> int:
        return w.controller.state.caret.node_id

    QTest.keyClick(code, Qt.Key.Key_F8)
    assert at() == found[0].shown_id
    QTest.keyClick(code, Qt.Key.Key_F8)
    assert at() == found[1].shown_id
    QTest.keyClick(code, Qt.Key.Key_F8)           # wraps to the first
    assert at() == found[0].shown_id
    QTest.keyClick(code, Qt.Key.Key_F8, SHIFT)    # and back round to the last
    assert at() == found[1].shown_id
    QTest.keyClick(code, Qt.Key.Key_F8, SHIFT)
    assert at() == found[0].shown_id


def test_f8_goes_to_a_problem_in_another_toplevel_and_says_when_there_are_none(
        window: MainWindow) -> None:
    w = window
    code = code_of(w, "/x/:a")
    QTest.keyClick(code, Qt.Key.Key_F8)
    assert w.status.currentMessage() == "No problems: the code checks clean."
    tl = two_problems()
    load(w, tl)
    code = code_of(w, "/x/:a")
    QTest.keyClick(code, Qt.Key.Key_F8)
    assert w.controller.state.caret.tlid == tl.tlid
    assert w.status.currentMessage().startswith("Problem 1 of 2 (in HTTP GET /bad): ")
    assert w.canvas.frames[tl.tlid].code.hasFocus()


# ------------------------------------------------------------- inspector


def test_the_inspector_shows_the_type_of_what_the_caret_is_on(window: MainWindow) -> None:
    w = window
    tl = b.http("GET", "/t/:a", b.let("n", b.call("String::toInt_v1", b.var("a"), rail=True),
                                      b.call("String::fromInt_v0", b.var("n"))),
                pos=(20, 300))
    load(w, tl)
    code = code_of(w, "/t/:a")
    QTest.keyClick(code, Qt.Key.Key_Up)
    QTest.keyClick(code, Qt.Key.Key_Home)
    for _ in range(5):
        QTest.keyClick(code, Qt.Key.Key_Right)    # on the name n
    assert isinstance(w.controller.state.node(w.controller.state.caret.node_id), ELet)
    text = w.inspector.type_label.text()
    assert text.splitlines()[0] == "let n: Int", text          # the bound value, not String
    QTest.keyClick(code, Qt.Key.Key_End)          # on `a`, the argument
    assert w.inspector.type_label.text().splitlines()[0] == "a: String"
    QTest.keyClick(code, Qt.Key.Key_Home)
    for _ in range(9):
        QTest.keyClick(code, Qt.Key.Key_Right)    # on String::toInt
    text = w.inspector.type_label.text()
    assert text.splitlines()[0] == ("String::toInt gives Int (unwrapped from "
                                    "Result<Int, String> by the error rail)"), text
    assert "Ctrl+Shift+R takes it off" in text
    QTest.keyClick(code, Qt.Key.Key_Down)
    QTest.keyClick(code, Qt.Key.Key_End)          # on n, the variable
    assert w.inspector.type_label.text().splitlines()[0] == "n: Int"


# ------------------------------------------------------- model properties


def _lets(n: int, bad: set[int]) -> Handler:
    body: Any = b.var("v0")
    for i in reversed(range(n)):
        rhs = b.infix("+", 1, b.str_("x") if i in bad else 2)
        body = b.let(f"v{i}", rhs, body)
    return b.http("GET", "/p", body)


@settings(max_examples=30)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.just(n), st.sets(st.integers(0, n - 1)), st.integers(0, n))))
def test_f8_from_anywhere_visits_every_problem_once_per_round(case: tuple[int, set[int], int]
                                                              ) -> None:
    n, bad, start_line = case
    tl = _lets(n, bad)
    state = EditorState({tl.tlid: tl})
    proj = state.projection(tl.tlid)
    assert proj is not None
    state = EditorState({tl.tlid: tl}, caret=proj.caret_at(start_line, 0))
    infos = checking.infos_of(state.canvas)
    gutter = problems.gutter_of(tl, proj, infos[tl.tlid])
    assert set(gutter.problems) == bad and gutter.count == len(bad)
    seen: list[int] = []
    for _ in range(len(bad)):
        out = actions.perform(state, "next-problem")
        state = out.state
        assert state.caret is not None
        line = proj.position(state.caret)
        assert line is not None
        seen.append(line[0])
    assert sorted(seen) == sorted(bad)                     # each once
    if bad:
        # A full round comes back to the first; Shift+F8 from there goes to the last.
        state = actions.perform(state, "next-problem").state
        assert state.caret is not None and proj.position(state.caret)[0] == seen[0]  # type: ignore[index]
        back = actions.perform(state, "previous-problem").state
        assert back.caret is not None and proj.position(back.caret)[0] == seen[-1]  # type: ignore[index]


def test_a_mark_on_a_node_with_no_token_of_its_own_shows_on_its_nearest_shown_ancestor(
        ) -> None:
    # A partial shows its old expression as one greyed token owned by the old root:
    # the old root's children show no token of their own.
    old = b.infix("+", 1, b.str_("a"))
    tl = b.http("GET", "/x", b.let("v", b.partial("y", old), 2))
    infos = checking.infos_of({tl.tlid: tl})[tl.tlid]
    mark = next(info for info in checking.infos_of(
        {tl.tlid: b.http("GET", "/y", old)})[tl.tlid].values() if info.marks)
    state = EditorState({tl.tlid: tl})
    proj = state.projection(tl.tlid)
    assert proj is not None and not proj.own_tokens(old.right.id)
    gutter = problems.gutter_of(tl, proj, {**infos, old.right.id: mark})
    assert gutter.count == 1 and set(gutter.problems) == {0}
    assert gutter.marked == {old.id} and gutter.tips[old.id] == mark.marks[0].message
    # On the toplevel itself (no token at all): the code's first token shows it.
    gutter = problems.gutter_of(tl, proj, {tl.tlid: mark})
    assert gutter.marked == {proj.placed[0].token.node_id} and set(gutter.problems) == {0}


def test_the_let_name_shows_the_bound_value_type_in_the_model() -> None:
    tl = b.http("GET", "/x", b.let("s", b.str_("a"), 3))
    let = tl.body
    assert isinstance(let, ELet)
    state = EditorState({tl.tlid: tl}, caret=Caret(tl.tlid, let.id, 5))
    lines = inspecting.caret_lines(state, checking.infos_of(state.canvas)[tl.tlid])
    assert lines[0] == "let s: String"


def test_a_let_bound_rail_call_used_as_a_result_names_the_rail_key() -> None:
    rail = b.call("String::toInt_v1", b.var("a"), rail=True)
    plain = b.call("String::toInt_v1", b.var("a"))
    for rhs, hinted in ((rail, True), (plain, False)):
        use = b.call("Result::withDefault_v0", b.var("n"), 0)
        tl = b.http("GET", "/x/:a", b.let("n", rhs, b.let("m", use, b.var("m"))))
        found = problems.problems_in(tl, EditorState({tl.tlid: tl}).projection(tl.tlid),
                                     checking.infos_of({tl.tlid: tl})[tl.tlid])
        if hinted:
            assert len(found) == 1 and "String::toInt is on the error rail" in found[0].message
            assert problems.railed_source(tl, found[0].node_id) == rail
        else:
            assert found == []


@settings(max_examples=60)
@given(st.data())
def test_the_remembered_rail_calls_are_those_a_walk_finds_after_any_edits(
        data: st.DataObject) -> None:
    from op_strategies import canvas_toplevels, valid_ops

    from shared_ast import ops as o
    from shared_ast.apply import apply

    tl: Toplevel = data.draw(canvas_toplevels(10), label="toplevel")
    for _step in range(data.draw(st.integers(0, 6), label="steps")):
        calls = [n for n in traverse.walk(tl) if isinstance(n, ECall)]
        if calls and data.draw(st.booleans(), label="toggle"):
            call = data.draw(st.sampled_from(calls), label="call")
            new = traverse.replace(tl, call.id, attrs.evolve(call, on_rail=not call.on_rail))
        else:
            kind = data.draw(st.sampled_from([o.ReplaceNode, o.InsertElement,
                                              o.RemoveElement]), label="kind")
            new = apply(data.draw(valid_ops(tl, kind), label="op"), tl)
        assert isinstance(new, Toplevel)
        tl = new
        walked = [n for n in traverse.walk(tl) if isinstance(n, ECall) and n.on_rail]
        assert problems.rail_calls(tl) == walked
        assert [id(c) for c in problems.rail_calls(tl)] == [id(c) for c in walked]


def test_the_rail_toggle_is_one_op_the_runtime_applies_and_undo_inverts() -> None:
    from shared_ast import wire
    from shared_ast.apply import apply_to_canvas

    call = b.call("String::toInt_v1", b.var("a"), rail=True)
    tl = b.http("GET", "/x/:a", b.let("n", call, b.var("n")))
    state = EditorState({tl.tlid: tl}, caret=Caret(tl.tlid, call.id, 3))
    out = actions.perform(state, "toggle-error-rail")
    assert not out.refused and len(out.ops) == 1
    runtime = apply_to_canvas(wire.decode_ops(wire.encode_ops(list(out.ops))), state.canvas)
    assert runtime == dict(out.state.canvas)
    toggled = out.state.canvas[tl.tlid].body.rhs  # type: ignore[attr-defined]
    assert toggled == attrs.evolve(call, on_rail=False)
    back = actions.perform(out.state, "undo")
    assert back.state.canvas[tl.tlid] == tl
    assert apply_to_canvas(wire.decode_ops(wire.encode_ops(list(back.ops))),
                           runtime) == dict(back.state.canvas)
    # Outside any call there is nothing to toggle, and it says so.
    let = tl.body
    assert isinstance(let, ELet)
    refused = actions.perform(attrs.evolve(state, caret=Caret(tl.tlid, let.id, 0)),
                              "toggle-error-rail")
    assert refused.refused and refused.ops == () and "not in a function call" in refused.message
