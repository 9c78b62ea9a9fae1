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
from shared_ast.nodes import ECall, EFlag, EHole, Expr, LibFnRef, UserFnRef
from shared_ast.ops import CreateToplevel, Op, ReplaceNode, SetLanguageVersion
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.toplevels import Handler, Pos, Toplevel, UserFunction, UserType
from shared_ast.type_ast import TOption, TResult, TUser


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


def new_type_version(state: EditorState, tlid: int) -> Outcome:
    """A copy of a user type as its family's next version; code keeps naming the old one
    until it is moved (values are checked against the version the code names)."""
    t = state.canvas.get(tlid)
    if not isinstance(t, UserType):
        return refuse(state, "That is not a type.")
    newest = max((x.version for x in state.canvas.values()
                  if isinstance(x, UserType) and x.type_id == t.type_id), default=t.version)
    copy = with_fresh_ids(t)
    made = attrs.evolve(copy, tlid=new_id(), version=newest + 1,
                        pos=Pos(t.pos.x + 40, t.pos.y + 40))
    return commit(state, [CreateToplevel(made)], state.caret,
                  f"Made {made.name}_v{made.version}: edit its fields; code keeps using "
                  f"{t.name}_v{t.version} until you change it.", record=False)


def users_of(canvas: Mapping[int, Toplevel], tl: Toplevel) -> list[Toplevel]:
    """The other toplevels that call this function version or name this type version."""
    found = []
    for other in canvas.values():
        if other.tlid == tl.tlid:
            continue
        for node in traverse.walk(other):
            if _refers_to(node, tl):
                found.append(other)
                break
        else:
            if isinstance(tl, UserType) and _names_type(other, tl):
                found.append(other)
    return found


def _refers_to(node: object, tl: Toplevel) -> bool:
    match tl:
        case UserFunction():
            return isinstance(node, ECall) and node.fn == UserFnRef(tl.fn_id, tl.version)
        case UserType():
            ref = getattr(node, "type_ref", None)
            return ref is not None and (ref.type_id, ref.version) == (tl.type_id, tl.version)
    return False


def _names_type(other: Toplevel, t: UserType) -> bool:
    stack: list[object] = [other]
    while stack:
        item = stack.pop()
        if isinstance(item, TUser) and (item.type_id, item.version) == (t.type_id, t.version):
            return True
        if isinstance(item, tuple):
            stack.extend(item)
        elif attrs.has(cls := type(item)):
            stack.extend(getattr(item, a.name) for a in attrs.fields(cls))
    return False


def version_call_path(state: EditorState, target: str) -> Outcome:
    """From a call in a handler down to the function named `target`: a new version of
    every function on the way (each calling the next one's new version), and the
    handler's call moved to the first of them (through a flag when the handler is in use)."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    if not isinstance(h.tl, Handler):
        return refuse(state, "Put the caret on a call in a handler first.")
    path_nodes = traverse.path_to(h.tl, h.node.id) or []
    call = next((n for n in reversed(path_nodes) if isinstance(n, ECall)
                 and isinstance(n.fn, UserFnRef)), None)
    if call is None or not isinstance(call.fn, UserFnRef):
        return refuse(state, "Put the caret on a call of one of your functions.")
    fns = {(f.fn_id, f.version): f for f in state.canvas.values()
           if isinstance(f, UserFunction)}
    chain = _call_path(fns, (call.fn.fn_id, call.fn.version), target)
    if chain is None:
        return refuse(state, f"{target!r} is not reached from this call: name a function "
                             "this call calls, directly or through others.")
    ops: list[Op] = []
    new_refs: dict[tuple[int, int], UserFnRef] = {}
    for key in chain:
        newest = newest_version(state, key[0])
        new_refs[key] = UserFnRef(key[0], (newest.version if newest else key[1]) + 1)
    for i, key in enumerate(chain):
        fn = fns[key]
        nxt = chain[i + 1] if i + 1 < len(chain) else None
        copy = with_fresh_ids(fn)
        if nxt is not None:
            copy = _retarget(copy, UserFnRef(*nxt), new_refs[nxt])
        made = attrs.evolve(copy, tlid=new_id(), version=new_refs[key].version,
                            pos=Pos(fn.pos.x + 40, fn.pos.y + 40))
        ops.append(CreateToplevel(made))
    moved = attrs.evolve(with_fresh_ids(call), fn=new_refs[chain[0]])
    names = fn_names(state.canvas.values())
    if h.tl.tlid in state.locks:
        cond = EHole(new_id())
        replacement: Expr = EFlag(new_id(), f"{target}-path", cond, call, moved)
        caret_id = cond.id
    else:
        replacement, caret_id = moved, moved.id
    ops.append(ReplaceNode(h.tl.tlid, call.id, call, replacement))
    new_tl = traverse.replace(h.tl, call.id, replacement)
    assert isinstance(new_tl, Toplevel)
    shown = " → ".join(f"{fns[k].name}_v{new_refs[k].version}" for k in chain)
    return commit(state, ops, edits.caret_in(new_tl, caret_id, names),
                  f"New versions {shown}; edit {fns[chain[-1]].name}_v"
                  f"{new_refs[chain[-1]].version}, then commit the flag.")


def _call_path(fns: Mapping[tuple[int, int], UserFunction], start: tuple[int, int],
               target: str) -> list[tuple[int, int]] | None:
    """The shortest chain of calls from `start` to a function named `target`."""
    queue: list[list[tuple[int, int]]] = [[start]]
    seen = {start}
    while queue:
        chain = queue.pop(0)
        fn = fns.get(chain[-1])
        if fn is None:
            continue
        if fn.name == target:
            return chain
        for node in traverse.walk(fn):
            if isinstance(node, ECall) and isinstance(node.fn, UserFnRef):
                key = (node.fn.fn_id, node.fn.version)
                if key not in seen:
                    seen.add(key)
                    queue.append([*chain, key])
    return None


def _retarget(fn: UserFunction, old: UserFnRef, new: UserFnRef) -> UserFunction:
    body = fn.body
    for node in list(traverse.walk(fn.body)):
        if isinstance(node, ECall) and node.fn == old:
            replaced = traverse.replace(body, node.id, attrs.evolve(node, fn=new))
            assert isinstance(replaced, Expr)
            body = replaced
    return attrs.evolve(fn, body=body)


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
