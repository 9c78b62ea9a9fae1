"""The palette's refactorings, run on the editor state.

`editor.model.refactor` holds the refactorings as pure functions of the canvas
and a node. This module picks the node (the selection, else the expression at
the caret), runs the refactoring, applies its ops through the state and puts
the caret where the refactoring says: the first hole or the new name.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from editor.model import edits
from editor.model.state import EditorState, Outcome, commit, refuse
from editor.projection import Caret, Projection, fn_names
from shared_ast import traverse
from shared_ast.nodes import Expr, Node

#: name → (title, the prompt for its argument or None)
REFACTORINGS: dict[str, tuple[str, str | None]] = {
    "wrap-in-let": ("Wrap in let", None),
    "wrap-in-if": ("Wrap in if", None),
    "wrap-in-match": ("Wrap in match", None),
    "wrap-in-flag": ("Wrap in feature flag", None),
    "wrap-in-flag-empty": ("Wrap in feature flag (new branch empty)", None),
    "extract-variable": ("Extract variable", None),
    "extract-function": ("Extract function", None),
    "rename-variable": ("Rename variable and its uses", "the new name"),
    "commit-flag": ("Commit feature flag (keep new)", None),
    "discard-flag": ("Discard feature flag (keep old)", None),
}


def target_node(state: EditorState) -> Node | None:
    """The selection, else the innermost expression at the caret."""
    h = edits.here(state)
    if isinstance(h, str):
        return None
    if state.selection is not None:
        return traverse.find(h.tl, state.selection)
    node: Node | None = h.node
    if isinstance(node, Expr):
        return node
    path = traverse.path_to(h.tl, h.node.id) or []
    for parent in reversed(path):
        if isinstance(parent, Expr):
            return parent
    return node


def _function(name: str) -> Callable[..., object]:
    from editor.model import flags, refactor

    table: dict[str, Callable[..., object]] = {
        "wrap-in-let": refactor.wrap_in_let,
        "wrap-in-if": refactor.wrap_in_if,
        "wrap-in-match": refactor.wrap_in_match,
        "wrap-in-flag": flags.wrap_in_flag,
        "wrap-in-flag-empty": lambda canvas, tlid, node_id: flags.wrap_in_flag(
            canvas, tlid, node_id, new_from_old=False),
        "extract-variable": refactor.extract_variable,
        "extract-function": refactor.extract_function,
        "rename-variable": refactor.rename_variable,
        "commit-flag": flags.commit_flag,
        "discard-flag": flags.discard_flag,
    }
    return table[name]


def run(state: EditorState, name: str, argument: str | None = None) -> Outcome:
    from editor.model import refactor

    if name not in REFACTORINGS:
        return refuse(state, f"There is no refactoring {name!r}.")
    title, asks = REFACTORINGS[name]
    if asks is not None and not argument:
        return refuse(state, f"{title} needs {asks}.")
    node = target_node(state)
    if node is None or state.caret is None:
        return refuse(state, f"{title}: put the caret in an expression first.")
    tlid = state.caret.tlid
    fn = _function(name)
    try:
        args = (state.canvas, tlid, node.id)
        edit = fn(*args, argument) if asks else fn(*args)
    except refactor.RefactorError as e:
        return refuse(state, str(e))
    out = commit(state, list(edit.ops), state.caret, f"{title}: done.")  # type: ignore[attr-defined]
    caret = None if out.refused else _caret_after(out.state, edit)
    return out if caret is None else attrs.evolve(out, state=attrs.evolve(out.state, caret=caret))


def _caret_after(state: EditorState, edit: object) -> Caret | None:
    """Where the refactoring says the caret goes, on the canvas its ops made."""
    target = getattr(edit, "caret", None)
    if target is None:
        return None
    tlid, node_id = target
    tl = state.canvas.get(tlid)
    if tl is None or Projection.of_toplevel(tl) is None:
        return None
    return edits.caret_in(tl, node_id, fn_names(state.canvas.values()))


__all__ = ["REFACTORINGS", "run", "target_node"]
