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
    assert kinds == {"handler", "function", "type", "datastore", "test"}
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


def test_a_new_handler_is_shown_and_takes_typing_at_once(window: MainWindow) -> None:
    window.new_actions["http"].trigger()
    tlid = window.controller.state.caret.tlid
    frame = window.canvas.frames[tlid]
    # The route has the keyboard, `/new` selected to type over; Tab goes to the code.
    assert frame.fields["route"].hasFocus()
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
    assert frame.code.hasFocus()
    QTest.keyClicks(window.focusWidget(), "41 + 1")
    assert window.controller.state.projection(tlid).text == "41 + 1"


def test_tab_on_a_partial_takes_only_a_completion_that_starts_with_it(
        window: MainWindow) -> None:
    code = focus_code(window, "/one")
    QTest.keyClick(code, Qt.Key.Key_Backspace)
    QTest.keyClicks(code, "xor")                  # only fuzzy matches (Bool::xor) start so
    assert window.popup.isVisible()
    QTest.keyClick(code, Qt.Key.Key_Tab)
    body = handler(window, "/one").body
    assert isinstance(body, ECall) and body.fn.qualified == "Bool::xor_v0"
    code = focus_code(window, "/two")
    QTest.keyClick(code, Qt.Key.Key_Backspace)
    QTest.keyClicks(code, "zq")                    # nothing starts with zq: Tab moves on
    QTest.keyClick(code, Qt.Key.Key_Tab)
    assert not isinstance(handler(window, "/two").body.right, ECall)  # type: ignore[attr-defined]


def test_a_refused_route_shows_the_stored_route_again(window: MainWindow) -> None:
    tl = handler(window, "/one")
    route = window.canvas.frames[tl.tlid].fields["route"]
    route.setFocus()
    route.selectAll()
    QTest.keyClicks(route, "no-slash")
    QTest.keyClick(route, Qt.Key.Key_Return)
    assert "/" in window.status.currentMessage()
    # Refused by a key: the text stays to be corrected; Escape shows the stored route.
    assert route.text() == "no-slash" and route.hasFocus()
    QTest.keyClick(route, Qt.Key.Key_Escape)
    assert route.text() == "/one"
    # Refused when the field loses the focus (a click elsewhere): the stored route again.
    route.setFocus()
    route.selectAll()
    QTest.keyClicks(route, "still-no-slash")
    window.canvas.frames[tl.tlid].code.setFocus()
    assert route.text() == "/one"


def test_a_locked_handler_shows_its_lock_and_is_changed_through_a_flag(
        window: MainWindow) -> None:
    from shared_ast.locking import InUse

    tl = handler(window, "/one")
    window.controller.set_locks({tl.tlid: InUse(tl.tlid, 3, 0.0)})
    frame = window.canvas.frames[tl.tlid]
    badge = frame.fields["lock"]
    assert badge.isVisible() and "3 recent request(s)" in badge.toolTip()
    code = focus_code(window, "/one")
    QTest.keyClicks(code, "5")
    assert "is in use" in window.status.currentMessage()
    assert handler(window, "/one").body.value == 1  # type: ignore[attr-defined]
    window.run_command("wrap-in-flag")
    flag = handler(window, "/one").body
    assert isinstance(flag, EFlag)
    # The caret is on the flag's condition: typing there is allowed again.
    QTest.keyClicks(window.focusWidget(), "true")
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_Return)
    flag = handler(window, "/one").body
    assert isinstance(flag, EFlag) and flag.cond.value is True  # type: ignore[attr-defined]
    window.run_command("commit-flag")
    assert isinstance(handler(window, "/one").body, EInt)
    window.controller.set_locks({})
    assert not frame.fields["lock"].isVisible()


def test_new_function_version_copies_and_a_call_moves_to_it(window: MainWindow) -> None:
    from shared_ast.nodes import UserFnRef
    from shared_ast.toplevels import UserFunction
    from shared_ast.type_ast import INT

    fn = b.function("twice", [("x", INT)], INT, b.infix("*", b.var("x"), 2), pos=(500, 20))
    caller = b.http("GET", "/t", b.user_call(fn, 4), pos=(20, 500))
    c = window.controller
    c.load([*c.state.canvas.values(), fn, caller])
    c.focus(fn.tlid)
    window.run_command("new-function-version")
    v1 = [t for t in c.state.canvas.values() if isinstance(t, UserFunction) and t.version == 1]
    assert len(v1) == 1 and v1[0].fn_id == fn.fn_id and v1[0].tlid != fn.tlid
    assert c.state.caret.tlid == v1[0].tlid
    code = focus_code(window, "/t")
    QTest.keyClick(code, Qt.Key.Key_Home)
    window.run_command("use-newest-version")
    call = handler(window, "/t").body
    assert isinstance(call, ECall) and call.fn == UserFnRef(fn.fn_id, 1)


def test_a_type_gets_a_new_version_and_a_version_in_use_cannot_be_deleted(
        window: MainWindow) -> None:
    from shared_ast.toplevels import UserFunction, UserType
    from shared_ast.type_ast import INT, STRING

    note = b.record_type("Note", [("text", STRING)], pos=(500, 300))
    fn = b.function("twice", [("x", INT)], INT, b.infix("*", b.var("x"), 2), pos=(500, 20))
    caller = b.http("GET", "/t", b.user_call(fn, 4), pos=(20, 500))
    c = window.controller
    c.load([*c.state.canvas.values(), note, fn, caller])
    window.canvas.frames[note.tlid].fields["version"].click()
    versions = sorted(t.version for t in c.state.canvas.values()
                      if isinstance(t, UserType) and t.type_id == note.type_id)
    assert versions == [0, 1]
    window.canvas.frames[fn.tlid].fields["delete"].click()
    assert fn.tlid in c.state.canvas
    assert "still used by HTTP GET /t" in window.status.currentMessage()
    assert isinstance(c.state.canvas[fn.tlid], UserFunction)


def test_one_command_versions_every_function_from_a_call_down_to_one(
        window: MainWindow) -> None:
    from shared_ast.nodes import UserFnRef
    from shared_ast.toplevels import UserFunction
    from shared_ast.type_ast import INT

    leaf = b.function("tax", [("x", INT)], INT, b.infix("+", b.var("x"), 1), pos=(600, 20))
    mid = b.function("total", [("x", INT)], INT, b.user_call(leaf, b.var("x")), pos=(600, 200))
    caller = b.http("GET", "/total", b.user_call(mid, 4), pos=(20, 500))
    c = window.controller
    c.load([*c.state.canvas.values(), leaf, mid, caller])
    code = focus_code(window, "/total")
    QTest.keyClick(code, Qt.Key.Key_Home)
    window.run_command("version-call-path", "tax")
    fns = {(t.name, t.version): t for t in c.state.canvas.values()
           if isinstance(t, UserFunction)}
    assert {("tax", 1), ("total", 1)} <= set(fns)
    total_v1 = fns[("total", 1)]
    assert total_v1.body.fn == UserFnRef(leaf.fn_id, 1)  # type: ignore[attr-defined]
    call = handler(window, "/total").body
    assert isinstance(call, ECall) and call.fn == UserFnRef(mid.fn_id, 1)
    # The old versions are untouched.
    assert c.state.canvas[mid.tlid] == mid and c.state.canvas[leaf.tlid] == leaf
