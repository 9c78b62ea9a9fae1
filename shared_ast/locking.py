"""Locking: what may change in code that live traffic uses.

A toplevel is *in use* when traffic reached it (or a worker or cron ran it)
recently; the runtime knows from its traces and says so in an `InUse`. Code in
use must change without risk, so an op on it is refused unless it takes one of
the safe paths:

- moving the toplevel, or editing its description;
- wrapping an expression in a feature flag (the old branch is the expression
  as it was, so traffic runs the same code until the condition is true);
- anything inside a flag's condition or its `new` branch;
- committing a flag (keep `new`) or discarding it (keep `old`): one op each;
- moving the toplevel to a newer language version (the runtime first replays
  the stored requests of the handler, or of every handler in use that reaches
  the function, and refuses the move if any would answer differently:
  `runtime.deploy.Deployer.check_language_moves`).

Everything else (editing the live branch, changing a route, a signature or a
schema, deleting) is refused, and so is a new or changed route that would
take requests from a handler in use (a second `GET /hello`, or `/sum/1/:b`
beside `/sum/:a/:b` in use): that is a change to what those requests run.
Each refusal says why and what to do instead. The runtime enforces this; the
editor checks the same function first, so the programmer sees the reason
before anything is sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import attrs

from shared_ast import traverse
from shared_ast.apply import OpError, apply_to_canvas, same_tree
from shared_ast.names import show_spec
from shared_ast.nodes import EFlag, NodeId
from shared_ast.ops import (
    CreateToplevel,
    DeleteToplevel,
    InsertElement,
    MoveToplevel,
    Op,
    RemoveElement,
    ReplaceNode,
    SetDescription,
    SetHandlerSpec,
    SetLanguageVersion,
    SetName,
    SetType,
)
from shared_ast.routes import RouteTable, requests_taken
from shared_ast.toplevels import (
    Datastore,
    Handler,
    HttpSpec,
    Test,
    Toplevel,
    UserFunction,
    UserType,
)

__all__ = [
    "InUse",
    "batch_lock_problem",
    "describe_toplevel",
    "inside_flag_branch",
    "lock_problem",
    "show_duration",
]


@attrs.frozen
class InUse:
    """Why a toplevel is locked: how much traffic reached it, and through what."""

    tlid: int
    #: Requests (or worker and cron runs) within the window that reached it.
    requests: int
    #: When the latest of them ran (seconds since the epoch).
    last_at: float
    #: How traffic reaches it: "" when it is the handler that ran, else what calls
    #: or names it ("called by GET /sum/:a/:b").
    via: str = ""
    #: The window, in seconds, that "recently" means.
    window_seconds: float = 7 * 86400


def describe_toplevel(tl: Toplevel) -> str:
    match tl:
        case Handler():
            return show_spec(tl.spec)
        case UserFunction():
            return f"function {tl.qualified}"
        case UserType():
            return f"type {tl.name}_v{tl.version}"
        case Datastore():
            return f"datastore {tl.name}_v{tl.version}"
        case Test():
            return f"test {tl.name!r}"
    return f"toplevel {tl.tlid}"


def inside_flag_branch(tl: Toplevel, node_id: NodeId) -> bool:
    """Whether the node is in (or is) a flag's condition or `new` branch."""
    path = traverse.path_to(tl, node_id) or []
    for parent, child in itertools.pairwise(path):
        if isinstance(parent, EFlag) and (child is parent.new or child is parent.cond):
            return True
    return False


def _safe(op: Op, tl: Toplevel) -> bool:
    match op:
        case MoveToplevel() | SetDescription() | SetLanguageVersion():
            return True
        case ReplaceNode():
            if inside_flag_branch(tl, op.node_id):
                return True
            new, old = op.new, op.old
            if isinstance(new, EFlag) and same_tree(new.old, old):
                return True  # wrapping in a flag: traffic keeps running `old`
            # Committing or discarding a flag.
            return isinstance(old, EFlag) and (same_tree(new, old.new) or same_tree(new, old.old))
        case SetName():
            target = traverse.find(tl, op.node_id) if op.node_id != tl.tlid else None
            return isinstance(target, EFlag) or inside_flag_branch(tl, op.node_id)
        case InsertElement() | RemoveElement():
            return op.parent_id != tl.tlid and inside_flag_branch(tl, op.parent_id)
    return False


def _advice(tl: Toplevel, op: Op) -> str:
    match tl:
        case Handler() if isinstance(op, (SetHandlerSpec, DeleteToplevel)):
            return ("Leave it serving and create a new handler beside it; delete this one when "
                    "its traffic has stopped.")
        case Handler():
            return ("Wrap the part to change in a feature flag (Ctrl+K, Wrap in feature flag) "
                    "and edit the flag's new branch; commit the flag when a replay of the "
                    "stored requests shows the answers you expect.")
        case UserFunction():
            return ("Make a new version of the function (Ctrl+K, New function version), edit "
                    "that, and switch callers to it through a flag.")
        case UserType():
            return "Make a new version of the type and move the code that uses it over."
        case Datastore():
            return ("Create a new version of the datastore and move the code that uses it "
                    "over; the rows of this one stay as they are.")
    return "Change a copy instead."


def show_duration(seconds: float) -> str:
    """A span of time as people read it: `45 s`, `12 min`, `5 h`, `7 days`."""
    if round(seconds / 3600) >= 24:
        days = round(seconds / 86400)
        return f"{days} day" if days == 1 else f"{days} days"
    if round(seconds / 60) >= 120:
        return f"{round(seconds / 3600)} h"
    if round(seconds) >= 120:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds)} s"


def _reached(in_use: InUse) -> str:
    window = show_duration(in_use.window_seconds)
    return (f"it answered {in_use.requests} request(s) in the last {window}" if not in_use.via
            else f"it is {in_use.via}, which answered {in_use.requests} request(s) in the "
                 f"last {window}")


def lock_problem(op: Op, tl: Toplevel | None, in_use: InUse | None) -> str | None:
    """Why `op` may not change `tl`, which is in use; None when it may (or `tl` is free)."""
    if tl is None or in_use is None or _safe(op, tl):
        return None
    what = {SetHandlerSpec: "change what triggers", DeleteToplevel: "delete",
            SetType: "change a type in"}.get(type(op), "change the code of")
    return (f"{describe_toplevel(tl)} is in use ({_reached(in_use)}), so the runtime will not "
            f"{what} it directly: live traffic would run code no request has tried yet. "
            f"{_advice(tl, op)}")


def _routes(toplevels: Mapping[int, Toplevel]) -> RouteTable:
    return RouteTable.build(tl for tl in toplevels.values() if isinstance(tl, Handler))


def route_takeover_problem(before: Mapping[int, Toplevel], after: Mapping[int, Toplevel],
                           tlid: int, in_use: Mapping[int, InUse]) -> str | None:
    """Why the route of handler `tlid` (new, or changed) in `after` may not be: it would
    take requests that a handler in use answers in `before`. None when it takes none."""
    new = after.get(tlid)
    if not isinstance(new, Handler) or not isinstance(new.spec, HttpSpec):
        return None
    old_tables = new_tables = None
    for used_tlid, use in in_use.items():
        old = before.get(used_tlid)
        if (used_tlid == tlid or use.via or not isinstance(old, Handler)
                or not isinstance(old.spec, HttpSpec)):
            continue
        if old_tables is None or new_tables is None:
            old_tables, new_tables = _routes(before), _routes(after)
        example = requests_taken(old_tables, new_tables, old, new)
        if example is not None:
            return (f"{show_spec(new.spec)} would take requests such as {example} from "
                    f"{describe_toplevel(old)}, which is in use ({_reached(use)}): those "
                    "requests would run code none of them has tried yet. Make the change "
                    f"inside {describe_toplevel(old)} instead: wrap its code in a feature flag "
                    "(Ctrl+K, Wrap in feature flag) whose condition picks the requests the new "
                    "code is for, and commit the flag when a replay of the stored requests "
                    "shows the answers you expect.")
    return None


def _route_ops(ops: Sequence[Op]) -> list[tuple[int, int]]:
    """(index in the batch, tlid) of every op that gives a handler a route."""
    found = []
    for index, op in enumerate(ops):
        if isinstance(op, CreateToplevel) and isinstance(op.toplevel, Handler):
            found.append((index, op.toplevel.tlid))
        elif isinstance(op, SetHandlerSpec):
            found.append((index, op.target_tlid))
    return found


def batch_lock_problem(toplevels: Mapping[int, Toplevel], ops: Sequence[Op],
                       in_use: Mapping[int, InUse]) -> tuple[int, str] | None:
    """The first op of a batch that changes code in use unsafely, and why; each op is
    judged on the toplevel as the ops before it in the batch left it. A route the
    batch creates or changes is judged on the canvas as the whole batch leaves it."""
    route_ops = _route_ops(ops) if in_use else []
    if not route_ops and not any(op.target_tlid in in_use for op in ops):
        return None  # the common case: nothing locked is touched, nothing to replay
    current = toplevels
    for index, op in enumerate(ops):
        if op.target_tlid in in_use:
            problem = lock_problem(op, current.get(op.target_tlid), in_use[op.target_tlid])
            if problem is not None:
                return index, problem
        try:
            current = apply_to_canvas([op], current)
        except OpError:
            return None  # the batch is refused anyway, by apply, with its own reason
    for index, tlid in route_ops:
        problem = route_takeover_problem(toplevels, current, tlid, in_use)
        if problem is not None:
            return index, problem
    return None
