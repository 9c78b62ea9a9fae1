"""The editor's widgets without a runtime: keymap, palette, completion popup, undo, 404s.

Real key events (`QTest.keyClicks`, `keyClick`) into real widgets, offscreen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from editor.controller import EditorController
from editor.model import actions
from editor.widgets import keymap as keymaps
from editor.widgets.main_window import MainWindow, known_commands
from shared_ast import build as b
from shared_ast.nodes import ECall, EFlag, EInfix, EInt, ELet
from shared_ast.toplevels import Handler, HttpSpec


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    controller.load([b.http("GET", "/one", 1, pos=(20, 20)),
                     b.http("GET", "/two", b.infix("+", 1, 2), pos=(20, 200))])
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


def test_every_binding_names_a_command_that_exists() -> None:
    keymap = keymaps.load()
    assert keymaps.check(keymap, known_commands()) == []
    assert keymap.code["Tab"] == "next-hole"
    # The check can fail: a binding to a missing command is reported.
    broken = keymaps.Keymap({**keymap.code, "Ctrl+Q": "no-such-command"}, keymap.window)
    assert keymaps.check(broken, known_commands()) == [
        "code binding 'Ctrl+Q' names 'no-such-command', which is not a command"]


def test_a_keymap_file_with_an_unknown_key_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "keymap.json"
    path.write_text('{"code": {"Ctrl+Nope+Nope": "undo"}, "window": {}}')
    with pytest.raises(keymaps.KeymapError, match="not a key Qt knows"):
        keymaps.load(path)


def test_completion_popup_lists_and_enter_commits(window: MainWindow) -> None:
    code = focus_code(window, "/one")
    QTest.keyClick(code, Qt.Key.Key_Backspace)      # 1 → hole
    QTest.keyClicks(code, "Int::ad")
    assert window.popup.isVisible()
    assert window.popup.labels()[0] == "Int::add"
    QTest.keyClick(code, Qt.Key.Key_Return)
    body = handler(window, "/one").body
    assert isinstance(body, ECall) and body.fn.qualified == "Int::add_v0"
    assert not window.popup.isVisible()


def test_operators_typed_left_to_right_follow_precedence(window: MainWindow) -> None:
    code = focus_code(window, "/one")
    QTest.keyClick(code, Qt.Key.Key_End)
    QTest.keyClicks(code, " * 2 + 3")
    body = handler(window, "/one").body
    assert isinstance(body, EInfix) and body.op == "+"
    assert isinstance(body.left, EInfix) and body.left.op == "*"


def test_undo_and_redo_keys_are_per_toplevel(window: MainWindow) -> None:
    code_one = focus_code(window, "/one")
    QTest.keyClick(code_one, Qt.Key.Key_End)
    QTest.keyClicks(code_one, "5")
    assert handler(window, "/one").body == EInt(handler(window, "/one").body.id, 15)
    code_two = focus_code(window, "/two")
    QTest.keyClick(code_two, Qt.Key.Key_End)
    QTest.keyClicks(code_two, "0")
    QTest.keyClick(code_two, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    two = handler(window, "/two").body
    assert isinstance(two, EInfix) and two.right == EInt(two.right.id, 2)
    assert isinstance(handler(window, "/one").body, EInt)
    assert handler(window, "/one").body.value == 15      # untouched by /two's undo
    QTest.keyClick(code_two, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    two = handler(window, "/two").body
    assert isinstance(two, EInfix) and two.right.value == 20  # type: ignore[attr-defined]


def test_the_palette_filters_and_wraps_in_let(window: MainWindow) -> None:
    focus_code(window, "/one")
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.palette_.isVisible()
    QTest.keyClicks(window.palette_.filter, "wrap let")
    assert window.palette_.list.count() == 1
    QTest.keyClick(window.palette_.filter, Qt.Key.Key_Return)
    assert not window.palette_.isVisible()
    body = handler(window, "/one").body
    assert isinstance(body, ELet) and isinstance(body.rhs, EInt) and body.rhs.value == 1


def test_the_palette_asks_for_a_name_and_renames(window: MainWindow) -> None:
    w = window
    tl = b.http("GET", "/three", b.let("n", 2, b.infix("*", b.var("n"), b.var("n"))),
                pos=(20, 400))
    w.controller.load([*w.controller.state.canvas.values(), tl])
    code = focus_code(w, "/three")
    QTest.keyClick(code, Qt.Key.Key_Up)
    QTest.keyClick(code, Qt.Key.Key_Home)
    for _ in range(5):
        QTest.keyClick(code, Qt.Key.Key_Right)       # to the end of the name n
    w.open_palette()
    QTest.keyClicks(w.palette_.filter, "rename")
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
    assert w.palette_.isVisible() and w.palette_.asking is not None
    QTest.keyClicks(w.palette_.filter, "count")
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
    body = handler(w, "/three").body
    assert isinstance(body, ELet) and body.name == "count"
    assert w.controller.state.projection().text == "let count = 2\ncount * count"


def test_flag_commands_from_the_palette(window: MainWindow) -> None:
    w = window
    focus_code(w, "/one")
    w.run_command("wrap-in-flag")
    body = handler(w, "/one").body
    assert isinstance(body, EFlag)
    w.run_command("discard-flag")
    assert isinstance(handler(w, "/one").body, EInt)


def test_a_listed_404_becomes_a_handler_in_one_click(window: MainWindow) -> None:
    window.sidebar.show_404s([{"description": "GET /missing", "count": 3}])
    item = window.sidebar.not_found.item(0)
    assert "GET /missing" in item.text()
    window.sidebar.not_found.setCurrentItem(item)
    QTest.mouseClick(window.sidebar.create_button, Qt.MouseButton.LeftButton)
    assert handler(window, "/missing").body is not None


def test_new_menu_creates_every_kind_of_toplevel(window: MainWindow) -> None:
    before = len(window.controller.state.canvas)
    for act in window.new_actions.values():
        act.trigger()
    kinds = {tl.KIND for tl in window.controller.state.canvas.values()}
    assert len(window.controller.state.canvas) == before + len(window.new_actions)
    assert kinds == {"handler", "function", "type", "datastore"}
    # Deleting from the header, then undo brings it back.
    tl = handler(window, "/one")
    window.canvas.frames[tl.tlid].fields["delete"].click()
    assert tl.tlid not in window.controller.state.canvas


def test_a_refused_key_says_why_in_the_status_bar(window: MainWindow) -> None:
    code = focus_code(window, "/one")
    QTest.keyClick(code, Qt.Key.Key_Backspace)   # the body is a hole now
    QTest.keyClicks(code, "+")
    assert "needs an expression on its left" in window.status.currentMessage()


def test_model_commands_all_run_on_an_empty_state() -> None:
    from editor.model.state import EditorState

    for name in actions.COMMANDS:
        out = actions.perform(EditorState(), name, "x")
        assert out.ops == ()
