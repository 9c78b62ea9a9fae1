"""Declarations: a function's parameters and return type, a record type's fields,
an enum's cases and a datastore's schema, edited as rows of (name, type).

The form shows the rows; `edit_declarations` turns the edited rows into ops:
remove what was dropped, rename and retype what was kept (each element keeps
its id, so code that names it is unaffected), insert what was added. Types
are read by `type_names.read_type`.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from editor.model import datastore_versions
from editor.model.canvas_actions import commit_to
from editor.model.refactor import RefactorError, rename_variable
from editor.model.state import EditorState, Outcome, refuse
from editor.model.type_names import TypeNameError, read_type
from shared_ast.apply import OpError, apply
from shared_ast.ids import new_id
from shared_ast.nodes import EnumCase, Node, Param, TypeField
from shared_ast.ops import InsertElement, Op, RemoveElement, SetName, SetType
from shared_ast.program import Program
from shared_ast.toplevels import Datastore, EnumDef, RecordDef, Toplevel, UserFunction, UserType
from shared_ast.type_ast import UNKNOWN, TRecord, TRecordField, Type, show_type


@attrs.frozen
class Row:
    """One declared name and its type as text; `id` is None for a row being added."""

    id: int | None
    name: str
    type_text: str = "?"


@attrs.frozen
class Declarations:
    rows: tuple[Row, ...]
    #: A function's return type as text; None for toplevels without one.
    return_type: str | None = None
    #: What a row is called in this toplevel ("parameter", "field", "case").
    noun: str = "field"
    #: Enum cases have no type of their own.
    typed: bool = True


def user_type_names(canvas: Sequence[Toplevel]) -> tuple[dict[tuple[int, int], str],
                                                         dict[str, tuple[int, int]]]:
    """User types by id (for showing) and by name (for reading; `Name` is the newest)."""
    program = Program.from_toplevels(canvas)
    by_id = dict(program.type_names())
    by_name: dict[str, tuple[int, int]] = {}
    newest: dict[str, tuple[int, int]] = {}
    for (type_id, version), name in by_id.items():
        by_name[f"{name}_v{version}"] = (type_id, version)
        if name not in newest or newest[name][1] < version:
            newest[name] = (type_id, version)
    return by_id, {**newest, **by_name}


def declarations_of(tl: Toplevel, canvas: Sequence[Toplevel]) -> Declarations | None:
    shown, _ = user_type_names(canvas)

    def show(t: Type) -> str:
        return show_type(t, shown)

    match tl:
        case UserFunction():
            rows = tuple(Row(p.id, p.name, show(p.type)) for p in tl.params)
            return Declarations(rows, show(tl.return_type), "parameter")
        case UserType(definition=RecordDef() as d):
            return Declarations(tuple(Row(f.id, f.name, show(f.type)) for f in d.fields))
        case UserType(definition=EnumDef() as d):
            return Declarations(tuple(Row(c.id, c.name, "") for c in d.cases), None, "case",
                                typed=False)
        case Datastore():
            fields = tl.schema.fields if isinstance(tl.schema, TRecord) else ()
            return Declarations(tuple(Row(i, f.name, show(f.type)) for i, f in enumerate(fields)))
    return None


def edit_declarations(state: EditorState, tlid: int, rows: Sequence[Row],
                      return_type: str | None = None) -> Outcome:
    """The ops that make the toplevel's declarations read as `rows`."""
    tl = state.canvas.get(tlid)
    if tl is None:
        return refuse(state, "That toplevel is gone.")
    _, by_name = user_type_names(list(state.canvas.values()))
    try:
        typed = [(row, read_type(row.type_text, by_name) if row.type_text.strip() else None)
                 for row in rows]
        ret = read_type(return_type, by_name) if return_type is not None else None
    except TypeNameError as e:
        return refuse(state, f"Not changed: {e}")
    names = [row.name for row in rows]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        return refuse(state, f"Not changed: {', '.join(dupes)} is declared twice; "
                             "each name must be unique.")
    try:
        ops = _datastore_ops(tl, typed) if isinstance(tl, Datastore) else _element_ops(
            tl, typed, ret)
    except OpError as e:
        return refuse(state, f"Not changed: {e}")
    if not ops:
        return Outcome(state, message="Nothing to change.")
    if isinstance(tl, Datastore) and isinstance(ops[0], SetType):
        # Its conversions still declaring the old schema follow it, in the same batch.
        synced = datastore_versions.conversion_type_ops(state.canvas, tl, ops[0].new)
        if synced:
            retyped = sorted({getattr(state.canvas[op.target_tlid], "name", "?")
                              for op in synced})
            return commit_to(state, tlid, [*ops, *synced],
                             f"{tl.name}_v{tl.version}'s schema changed; retyped to match: "
                             f"{', '.join(retyped)}.")
    return commit_to(state, tlid, ops)


def _datastore_ops(tl: Datastore, typed: list[tuple[Row, Type | None]]) -> list[Op]:
    schema = TRecord(tuple(TRecordField(row.name, t or TRecord(())) for row, t in typed))
    return [] if schema == tl.schema else [SetType(tl.tlid, tl.tlid, tl.schema, schema)]


def _element_ops(tl: Toplevel, typed: list[tuple[Row, Type | None]],
                 ret: Type | None) -> list[Op]:
    field, elements = _elements(tl)
    ops: list[Op] = []
    current: Toplevel | None = tl

    def emit(op: Op) -> None:
        nonlocal current
        current = apply(op, current)  # raises OpError with the reason
        ops.append(op)

    kept = {row.id for row, _ in typed if row.id is not None}
    for index in reversed(range(len(elements))):
        if elements[index].id not in kept:
            emit(RemoveElement(tl.tlid, tl.tlid, field, index, elements[index]))
    by_id = {e.id: e for e in elements}
    for row, t in typed:
        old = by_id.get(row.id) if row.id is not None else None
        if old is None:
            continue
        if getattr(old, "name", None) != row.name:
            if isinstance(old, Param) and row.name:
                # A parameter's uses in the body are renamed with it.
                assert current is not None
                try:
                    renamed = rename_variable({tl.tlid: current}, tl.tlid, old.id, row.name)
                except RefactorError as e:
                    raise OpError(str(e)) from None
                for op in renamed.ops:
                    emit(op)
            else:
                emit(SetName(tl.tlid, old.id, old.name, row.name))  # type: ignore[attr-defined]
        if t is not None and isinstance(old, (Param, TypeField)) and old.type != t:
            emit(SetType(tl.tlid, old.id, old.type, t))
    for index, (row, t) in enumerate(typed):
        if row.id is None or row.id not in by_id:
            emit(InsertElement(tl.tlid, tl.tlid, field, index, _new_element(tl, row.name, t)))
    if isinstance(tl, UserFunction) and ret is not None and ret != tl.return_type:
        emit(SetType(tl.tlid, tl.tlid, tl.return_type, ret))
    return ops


def _elements(tl: Toplevel) -> tuple[str, tuple[Node, ...]]:
    match tl:
        case UserFunction():
            return "params", tl.params
        case UserType(definition=RecordDef() as d):
            return "fields", d.fields
        case UserType(definition=EnumDef() as d):
            return "cases", d.cases
    raise OpError(f"a {tl.KIND} has no declarations to edit")


def _new_element(tl: Toplevel, name: str, t: Type | None) -> Node:
    match tl:
        case UserFunction():
            return Param(new_id(), name, t or UNKNOWN)
        case UserType(definition=EnumDef()):
            return EnumCase(new_id(), name, ())
    return TypeField(new_id(), name, t or UNKNOWN)
