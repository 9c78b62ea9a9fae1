"""The palette's refactorings, run on the editor state.

`editor.model.refactor` holds the refactorings as pure functions of the canvas
and a node. This module picks the node (the selection, else the expression at
the caret), runs the refactoring, applies its ops through the state and puts
the caret where the refactoring says: the first hole or the new name. After
extract variable the new let's name is selected with the caret at its start:
typing replaces it and renames its uses as it goes (`type_over_new_name`), as
a text editor's rename does; any other key ends that.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from editor.model import edits
from editor.model.state import EditorState, Outcome, commit, refuse
from editor.projection import Caret, Projection, fn_names
from shared_ast import traverse
from shared_ast.nodes import EFlag, ELet, EVariable, Expr, LambdaParam, Node, PVariable

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
    "rename": ("Rename the variable or feature flag at the caret", "the new name"),
    "rename-flag": ("Rename feature flag", "the new flag name"),
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
        "rename-flag": flags.rename_flag,
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
    if name == "rename":
        # F2, as in VS Code: the flag when the caret is on one's own text, else the variable.
        name = "rename-flag" if isinstance(node, EFlag) else "rename-variable"
    fn = _function(name)
    try:
        args = (state.canvas, tlid, node.id)
        edit = fn(*args, argument) if asks else fn(*args)
    except refactor.RefactorError as e:
        return refuse(state, str(e))
    out = commit(state, list(edit.ops), state.caret, f"{title}: done.")  # type: ignore[attr-defined]
    caret = None if out.refused else _caret_after(out.state, edit)
    if caret is None:
        return out
    # A new name to type over is selected (the let's id with the caret on its name).
    selection = caret.node_id if getattr(edit, "select_name", False) else out.state.selection
    return attrs.evolve(out, state=attrs.evolve(out.state, caret=caret, selection=selection))


def _caret_after(state: EditorState, edit: object) -> Caret | None:
    """Where the refactoring says the caret goes, on the canvas its ops made."""
    target = getattr(edit, "caret", None)
    if target is None:
        return None
    tlid, node_id = target
    tl = state.canvas.get(tlid)
    if tl is None or Projection.of_toplevel(tl) is None:
        return None
    if getattr(edit, "select_name", False):
        start = _name_start(state, tlid, node_id)
        if start is not None:
            return start
    return edits.caret_in(tl, node_id, fn_names(state.canvas.values()))


def _name_start(state: EditorState, tlid: int, node_id: int) -> Caret | None:
    proj = state.projection(tlid)
    if proj is None:
        return None
    for p in proj.own_tokens(node_id):
        if p.token.slot == "name" and p.token.editable:
            return Caret(tlid, node_id, p.own_offset)
    return None


def current_name(state: EditorState) -> str:
    """The name F2 would rename at the caret (a flag's or a variable's), or ""."""
    node = target_node(state)
    match node:
        case EFlag(name=name) | ELet(name=name) | EVariable(name=name) | LambdaParam(
                name=name) | PVariable(name=name):
            return name
    return ""


# ------------------------------------------------- typing over a new variable's name


def _new_name_at_caret(state: EditorState) -> tuple[ELet, int] | None:
    """The let whose name extract variable left selected, and the caret's place in the name."""
    caret, selection = state.caret, state.selection
    if caret is None or selection is None or caret.node_id != selection:
        return None
    tl = state.canvas.get(caret.tlid)
    let = traverse.find(tl, selection) if tl is not None else None
    if not isinstance(let, ELet):
        return None
    start = _name_start(state, caret.tlid, let.id)
    if start is None or not start.offset <= caret.offset <= start.offset + len(let.name):
        return None
    return let, caret.offset - start.offset


def renaming_new_name(state: EditorState) -> bool:
    """Whether typing now renames the variable extract variable just made."""
    return _new_name_at_caret(state) is not None


def type_over_new_name(state: EditorState, ch: str) -> Outcome | None:
    """Typing right after extract variable renames the new variable and its uses: the first
    character replaces the selected name, the next ones extend it. None when the caret is
    not on such a name; any other character ends the renaming and is typed as usual."""
    found = _new_name_at_caret(state)
    if found is None:
        return None
    let, k = found
    if not (ch.isalnum() or ch == "_"):
        return None
    # At the name's start (where extract leaves the caret) the name is replaced whole.
    new = ch if k == 0 else let.name[:k] + ch + let.name[k:]
    return _rename_new(state, let, new, (1 if k == 0 else k + 1))


def backspace_in_new_name(state: EditorState) -> Outcome | None:
    """Backspace while renaming a new variable: shorten the name (and its uses)."""
    found = _new_name_at_caret(state)
    if found is None:
        return None
    let, k = found
    if k == 0:
        return Outcome(attrs.evolve(state, selection=None))
    new = let.name[:k - 1] + let.name[k:]
    if not new:
        return refuse(state, "A variable needs a name: type the new name (Escape keeps "
                             f"{let.name}).")
    return _rename_new(state, let, new, k - 1)


def _rename_new(state: EditorState, let: ELet, new: str, offset: int) -> Outcome:
    from editor.model import refactor

    assert state.caret is not None
    tlid = state.caret.tlid
    try:
        edit = refactor.rename_variable(state.canvas, tlid, let.id, new)
    except refactor.RefactorError as e:
        return refuse(state, str(e))
    out = commit(state, list(edit.ops), state.caret) if edit.ops else Outcome(state)
    if out.refused:
        return out
    start = _name_start(out.state, tlid, let.id)
    caret = Caret(tlid, let.id, (start.offset if start else 0) + offset)
    # The let stays selected, so the next character goes on renaming.
    return attrs.evolve(out, state=attrs.evolve(out.state, caret=caret, selection=let.id))


__all__ = ["REFACTORINGS", "backspace_in_new_name", "current_name", "renaming_new_name", "run",
           "target_node", "type_over_new_name"]
