"""Versions of datastores: make the next one with its conversions, and move code between them.

A datastore's schema changes by a new version (`Users_v1` made from `Users_v0`)
that shares its rows with the versions before it: a `Migration` names two
ordinary user functions, the rollforward (an old row → a new row) and the
rollback, which start as `row` (the identity) and are edited like any code.
Code then moves from `Users_v0` to `Users_v1` one reference at a time: directly
where the toplevel is free, through a feature flag where it is in use, as calls
move between function versions (`editor.model.versions`). Moving code back to
the older version is how a migration is abandoned: once no code names the new
version, the runtime rolls the rows written through it back.

Editing a version's schema (the declarations form) keeps its conversions'
declared types in step (`conversion_type_ops`).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from editor.model import edits, motion, placement
from editor.model.refactor import DATASTORE, resolve_variables, with_fresh_ids
from editor.model.state import EditorState, Outcome, commit, refuse
from editor.projection import fn_names
from shared_ast import build, migration, traverse
from shared_ast.ids import new_id
from shared_ast.nodes import ECall, EFlag, EHole, EVariable, Expr, UserFnRef
from shared_ast.ops import CreateToplevel, Op, ReplaceNode, SetType
from shared_ast.program import Program
from shared_ast.toplevels import (
    CURRENT_LANGUAGE_VERSION,
    Datastore,
    Handler,
    Pos,
    Toplevel,
    UserFunction,
)
from shared_ast.type_ast import Type

__all__ = ["conversion_type_ops", "datastore_at_caret", "move_datastore_back",
           "new_datastore_version", "use_newest_datastore_version"]

#: The size assumed for a frame not shown yet (as the controller assumes).
_UNSHOWN = (420, 200)


# --------------------------------------------------------------- new version


def new_datastore_version(state: EditorState, tlid: int | None = None,
                          sizes: Mapping[int, tuple[int, int]] | None = None) -> Outcome:
    """`Users_v{n+1}` from the newest version of `tlid`'s datastore (or the one at the caret):
    the schema copied, a migration with two new functions whose bodies are `row`, placed
    beside it; one batch (one undo), the caret in the rollforward's body."""
    ds = _datastore_to_version(state, tlid)
    if isinstance(ds, str):
        return refuse(state, ds)
    program = Program.from_toplevels(state.canvas.values())
    newest = migration.family(program, ds)[-1]
    number = 1 + max(d.version for d in state.canvas.values()
                     if isinstance(d, Datastore) and d.name == ds.name)
    made, forward, back = build.datastore_version(
        newest, newest.schema, build.var("row"), build.var("row"), version=number,
        language_version=CURRENT_LANGUAGE_VERSION)
    at = _places(state, newest, 3, sizes or {})
    made = attrs.evolve(made, pos=at[0])
    forward, back = attrs.evolve(forward, pos=at[1]), attrs.evolve(back, pos=at[2])
    taken = {f.name for f in state.canvas.values() if isinstance(f, UserFunction)}
    clash = [f.name for f in (forward, back) if f.name in taken]
    if clash:
        return refuse(state, f"Not made: a function called {clash[0]} already exists; rename "
                             f"or delete it, then make {made.qualified} again.")
    # The functions first, so undoing (in reverse) deletes the datastore before them.
    ops: list[Op] = [CreateToplevel(forward), CreateToplevel(back), CreateToplevel(made)]
    out = commit(state, ops, None,
                 f"Made {made.qualified}, sharing {newest.qualified}'s rows. Next: edit its "
                 f"schema (its Edit the schema button), write {forward.name} (a "
                 f"{newest.qualified} row → a {made.qualified} row) and {back.name} (the "
                 f"other way), then see stored rows converted: Ctrl+Alt+M, Show datastore "
                 "migration.", record=False)
    if out.refused:
        return out
    focused = motion.focus(out.state, forward.tlid).state
    return attrs.evolve(out, state=attrs.evolve(
        focused, history=focused.history.record(forward.tlid, out.ops)))


def _datastore_to_version(state: EditorState, tlid: int | None) -> Datastore | str:
    """The datastore `tlid` names, else the one at the caret (a reference to it, or one of
    its conversions), else why there is none."""
    if tlid is not None:
        tl = state.canvas.get(tlid)
        if isinstance(tl, Datastore):
            return tl
        if tl is None:
            return "That datastore is gone."
    found = datastore_at_caret(state)
    if isinstance(found, tuple):
        return found[1]
    tl = state.toplevel
    if isinstance(tl, UserFunction):
        ref = UserFnRef(tl.fn_id, tl.version)
        for ds in state.canvas.values():
            if isinstance(ds, Datastore) and ds.migration is not None and ref in (
                    ds.migration.rollforward, ds.migration.rollback):
                return ds
    return ("Choose a datastore first: its + button, Ctrl+Alt+D in its header, or the caret "
            "on a datastore's name (like Users_v0) in code.")


def _places(state: EditorState, beside: Datastore, count: int,
            sizes: Mapping[int, tuple[int, int]]) -> list[Pos]:
    """Places for `count` new frames, each the first free one in the column right of
    `beside`, from its top down."""
    boxes = [placement.Box(tl.pos.x, tl.pos.y, *sizes.get(tlid, _UNSHOWN))
             for tlid, tl in state.canvas.items()]
    width = sizes.get(beside.tlid, _UNSHOWN)[0]
    left, top = beside.pos.x + width + placement.GAP, beside.pos.y
    places: list[Pos] = []
    for _ in range(count):
        pos = placement.free_position(boxes, placement.NEW_FRAME, left=left, top=top)
        boxes.append(placement.Box(pos.x, pos.y, *placement.NEW_FRAME))
        places.append(pos)
    return places


# ------------------------------------------------------- moving code between


def datastore_at_caret(state: EditorState) -> tuple[EVariable, Datastore] | str:
    """The reference to a datastore version at the caret: the variable the caret is on, or
    the one a call around the caret passes (`DB::set v k Users_v0`); else why none."""
    h = edits.here(state)
    if isinstance(h, str):
        return h
    if not isinstance(h.tl, (Handler, UserFunction)):
        return "Put the caret on a datastore's name (like Users_v0) in code."
    program = Program.from_toplevels(state.canvas.values())
    binders = resolve_variables(h.tl, program)
    datastores = program.datastore_variables()

    def named(node: object) -> Datastore | None:
        if isinstance(node, EVariable) and binders.get(node.id) == DATASTORE:
            return datastores.get(node.name)
        return None

    if (ds := named(h.node)) is not None:
        assert isinstance(h.node, EVariable)
        return h.node, ds
    for node in reversed(traverse.path_to(h.tl, h.node.id) or []):
        if isinstance(node, ECall):
            for arg in node.args:
                if (ds := named(arg)) is not None:
                    assert isinstance(arg, EVariable)
                    return arg, ds
    return ("Put the caret on a datastore's name (like Users_v0), or in a DB:: call that "
            "names one.")


def use_newest_datastore_version(state: EditorState) -> Outcome:
    """At a `Users_vN` reference: name the newest version of its datastore instead (through
    a flag when the toplevel is in use)."""
    found = datastore_at_caret(state)
    if isinstance(found, str):
        return refuse(state, found)
    var, ds = found
    newest = migration.family(Program.from_toplevels(state.canvas.values()), ds)[-1]
    if newest.version == ds.version:
        return refuse(state, f"{ds.qualified} is already the newest version; make one with "
                             "Ctrl+Alt+D, New datastore version.")
    return _rename_reference(state, var, newest, "use")


def move_datastore_back(state: EditorState) -> Outcome:
    """At a reference to a version with a migration: name the version it migrates from
    instead (through a flag when the toplevel is in use). This is how a migration is
    abandoned: once no code names the new version, its rows roll back."""
    found = datastore_at_caret(state)
    if isinstance(found, str):
        return refuse(state, found)
    var, ds = found
    older = None if ds.migration is None else Program.from_toplevels(
        state.canvas.values()).datastore(ds.name, ds.migration.from_version)
    if ds.migration is None or older is None:
        return refuse(state, f"{ds.qualified} migrates from no older version: there is "
                             "nothing to move back to.")
    return _rename_reference(state, var, older, "back")


def _rename_reference(state: EditorState, var: EVariable, target: Datastore,
                      why: str) -> Outcome:
    tl = state.toplevel
    assert isinstance(tl, (Handler, UserFunction))
    moved = attrs.evolve(var, name=target.qualified)
    names = fn_names(state.canvas.values())
    if tl.tlid in state.locks:
        cond = EHole(new_id())
        flag = EFlag(new_id(), _fresh_flag_name(state, f"{target.name}-v{target.version}"),
                     cond, var, with_fresh_ids(moved))
        verb = "moves to" if why == "use" else "moves back to"
        return _replace(state, tl, var, flag, cond.id, names,
                        f"This reference {verb} {target.qualified} behind a flag: write its "
                        "condition (Flag::justMe to try it yourself first), then commit the "
                        "flag (Ctrl+K) once it behaves.")
    message = (f"Now names {target.qualified}." if why == "use" else
               f"Back on {target.qualified}; when no code names {var.name} for a lock window, "
               f"rows written through it roll back to {target.qualified}.")
    return _replace(state, tl, var, moved, var.id, names, message)


def _replace(state: EditorState, tl: Toplevel, old: Expr, new: Expr, caret_id: int,
             names: dict[int, str], message: str) -> Outcome:
    new_tl = traverse.replace(tl, old.id, new)
    assert isinstance(new_tl, Toplevel)
    return commit(state, [ReplaceNode(tl.tlid, old.id, old, new)],
                  edits.caret_in(new_tl, caret_id, names), message)


def _fresh_flag_name(state: EditorState, base: str) -> str:
    taken = {node.name for tl in state.canvas.values() for node in traverse.walk(tl)
             if isinstance(node, EFlag)}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


# ------------------------------------------------------------- schema sync


def conversion_type_ops(canvas: Mapping[int, Toplevel], ds: Datastore, schema: Type) -> list[Op]:
    """When `ds`'s schema becomes `schema`: the conversions that declare the old schema on
    `ds`'s side declare the new one (its own rollforward's return type and rollback's
    parameter; the next version's rollforward parameter and rollback's return type). A
    conversion already declaring something else is left as it is."""
    functions = {(f.fn_id, f.version): f for f in canvas.values()
                 if isinstance(f, UserFunction)}
    ops: list[Op] = []

    def sync(ref: UserFnRef, returns: bool) -> None:
        fn = functions.get((ref.fn_id, ref.version))
        if fn is None:
            return
        if returns and fn.return_type == ds.schema:
            ops.append(SetType(fn.tlid, fn.tlid, fn.return_type, schema))
        elif not returns and len(fn.params) == 1 and fn.params[0].type == ds.schema:
            ops.append(SetType(fn.tlid, fn.params[0].id, fn.params[0].type, schema))

    if ds.migration is not None:
        sync(ds.migration.rollforward, returns=True)
        sync(ds.migration.rollback, returns=False)
    for later in canvas.values():
        if (isinstance(later, Datastore) and later.name == ds.name
                and later.migration is not None and later.table == ds.table
                and later.migration.from_version == ds.version):
            sync(later.migration.rollforward, returns=False)
            sync(later.migration.rollback, returns=True)
    return ops
