"""What a well-formed tree is: its names, its triggers, the shape of its fields.

Names are typed by the user, so the rules live in one place that both sides
can ask: the runtime refuses an op that would store a bad name (see
`shared_ast.apply`), and the editor can ask the same question before it sends
one, to mark the name red while the user is still typing.

The rules, by what is named:

- variables, lets, parameters, pattern variables, record and type fields,
  field accesses, functions and datastores: identifiers, `[A-Za-z_][A-Za-z0-9_]*`;
- types, enum cases and constructors: identifiers starting with an uppercase letter;
- feature flags: any non-empty text;
- infix operators: a symbol of `shared_ast.operators.OPERATORS`;
- partials and right-partials: any text up to `MAX_TYPED_TEXT` characters,
  since it is whatever the user is typing right now;
- handler triggers: an HTTP method of `HTTP_METHODS` and a route starting
  with `/` whose `:params` are distinct identifiers; non-empty worker queue,
  cron and REPL names; a cron interval of at least one second.

Trees arrive from the wire, so their shape is checked too (`shape_problem`,
`tree_problems`): every field holds what its class declares (an expression
slot an expression, a tuple of match arms match arms, an int an int), only
classes of the language appear, and node ids fit a JSON number exactly.
The declared field types are read from the attrs classes once, at import, so
a new node kind is checked without new code here.

Each check returns None when all is well, or a sentence saying what is wrong
and what would be right.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable

import attrs

from shared_ast import traverse
from shared_ast.ids import MAX_ID
from shared_ast.nodes import (
    ALL_NODE_KINDS,
    ECall,
    EConstructor,
    EField,
    EFlag,
    EInfix,
    ELambda,
    ELet,
    EList,
    EMatch,
    EnumCase,
    EPartial,
    EPipe,
    ERecord,
    ERightPartial,
    EVariable,
    Expr,
    LambdaParam,
    LibFnRef,
    MatchArm,
    Node,
    NodeId,
    Param,
    Pattern,
    PConstructor,
    PVariable,
    RecordField,
    TypeField,
    TypeRef,
    UserFnRef,
)
from shared_ast.operators import OPERATORS
from shared_ast.ops import OP_KINDS
from shared_ast.toplevels import (
    HTTP_METHODS,
    SPEC_KINDS,
    TOPLEVEL_KINDS,
    CronSpec,
    Datastore,
    EnumDef,
    HandlerSpec,
    HttpSpec,
    Migration,
    Pos,
    RecordDef,
    ReplSpec,
    Test,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)
from shared_ast.type_ast import TYPE_KINDS, TRecordField, Type, show_type
from shared_ast.values import ImpureCall

#: The longest text a partial or right-partial may hold; more is not typing.
MAX_TYPED_TEXT = 200

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UPPER_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*")

NameRule = Callable[[object], str | None]


def identifier_problem(name: object) -> str | None:
    if isinstance(name, str) and _IDENTIFIER.fullmatch(name):
        return None
    return (f"{quote(name)} is not a valid name: use letters, digits and _, "
            "not starting with a digit")


def binder_problem(name: object) -> str | None:
    """A name a let, a lambda or a record field gives; "" is blank: still being typed, it binds
    nothing (and a record field with a blank name is left out of the record)."""
    return None if name == "" else identifier_problem(name)


def upper_name_problem(name: object) -> str | None:
    if isinstance(name, str) and _UPPER_NAME.fullmatch(name):
        return None
    return (f"{quote(name)} is not a valid name here: it must start with an uppercase letter, "
            "then letters, digits and _")


def flag_name_problem(name: object) -> str | None:
    if isinstance(name, str) and name:
        return None
    return f"{quote(name)} is not a valid flag name: it must not be empty"


#: The longest name a test may have.
MAX_TEST_NAME = 200


def test_name_problem(name: object) -> str | None:
    """A test's name is a phrase ("total of an empty cart is 0"): one line, not empty."""
    if not isinstance(name, str) or not name.strip():
        return f"{quote(name)} is not a valid test name: it must not be empty"
    if len(name) > MAX_TEST_NAME:
        return f"a test name of {len(name)} characters is too long: at most {MAX_TEST_NAME}"
    if any(c in name for c in "\r\n\0"):
        return f"{quote(name)} is not a valid test name: it must be one line"
    return None


def operator_problem(symbol: object) -> str | None:
    if isinstance(symbol, str) and symbol in OPERATORS:
        return None
    return f"{quote(symbol)} is not an operator; the operators are {' '.join(OPERATORS)}"


def typed_text_problem(text: object) -> str | None:
    if not isinstance(text, str):
        return f"{quote(text)} cannot be typed text"
    if len(text) > MAX_TYPED_TEXT:
        return f"typed text of {len(text)} characters is too long: at most {MAX_TYPED_TEXT}"
    return None


#: Node class → (the attribute holding its name-like text, the rule for it).
NAMED_NODES: dict[type[Node], tuple[str, NameRule]] = {
    ELet: ("name", binder_problem),
    EVariable: ("name", identifier_problem),
    LambdaParam: ("name", binder_problem),
    Param: ("name", identifier_problem),
    PVariable: ("name", identifier_problem),
    RecordField: ("name", binder_problem),
    TypeField: ("name", identifier_problem),
    EField: ("field", identifier_problem),
    EFlag: ("name", flag_name_problem),
    EConstructor: ("name", upper_name_problem),
    PConstructor: ("name", upper_name_problem),
    EnumCase: ("name", upper_name_problem),
    EInfix: ("op", operator_problem),
    EPartial: ("text", typed_text_problem),
    ERightPartial: ("text", typed_text_problem),
}

#: Toplevel class → the rule for its `name` (handlers have none: their spec names them).
NAMED_TOPLEVELS: dict[type[Toplevel], NameRule] = {
    UserFunction: identifier_problem,
    UserType: upper_name_problem,
    Datastore: identifier_problem,
    Test: test_name_problem,
}


def node_name_problem(node: Node) -> str | None:
    """What is wrong with the name-like text of `node`, or None (also when it has no name)."""
    entry = NAMED_NODES.get(type(node))
    if entry is None:
        return None
    attribute, rule = entry
    return rule(getattr(node, attribute))


def toplevel_name_problem(tl: Toplevel) -> str | None:
    rule = NAMED_TOPLEVELS.get(type(tl))
    return None if rule is None else rule(getattr(tl, "name", None))


#: The largest datastore version: each stored row keeps its version in a 64-bit integer
#: column (SQLite INTEGER, PostgreSQL BIGINT).
MAX_DATASTORE_VERSION = 2**63 - 1


def migration_problem(ds: Datastore) -> str | None:
    """What is wrong with a datastore version's number or the shape of its migration,
    or None."""
    if not 0 <= ds.version <= MAX_DATASTORE_VERSION:
        return (f"{ds.name}_v{ds.version}: a datastore's version is a whole number from 0 to "
                f"{MAX_DATASTORE_VERSION} (each stored row keeps it); make it with the next "
                "number after its newest version")
    m = ds.migration
    if m is None:
        return None
    if not 0 <= m.from_version < ds.version:
        return (f"{ds.name}_v{ds.version} migrates from version {m.from_version}; a version "
                "migrates from an earlier one")
    if not 0 <= m.table <= m.from_version:
        return (f"{ds.name}_v{ds.version} keeps its rows with version {m.table}, which must be "
                f"version {m.from_version}'s or an earlier one")
    return None


def route_problem(route: object) -> str | None:
    if not isinstance(route, str) or not route.startswith("/"):
        return f"the route {quote(route)} must start with /"
    seen: set[str] = set()
    for segment in route.split("/"):
        if not segment.startswith(":"):
            continue
        param = segment[1:]
        if not _IDENTIFIER.fullmatch(param):
            return (f"the route parameter {segment!r} in {route!r} is not a valid name: "
                    "use letters, digits and _, not starting with a digit")
        if param in seen:
            return f"the route {route!r} binds :{param} twice; each parameter needs its own name"
        seen.add(param)
    return None


def spec_problem(spec: HandlerSpec) -> str | None:
    """What is wrong with a handler's trigger, or None when the runtime can serve it."""
    match spec:
        case HttpSpec(method=method, route=route):
            if method not in HTTP_METHODS:
                return (f"{quote(method)} is not an HTTP method; use one of "
                        f"{', '.join(HTTP_METHODS)}")
            return route_problem(route)
        case WorkerSpec(queue=queue):
            if isinstance(queue, str) and queue:
                return None
            return "a worker's queue name must not be empty"
        case CronSpec(name=name, interval_seconds=interval):
            if not (isinstance(name, str) and name):
                return "a cron's name must not be empty"
            if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
                return ("a cron's interval must be a whole number of seconds, at least 1, "
                        f"not {interval!r:.40}")
            return None
        case ReplSpec(name=name):
            return None if isinstance(name, str) and name else "a REPL's name must not be empty"
    return f"{type(spec).__name__} is not a handler spec: use HTTP, worker, cron or REPL"


# ------------------------------------------------------------ messages


def show_spec(spec: object) -> str:
    """A trigger as a person reads it: `HTTP GET /users/:id`, `cron 'daily' every 86400s`."""
    match spec:
        case HttpSpec(method=method, route=route):
            return f"HTTP {method} {route}"
        case WorkerSpec(queue=queue):
            return f"worker {queue!r}"
        case CronSpec(name=name, interval_seconds=interval):
            return f"cron {name!r} every {interval}s"
        case ReplSpec(name=name):
            return f"REPL {name!r}"
    return describe(spec)


def show_type_briefly(t: object) -> str:
    """`show_type` for messages: never fails, even on a malformed or absurdly deep type."""
    if not isinstance(t, Type):
        return describe(t)
    try:
        return show_type(t)
    except (RecursionError, AttributeError, TypeError):
        # `show_type` recurses and trusts the tree; a message must not fail on a bad one.
        return article(t.KIND)


def kind_of(obj: object) -> str:
    """The wire tag of a node, type, spec or toplevel; the class name of anything else."""
    return getattr(type(obj), "KIND", "") or type(obj).__name__


def article(word: str) -> str:
    """`an if`, `a hole`: for messages that name a kind."""
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def describe(value: object) -> str:
    """A short, bounded phrase for any value, for messages: never the repr of a whole tree."""
    if isinstance(value, Node | Toplevel | Type | HandlerSpec):
        return article(kind_of(value))
    if isinstance(value, str | int | float | bool) or value is None:
        return quote(value)
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return article(type(value).__name__)


def quote(value: object) -> str:
    """A scalar's repr, cut at 60 characters; `describe` for anything else."""
    scalar = isinstance(value, str | int | float | bool) or value is None
    text = repr(value) if scalar else describe(value)
    return text if len(text) <= 60 else text[:60] + "…"


# ------------------------------------------------------------ shape checks

#: What each list-like child holds: (class, field) → element class.
ELEMENT_CLASS: dict[tuple[type, str], type[Node]] = {
    (EList, "items"): Expr,
    (EPipe, "steps"): Expr,
    (ECall, "args"): Expr,
    (EConstructor, "args"): Expr,
    (ERecord, "fields"): RecordField,
    (EMatch, "arms"): MatchArm,
    (ELambda, "params"): LambdaParam,
    (PConstructor, "args"): Pattern,
    (EnumCase, "fields"): TypeField,
    (UserFunction, "params"): Param,
    (UserType, "fields"): TypeField,
    (UserType, "cases"): EnumCase,
}


def _check_tables() -> None:
    # Checked at import: a list field without an element class would let any node in.
    listed = {(cls, f) for cls, fields in traverse.LIST_FIELDS.items() for f in fields}
    if listed != set(ELEMENT_CLASS):
        raise AssertionError(f"ELEMENT_CLASS and traverse.LIST_FIELDS disagree: "
                             f"{sorted(map(str, listed ^ set(ELEMENT_CLASS)))}")


_check_tables()


@attrs.frozen
class _Slot:
    """One field of a class of the language, and how to tell a value fits it."""

    name: str
    fits: Callable[[object], bool]
    expected: str
    item_fits: Callable[[object], bool] | None = None


def _fits(hint: object) -> tuple[Callable[[object], bool], str]:
    origin = typing.get_origin(hint)
    if origin is tuple:
        item_fits, item = _fits(typing.get_args(hint)[0])
        return (lambda v: isinstance(v, tuple) and all(item_fits(x) for x in v),
                f"a tuple of {item}")
    if origin in (typing.Union, types.UnionType):
        options = [_fits(arg) for arg in typing.get_args(hint)]
        return (lambda v: any(fits(v) for fits, _ in options),
                " or ".join(desc for _, desc in options))
    if hint is typing.Any:
        # Since Python 3.11 `Any` is a class, which isinstance refuses: anything fits it.
        return (lambda v: True), "any value"
    if hint is type(None):
        return (lambda v: v is None), "None"
    if hint is int:
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "int"
    if hint is float:
        return (lambda v: isinstance(v, int | float) and not isinstance(v, bool)), "float"
    if isinstance(hint, type):
        cls: type = hint
        return (lambda v: isinstance(v, cls)), cls.__name__
    return (lambda v: True), str(hint)


def _slots(cls: type) -> tuple[_Slot, ...]:
    hints = typing.get_type_hints(cls)
    slots = []
    for field in attrs.fields(cls):
        fits, expected = _fits(hints[field.name])
        item_fits = None
        if typing.get_origin(hints[field.name]) is tuple:
            item_fits = _fits(typing.get_args(hints[field.name])[0])[0]
        slots.append(_Slot(field.name, fits, expected, item_fits))
    return tuple(slots)


#: Every class a tree or op may contain, with its fields; built once at import.
_SHAPES: dict[type, tuple[_Slot, ...]] = {
    cls: _slots(cls)
    for cls in (*ALL_NODE_KINDS, *TYPE_KINDS, TRecordField, *TOPLEVEL_KINDS, *SPEC_KINDS, Pos,
                RecordDef, EnumDef, LibFnRef, UserFnRef, TypeRef, Migration, ImpureCall,
                *OP_KINDS)
}


def shape_problem(obj: object) -> str | None:
    """What is wrong with the fields of `obj` itself (not its children), or None."""
    slots = _SHAPES.get(type(obj))
    if slots is None:
        return f"{describe(obj)} is not part of the language"
    for slot in slots:
        value = getattr(obj, slot.name)
        if slot.fits(value):
            continue
        found = describe(value)
        if isinstance(value, tuple) and slot.item_fits is not None:
            bad = next(i for i, item in enumerate(value) if not slot.item_fits(item))
            found = f"a tuple whose item {bad} is {describe(value[bad])}"
        owner = article(kind_of(obj))
        if isinstance(obj, Node):
            owner += f" (node {obj.id})"
        return f"the {slot.name} of {owner} must be {slot.expected}, not {found}"
    return None


def tree_problems(root: object) -> tuple[list[NodeId], str | None]:
    """One walk of a tree (node, toplevel, type, spec): its node ids, and the first
    malformed field, id or name in it (None when there is none).

    Ids are collected, not judged: whether they repeat or clash is up to the caller.
    """
    ids: list[NodeId] = []
    stack = [root]
    while stack:
        obj = stack.pop()
        problem = shape_problem(obj)
        if problem is not None:
            return ids, problem
        if isinstance(obj, ImpureCall):
            continue  # a test's recorded call holds values, not code (the wire checked them)
        if isinstance(obj, Node):
            if not 1 <= obj.id <= MAX_ID:
                return ids, f"node ids must be between 1 and {MAX_ID}, not {obj.id}"
            ids.append(obj.id)
            problem = node_name_problem(obj)
            if problem is not None:
                return ids, f"{article(obj.KIND)} (node {obj.id}): {problem}"
        for slot in _SHAPES[type(obj)]:
            value = getattr(obj, slot.name)
            if isinstance(value, tuple):
                stack.extend(item for item in value if attrs.has(type(item)))
            elif attrs.has(type(value)):
                stack.append(value)
    return ids, None
