"""Committing what is being typed: a partial into what its text names, an operator into
an infix placed by precedence, a pipe or a field access.

Typing (`editor.model.typing`) builds partials and right-partials character by
character; this module turns them into the expressions they stand for, when
the programmer picks a completion, presses Enter or Tab, types a character
that cannot extend them, or moves the caret away.
"""


from __future__ import annotations

import re

import attrs

from editor.model import completion, edits
from editor.model.flags import fresh_flag_name
from editor.model.state import EditorState, Outcome, commit, refuse, replace
from editor.projection import fn_names
from shared_ast import traverse
from shared_ast.ids import new_id
from shared_ast.names import identifier_problem
from shared_ast.nodes import (
    ECall,
    EConstructor,
    EField,
    EFlag,
    EFloat,
    EHole,
    EInfix,
    EInt,
    EMatch,
    EPartial,
    EPipe,
    ERightPartial,
    Expr,
    Node,
    PHole,
)
from shared_ast.operators import OPERATORS
from shared_ast.program import Program
from shared_ast.toplevels import Toplevel

INT_TEXT = re.compile(r"-?\d+")
#: Also how floats are shown, so that editing one keeps it a float (`1e+100`).
FLOAT_TEXT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][-+]?\d+)?")
PIPE = "|>"


def _number(text: str) -> EInt | EFloat | None:
    if INT_TEXT.fullmatch(text):
        return EInt(new_id(), int(text))
    if FLOAT_TEXT.fullmatch(text) and not text.endswith("."):
        return EFloat(new_id(), float(text))
    return None


_VERSION_SUFFIX = re.compile(r"_v[0-9]+$")


def commit_partial(state: EditorState, partial_id: int) -> Outcome:
    """Turn a partial into what its text names exactly: a literal, variable, keyword, function."""
    tl = state.toplevel
    if tl is None:
        return refuse(state, "No code is selected.")
    partial = traverse.find(tl, partial_id)
    if not isinstance(partial, EPartial):
        return refuse(state, "There is no partial here to complete.")
    text = partial.text
    built: Expr | None = None
    caret_node: int | None = None
    if INT_TEXT.fullmatch(text):
        built = EInt(new_id(), int(text))
    elif FLOAT_TEXT.fullmatch(text):
        built = EFloat(new_id(), float(text))
    else:
        program = Program.from_toplevels(state.canvas.values())
        offered = completion.completions(program, tl, partial.id, text, limit=500)
        # A function's bare name (`String::length`) names its newest version, as Dark's
        # autocomplete did, though code shows that version's suffix (`String::length_v1`).
        matches = [c for c in offered if c.label == text] or sorted(
            (c for c in offered if c.kind in (completion.LIBRARY_FN, completion.FUNCTION)
             and _VERSION_SUFFIX.sub("", c.label) == text and not c.deprecated),
            key=lambda c: -getattr(c.target, "version", 0))
        if not matches:
            return refuse(state, f"Nothing is called {text!r} here: pick from the list "
                                 "(Up/Down, then Enter) or keep typing.")
        built, caret_node = completion.build(matches[0])
    return finish_with(state, tl, partial, built, caret_node)


def commit_completion(state: EditorState, partial_id: int, chosen: object) -> Outcome:
    """Replace the partial (or hole) `partial_id` by the completion the user picked."""
    tl = state.toplevel
    if tl is None:
        return refuse(state, "No code is selected.")
    target = traverse.find(tl, partial_id)
    if not isinstance(target, (EPartial, EHole)):
        return refuse(state, "The completion no longer applies: the code changed under it.")
    built, caret_node = completion.build(chosen)  # type: ignore[arg-type]
    return finish_with(state, tl, target, built, caret_node)


def finish_with(state: EditorState, tl: Toplevel, old: Node, built: Expr,
                caret_node: int | None) -> Outcome:
    parent = traverse.parent_of(tl, old.id)
    if isinstance(built, EFlag):
        # A typed `flag` is named from where it is (`add-y`), not at random.
        built = attrs.evolve(built, name=fresh_flag_name(state.canvas, tl, built.old))
    if isinstance(built, ECall) and built.on_rail and isinstance(parent, EMatch) and (
            parent.scrutinee.id == old.id):
        # Matched on, an Option or a Result is wanted whole: off the error rail.
        built = attrs.evolve(built, on_rail=False)
    op = replace(tl, old.id, built)
    new_tl = traverse.replace(tl, old.id, built)
    names = fn_names(state.canvas.values())
    assert isinstance(new_tl, Toplevel)
    # On the hole the completion says comes next, else on the first blank of what was built.
    target = traverse.find(new_tl, caret_node) if caret_node is not None else None
    at = caret_node if caret_node is not None and isinstance(target, (EHole, PHole)) else built.id
    return commit(state, [op], edits.caret_in(new_tl, at, names))


def _rotates(outer: str, new: str) -> bool:
    """Whether `new` typed after the right operand of `outer` takes `outer` as its left side."""
    a, b = OPERATORS.get(outer), OPERATORS.get(new)
    if a is None or b is None:
        return False
    if a.precedence != b.precedence:
        return a.precedence > b.precedence
    return not b.right_assoc


def commit_right_partial(state: EditorState, rp_id: int) -> Outcome:
    """Turn a finished operator into an infix (by precedence), a pipe or a field access."""
    tl = state.toplevel
    if tl is None:
        return refuse(state, "No code is selected.")
    rp = traverse.find(tl, rp_id)
    if not isinstance(rp, ERightPartial):
        return refuse(state, "There is no operator being typed here.")
    text, names = rp.text, fn_names(state.canvas.values())
    if text == PIPE:
        return _commit_pipe(state, tl, rp, names)
    if text.startswith("."):
        name = text[1:]
        problem = identifier_problem(name)
        if problem is not None:
            return refuse(state, f"After '.', type the field's name: {problem}")
        field = EField(new_id(), rp.left, name)
        op = replace(tl, rp.id, field)
        new_tl = traverse.replace(tl, rp.id, field)
        assert isinstance(new_tl, Toplevel)
        return commit(state, [op], edits.caret_end(new_tl, field.id, names))
    if text not in OPERATORS:
        return refuse(state, f"{text!r} is not an operator; the operators are "
                             f"{' '.join(OPERATORS)} and |> (pipe). Fix it, or delete it.")
    # Climb over enclosing infixes that bind at least as tightly, from their right side.
    path = traverse.path_to(tl, rp.id) or []
    target: Node = rp
    for parent in reversed(path[:-1]):
        if target.id in state.groups:
            break  # a group typed with `(` keeps its operators inside
        if isinstance(parent, EInfix) and parent.right is target and _rotates(parent.op, text):
            target = parent
            continue
        break
    left = rp.left if target is rp else traverse.replace(target, rp.id, rp.left)
    assert isinstance(left, Expr)
    hole = EHole(new_id())
    built = EInfix(new_id(), text, left, hole)
    return _replace_with_caret(state, tl, target, built, hole.id, names)


def _commit_pipe(state: EditorState, tl: Toplevel, rp: ERightPartial,
                 names: dict[int, str]) -> Outcome:
    """`|>` binds loosest: it pipes everything that ends where it was typed.

    After the last step of a pipe (`a |> f 1 |>`) it adds the pipe's next step
    rather than a pipe nested inside that step's last argument.
    """
    path = traverse.path_to(tl, rp.id) or []
    target: Node = rp
    hole = EHole(new_id())
    built: Expr
    for parent in reversed(path[:-1]):
        if target.id in state.groups:
            break
        if isinstance(parent, EInfix) and parent.right is target:
            target = parent
            continue
        if isinstance(parent, (ECall, EConstructor)) and parent.args and parent.args[-1] is target:
            target = parent
            continue
        if isinstance(parent, EPipe) and parent.steps and parent.steps[-1] is target:
            last = traverse.replace(target, rp.id, rp.left) if target is not rp else rp.left
            assert isinstance(last, Expr)
            built = attrs.evolve(parent, steps=(*parent.steps[:-1], last, hole))
            return _replace_with_caret(state, tl, parent, built, hole.id, names)
        break
    left = rp.left if target is rp else traverse.replace(target, rp.id, rp.left)
    assert isinstance(left, Expr)
    if isinstance(left, EPipe):
        built = attrs.evolve(left, steps=(*left.steps, hole))
    else:
        built = EPipe(new_id(), left, (hole,))
    return _replace_with_caret(state, tl, target, built, hole.id, names)


def _replace_with_caret(state: EditorState, tl: Toplevel, old: Node, built: Node, caret_id: int,
                        names: dict[int, str]) -> Outcome:
    op = replace(tl, old.id, built)
    new_tl = traverse.replace(tl, old.id, built)
    assert isinstance(new_tl, Toplevel)
    return commit(state, [op], edits.caret_in(new_tl, caret_id, names))
