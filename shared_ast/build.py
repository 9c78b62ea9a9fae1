"""A Python builder for programs, so tests and the demo canvas read like code.

    from shared_ast import build as b
    b.http("GET", "/sum/:a/:b",
           b.infix("+", b.call("Int::parse_v0", b.var("a"), rail=True),
                        b.call("Int::parse_v0", b.var("b"), rail=True)))

Python literals are lifted where an expression is expected: `1` → Int,
`1.5` → Float, `"s"` → String, `True` → Bool, `None` → Null, `[...]` → List.
Every node gets a fresh id. This is not a parser: it builds trees, it never
reads program text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
    EnumCase,
    EPartial,
    EPipe,
    EPipeTarget,
    ERecord,
    ERightPartial,
    EString,
    EVariable,
    Expr,
    LambdaParam,
    LibFnRef,
    MatchArm,
    Param,
    Pattern,
    PBool,
    PConstructor,
    PFloat,
    PHole,
    PInt,
    PNull,
    PString,
    PVariable,
    PWildcard,
    RecordField,
    TypeField,
    TypeRef,
    UserFnRef,
)
from shared_ast.toplevels import (
    CURRENT_LANGUAGE_VERSION,
    CronSpec,
    Datastore,
    EnumDef,
    Handler,
    HandlerSpec,
    HttpSpec,
    Migration,
    Pos,
    RecordDef,
    ReplSpec,
    Test,
    UserFunction,
    UserType,
    WorkerSpec,
)
from shared_ast.type_ast import Type
from shared_ast.values import ImpureCall

ExprLike = Expr | int | float | str | bool | None | list["ExprLike"]


def lift(e: ExprLike) -> Expr:
    """Turn a Python literal into the matching expression node."""
    if isinstance(e, Expr):
        return e
    if isinstance(e, bool):
        return EBool(new_id(), e)
    if isinstance(e, int):
        return EInt(new_id(), e)
    if isinstance(e, float):
        return EFloat(new_id(), e)
    if isinstance(e, str):
        return EString(new_id(), e)
    if e is None:
        return ENull(new_id())
    if isinstance(e, list):
        return EList(new_id(), tuple(lift(x) for x in e))
    raise TypeError(f"cannot build an expression from {type(e).__name__}: {e!r}")


def _lift_all(es: Iterable[ExprLike]) -> tuple[Expr, ...]:
    return tuple(lift(e) for e in es)


# ---------------------------------------------------------------- expressions


def hole() -> EHole:
    return EHole(new_id())


def int_(n: int) -> EInt:
    return EInt(new_id(), n)


def float_(x: float) -> EFloat:
    return EFloat(new_id(), x)


def str_(s: str) -> EString:
    return EString(new_id(), s)


def bool_(v: bool) -> EBool:
    return EBool(new_id(), v)


def null() -> ENull:
    return ENull(new_id())


def list_(*items: ExprLike) -> EList:
    return EList(new_id(), _lift_all(items))


def record(*fields: tuple[str, ExprLike], **kw: ExprLike) -> ERecord:
    """`record(("a", 1), b=2)`: positional pairs keep any name, keywords read nicer."""
    pairs = list(fields) + list(kw.items())
    return ERecord(new_id(), tuple(RecordField(new_id(), n, lift(v)) for n, v in pairs))


def var(name: str) -> EVariable:
    return EVariable(new_id(), name)


def let(name: str, rhs: ExprLike, body: ExprLike) -> ELet:
    return ELet(new_id(), name, lift(rhs), lift(body))


def if_(cond: ExprLike, then: ExprLike, else_: ExprLike) -> EIf:
    return EIf(new_id(), lift(cond), lift(then), lift(else_))


def lam(params: Sequence[str], body: ExprLike) -> ELambda:
    return ELambda(new_id(), tuple(LambdaParam(new_id(), p) for p in params), lift(body))


def call(qualified: str, *args: ExprLike, rail: bool = False) -> ECall:
    """A library call by its full name, `"Int::add_v0"`."""
    module, _, rest = qualified.partition("::")
    name, _, version = rest.rpartition("_v")
    if not module or not name or not version.isdigit():
        raise ValueError(f"library function names look like Module::name_v0, not {qualified!r}")
    return ECall(new_id(), LibFnRef(module, name, int(version)), _lift_all(args), rail)


def user_call(fn: UserFunction | UserFnRef, *args: ExprLike, rail: bool = False) -> ECall:
    ref = fn if isinstance(fn, UserFnRef) else UserFnRef(fn.fn_id, fn.version)
    return ECall(new_id(), ref, _lift_all(args), rail)


def infix(op: str, left: ExprLike, right: ExprLike) -> EInfix:
    return EInfix(new_id(), op, lift(left), lift(right))


def pipe(head: ExprLike, *steps: ExprLike) -> EPipe:
    return EPipe(new_id(), lift(head), _lift_all(steps))


def target() -> EPipeTarget:
    return EPipeTarget(new_id())


def field(record_: ExprLike, name: str) -> EField:
    return EField(new_id(), lift(record_), name)


def match(scrutinee: ExprLike, *arms: tuple[Pattern, ExprLike]) -> EMatch:
    return EMatch(
        new_id(), lift(scrutinee), tuple(MatchArm(new_id(), p, lift(body)) for p, body in arms)
    )


def ctor(name: str, *args: ExprLike, type_ref: TypeRef | None = None) -> EConstructor:
    return EConstructor(new_id(), name, _lift_all(args), type_ref)


def just(e: ExprLike) -> EConstructor:
    return ctor("Just", e)


def nothing() -> EConstructor:
    return ctor("Nothing")


def ok(e: ExprLike) -> EConstructor:
    return ctor("Ok", e)


def err(e: ExprLike) -> EConstructor:
    return ctor("Error", e)


def flag(name: str, cond: ExprLike, old: ExprLike, new: ExprLike) -> EFlag:
    return EFlag(new_id(), name, lift(cond), lift(old), lift(new))


def partial(text: str, old: ExprLike) -> EPartial:
    return EPartial(new_id(), text, lift(old))


def rpartial(text: str, left: ExprLike) -> ERightPartial:
    return ERightPartial(new_id(), text, lift(left))


# ------------------------------------------------------------------ patterns


def pvar(name: str) -> PVariable:
    return PVariable(new_id(), name)


def pint(n: int) -> PInt:
    return PInt(new_id(), n)


def pfloat(x: float) -> PFloat:
    return PFloat(new_id(), x)


def pstr(s: str) -> PString:
    return PString(new_id(), s)


def pbool(v: bool) -> PBool:
    return PBool(new_id(), v)


def pnull() -> PNull:
    return PNull(new_id())


def pctor(name: str, *args: Pattern) -> PConstructor:
    return PConstructor(new_id(), name, tuple(args))


def pwild() -> PWildcard:
    return PWildcard(new_id())


def phole() -> PHole:
    return PHole(new_id())


# ---------------------------------------------------------------- toplevels


def _pos(pos: tuple[int, int] | Pos | None) -> Pos:
    if pos is None:
        return Pos()
    return pos if isinstance(pos, Pos) else Pos(*pos)


def handler(
    spec: HandlerSpec,
    body: ExprLike,
    *,
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
    tlid: int | None = None,
) -> Handler:
    return Handler(tlid or new_id(), _pos(pos), language_version, spec, lift(body))


def http(method: str, route: str, body: ExprLike, **kw: object) -> Handler:
    return handler(HttpSpec(method.upper(), route), body, **kw)  # type: ignore[arg-type]


def worker(queue: str, body: ExprLike, **kw: object) -> Handler:
    return handler(WorkerSpec(queue), body, **kw)  # type: ignore[arg-type]


def cron(name: str, interval_seconds: int, body: ExprLike, **kw: object) -> Handler:
    return handler(CronSpec(name, interval_seconds), body, **kw)  # type: ignore[arg-type]


def repl(name: str, body: ExprLike, **kw: object) -> Handler:
    return handler(ReplSpec(name), body, **kw)  # type: ignore[arg-type]


def function(
    name: str,
    params: Sequence[tuple[str, Type]],
    returns: Type,
    body: ExprLike,
    *,
    version: int = 0,
    description: str = "",
    fn_id: int | None = None,
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
    tlid: int | None = None,
) -> UserFunction:
    return UserFunction(
        tlid or new_id(),
        _pos(pos),
        language_version,
        fn_id or new_id(),
        name,
        version,
        tuple(Param(new_id(), n, t) for n, t in params),
        returns,
        lift(body),
        description,
    )


def record_type(
    name: str,
    fields: Sequence[tuple[str, Type]],
    *,
    version: int = 0,
    type_id: int | None = None,
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
) -> UserType:
    definition = RecordDef(tuple(TypeField(new_id(), n, t) for n, t in fields))
    return UserType(
        new_id(), _pos(pos), language_version, type_id or new_id(), name, version, definition
    )


def enum_type(
    name: str,
    cases: Sequence[tuple[str, Sequence[tuple[str, Type]]]],
    *,
    version: int = 0,
    type_id: int | None = None,
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
) -> UserType:
    definition = EnumDef(
        tuple(
            EnumCase(new_id(), case, tuple(TypeField(new_id(), n, t) for n, t in fields))
            for case, fields in cases
        )
    )
    return UserType(
        new_id(), _pos(pos), language_version, type_id or new_id(), name, version, definition
    )


def test(
    name: str,
    body: ExprLike,
    *,
    recording: Sequence[ImpureCall] = (),
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
    tlid: int | None = None,
) -> Test:
    """A test toplevel; its body checks with `expect`."""
    return Test(tlid or new_id(), _pos(pos), language_version, name, lift(body), tuple(recording))


def expect(actual: ExprLike, expected: ExprLike) -> ECall:
    """`Test::expect actual expected`: one check of a test."""
    return call("Test::expect_v0", actual, expected)


def datastore(
    name: str,
    schema: Type,
    *,
    version: int = 0,
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
) -> Datastore:
    return Datastore(new_id(), _pos(pos), language_version, name, version, schema)


def datastore_version(
    previous: Datastore,
    schema: Type,
    rollforward: ExprLike,
    rollback: ExprLike,
    *,
    version: int | None = None,
    pos: tuple[int, int] | Pos | None = None,
    language_version: int = CURRENT_LANGUAGE_VERSION,
) -> tuple[Datastore, UserFunction, UserFunction]:
    """A new version of `previous` (next number unless `version`) with its conversions:
    `rollforward` and `rollback` are bodies in which `row` is the row to convert.
    Returns the datastore and the two functions (`Users_v1_rollforward`, ...)."""
    number = previous.version + 1 if version is None else version
    label = f"{previous.name}_v{number}"
    forward = function(f"{label}_rollforward", [("row", previous.schema)], schema, rollforward,
                       language_version=language_version)
    back = function(f"{label}_rollback", [("row", schema)], previous.schema, rollback,
                    language_version=language_version)
    migration = Migration(previous.version, previous.table,
                          UserFnRef(forward.fn_id, forward.version),
                          UserFnRef(back.fn_id, back.version))
    ds = Datastore(new_id(), _pos(pos), language_version, previous.name, number, schema,
                   migration)
    return ds, forward, back
