"""Shared pieces of the editing actions: where the caret is, and caret placement.

`Here` gathers what every action needs about the caret: the toplevel, its
projection, the token the caret is in and the node that owns it. The caret
helpers put the caret at the start or the end of a node, on its name, or on
the first hole inside it, computed from a projection of the *new* tree.
"""

from __future__ import annotations

import re

import attrs

from editor.model.state import EditorState
from editor.projection import Caret, Placed, Projection, fn_names
from shared_ast import traverse
from shared_ast.nodes import Expr, Node
from shared_ast.program import Program
from shared_ast.toplevels import Toplevel

IDENTIFIER_CHARS = re.compile(r"[A-Za-z0-9_]")
OPERATOR_CHARS = frozenset("+-*/%^<>=!&|")
CLOSING_CHARS = frozenset(")]}\"")


@attrs.frozen
class Here:
    state: EditorState
    tl: Toplevel
    proj: Projection
    placed: Placed
    #: Offset of the caret within `placed`'s token.
    k: int
    node: Node

    @property
    def token_text(self) -> str:
        return "" if self.placed.token.blank else self.placed.token.text

    @property
    def at_token_end(self) -> bool:
        return self.k >= len(self.placed.token.text)

    @property
    def column(self) -> int:
        return self.placed.column + self.k

    @property
    def line(self) -> int:
        return self.placed.line

    def program(self) -> Program:
        return Program.from_toplevels(self.state.canvas.values())


def here(state: EditorState) -> Here | str:
    """Where the caret is, or why there is nothing to edit."""
    caret = state.caret
    if caret is None:
        return "No code is selected: click into a handler or function first."
    tl = state.canvas.get(caret.tlid)
    if tl is None:
        return "The toplevel the caret was in has been deleted."
    proj = Projection.of_toplevel(tl, fn_names(state.canvas.values()))
    if proj is None:
        return "This toplevel has no code to type into; edit it with its form."
    found = proj.placed_at(caret)
    if found is None:
        first = proj.placed[0]
        found = (first, 0)
    placed, k = found
    node = traverse.find(tl, placed.token.node_id)
    assert node is not None
    return Here(state, tl, proj, placed, k, node)


# ------------------------------------------------------------------ carets
# These are computed on the tree *after* an edit, which the caller passes as a
# toplevel; the caret is then exact even when the layout moved things around.


def _proj(canvas_tl: Toplevel, names: dict[int, str] | None = None) -> Projection:
    proj = Projection.of_toplevel(canvas_tl, names)
    assert proj is not None
    return proj


def caret_end(tl: Toplevel, node_id: int, names: dict[int, str] | None = None) -> Caret:
    """After the last character of the node's subtree."""
    proj = _proj(tl, names)
    node = traverse.find(tl, node_id)
    ids = set(traverse.node_ids(node)) if node is not None else {node_id}
    inside = proj.tokens_of(ids)
    if not inside:
        return Caret(tl.tlid, proj.placed[0].token.node_id, 0)
    last = inside[-1]
    # A partial's ghost (the old expression) is display only: stop before it.
    editable = [p for p in inside if p.token.role != "partial_old"]
    last = editable[-1] if editable else last
    return Caret(tl.tlid, last.token.node_id, last.own_offset + len(last.token.text))


def caret_start(tl: Toplevel, node_id: int, names: dict[int, str] | None = None) -> Caret:
    proj = _proj(tl, names)
    node = traverse.find(tl, node_id)
    ids = set(traverse.node_ids(node)) if node is not None else {node_id}
    inside = proj.tokens_of(ids)
    first = inside[0] if inside else proj.placed[0]
    return Caret(tl.tlid, first.token.node_id, first.own_offset)


def caret_in(tl: Toplevel, node_id: int, names: dict[int, str] | None = None) -> Caret:
    """On a node's first blank token (hole or blank name) if it has one, else at its end."""
    proj = _proj(tl, names)
    node = traverse.find(tl, node_id)
    ids = set(traverse.node_ids(node)) if node is not None else {node_id}
    for p in proj.tokens_of(ids):
        if p.token.blank:
            return Caret(tl.tlid, p.token.node_id, p.own_offset)
    return caret_end(tl, node_id, names)


def caret_on_name(tl: Toplevel, node_id: int, names: dict[int, str] | None = None) -> Caret:
    """At the end of a node's own name (its first editable own token)."""
    proj = _proj(tl, names)
    for p in proj.own_tokens(node_id):
        if p.token.editable and p.token.role != "space":
            end = 0 if p.token.blank else len(p.token.text)
            return Caret(tl.tlid, node_id, p.own_offset + end)
    return caret_end(tl, node_id, names)


def expression_ending_at(h: Here) -> Expr | None:
    """The largest expression whose last token ends exactly at the caret, if any.

    "Largest" stops below a list, call or record boundary: after `a` in
    `f a`, an operator applies to `a`, as typing in a text editor would.
    """
    row = h.proj.by_line[h.line]
    col = h.column
    ending = [p for p in row if p.end == col and p.token.role not in ("space",) and p.column < col]
    if not ending:
        return None
    last = ending[-1]
    token = last.token
    if token.role in ("hole", "placeholder", "partial_old", "op", "keyword", "flag"):
        return None
    node = traverse.find(h.tl, token.node_id)
    if not isinstance(node, Expr):
        return None
    subtree = h.proj.tokens_of(traverse.node_ids(node))
    return node if subtree and subtree[-1] is last else None
