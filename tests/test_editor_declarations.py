"""Declarations: type names read back, and parameters, fields and schemas edited as rows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from editor.controller import EditorController
from editor.model.declarations import Row, declarations_of, edit_declarations
from editor.model.state import EditorState
from editor.model.type_names import TypeNameError, read_type
from shared_ast import build as b
from shared_ast.apply import apply_to_canvas, invert
from shared_ast.evaluator import call_user_function
from shared_ast.program import Program
from shared_ast.toplevels import Datastore, RecordDef, UserFunction, UserType
from shared_ast.type_ast import (
    INT,
    STRING,
    UNKNOWN,
    TDict,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TResult,
    TUser,
    Type,
    show_type,
)

names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
simple = st.sampled_from([UNKNOWN, INT, STRING, *(read_type(n) for n in (
    "Float", "Bool", "Char", "Null", "Date", "UUID", "Response"))])


def declarable() -> st.SearchStrategy[Type]:
    return st.recursive(simple, lambda inner: st.one_of(
        st.builds(TList, inner), st.builds(TDict, inner), st.builds(TOption, inner),
        st.builds(TResult, inner, inner),
        st.lists(st.tuples(names, inner), max_size=3, unique_by=lambda f: f[0]).map(
            lambda fs: TRecord(tuple(TRecordField(n, t) for n, t in fs)))), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(declarable())
def test_every_declarable_type_reads_back_from_how_it_is_shown(t: Type) -> None:
    assert read_type(show_type(t)) == t


def test_user_types_are_read_by_name_and_by_versioned_name() -> None:
    users = {"Note": (7, 1), "Note_v0": (7, 0), "Note_v1": (7, 1)}
    assert read_type("List<Note>", users) == TList(TUser(7, 1))
    assert read_type("Note_v0", users) == TUser(7, 0)


@pytest.mark.parametrize(("text", "fragment"), [
    ("Strin", "there is no type 'Strin'"),
    ("List<Int", "expected '>'"),
    ("", "the type is empty"),
    ("{a: Int, a: Int}", "appears twice"),
    ("Int Int", "unexpected 'Int'"),
    ("Int$", "cannot read"),
])
def test_a_type_that_cannot_be_read_says_what(text: str, fragment: str) -> None:
    with pytest.raises(TypeNameError, match=fragment.replace("<", "<").replace("{", r"\{")):
        read_type(text)


def state_of(*tls: Any) -> EditorState:
    return EditorState({tl.tlid: tl for tl in tls})


def test_renaming_a_parameter_renames_its_uses_and_retyping_keeps_ids() -> None:
    fn = b.function("double", [("x", UNKNOWN)], UNKNOWN, b.infix("*", b.var("x"), 2))
    st_ = state_of(fn)
    d = declarations_of(fn, [fn])
    assert d is not None and d.rows == (Row(fn.params[0].id, "x", "?"),) and d.return_type == "?"
    out = edit_declarations(st_, fn.tlid, [Row(fn.params[0].id, "n", "Int"),
                                           Row(None, "unused", "String")], "Int")
    assert not out.refused, out.message
    new = out.state.canvas[fn.tlid]
    assert isinstance(new, UserFunction)
    assert [(p.name, p.type) for p in new.params] == [("n", INT), ("unused", STRING)]
    assert new.params[0].id == fn.params[0].id and new.return_type == INT
    program = Program.from_toplevels([new])
    assert call_user_function(new, [21, "s"], program) == 42
    # The ops replay on a runtime's copy, and undo restores the original.
    assert apply_to_canvas(out.ops, {fn.tlid: fn}) == dict(out.state.canvas)
    undo = [invert(op) for op in reversed(out.ops)]
    assert apply_to_canvas(undo, dict(out.state.canvas)) == {fn.tlid: fn}


def test_record_type_fields_and_datastore_schema_are_edited_as_rows() -> None:
    note = b.record_type("Note", [("title", STRING), ("stars", INT)])
    store = b.datastore("Notes", TRecord((TRecordField("title", STRING),)))
    st_ = state_of(note, store)
    rows = declarations_of(note, [note, store])
    assert rows is not None
    out = edit_declarations(st_, note.tlid, [rows.rows[1], Row(None, "tags", "List<String>")])
    assert not out.refused, out.message
    new = out.state.canvas[note.tlid]
    assert isinstance(new, UserType)
    assert [(f.name, f.type) for f in new.definition.fields] == [  # type: ignore[union-attr]
        ("stars", INT), ("tags", TList(STRING))]
    out = edit_declarations(out.state, store.tlid, [Row(None, "title", "String"),
                                                    Row(None, "note", "Note")])
    assert not out.refused, out.message
    ds = out.state.canvas[store.tlid]
    assert isinstance(ds, Datastore)
    assert ds.schema == TRecord((TRecordField("title", STRING),
                                 TRecordField("note", TUser(note.type_id, 0))))


@pytest.mark.parametrize(("rows", "fragment"), [
    ([Row(None, "a", "Int"), Row(None, "a", "Int")], "declared twice"),
    ([Row(None, "a", "Nope")], "there is no type 'Nope'"),
    ([Row(None, "9a", "Int")], "not a valid name"),
])
def test_bad_rows_change_nothing_and_say_why(rows: list[Row], fragment: str) -> None:
    fn = b.function("f", [], INT, 1)
    out = edit_declarations(state_of(fn), fn.tlid, rows, "Int")
    assert out.refused and fragment in out.message and out.ops == ()
    assert out.state.canvas == {fn.tlid: fn}


def test_the_header_button_opens_the_form_for_a_type_and_applies_it(qapp: Any) -> None:
    """Types and datastores keep the form; a function's parameters are edited in its header
    (tests/test_editor_headers.py)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from editor.widgets.declarations_dialog import DeclarationsDialog
    from editor.widgets.main_window import MainWindow

    note = b.record_type("Note", [("title", UNKNOWN)])
    fn = b.function("f", [("x", UNKNOWN)], UNKNOWN, b.var("x"))
    controller = EditorController(None)
    controller.load([note, fn])
    window = MainWindow(controller)
    window.show()
    assert "declarations" not in window.canvas.frames[fn.tlid].fields

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, DeclarationsDialog)
        _id, _name, type_edit, _w = dialog.rows[0]
        assert type_edit is not None
        type_edit.selectAll()
        QTest.keyClicks(type_edit, "Int")
        dialog.accept()

    QTimer.singleShot(0, fill)
    window.canvas.frames[note.tlid].fields["declarations"].click()
    new = controller.state.canvas[note.tlid]
    assert isinstance(new, UserType) and isinstance(new.definition, RecordDef)
    assert new.definition.fields[0].type == INT
    window.close()
