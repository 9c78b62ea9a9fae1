"""Header fields from the keyboard: route, method, queue, cron interval, a function's
name, parameters and return type, edited in place, with Tab between them and the code.

Every key goes to the widget that has the keyboard focus (`QApplication.focusWidget()`),
as a person's keys do, starting from the real MainWindow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QSpinBox, QWidget
from test_editor_declarations import declarable

from editor.controller import EditorController
from editor.widgets.code_view import CodeView
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast.nodes import EHole, EInt
from shared_ast.toplevels import CronSpec, Handler, HttpSpec, UserFunction, WorkerSpec
from shared_ast.type_ast import INT, STRING, UNKNOWN, TList, TResult, Type, show_type

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    controller.load([b.http("GET", "/one", b.infix("+", b.hole(), b.infix("*", b.hole(), b.hole())),
                            pos=(20, 20))])
    w = MainWindow(controller)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w)
    yield w
    w.close()
    w.deleteLater()


def focused(w: MainWindow) -> QWidget:
    got = QApplication.focusWidget()
    return got if got is not None else w


def keys(w: MainWindow, text: str) -> None:
    """Type `text` one character at a time into whatever has the focus then."""
    for ch in text:
        QTest.keyClicks(focused(w), ch)


def key(w: MainWindow, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
        ) -> None:
    QTest.keyClick(focused(w), k, mods)


def caret_toplevel(w: MainWindow) -> Any:
    caret = w.controller.state.caret
    assert caret is not None
    return w.controller.state.canvas[caret.tlid]


def field(w: MainWindow, tlid: int, name: str) -> QWidget:
    return w.canvas.frames[tlid].fields[name]


def test_ctrl_n_then_typing_replaces_the_route_and_enter_goes_to_the_code(
        window: MainWindow) -> None:
    key(window, Qt.Key.Key_N, CTRL)
    tl = caret_toplevel(window)
    route = field(window, tl.tlid, "route")
    assert focused(window) is route and route.selectedText() == "/new"  # type: ignore[attr-defined]
    keys(window, "/add/:a/:b")
    key(window, Qt.Key.Key_Return)
    new = window.controller.state.canvas[tl.tlid]
    assert isinstance(new, Handler) and new.spec == HttpSpec("GET", "/add/:a/:b")
    assert focused(window) is window.canvas.frames[tl.tlid].code
    keys(window, "7")
    body = window.controller.state.canvas[tl.tlid].body  # type: ignore[attr-defined]
    assert isinstance(body, EInt) and body.value == 7


def test_tab_goes_method_route_then_the_body_and_shift_tab_comes_back(
        window: MainWindow) -> None:
    key(window, Qt.Key.Key_N, CTRL)
    tlid = caret_toplevel(window).tlid
    frame = window.canvas.frames[tlid]
    key(window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    method = frame.fields["method"]
    assert focused(window) is method and isinstance(method, QComboBox)
    key(window, Qt.Key.Key_Down)                      # GET → POST
    key(window, Qt.Key.Key_Tab)
    assert focused(window) is frame.fields["route"]
    keys(window, "/notes")
    key(window, Qt.Key.Key_Tab)                       # from the last field into the code
    assert focused(window) is frame.code
    assert window.controller.state.canvas[tlid].spec == HttpSpec(  # type: ignore[attr-defined]
        "POST", "/notes")
    keys(window, "5")
    body = window.controller.state.canvas[tlid].body  # type: ignore[attr-defined]
    assert isinstance(body, EInt) and body.value == 5
    # At the code's start, Shift+Tab goes back to the header's last field.
    key(window, Qt.Key.Key_Home)
    key(window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused(window) is frame.fields["route"]
    # Escape returns to the code, the route unchanged.
    keys(window, "/dropped")
    key(window, Qt.Key.Key_Escape)
    assert focused(window) is frame.code
    assert window.controller.state.canvas[tlid].spec.route == "/notes"  # type: ignore[attr-defined]
    assert frame.fields["route"].text() == "/notes"  # type: ignore[attr-defined]


def test_tab_lands_in_the_first_hole_and_shift_tab_only_leaves_from_the_start(
        window: MainWindow) -> None:
    tl = next(iter(window.controller.state.canvas.values()))
    frame = window.canvas.frames[tl.tlid]
    route = frame.fields["route"]
    window.controller.focus(tl.tlid)
    frame.code.setFocus()
    key(window, Qt.Key.Key_Tab)                        # the caret on the second hole
    route.setFocus()                                   # as a click into the route does
    key(window, Qt.Key.Key_Tab)                        # back in the code, at the first hole
    assert focused(window) is frame.code
    keys(window, "3")
    body = window.controller.state.canvas[tl.tlid].body  # type: ignore[attr-defined]
    assert isinstance(body.left, EInt) and isinstance(body.right.left, EHole)
    key(window, Qt.Key.Key_Tab)                        # to the second hole
    key(window, Qt.Key.Key_Tab)                        # to the third
    key(window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused(window) is frame.code              # a hole before it: still code
    keys(window, "4")
    body = window.controller.state.canvas[tl.tlid].body  # type: ignore[attr-defined]
    assert isinstance(body.right.left, EInt) and isinstance(body.right.right, EHole)
    key(window, Qt.Key.Key_Home)
    key(window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused(window) is route


def test_a_function_typed_from_keys_only(window: MainWindow) -> None:
    key(window, Qt.Key.Key_F, CTRL_ALT)
    fn = caret_toplevel(window)
    assert isinstance(fn, UserFunction)
    frame = window.canvas.frames[fn.tlid]
    name = frame.fields["name"]
    assert focused(window) is name
    assert name.selectedText() == fn.name  # type: ignore[attr-defined]
    keys(window, "describe")
    key(window, Qt.Key.Key_Tab)                        # to the first parameter's name
    keys(window, "a ")
    assert frame.param_rows[0].name.text() == "a"
    keys(window, ": In")
    assert frame.param_rows[0].type.text() == "In"    # the spaces around `:` are skipped
    keys(window, "t, b : String")
    key(window, Qt.Key.Key_Tab)                        # to the return type
    assert focused(window) is frame.fields["return"]
    keys(window, "String")
    key(window, Qt.Key.Key_Tab)                        # into the code
    assert focused(window) is frame.code
    fn = window.controller.state.canvas[fn.tlid]
    assert isinstance(fn, UserFunction) and fn.name == "describe"
    assert [(p.name, p.type) for p in fn.params] == [("a", INT), ("b", STRING)]
    assert fn.return_type == STRING
    # What the header shows is what is stored.
    rows, ret = frame.param_values()
    assert [(r.name, r.type_text) for r in rows] == [("a", "Int"), ("b", "String")]
    assert ret == "String"


def test_enter_adds_a_parameter_and_backspace_on_an_empty_one_removes_it(
        window: MainWindow) -> None:
    fn = b.function("f", [("a", INT), ("b", INT)], INT, b.var("a"))
    window.controller.load([fn])
    frame = window.canvas.frames[fn.tlid]
    frame.fields["name"].setFocus()
    key(window, Qt.Key.Key_Tab)                        # a
    key(window, Qt.Key.Key_Tab)                        # a's type
    key(window, Qt.Key.Key_Tab)                        # b
    assert focused(window) is frame.param_rows[1].name
    key(window, Qt.Key.Key_Backspace)                  # clears the selected name
    key(window, Qt.Key.Key_Backspace)                  # removes the empty parameter
    now = window.controller.state.canvas[fn.tlid]
    assert isinstance(now, UserFunction) and [p.name for p in now.params] == ["a"]
    assert focused(window) is frame.param_rows[0].type
    key(window, Qt.Key.Key_Return)                     # a new parameter after a
    keys(window, "c")
    key(window, Qt.Key.Key_Tab)
    keys(window, "Result<List<Int>, String>")        # a comma inside a type is the type's
    key(window, Qt.Key.Key_Tab)
    now = window.controller.state.canvas[fn.tlid]
    assert isinstance(now, UserFunction)
    assert [(p.name, p.type) for p in now.params] == [("a", INT),
                                                      ("c", TResult(TList(INT), STRING))]
    assert [r.name for r in frame.param_values()[0]] == ["a", "c"]
    assert focused(window) is frame.fields["return"]


def test_a_bad_type_says_why_and_keeps_the_focus(window: MainWindow) -> None:
    key(window, Qt.Key.Key_F, CTRL_ALT)
    fn = caret_toplevel(window)
    frame = window.canvas.frames[fn.tlid]
    key(window, Qt.Key.Key_Tab)                        # x
    key(window, Qt.Key.Key_Tab)                        # x's type
    type_edit = frame.param_rows[0].type
    assert focused(window) is type_edit
    keys(window, "Nope")
    key(window, Qt.Key.Key_Tab)
    assert "there is no type 'Nope'" in window.status.currentMessage()
    assert focused(window) is type_edit and type_edit.text() == "Nope"
    now = window.controller.state.canvas[fn.tlid]
    assert isinstance(now, UserFunction) and now.params[0].type == UNKNOWN
    key(window, Qt.Key.Key_Escape)                     # gives up: the stored type, the code
    assert frame.param_rows[0].type.text() == "?"
    assert focused(window) is frame.code


def test_a_worker_and_a_cron_from_keys(window: MainWindow) -> None:
    key(window, Qt.Key.Key_W, CTRL_ALT)
    worker = caret_toplevel(window)
    queue = field(window, worker.tlid, "queue")
    assert focused(window) is queue
    assert queue.selectedText() == worker.spec.queue  # type: ignore[attr-defined]
    keys(window, "emails")
    key(window, Qt.Key.Key_Tab)
    assert focused(window) is window.canvas.frames[worker.tlid].code
    assert window.controller.state.canvas[worker.tlid].spec == WorkerSpec(  # type: ignore[attr-defined]
        "emails")

    key(window, Qt.Key.Key_C, CTRL_ALT)
    cron = caret_toplevel(window)
    assert cron.tlid != worker.tlid
    name = field(window, cron.tlid, "name")
    assert focused(window) is name and isinstance(name, QLineEdit)
    assert name.selectedText() == cron.spec.name
    keys(window, "nightly")
    key(window, Qt.Key.Key_Tab)
    every = field(window, cron.tlid, "interval")
    assert focused(window) is every and isinstance(every, QSpinBox)
    keys(window, "5")
    key(window, Qt.Key.Key_Escape)                     # dropped: the stored interval again
    assert every.value() == 60 and focused(window) is window.canvas.frames[cron.tlid].code
    assert window.controller.state.canvas[cron.tlid].spec.interval_seconds == 60  # type: ignore[attr-defined]
    key(window, Qt.Key.Key_Home)
    key(window, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused(window) is every
    keys(window, "3600")
    key(window, Qt.Key.Key_Tab)
    assert focused(window) is window.canvas.frames[cron.tlid].code
    assert window.controller.state.canvas[cron.tlid].spec == CronSpec(  # type: ignore[attr-defined]
        "nightly", 3600)


def test_a_refused_route_keeps_the_text_to_fix_and_says_why(window: MainWindow) -> None:
    tl = next(iter(window.controller.state.canvas.values()))
    route = field(window, tl.tlid, "route")
    assert isinstance(route, QLineEdit)
    route.setFocus()
    route.selectAll()
    keys(window, "no-slash")
    key(window, Qt.Key.Key_Tab)
    assert "/" in window.status.currentMessage()
    assert focused(window) is route and route.text() == "no-slash"
    key(window, Qt.Key.Key_Home)
    keys(window, "/")
    key(window, Qt.Key.Key_Tab)
    assert window.controller.state.canvas[tl.tlid].spec.route == "/no-slash"  # type: ignore[attr-defined]
    assert isinstance(focused(window), CodeView)


def test_new_function_from_the_palette_focuses_its_name(window: MainWindow) -> None:
    key(window, Qt.Key.Key_K, CTRL)
    keys(window, "new:function")
    key(window, Qt.Key.Key_Return)
    fn = caret_toplevel(window)
    assert isinstance(fn, UserFunction)
    name = field(window, fn.tlid, "name")
    assert focused(window) is name and name.selectedText() == fn.name  # type: ignore[attr-defined]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"p[a-z0-9_]{0,5}", fullmatch=True), declarable()),
                min_size=1, max_size=3, unique_by=lambda p: p[0]),
       declarable())
def test_parameters_typed_as_text_are_the_function_s_parameters(
        qapp: Any, params: list[tuple[str, Type]], ret: Type) -> None:
    controller = EditorController(None)
    w = MainWindow(controller)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w)
    try:
        key(w, Qt.Key.Key_F, CTRL_ALT)
        tlid = caret_toplevel(w).tlid
        key(w, Qt.Key.Key_Tab)
        keys(w, ", ".join(f"{n} : {show_type(t)}" for n, t in params))
        key(w, Qt.Key.Key_Tab)
        keys(w, show_type(ret))
        key(w, Qt.Key.Key_Tab)
        fn = w.controller.state.canvas[tlid]
        assert isinstance(fn, UserFunction), w.status.currentMessage()
        assert [(p.name, p.type) for p in fn.params] == params, w.status.currentMessage()
        assert fn.return_type == ret
        assert focused(w) is w.canvas.frames[tlid].code
    finally:
        w.close()
        w.deleteLater()


def test_renaming_a_parameter_in_the_header_renames_its_uses(window: MainWindow) -> None:
    fn = b.function("double", [("n", INT)], INT, b.infix("*", b.var("n"), 2))
    window.controller.load([fn])
    frame = window.canvas.frames[fn.tlid]
    frame.fields["name"].setFocus()
    key(window, Qt.Key.Key_Tab)                        # n, selected
    keys(window, "count")
    key(window, Qt.Key.Key_Tab)
    now = window.controller.state.canvas[fn.tlid]
    assert isinstance(now, UserFunction) and [p.name for p in now.params] == ["count"]
    assert window.controller.state.projection(fn.tlid).text == "count * 2"
    assert focused(window) is frame.param_rows[0].type
