"""Issue 12 items 5 and 14 with real key events: code reads like source, extract and rename.

Layout: `if` / `then` / `else` each start a line at the `if`'s column and the
caret walks over them; a pipe step leaves the piped value implicit; versions
show alike on every call. Refactoring: extract variable names the new `let`
from what it extracts and leaves the caret on that name; a new flag is named
from its handler; F2 renames the variable or flag at the caret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from strategies import exprs, toplevels

from editor.controller import EditorController
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast.nodes import EFlag, EIf, ELet
from shared_ast.ops import SetName
from shared_ast.toplevels import Handler, HttpSpec
from shared_ast.type_ast import INT


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    controller.load([b.http("GET", "/one", 1, pos=(20, 20))])
    w = MainWindow(controller)
    w.show()
    yield w
    w.close()
    w.deleteLater()


def handler(w: MainWindow, route: str) -> Handler:
    return next(tl for tl in w.controller.state.canvas.values()
                if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)
                and tl.spec.route == route)


def focus_code(w: MainWindow, route: str) -> Any:
    tl = handler(w, route)
    w.controller.focus(tl.tlid)
    code = w.canvas.frames[tl.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_End)
    return code


def shown(w: MainWindow) -> str:
    proj = w.controller.state.projection()
    assert proj is not None
    return proj.text


def test_a_typed_if_reads_if_then_else_and_the_caret_walks_over_them(window: MainWindow) -> None:
    w = window
    code = focus_code(w, "/one")
    QTest.keyClick(code, Qt.Key.Key_Backspace)               # 1 → hole
    QTest.keyClicks(code, "if")
    QTest.keyClick(code, Qt.Key.Key_Return)                  # complete `if`
    QTest.keyClicks(code, "5 > 3")
    QTest.keyClick(code, Qt.Key.Key_Tab)
    QTest.keyClicks(code, '"big')
    QTest.keyClick(code, Qt.Key.Key_Tab)
    QTest.keyClicks(code, '"small')
    body = handler(w, "/one").body
    assert isinstance(body, EIf), shown(w)
    assert shown(w) == 'if 5 > 3\nthen\n  "big"\nelse\n  "small"'
    # Walk the caret from the start to the end with Right: it visits every line,
    # stepping over `then` and `else` like over any keyword.
    QTest.keyClick(code, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    seen = []
    for _ in range(60):
        seen.append(code.caret)
        QTest.keyClick(code, Qt.Key.Key_Right)
    lines = {pos[0] for pos in seen if pos is not None}
    assert lines == {0, 1, 2, 3, 4}
    assert (1, 4) in seen and (3, 4) in seen              # after `then`, after `else`
    assert seen[-1] == (4, len('  "small"'))
    # Down from `then` goes into the then-branch and typing there edits it.
    QTest.keyClick(code, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(code, Qt.Key.Key_Down)
    QTest.keyClick(code, Qt.Key.Key_Down)
    QTest.keyClick(code, Qt.Key.Key_End)
    QTest.keyClick(code, Qt.Key.Key_Left)
    QTest.keyClicks(code, "!")
    assert shown(w) == 'if 5 > 3\nthen\n  "big!"\nelse\n  "small"'


def test_a_typed_pipe_shows_no_placeholder_and_versions_show_alike(window: MainWindow) -> None:
    w = window
    code = focus_code(w, "/one")
    QTest.keyClick(code, Qt.Key.Key_Backspace)
    # The completion popup names functions as the code does.
    QTest.keyClicks(code, "String::toIn")
    assert w.popup.isVisible()
    assert "String::toInt_v1" in w.popup.labels()
    for _ in "String::toIn":
        QTest.keyClick(code, Qt.Key.Key_Backspace)
    QTest.keyClicks(code, '"a" |> String::length ')
    text = shown(w)
    assert "·" not in text
    assert text == '"a"\n  |> String::length_v1'


# ------------------------------------------------------------ item 14: extract and rename


def load(w: MainWindow, *toplevels: Any) -> None:
    w.controller.load([*w.controller.state.canvas.values(), *toplevels])


def test_extract_variable_names_it_from_the_call_and_typing_renames_it(
        window: MainWindow) -> None:
    w = window
    load(w, b.http("GET", "/parse/:a",
                   b.infix("+", b.call("String::toInt_v1", b.var("a")), 1), pos=(20, 300)))
    code = focus_code(w, "/parse/:a")
    QTest.keyClick(code, Qt.Key.Key_Home)                    # on `String::toInt_v1`
    QTest.keyClick(code, Qt.Key.Key_Right)
    QTest.keyClick(code, Qt.Key.Key_V,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    body = handler(w, "/parse/:a").body
    assert isinstance(body, ELet) and body.name == "int", shown(w)
    assert shown(w) == "let int = String::toInt_v1 a\nint + 1"
    # The caret is on the new name, at its start, and the name is selected.
    state = w.controller.state
    assert state.caret is not None and state.caret.node_id == body.id
    assert state.selection == body.id
    assert code.caret == (0, len("let "))
    assert code.selection == {body.id}        # the let's own line is highlighted, not its body
    # Typing replaces the name, and its use follows.
    QTest.keyClicks(code, "count")
    assert shown(w) == "let count = String::toInt_v1 a\ncount + 1"
    QTest.keyClick(code, Qt.Key.Key_Backspace)
    assert shown(w) == "let coun = String::toInt_v1 a\ncoun + 1"
    # Undo takes the renaming back: the Backspace, then the word typed (undo goes by words).
    for _ in range(2):
        QTest.keyClick(code, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert shown(w) == "let int = String::toInt_v1 a\nint + 1"
    # Any other key ends the renaming; F2 on the variable's use renames it again.
    QTest.keyClick(code, Qt.Key.Key_Escape)
    QTest.keyClick(code, Qt.Key.Key_Down)
    QTest.keyClick(code, Qt.Key.Key_Home)
    QTest.keyClick(code, Qt.Key.Key_Right)
    QTest.keyClick(code, Qt.Key.Key_F2)
    assert w.palette_.filter.text() == "int"
    QTest.keyClicks(w.palette_.filter, "total")
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
    assert shown(w) == "let total = String::toInt_v1 a\ntotal + 1"


def test_extracted_names_avoid_names_in_scope_and_follow_the_expression() -> None:
    from editor.model import refactor

    assert refactor.suggest_name(b.field(b.var("r"), "name")) == "name"
    assert refactor.suggest_name(b.str_("hi")) == "text"
    assert refactor.suggest_name(b.int_(3)) == "number"
    assert refactor.suggest_name(b.call("List::length_v0", b.list_())) == "length"
    fn = b.function("price", [("x", INT)], INT, b.var("x"))
    assert refactor.suggest_name(b.user_call(fn, 3), {fn.fn_id: "price"}) == "price"
    tl = b.http("GET", "/x", b.let("text", "a", b.infix("++", b.var("text"), b.str_("b"))))
    literal = tl.body.body.right  # type: ignore[attr-defined]
    edit = refactor.extract_variable({tl.tlid: tl}, tl.tlid, literal.id)
    let = edit.ops[0].new  # type: ignore[attr-defined]
    assert let.name == "text2" and edit.select_name


def test_a_new_flag_is_named_from_its_handler_and_f2_renames_it(window: MainWindow) -> None:
    from shared_ast.apply import apply_to_canvas

    w = window
    load(w, b.http("GET", "/add/:y", b.infix("+", b.var("y"), 1), pos=(20, 300)))
    code = focus_code(w, "/add/:y")
    wrap = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(code, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)   # select 1
    QTest.keyClick(code, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)   # y + 1
    QTest.keyClick(code, Qt.Key.Key_F, wrap)
    flag = handler(w, "/add/:y").body
    assert isinstance(flag, EFlag) and flag.name == "add-y-sum", shown(w)
    QTest.keyClick(code, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # With that name taken on the canvas, the next flag gets a name of its own.
    load(w, b.http("GET", "/other", b.flag("add-y-sum", True, 1, 2), pos=(20, 600)))
    code = focus_code(w, "/add/:y")
    QTest.keyClick(code, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(code, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(code, Qt.Key.Key_F, wrap)
    flag = handler(w, "/add/:y").body
    assert isinstance(flag, EFlag) and flag.name == "add-y-sum-2", shown(w)
    # F2 on the flag asks for the name, with the old one filled in and selected.
    QTest.keyClick(code, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(code, Qt.Key.Key_Right)
    before = dict(w.controller.state.canvas)
    QTest.keyClick(code, Qt.Key.Key_F2)
    assert w.palette_.isVisible() and w.palette_.asking is not None
    assert w.palette_.filter.text() == "add-y-sum-2"
    QTest.keyClicks(w.palette_.filter, "newSum")
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
    flag = handler(w, "/add/:y").body
    assert isinstance(flag, EFlag) and flag.name == "newSum"
    # The op is one the runtime takes.
    tlid = handler(w, "/add/:y").tlid
    (op,) = dict(w.controller.state.history.undo_stacks)[tlid][-1]
    assert isinstance(op, SetName) and op.new == "newSum"
    after = apply_to_canvas([op], before)
    assert isinstance(after[tlid].body, EFlag) and after[tlid].body.name == "newSum"  # type: ignore[attr-defined]
    # Another flag's name and an empty name are refused, with a message saying why.
    for typed, said in (("add-y-sum", "already called add-y-sum"), ("", "needs the new name")):
        QTest.keyClick(code, Qt.Key.Key_F2)
        QTest.keyClick(w.palette_.filter, Qt.Key.Key_Backspace)  # clears the selected name
        QTest.keyClicks(w.palette_.filter, typed)
        QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
        assert handler(w, "/add/:y").body.name == "newSum"  # type: ignore[attr-defined]
        assert said in w.statusBar().currentMessage()
    # Undo takes the rename back.
    QTest.keyClick(code, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert handler(w, "/add/:y").body.name == "add-y-sum-2"  # type: ignore[attr-defined]


def test_a_typed_flag_is_named_from_its_handler(window: MainWindow) -> None:
    w = window
    load(w, b.http("GET", "/add/:y", 1, pos=(20, 300)))
    code = focus_code(w, "/add/:y")
    QTest.keyClick(code, Qt.Key.Key_Backspace)               # 1 → hole
    QTest.keyClicks(code, "flag")
    QTest.keyClick(code, Qt.Key.Key_Return)
    flag = handler(w, "/add/:y").body
    assert isinstance(flag, EFlag) and flag.name == "add-y", shown(w)


@given(exprs(8), toplevels(4))
def test_suggested_names_are_always_usable(e: Any, tl: Any) -> None:
    from editor.model import flags, refactor
    from shared_ast.names import identifier_problem

    name = refactor.suggest_name(e)
    assert identifier_problem(name) is None and name not in refactor.KEYWORDS
    flag = flags.flag_name_for(tl, e)
    assert flag and not any(c.isspace() for c in flag)
