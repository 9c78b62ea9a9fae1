"""Command-palette refactorings: wrap an expression, extract it, insert a let, rename a variable.

Each command is a pure function of the canvas (tlid → toplevel) and a target
node. It returns an `Edit`: the ops to send, which
`shared_ast.apply.apply_to_canvas` accepts in order, and where the caret goes
next (the first hole to fill, or the new name to type over). There is no Qt
and no caret state here, so the palette, the keymap and the tests call the same
functions. A command that cannot do what was asked raises `RefactorError`,
whose message says what is wrong and what to do instead.

How the edits are made:

- A structural rewrite is one `ReplaceNode`: the runtime applies it
  atomically, and undo is its inverse. A node that moves (the wrapped
  expression, the extracted one inside its new `let`) keeps its id, so its live
  value, its marks and the caret stay with it; every new node gets a fresh id,
  and a copy (the body of an extracted function) is re-id'd deeply.
- Extract variable and insert let above put the new `let` around the nearest
  *statement* above the target: the expression in a toplevel's body, or in
  the body of a let, a lambda or a match arm, a branch of an if or a flag, or
  the right side of `&&`/`||`. Those are exactly the places where variables
  come into scope or where code runs only sometimes, so between the new `let`
  and the target nothing is bound and nothing is skipped: an extracted
  expression sees the same variables and runs whenever it ran before. Only the
  order of evaluation changes, which a program can see only when two of its
  parts leave on the error rail (it still leaves; another part may leave first).
- A new or changed name follows `shared_ast.names`, is not an editor keyword,
  and never changes what an existing variable refers to: a name that would
  capture or shadow a use is refused, with the use named.

Feature-flag commands (wrap in a flag, commit, discard) are in `editor.model.flags`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, TypeVar, cast

import attrs

from shared_ast import traverse
from shared_ast.apply import OpError, apply
from shared_ast.checker import check_toplevel
from shared_ast.ids import new_id
from shared_ast.names import article, identifier_problem
from shared_ast.nodes import (
    ECall,
    EConstructor,
    EField,
    EFlag,
    EHole,
    EIf,
    EInfix,
    ELambda,
    ELet,
    EMatch,
    EPipe,
    EPipeTarget,
    EVariable,
    Expr,
    LambdaParam,
    LibFnRef,
    MatchArm,
    Node,
    NodeId,
    Param,
    Pattern,
    PHole,
    PVariable,
    RecordField,
    UserFnRef,
)
from shared_ast.ops import CreateToplevel, Op, ReplaceNode, SetName
from shared_ast.patterns import pattern_variables
from shared_ast.program import Program
from shared_ast.toplevels import Handler, HttpSpec, Pos, Test, Toplevel, UserFunction
from shared_ast.type_ast import UNKNOWN, Type
from shared_ast.unify import has_type_vars

__all__ = [
    "DATASTORE", "HANDLER_VALUE", "KEYWORDS", "UNBOUND", "Binder", "Edit", "RefactorError",
    "Target", "expression_at", "extract_function", "extract_variable", "insert_let_above",
    "locate", "rename_variable", "resolve_variables", "suggest_name", "with_fresh_ids",
    "wrap_in_if",
    "wrap_in_let", "wrap_in_match",
]

Canvas = Mapping[int, Toplevel]
N = TypeVar("N", bound=Node | Toplevel)

#: Words the editor reads as syntax when they are typed into a hole; a variable
#: or function named like one would read as that syntax, so the commands refuse them.
KEYWORDS = frozenset({"let", "if", "then", "else", "match", "with", "flag", "true", "false",
                      "null"})

#: Where a new function goes: this far right of the code it was extracted from.
_BESIDE = Pos(400, 0)
_STACKED = 40


@attrs.frozen
class Edit:
    """What a command does: the ops to send, in order, and where the caret goes next.

    `caret` is (tlid, node id): the first hole to fill or the name to type over
    (a function's name is addressed by its tlid); None leaves the caret alone.
    """

    ops: tuple[Op, ...]
    caret: tuple[int, int] | None = None
    #: The caret goes to the start of the name of `caret`'s node (a new let), which is
    #: selected, so that what is typed next replaces it (`editor.model.refactor_commands`).
    select_name: bool = False


class RefactorError(Exception):
    """A command cannot run on this target; the message says why and what to do instead."""


# ------------------------------------------------------------------ targets


#: The toplevels with code a command can run on.
CodeToplevel = Handler | UserFunction | Test


@attrs.frozen
class Target:
    """A node a command runs on: its toplevel and the path from the toplevel down to it."""

    toplevel: CodeToplevel
    path: tuple[traverse.Parent, ...]

    @property
    def tlid(self) -> int:
        return self.toplevel.tlid

    @property
    def node(self) -> traverse.Parent:
        return self.path[-1]


def locate(canvas: Canvas, tlid: int, node_id: NodeId, command: str) -> Target:
    """The node `node_id` of code toplevel `tlid`, or a `RefactorError` naming `command`."""
    tl = canvas.get(tlid)
    if tl is None:
        raise RefactorError(f"{command}: there is no toplevel {tlid} on this canvas; it may have "
                            "been deleted. Click on the code again and retry")
    if not isinstance(tl, CodeToplevel):
        raise RefactorError(f"{command} works on code, in a handler, a function or a test; "
                            f"toplevel {tlid} is {article(tl.KIND)}")
    path = traverse.path_to(tl, node_id)
    if path is None:
        raise RefactorError(f"{command}: node {node_id} is not in toplevel {tlid}; it may have "
                            "been deleted or replaced. Put the caret on the code again and retry")
    return Target(tl, tuple(path))


def expression_at(canvas: Canvas, tlid: int, node_id: NodeId, command: str
                  ) -> tuple[Target, Expr]:
    """`locate`, for a command that needs an expression there."""
    target = locate(canvas, tlid, node_id, command)
    node = target.node
    if not isinstance(node, Expr):
        raise RefactorError(f"{command} needs an expression, but {_what_is(node)}; "
                            "put the caret on an expression and try again")
    return target, node


_ELEMENT_PHRASES: dict[type[Node], str] = {
    LambdaParam: "a lambda parameter", Param: "a function parameter", MatchArm: "a match arm",
    RecordField: "the name of a record field (its value is an expression)",
}


def _what_is(node: traverse.Parent) -> str:
    if isinstance(node, Toplevel):
        return f"node {node.tlid} is the whole {node.KIND}"
    if isinstance(node, Pattern):
        return f"node {node.id} is a pattern, the left side of a match arm"
    return f"node {node.id} is {_ELEMENT_PHRASES.get(type(node), article(node.KIND))}"


def _nothing_to_extract(command: str, e: Expr) -> None:
    if isinstance(e, EHole):
        raise RefactorError(f"{command}: node {e.id} is an empty hole, so there is nothing to "
                            "extract; write the expression first")


def with_fresh_ids(node: N) -> N:
    """A deep copy of `node` in which every node has a new id, as a copy must: of a
    toplevel, every node in it (its tlid stays; the caller gives the copy its own)."""
    try:
        return cast(N, _renewed(node))
    except RecursionError:
        where = f"node {node.id}" if isinstance(node, Node) else f"toplevel {node.tlid}"
        raise RefactorError(f"the code at {where} is nested too deeply to copy; "
                            "extract a smaller part of it") from None


def _renewed(obj: Any) -> Any:
    if isinstance(obj, tuple):
        return tuple(_renewed(item) for item in obj)
    if not attrs.has(type(obj)):
        return obj  # names, literals: shared, they have no ids
    # Nodes, and what holds nodes without being one (a toplevel, a type's definition).
    changes = {f.name: _renewed(getattr(obj, f.name)) for f in attrs.fields(type(obj))
               if f.name not in ("id", "tlid")}
    if isinstance(obj, Node):
        return attrs.evolve(obj, id=new_id(), **changes)
    return attrs.evolve(obj, **changes)


def _replacing(target: Target, old: Expr, new: Expr, caret: NodeId) -> Edit:
    return Edit((ReplaceNode(target.tlid, old.id, old, new),), (target.tlid, caret))


# -------------------------------------------------------------------- wraps


def wrap_in_let(canvas: Canvas, tlid: int, node_id: NodeId) -> Edit:
    """`e` → `let _ = e` with an empty body below it to write the code that follows.

    As in Dark, the name is blank and the caret is on it, ready to type. Until
    the body is written the let is incomplete (its value is the body hole's);
    extract variable is the command that names `e` and keeps the value.
    """
    target, e = expression_at(canvas, tlid, node_id, "Wrap in let")
    let = ELet(new_id(), "", e, EHole(new_id()))
    return _replacing(target, e, let, caret=let.id)


def wrap_in_if(canvas: Canvas, tlid: int, node_id: NodeId) -> Edit:
    """`e` → `if _ then e else _`; the caret goes to the condition."""
    target, e = expression_at(canvas, tlid, node_id, "Wrap in if")
    wrapped = EIf(new_id(), EHole(new_id()), e, EHole(new_id()))
    return _replacing(target, e, wrapped, caret=wrapped.cond.id)


def wrap_in_match(canvas: Canvas, tlid: int, node_id: NodeId) -> Edit:
    """`e` → `match e with _ -> _`; the caret goes to the first arm's pattern."""
    target, e = expression_at(canvas, tlid, node_id, "Wrap in match")
    arm = MatchArm(new_id(), PHole(new_id()), EHole(new_id()))
    return _replacing(target, e, EMatch(new_id(), e, (arm,)), caret=arm.pattern.id)


# --------------------------------------------------------------- statements


def _in_statement_slot(parent: traverse.Parent, child: traverse.Parent, *,
                       pipe_steps: bool) -> bool:
    """Whether `child` may get a let around it without moving it past a binder or a branch."""
    match parent:
        case Handler() | UserFunction() | Test():
            return child is parent.body
        case ELet(body=body) | ELambda(body=body) | MatchArm(body=body):
            return child is body
        case EIf():
            return child is parent.then or child is parent.else_
        case EFlag():
            return child is parent.old or child is parent.new
        case EInfix(op="&&" | "||"):
            return child is parent.right  # runs only when the left side does not decide
        case EPipe():
            return pipe_steps and child is not parent.head
    return False


def _statement_of(path: tuple[traverse.Parent, ...], *, pipe_steps: bool = False) -> Expr:
    """The nearest expression at or above the end of `path` that sits in a statement slot.

    With `pipe_steps`, a pipe's step counts as one too: code that uses the
    piped value must stay inside the step that receives it.
    """
    for depth in range(len(path) - 1, 0, -1):
        if _in_statement_slot(path[depth - 1], path[depth], pipe_steps=pipe_steps):
            return cast(Expr, path[depth])
    raise AssertionError("a path from a handler or function always passes through its body")


def _uses_piped_value(e: Expr) -> EPipeTarget | None:
    """A `_` in `e` that stands for the value piped into a step around `e`, if there is one."""
    stack: list[tuple[Node, bool]] = [(e, False)]
    while stack:
        node, in_own_step = stack.pop()
        match node:
            case EPipeTarget() if not in_own_step:
                return node
            case EPipe():
                stack.append((node.head, in_own_step))
                stack.extend((step, True) for step in node.steps)
            case _:
                stack.extend((child, in_own_step) for child in traverse.children(node))
    return None


# ---------------------------------------------------------------- variables

#: What binds a variable: the id of the binding node (a let, a lambda, function
#: or pattern parameter), or one of these when no node of the toplevel does.
Binder = NodeId | str
HANDLER_VALUE = "handler"  # `request`, a route parameter, `event`
DATASTORE = "datastore"
UNBOUND = "unbound"


def resolve_variables(tl: CodeToplevel, program: Program) -> dict[NodeId, Binder]:
    """What each variable node of `tl` refers to, by the scoping rules of the checker:
    a let binds in its body only, a lambda and a match arm in their bodies, and
    of two binders of one name the later (inner) one wins."""
    outer: dict[str, Binder] = dict.fromkeys(program.datastore_variables(), DATASTORE)
    if isinstance(tl, Handler):
        outer.update(dict.fromkeys(tl.bound_names(), HANDLER_VALUE))
    elif isinstance(tl, UserFunction):
        outer = _binding(outer, [(p.name, p.id) for p in tl.params])
    found: dict[NodeId, Binder] = {}
    stack: list[tuple[Node, dict[str, Binder]]] = [(tl.body, outer)]
    while stack:
        node, scope = stack.pop()
        match node:
            case EVariable():
                found[node.id] = scope.get(node.name, UNBOUND)
            case ELet():
                stack.append((node.rhs, scope))
                stack.append((node.body, _binding(scope, [(node.name, node.id)])))
            case ELambda():
                stack.append((node.body, _binding(scope, [(p.name, p.id) for p in node.params])))
            case MatchArm():
                bound = [(p.name, p.id) for p in pattern_variables(node.pattern)]
                stack.append((node.body, _binding(scope, bound)))
            case _:
                stack.extend((child, scope) for child in traverse.children(node))
    return found


def _binding(scope: dict[str, Binder], names: list[tuple[str, NodeId]]) -> dict[str, Binder]:
    inner = dict(scope)
    for name, binder in names:
        if name:  # a blank binder, still being typed, binds nothing
            inner[name] = binder
    return inner


def _variables(root: traverse.Parent) -> list[EVariable]:
    return [node for node in traverse.walk(root) if isinstance(node, EVariable)]


def _bound_inside(binder: Binder, ids: set[NodeId]) -> bool:
    return isinstance(binder, int) and binder in ids


def _names_in_use(tl: CodeToplevel, program: Program) -> set[str]:
    names = set(program.datastore_variables())
    if isinstance(tl, Handler):
        names.update(tl.bound_names())
    for node in traverse.walk(tl):
        match node:
            case EVariable(name=name) | ELet(name=name) | LambdaParam(name=name) | PVariable(
                name=name
            ) | Param(name=name):
                names.add(name)
    return names


def _fresh_name(base: str, taken: set[str]) -> str:
    candidates = itertools.chain([base], (f"{base}{i}" for i in itertools.count(2)))
    return next(name for name in candidates if name not in taken)


def _check_name(command: str, name: str, what: str) -> None:
    problem = identifier_problem(name)
    if problem is not None:
        raise RefactorError(f"{command}: {problem}")
    if name in KEYWORDS:
        raise RefactorError(f"{command}: {name} is a keyword, so a {what} named {name} would "
                            "read as code; pick another name")


def _program(canvas: Canvas) -> Program:
    return Program.from_toplevels(canvas.values())


# ----------------------------------------------------------------- extracts


def extract_variable(canvas: Canvas, tlid: int, node_id: NodeId,
                     name: str | None = None) -> Edit:
    """`e` → a variable, bound by a new `let name = e` around the statement that holds `e`.

    Without a name the variable is named from what it holds (`suggest_name`), with
    2, 3, ... added when code of the toplevel uses that name already. A given name
    is refused when the statement already uses a variable of that name from
    outside, which the new let would capture. The caret goes to the start of the
    new let's name, selected, so that typing replaces it.
    """
    command = "Extract variable"
    target, e = expression_at(canvas, tlid, node_id, command)
    _nothing_to_extract(command, e)
    program = _program(canvas)
    # The statement is the nearest one above `e`, so no binder lies between
    # them (every binder's scope is a statement slot): `e` keeps its variables.
    statement = _statement_of(target.path, pipe_steps=_uses_piped_value(e) is not None)
    if name is None:
        names = {fn.fn_id: fn.name for fn in program.functions.values()}
        name = _fresh_name(suggest_name(e, names), _names_in_use(target.toplevel, program))
    else:
        _check_name(command, name, "variable")
        binders = resolve_variables(target.toplevel, program)
        in_e = set(traverse.node_ids(e))
        in_statement = set(traverse.node_ids(statement))
        for use in _variables(statement):
            if (use.name == name and use.id not in in_e
                    and not _bound_inside(binders[use.id], in_statement)):
                raise RefactorError(
                    f"{command}: the code around node {e.id} already uses a variable {name} "
                    f"(node {use.id}); a new let named {name} would take its place there. "
                    "Pick another name")
    variable = EVariable(new_id(), name)
    rest = variable if statement is e else cast(Expr, traverse.replace(statement, e.id, variable))
    let = ELet(new_id(), name, e, rest)
    return attrs.evolve(_replacing(target, statement, let, caret=let.id), select_name=True)


#: Names for what an operator computes.
_OPERATOR_NAMES = {"+": "sum", "-": "difference", "*": "product", "/": "quotient",
                   "%": "remainder", "++": "text", "&&": "condition", "||": "condition",
                   "==": "same", "!=": "different", "<": "isLess", "<=": "isAtMost",
                   ">": "isMore", ">=": "isAtLeast"}
#: Names for literals and other expressions, by kind.
_KIND_NAMES = {"string": "text", "int": "number", "float": "number", "bool": "condition",
               "null": "nothing", "list": "items", "record": "record", "lambda": "fn",
               "if": "result", "match": "result", "flag": "result"}


def suggest_name(e: Expr, fn_names: Mapping[int, str] | None = None) -> str:
    """A variable name for what `e` computes, as a programmer would name it.

    A call is named from its function (`String::toInt a` → `int`, `List::length
    xs` → `length`, a user function's call by its name), a field access from its
    field, an operator from what it computes (`sum`, `product`), a literal from
    its type (`text`, `number`); a pipe from its last step. Anything else is a
    `value`.
    """
    name = "value"
    match e:
        case ECall(fn=LibFnRef(name=fn_name)):
            name = fn_name
        case ECall(fn=UserFnRef(fn_id=fn_id)):
            name = (fn_names or {}).get(fn_id, "result")
        case EField(field=field):
            name = field
        case EVariable(name=var):
            name = var
        case EInfix(op=op):
            name = _OPERATOR_NAMES.get(op, "value")
        case EPipe(steps=(*_, last)):
            return suggest_name(last, fn_names)
        case EConstructor(name=ctor):
            name = ctor[:1].lower() + ctor[1:]
        case _:
            name = _KIND_NAMES.get(e.KIND, "value")
    # `toInt` → `int`, `toList` → `list`: the result, not the conversion.
    if len(name) > 2 and name.startswith("to") and name[2].isupper():
        name = name[2].lower() + name[3:]
    if identifier_problem(name) is not None or name in KEYWORDS:
        return "value"
    return name


def extract_function(canvas: Canvas, tlid: int, node_id: NodeId,
                     name: str | None = None) -> Edit:
    """`e` → a call of a new function whose body is `e`, placed beside this toplevel.

    The function's parameters are the variables `e` uses from around it (in
    order of first use; datastores stay global), typed as the checker typed
    them, and it returns the type of `e`. Without a name it is called
    `extracted` (or `extracted2`, ...). The caret goes to the function's name.
    """
    command = "Extract function"
    target, e = expression_at(canvas, tlid, node_id, command)
    _nothing_to_extract(command, e)
    piped = _uses_piped_value(e)
    if piped is not None:
        raise RefactorError(
            f"{command}: node {piped.id} is the value piped into this pipe step, which only "
            "exists inside the pipe; extract the whole pipe, or just a part that does not use _")
    program = _program(canvas)
    taken = {fn.name for fn in program.functions.values()}
    if name is None:
        name = _fresh_name("extracted", taken)
    else:
        _check_name(command, name, "function")
        if name in taken:
            raise RefactorError(f"{command}: there is already a function named {name}; "
                                "pick another name")
    binders = resolve_variables(target.toplevel, program)
    infos = check_toplevel(target.toplevel, program)
    in_e = set(traverse.node_ids(e))
    params: dict[str, Type] = {}
    for use in _variables(e):
        binder = binders[use.id]
        if binder != DATASTORE and not _bound_inside(binder, in_e) and use.name not in params:
            info = infos.get(use.id)
            params[use.name] = _declarable(None if info is None else info.type)
    info = infos.get(e.id)
    fn = UserFunction(
        tlid=new_id(), pos=_beside(target.toplevel, canvas),
        language_version=target.toplevel.language_version, fn_id=new_id(), name=name,
        version=0, params=tuple(Param(new_id(), p, t) for p, t in params.items()),
        return_type=_declarable(None if info is None else info.type), body=with_fresh_ids(e))
    args = tuple(EVariable(new_id(), p) for p in params)
    call = ECall(new_id(), UserFnRef(fn.fn_id, fn.version), args)
    ops = (CreateToplevel(fn), ReplaceNode(target.tlid, e.id, e, call))
    return Edit(ops, (fn.tlid, fn.tlid))


def _declarable(t: Type | None) -> Type:
    # A type variable means "whatever the caller gives"; a user function says that with `?`.
    return UNKNOWN if t is None or has_type_vars(t) else t


def _beside(tl: Toplevel, canvas: Canvas) -> Pos:
    taken = {other.pos for other in canvas.values()}
    pos = Pos(tl.pos.x + _BESIDE.x, tl.pos.y + _BESIDE.y)
    while pos in taken:
        pos = Pos(pos.x, pos.y + _STACKED)
    return pos


# --------------------------------------------------------------- insert let


def insert_let_above(canvas: Canvas, tlid: int, node_id: NodeId) -> Edit:
    """`stmt` → `let _ = _` above it, for the statement that holds the node.

    From the toplevel itself or a function parameter, the let goes at the top
    of the body. The new let's rhs is a hole and its name blank, and an unfinished
    let still runs its body, so the code keeps its value. The caret goes to the name.
    """
    target = locate(canvas, tlid, node_id, "Insert let above")
    path = target.path
    deepest = max((i for i, node in enumerate(path) if isinstance(node, Expr)), default=None)
    path = (target.toplevel, target.toplevel.body) if deepest is None else path[:deepest + 1]
    statement = _statement_of(path)
    let = ELet(new_id(), "", EHole(new_id()), statement)
    return _replacing(target, statement, let, caret=let.id)


# ------------------------------------------------------------------- rename

_BINDER_PHRASES: dict[type[Node], str] = {
    ELet: "the let", LambdaParam: "the lambda parameter", PVariable: "the pattern variable",
    Param: "the function parameter",
}


def rename_variable(canvas: Canvas, tlid: int, node_id: NodeId, new_name: str) -> Edit:
    """Rename a variable and every use of it: `node_id` is the binder (a let, a lambda or
    function parameter, a pattern variable) or any use of it.

    Uses of other variables of the same name are left alone. Refused when the
    new name is not a valid name, is already a sibling parameter's, or would
    make any variable refer to something else (an inner binder of the new name
    shadowing a use, or the renamed binder capturing an existing use).
    The caret goes to the binder.
    """
    command = "Rename"
    target = locate(canvas, tlid, node_id, command)
    tl = target.toplevel
    program = _program(canvas)
    binders = resolve_variables(tl, program)
    node = target.node
    match node:
        case EVariable():
            binder = binders[node.id]
            if isinstance(binder, str):
                raise RefactorError(_not_renamable(tl, node.name, binder))
            binder_path = traverse.path_to(tl, binder)
            assert binder_path is not None  # resolved from this very toplevel
        case ELet() | LambdaParam() | PVariable() | Param():
            binder_path = list(target.path)
        case _:
            raise RefactorError(f"{command} needs a variable or the name that binds it (a let, "
                                f"a parameter, a pattern variable); {_what_is(node)}")
    declared = cast(ELet | LambdaParam | PVariable | Param, binder_path[-1])
    old = declared.name
    _check_name(command, new_name, "variable")
    if new_name == old:
        return Edit((), (tlid, declared.id))
    clash = _sibling_named(tl, binder_path, new_name)
    if clash is not None:
        raise RefactorError(f"{command}: {clash} already has a parameter or variable named "
                            f"{new_name}; pick another name")
    uses = [v for v in _variables(tl) if binders[v.id] == declared.id]
    ops: list[Op] = [SetName(tlid, declared.id, old, new_name)]
    ops.extend(SetName(tlid, v.id, old, new_name) for v in uses)
    renamed: Toplevel | None = tl
    try:
        for op in ops:
            renamed = apply(op, renamed)
    except OpError as refusal:
        raise RefactorError(f"{command}: {refusal.message}") from None
    after = resolve_variables(cast(CodeToplevel, renamed), program)
    for v in _variables(tl):
        before, now = binders[v.id], after[v.id]
        if before == now:
            continue
        if before == declared.id:
            raise RefactorError(
                f"{command}: {old} is used at node {v.id}, where "
                f"{_binder_phrase(tl, now, new_name)} would hide it once it is called "
                f"{new_name}; pick another name, or rename that one first")
        raise RefactorError(
            f"{command}: {v.name} is already used at node {v.id}, where it means "
            f"{_binder_phrase(tl, before, v.name)}; renaming {old or 'the blank let'} to "
            f"{new_name} would change that. Pick another name")
    return Edit(tuple(ops), (tlid, declared.id))


def _not_renamable(tl: CodeToplevel, name: str, binder: str) -> str:
    if binder == DATASTORE:
        return f"Rename: {name} is a datastore; rename the datastore itself"
    if binder == UNBOUND:
        return (f"Rename: nothing defines {name} here, so there is nothing to rename; define it "
                "with a let, or type over the name to fix it")
    spec = tl.spec if isinstance(tl, Handler) else None
    if isinstance(spec, HttpSpec) and name in spec.route_params():
        return (f"Rename: {name} is a parameter of the route {spec.route}; change the route "
                "to rename it")
    return (f"Rename: the runtime gives {name} to the handler, so it keeps its name; bind it "
            "to another name with a let if you want one")


def _sibling_named(tl: CodeToplevel, binder_path: list[traverse.Parent],
                   name: str) -> str | None:
    """What already binds `name` alongside the binder (the same lambda, function or pattern)."""
    declared = binder_path[-1]
    match declared:
        case LambdaParam():
            lam = cast(ELambda, binder_path[-2])
            return "this lambda" if any(p.name == name for p in lam.params) else None
        case Param() if isinstance(tl, UserFunction):
            return f"the function {tl.name}" if any(p.name == name for p in tl.params) else None
        case PVariable():
            arm = next(p for p in reversed(binder_path) if isinstance(p, MatchArm))
            found = any(p.name == name for p in pattern_variables(arm.pattern))
            return "this pattern" if found else None
    return None


def _binder_phrase(tl: CodeToplevel, binder: Binder, name: str) -> str:
    if binder == DATASTORE:
        return f"the datastore {name}"
    if binder == HANDLER_VALUE:
        return f"the {name} the handler is given"
    if binder == UNBOUND:
        return "nothing yet (it is not defined)"
    node = traverse.find(tl, cast(int, binder))
    phrase = _BINDER_PHRASES.get(type(node), "the binder") if node is not None else "the binder"
    return f"{phrase} {name} at node {binder}"
