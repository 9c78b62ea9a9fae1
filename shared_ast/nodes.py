"""The expression and pattern trees of the Gloam language.

Programs exist only as these trees: the editor builds them with actions, tests
build them with `shared_ast.build`, the runtime decodes them from JSON. There
is no parser. Every node carries a stable `id` that survives edits, so an op
can address "the node with id 17" and a live value can be shown next to it.

Holes are ordinary nodes (`EHole`, `PHole`): every state of an unfinished
program is a tree, and every tree has a type and a value.

The classes are frozen attrs classes; change one with `attrs.evolve`.
Each concrete class has a `KIND` used as its tag on the wire.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from shared_ast.type_ast import Type

NodeId = int


@attrs.frozen
class Node:
    """Anything in a toplevel that an op can address by id."""

    KIND: ClassVar[str] = ""
    id: NodeId


# ---------------------------------------------------------------- references


@attrs.frozen
class LibFnRef:
    """A versioned standard-library function: `Module::name_vN`."""

    module: str
    name: str
    version: int

    @property
    def qualified(self) -> str:
        return f"{self.module}::{self.name}_v{self.version}"


@attrs.frozen
class UserFnRef:
    """A user function by its family id and version, so a rename never breaks callers."""

    fn_id: int
    version: int


FnRef = LibFnRef | UserFnRef


@attrs.frozen
class TypeRef:
    """A user type (record or enum) by its family id and version."""

    type_id: int
    version: int


# --------------------------------------------------------------- expressions


@attrs.frozen
class Expr(Node):
    """Base of every expression node."""


@attrs.frozen
class EHole(Expr):
    """An empty hole: evaluates to incomplete, has the gradual type `?`."""

    KIND: ClassVar[str] = "hole"


@attrs.frozen
class EInt(Expr):
    KIND: ClassVar[str] = "int"
    value: int


@attrs.frozen
class EFloat(Expr):
    KIND: ClassVar[str] = "float"
    value: float


@attrs.frozen
class EString(Expr):
    KIND: ClassVar[str] = "string"
    value: str


@attrs.frozen
class EBool(Expr):
    KIND: ClassVar[str] = "bool"
    value: bool


@attrs.frozen
class ENull(Expr):
    KIND: ClassVar[str] = "null"


@attrs.frozen
class EList(Expr):
    KIND: ClassVar[str] = "list"
    items: tuple[Expr, ...] = ()


@attrs.frozen
class RecordField(Node):
    """One `name: value` entry of a record literal; its own id lets ops insert or remove it."""

    KIND: ClassVar[str] = "record_field"
    name: str
    value: Expr


@attrs.frozen
class ERecord(Expr):
    KIND: ClassVar[str] = "record"
    fields: tuple[RecordField, ...] = ()


@attrs.frozen
class EVariable(Expr):
    KIND: ClassVar[str] = "variable"
    name: str


@attrs.frozen
class ELet(Expr):
    KIND: ClassVar[str] = "let"
    name: str
    rhs: Expr
    body: Expr


@attrs.frozen
class EIf(Expr):
    KIND: ClassVar[str] = "if"
    cond: Expr
    then: Expr
    else_: Expr


@attrs.frozen
class LambdaParam(Node):
    KIND: ClassVar[str] = "lambda_param"
    name: str


@attrs.frozen
class ELambda(Expr):
    KIND: ClassVar[str] = "lambda"
    params: tuple[LambdaParam, ...]
    body: Expr


@attrs.frozen
class ECall(Expr):
    """A call of a library or user function.

    `on_rail` sends the result to the error rail: `Just x`/`Ok x` unwrap to `x`,
    `Nothing`/`Error e` leave the handler early (HTTP 404 / 500).
    """

    KIND: ClassVar[str] = "call"
    fn: FnRef
    args: tuple[Expr, ...] = ()
    on_rail: bool = False


@attrs.frozen
class EInfix(Expr):
    """A binary operator, a call displayed infix; `shared_ast.operators` says what each op means."""

    KIND: ClassVar[str] = "infix"
    op: str
    left: Expr
    right: Expr


@attrs.frozen
class EPipeTarget(Expr):
    """Inside a pipe step: the value flowing in from the previous step."""

    KIND: ClassVar[str] = "pipe_target"


@attrs.frozen
class EPipe(Expr):
    """`head |> step |> step`; each step uses `EPipeTarget` for the value piped in.

    A step that is a hole passes its value on.
    """

    KIND: ClassVar[str] = "pipe"
    head: Expr
    steps: tuple[Expr, ...] = ()


@attrs.frozen
class EField(Expr):
    """Field access `record.field`."""

    KIND: ClassVar[str] = "field"
    record: Expr
    field: str


@attrs.frozen
class MatchArm(Node):
    KIND: ClassVar[str] = "match_arm"
    pattern: Pattern
    body: Expr


@attrs.frozen
class EMatch(Expr):
    KIND: ClassVar[str] = "match"
    scrutinee: Expr
    arms: tuple[MatchArm, ...] = ()


@attrs.frozen
class EConstructor(Expr):
    """`Just x`, `Nothing`, `Ok x`, `Error e`, or a case of a user enum (`type_ref` set)."""

    KIND: ClassVar[str] = "constructor"
    name: str
    args: tuple[Expr, ...] = ()
    type_ref: TypeRef | None = None


@attrs.frozen
class EFlag(Expr):
    """A feature flag: runs `new` only when `cond` is exactly `true`, else `old`."""

    KIND: ClassVar[str] = "flag"
    name: str
    cond: Expr
    old: Expr
    new: Expr


@attrs.frozen
class EPartial(Expr):
    """Text being typed over an old expression; evaluates to the old expression."""

    KIND: ClassVar[str] = "partial"
    text: str
    old: Expr


@attrs.frozen
class ERightPartial(Expr):
    """An operator being typed after an expression; evaluates to its left side."""

    KIND: ClassVar[str] = "right_partial"
    text: str
    left: Expr


# ------------------------------------------------------------------ patterns


@attrs.frozen
class Pattern(Node):
    """Base of every pattern node (the left side of a match arm)."""


@attrs.frozen
class PVariable(Pattern):
    KIND: ClassVar[str] = "p_variable"
    name: str


@attrs.frozen
class PInt(Pattern):
    KIND: ClassVar[str] = "p_int"
    value: int


@attrs.frozen
class PFloat(Pattern):
    KIND: ClassVar[str] = "p_float"
    value: float


@attrs.frozen
class PString(Pattern):
    KIND: ClassVar[str] = "p_string"
    value: str


@attrs.frozen
class PBool(Pattern):
    KIND: ClassVar[str] = "p_bool"
    value: bool


@attrs.frozen
class PNull(Pattern):
    KIND: ClassVar[str] = "p_null"


@attrs.frozen
class PConstructor(Pattern):
    KIND: ClassVar[str] = "p_constructor"
    name: str
    args: tuple[Pattern, ...] = ()


@attrs.frozen
class PWildcard(Pattern):
    KIND: ClassVar[str] = "p_wildcard"


@attrs.frozen
class PHole(Pattern):
    """An empty pattern: matches nothing, so an arm with it never runs."""

    KIND: ClassVar[str] = "p_hole"


# ------------------------------------------------- toplevel-owned elements


@attrs.frozen
class Param(Node):
    """A typed parameter of a user function."""

    KIND: ClassVar[str] = "param"
    name: str
    type: Type


@attrs.frozen
class TypeField(Node):
    """A named, typed field of a user record type or of an enum case."""

    KIND: ClassVar[str] = "type_field"
    name: str
    type: Type


@attrs.frozen
class EnumCase(Node):
    KIND: ClassVar[str] = "enum_case"
    name: str
    fields: tuple[TypeField, ...] = ()


EXPR_KINDS: tuple[type[Expr], ...] = (
    EHole,
    EInt,
    EFloat,
    EString,
    EBool,
    ENull,
    EList,
    ERecord,
    EVariable,
    ELet,
    EIf,
    ELambda,
    ECall,
    EInfix,
    EPipeTarget,
    EPipe,
    EField,
    EMatch,
    EConstructor,
    EFlag,
    EPartial,
    ERightPartial,
)
PATTERN_KINDS: tuple[type[Pattern], ...] = (
    PVariable,
    PInt,
    PFloat,
    PString,
    PBool,
    PNull,
    PConstructor,
    PWildcard,
    PHole,
)
ELEMENT_KINDS: tuple[type[Node], ...] = (
    RecordField,
    LambdaParam,
    MatchArm,
    Param,
    TypeField,
    EnumCase,
)
ALL_NODE_KINDS: tuple[type[Node], ...] = EXPR_KINDS + PATTERN_KINDS + ELEMENT_KINDS


def _check_kinds_unique() -> None:
    # Checked at import, pylox-style: a duplicate tag would make the wire format ambiguous.
    kinds = [k.KIND for k in ALL_NODE_KINDS]
    dupes = {k for k in kinds if kinds.count(k) > 1 or not k}
    if dupes:
        raise AssertionError(f"node KIND tags must be unique and non-empty: {sorted(dupes)}")


_check_kinds_unique()
