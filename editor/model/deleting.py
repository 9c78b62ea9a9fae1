"""Deleting: backspace and delete at the caret, and deleting a selected subtree.

Backspace in a literal or a name edits it, one character at a time; emptied,
a literal becomes a hole and a name becomes blank. Backspace on the keyword or
bracket of a construct whose parts are all empty removes the construct (an
empty `let` gives back its body). Backspace on an operator whose right side is
still a hole takes the operator back. Deleting a selected subtree leaves a
hole where it was, except a selected `let`: deleting it removes the binding
alone and keeps the code below it, as deleting a line in a text editor does
(uses of the name stay, and the checker marks them unbound). Anything else
says what to do instead.
"""

from __future__ import annotations

import attrs

from editor.model import edits
from editor.model.committing import FLOAT_TEXT, INT_TEXT
from editor.model.edits import Here
from editor.model.refactor_commands import backspace_in_new_name
from editor.model.state import EditorState, Outcome, commit, refuse, replace, set_name
from editor.projection import Caret, fn_names
from editor.projection.layout import show_string, string_index
from shared_ast import traverse
from shared_ast.ids import new_id
from shared_ast.nodes import (
    EBool,
    ECall,
    EConstructor,
    EField,
    EFlag,
    EFloat,
    EHole,
    EIf,
    EInfix,
    EInt,
    ELambda,
    ELet,
    EList,
    EMatch,
    ENull,
    EPartial,
    EPipe,
    ERecord,
    ERightPartial,
    EString,
    EVariable,
    Expr,
    LambdaParam,
    MatchArm,
    Node,
    Pattern,
    PConstructor,
    PHole,
    PInt,
    PString,
    PVariable,
    RecordField,
)
from shared_ast.ops import Op, RemoveElement
from shared_ast.toplevels import Toplevel


def backspace(state: EditorState) -> Outcome:
    renaming = backspace_in_new_name(state)
    if renaming is not None:
        return renaming
    if state.selection is not None:
        return delete_selection(state)
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    col = h.column
    if col <= h.proj.line_start(h.line):
        if h.line == 0:
            return Outcome(state)
        prev = h.proj.caret_at(h.line - 1, h.proj.line_end(h.line - 1))
        return Outcome(attrs.evolve(state, caret=prev))
    if h.placed.token.blank and h.k == 0 and _separated_element(h):
        # Right after the `, ` that added an empty item: take the item back.
        return _erase_blank(h)
    # The token holding the character before the caret.
    row = h.proj.by_line[h.line]
    before = [p for p in row if p.column < col <= p.end]
    p = before[-1] if before else h.placed
    for q in before:
        if q.token.editable and not q.token.blank and q.token.role != "space":
            p = q
    node = traverse.find(h.tl, p.token.node_id)
    assert node is not None
    at = Here(state, h.tl, h.proj, p, col - p.column, node)
    return _erase_before(at)


def delete_forward(state: EditorState) -> Outcome:
    """Delete: the character after the caret, as backspace would from one step right."""
    if state.selection is not None:
        return delete_selection(state)
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    token = h.placed.token
    if token.editable and not token.blank and h.k < len(token.text):
        assert state.caret is not None  # `here` found where it is
        moved = attrs.evolve(state, caret=attrs.evolve(state.caret, offset=state.caret.offset + 1))
        return backspace(moved)
    if token.blank:
        return _erase_blank(h)
    return refuse(state, "Nothing to delete after the caret; to remove a construct, select it "
                         "(Shift+Up) and press Delete.")


def _erase_before(h: Here) -> Outcome:
    node, token = h.node, h.placed.token
    names = fn_names(h.state.canvas.values())
    if token.blank:
        return _erase_blank(h)
    if isinstance(node, (EString, PString)) and token.role == "string" and h.k > 0:
        # Offsets count shown characters; an escape (`\n`) is one character of the string.
        i = string_index(node.value, h.k)
        value = node.value[:i - 1] + node.value[i:]
        shown = len(show_string(node.value[:i - 1]))
        return commit(h.state, [replace(h.tl, node.id, attrs.evolve(node, value=value))],
                      Caret(h.tl.tlid, node.id, h.placed.own_offset + shown))
    if token.editable and token.role != "space" and h.k > 0:
        text = token.text
        k = min(h.k, len(text))
        new_text = text[:k - 1] + text[k:]
        caret = Caret(h.tl.tlid, node.id, h.placed.own_offset + k - 1)
        return _edit_text(h, node, token.slot, new_text, caret, names)
    return _erase_structure(h)


def _edit_text(h: Here, node: Node, slot: str, new_text: str, caret: Caret,
               names: dict[int, str]) -> Outcome:
    tl = h.tl
    match node:
        case EInt() | EFloat():
            if not new_text or new_text == "-":
                return _to_hole(h, node)
            if INT_TEXT.fullmatch(new_text):
                return commit(h.state, [replace(tl, node.id, EInt(node.id, int(new_text)))], caret)
            if FLOAT_TEXT.fullmatch(new_text) and not new_text.endswith("."):
                return commit(h.state, [replace(tl, node.id, EFloat(node.id, float(new_text)))],
                              caret)
            return _partial(h, node, new_text, caret)
        case PInt():
            if not new_text or new_text == "-":
                return commit(h.state, [replace(tl, node.id, PHole(node.id))],
                              Caret(tl.tlid, node.id, 0))
            return commit(h.state, [replace(tl, node.id, PInt(node.id, int(new_text)))], caret)
        case EVariable() | EBool() | ENull() | ECall() | EConstructor():
            if not new_text:
                return _to_hole(h, node)
            return _partial(h, node, new_text, caret)
        case EPartial():
            if not new_text:
                # Emptied, it is a hole: bringing the old expression back would make
                # backspace go round in circles on it.
                return _to_hole(h, node)
            return commit(h.state, [set_name(tl, node, "text", new_text)], caret)
        case ERightPartial():
            if not new_text:
                return _unwrap(h, node, node.left, at_end=True)
            return commit(h.state, [set_name(tl, node, "text", new_text)], caret)
        case ELet() | LambdaParam() | RecordField():
            return commit(h.state, [set_name(tl, node, "name", new_text)], caret)
        case EField():
            if not new_text:
                return _unwrap(h, node, node.record, at_end=True)
            return commit(h.state, [set_name(tl, node, "field", new_text)], caret)
        case EFlag():
            if not new_text:
                return refuse(h.state, "A flag needs a name; commit or discard the flag to "
                                       "remove it.")
            return commit(h.state, [set_name(tl, node, "name", new_text)], caret)
        case PVariable():
            if not new_text:
                return commit(h.state, [replace(tl, node.id, PHole(node.id))],
                              Caret(tl.tlid, node.id, 0))
            return commit(h.state, [set_name(tl, node, "name", new_text)], caret)
        case PConstructor():
            if not new_text:
                if node.args:
                    return refuse(h.state, "Delete the constructor's arguments first.")
                return commit(h.state, [replace(tl, node.id, PHole(node.id))],
                              Caret(tl.tlid, node.id, 0))
            from shared_ast.names import upper_name_problem

            if upper_name_problem(new_text) is not None:
                return refuse(h.state, upper_name_problem(new_text) or "")
            return commit(h.state, [set_name(tl, node, "name", new_text)], caret)
    return _erase_structure(h)


def _partial(h: Here, node: Node, text: str, caret: Caret) -> Outcome:
    assert isinstance(node, Expr)
    partial = EPartial(new_id(), text, node)
    return commit(h.state, [replace(h.tl, node.id, partial)],
                  Caret(h.tl.tlid, partial.id, caret.offset - h.placed.own_offset))


def _to_hole(h: Here, node: Node) -> Outcome:
    hole: Node = PHole(node.id) if isinstance(node, Pattern) else EHole(node.id)
    return commit(h.state, [replace(h.tl, node.id, hole)], Caret(h.tl.tlid, node.id, 0))


def _unwrap(h: Here, node: Node, keep: Node, *, at_end: bool = False,
            at_start: bool = False) -> Outcome:
    """Replace `node` by its child `keep`."""
    names = fn_names(h.state.canvas.values())
    new_tl = traverse.replace(h.tl, node.id, keep)
    assert isinstance(new_tl, Toplevel)
    if at_start:
        caret = edits.caret_start(new_tl, keep.id, names)
    elif at_end or not isinstance(keep, EHole):
        caret = edits.caret_end(new_tl, keep.id, names)
    else:
        caret = edits.caret_in(new_tl, keep.id, names)
    return commit(h.state, [replace(h.tl, node.id, keep)], caret)


def _separated_element(h: Here) -> bool:
    """A blank list item, pipe step, record field or lambda parameter (not the only one)."""
    node = h.node
    parent = traverse.parent_of(h.tl, node.id)
    if isinstance(node, EHole):
        return isinstance(parent, EList) or (
            isinstance(parent, EPipe) and any(s.id == node.id for s in parent.steps))
    if isinstance(node, RecordField):
        return isinstance(node.value, EHole) and isinstance(parent, ERecord)
    return isinstance(node, LambdaParam) and isinstance(parent, ELambda) and len(
        parent.params) > 1


def _erase_blank(h: Here) -> Outcome:
    """Backspace on a hole or a blank name: take back what made it, else step left."""
    node = h.node
    parent = traverse.parent_of(h.tl, node.id)
    if isinstance(parent, EInfix) and parent.right is node and isinstance(node, EHole):
        return _unwrap(h, parent, parent.left, at_end=True)
    if isinstance(parent, EList) and isinstance(node, EHole):
        return _remove_element(h, parent, "items", node)
    if isinstance(parent, EPipe) and node in parent.steps and isinstance(node, EHole):
        if len(parent.steps) == 1:
            return _unwrap(h, parent, parent.head, at_end=True)
        return _remove_element(h, parent, "steps", node)
    if isinstance(node, RecordField) and isinstance(node.value, EHole) and isinstance(
            parent, ERecord):
        return _remove_element(h, parent, "fields", node)
    if isinstance(node, LambdaParam) and isinstance(parent, ELambda) and len(parent.params) > 1:
        return _remove_element(h, parent, "params", node)
    if isinstance(node, (ELet, LambdaParam)):
        return _erase_structure(attrs.evolve(h, node=node))
    if isinstance(parent, ELet) and node is parent.rhs:
        owner = node if not isinstance(node, EHole) else parent
        return _erase_structure(attrs.evolve(h, node=owner))
    if isinstance(parent, ELambda):
        return _erase_structure(attrs.evolve(h, node=parent))
    # Otherwise step left, like a text editor at the start of a word.
    from editor.model.motion import move

    return move(h.state, "left")


def _remove_element(h: Here, parent: Node, field: str, element: Node) -> Outcome:
    items = traverse.list_field(parent, field)
    index = next(i for i, item in enumerate(items) if item.id == element.id)
    op = RemoveElement(h.tl.tlid, parent.id, field, index, element)
    new_parent = traverse.with_list_field(parent, field, items[:index] + items[index + 1:])
    new_tl = traverse.replace(h.tl, parent.id, new_parent)  # type: ignore[arg-type]
    assert isinstance(new_tl, Toplevel)
    names = fn_names(h.state.canvas.values())
    if index > 0:
        caret = edits.caret_end(new_tl, items[index - 1].id, names)
    else:
        caret = Caret(h.tl.tlid, parent.id, 1)
    return commit(h.state, [op], caret)


def _empty(e: Node) -> bool:
    return isinstance(e, (EHole, PHole))


def _erase_structure(h: Here) -> Outcome:
    """Backspace on a keyword or bracket: remove the construct if nothing is in it."""
    node = h.node
    match node:
        case ELet() if node.name == "" and _empty(node.rhs):
            # The caret goes to the start of what was below, as joining lines does in text.
            return _unwrap(h, node, node.body, at_start=True)
        case EIf() if _empty(node.cond) and _empty(node.then) and _empty(node.else_):
            return _to_hole(h, node)
        case EMatch() if _empty(node.scrutinee) and all(
                _empty(a.pattern) and _empty(a.body) for a in node.arms):
            return _to_hole(h, node)
        case EList() if not node.items:
            return _to_hole(h, node)
        case ERecord() if not node.fields:
            return _to_hole(h, node)
        case EString() if not node.value:
            return _to_hole(h, node)
        case ELambda() if all(p.name == "" for p in node.params) and _empty(node.body):
            return _to_hole(h, node)
        case EPipe() if all(_empty(s) for s in node.steps):
            return _unwrap(h, node, node.head, at_end=True)
        case EInfix() if _empty(node.right):
            return _unwrap(h, node, node.left, at_end=True)
        case EFlag() if _empty(node.cond) and _empty(node.new):
            return _unwrap(h, node, node.old)
        case ECall() | EConstructor() if all(_empty(a) for a in node.args):
            return _to_hole(h, node)
        case EField():
            return _unwrap(h, node, node.record, at_end=True)
        case _:
            pass
    from editor.model.motion import move

    moved = move(h.state, "left")
    if h.placed.token.role not in ("keyword", "flag") and not isinstance(node, EInfix):
        # Punctuation (` = `, a quote, `->`): the caret steps over it, as in text.
        return moved
    what = READABLE.get(node.KIND, "construct")
    if isinstance(node, ELet):
        return attrs.evolve(moved, message="This let still has code in it: Ctrl+Shift+K (or "
                                           "Shift+Up to select it, then Delete) removes its "
                                           "line, and the code below it stays.")
    return attrs.evolve(moved, message=f"This {what} still has code in it: select it "
                                       "(Shift+Up) and press Delete to remove it with its "
                                       "contents.")


#: How messages name a construct (the wire names are for programs, not people).
READABLE = {"infix": "infix", "let": "let", "if": "if", "match": "match", "flag": "feature flag",
             "lambda": "function", "pipe": "pipe", "pipe_target": "piped value"}


def delete_selection(state: EditorState) -> Outcome:
    """Replace the selected subtree by a hole (or remove it from its list)."""
    tl = state.toplevel
    if tl is None or state.selection is None:
        return refuse(state, "Nothing is selected.")
    node = traverse.find(tl, state.selection)
    if node is None:
        return refuse(attrs.evolve(state, selection=None), "The selection is gone.")
    names = fn_names(state.canvas.values())
    if isinstance(node, ELet):
        ops, caret = binding_removal(tl, node, names)
        return commit(state, ops, caret)
    parent = traverse.parent_of(tl, node.id)
    hole: Node
    if isinstance(node, Expr):
        hole = EHole(new_id())
    elif isinstance(node, Pattern):
        hole = PHole(new_id())
    elif isinstance(node, (RecordField, MatchArm, LambdaParam)) and isinstance(parent, Node):
        field = {RecordField: "fields", MatchArm: "arms", LambdaParam: "params"}[type(node)]
        items = traverse.list_field(parent, field)
        if len(items) == 1 and not isinstance(node, RecordField):
            return refuse(state, f"A {parent.KIND} needs at least one; delete the whole "
                                 f"{parent.KIND} instead (Shift+Up selects it).")
        index = next(i for i, item in enumerate(items) if item.id == node.id)
        op: Op = RemoveElement(tl.tlid, parent.id, field, index, node)
        new_parent = traverse.with_list_field(parent, field, items[:index] + items[index + 1:])
        assert isinstance(new_parent, Node)  # a node's list changed gives a node
        new_tl = traverse.replace(tl, parent.id, new_parent)
        assert isinstance(new_tl, Toplevel)
        return commit(state, [op], edits.caret_start(new_tl, parent.id, names))
    else:
        return refuse(state, "This cannot be deleted on its own.")
    op = replace(tl, node.id, hole)
    return commit(state, [op], Caret(tl.tlid, hole.id, 0))


def binding_removal(tl: Toplevel, let: ELet, names: dict[int, str]) -> tuple[list[Op], Caret]:
    """Remove a let's binding and keep its body (the code below it), as deleting its line
    in text does; the caret goes to the start of what was below."""
    new_tl = traverse.replace(tl, let.id, let.body)
    assert isinstance(new_tl, Toplevel)
    return [replace(tl, let.id, let.body)], edits.caret_start(new_tl, let.body.id, names)
