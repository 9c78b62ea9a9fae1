"""Changing code by lines, as in a text editor: move up/down, delete a line, cut and paste a
line, and unwrap.

A *line* of code is what a text editor's line commands act on. Here it is the
outermost construct that starts at the first token of the caret's line: a
`let` (its binding only: the code below it stays), a match arm, a pipe step,
or a statement (an expression in a body position). Deleting a `let` line
replaces the `let` by its body, as deleting the line in text does; uses of the
removed name stay and become unbound-variable problems that the checker marks,
as they would in text.

Move up/down (Alt+Up / Alt+Down, as in VS Code) acts on the innermost movable
thing around the caret: a list item, a record field, a match arm, a pipe step,
or a `let` whose line (keyword, name or value) holds the caret, which swaps
with the previous or next `let` of its chain. Like a text editor, a move never
refuses because of a use: moving a binding below a use of it leaves that use
unbound, and the checker marks it. Every move keeps the ids of what moved, so
the caret, live values and marks stay on it; it is one batch of ops (a
`ReplaceNode` for lets, `RemoveElement` + `InsertElement` for the others).

Unwrap (Ctrl+U) keeps the chosen child of the innermost `if`, `match`, flag,
`let`, call or constructor around the caret (or the selection): that construct
is replaced by the child the caret is in. For a match arm the arm's body is
kept; for a flag's new branch this is what committing the flag does.
"""

from __future__ import annotations

import attrs

from editor.model import deleting, edits
from editor.model.edits import Here
from editor.model.refactor import RefactorError, with_fresh_ids
from editor.model.state import EditorState, Outcome, commit, refuse, replace
from editor.projection import Caret, Placed, fn_names
from shared_ast import traverse
from shared_ast.apply import OpError, apply_to_canvas
from shared_ast.ids import new_id
from shared_ast.nodes import (
    ECall,
    EConstructor,
    EFlag,
    EHole,
    EIf,
    ELambda,
    ELet,
    EList,
    EMatch,
    EPipe,
    ERecord,
    Expr,
    MatchArm,
    Node,
    PHole,
)
from shared_ast.ops import InsertElement, Op, RemoveElement
from shared_ast.toplevels import Handler, Test, Toplevel, UserFunction

__all__ = ["copy_line", "cut_line", "delete_line", "line_node", "move_down", "move_up",
           "paste_line", "unwrap"]

#: How messages name the movable things, by the list they sit in.
_WHAT = {"items": "list item", "fields": "record field", "arms": "match case",
         "steps": "pipe step", "let": "let"}
_IN = {"items": "list", "fields": "record", "arms": "match", "steps": "pipe",
       "let": "chain of lets"}


@attrs.frozen
class _Movable:
    #: The list the thing sits in: "items", "fields", "arms", "steps", or "let" for a binding.
    field: str
    node: Node
    #: The node holding the list (for a let: the let above it in the chain, or None).
    parent: Node | None
    index: int


# --------------------------------------------------------------- anchors


def _anchor(h: Here, placed: Placed) -> int:
    """The node a token stands for: a pipe's `|>` stands for the step after it."""
    owner = traverse.find(h.tl, placed.token.node_id)
    if isinstance(owner, EPipe) and placed.token.text.strip() == "|>":
        row = h.proj.by_line[placed.line]
        after = [p for p in row if p.column >= placed.end]
        if after:
            return after[0].token.node_id
    return placed.token.node_id


def _first_token(h: Here, node: Node) -> Placed | None:
    inside = h.proj.tokens_of(traverse.node_ids(node))
    return inside[0] if inside else None


def line_node(h: Here) -> tuple[Node, Node | Toplevel] | None:
    """The outermost node that starts at the first token of the caret's line, and its parent.

    The first token of a pipe step's line is the pipe's `|>`; the step is what the line is.
    """
    row = h.proj.by_line[h.line]
    if not row:
        return None
    first = row[0]
    if first.token.text.strip() == "|>" and len(row) > 1:
        first = next((p for p in row if p.column >= first.end), first)
    path = traverse.path_to(h.tl, first.token.node_id) or []
    found: tuple[Node, Node | Toplevel] | None = None
    for i in range(len(path) - 1, 0, -1):
        node = path[i]
        assert isinstance(node, Node)  # below the toplevel, everything is a node
        if _first_token(h, node) is not first:
            break
        found = (node, path[i - 1])
    return found


def _in_statement_slot(parent: Node | Toplevel, child: Node) -> bool:
    """Whether `child` is a whole line of a body (not part of a larger expression)."""
    match parent:
        case Handler() | UserFunction() | Test():
            return child is parent.body
        case ELet() | ELambda() | MatchArm():
            return child is parent.body
        case EIf():
            return child is parent.then or child is parent.else_
        case EFlag():
            return child is parent.old or child is parent.new
    return False


# ------------------------------------------------------------------ moves


def _movable(tl: Toplevel, node_id: int) -> _Movable | None:
    """The innermost movable thing at or around the node."""
    path = traverse.path_to(tl, node_id) or []
    for i in range(len(path) - 1, 0, -1):
        parent, child = path[i - 1], path[i]
        below = path[i + 1] if i + 1 < len(path) else None
        if isinstance(child, ELet) and (below is None or below is child.rhs):
            above = parent if isinstance(parent, ELet) and parent.body is child else None
            return _Movable("let", child, above, 0)
        for kind, field in ((EList, "items"), (ERecord, "fields"), (EMatch, "arms"),
                            (EPipe, "steps")):
            if isinstance(parent, kind):
                items = traverse.list_field(parent, field)
                index = next((k for k, item in enumerate(items) if item is child), None)
                if index is not None:
                    assert isinstance(parent, Node) and isinstance(child, Node)
                    return _Movable(field, child, parent, index)
    return None


def move_up(state: EditorState) -> Outcome:
    return _move(state, -1)


def move_down(state: EditorState) -> Outcome:
    return _move(state, +1)


def _move(state: EditorState, step: int) -> Outcome:
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    start = state.selection if state.selection is not None else _anchor(h, h.placed)
    found = _movable(h.tl, start)
    if found is None:
        return refuse(state, "Alt+Up/Alt+Down moves a let line, a match case, a list item, a "
                             "record field or a pipe step: put the caret on one.")
    way = "up" if step < 0 else "down"
    mover = _move_let if found.field == "let" else _move_element
    ops = mover(h.tl, found, step)
    if ops is None:
        what, where = _WHAT[found.field], _IN[found.field]
        end = "first" if step < 0 else "last"
        return refuse(state, f"This {what} is already the {end} in its {where}: there is "
                             f"nothing to move it {way} past.")
    caret = state.caret
    if caret is None or caret.node_id not in traverse.node_ids(found.node):
        # On a token of the container (a pipe's `|>`): the caret goes with the moved thing.
        try:
            new_tl = apply_to_canvas(ops, state.canvas)[h.tl.tlid]
        except OpError as e:
            return refuse(state, f"That move was not made: {e}")
        caret = edits.caret_start(new_tl, found.node.id, fn_names(state.canvas.values()))
    out = commit(state, ops, caret)
    if out.refused or state.selection is None:
        return out
    return attrs.evolve(out, state=attrs.evolve(out.state, selection=state.selection))


def _move_let(tl: Toplevel, found: _Movable, step: int) -> list[Op] | None:
    let = found.node
    assert isinstance(let, ELet)
    if step < 0:
        above = found.parent
        if not isinstance(above, ELet):
            return None
        swapped = attrs.evolve(let, body=attrs.evolve(above, body=let.body))
        return [replace(tl, above.id, swapped)]
    below = let.body
    if not isinstance(below, ELet):
        return None
    swapped = attrs.evolve(below, body=attrs.evolve(let, body=below.body))
    return [replace(tl, let.id, swapped)]


def _move_element(tl: Toplevel, found: _Movable, step: int) -> list[Op] | None:
    parent = found.parent
    assert parent is not None
    items = traverse.list_field(parent, found.field)
    to = found.index + step
    if not 0 <= to < len(items):
        return None
    return [RemoveElement(tl.tlid, parent.id, found.field, found.index, found.node),
            InsertElement(tl.tlid, parent.id, found.field, to, found.node)]


# ------------------------------------------------------- delete, cut, copy


def _line_removal(h: Here) -> tuple[list[Op], Caret, Node] | str:
    """What deleting the caret's line does: the ops, the caret after, and what was removed
    (for a let, the binding alone: a let whose body is a hole). Or why it cannot."""
    found = line_node(h)
    if found is None:
        return "This line has nothing to delete."
    node, parent = found
    names = fn_names(h.state.canvas.values())
    if isinstance(node, ELet):
        ops, caret = deleting.binding_removal(h.tl, node, names)
        return ops, caret, attrs.evolve(node, body=EHole(new_id()))
    if isinstance(parent, (EMatch, EPipe)) and not (isinstance(parent, EPipe)
                                                    and node is parent.head):
        field = "arms" if isinstance(parent, EMatch) else "steps"
        items = traverse.list_field(parent, field)
        if isinstance(parent, EMatch) and len(items) == 1:
            return ("A match needs at least one case; delete the whole match instead "
                    "(Shift+Up selects it, Delete removes it).")
        if isinstance(parent, EPipe) and len(items) == 1:
            # The only step: the pipe goes and its head stays, as Backspace does.
            new_tl = traverse.replace(h.tl, parent.id, parent.head)
            assert isinstance(new_tl, Toplevel)
            return ([replace(h.tl, parent.id, parent.head)],
                    edits.caret_end(new_tl, parent.head.id, names), node)
        index = next(k for k, item in enumerate(items) if item is node)
        op = RemoveElement(h.tl.tlid, parent.id, field, index, node)
        rest = items[:index] + items[index + 1:]
        new_parent = traverse.with_list_field(parent, field, rest)
        assert isinstance(new_parent, Node)
        new_tl = traverse.replace(h.tl, parent.id, new_parent)
        assert isinstance(new_tl, Toplevel)
        if rest:
            caret = edits.caret_start(new_tl, rest[min(index, len(rest) - 1)].id, names)
        else:
            caret = edits.caret_end(new_tl, parent.id, names)
        return [op], caret, node
    if isinstance(node, Expr) and _in_statement_slot(parent, node):
        if isinstance(node, EHole):
            return "This line is already empty."
        lines = {p.line for p in h.proj.tokens_of(traverse.node_ids(node))}
        if len(lines) > 1:
            what = deleting.READABLE.get(node.KIND, node.KIND)
            return (f"This line starts {'an' if what[0] in 'aeiou' else 'a'} {what} of "
                    f"{len(lines)} lines: to remove all of it, select it (Shift+Up) and press "
                    "Delete; to keep one part, put the caret there and Unwrap (Ctrl+U).")
        hole = EHole(new_id())
        return [replace(h.tl, node.id, hole)], Caret(h.tl.tlid, hole.id, 0), node
    return (f"This line is part of a larger {getattr(parent, 'KIND', 'construct')}; select "
            "what to remove (Shift+Up) and press Delete, or keep one part with Unwrap (Ctrl+U).")


def delete_line(state: EditorState) -> Outcome:
    """Ctrl+Shift+K: delete the caret's line. A let line loses its binding, not its body."""
    return _remove_line(state, cut=False)


def cut_line(state: EditorState) -> Outcome:
    """Ctrl+X without a selection: delete the caret's line and put it on the clipboard."""
    return _remove_line(state, cut=True)


def _remove_line(state: EditorState, *, cut: bool) -> Outcome:
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    removal = _line_removal(h)
    if isinstance(removal, str):
        return refuse(state, removal)
    ops, caret, removed = removal
    found = line_node(h)
    out = commit(state, ops, caret)
    if out.refused or not cut:
        return out
    return attrs.evolve(out, state=attrs.evolve(out.state, clipboard=removed),
                        message=f"Cut the {_line_name(removed, found and found[1])} line.")


def copy_line(state: EditorState) -> Outcome:
    """Ctrl+C without a selection, on a let, match case or pipe step line: copy that line."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    found = line_node(h)
    node = found[0] if found is not None else None
    parent = found[1] if found is not None else None
    if isinstance(node, ELet):
        line: Node = attrs.evolve(node, body=EHole(new_id()))
    elif isinstance(node, MatchArm) or (isinstance(parent, EPipe) and node is not parent.head):
        assert node is not None
        line = node
    else:
        return refuse(state, "Select something first (Shift+Up selects the node at the "
                             "caret); without a selection, copy takes a let, match case or "
                             "pipe step line.")
    return Outcome(attrs.evolve(state, clipboard=line),
                   message=f"Copied the {_line_name(line, parent)} line.")


def _line_name(node: Node, parent: object) -> str:
    if isinstance(parent, EPipe):
        return "pipe step"
    return {"let": "let", "match_arm": "match case"}.get(node.KIND, "code")


def is_let_line(node: Node | None) -> bool:
    """A let line on the clipboard: a binding whose body is a hole."""
    return isinstance(node, ELet) and isinstance(node.body, EHole)


def paste_line(state: EditorState) -> Outcome | None:
    """Ctrl+V of a line, without a selection: a let line goes above the caret's line of a
    body, a match case above the caret's case, a pipe step above the caret's step (as a
    text editor pastes a cut line above the caret's line). None when the clipboard or the
    caret's line is not such a line: paste then works on the hole at the caret."""
    clip = state.clipboard
    h = edits.here(state)
    if clip is None or isinstance(h, str) or state.selection is not None:
        return None
    found = line_node(h)
    node, parent = found if found is not None else (None, None)
    try:
        fresh = with_fresh_ids(clip)
    except RefactorError as e:
        return refuse(state, str(e))
    if is_let_line(clip) and isinstance(fresh, ELet):
        if not (isinstance(node, ELet) or (isinstance(node, Expr) and parent is not None
                                           and _in_statement_slot(parent, node))):
            if isinstance(h.node, EHole):
                return None  # into the hole, as any paste
            return refuse(state, "A let line goes above a line of a body (a let, or the "
                                 "code a body ends with); this line is part of a larger "
                                 "expression. Put the caret on such a line, or in a hole.")
        assert isinstance(node, Expr)
        return commit(state, [replace(h.tl, node.id, attrs.evolve(fresh, body=node))],
                      state.caret, "Pasted the let line above.")
    if isinstance(clip, MatchArm):
        if not (isinstance(node, MatchArm) and isinstance(parent, EMatch)):
            return refuse(state, "A match case goes above a case of a match: put the caret "
                                 "on a case's line and paste again.")
        index = parent.arms.index(node)
        return commit(state, [InsertElement(h.tl.tlid, parent.id, "arms", index, fresh)],
                      state.caret, "Pasted the match case above.")
    if (isinstance(clip, Expr) and isinstance(parent, EPipe) and node is not parent.head
            and not isinstance(h.node, (EHole, PHole))):
        index = next(k for k, s in enumerate(parent.steps) if s is node)
        return commit(state, [InsertElement(h.tl.tlid, parent.id, "steps", index, fresh)],
                      state.caret, "Pasted the pipe step above.")
    return None


# ------------------------------------------------------------------ unwrap


def _kept_child(parent: object, child: object) -> Expr | None:
    """The child of a construct that unwrapping at `child` keeps, or None."""
    parts: tuple[Expr, ...] = ()
    match parent:
        case ELet():
            parts = (parent.rhs, parent.body)
        case EIf():  # not the condition: unwrapping keeps code, never a test of it
            parts = (parent.then, parent.else_)
        case EFlag():
            parts = (parent.old, parent.new)
        case EMatch():
            parts = (parent.scrutinee,)
            if isinstance(child, MatchArm) and any(child is a for a in parent.arms):
                return child.body
        case ECall() | EConstructor():
            parts = parent.args
    return next((part for part in parts if part is child), None)


def unwrap(state: EditorState) -> Outcome:
    """Ctrl+U: replace the innermost if/match/flag/let/call around the caret by the part of
    it the caret (or the selection) is in."""
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    start = state.selection if state.selection is not None else _anchor(h, h.placed)
    path = traverse.path_to(h.tl, start) or []
    for i in range(len(path) - 2, 0, -1):
        construct, child = path[i], path[i + 1]
        if isinstance(construct, EIf | EFlag) and child is construct.cond:
            what = "if" if isinstance(construct, EIf) else "feature flag"
            return refuse(state, f"The caret is in the {what}'s condition: Unwrap keeps a "
                                 "branch, so put the caret in the branch to keep and press "
                                 "Ctrl+U.")
        kept = _kept_child(construct, child)
        if kept is None:
            continue
        assert isinstance(construct, Expr)
        names = fn_names(state.canvas.values())
        new_tl = traverse.replace(h.tl, construct.id, kept)
        assert isinstance(new_tl, Toplevel)
        caret = state.caret
        if caret is None or start not in traverse.node_ids(kept):
            caret = edits.caret_start(new_tl, kept.id, names)
        what = deleting.READABLE.get(construct.KIND, construct.KIND)
        message = f"Unwrapped the {what}."
        if isinstance(construct, ELet) and kept is construct.rhs:
            message = ("Unwrapped the let: its value is kept and the code below it removed "
                       "(Ctrl+Z brings it back; Ctrl+Shift+K removes only the binding).")
        return commit(state, [replace(h.tl, construct.id, kept)], caret, message)
    return refuse(state, "Unwrap keeps one part of an if, match, feature flag, let or call: "
                         "put the caret in the part to keep (an if's branch, a call's "
                         "argument, a flag's new code) and press Ctrl+U.")
