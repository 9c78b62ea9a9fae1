"""Problems and the error rail: what the gutter shows, going to a problem, toggling the rail.

The checker marks nodes (`shared_ast.checker.Mark`). `gutter_of` turns a
toplevel's marks and its calls on the error rail into what the code view draws
beside and under the code: per line, the problems and the rail calls on it
(each gets its own gutter mark), the hover text of every marked or railed
token, and which tokens to underline. A mark on a node that shows no token of
its own (a pipe's implicit argument, the toplevel itself) is shown on its
nearest shown ancestor, so no problem is ever off screen.

`next_problem` / `previous_problem` (F8 / Shift+F8, as in VS Code) move the
caret to the next problem in reading order, across toplevels in the order
they sit on the canvas, wrapping at the end. `toggle_error_rail` puts the call
at the caret on the error rail or takes it off: the call is replaced by itself
with `on_rail` flipped (there is no op for the flag alone), so it is undoable
and locked code refuses it like any other edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from editor.model import checking
from editor.model.canvas_actions import toplevel_label
from editor.model.state import EditorState, Outcome, commit, refuse, replace
from editor.projection import Caret, Placed, Projection, fn_names
from shared_ast import traverse
from shared_ast.checker import TYPE_MISMATCH, Mark, NodeInfo
from shared_ast.nodes import ECall, ELet, EPipe, EPipeTarget, EVariable, LibFnRef, Node
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.toplevels import Toplevel, UserFunction
from shared_ast.type_ast import TOption, TResult, Type, show_type

#: The key that toggles the rail, named in messages.
TOGGLE_KEY = "Ctrl+Shift+R"


@attrs.frozen
class Problem:
    """One checker mark where it shows: `shown_id` owns the tokens it is drawn on."""

    tlid: int
    node_id: int
    shown_id: int
    line: int
    column: int
    message: str


@attrs.frozen
class Gutter:
    """What a code view shows of one toplevel's problems and rail calls."""

    #: Line → the problems' messages on it.
    problems: Mapping[int, tuple[str, ...]] = attrs.field(factory=dict)
    #: Line → a note per call on the error rail that starts on it.
    rails: Mapping[int, tuple[str, ...]] = attrs.field(factory=dict)
    #: Node id → the text shown when the mouse rests on one of its tokens.
    tips: Mapping[int, str] = attrs.field(factory=dict)
    #: Node ids whose tokens get the error underline.
    marked: frozenset[int] = frozenset()
    #: How many problems the toplevel has (its header shows the count).
    count: int = 0


def count_text(count: int) -> str:
    """The header's count: "1 problem", "2 problems"; empty when there are none."""
    if count == 0:
        return ""
    return f"{count} problem" + ("" if count == 1 else "s")


# ------------------------------------------------------------ problems


def problems_in(tl: Toplevel, proj: Projection | None,
                infos: Mapping[int, NodeInfo] | None) -> list[Problem]:
    """The toplevel's problems in reading order (line, then column)."""
    found: list[Problem] = []
    for node_id, info in (infos or {}).items():
        for mark in info.marks:
            shown, line, column = _where(tl, proj, node_id)
            found.append(Problem(tl.tlid, node_id, shown, line, column,
                                 mark.message + _rail_hint(tl, node_id, mark)))
    found.sort(key=lambda p: (p.line, p.column))
    return found


def _rail_hint(tl: Toplevel, node_id: int, mark: Mark) -> str:
    """For an Option or Result wanted where a call on the rail gives its inside: the fix."""
    if mark.kind != TYPE_MISMATCH or not isinstance(mark.expected, (TOption, TResult)):
        return ""
    call = railed_source(tl, node_id)
    if call is None:
        return ""
    name = call_name(call, None) if isinstance(call.fn, LibFnRef) else "the call"
    return (f" ({name} is on the error rail, which unwraps its value: {TOGGLE_KEY} on "
            "the call takes it off)")


def railed_source(tl: Toplevel, node_id: int) -> ECall | None:
    """The call on the error rail whose value this node is: the call itself, the call
    piped into this pipe step, or the call a variable's `let` binds."""
    path = traverse.path_to(tl, node_id) or []
    node = path[-1] if path else None
    source: object = None
    match node:
        case ECall():
            source = node
        case EPipeTarget():
            for parent, child in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
                steps = parent.steps if isinstance(parent, EPipe) else ()
                i = next((i for i, step in enumerate(steps) if step is child), None)
                if i is not None:
                    source = steps[i - 1] if i else parent.head  # type: ignore[union-attr]
                    break
        case EVariable():
            for parent, child in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
                if isinstance(parent, ELet) and parent.name == node.name and \
                        child is parent.body:
                    source = parent.rhs
                    break
    return source if isinstance(source, ECall) and source.on_rail else None


def _where(tl: Toplevel, proj: Projection | None, node_id: int) -> tuple[int, int, int]:
    """The node that shows `node_id` (itself or its nearest shown ancestor) and its place."""
    if proj is None:
        return node_id, 0, 0
    own = proj.own_tokens(node_id)
    if own:
        return node_id, own[0].line, own[0].column
    path = traverse.path_to(tl, node_id) or []
    for parent in reversed(path):
        if isinstance(parent, Node):
            own = proj.own_tokens(parent.id)
            if own:
                return parent.id, own[0].line, own[0].column
    first = proj.placed[0]
    return first.token.node_id, first.line, first.column


def gutter_of(tl: Toplevel, proj: Projection | None, infos: Mapping[int, NodeInfo] | None,
              canvas: Iterable[Toplevel] = ()) -> Gutter:
    """The gutter marks, hover texts and underlines of one toplevel."""
    found = problems_in(tl, proj, infos)
    problems: dict[int, list[str]] = {}
    tips: dict[int, list[str]] = {}
    for p in found:
        problems.setdefault(p.line, []).append(p.message)
        tips.setdefault(p.shown_id, []).append(p.message)
    rails: dict[int, list[str]] = {}
    if proj is not None:
        program: Program | None = None
        for call in rail_calls(tl):
            own = proj.own_tokens(call.id)
            if not own:
                continue
            if program is None and not isinstance(call.fn, LibFnRef):
                program = Program.from_toplevels(canvas)
            note = rail_note(call, program)
            rails.setdefault(own[0].line, []).append(note)
            tips.setdefault(call.id, []).append(note)
    return Gutter({line: tuple(ms) for line, ms in problems.items()},
                  {line: tuple(ns) for line, ns in rails.items()},
                  {node: "\n".join(ms) for node, ms in tips.items()},
                  frozenset(p.shown_id for p in found), len(found))


def rail_calls(tl: Toplevel) -> list[ECall]:
    """The toplevel's calls on the error rail, in tree order.

    Asked on every keystroke; an edit keeps every subtree it did not touch as the
    same object, so each subtree's answer is remembered by identity and only the
    edited path is walked again."""
    try:
        return [c for child in traverse.children(tl) for c in _rails_below(child)]
    except RecursionError:  # nested past Python's stack: walk it without remembering
        return [n for n in traverse.walk(tl) if isinstance(n, ECall) and n.on_rail]


#: id(node) → (node, its subtree's railed calls); the node is kept so the id stays its.
_RAILS: dict[int, tuple[Node, tuple[ECall, ...]]] = {}
_RAILS_KEPT = 50_000


def _rails_below(node: Node) -> tuple[ECall, ...]:
    hit = _RAILS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    found: tuple[ECall, ...] = (node,) if isinstance(node, ECall) and node.on_rail else ()
    for child in traverse.children(node):
        found += _rails_below(child)
    if len(_RAILS) >= _RAILS_KEPT:
        _RAILS.clear()
    _RAILS[id(node)] = (node, found)
    return found


# ----------------------------------------------------------- the rail


def returns(call: ECall, program: Program | None) -> Type | None:
    """What the called function returns as declared (before the rail unwraps it)."""
    if isinstance(call.fn, LibFnRef):
        fn = LIBRARY.get(call.fn.qualified)
        return fn.return_type if fn is not None else None
    user = program.function(call.fn) if program is not None else None
    return user.return_type if isinstance(user, UserFunction) else None


def call_name(call: ECall, program: Program | None) -> str:
    if isinstance(call.fn, LibFnRef):
        return f"{call.fn.module}::{call.fn.name}"
    user = program.function(call.fn) if program is not None else None
    return user.name if isinstance(user, UserFunction) else "this function"


def rail_note(call: ECall, program: Program | None) -> str:
    """What being on the rail means for this call, for hover and the inspector."""
    name = call_name(call, program)
    ret = returns(call, program)
    what = f"{name} returns {show_type(ret)}" if ret is not None else f"{name}'s result"
    match ret:
        case TOption():
            leave = "Just x gives x; Nothing leaves the handler (an HTTP handler answers 404)"
        case TResult():
            leave = ("Ok x gives x; an Error leaves the handler (an HTTP handler answers 404 "
                     "with its message)")
        case _:
            leave = "an Ok or Just gives its value; Error or Nothing leaves the handler"
    return (f"On the error rail: {what}; {leave}. {TOGGLE_KEY} takes it off "
            "to handle the failure yourself.")


def toggle_error_rail(state: EditorState) -> Outcome:
    """Put the call at the caret on the error rail, or take it off."""
    caret = state.caret
    tl = state.toplevel
    if caret is None or tl is None:
        return refuse(state, "Put the caret in a call first: the error rail belongs to a "
                             "function call.")
    path = traverse.path_to(tl, caret.node_id) or []
    call = next((n for n in reversed(path) if isinstance(n, ECall)), None)
    if call is None:
        return refuse(state, "The caret is not in a function call: put it on a call (its "
                             f"name or arguments), then {TOGGLE_KEY}.")
    program = Program.from_toplevels(state.canvas.values())
    name = call_name(call, program)
    ret = returns(call, program)
    if not call.on_rail and not isinstance(ret, (TOption, TResult)):
        shown = show_type(ret) if ret is not None else "nothing known"
        return refuse(state, f"{name} returns {shown}: only a call that returns an Option or "
                             "a Result can go on the error rail.")
    flipped = attrs.evolve(call, on_rail=not call.on_rail)
    if flipped.on_rail:
        message = (f"{name} is on the error rail: its value is what is inside the "
                   f"{'Option' if isinstance(ret, TOption) else 'Result'}, and a failure "
                   f"leaves the handler. {TOGGLE_KEY} takes it off.")
    else:
        message = (f"{name} is off the error rail: it gives the whole "
                   f"{show_type(ret) if ret is not None else 'value'}; handle the failure "
                   "with a match or Result::withDefault / Option::withDefault.")
    return commit(state, [replace(tl, call.id, flipped)], caret, message)


# ------------------------------------------------------ going to problems


def next_problem(state: EditorState) -> Outcome:
    """F8: the caret to the next problem, across toplevels, wrapping at the end."""
    return _go(state, 1)


def previous_problem(state: EditorState) -> Outcome:
    """Shift+F8: the caret to the previous problem."""
    return _go(state, -1)


def _go(state: EditorState, step: int) -> Outcome:
    infos = checking.infos_of(state.canvas)
    names = fn_names(state.canvas.values())
    order = sorted(state.canvas.values(), key=lambda t: (t.pos.y, t.pos.x, t.tlid))
    found: list[tuple[tuple[int, int, int], Problem, Projection]] = []
    for rank, tl in enumerate(order):
        proj = Projection.of_toplevel(tl, names)
        if proj is None:
            continue
        for p in problems_in(tl, proj, infos.get(tl.tlid)):
            found.append(((rank, p.line, p.column), p, proj))
    if not found:
        return Outcome(state, message="No problems: the code checks clean.")
    here = _caret_key(state, order, names)
    if step > 0:
        index = next((i for i, (key, _p, _j) in enumerate(found) if key > here), 0)
    else:
        index = next((i for i in reversed(range(len(found))) if found[i][0] < here),
                     len(found) - 1)
    _key, problem, proj = found[index]
    caret = _caret_on(proj, problem)
    tl = state.canvas[problem.tlid]
    where = "" if state.caret is not None and state.caret.tlid == tl.tlid else \
        f" (in {toplevel_label(tl)})"
    message = f"Problem {index + 1} of {len(found)}{where}: {problem.message}"
    return Outcome(attrs.evolve(state, caret=caret, selection=None), message=message)


def _caret_key(state: EditorState, order: list[Toplevel],
               names: dict[int, str]) -> tuple[int, int, int]:
    caret = state.caret
    if caret is None or caret.tlid not in state.canvas:
        return (-1, 0, 0)
    tl = state.canvas[caret.tlid]
    proj = Projection.of_toplevel(tl, names)
    at = proj.position(caret) if proj is not None else None
    line, column = at if at is not None else (0, 0)
    return (order.index(tl), line, column)


def _caret_on(proj: Projection, problem: Problem) -> Caret:
    own: list[Placed] = proj.own_tokens(problem.shown_id)
    first = own[0] if own else proj.placed[0]
    return Caret(problem.tlid, first.token.node_id, first.own_offset)
