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

import secrets
from collections.abc import Mapping

from editor.model.refactor import Edit, RefactorError, expression_at, locate, with_fresh_ids
from shared_ast import traverse
from shared_ast.ids import new_id
from shared_ast.nodes import EFlag, EHole, NodeId
from shared_ast.ops import ReplaceNode
from shared_ast.toplevels import Toplevel

__all__ = ["commit_flag", "discard_flag", "wrap_in_flag"]

Canvas = Mapping[int, Toplevel]


def wrap_in_flag(canvas: Canvas, tlid: int, node_id: NodeId, new_from_old: bool = True) -> Edit:
    """`e` → `flag flag-xxxx (condition _) old e new e'`; the caret goes to the condition.

    `e'` is a copy of `e` with new ids, to edit into the new code, or a hole
    when `new_from_old` is False. The name is fresh on the canvas.
    """
    _target, e = expression_at(canvas, tlid, node_id, "Wrap in feature flag")
    new = with_fresh_ids(e) if new_from_old else EHole(new_id())
    flag = EFlag(new_id(), _fresh_flag_name(canvas), EHole(new_id()), e, new)
    return Edit((ReplaceNode(tlid, e.id, e, flag),), (tlid, flag.cond.id))


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


def _fresh_flag_name(canvas: Canvas) -> str:
    taken = {node.name for tl in canvas.values() for node in traverse.walk(tl)
             if isinstance(node, EFlag)}
    while True:
        name = f"flag-{secrets.token_hex(2)}"
        if name not in taken:
            return name
