"""Moving the caret and selecting: left, right, up, down, home, end, Tab between holes.

Moves happen in (line, column) space of the projection, so they feel like a
text editor's; the caret lands back on a (node id, offset) pair. Tab and
Shift-Tab visit the blanks (holes and unnamed binders) in reading order.
Selection grows from the node at the caret to its parents, one level a press.
"""

from __future__ import annotations

import attrs

from editor.model import edits
from editor.model.state import EditorState, Outcome, refuse
from editor.projection import Caret
from shared_ast import traverse
from shared_ast.toplevels import Toplevel

DIRECTIONS = ("left", "right", "up", "down", "home", "end", "doc_start", "doc_end")


def move(state: EditorState, direction: str) -> Outcome:
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    proj, line, col = h.proj, h.line, h.column
    last_line = len(proj.lines) - 1
    caret: Caret | None
    match direction:
        case "left":
            if col > proj.line_start(line):
                caret = _left_of(h, col)
            elif line > 0:
                caret = proj.caret_at(line - 1, proj.line_end(line - 1))
            else:
                caret = state.caret
        case "right":
            if col < proj.line_end(line):
                caret = proj.caret_at(line, _next_column(h, col))
            elif line < last_line:
                caret = proj.caret_at(line + 1, proj.line_start(line + 1))
            else:
                caret = state.caret
        case "up":
            caret = proj.caret_at(line - 1, col) if line > 0 else proj.caret_at(0, 0)
        case "down":
            caret = (proj.caret_at(line + 1, col) if line < last_line
                     else proj.caret_at(last_line, proj.line_end(last_line)))
        case "home":
            caret = proj.caret_at(line, proj.line_start(line))
        case "end":
            caret = proj.caret_at(line, proj.line_end(line))
        case "doc_start":
            caret = proj.caret_at(0, 0)
        case "doc_end":
            caret = proj.caret_at(last_line, proj.line_end(last_line))
        case _:
            return refuse(state, f"unknown direction {direction!r}; one of {', '.join(DIRECTIONS)}")
    return Outcome(attrs.evolve(state, caret=caret, selection=None))


def _next_column(h: edits.Here, col: int) -> int:
    for p in h.proj.by_line[h.line]:
        # A blank (hole or unnamed binder) is one stop: the caret jumps over its placeholder.
        if p.token.blank and p.column <= col < p.end:
            return p.end
        # A partial's greyed old expression (after a two-space gap) is not a caret stop.
        if p.token.role == "partial_old" and p.column - 2 <= col < p.end:
            return p.end
    return col + 1


def _left_of(h: edits.Here, col: int) -> Caret:
    for p in h.proj.by_line[h.line]:
        if p.token.blank and p.column < col <= p.end:
            return h.proj.caret_at(h.line, p.column)
        if p.token.role == "partial_old" and p.column - 2 < col <= p.end:
            return h.proj.caret_at(h.line, p.column - 2)
    return h.proj.caret_at(h.line, col - 1)


def next_blank(state: EditorState, backwards: bool = False) -> Outcome:
    """Tab: to the next hole or blank name after the caret (wrapping round)."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    blanks = h.proj.holes()
    if not blanks:
        return Outcome(state, message="No holes left in this code.")
    here_pos = (h.line, h.column)
    if backwards:
        before = [p for p in blanks if (p.line, p.column) < here_pos and p is not h.placed]
        target = before[-1] if before else blanks[-1]
    else:
        after = [p for p in blanks if (p.line, p.column) > here_pos and p is not h.placed]
        target = after[0] if after else blanks[0]
    caret = Caret(h.tl.tlid, target.token.node_id, target.own_offset)
    return Outcome(attrs.evolve(state, caret=caret, selection=None))


def select_parent(state: EditorState) -> Outcome:
    """Select the node at the caret, or grow the selection to its parent."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    if state.selection is None:
        return Outcome(attrs.evolve(state, selection=h.node.id))
    parent = traverse.parent_of(h.tl, state.selection)
    if parent is None or isinstance(parent, Toplevel):
        return Outcome(state, message="The whole code is selected.")
    return Outcome(attrs.evolve(state, selection=parent.id))


def select_none(state: EditorState) -> Outcome:
    return Outcome(attrs.evolve(state, selection=None))


def place(state: EditorState, tlid: int, line: int, column: int) -> Outcome:
    """A click: the caret at (line, column) of a toplevel's code."""
    proj = state.projection(tlid)
    if proj is None:
        return Outcome(attrs.evolve(state, caret=None, selection=None))
    return Outcome(attrs.evolve(state, caret=proj.caret_at(line, column), selection=None))


def focus(state: EditorState, tlid: int) -> Outcome:
    """Put the caret at the first blank of a toplevel, or at its start."""
    proj = state.projection(tlid)
    if proj is None:
        return Outcome(attrs.evolve(state, caret=None, selection=None))
    blanks = proj.holes()
    p = blanks[0] if blanks else proj.placed[0]
    return Outcome(attrs.evolve(state, caret=Caret(tlid, p.token.node_id, p.own_offset),
                                selection=None))
