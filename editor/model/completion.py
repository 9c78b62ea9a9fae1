"""Autocomplete: what the programmer may type at a hole or partial, ranked, and what it builds.

When letters start a partial, the editor lists what could go there: the
variables in scope, the keywords (`let`, `if`, `match`, `|>`, `flag`), the
literals `true`, `false` and `null`, the constructors (`Just`, `Nothing`,
`Ok`, `Error` and the cases of the program's enums), and the library and user
functions. Each `Completion` carries its type and a doc line; `build` turns
the chosen one into a fresh expression with a hole for everything still to
type.

Ranking, in order: what is typed comes first, as in VS Code: a label equal to
the query (ignoring case); then a label the query starts; then one where the
query starts a word of the label (the name after `Module::`, or a camelCase or
`_` word: `toI` finds `String::toInt`); then one that merely contains it.
Among labels the query starts, one it starts only the module of (`r` and
`Result::map`) comes after the others (`request`).
Within each of these, what *fits* the hole first (its type, or its result type
for a function or constructor, is consistent with the type the checker expects
there); then variables, keywords and literals, constructors, user functions,
library functions; then deprecated after current; then shorter; then
alphabetical. Where the context expects nothing (`?`), everything fits. So the
wrong pick never comes from the type alone: `r` lists what starts with `r`.

Versions: the newest non-deprecated version of each library function is
listed, plus any version the canvas already calls; a deprecated version is
listed only when called. User functions list the newest version of each
family plus the versions already called. A label names the function as code
shows it (`editor.projection.layout.versioned`): `_vN` only when N is not 0,
so `Dict::get` and `Dict::get_v1` are told apart as in the code.

Calls of a function that returns an Option or a Result are built on the error
rail, as in the system Gloam imitates, so `String::toInt` gives an Int in a
handler and a failure leaves it early. In a pipe step, a call takes the piped
value (`EPipeTarget`) as its first argument, and it fits when that first
parameter accepts the piped value.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping

import attrs

import shared_ast.stdlib  # noqa: F401 - importing the package fills LIBRARY
from editor.model.scope import bindings_in_scope
from editor.projection.layout import versioned
from shared_ast import nodes as n
from shared_ast.checker import NodeInfo, check_toplevel
from shared_ast.ids import new_id
from shared_ast.nodes import Expr, LibFnRef, NodeId, TypeRef, UserFnRef
from shared_ast.operators import OPERATORS
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY, LibFunction
from shared_ast.toplevels import EnumDef, Test, Toplevel, UserFunction, UserType
from shared_ast.traverse import Parent, path_to, walk
from shared_ast.type_ast import (
    BOOL,
    NULL,
    UNKNOWN,
    TFn,
    TOption,
    TResult,
    TUnknown,
    TUser,
    TVar,
    Type,
    show_type,
)
from shared_ast.unify import Meta, consistent

__all__ = ["EXACT", "KINDS", "PREFIX", "SUBSTRING", "WORD", "Completion", "ConstructorTarget",
           "build", "completions", "match_rank"]

VARIABLE = "variable"
KEYWORD = "keyword"
LITERAL = "literal"
CONSTRUCTOR = "constructor"
FUNCTION = "function"
LIBRARY_FN = "library"

#: Every kind of completion, in ranking order (equal numbers rank together).
KINDS: dict[str, int] = {VARIABLE: 0, KEYWORD: 1, LITERAL: 1, CONSTRUCTOR: 2, FUNCTION: 3,
                         LIBRARY_FN: 4}

_KEYWORDS: dict[str, str] = {
    "let": "bind a name to a value for the code below it",
    "if": "choose between two values by a Bool condition",
    "match": "choose by the shape of a value, binding its parts",
    "|>": "pipe a value through steps, each receiving the one before",
    "flag": "feature flag: run new code only when its condition is exactly true",
}

_LITERALS: dict[str, tuple[Type, str]] = {
    "true": (BOOL, "the Bool true"),
    "false": (BOOL, "the Bool false"),
    "null": (NULL, "the null value"),
}


@attrs.frozen
class ConstructorTarget:
    """A constructor to build: `Just`, `Ok`... (no `type_ref`) or a user enum case."""

    name: str
    arity: int
    type_ref: TypeRef | None = None


@attrs.frozen
class Completion:
    """One entry of the autocomplete list.

    `target` says what to build: the variable's name, the keyword or literal
    text, a `ConstructorTarget`, a `LibFnRef` or a `UserFnRef`. For calls,
    `arity` is the number of parameters, `on_rail` whether the call goes on
    the error rail, and `piped` whether the first argument is the piped value.
    """

    label: str
    kind: str
    type_text: str
    doc: str
    fits: bool
    deprecated: bool
    target: object
    arity: int = 0
    on_rail: bool = False
    piped: bool = False


# ------------------------------------------------------------------ context


@attrs.frozen
class _Context:
    """What the hole being completed asks for."""

    program: Program
    expected: Type
    #: The type flowing into the pipe step being completed; None outside a pipe step.
    piped: Type | None
    type_names: dict[tuple[int, int], str]

    def show(self, t: Type) -> str:
        return show_type(t, self.type_names)

    def fits(self, t: Type) -> bool:
        return _knows_nothing(self.expected) or consistent(t, self.expected, self.program)

    def call_fits(self, params: tuple[Type, ...], result: Type) -> bool:
        if self.piped is not None:
            # A step that takes nothing would drop the piped value: it does not fit there.
            return bool(params) and (_knows_nothing(self.piped) or consistent(
                self.piped, params[0], self.program))
        return self.fits(result)

    def signature(self, params: tuple[Type, ...], ret: Type) -> str:
        shown = [f"({self.show(p)})" if isinstance(p, TFn) else self.show(p) for p in params]
        return " -> ".join([*shown, self.show(ret)])


def _knows_nothing(t: Type) -> bool:
    return isinstance(t, TUnknown | TVar | Meta)


def _piped_type(path: list[Parent], node_id: NodeId, infos: Mapping[int, NodeInfo]) -> Type | None:
    """The type flowing into the pipe step `node_id`, or None when it is not a pipe step."""
    if len(path) < 2 or not isinstance(path[-2], n.EPipe):
        return None
    pipe = path[-2]
    if pipe.head.id == node_id:
        return None

    def type_of(e: Expr) -> Type:
        info = infos.get(e.id)
        return UNKNOWN if info is None else info.type

    value = type_of(pipe.head)
    for step in pipe.steps:
        if step.id == node_id:
            return value
        if isinstance(step, n.EHole):
            continue  # an empty step passes the value on
        t = type_of(step)
        # A lambda step is applied to the value: what flows on is what it returns.
        lambda_result = t.ret if isinstance(t, TFn) else UNKNOWN
        value = lambda_result if isinstance(step, n.ELambda) else t
    return None


def _railed(t: Type) -> Type | None:
    """What a call returning `t` yields on the error rail, or None when `t` cannot go there."""
    match t:
        case TOption(inner):
            return inner
        case TResult(ok, _):
            return ok
    return None


# ------------------------------------------------------------------ uses


def _calls_in(toplevels: Iterable[Toplevel]) -> tuple[set[str], set[tuple[int, int]]]:
    """The library functions (qualified) and user functions (family, version) the code calls."""
    library: set[str] = set()
    user: set[tuple[int, int]] = set()
    for tl in toplevels:
        for node in walk(tl):
            match node:
                case n.ECall(fn=LibFnRef() as ref):
                    library.add(ref.qualified)
                case n.ECall(fn=UserFnRef() as ref):
                    user.add((ref.fn_id, ref.version))
                case n.EInfix(op=op) if op in OPERATORS and OPERATORS[op].lib_fn:
                    library.add(OPERATORS[op].lib_fn or "")
    return library, user


# ------------------------------------------------------------- candidates


def _variables(ctx: _Context, program: Program, tl: Toplevel, node_id: NodeId,
               infos: Mapping[int, NodeInfo]) -> list[Completion]:
    return [
        Completion(name, VARIABLE, ctx.show(b.type), b.origin, ctx.fits(b.type), False, name)
        for name, b in bindings_in_scope(program, tl, node_id, infos).items()
    ]


def _keywords_and_literals(ctx: _Context) -> list[Completion]:
    found = [Completion(word, KEYWORD, "", doc, True, False, word)
             for word, doc in _KEYWORDS.items()]
    found += [Completion(word, LITERAL, ctx.show(t), doc, ctx.fits(t), False, word)
              for word, (t, doc) in _LITERALS.items()]
    return found


def _constructors(ctx: _Context, program: Program) -> list[Completion]:
    a, e = TVar("a"), TVar("e")
    builtins: list[tuple[str, tuple[Type, ...], Type, str]] = [
        ("Just", (a,), TOption(a), "an Option holding a value"),
        ("Nothing", (), TOption(a), "an Option holding nothing"),
        ("Ok", (a,), TResult(a, e), "a Result that succeeded with a value"),
        ("Error", (e,), TResult(a, e), "a Result that failed with an error"),
    ]
    found = [Completion(name, CONSTRUCTOR, ctx.signature(params, made), doc,
                        ctx.fits(made), False, ConstructorTarget(name, len(params)),
                        arity=len(params))
             for name, params, made, doc in builtins]
    for t in _listed_enums(ctx, program):
        assert isinstance(t.definition, EnumDef)
        made = TUser(t.type_id, t.version)
        for case in t.definition.cases:
            params = tuple(f.type for f in case.fields)
            target = ConstructorTarget(case.name, len(params), TypeRef(t.type_id, t.version))
            found.append(Completion(case.name, CONSTRUCTOR, ctx.signature(params, made),
                                    f"a case of {t.name}_v{t.version}", ctx.fits(made), False,
                                    target, arity=len(params)))
    return found


def _listed_enums(ctx: _Context, program: Program) -> list[UserType]:
    """The newest version of each enum family, and the version the hole expects."""
    newest: dict[int, UserType] = {}
    for t in program.types.values():
        if isinstance(t.definition, EnumDef) and (
                t.type_id not in newest or t.version > newest[t.type_id].version):
            newest[t.type_id] = t
    listed = list(newest.values())
    if isinstance(ctx.expected, TUser):
        wanted = program.type(ctx.expected.type_id, ctx.expected.version)
        if wanted is not None and isinstance(wanted.definition, EnumDef) and wanted not in listed:
            listed.append(wanted)
    return listed


def _call(ctx: _Context, label: str, kind: str, params: tuple[Type, ...], ret: Type, doc: str,
          deprecated: bool, target: LibFnRef | UserFnRef) -> Completion:
    railed = _railed(ret)
    result = ret if railed is None else railed
    return Completion(label, kind, ctx.signature(params, ret), doc,
                      ctx.call_fits(params, result), deprecated, target, arity=len(params),
                      on_rail=railed is not None, piped=ctx.piped is not None and bool(params))


def _deprecation_doc(fn: LibFunction) -> str:
    d = fn.deprecated
    if d is None:
        return fn.doc
    why = d.reason or (f"use {d.replaced_by} instead" if d.replaced_by else "")
    return f"Deprecated. {why} {fn.doc}".replace("  ", " ").strip()


def _library(ctx: _Context, used: set[str]) -> list[Completion]:
    families: dict[tuple[str, str], list[LibFunction]] = {}
    for fn in LIBRARY.values():
        families.setdefault((fn.module, fn.name), []).append(fn)
    found: list[Completion] = []
    for (module, name), versions in families.items():
        current = [f for f in versions if f.deprecated is None]
        newest = max(current, key=lambda f: f.version) if current else None
        listed = sorted({f.version: f for f in versions
                         if f is newest or f.qualified in used}.values(),
                        key=lambda f: f.version)
        for fn in listed:
            label = versioned(f"{module}::{name}", fn.version)
            found.append(_call(ctx, label, LIBRARY_FN, tuple(p.type for p in fn.params),
                               fn.return_type, _deprecation_doc(fn), fn.deprecated is not None,
                               LibFnRef(module, name, fn.version)))
    return found


def _user_functions(ctx: _Context, program: Program, used: set[tuple[int, int]]
                    ) -> list[Completion]:
    families: dict[int, list[UserFunction]] = {}
    for fn in program.functions.values():
        families.setdefault(fn.fn_id, []).append(fn)
    found: list[Completion] = []
    for versions in families.values():
        newest = max(versions, key=lambda f: f.version)
        listed = sorted((f for f in versions if f is newest or (f.fn_id, f.version) in used),
                        key=lambda f: f.version)
        for fn in listed:
            label = versioned(fn.name, fn.version)
            doc = fn.description.strip().splitlines()[0] if fn.description.strip() else ""
            found.append(_call(ctx, label, FUNCTION, tuple(p.type for p in fn.params),
                               fn.return_type, doc, False, UserFnRef(fn.fn_id, fn.version)))
    return found


# ---------------------------------------------------------------- matching


def _search_keys(c: Completion) -> tuple[str, ...]:
    keys = [c.label.lower()]
    if isinstance(c.target, LibFnRef):
        keys += [c.target.name.lower(), c.target.qualified.lower()]
    return tuple(keys)


#: Where a word of a label starts: after `::`, `_` or `.`, or an uppercase letter after a
#: lowercase one or a digit (`String::toInt` has the words String, to, Int).
_WORD_START = re.compile(r"^|(?<=::)|(?<=[_.])(?=[A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z])")

#: Match ranks, best first.
EXACT, PREFIX, WORD, SUBSTRING = 0, 1, 2, 3


def match_rank(c: Completion, query: str) -> int | None:
    """How `query` (lowercase) matches `c`: `EXACT`, `PREFIX` of the label, the start of a
    `WORD` of it, or a `SUBSTRING`; None when it does not match at all."""
    label = c.label.lower()
    if not query:
        return PREFIX
    if label == query:
        return EXACT
    if label.startswith(query):
        return PREFIX
    for key in (c.label, *(_search_keys(c)[1:])):
        lowered = key.lower()
        if any(lowered.startswith(query, m.start()) for m in _WORD_START.finditer(key)):
            return WORD
    if any(query in k for k in _search_keys(c)):
        return SUBSTRING
    return None


def _with_program_of(program: Program, tl: Toplevel) -> Program:
    """`program` with `tl` in it when `tl` is a function, so it can call itself."""
    if isinstance(tl, UserFunction) and program.functions.get((tl.fn_id, tl.version)) is not tl:
        return attrs.evolve(program, functions={**program.functions, (tl.fn_id, tl.version): tl})
    return program


def completions(
    program: Program,
    tl: Toplevel,
    node_id: NodeId,
    query: str,
    infos: Mapping[int, NodeInfo] | None = None,
    limit: int = 50,
    *,
    canvas: Iterable[Toplevel] | None = None,
) -> list[Completion]:
    """What may be typed at the hole or partial `node_id` of `tl` for `query`, best first.

    `infos` is `checker.check_toplevel(tl, program)` (computed when not given).
    `canvas` is every toplevel of the canvas, so deprecated library functions
    and old user function versions called anywhere are listed; by default only
    `tl` and the program's functions are searched for calls. Raises
    `ValueError` when `tl` has no node `node_id`.
    """
    program = _with_program_of(program, tl)
    path = path_to(tl, node_id)
    if path is None:
        raise ValueError(f"toplevel {tl.tlid} has no node {node_id}; complete at a hole or "
                         "partial of the toplevel being edited")
    if infos is None:
        infos = check_toplevel(tl, program)
    info = infos.get(node_id)
    ctx = _Context(program, UNKNOWN if info is None else info.expected,
                   _piped_type(path, node_id, infos), program.type_names())
    searched = [tl, *program.functions.values(), *(canvas or ())]
    used_library, used_user = _calls_in(searched)
    candidates = [
        *_variables(ctx, program, tl, node_id, infos),
        *_keywords_and_literals(ctx),
        *_constructors(ctx, program),
        *_user_functions(ctx, program, used_user),
        *_library(ctx, used_library),
    ]
    if not isinstance(tl, Test):
        # `Test::` functions run only in tests (the checker marks them elsewhere).
        candidates = [c for c in candidates if not (
            isinstance(c.target, LibFnRef) and c.target.module == "Test")]
    q = query.strip().lower()
    ranked: list[tuple[tuple[object, ...], Completion]] = []
    for c in candidates:
        rank = match_rank(c, q)
        if rank is not None:
            # `r` starting only the module of `Result::map` is a weaker prefix than `request`.
            module_only = bool(q) and "::" in c.label and len(q) <= c.label.index("::")
            key = (rank, module_only, not c.fits, KINDS[c.kind], c.deprecated, len(c.label),
                   c.label.lower(), c.label)
            ranked.append((key, c))
    ranked.sort(key=lambda pair: pair[0])
    return [c for _, c in ranked[:max(limit, 0)]]


# ------------------------------------------------------------------ build


def _holes(count: int) -> tuple[Expr, ...]:
    return tuple(n.EHole(new_id()) for _ in range(count))


def _flag_name() -> str:
    return f"flag-{secrets.token_hex(2)}"


def _keyword(word: str) -> Expr:
    match word:
        case "let":
            return n.ELet(new_id(), "", n.EHole(new_id()), n.EHole(new_id()))
        case "if":
            return n.EIf(new_id(), *_holes(3))
        case "match":
            arm = n.MatchArm(new_id(), n.PHole(new_id()), n.EHole(new_id()))
            return n.EMatch(new_id(), n.EHole(new_id()), (arm,))
        case "|>":
            return n.EPipe(new_id(), n.EHole(new_id()), (n.EHole(new_id()),))
        case "flag":
            return n.EFlag(new_id(), _flag_name(), *_holes(3))
    raise ValueError(f"{word!r} is not a keyword; the keywords are {', '.join(_KEYWORDS)}")


def _literal(word: str) -> Expr:
    match word:
        case "true":
            return n.EBool(new_id(), True)
        case "false":
            return n.EBool(new_id(), False)
        case "null":
            return n.ENull(new_id())
    raise ValueError(f"{word!r} is not a literal; the literals are {', '.join(_LITERALS)}")


def _built(c: Completion) -> Expr:
    match c.kind, c.target:
        case "variable", str(name):
            return n.EVariable(new_id(), name)
        case "keyword", str(word):
            return _keyword(word)
        case "literal", str(word):
            return _literal(word)
        case "constructor", ConstructorTarget(name=name, arity=arity, type_ref=ref):
            return n.EConstructor(new_id(), name, _holes(arity), ref)
        case ("library", LibFnRef() as ref) | ("function", UserFnRef() as ref):
            first: tuple[Expr, ...] = (n.EPipeTarget(new_id()),) if c.piped else ()
            args = first + _holes(c.arity - len(first))
            return n.ECall(new_id(), ref, args, c.on_rail)
    raise ValueError(f"cannot build a {c.kind} completion from {c.target!r}; "
                     f"pass a Completion that `completions` returned")


def build(c: Completion) -> tuple[Expr, int]:
    """A new expression for `c` with fresh ids, and the id where the caret goes next.

    The caret goes to the first hole inside it, or to the expression itself
    when it has none. A `let` is built with a blank name, which is what is
    typed next, so its caret is on the let itself.
    """
    expr = _built(c)
    if isinstance(expr, n.ELet):
        return expr, expr.id
    first_hole = next((node.id for node in walk(expr) if isinstance(node, n.EHole)), expr.id)
    return expr, first_hole
