"""Versions of functions: make the next one, and move a call over to it.

A function in use is locked, so it changes by getting a new version: a copy
(`name_v1`) to edit freely, in the same family (`fn_id`), while callers keep
calling the version they name. A caller then moves to the new version at a
call: directly when the caller is free, through a feature flag when it is in
use (the flag's new branch calls the new version; its condition decides who
runs it).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from editor.model import edits, motion
from editor.model.refactor import with_fresh_ids
from editor.model.state import EditorState, Outcome, commit, refuse
from editor.projection import fn_names
from shared_ast import traverse
from shared_ast.apply import LATEST_LANGUAGE_VERSION
from shared_ast.ids import new_id
from shared_ast.nodes import ECall, EFlag, EHole, LibFnRef, UserFnRef
from shared_ast.ops import CreateToplevel, ReplaceNode, SetLanguageVersion
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.toplevels import Pos, Toplevel, UserFunction
from shared_ast.type_ast import TOption, TResult


def newest_version(state: EditorState, fn_id: int) -> UserFunction | None:
    family = [tl for tl in state.canvas.values()
              if isinstance(tl, UserFunction) and tl.fn_id == fn_id]
    return max(family, key=lambda f: f.version, default=None)


def new_function_version(state: EditorState, tlid: int | None = None) -> Outcome:
    """A copy of the caret's function as its family's next version, with the caret in it."""
    tlid = tlid if tlid is not None else (state.caret.tlid if state.caret else None)
    fn = state.canvas.get(tlid) if tlid is not None else None
    if not isinstance(fn, UserFunction):
        return refuse(state, "Put the caret in a function to make a new version of it.")
    newest = newest_version(state, fn.fn_id)
    version = (newest.version if newest is not None else fn.version) + 1
    copy = with_fresh_ids(fn)
    made = attrs.evolve(copy, tlid=new_id(), version=version,
                        pos=Pos(fn.pos.x + 40, fn.pos.y + 40))
    out = commit(state, [CreateToplevel(made)], None,
                 f"Made {made.qualified}: edit it freely; callers still call "
                 f"{fn.qualified} until you move them (Ctrl+K, Use newest function version).",
                 record=False)
    if out.refused:
        return out
    focused = motion.focus(out.state, made.tlid).state
    return attrs.evolve(out, state=attrs.evolve(
        focused, history=focused.history.record(made.tlid, out.ops)))


def use_newest_version(state: EditorState) -> Outcome:
    """At a call of a user function: call its newest version (through a flag if in use)."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    path = traverse.path_to(h.tl, h.node.id) or []
    call = next((n for n in reversed(path) if isinstance(n, ECall)
                 and isinstance(n.fn, UserFnRef)), None)
    if call is None or not isinstance(call.fn, UserFnRef):
        return refuse(state, "Put the caret in a call of one of your functions.")
    newest = newest_version(state, call.fn.fn_id)
    if newest is None or newest.version == call.fn.version:
        return Outcome(state, message="This call already calls the newest version; make one "
                                      "with Ctrl+K, New function version.")
    moved = attrs.evolve(call, fn=UserFnRef(newest.fn_id, newest.version))
    names = fn_names(state.canvas.values())
    if h.tl.tlid in state.locks:
        new_branch = with_fresh_ids(moved)
        cond = EHole(new_id())
        flag = EFlag(new_id(), f"{newest.name}-v{newest.version}", cond, call, new_branch)
        return _replace(state, h.tl, call.id, call, flag, cond.id, names,
                        f"The call moves to {newest.qualified} behind a flag: write its "
                        "condition, then commit the flag (Ctrl+K) once a replay agrees.")
    return _replace(state, h.tl, call.id, call, moved, call.id, names,
                    f"Now calls {newest.qualified}.")


def _replace(state: EditorState, tl: Toplevel, node_id: int, old: object, new: object,
             caret_id: int, names: dict[int, str], message: str) -> Outcome:
    op = ReplaceNode(tl.tlid, node_id, old, new)  # type: ignore[arg-type]
    new_tl = traverse.replace(tl, node_id, new)  # type: ignore[arg-type]
    assert isinstance(new_tl, Toplevel)
    return commit(state, [op], edits.caret_in(new_tl, caret_id, names), message)


def upgrade_language(state: EditorState) -> Outcome:
    """Move the caret's toplevel to the newest language version (after a replay shows
    which stored requests would answer differently: Ctrl+K, Replay ... newest version)."""
    tl = state.toplevel
    if tl is None:
        return refuse(state, "Put the caret in a toplevel first.")
    if tl.language_version >= LATEST_LANGUAGE_VERSION:
        return Outcome(state, message=f"Already on language version {tl.language_version}.")
    op = SetLanguageVersion(tl.tlid, tl.language_version, LATEST_LANGUAGE_VERSION)
    return commit(state, [op], state.caret,
                  f"Now on language version {LATEST_LANGUAGE_VERSION}.")


def deprecated_uses(canvas: Mapping[int, Toplevel]) -> list[tuple[int, int, str, str | None]]:
    """Every call of a deprecated library function: (tlid, call id, name, replacement)."""
    found = []
    for tl in canvas.values():
        for node in traverse.walk(tl):
            if isinstance(node, ECall) and isinstance(node.fn, LibFnRef):
                lib = LIBRARY.get(node.fn.qualified)
                if lib is not None and lib.deprecated is not None:
                    found.append((tl.tlid, node.id, node.fn.qualified,
                                  lib.deprecated.replaced_by))
    return found


def upgrade_call(state: EditorState) -> Outcome:
    """At a call of a deprecated library function: call its replacement, behind a flag
    whose new branch is the upgraded call (replay, then commit)."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    path = traverse.path_to(h.tl, h.node.id) or []
    call = next((n for n in reversed(path) if isinstance(n, ECall)
                 and isinstance(n.fn, LibFnRef)), None)
    if call is None or not isinstance(call.fn, LibFnRef):
        return refuse(state, "Put the caret in a call of a library function.")
    lib = LIBRARY.get(call.fn.qualified)
    if lib is None or lib.deprecated is None or not lib.deprecated.replaced_by:
        return Outcome(state, message=f"{call.fn.qualified} is current: nothing to upgrade.")
    module, _, rest = lib.deprecated.replaced_by.partition("::")
    name, _, version = rest.rpartition("_v")
    new_fn = LibFnRef(module, name, int(version))
    replacement = LIBRARY.get(new_fn.qualified)
    # A replacement that returns an Option or a Result where the old call returned the
    # value itself goes on the error rail, so the code around it still gets a value.
    rail = call.on_rail or (
        replacement is not None and isinstance(replacement.return_type, (TOption, TResult))
        and not isinstance(lib.return_type, (TOption, TResult)))
    upgraded = with_fresh_ids(attrs.evolve(call, fn=new_fn, on_rail=rail))
    cond = EHole(new_id())
    flag = EFlag(new_id(), f"upgrade-{name}-v{version}", cond, call, upgraded)
    return _replace(state, h.tl, call.id, call, flag, cond.id, fn_names(state.canvas.values()),
                    f"{call.fn.qualified} → {new_fn.qualified} behind a flag: replay the "
                    "stored requests (Ctrl+K, Replay ... flag committed), then commit it.")
