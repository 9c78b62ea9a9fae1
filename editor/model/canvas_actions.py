"""Actions on whole toplevels: create each kind, delete, move, retarget a handler.

New toplevels start with a hole for their code and a name that does not clash
with any other on the canvas, so creating one never fails; the programmer
renames it after.
"""

from __future__ import annotations

import attrs

from editor.model import motion
from editor.model.state import EditorState, Outcome, commit, refuse
from shared_ast.ids import new_id
from shared_ast.names import spec_problem, toplevel_name_problem
from shared_ast.nodes import ECall, EHole, LibFnRef, Param, TypeField
from shared_ast.ops import CreateToplevel, DeleteToplevel, MoveToplevel, Op, SetHandlerSpec, SetName
from shared_ast.toplevels import (
    CURRENT_LANGUAGE_VERSION,
    CronSpec,
    Datastore,
    Handler,
    HandlerSpec,
    HttpSpec,
    Pos,
    RecordDef,
    ReplSpec,
    Test,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)
from shared_ast.type_ast import INT, STRING, UNKNOWN, TRecord, TRecordField

#: What the "New" menu offers, in order: kind → label.
TOPLEVEL_KINDS: dict[str, str] = {
    "http": "HTTP handler",
    "worker": "Worker",
    "cron": "Cron",
    "repl": "REPL",
    "function": "Function",
    "type": "Type",
    "datastore": "Datastore",
    "test": "Test",
}


def _fresh_name(state: EditorState, base: str) -> str:
    taken = {getattr(tl, "name", None) for tl in state.canvas.values()}
    taken |= {getattr(getattr(tl, "spec", None), "name", None) for tl in state.canvas.values()}
    taken |= {getattr(getattr(tl, "spec", None), "queue", None) for tl in state.canvas.values()}
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def _free_route(state: EditorState, method: str, route: str) -> str:
    taken = {(tl.spec.method, tl.spec.route) for tl in state.canvas.values()
             if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)}
    if (method, route) not in taken:
        return route
    n = 2
    while (method, f"{route.rstrip('/')}{n}") in taken:
        n += 1
    return f"{route.rstrip('/')}{n}"


def new_toplevel_of(state: EditorState, kind: str, pos: Pos, *, method: str = "GET",
                    route: str = "/new") -> Toplevel:
    tlid, version = new_id(), CURRENT_LANGUAGE_VERSION
    match kind:
        case "http":
            spec: HandlerSpec = HttpSpec(method, _free_route(state, method, route))
            return Handler(tlid, pos, version, spec, EHole(new_id()))
        case "worker":
            return Handler(tlid, pos, version, WorkerSpec(_fresh_name(state, "jobs")),
                           EHole(new_id()))
        case "cron":
            return Handler(tlid, pos, version, CronSpec(_fresh_name(state, "every_minute"), 60),
                           EHole(new_id()))
        case "repl":
            return Handler(tlid, pos, version, ReplSpec(_fresh_name(state, "scratch")),
                           EHole(new_id()))
        case "function":
            return UserFunction(tlid, pos, version, new_id(), _fresh_name(state, "newFunction"), 0,
                                (Param(new_id(), "x", UNKNOWN),), UNKNOWN, EHole(new_id()))
        case "type":
            return UserType(tlid, pos, version, new_id(), _fresh_name(state, "NewType"), 0,
                            RecordDef((TypeField(new_id(), "name", STRING),)))
        case "datastore":
            schema = TRecord((TRecordField("name", STRING), TRecordField("count", INT)))
            return Datastore(tlid, pos, version, _fresh_name(state, "Things"), 0, schema)
        case "test":
            # One check to fill in, the actual value first: `Test::expect ___ ___`.
            check = ECall(new_id(), LibFnRef("Test", "expect", 0), (EHole(new_id()),
                                                                   EHole(new_id())))
            return Test(tlid, pos, version, _fresh_name(state, "new test"), check)
    raise ValueError(f"unknown toplevel kind {kind!r}; one of {', '.join(TOPLEVEL_KINDS)}")


def commit_to(state: EditorState, tlid: int, ops: list[Op], message: str = "") -> Outcome:
    """Apply toplevel-level ops (the caret stays) and remember them in `tlid`'s history."""
    out = commit(state, ops, state.caret, message, record=False)
    if out.refused:
        return out
    return attrs.evolve(out, state=attrs.evolve(out.state, history=out.state.history.record(
        tlid, out.ops)))


def create_toplevel(state: EditorState, kind: str, pos: Pos | None = None, **kw: str) -> Outcome:
    pos = pos or Pos(40, 40)
    try:
        tl = new_toplevel_of(state, kind, pos, **kw)
    except ValueError as e:
        return refuse(state, str(e))
    out = commit(state, [CreateToplevel(tl)], None, f"New {TOPLEVEL_KINDS[kind]} created.",
                 record=False)
    if out.refused:
        return out
    focused = motion.focus(out.state, tl.tlid).state
    history = focused.history.record(tl.tlid, out.ops)
    return attrs.evolve(out, state=attrs.evolve(focused, history=history))


def delete_toplevel(state: EditorState, tlid: int) -> Outcome:
    tl = state.canvas.get(tlid)
    if tl is None:
        return refuse(state, "That toplevel is already gone.")
    if isinstance(tl, (UserFunction, UserType)):
        from editor.model.versions import users_of

        users = users_of(state.canvas, tl)
        if users:
            names = ", ".join(toplevel_label(u) for u in users[:3])
            return refuse(state, f"{toplevel_label(tl)} is still used by {names}: move them to "
                                 "another version first (Use newest function version), then "
                                 "delete it.")
    out = commit_to(state, tlid, [DeleteToplevel(tl)], "Deleted; Undo brings it back.")
    return attrs.evolve(out, state=attrs.evolve(out.state, caret=None, selection=None))


def move_toplevel(state: EditorState, tlid: int, pos: Pos) -> Outcome:
    tl = state.canvas.get(tlid)
    if tl is None:
        return refuse(state, "That toplevel is gone.")
    if tl.pos == pos:
        return Outcome(state)
    op = MoveToplevel(tlid, tl.pos, pos)
    return commit_to(state, tlid, [op])


def arrange(state: EditorState, moves: dict[int, Pos]) -> Outcome:
    """Move frames out of each other's way (see `placement.push_apart`): one batch of moves,
    only of frames that move, kept out of the undo history (it follows an edit, it is not one)."""
    ops: list[Op] = [MoveToplevel(tlid, state.canvas[tlid].pos, pos)
                     for tlid, pos in moves.items()
                     if tlid in state.canvas and state.canvas[tlid].pos != pos]
    if not ops:
        return Outcome(state)
    out = commit(state, ops, state.caret, record=False)
    # A move changes no code: what is selected stays selected (Extract variable's new name,
    # being typed over, is a selection).
    return attrs.evolve(out, state=attrs.evolve(out.state, selection=state.selection))


def set_spec(state: EditorState, tlid: int, spec: HandlerSpec) -> Outcome:
    tl = state.canvas.get(tlid)
    if not isinstance(tl, Handler):
        return refuse(state, "Only handlers have a trigger to change.")
    if tl.spec == spec:
        return Outcome(state)
    problem = spec_problem(spec)
    if problem is not None:
        return refuse(state, problem)
    if isinstance(spec, HttpSpec):
        for other in state.canvas.values():
            if (other.tlid != tlid and isinstance(other, Handler) and other.spec == spec):
                return refuse(state, f"{spec.method} {spec.route} is already handled by another "
                                     "handler; pick another route or edit that one.")
    op = SetHandlerSpec(tlid, tl.spec, spec)
    return commit_to(state, tlid, [op])


def rename_toplevel(state: EditorState, tlid: int, name: str) -> Outcome:
    tl = state.canvas.get(tlid)
    if not isinstance(tl, (UserFunction, UserType, Datastore, Test)):
        return refuse(state, "This toplevel has no name.")
    problem = toplevel_name_problem(attrs.evolve(tl, name=name))
    if problem is not None:
        return refuse(state, problem)
    op = SetName(tlid, tlid, tl.name, name)
    return commit_to(state, tlid, [op])


def handler_for_404(state: EditorState, description: str, pos: Pos | None = None) -> Outcome:
    """One click on a listed 404 ("GET /path"): a handler for that method and path."""
    method, _, path = description.partition(" ")
    if not path.startswith("/"):
        return refuse(state, f"{description!r} is not a request line like 'GET /path'.")
    spec = HttpSpec(method.upper(), path)
    problem = spec_problem(spec)
    if problem is not None:
        return refuse(state, problem)
    return create_toplevel(state, "http", pos, method=spec.method, route=spec.route)


def toplevel_label(tl: Toplevel) -> str:
    """A short name for lists: `GET /sum/:a/:b`, `fn square`, `type Note`, `datastore Notes`."""
    from shared_ast.names import show_spec

    match tl:
        case Handler():
            return show_spec(tl.spec)
        case UserFunction():
            return f"fn {tl.qualified}"
        case UserType():
            return f"type {tl.name}_v{tl.version}"
        case Datastore():
            return f"datastore {tl.name}_v{tl.version}"
        case Test():
            return f"test {tl.name}"
    return tl.KIND

