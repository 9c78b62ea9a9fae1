"""Feature-flag commands: put a change behind a flag, then keep it or throw it away.

A flag `flag(name, condition, old, new)` runs `new` only when its condition is
exactly `true`; an unfinished condition keeps the old code running. That makes
wrapping safe on live code: with a blank condition the program means what it
meant, while `new` (a copy of the old code to edit, or a hole) gets a previewed
live value. When the change has proved itself, commit keeps `new`; discard
keeps `old`. Each is one op, and its inverse brings the flag back whole.

The commands follow `editor.model.refactor`: pure functions of the canvas and a
target node, returning an `Edit` or raising `RefactorError`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

from editor.model.refactor import (
    Edit,
    RefactorError,
    expression_at,
    locate,
    suggest_name,
    with_fresh_ids,
)
from shared_ast import traverse
from shared_ast.ids import new_id
from shared_ast.nodes import EFlag, EHole, Expr, NodeId
from shared_ast.ops import ReplaceNode, SetName
from shared_ast.toplevels import (
    CronSpec,
    Handler,
    HttpSpec,
    Test,
    Toplevel,
    UserFunction,
    WorkerSpec,
)

__all__ = ["commit_flag", "discard_flag", "flag_name_for", "fresh_flag_name", "rename_flag",
           "wrap_in_flag"]

Canvas = Mapping[int, Toplevel]


def wrap_in_flag(canvas: Canvas, tlid: int, node_id: NodeId, new_from_old: bool = True) -> Edit:
    """`e` → `flag <name> (condition _) old e new e'`; the caret goes to the condition.

    `e'` is a copy of `e` with new ids, to edit into the new code, or a hole
    when `new_from_old` is False. The name says where the flag is and what it
    changes (`flag_name_for`), and is unique on the canvas.
    """
    target, e = expression_at(canvas, tlid, node_id, "Wrap in feature flag")
    new = with_fresh_ids(e) if new_from_old else EHole(new_id())
    name = fresh_flag_name(canvas, target.toplevel, e)
    flag = EFlag(new_id(), name, EHole(new_id()), e, new)
    return Edit((ReplaceNode(tlid, e.id, e, flag),), (tlid, flag.cond.id))


def fresh_flag_name(canvas: Canvas, tl: Toplevel, e: Expr) -> str:
    """`flag_name_for`, made unique on the canvas with -2, -3, ..."""
    return _unique(flag_name_for(tl, e), _flag_names(canvas))


def flag_name_for(tl: Toplevel, e: Expr) -> str:
    """A flag's name from its context: the toplevel's route (`/add/:y` → `add-y`), queue
    or name, then what the wrapped code computes (`suggest_name`): `add-y-sum`."""
    match tl:
        case Handler(spec=HttpSpec(route=route)):
            where = "-".join(part.lstrip(":") for part in route.split("/") if part) or "root"
        case Handler(spec=WorkerSpec(queue=queue)):
            where = queue
        case UserFunction(name=name):
            where = name
        case Test():
            where = "test"
        case Handler(spec=CronSpec(name=name)):
            where = name
        case _:
            where = "flag"
    what = suggest_name(e)
    where = re.sub(r"[^A-Za-z0-9_-]+", "-", where).strip("-") or "flag"
    return where if what == "value" else f"{where}-{what}"


def rename_flag(canvas: Canvas, tlid: int, node_id: NodeId, new_name: str) -> Edit:
    """Rename the flag at or around `node_id` (the innermost): one `SetName`, undoable.

    Refused when the name is empty, has spaces, or names another flag of the canvas
    (a flag's name identifies it in the flag counts and the inspector).
    """
    command = "Rename feature flag"
    target = locate(canvas, tlid, node_id, command)
    flag = next((p for p in reversed(target.path) if isinstance(p, EFlag)), None)
    if flag is None:
        raise RefactorError(f"{command}: node {node_id} is not inside a feature flag; put the "
                            "caret on a flag (its name, condition or either branch) and try again")
    new_name = new_name.strip()
    if not new_name:
        raise RefactorError(f"{command}: a flag needs a name; type one (like "
                            f"{flag.name}), then Enter")
    if any(c.isspace() for c in new_name):
        raise RefactorError(f"{command}: {new_name!r} has spaces; use - or _ between words")
    if new_name != flag.name and new_name in _flag_names(canvas):
        raise RefactorError(f"{command}: another flag on the canvas is already called "
                            f"{new_name}; pick a name of its own")
    if new_name == flag.name:
        raise RefactorError(f"{command}: the flag is already called {new_name}")
    return Edit((SetName(tlid, flag.id, flag.name, new_name),))  # the caret stays


def commit_flag(canvas: Canvas, tlid: int, node_id: NodeId) -> Edit:
    """Replace the flag at or around `node_id` (the innermost) by its new code."""
    return _settle(canvas, tlid, node_id, "Commit flag", keep_new=True)


def discard_flag(canvas: Canvas, tlid: int, node_id: NodeId) -> Edit:
    """Replace the flag at or around `node_id` (the innermost) by its old code."""
    return _settle(canvas, tlid, node_id, "Discard flag", keep_new=False)


def _settle(canvas: Canvas, tlid: int, node_id: NodeId, command: str, *, keep_new: bool) -> Edit:
    target = locate(canvas, tlid, node_id, command)
    flag = next((p for p in reversed(target.path) if isinstance(p, EFlag)), None)
    if flag is None:
        raise RefactorError(f"{command}: node {node_id} is not inside a feature flag; put the "
                            "caret on a flag (its name, condition or either branch) and try again")
    kept = flag.new if keep_new else flag.old
    # The kept branch keeps its ids, so its live values and marks stay where they are.
    return Edit((ReplaceNode(tlid, flag.id, flag, kept),), (tlid, kept.id))


def _flag_names(canvas: Canvas) -> set[str]:
    return {node.name for tl in canvas.values() for node in traverse.walk(tl)
            if isinstance(node, EFlag)}


def _unique(base: str, taken: set[str]) -> str:
    candidates = itertools.chain([base], (f"{base}-{i}" for i in itertools.count(2)))
    return next(name for name in candidates if name not in taken)
