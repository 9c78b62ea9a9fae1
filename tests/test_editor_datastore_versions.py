"""Datastore versions in the editor: a new version with its conversions, moving code to it
(through a flag when in use) and back, and the conversions' types following schema edits.

The model first (`editor.model.datastore_versions`, `declarations`), then the same
commands through the real window with real key events: Ctrl+Alt+D, the palette (Ctrl+K),
the header's + button, Ctrl+Z.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from test_editor_declarations import declarable

from editor.controller import EditorController
from editor.model import actions, motion, placement
from editor.model.declarations import Row, declarations_of, edit_declarations
from editor.model.state import EditorState, Outcome
from editor.widgets.code_view import CodeView
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast import migration
from shared_ast.apply import apply_to_canvas
from shared_ast.checker import check_toplevel
from shared_ast.locking import InUse
from shared_ast.nodes import ECall, EFlag, EHole, EVariable, UserFnRef
from shared_ast.program import Program
from shared_ast.toplevels import Datastore, Handler, Toplevel, UserFunction
from shared_ast.type_ast import INT, STRING, TRecord, TRecordField, Type, show_type

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier

NAME = TRecord((TRecordField("name", STRING),))
SPLIT = TRecord((TRecordField("first", STRING), TRecordField("last", STRING)))


def users() -> Datastore:
    return b.datastore("Users", NAME, pos=(600, 40))


def reader(ds_name: str = "Users_v0", route: str = "/users") -> Handler:
    """`DB::getAll Users_v0`: a handler naming a datastore version."""
    return b.http("GET", route, b.call("DB::getAll_v1", b.var(ds_name)), pos=(40, 40))


def state_of(*tls: Toplevel, locked: tuple[int, ...] = ()) -> EditorState:
    return EditorState({t.tlid: t for t in tls},
                       locks={t: InUse(t, 3, 0.0) for t in locked})


def perform(state: EditorState, name: str) -> Outcome:
    out = actions.perform(state, name)
    # What the editor shows is what the ops make of the canvas, as the runtime applies them.
    assert apply_to_canvas(out.ops, state.canvas) == dict(out.state.canvas)
    return out


def on_variable(state: EditorState, tlid: int, name: str) -> EditorState:
    """The caret at the start of the variable `name` in `tlid`'s code."""
    tl = state.canvas[tlid]
    var = next(n for n in _walk(tl) if isinstance(n, EVariable) and n.name == name)
    proj = state.projection(tlid)
    assert proj is not None
    return attrs.evolve(state, caret=proj.caret_start(var.id))


def _walk(tl: Toplevel) -> list[Any]:
    from shared_ast import traverse
    return list(traverse.walk(tl))


def datastores(state: EditorState) -> dict[int, Datastore]:
    return {d.version: d for d in state.canvas.values()
            if isinstance(d, Datastore) and d.name == "Users"}


def function_named(state: EditorState, name: str) -> UserFunction:
    return next(f for f in state.canvas.values()
                if isinstance(f, UserFunction) and f.name == name)


def marks_of(state: EditorState, tl: Toplevel) -> list[str]:
    program = Program.from_toplevels(state.canvas.values())
    return [m.kind for info in check_toplevel(tl, program).values() for m in info.marks]


def with_new_version(state: EditorState, ds: Datastore) -> EditorState:
    from editor.model.datastore_versions import new_datastore_version
    out = new_datastore_version(state, ds.tlid)
    assert not out.refused, out.message
    return out.state


# ------------------------------------------------------------------ new version


def test_a_new_version_copies_the_schema_and_brings_identity_conversions_in_one_batch() -> None:
    from editor.model.datastore_versions import new_datastore_version

    v0 = users()
    # A frame right where the first new one would go, beside v0 (shown 500 wide).
    obstacle = b.function("other", [("x", INT)], INT, b.var("x"), pos=(600 + 500 + 16, 40))
    sizes = {v0.tlid: (500, 90), obstacle.tlid: (420, 300)}
    state = state_of(v0, reader(), obstacle)
    out = new_datastore_version(state, v0.tlid, sizes)
    assert not out.refused, out.message
    assert apply_to_canvas(out.ops, state.canvas) == dict(out.state.canvas)
    v1 = datastores(out.state)[1]
    forward = function_named(out.state, "Users_v1_rollforward")
    back = function_named(out.state, "Users_v1_rollback")
    assert v1.schema == NAME and v1.qualified == "Users_v1"
    assert v1.migration is not None
    assert (v1.migration.from_version, v1.migration.table) == (0, 0)
    assert v1.migration.rollforward == UserFnRef(forward.fn_id, forward.version)
    assert v1.migration.rollback == UserFnRef(back.fn_id, back.version)
    for fn in (forward, back):
        assert [(p.name, p.type) for p in fn.params] == [("row", NAME)]
        assert fn.return_type == NAME
        assert isinstance(fn.body, EVariable) and fn.body.name == "row"
    # Fresh ids everywhere: nothing of the new toplevels shares an id with another.
    ids = [n.id for tl in (forward, back) for n in _walk(tl) if hasattr(n, "id")]
    assert len(ids) == len(set(ids))
    assert len({v1.tlid, forward.tlid, back.tlid, v0.tlid}) == 4
    # The conversions are consistent with the schemas: nothing marked.
    assert marks_of(out.state, v1) == []
    assert len(out.ops) == 3
    caret = out.state.caret
    assert caret is not None and caret.tlid == forward.tlid
    assert caret.node_id == forward.body.id
    assert "Users_v1" in out.message and "Ctrl+Alt+M" in out.message
    assert "schema" in out.message and "Users_v1_rollback" in out.message
    # In the column beside the version it came from, below what is there, overlapping nothing.
    boxes = [placement.Box(t.pos.x, t.pos.y, *sizes.get(t.tlid, placement.NEW_FRAME))
             for t in out.state.canvas.values()]
    assert not any(a.overlaps(c) for i, a in enumerate(boxes) for c in boxes[i + 1:])
    assert v1.pos.x == forward.pos.x == back.pos.x == 600 + 500 + placement.GAP
    assert v1.pos.y == 40 + 300 + placement.GAP
    assert v1.pos.y < forward.pos.y < back.pos.y


def test_the_next_version_migrates_from_the_newest_and_keeps_the_chains_storage() -> None:
    v0 = users()
    state = with_new_version(state_of(v0), v0)
    state = with_new_version(state, v0)        # from v0's frame again: still the newest's next
    v2 = datastores(state)[2]
    assert v2.migration is not None
    assert (v2.migration.from_version, v2.migration.table) == (1, 0)
    assert migration.storage_name(v2) == "Users_v0"
    assert function_named(state, "Users_v2_rollforward").params[0].type == NAME


def test_a_new_version_from_the_caret_on_a_reference_or_in_a_conversion() -> None:
    v0, h = users(), reader()
    state = on_variable(state_of(v0, h), h.tlid, "Users_v0")
    out = perform(state, "new-datastore-version")
    assert not out.refused, out.message
    assert set(datastores(out.state)) == {0, 1}
    # The caret is now in Users_v1_rollforward: the same command makes Users_v2.
    again = perform(out.state, "new-datastore-version")
    assert not again.refused, again.message
    assert set(datastores(again.state)) == {0, 1, 2}


@pytest.mark.parametrize("where", ["no caret", "other code", "a shadowing let"])
def test_a_new_version_needs_a_datastore_and_says_how_to_choose_one(where: str) -> None:
    v0 = users()
    h = (b.http("GET", "/x", b.let("Users_v0", 5, b.var("Users_v0"))) if where ==
         "a shadowing let" else b.http("GET", "/y", b.infix("+", 1, 2)))
    state = state_of(v0, h)
    if where == "other code":
        state = motion.focus(state, h.tlid).state
    elif where == "a shadowing let":
        state = on_variable(state, h.tlid, "Users_v0")    # a let's value, not the datastore
    out = perform(state, "new-datastore-version")
    assert out.refused and out.ops == ()
    assert "datastore" in out.message and "Ctrl+Alt+D" in out.message
    assert out.state.canvas == state.canvas


def test_a_function_already_called_like_a_conversion_is_not_overwritten() -> None:
    from editor.model.datastore_versions import new_datastore_version

    v0 = users()
    taken = b.function("Users_v1_rollforward", [("x", INT)], INT, b.var("x"))
    state = state_of(v0, taken)
    out = new_datastore_version(state, v0.tlid)
    assert out.refused and out.ops == () and "Users_v1_rollforward already exists" in out.message
    assert out.state.canvas == state.canvas


def test_undo_takes_back_the_whole_new_version_and_redo_brings_it_again() -> None:
    v0, h = users(), reader()
    state = state_of(v0, h)
    made = with_new_version(state, v0)
    undone = perform(made, "undo")
    assert not undone.refused, undone.message
    assert dict(undone.state.canvas) == dict(state.canvas)
    redone = perform(undone.state, "redo")
    assert not redone.refused, redone.message
    assert dict(redone.state.canvas) == dict(made.canvas)


# ----------------------------------------------------------- moving references


def test_use_newest_renames_a_free_reference() -> None:
    v0, h = users(), reader()
    state = with_new_version(state_of(v0, h), v0)
    out = perform(on_variable(state, h.tlid, "Users_v0"), "use-newest-datastore-version")
    assert not out.refused, out.message
    body = out.state.canvas[h.tlid].body  # type: ignore[attr-defined]
    assert isinstance(body, ECall) and body.args[0] == attrs.evolve(body.args[0],
                                                                    name="Users_v1")
    assert body.args[0].name == "Users_v1"  # type: ignore[attr-defined]
    assert "Users_v1" in out.message
    # From the DB:: call around it, too.
    state = with_new_version(out.state, v0)
    out = perform(motion.focus(state, h.tlid).state, "use-newest-datastore-version")
    assert not out.refused, out.message
    assert out.state.canvas[h.tlid].body.args[0].name == "Users_v2"  # type: ignore[attr-defined]


def test_use_newest_in_a_handler_in_use_goes_through_a_flag() -> None:
    v0, h = users(), reader()
    state = with_new_version(state_of(v0, h, locked=(h.tlid,)), v0)
    before = state.canvas[h.tlid].body.args[0]  # type: ignore[attr-defined]
    out = perform(on_variable(state, h.tlid, "Users_v0"), "use-newest-datastore-version")
    assert not out.refused, out.message
    flag = out.state.canvas[h.tlid].body.args[0]  # type: ignore[attr-defined]
    assert isinstance(flag, EFlag) and isinstance(flag.cond, EHole)
    assert flag.old == before                                  # Users_v0, as it was
    assert isinstance(flag.new, EVariable) and flag.new.name == "Users_v1"
    assert flag.new.id != before.id
    assert flag.name == "Users-v1"
    assert out.state.caret is not None and out.state.caret.node_id == flag.cond.id
    assert "flag" in out.message and "Flag::justMe" in out.message
    # A second handler moving over gets a flag of its own name.
    two = reader(route="/two")
    state = attrs.evolve(out.state, canvas={**out.state.canvas, two.tlid: two},
                         locks={**out.state.locks, two.tlid: InUse(two.tlid, 1, 0.0)})
    second = perform(on_variable(state, two.tlid, "Users_v0"), "use-newest-datastore-version")
    assert second.state.canvas[two.tlid].body.args[0].name == "Users-v1-2"  # type: ignore[attr-defined]


def test_use_newest_refuses_at_the_newest_and_off_a_datastore() -> None:
    v0, h = users(), reader()
    state = state_of(v0, h)
    out = perform(on_variable(state, h.tlid, "Users_v0"), "use-newest-datastore-version")
    assert out.refused and "Users_v0 is already the newest" in out.message
    assert "Ctrl+Alt+D" in out.message and out.ops == ()
    other = b.http("GET", "/n", b.infix("+", 1, 2))
    state = motion.focus(state_of(v0, other), other.tlid).state
    out = perform(state, "use-newest-datastore-version")
    assert out.refused and "datastore's name" in out.message and out.ops == ()


def test_moving_back_abandons_the_new_version_directly_or_through_a_flag() -> None:
    v0 = users()
    h = reader("Users_v1")
    made = with_new_version(state_of(v0, h), v0)
    out = perform(on_variable(made, h.tlid, "Users_v1"), "move-datastore-back")
    assert not out.refused, out.message
    assert out.state.canvas[h.tlid].body.args[0].name == "Users_v0"  # type: ignore[attr-defined]
    assert "roll back" in out.message
    locked = attrs.evolve(made, locks={h.tlid: InUse(h.tlid, 2, 0.0)})
    out = perform(on_variable(locked, h.tlid, "Users_v1"), "move-datastore-back")
    flag = out.state.canvas[h.tlid].body.args[0]  # type: ignore[attr-defined]
    assert isinstance(flag, EFlag)
    assert isinstance(flag.old, EVariable) and flag.old.name == "Users_v1"
    assert isinstance(flag.new, EVariable) and flag.new.name == "Users_v0"
    # Users_v0 migrates from nothing: there is no back.
    out = perform(on_variable(out.state, h.tlid, "Users_v0"), "move-datastore-back")
    assert out.refused and "nothing to move back to" in out.message


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=4), st.data())
def test_chains_made_from_any_version_are_consistent_and_references_walk_them(
        picks: list[int], data: st.DataObject) -> None:
    """Whichever frame each new version is made from, the versions are 0..n, each migrating
    from the one before with the first's storage, the checker finds nothing, no frames
    overlap, and a reference at any version moves to the newest, then back one step at a
    time to the first, where moving back is refused; one undo takes back each new version."""
    from editor.model.datastore_versions import new_datastore_version

    v0, h = users(), reader()
    states = [state_of(v0, h)]
    for pick in picks:
        family = datastores(states[-1])
        out = new_datastore_version(states[-1], family[pick % len(family)].tlid)
        assert not out.refused, out.message
        states.append(out.state)
    state = states[-1]
    chain = datastores(state)
    assert sorted(chain) == list(range(len(picks) + 1))
    for version, ds in chain.items():
        assert marks_of(state, ds) == []
        if version:
            assert ds.migration is not None and ds.table == 0
            assert ds.migration.from_version == version - 1
    boxes = [placement.Box(t.pos.x, t.pos.y, *placement.NEW_FRAME) for t in state.canvas.values()
             if not isinstance(t, Handler)]
    assert not any(a.overlaps(c) for i, a in enumerate(boxes) for c in boxes[i + 1:])
    n = len(picks)
    start = data.draw(st.integers(0, n))
    call = h.body
    assert isinstance(call, ECall)
    at = attrs.evolve(h, body=attrs.evolve(call, args=(b.var(f"Users_v{start}"),)))
    here = attrs.evolve(state, canvas={**state.canvas, h.tlid: at})
    moved = perform(on_variable(here, h.tlid, f"Users_v{start}"), "use-newest-datastore-version")
    if start == n:
        assert moved.refused and "already the newest" in moved.message
    else:
        assert not moved.refused, moved.message
        here = moved.state
    for version in reversed(range(n)):
        back = perform(on_variable(here, h.tlid, f"Users_v{version + 1}"), "move-datastore-back")
        assert not back.refused, back.message
        here = back.state
    assert perform(on_variable(here, h.tlid, "Users_v0"), "move-datastore-back").refused
    for before, after in itertools.pairwise(states):
        undone = actions.undo(after)
        assert dict(undone.state.canvas) == dict(before.canvas)


# ----------------------------------------------------------------- schema sync


def split_rows() -> list[Row]:
    return [Row(None, "first", "String"), Row(None, "last", "String")]


def test_editing_the_new_versions_schema_retypes_its_conversions_in_the_same_batch() -> None:
    v0 = users()
    made = with_new_version(state_of(v0), v0)
    v1 = datastores(made)[1]
    out = edit_declarations(made, v1.tlid, split_rows())
    assert not out.refused, out.message
    forward = function_named(out.state, "Users_v1_rollforward")
    back = function_named(out.state, "Users_v1_rollback")
    assert (forward.params[0].type, forward.return_type) == (NAME, SPLIT)
    assert (back.params[0].type, back.return_type) == (SPLIT, NAME)
    assert datastores(out.state)[1].schema == SPLIT
    assert marks_of(out.state, datastores(out.state)[1]) == []
    assert "Users_v1_rollback, Users_v1_rollforward" in out.message
    # One batch: one undo puts the schema and both functions back.
    undone = actions.undo(attrs.evolve(out.state, caret=None))
    assert dict(undone.state.canvas) == dict(made.canvas)


def test_editing_the_older_versions_schema_retypes_the_other_side() -> None:
    v0 = users()
    made = with_new_version(state_of(v0), v0)
    out = edit_declarations(made, v0.tlid, split_rows())
    assert not out.refused, out.message
    forward = function_named(out.state, "Users_v1_rollforward")
    back = function_named(out.state, "Users_v1_rollback")
    assert (forward.params[0].type, forward.return_type) == (SPLIT, NAME)
    assert (back.params[0].type, back.return_type) == (NAME, SPLIT)


def test_a_conversion_declaring_something_else_is_left_as_written() -> None:
    v0 = users()
    made = with_new_version(state_of(v0), v0)
    forward = function_named(made, "Users_v1_rollforward")
    other = TRecord((TRecordField("full", STRING),))
    retyped = edit_declarations(made, forward.tlid,
                                [Row(forward.params[0].id, "row", "{name: String}")],
                                "{full: String}")
    assert not retyped.refused, retyped.message
    made = retyped.state
    out = edit_declarations(made, datastores(made)[1].tlid, split_rows())
    assert function_named(out.state, "Users_v1_rollforward").return_type == other
    assert function_named(out.state, "Users_v1_rollback").params[0].type == SPLIT


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), declarable()),
                min_size=1, max_size=3, unique_by=lambda f: f[0]),
       st.booleans())
def test_any_schema_edit_keeps_the_conversions_agreeing_with_the_schemas(
        fields: list[tuple[str, Type]], older: bool) -> None:
    v0 = users()
    made = with_new_version(state_of(v0), v0)
    edited = v0 if older else datastores(made)[1]
    rows = [Row(None, name, show_type(t)) for name, t in fields]
    out = edit_declarations(made, edited.tlid, rows)
    assert not out.refused, out.message
    assert marks_of(out.state, datastores(out.state)[1]) == []
    undone = actions.undo(attrs.evolve(out.state, caret=None))
    assert dict(undone.state.canvas) == dict(made.canvas)


# ------------------------------------------------------------ real keys, real window


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    v0 = users()
    controller.load([v0, reader(), reader(route="/two")])
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


def key(w: MainWindow, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
        ) -> None:
    QTest.keyClick(focused(w), k, mods)


def keys(w: MainWindow, text: str) -> None:
    for ch in text:
        QTest.keyClicks(focused(w), ch)


def ui_state(w: MainWindow) -> EditorState:
    return w.controller.state


def the(w: MainWindow, route: str) -> Handler:
    return next(t for t in w.controller.state.canvas.values()
                if isinstance(t, Handler) and t.spec.route == route)  # type: ignore[attr-defined]


def v0_of(w: MainWindow) -> Datastore:
    return datastores(ui_state(w))[0]


def code_at(w: MainWindow, route: str) -> CodeView:
    """The keyboard in `route`'s code, on the datastore's name (the call's last word)."""
    tl = the(w, route)
    w.controller.focus(tl.tlid)
    code = w.canvas.frames[tl.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_End)
    QTest.keyClick(code, Qt.Key.Key_Left)
    return code


def palette(w: MainWindow, text: str) -> None:
    key(w, Qt.Key.Key_K, CTRL)
    assert w.palette_.isVisible()
    QTest.keyClicks(w.palette_.filter, text)
    assert w.palette_.list.count() == 1, text
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)


def test_ctrl_alt_d_in_the_datastores_header_makes_v1_and_types_go_to_the_rollforward(
        window: MainWindow) -> None:
    v0 = v0_of(window)
    name = window.canvas.frames[v0.tlid].fields["name"]
    QTest.mouseClick(name, Qt.MouseButton.LeftButton)
    assert focused(window) is name
    key(window, Qt.Key.Key_D, CTRL_ALT)
    state = ui_state(window)
    assert set(datastores(state)) == {0, 1}
    forward = function_named(state, "Users_v1_rollforward")
    assert isinstance(focused(window), CodeView)
    assert focused(window) is window.canvas.frames[forward.tlid].code
    assert "Ctrl+Alt+M" in window.status.currentMessage()
    # The keys now write the conversion, in its body.
    key(window, Qt.Key.Key_End)
    keys(window, ".name")
    assert ui_state(window).projection(forward.tlid).text == "row.name"  # type: ignore[union-attr]
    assert v0_of(window).name == "Users"                      # the header's name untouched


def test_ctrl_p_to_the_datastore_then_ctrl_alt_d(window: MainWindow) -> None:
    code_at(window, "/two")
    key(window, Qt.Key.Key_P, CTRL)
    QTest.keyClicks(window.palette_.filter, "datastore Users")
    assert window.palette_.list.count() == 1
    QTest.keyClick(window.palette_.filter, Qt.Key.Key_Return)
    assert focused(window) is window.canvas.frames[v0_of(window).tlid].fields["name"]
    key(window, Qt.Key.Key_D, CTRL_ALT)
    assert set(datastores(ui_state(window))) == {0, 1}
    assert v0_of(window).name == "Users"


def test_the_plus_button_and_ctrl_z_undo_the_whole_new_version(window: MainWindow) -> None:
    before = dict(ui_state(window).canvas)
    window.canvas.frames[v0_of(window).tlid].fields["version"].click()
    assert set(datastores(ui_state(window))) == {0, 1}
    assert len(ui_state(window).canvas) == len(before) + 3
    forward = function_named(ui_state(window), "Users_v1_rollforward")
    window.canvas.frames[forward.tlid].code.setFocus()
    key(window, Qt.Key.Key_Z, CTRL)
    assert {t: attrs.evolve(tl, pos=before[t].pos) for t, tl in ui_state(window).canvas.items()
            } == before


def test_ctrl_alt_d_on_a_reference_then_the_palette_moves_a_free_handler(
        window: MainWindow) -> None:
    code_at(window, "/users")
    key(window, Qt.Key.Key_D, CTRL_ALT)
    assert set(datastores(ui_state(window))) == {0, 1}
    code_at(window, "/users")
    palette(window, "newest datastore")
    body = the(window, "/users").body
    assert isinstance(body, ECall) and body.args[0].name == "Users_v1"  # type: ignore[attr-defined]
    assert the(window, "/two").body.args[0].name == "Users_v0"  # type: ignore[attr-defined]
    assert "Now names Users_v1" in window.status.currentMessage()


def test_a_handler_in_use_moves_through_a_just_me_flag_and_back(window: MainWindow) -> None:
    c = window.controller
    window.canvas.frames[v0_of(window).tlid].fields["version"].click()
    one = the(window, "/users")
    c.set_locks({one.tlid: InUse(one.tlid, 3, 0.0)})
    code_at(window, "/users")
    palette(window, "newest datastore")
    flag = the(window, "/users").body.args[0]  # type: ignore[attr-defined]
    assert isinstance(flag, EFlag) and flag.new.name == "Users_v1"  # type: ignore[attr-defined]
    assert flag.old.name == "Users_v0"  # type: ignore[attr-defined]
    assert focused(window) is window.canvas.frames[one.tlid].code
    keys(window, "Flag::justMe")                      # the caret is in the condition
    key(window, Qt.Key.Key_Return)
    flag = the(window, "/users").body.args[0]  # type: ignore[attr-defined]
    assert isinstance(flag, EFlag) and isinstance(flag.cond, ECall)
    assert flag.cond.fn.qualified == "Flag::justMe_v0"  # type: ignore[attr-defined]
    # The other handler, free, moved directly; then moved back (abandoning), directly too.
    code_at(window, "/two")
    palette(window, "newest datastore")
    assert the(window, "/two").body.args[0].name == "Users_v1"  # type: ignore[attr-defined]
    palette(window, "move back older datastore")
    assert the(window, "/two").body.args[0].name == "Users_v0"  # type: ignore[attr-defined]
    # In use, moving back goes through a flag.
    two = the(window, "/two")
    palette(window, "newest datastore")
    c.set_locks({one.tlid: InUse(one.tlid, 3, 0.0), two.tlid: InUse(two.tlid, 1, 0.0)})
    code_at(window, "/two")
    palette(window, "move back older datastore")
    back = the(window, "/two").body.args[0]  # type: ignore[attr-defined]
    assert isinstance(back, EFlag)
    assert back.old.name == "Users_v1" and back.new.name == "Users_v0"  # type: ignore[attr-defined]


def test_the_schema_form_retypes_the_conversions(window: MainWindow) -> None:
    from PySide6.QtCore import QTimer

    from editor.widgets.declarations_dialog import DeclarationsDialog

    window.canvas.frames[v0_of(window).tlid].fields["version"].click()
    v1 = datastores(ui_state(window))[1]

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, DeclarationsDialog)
        _id, name, type_edit, _w = dialog.rows[0]
        name.selectAll()
        QTest.keyClicks(name, "first")
        QTest.mouseClick(dialog.findChild(QWidget, "AddRow"), Qt.MouseButton.LeftButton)
        _id, name, type_edit, _w = dialog.rows[1]
        QTest.keyClicks(name, "last")
        assert type_edit is not None
        type_edit.selectAll()
        QTest.keyClicks(type_edit, "String")
        QTest.keyClick(type_edit, Qt.Key.Key_Return)   # the dialog's default button: OK

    QTimer.singleShot(0, fill)
    window.canvas.frames[v1.tlid].fields["declarations"].click()
    state = ui_state(window)
    assert datastores(state)[1].schema == SPLIT
    assert function_named(state, "Users_v1_rollforward").return_type == SPLIT
    assert function_named(state, "Users_v1_rollback").params[0].type == SPLIT
    assert declarations_of(datastores(state)[0], list(state.canvas.values())) is not None
