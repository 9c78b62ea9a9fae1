"""Typing: a character at the caret, turned into an edit of the tree.

Typing feels like text where it can. In a hole a digit starts an int, `"` a
string, `[` a list, `{` a record, `\\` a lambda, and a letter a partial (text
being typed, completed from what is in scope). Inside a literal or a name the
character edits it. After a complete expression an operator character starts
a right-partial; when the operator is finished (the next character cannot
extend it) it becomes an infix node, placed in the tree by precedence, so
`1 + 2 * 3` typed left to right gives `1 + (2 * 3)` and `1 * 2 + 3` gives
`(1 * 2) + 3`. A closing character that is already there is stepped over.

Typing the text form of a program gives that program: Space after a name or
an argument commits it and moves to the call's next argument; `(` in a hole
opens a group (`EditorState.groups`) that operators typed inside do not climb
out of, and `)` closes it, leaving the caret after it so that an operator
typed next applies to the whole group; an operator after a call's last
argument applies to the call, since application binds tighter.
"""

from __future__ import annotations

import attrs

from editor.model import edits
from editor.model.committing import (
    FLOAT_TEXT,
    INT_TEXT,
    _number,
    commit_partial,
    commit_right_partial,
)
from editor.model.edits import CLOSING_CHARS, IDENTIFIER_CHARS, OPERATOR_CHARS, Here
from editor.model.refactor_commands import type_over_new_name
from editor.model.state import EditorState, Outcome, commit, refuse, replace, set_name
from editor.projection import Caret, Projection, fn_names
from editor.projection.layout import show_string, string_index
from shared_ast import traverse
from shared_ast.checker import check_toplevel
from shared_ast.ids import new_id
from shared_ast.names import binder_problem, flag_name_problem, identifier_problem
from shared_ast.nodes import (
    EBool,
    ECall,
    EConstructor,
    EField,
    EFlag,
    EFloat,
    EHole,
    EInt,
    ELambda,
    ELet,
    EList,
    ENull,
    EPartial,
    ERecord,
    ERightPartial,
    EString,
    EVariable,
    Expr,
    LambdaParam,
    MatchArm,
    Node,
    PConstructor,
    PHole,
    PInt,
    PString,
    PVariable,
    PWildcard,
    RecordField,
)
from shared_ast.ops import InsertElement, Op
from shared_ast.toplevels import Toplevel
from shared_ast.type_ast import TDict, TRecord, TUnknown, TUser, TVar
from shared_ast.unify import Meta

GROUPING = ("'(' opens a group where an expression starts (in a hole): type (1 + 2) * 3 "
            "as text. After an expression, select it with Shift+Up and type an operator "
            "to group it.")
CLOSING_NOTHING = ("')' closes a group opened with '(' around the caret; there is none open "
                   "here.")



def insert_text(state: EditorState, text: str) -> Outcome:
    """Type `text` one character at a time; the ops of every character, in order."""
    ops: list[Op] = []
    out = Outcome(state)
    for ch in text:
        out = insert_char(out.state, ch)
        ops.extend(out.ops)
        if out.refused:
            return attrs.evolve(out, ops=tuple(ops))
    return attrs.evolve(out, ops=tuple(ops))


def insert_char(state: EditorState, ch: str) -> Outcome:
    out = _insert_char(state, ch)
    if out.refused:
        return out
    new = out.state
    if ch not in ") " and new.closed_group is not None:
        # A closed group is what the key right after `)` (or its spaces) applies to.
        new = attrs.evolve(new, closed_group=None)
    if state.caret is not None:
        # Typing is undone by words (`editor.model.history`), not key by key.
        history = state.history.typed(state.caret.tlid, out.ops, state.caret, new.caret, ch)
        new = attrs.evolve(new, history=history)
    return attrs.evolve(out, state=new)


def _insert_char(state: EditorState, ch: str) -> Outcome:
    h = edits.here(state)
    if isinstance(h, str):
        return refuse(state, h)
    renaming = type_over_new_name(state, ch)
    if renaming is not None:
        return renaming
    if state.selection is not None and state.selection != h.tl.tlid:
        selected = traverse.find(h.tl, state.selection)
        if isinstance(selected, Expr) and (ch in OPERATOR_CHARS or ch == "."):
            # An operator typed over a selection applies to it: this is how code is
            # grouped, since parentheses come from the tree (`1 + 2`, select, `* 3`).
            rp = ERightPartial(new_id(), ch, selected)
            new_tl = traverse.replace(h.tl, selected.id, rp)
            assert isinstance(new_tl, Toplevel)
            caret = edits.caret_on_name(new_tl, rp.id, fn_names(state.canvas.values()))
            return commit(state, [replace(h.tl, selected.id, rp)], caret)
        if ch == " " or (isinstance(selected, Expr) and ch in ")"):
            return Outcome(state)
        from editor.model.deleting import delete_selection

        cleared = delete_selection(state)
        if cleared.refused:
            return cleared
        return _then_type(state, cleared, ch)
    return _type(h, ch)


def _type(h: Here, ch: str) -> Outcome:
    node, token = h.node, h.placed.token
    # A closing character that is already right after the caret is stepped over.
    in_text = isinstance(node, (EString, PString)) and token.role == "string"
    in_partial = isinstance(node, (EPartial, ERightPartial)) and token.role == "partial"
    if ch == ")" and not in_text and not in_partial:
        closed = _close_group(h)
        if closed is not None:
            return closed
    if ch in CLOSING_CHARS and not in_text and not in_partial:
        # (A partial is committed first, below, then the character steps over.)
        stepped = _step_over(h, ch)
        if stepped is not None:
            return stepped
    stepped = _step_within(h, ch)
    if stepped is not None:
        return stepped
    match node:
        case EHole():
            return _start_expr(h, node, ch)
        case PHole():
            return _start_pattern(h, node, ch)
        case EPartial() if token.role == "partial":
            return _type_in_partial(h, node, ch)
        case ERightPartial() if token.role == "partial":
            return _type_in_right_partial(h, node, ch)
        case EString() | PString() if token.role == "string":
            return _type_in_string(h, node, ch)
        case _:
            pass
    if isinstance(node, PConstructor) and ch == " " and h.at_token_end and token.slot == "name" \
            and node.name != "Nothing":
        # `Just ` then a pattern: the constructor takes an argument (`Nothing` takes none).
        return _insert_after_last(h, node, "args", PHole(new_id()))
    if token.editable and token.role != "space" and (
            token.blank or not h.at_token_end or _extends_at_end(node, ch)):
        return _edit_inside(h, ch)
    if isinstance(node, (ELet, LambdaParam, RecordField)) and token.slot == "name":
        # Right after a binder's name, `=`, `:`, `,` or `->` move on as the layout reads.
        return _after_name(h, ch)
    return _type_between(h, ch)


def _type_in_string(h: Here, node: EString | PString, ch: str) -> Outcome:
    text = node.value
    # The caret counts shown characters, and `\n`, `\\`, `\"` show as two.
    i = string_index(text, h.k)
    if ch == '"' and i == len(text):
        # The closing quote is already there: step over it.
        after = Caret(h.tl.tlid, node.id, h.placed.own_offset + len(h.placed.token.text) + 1)
        return Outcome(attrs.evolve(h.state, caret=after))
    new = attrs.evolve(node, value=text[:i] + ch + text[i:])
    shown = len(show_string(text[:i] + ch))
    return _replace_then(h, node, new, Caret(h.tl.tlid, node.id, h.placed.own_offset + shown))


def _then_type(before: EditorState, done: Outcome, ch: str) -> Outcome:
    """`ch` typed after the edit `done` made room for it; a refused `ch` undoes both."""
    follow = insert_char(done.state, ch)
    if follow.refused:
        # One key, one result: a refusal changes nothing, not even the first half.
        return refuse(before, follow.message)
    ops = done.ops + follow.ops
    state = follow.state
    if before.caret is not None and ops:
        # One key, one undo: the two halves are remembered as one batch.
        state = attrs.evolve(state, history=before.history.record(before.caret.tlid, ops))
    return attrs.evolve(follow, state=state, ops=ops, message=follow.message)


def _extends_at_end(node: Node, ch: str) -> bool:
    """Whether `ch` typed right after a literal or name continues it (else it follows it)."""
    if isinstance(node, (EInt, EFloat)):
        return ch.isdigit() or ch == "." or (isinstance(node, EFloat) and ch in "eE")
    return bool(IDENTIFIER_CHARS.fullmatch(ch))


# ------------------------------------------------------------- holes


def _start_expr(h: Here, hole: EHole, ch: str) -> Outcome:
    tlid = h.tl.tlid
    if ch.isdigit():
        return _replace_then(h, hole, EInt(hole.id, int(ch)), Caret(tlid, hole.id, 1))
    if ch == '"':
        return _replace_then(h, hole, EString(hole.id, ""), Caret(tlid, hole.id, 1))
    if ch == "[":
        return _replace_then(h, hole, EList(hole.id, ()), Caret(tlid, hole.id, 1))
    if ch == "{":
        return _replace_then(h, hole, ERecord(hole.id, ()), Caret(tlid, hole.id, 1))
    if ch == "\\":
        param = LambdaParam(new_id(), "")
        new = ELambda(hole.id, (param,), EHole(new_id()))
        return _replace_then(h, hole, new, Caret(tlid, param.id, 0))
    if IDENTIFIER_CHARS.fullmatch(ch) or ch == "-":
        partial = EPartial(new_id(), ch, hole)
        return _replace_then(h, hole, partial, Caret(tlid, partial.id, 1))
    if ch == " ":
        return Outcome(h.state)
    if ch == "(":
        # A group: what is typed until `)` stays together, whatever operators follow.
        opened = attrs.evolve(h.state, groups=(*h.state.groups, hole.id))
        return Outcome(opened, message="( opened a group: ) closes it.")
    if ch == ")":
        return refuse(h.state, CLOSING_NOTHING)
    if ch in OPERATOR_CHARS:
        return refuse(h.state, f"{ch!r} needs an expression on its left: type the left side "
                               "first, then the operator")
    return refuse(h.state, f"{ch!r} cannot start an expression: type a digit, a letter, "
                           '", [, {, or \\ for a lambda')


def _start_pattern(h: Here, hole: PHole, ch: str) -> Outcome:
    tlid = h.tl.tlid
    new: Node
    if ch.isdigit():
        new = PInt(hole.id, int(ch))
    elif ch == '"':
        return _replace_then(h, hole, PString(hole.id, ""), Caret(tlid, hole.id, 1))
    elif ch == "_":
        new = PWildcard(hole.id)
    elif ch.isalpha() and ch.isupper():
        new = PConstructor(hole.id, ch)
    elif ch.isalpha():
        new = PVariable(hole.id, ch)
    elif ch == " ":
        return Outcome(h.state)
    else:
        return refuse(h.state, f"{ch!r} cannot start a pattern: type a digit, a name, "
                               "a Constructor, \" or _")
    return _replace_then(h, hole, new, Caret(tlid, hole.id, 1))


# ---------------------------------------------------------- partials


def _type_in_partial(h: Here, partial: EPartial, ch: str) -> Outcome:
    text, k = partial.text, min(h.k, len(partial.text))
    extends = IDENTIFIER_CHARS.fullmatch(ch) or ch == ":" or (
        ch == "." and not _resolves_as_value(h, text[:k])) or (
        ch == "-" and text[:k] == "")
    if extends:
        new_text = text[:k] + ch + text[k:]
        caret = Caret(h.tl.tlid, partial.id, h.placed.own_offset + k + 1)
        # (`-0` stays text: as the int 0 it would lose the sign `-0.25` still needs.)
        number = _number(new_text) if new_text != "-0" else None
        if number is not None:
            # `1.5` or `-2` is a number as soon as it reads as one, as a digit in a hole is.
            built = attrs.evolve(number, id=partial.id)
            return _replace_then(h, partial, built, caret)
        op = set_name(h.tl, partial, "text", new_text)
        return commit(h.state, [op], caret)
    done = commit_partial(h.state, partial.id)
    if done.refused:
        return done
    # Space too goes on after committing, as in text: after an argument it moves to the
    # call's next argument in the same press (`fold xs 0`, not `fold xs0`).
    return _then_type(h.state, done, ch)


def _resolves_as_value(h: Here, text: str) -> bool:
    """`text` names a variable in scope (so `.` after it is a field access)."""
    from editor.model.scope import variables_in_scope

    return text in variables_in_scope(h.program(), h.tl, h.node.id)


def _type_in_right_partial(h: Here, rp: ERightPartial, ch: str) -> Outcome:
    text = rp.text
    extends = (ch in OPERATOR_CHARS and not text.startswith(".")) or (
        text.startswith(".") and IDENTIFIER_CHARS.fullmatch(ch)) or (
        ch == "." and text in ("+", "-", "*", "<", ">", "<=", ">="))
    if extends:
        k = min(h.k, len(text))
        new_text = text[:k] + ch + text[k:]
        if new_text.startswith(".") and _names_a_field(h, rp.left, new_text[1:]):
            # A finished field name reads `user.name` at once, as a variable commits.
            field = EField(new_id(), rp.left, new_text[1:])
            new_tl = traverse.replace(h.tl, rp.id, field)
            assert isinstance(new_tl, Toplevel)
            caret = Caret(h.tl.tlid, field.id, 0)
            names = fn_names(h.state.canvas.values())
            proj = Projection.of_toplevel(new_tl, names)
            assert proj is not None
            at = next((p for p in proj.own_tokens(field.id) if p.token.slot == "field"), None)
            if at is not None:
                caret = Caret(h.tl.tlid, field.id, at.own_offset + k)
            return _replace_then(h, rp, field, caret)
        op = set_name(h.tl, rp, "text", new_text)
        return commit(h.state, [op], Caret(h.tl.tlid, rp.id, h.placed.own_offset + k + 1))
    done = commit_right_partial(h.state, rp.id)
    if done.refused:
        return done
    return _then_type(h.state, done, ch)  # Space too: `x.a 0` goes on to the next argument


def _names_a_field(h: Here, left: Expr, name: str) -> bool:
    """Whether `.name` typed after `left` is a finished field access: `name` is a field of
    `left`'s record type, or that type is not known (a field of anything may be meant)."""
    if identifier_problem(name) is not None:
        return False
    program = h.program()
    info = check_toplevel(h.tl, program).get(left.id)
    t = info.type if info is not None else None
    if t is None or isinstance(t, (TUnknown, TVar, Meta, TDict)):
        return True
    if isinstance(t, TUser):
        if program.type(t.type_id, t.version) is None:
            return True  # a missing type: the checker says so where it is named
        definition = program.record_fields(t.type_id, t.version)
        return definition is not None and any(f.name == name for f in definition.fields)
    return isinstance(t, TRecord) and t.field(name) is not None


def _replace_then(h: Here, old: Node, new: Node, caret: Caret) -> Outcome:
    return commit(h.state, [replace(h.tl, old.id, new)], caret)


# -------------------------------------------------- inside a token


def _edit_inside(h: Here, ch: str) -> Outcome:
    node, token = h.node, h.placed.token
    text, k = h.token_text, min(h.k, len(h.token_text))
    new_text = text[:k] + ch + text[k:]
    caret = Caret(h.tl.tlid, node.id, h.placed.own_offset + k + 1)
    match node:
        case EInt() | EFloat():
            if INT_TEXT.fullmatch(new_text):
                return _replace_then(h, node, EInt(node.id, int(new_text)), caret)
            if FLOAT_TEXT.fullmatch(new_text) and not new_text.endswith("."):
                return _replace_then(h, node, EFloat(node.id, float(new_text)), caret)
            return _to_partial(h, node, new_text, k + 1)
        case EVariable() | EBool() | ENull() | ECall() | EConstructor():
            if token.role == "space":
                return _type_between(h, ch)
            return _to_partial(h, node, new_text, k + 1)
        case ELet() | LambdaParam() | RecordField() if token.slot == "name":
            if not IDENTIFIER_CHARS.fullmatch(ch):
                return _after_name(h, ch)
            problem = binder_problem(new_text)
            if problem is not None:
                return refuse(h.state, problem)
            return commit(h.state, [set_name(h.tl, node, "name", new_text)], caret)
        case EField() if token.slot == "field":
            if not IDENTIFIER_CHARS.fullmatch(ch):
                return _type_between(h, ch)
            return commit(h.state, [set_name(h.tl, node, "field", new_text)], caret)
        case EFlag() if token.slot == "name":
            if ch == " " and h.at_token_end:
                return Outcome(h.state)
            problem = flag_name_problem(new_text)
            if problem is not None:
                return refuse(h.state, problem)
            return commit(h.state, [set_name(h.tl, node, "name", new_text)], caret)
        case PVariable() | PConstructor():
            if not IDENTIFIER_CHARS.fullmatch(ch):
                return _type_between(h, ch)
            return commit(h.state, [set_name(h.tl, node, "name", new_text)], caret)
        case PInt():
            if ch.isdigit():
                return _replace_then(h, node, PInt(node.id, int(new_text)), caret)
            return _type_between(h, ch)
        case _:
            return _type_between(h, ch)


def _to_partial(h: Here, node: Node, text: str, offset: int) -> Outcome:
    assert isinstance(node, Expr)
    if not text or not all(IDENTIFIER_CHARS.fullmatch(c) or c in ":.-" for c in text):
        return refuse(h.state, f"{text!r} is not something you can type here")
    partial = EPartial(new_id(), text, node)
    return _replace_then(h, node, partial, Caret(h.tl.tlid, partial.id, offset))


def _after_name(h: Here, ch: str) -> Outcome:
    """Punctuation right after a binder's name moves on, as the layout suggests."""
    node = h.node
    names = fn_names(h.state.canvas.values())
    if isinstance(node, ELet) and ch == " " and node.name == "let":
        # `let ` typed on the new line Enter made: the line already reads `let `, so the
        # keyword was typed over it, as text would be (`let x = 1`, Enter, `let y = 2`).
        blank = traverse.replace(h.tl, node.id, attrs.evolve(node, name=""))
        assert isinstance(blank, Toplevel)
        return commit(h.state, [set_name(h.tl, node, "name", "")],
                      edits.caret_on_name(blank, node.id, names))
    if isinstance(node, ELet) and ch == "=":
        return Outcome(attrs.evolve(h.state, caret=edits.caret_in(h.tl, node.rhs.id, names)))
    if isinstance(node, RecordField) and ch == ":":
        return Outcome(attrs.evolve(h.state, caret=edits.caret_in(h.tl, node.value.id, names)))
    if isinstance(node, LambdaParam) and ch == ",":
        return _insert_after(h, node, LambdaParam(new_id(), ""))
    lam = traverse.parent_of(h.tl, node.id)
    if isinstance(node, LambdaParam) and isinstance(lam, ELambda) and ch == "-":
        # Into the arrow, after its `-`: the `>` typed next steps over the rest.
        arrow = next(p for p in h.proj.own_tokens(lam.id) if p.token.text == " -> ")
        return Outcome(attrs.evolve(h.state, caret=Caret(h.tl.tlid, lam.id, arrow.own_offset + 2)))
    if ch == " ":
        return Outcome(h.state)
    return refuse(h.state, f"{ch!r} cannot be part of a name: use letters, digits and _")


def _insert_after_last(h: Here, parent: Node, field: str, new: Node) -> Outcome:
    """Append `new` to a list child of `parent` and put the caret in it."""
    items = traverse.list_field(parent, field)
    op = InsertElement(h.tl.tlid, parent.id, field, len(items), new)
    grown = traverse.with_list_field(parent, field, (*items, new))
    new_tl = traverse.replace(h.tl, parent.id, grown)  # type: ignore[arg-type]
    assert isinstance(new_tl, Toplevel)
    names = fn_names(h.state.canvas.values())
    return commit(h.state, [op], edits.caret_in(new_tl, new.id, names))


def _insert_after(h: Here, element: Node, new: Node) -> Outcome:
    parent = traverse.parent_of(h.tl, element.id)
    assert parent is not None
    parent_id = parent.id if isinstance(parent, Node) else h.tl.tlid
    for field in traverse.LIST_FIELDS.get(type(parent), ()):
        items = traverse.list_field(parent, field)
        for i, item in enumerate(items):
            if item.id == element.id:
                op = InsertElement(h.tl.tlid, parent_id, field, i + 1, new)
                canvas_tl = traverse.with_list_field(parent, field, (*items[:i + 1], new,
                                                                    *items[i + 1:]))
                new_tl = canvas_tl if isinstance(canvas_tl, Toplevel) else traverse.replace(
                    h.tl, parent_id, canvas_tl)
                assert isinstance(new_tl, Toplevel)
                names = fn_names(h.state.canvas.values())
                return commit(h.state, [op], edits.caret_in(new_tl, new.id, names))
    return refuse(h.state, "Nothing to add to here.")


# ------------------------------------------------- between tokens


def _close_group(h: Here) -> Outcome | None:
    """`)`: close the innermost open group around the caret; the caret goes after it."""
    groups = h.state.groups
    for i in range(len(groups) - 1, -1, -1):
        group = traverse.find(h.tl, groups[i])
        if group is None or h.node.id not in traverse.node_ids(group):
            continue
        caret = edits.caret_end(h.tl, group.id, fn_names(h.state.canvas.values()))
        closed = attrs.evolve(h.state, caret=caret, groups=groups[:i], closed_group=group.id)
        return Outcome(closed)
    return None


def unopen_group(state: EditorState) -> Outcome | None:
    """Backspace right after `(` (the group still an empty hole) takes the `(` back."""
    caret = state.caret
    if not state.groups or caret is None or caret.node_id != state.groups[-1]:
        return None
    if not isinstance(state.node(caret.node_id), EHole):
        return None
    return Outcome(attrs.evolve(state, groups=state.groups[:-1]), message="'(' taken back.")


def _closed_group_ending_here(h: Here) -> Expr | None:
    """The group a `)` just closed, when the caret is still right after it."""
    gid = h.state.closed_group
    group = traverse.find(h.tl, gid) if gid is not None else None
    if not isinstance(group, Expr):
        return None
    tokens = [p for p in h.proj.tokens_of(traverse.node_ids(group))
              if p.token.role != "partial_old"]
    last = tokens[-1] if tokens else None
    return group if last is not None and (last.line, last.end) == (h.line, h.column) else None


def _type_between(h: Here, ch: str) -> Outcome:
    separator = _step_over_separator(h, ch)
    if separator is not None:
        return separator
    ended = _closed_group_ending_here(h) or edits.expression_ending_at(h)
    node = h.node
    tlid = h.tl.tlid
    # Inside an empty list or record: start its first element.
    if isinstance(node, EList) and not node.items and h.placed.token.text == "[" and h.at_token_end:
        hole = EHole(new_id())
        started = commit(h.state, [InsertElement(tlid, node.id, "items", 0, hole)],
                         Caret(tlid, hole.id, 0))
        if ch == " ":
            return started
        return _then_type(h.state, started, ch)
    opening = h.placed.token.text == "{" and h.at_token_end
    if isinstance(node, ERecord) and not node.fields and opening:
        if ch == " ":
            return Outcome(h.state)  # `{ a: 1 }` reads with a space after the brace
        if not IDENTIFIER_CHARS.fullmatch(ch) or ch.isdigit():
            return refuse(h.state, "Type a field name to start the record's first field.")
        f = RecordField(new_id(), ch, EHole(new_id()))
        return commit(h.state, [InsertElement(tlid, node.id, "fields", 0, f)],
                      Caret(tlid, f.id, 1))
    if ended is not None:
        if ch in OPERATOR_CHARS:
            ended = _applied(h, ended)
        if ch in OPERATOR_CHARS or ch == ".":
            rp = ERightPartial(new_id(), ch, ended)
            new_tl = traverse.replace(h.tl, ended.id, rp)
            assert isinstance(new_tl, Toplevel)
            # On the operator's text, wherever the layout put it (it may be parenthesised).
            caret = edits.caret_on_name(new_tl, rp.id, fn_names(h.state.canvas.values()))
            return _replace_then(h, ended, rp, caret)
        if ch == ",":
            return _comma_after(h, ended)
        if ch == " ":
            return _to_next_argument(h, ended)
    if ch == " ":
        return Outcome(h.state)
    if ch == "(":
        return refuse(h.state, GROUPING)
    if ch == ")":
        return refuse(h.state, CLOSING_NOTHING)
    return refuse(h.state, f"{ch!r} cannot go here: type into a hole (Tab goes to the next), "
                           "or after an expression type an operator")


def _applied(h: Here, ended: Expr) -> Expr:
    """What an operator typed after `ended` applies to: application binds tighter than any
    operator, so after a call's last argument it is the call (`f a b + 1` is `(f a b) + 1`,
    as the layout shows it), but never beyond a group typed with `(`."""
    while ended.id not in h.state.groups:
        parent = traverse.parent_of(h.tl, ended.id)
        if not isinstance(parent, (ECall, EConstructor)) or not parent.args or (
                parent.args[-1].id != ended.id):
            break
        ended = parent
    return ended


def _to_next_argument(h: Here, ended: Node) -> Outcome:
    """Space after an argument goes on to the call's next empty argument, as in text."""
    if ended.id in h.state.groups:
        return Outcome(h.state)  # inside `(`: what follows belongs to the group
    parent = traverse.parent_of(h.tl, ended.id)
    if isinstance(parent, (ECall, EConstructor)):
        later = [a for a in parent.args[[a.id for a in parent.args].index(ended.id) + 1:]
                 if isinstance(a, EHole)] if ended in parent.args else []
        if later:
            caret = edits.caret_in(h.tl, later[0].id, fn_names(h.state.canvas.values()))
            return Outcome(attrs.evolve(h.state, caret=caret))
    return Outcome(h.state)


def _comma_after(h: Here, ended: Node) -> Outcome:
    """`,` after a list item or a record field's value adds the next one."""
    path = traverse.path_to(h.tl, ended.id) or []
    child: Node = ended
    for parent in reversed(path[:-1]):
        if isinstance(parent, EList):
            return _insert_after(h, child, EHole(new_id()))
        if isinstance(parent, RecordField):
            return _insert_after(h, parent, RecordField(new_id(), "", EHole(new_id())))
        if not isinstance(parent, Node):
            break
        child = parent
    return refuse(h.state, "',' separates list items and record fields; this is neither.")


#: Constructs whose punctuation between their parts (` -> `, ` = `, `: `) is typed over.
_SEPARATED = (MatchArm, ELambda, ELet, RecordField)


def _step_over_separator(h: Here, ch: str) -> Outcome | None:
    """Typing the punctuation a construct already shows steps over it, as in Dark's fluid
    editor: `"ada" -> ` typed after a case's pattern goes over the case's ` -> ` and on
    into its value, spaces included, so a case types as its text."""
    col = h.column
    for p in h.proj.by_line[h.line]:
        token = p.token
        if not p.column <= col < p.end or token.editable or token.role not in ("op", "punct"):
            continue
        if not isinstance(traverse.find(h.tl, token.node_id), _SEPARATED):
            continue
        rest = token.text[col - p.column:]
        if rest.startswith(ch):
            skipped = 1
        elif ch != " " and rest.lstrip().startswith(ch):
            skipped = len(rest) - len(rest.lstrip()) + 1
        else:
            continue
        # Past trailing spaces too, onto what follows, as `_step_within` does.
        column = col + skipped if rest[skipped:].strip() else p.end
        return Outcome(attrs.evolve(h.state, caret=h.proj.caret_at(h.line, column)))
    return None


def _step_within(h: Here, ch: str) -> Outcome | None:
    """Typing the next character of the operator the caret is inside steps over it."""
    token = h.placed.token
    rest = token.text[h.k:].lstrip()
    if token.editable or token.role not in ("op", "punct") or not rest or rest[0] != ch:
        return None
    after = rest[1:]
    column = h.placed.end - len(after) if after.strip() else h.placed.end
    return Outcome(attrs.evolve(h.state, caret=h.proj.caret_at(h.line, column)))


def _step_over(h: Here, ch: str) -> Outcome | None:
    row = h.proj.by_line[h.line]
    col = h.column
    for p in row:
        if p.column <= col < p.end and p.token.text[col - p.column:].lstrip().startswith(ch):
            # Only when what is between the caret and the character is blank.
            before = p.token.text[col - p.column:]
            if before.lstrip() and before.lstrip()[0] == ch and p.token.role in ("punct",):
                end_col = p.column + len(p.token.text) - len(before.lstrip()) + 1
                after = h.proj.caret_at(h.line, end_col)
                return Outcome(attrs.evolve(h.state, caret=after))
        if p.column == col and p.token.role == "punct" and p.token.text.lstrip().startswith(ch):
            end_col = p.column + len(p.token.text) - len(p.token.text.lstrip()) + 1
            return Outcome(attrs.evolve(h.state, caret=h.proj.caret_at(h.line, end_col)))
    return None
