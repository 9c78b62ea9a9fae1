"""The type checker: every node of a toplevel gets a type and its error marks.

The checker is total, after Hazel's statics: it never raises and never stops
at the first error. Whatever the tree (holes, partials, unknown functions, a
pipe target with no pipe), `check_toplevel` returns a map from every node id to
a `NodeInfo`: the node's type and the `Mark`s the editor draws under it. A
hole has the gradual type `?`, consistent with every type, so unfinished code
checks as far as it is written.

It is bidirectional: each node is checked against the type its context expects
(an argument against the parameter's type, a lambda against the function type
a library call asks for), which is how `List::map_v0 xs (\\x -> x + 1)` knows `x`
is an element of `xs`. The unknowns are solved by `shared_ast.unify`; match
coverage is `shared_ast.check_patterns`. One toplevel is checked at a time, in
one pass over its tree, so a re-check after an edit costs that toplevel only.

The walk is recursive. A tree nested deeper than Python's stack allows (some
four hundred levels, far past anything typed by hand) gets a `too_deep` mark
on its root and `?` everywhere rather than an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs

from shared_ast import check_patterns as cov
from shared_ast import nodes as n
from shared_ast.check_patterns import (
    AMBIGUOUS_CONSTRUCTOR,
    NON_EXHAUSTIVE_MATCH,
    REDUNDANT_ARM,
    UNKNOWN_CONSTRUCTOR,
)
from shared_ast.nodes import ECall, Expr, LibFnRef, Node, NodeId, TypeField, UserFnRef
from shared_ast.operators import OPERATORS
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY, LibFunction, versions_of
from shared_ast.toplevels import (
    CronSpec,
    Datastore,
    Handler,
    HttpSpec,
    RecordDef,
    ReplSpec,
    Test,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)
from shared_ast.traverse import walk
from shared_ast.type_ast import (
    BOOL,
    FLOAT,
    INT,
    NULL,
    STRING,
    UNKNOWN,
    TDatastore,
    TDict,
    TFn,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TResult,
    TUnknown,
    TUser,
    TVar,
    Type,
    show_type,
)
from shared_ast.unify import Meta, Unifier, consistent, has_type_vars, join, user_types_in

__all__ = [
    "AMBIGUOUS_CONSTRUCTOR", "DUPLICATE_NAME", "FLAG_CONDITION_NOT_BOOL", "INTERNAL_ERROR",
    "MARK_KINDS", "MIGRATION_MISMATCH", "NON_EXHAUSTIVE_MATCH", "NOT_A_RECORD", "NOT_RAILABLE",
    "PIPE_TARGET_OUTSIDE_PIPE", "REDUNDANT_ARM", "REQUEST_TYPE", "TEST_ONLY", "TOO_DEEP",
    "TYPE_MISMATCH", "UNBOUND_VARIABLE", "UNKNOWN_CONSTRUCTOR", "UNKNOWN_FIELD", "UNKNOWN_FUNCTION",
    "UNKNOWN_OPERATOR", "UNKNOWN_TYPE", "UNKNOWN_VERSION", "WRONG_ARITY", "Mark", "NodeInfo",
    "check_expr", "check_toplevel", "consistent", "datastore_env", "handler_env", "join",
]

# ------------------------------------------------------------------ marks

UNBOUND_VARIABLE = "unbound_variable"
TYPE_MISMATCH = "type_mismatch"
WRONG_ARITY = "wrong_arity"
UNKNOWN_FUNCTION = "unknown_function"
UNKNOWN_VERSION = "unknown_version"
UNKNOWN_FIELD = "unknown_field"
NOT_A_RECORD = "not_a_record"
FLAG_CONDITION_NOT_BOOL = "flag_condition_not_bool"
UNKNOWN_TYPE = "unknown_type"
UNKNOWN_OPERATOR = "unknown_operator"
PIPE_TARGET_OUTSIDE_PIPE = "pipe_target_outside_pipe"
NOT_RAILABLE = "not_railable"
DUPLICATE_NAME = "duplicate_name"
MIGRATION_MISMATCH = "migration_mismatch"
#: A `Test::` function outside a test, or an impure call in a test that nothing replays.
TEST_ONLY = "test_only"
#: The tree is nested deeper than Python's stack allows; its nodes are typed `?`.
TOO_DEEP = "too_deep"
#: A bug in the checker, caught so that the editor still gets an answer.
INTERNAL_ERROR = "internal_error"

MARK_KINDS: tuple[str, ...] = (
    UNBOUND_VARIABLE, TYPE_MISMATCH, WRONG_ARITY, UNKNOWN_FUNCTION, UNKNOWN_VERSION,
    UNKNOWN_FIELD, NOT_A_RECORD, NON_EXHAUSTIVE_MATCH, REDUNDANT_ARM, FLAG_CONDITION_NOT_BOOL,
    MIGRATION_MISMATCH, TEST_ONLY,
    UNKNOWN_CONSTRUCTOR, AMBIGUOUS_CONSTRUCTOR, UNKNOWN_TYPE, UNKNOWN_OPERATOR,
    PIPE_TARGET_OUTSIDE_PIPE, NOT_RAILABLE, DUPLICATE_NAME, TOO_DEEP, INTERNAL_ERROR,
)


@attrs.frozen
class Mark:
    """An error drawn under a node; `expected`/`found` are set for type mismatches."""

    kind: str
    message: str
    expected: Type | None = None
    found: Type | None = None


@attrs.frozen
class NodeInfo:
    """What the checker knows of one node."""

    type: Type
    marks: tuple[Mark, ...] = ()
    #: The type the context asks for at this node (`?` when it asks nothing), so the
    #: editor can rank what fits a hole. Not part of equality: it is a hint.
    expected: Type = attrs.field(default=UNKNOWN, eq=False)


@attrs.frozen
class _Pending:
    kind: str
    #: None for a type mismatch: worded at the end, when the types are as solved as they get.
    message: str | None
    expected: Type | None = None
    found: Type | None = None


# --------------------------------------------------------------- handlers

REQUEST_TYPE = TRecord((
    TRecordField("body", UNKNOWN),
    TRecordField("query", TDict(STRING)),
    TRecordField("headers", TDict(STRING)),
    TRecordField("path", STRING),
    TRecordField("method", STRING),
))


def datastore_env(program: Program) -> dict[str, Type]:
    """Every datastore as the variable code names it by: `Notes_v0 : Datastore<schema>`."""
    return {name: TDatastore(ds.schema) for name, ds in program.datastore_variables().items()}


def handler_env(handler: Handler) -> dict[str, Type]:
    """The variables the runtime binds before a handler's body runs, with their types."""
    match handler.spec:
        case HttpSpec():
            env: dict[str, Type] = {"request": REQUEST_TYPE}
            env.update((p, STRING) for p in handler.spec.route_params())
            return env
        case WorkerSpec():
            return {"event": UNKNOWN}
        case CronSpec() | ReplSpec():
            return {}
    return {}


#: Whether a library function's signature has no type variables, so it needs no
#: instantiation; keyed by name, checked against the registered object.
_MONOMORPHIC: dict[str, tuple[LibFunction, bool]] = {}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


Signature = tuple[str, tuple[Type, ...], Type]


class _Checker(cov.PatternRules):
    """One check of one tree: the solved types so far, the marks, the variables in scope."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.u = Unifier(program)
        self.types: dict[NodeId, Type] = {}
        self.expected: dict[NodeId, Type] = {}
        self.marks: dict[NodeId, list[_Pending]] = {}
        self.env: dict[str, Type] = {}
        self.piped: list[Type] = []
        self._type_names: dict[tuple[int, int], str] | None = None
        self._enum_families: dict[tuple[int, int], cov.Family] = {}

    # ------------------------------------------------------------ helpers

    def mark(self, node_id: NodeId, kind: str, message: str | None,
             expected: Type | None = None, found: Type | None = None) -> None:
        self.marks.setdefault(node_id, []).append(_Pending(kind, message, expected, found))

    def mismatch(self, node_id: NodeId, expected: Type, found: Type) -> None:
        self.mark(node_id, TYPE_MISMATCH, None, expected, found)

    def wrong_arity(self, node_id: NodeId, label: str, wanted: int, given: int) -> None:
        self.mark(node_id, WRONG_ARITY, f"{label} takes {_plural(wanted, 'argument')}, not {given}")

    def duplicate(self, node_id: NodeId, message: str) -> None:
        self.mark(node_id, DUPLICATE_NAME, message)

    def internal(self, node_id: NodeId, message: str) -> None:
        self.mark(node_id, INTERNAL_ERROR, message)

    def show(self, t: Type) -> str:
        if self._type_names is None:
            self._type_names = self.program.type_names()
        return show_type(self.u.zonk(t), self._type_names)

    def bind(self, names: Mapping[str, Type]) -> list[tuple[str, Type | None]]:
        saved = [(name, self.env.get(name)) for name in names]
        self.env.update(names)
        return saved

    def restore(self, saved: list[tuple[str, Type | None]]) -> None:
        for name, old in reversed(saved):
            if old is None:
                self.env.pop(name, None)
            else:
                self.env[name] = old

    def branch_type(self, expected: Type) -> Type:
        """What each branch of an if/match/flag is checked against.

        With nothing expected, the branches must still agree with each other:
        a fresh meta takes the first branch's type and marks a later one that differs.
        """
        if isinstance(self.u.resolve(expected), TUnknown | TVar):
            return self.u.fresh()
        return expected

    def join_branches(self, start: Type, branches: Iterable[Type]) -> Type:
        result = start
        for t in branches:
            if self.u.unify(result, t):
                result = self.u.join(result, t)
        return result

    # -------------------------------------------------------- expressions

    def check(self, e: Expr, expected: Type) -> Type:
        """The type of `e`, recorded with its marks; marks a mismatch with `expected`."""
        synth = _SYNTH.get(type(e))
        if synth is None:
            self.mark(e.id, INTERNAL_ERROR, f"the checker has no rule for {type(e).__name__}")
            t: Type = UNKNOWN
        elif isinstance(expected, TUnknown):
            t = synth(self, e, expected)
        else:
            t = synth(self, e, expected)
            self.expected[e.id] = expected
            if type(e) not in _SELF_CHECKED and not self.u.unify(expected, t):
                self.mismatch(e.id, expected, t)
        self.types[e.id] = t
        return t

    def _list(self, e: n.EList, expected: Type) -> Type:
        want = self.u.resolve(expected)
        elem = want.elem if isinstance(want, TList) else self.u.fresh()
        result = elem
        for item in e.items:
            t = self.check(item, elem)
            if self.u.unify(result, t):
                result = self.u.join(result, t)
        return TList(result)

    def _record(self, e: n.ERecord, expected: Type) -> Type:
        want = self.u.resolve(expected)
        if isinstance(want, TUser):
            want = self.u.user_record(want) or UNKNOWN
        seen: set[str] = set()
        fields: list[TRecordField] = []
        for f in e.fields:
            field_want = (want.field(f.name) if isinstance(want, TRecord) else None) or UNKNOWN
            t = self.check(f.value, field_want)
            self.types[f.id] = t
            if f.name in seen:
                self.mark(f.id, DUPLICATE_NAME, f"the field {f.name} is already set in this record")
                continue
            seen.add(f.name)
            # A field already marked against what was wanted should not be marked again
            # on the whole record, so the record takes the wanted type there.
            known = not isinstance(self.u.resolve(field_want), TUnknown)
            fields.append(TRecordField(f.name, field_want if known else t))
        return TRecord(tuple(fields))

    def _variable(self, e: n.EVariable, expected: Type) -> Type:
        t = self.env.get(e.name)
        if t is None:
            self.mark(e.id, UNBOUND_VARIABLE, f"there is no variable named {e.name!r} here")
            return UNKNOWN
        return t

    def _let(self, e: n.ELet, expected: Type) -> Type:
        rhs = self.check(e.rhs, UNKNOWN)
        saved = self.bind({e.name: rhs} if e.name else {})
        body = self.check(e.body, expected)
        self.restore(saved)
        return body

    def _if(self, e: n.EIf, expected: Type) -> Type:
        self.check(e.cond, BOOL)
        branch = self.branch_type(expected)
        then = self.check(e.then, branch)
        else_ = self.check(e.else_, branch)
        return self.join_branches(branch, (then, else_))

    def _lambda(self, e: n.ELambda, expected: Type) -> Type:
        want = self.u.resolve(expected)
        arity = len(e.params)
        if isinstance(want, Meta):
            fn = TFn(tuple(self.u.fresh() for _ in e.params), self.u.fresh())
            self.u.unify(want, fn)
            want = fn
        params: tuple[Type, ...] = (UNKNOWN,) * arity
        ret: Type = UNKNOWN
        if isinstance(want, TFn):
            if len(want.params) == arity:
                params, ret = want.params, want.ret
            else:
                self.mark(e.id, WRONG_ARITY,
                          f"this function takes {_plural(arity, 'argument')}, but one that "
                          f"takes {len(want.params)} is expected here")
        bound: dict[str, Type] = {}
        for p, t in zip(e.params, params, strict=True):
            self.types[p.id] = t
            if p.name in bound:
                self.mark(p.id, DUPLICATE_NAME, f"the parameter {p.name} is already named")
            if p.name:
                bound[p.name] = t
        saved = self.bind(bound)
        body = self.check(e.body, ret)
        self.restore(saved)
        result = TFn(params, ret if not isinstance(self.u.resolve(ret), TUnknown) else body)
        if not isinstance(want, TFn | TUnknown | TVar) and not self.u.unify(want, result):
            self.mismatch(e.id, expected, result)
        return result

    def _call(self, e: n.ECall, expected: Type) -> Type:
        signature = self.signature(e.id, e.fn)
        if signature is None:
            for arg in e.args:
                self.check(arg, UNKNOWN)
            result: Type = UNKNOWN
        else:
            label, params, result = signature
            if len(e.args) != len(params):
                self.wrong_arity(e.id, label, len(params), len(e.args))
            for i, arg in enumerate(e.args):
                self.check(arg, params[i] if i < len(params) else UNKNOWN)
        return self.rail(e, result) if e.on_rail else result

    def signature(self, node_id: NodeId, ref: LibFnRef | UserFnRef) -> Signature | None:
        """Parameter and return types of the called function, instantiated; marks if none."""
        if isinstance(ref, LibFnRef):
            fn = LIBRARY.get(ref.qualified)
            if fn is None:
                versions = versions_of(ref.module, ref.name)
                if versions:
                    have = ", ".join(f"v{f.version}" for f in versions)
                    self.mark(node_id, UNKNOWN_VERSION, f"{ref.module}::{ref.name} has no "
                                                        f"version {ref.version}; it has {have}")
                else:
                    self.mark(node_id, UNKNOWN_FUNCTION,
                              f"there is no library function {ref.qualified}")
                return None
            return self.lib_signature(fn)
        user = self.program.function(ref)
        if user is None:
            siblings = self.program.function_versions(ref.fn_id)
            if siblings:
                have = ", ".join(f"v{f.version}" for f in siblings)
                self.mark(node_id, UNKNOWN_VERSION, f"{siblings[0].name} has no version "
                                                    f"{ref.version}; it has {have}")
            else:
                self.mark(node_id, UNKNOWN_FUNCTION, f"there is no function #{ref.fn_id}")
            return None
        *params, result = self.u.instantiate_all((*(p.type for p in user.params),
                                                   user.return_type))
        return user.qualified, tuple(params), result

    def lib_signature(self, fn: LibFunction) -> Signature:
        plain = _MONOMORPHIC.get(fn.qualified)
        if plain is None or plain[0] is not fn:
            ts = (*(p.type for p in fn.params), fn.return_type)
            plain = _MONOMORPHIC[fn.qualified] = (fn, not any(has_type_vars(t) for t in ts))
        if plain[1]:
            return fn.qualified, tuple(p.type for p in fn.params), fn.return_type
        *params, result = self.u.instantiate_all((*(p.type for p in fn.params), fn.return_type))
        return fn.qualified, tuple(params), result

    def rail(self, e: n.ECall, result: Type) -> Type:
        """The type a call on the error rail yields: what is inside its Option or Result."""
        resolved = self.u.resolve(result)
        match resolved:
            case TOption(inner):
                return inner
            case TResult(ok, _):
                return ok
            case TUnknown() | TVar() | Meta():
                return UNKNOWN
        self.mark(e.id, NOT_RAILABLE, "only a call that returns an Option or a Result can go on "
                                      f"the error rail; this one returns {self.show(result)}")
        return result

    def _infix(self, e: n.EInfix, expected: Type) -> Type:
        op = OPERATORS.get(e.op)
        if op is None:
            self.mark(e.id, UNKNOWN_OPERATOR, f"there is no operator {e.op}")
        elif op.lib_fn is None:
            if e.op in ("&&", "||"):
                self.check(e.left, BOOL)
                self.check(e.right, BOOL)
                return BOOL
            # == and != compare two values of one type, whichever it is.
            left = self.check(e.left, UNKNOWN)
            self.check(e.right, left)
            return BOOL
        else:
            fn = LIBRARY.get(op.lib_fn)
            if fn is None:
                self.mark(e.id, UNKNOWN_FUNCTION,
                          f"{e.op} stands for {op.lib_fn}, which is not in the library")
            else:
                _, params, result = self.lib_signature(fn)
                if len(params) != 2:
                    self.mark(e.id, WRONG_ARITY, f"{e.op} stands for {fn.qualified}, which takes "
                                                 f"{_plural(len(params), 'argument')}, not 2")
                self.check(e.left, params[0] if params else UNKNOWN)
                self.check(e.right, params[1] if len(params) > 1 else UNKNOWN)
                return result
        self.check(e.left, UNKNOWN)
        self.check(e.right, UNKNOWN)
        return UNKNOWN

    def _pipe_target(self, e: n.EPipeTarget, expected: Type) -> Type:
        if not self.piped:
            self.mark(e.id, PIPE_TARGET_OUTSIDE_PIPE, "the piped value only exists in a pipe step")
            return UNKNOWN
        return self.piped[-1]

    def _pipe(self, e: n.EPipe, expected: Type) -> Type:
        value = self.check(e.head, UNKNOWN)
        for step in e.steps:
            if isinstance(step, n.EHole):
                self.check(step, UNKNOWN)  # an empty step passes the value on
            elif isinstance(step, n.ELambda):
                ret = self.u.fresh()
                self.check(step, TFn((value,), ret))
                value = ret
            else:
                self.piped.append(value)
                value = self.check(step, UNKNOWN)
                self.piped.pop()
        return value

    def _field(self, e: n.EField, expected: Type) -> Type:
        record = self.u.resolve(self.check(e.record, UNKNOWN))
        if not e.field:
            return UNKNOWN  # the name is still being typed
        match record:
            case TUnknown() | TVar() | Meta():
                return UNKNOWN
            case TDict(value):
                return value
            case TUser() if self.program.type(record.type_id, record.version) is None:
                return UNKNOWN  # marked where the missing type is named
            case TUser():
                fields = self.u.user_record(record)
                if fields is None:
                    self.mark(e.id, NOT_A_RECORD, f"{self.show(record)} is an enum, not a record; "
                                                  "use match to look inside it")
                    return UNKNOWN
                record = fields
        if isinstance(record, TRecord):
            found = record.field(e.field)
            if found is None:
                have = ", ".join(f.name for f in record.fields) or "none"
                self.mark(e.id, UNKNOWN_FIELD, f"there is no field {e.field} here; "
                                               f"the fields are: {have}")
                return UNKNOWN
            return found
        self.mark(e.id, NOT_A_RECORD, f"a {self.show(record)} has no fields")
        return UNKNOWN

    def _constructor(self, e: n.EConstructor, expected: Type) -> Type:
        if e.type_ref is None and e.name in cov.BUILTIN_CONSTRUCTORS:
            made, wants = cov.builtin_constructor(e.name, self.u)
            # Known from the context first, so a wrong argument is marked, not the whole value.
            self.u.unify(expected, made)
            self.constructor_args(e, e.name, wants)
            return made
        ref = e.type_ref
        if ref is not None and self.program.type(ref.type_id, ref.version) is None:
            self.mark(e.id, UNKNOWN_TYPE, f"there is no type #{ref.type_id} v{ref.version}")
            found = None
        else:
            found = self.user_case(e.id, e.name, ref, expected)
        if found is None:
            for arg in e.args:
                self.check(arg, UNKNOWN)
            return UNKNOWN
        user, case = found
        self.constructor_args(e, case.name, tuple(f.type for f in case.fields))
        return user

    def constructor_args(self, e: n.EConstructor, label: str, wants: tuple[Type, ...]) -> None:
        if len(e.args) != len(wants):
            self.wrong_arity(e.id, label, len(wants), len(e.args))
        for i, arg in enumerate(e.args):
            self.check(arg, wants[i] if i < len(wants) else UNKNOWN)

    def _flag(self, e: n.EFlag, expected: Type) -> Type:
        cond = self.check(e.cond, UNKNOWN)
        if not self.u.unify(BOOL, cond):
            self.mark(e.cond.id, FLAG_CONDITION_NOT_BOOL,
                      f"a flag's condition must be a Bool, not {self.show(cond)}: "
                      "only exactly true runs the new code", BOOL, cond)
        branch = self.branch_type(expected)
        old = self.check(e.old, branch)
        new = self.check(e.new, branch)
        return self.join_branches(branch, (old, new))

    def _partial(self, e: n.EPartial, expected: Type) -> Type:
        return self.check(e.old, expected)

    def _right_partial(self, e: n.ERightPartial, expected: Type) -> Type:
        return self.check(e.left, expected)

    def _match(self, e: n.EMatch, expected: Type) -> Type:
        scrutinee = self.check(e.scrutinee, UNKNOWN)
        branch = self.branch_type(expected)
        shapes: list[cov.Shape | None] = []
        bodies: list[Type] = []
        for arm in e.arms:
            bound: dict[str, Type] = {}
            shapes.append(self.pattern(arm.pattern, scrutinee, bound))
            saved = self.bind(bound)
            body = self.check(arm.body, branch)
            self.restore(saved)
            self.types[arm.id] = body
            bodies.append(body)
        self.coverage(e.id, [arm.id for arm in e.arms], scrutinee, shapes)
        return self.join_branches(branch, bodies)

    # ---------------------------------------------------------- toplevels

    def declared(self, node_id: NodeId, t: Type) -> None:
        """Marks every user type named in a declared type that the program does not have."""
        for user in user_types_in(t):
            if self.program.type(user.type_id, user.version) is not None:
                continue
            have = sorted(v for (tid, v) in self.program.types if tid == user.type_id)
            if have:
                name = self.program.types[(user.type_id, have[0])].name
                versions = ", ".join(f"v{v}" for v in have)
                message = f"{name} has no version {user.version}; it has {versions}"
            else:
                message = f"there is no type {show_type(user)}"
            self.mark(node_id, UNKNOWN_TYPE, message)

    def type_fields(self, fields: tuple[TypeField, ...], owner: str) -> None:
        seen: set[str] = set()
        for f in fields:
            self.types[f.id] = f.type
            self.declared(f.id, f.type)
            if f.name in seen:
                self.mark(f.id, DUPLICATE_NAME, f"{owner} already has a field {f.name}")
            seen.add(f.name)

    def toplevel(self, tl: Toplevel) -> None:
        match tl:
            case Handler():
                self.env = {**datastore_env(self.program), **handler_env(tl)}
                self.types[tl.tlid] = self.check(tl.body, UNKNOWN)
            case UserFunction():
                env: dict[str, Type] = {}
                for p in tl.params:
                    self.types[p.id] = p.type
                    self.declared(p.id, p.type)
                    if p.name in env:
                        self.mark(p.id, DUPLICATE_NAME, f"{tl.name} already has a parameter "
                                                        f"{p.name}")
                    if p.name:
                        env[p.name] = p.type
                self.declared(tl.tlid, tl.return_type)
                self.types[tl.tlid] = TFn(tuple(p.type for p in tl.params), tl.return_type)
                self.env = {**datastore_env(self.program), **env}
                self.check(tl.body, tl.return_type)
            case UserType():
                self.types[tl.tlid] = TUser(tl.type_id, tl.version)
                label = f"{tl.name}_v{tl.version}"
                if isinstance(tl.definition, RecordDef):
                    self.type_fields(tl.definition.fields, label)
                else:
                    seen: set[str] = set()
                    for case in tl.definition.cases:
                        self.types[case.id] = TUser(tl.type_id, tl.version)
                        if case.name in seen:
                            self.mark(case.id, DUPLICATE_NAME, f"{label} already has a case "
                                                               f"{case.name}")
                        seen.add(case.name)
                        self.type_fields(case.fields, case.name)
            case Datastore():
                self.types[tl.tlid] = tl.schema
                self.declared(tl.tlid, tl.schema)
                self.migration(tl)
            case Test():
                self.env = datastore_env(self.program)
                self.types[tl.tlid] = self.check(tl.body, UNKNOWN)
            case _:
                self.types[tl.tlid] = UNKNOWN
                self.mark(tl.tlid, INTERNAL_ERROR, f"the checker has no rule for {tl.KIND}")

    def test_calls(self, tl: Toplevel) -> None:
        """`Test::` functions run only in tests; in a test, an impure call runs only when
        the test's recording replays it."""
        recorded = {c.name for c in tl.recording} if isinstance(tl, Test) else set()
        for node in walk(tl):
            if not isinstance(node, ECall) or not isinstance(node.fn, LibFnRef):
                continue
            qualified = node.fn.qualified
            if node.fn.module == "Test" and not isinstance(tl, Test):
                self.mark(node.id, TEST_ONLY,
                          f"{qualified} runs only in a test: move this check into a test "
                          "toplevel")
                continue
            lib = LIBRARY.get(qualified)
            if isinstance(tl, Test) and lib is not None and not lib.pure \
                    and qualified not in recorded:
                self.mark(node.id, TEST_ONLY,
                          f"{qualified} is impure, and a test never touches the world: test "
                          "the function that computes the value, or make the test from a "
                          "trace, which replays the calls its request made")

    def migration(self, ds: Datastore) -> None:
        """A version's conversions must take and give rows of the two versions' schemas."""
        m = ds.migration
        source = None if m is None else self.program.datastore(ds.name, m.from_version)
        if m is None or source is None:
            return  # a first version, or the one it came from is gone (its rows converted)
        if source.table != m.table:
            self.mark(ds.tlid, MIGRATION_MISMATCH,
                      f"{ds.qualified} keeps its rows with {ds.name}_v{m.table}, but "
                      f"{source.qualified}, which it migrates from, keeps them with "
                      f"{ds.name}_v{source.table}: they would not share rows. Make the new "
                      f"version from {source.qualified} again (New datastore version)")
        for label, ref, takes, gives in (
                ("rollforward", m.rollforward, source, ds), ("rollback", m.rollback, ds, source)):
            fn = self.program.function(ref)
            if fn is None:
                self.mark(ds.tlid, UNKNOWN_FUNCTION,
                          f"{ds.qualified}'s {label} function is missing: rows of "
                          f"{takes.qualified} cannot be read through {gives.qualified}")
                continue
            if len(fn.params) != 1:
                self.mark(ds.tlid, WRONG_ARITY, f"{ds.qualified}'s {label} {fn.name} must take "
                                                f"one parameter, the row of {takes.qualified}")
                continue
            for what, declared, schema, owner in (
                    ("takes", fn.params[0].type, takes.schema, takes),
                    ("gives", fn.return_type, gives.schema, gives)):
                if not consistent(declared, schema, self.program):
                    self.mark(ds.tlid, MIGRATION_MISMATCH,
                              f"{ds.qualified}'s {label} {fn.name} {what} "
                              f"{self.show(declared)}, but a row of {owner.qualified} is "
                              f"{self.show(schema)}: make them agree", schema, declared)

    # -------------------------------------------------------------- answer

    def final_type(self, t: Type) -> Type:
        try:
            return self.u.zonk(t)
        except RecursionError:
            return UNKNOWN

    def final_mark(self, m: _Pending) -> Mark:
        expected = None if m.expected is None else self.final_type(m.expected)
        found = None if m.found is None else self.final_type(m.found)
        message = m.message
        if message is None:
            try:
                message = (f"expected {self.show(expected or UNKNOWN)}, "
                           f"found {self.show(found or UNKNOWN)}")
            except RecursionError:
                message = "the types do not agree"
        return Mark(m.kind, message, expected, found)

    def answer(self) -> dict[NodeId, NodeInfo]:
        out: dict[NodeId, NodeInfo] = {}
        for node_id, t in self.types.items():
            pending = self.marks.get(node_id)
            marks = tuple(self.final_mark(m) for m in pending) if pending else ()
            want = self.expected.get(node_id)
            out[node_id] = NodeInfo(self.final_type(t), marks,
                                    UNKNOWN if want is None else self.final_type(want))
        for node_id, pending in self.marks.items():
            if node_id not in out:
                out[node_id] = NodeInfo(UNKNOWN, tuple(self.final_mark(m) for m in pending))
        return out


#: One rule per expression kind; checked against `n.EXPR_KINDS` below, at import.
_SYNTH: dict[type[Expr], Callable[..., Type]] = {
    n.EHole: lambda c, e, t: UNKNOWN, n.EInt: lambda c, e, t: INT,
    n.EFloat: lambda c, e, t: FLOAT, n.EString: lambda c, e, t: STRING,
    n.EBool: lambda c, e, t: BOOL, n.ENull: lambda c, e, t: NULL,
    n.EList: _Checker._list, n.ERecord: _Checker._record, n.EVariable: _Checker._variable,
    n.ELet: _Checker._let, n.EIf: _Checker._if, n.ELambda: _Checker._lambda,
    n.ECall: _Checker._call, n.EInfix: _Checker._infix, n.EPipeTarget: _Checker._pipe_target,
    n.EPipe: _Checker._pipe, n.EField: _Checker._field, n.EMatch: _Checker._match,
    n.EConstructor: _Checker._constructor, n.EFlag: _Checker._flag,
    n.EPartial: _Checker._partial, n.ERightPartial: _Checker._right_partial,
}

#: Kinds that check their parts against the expected type themselves, so a
#: mismatch is marked once, on the part that is wrong, not again on the whole.
_SELF_CHECKED: frozenset[type[Expr]] = frozenset(
    {n.ELet, n.EIf, n.ELambda, n.EMatch, n.EFlag, n.EPartial, n.ERightPartial}
)


def _check_rules_cover_every_kind() -> None:
    missing = [k.__name__ for k in n.EXPR_KINDS if k not in _SYNTH]
    if missing:
        raise AssertionError(f"the checker has no rule for: {missing}")


_check_rules_cover_every_kind()


# -------------------------------------------------------------- entry points


def _root_id(root: Node | Toplevel) -> NodeId:
    return root.tlid if isinstance(root, Toplevel) else root.id


def _run(checker: _Checker, root: Node | Toplevel,
         body: Callable[[], object]) -> dict[NodeId, NodeInfo]:
    failure: tuple[str, str] | None = None
    try:
        body()
    except RecursionError:
        failure = (TOO_DEEP, "this code is nested too deeply to check; its types are unknown")
    except Exception as exc:  # the checker is total: a bug becomes a mark, never a crash
        failure = (INTERNAL_ERROR, f"the checker failed here ({type(exc).__name__}: {exc})")
    if failure is not None:
        checker.mark(_root_id(root), *failure)
        checker.types.setdefault(_root_id(root), UNKNOWN)
        for node in walk(root):
            checker.types.setdefault(node.id, UNKNOWN)
    try:
        return checker.answer()
    except Exception as exc:  # same promise for the last step
        mark = Mark(INTERNAL_ERROR, f"the checker failed here ({type(exc).__name__}: {exc})")
        out = {node.id: NodeInfo(UNKNOWN) for node in walk(root)}
        out[_root_id(root)] = NodeInfo(UNKNOWN, (mark,))
        return out


def check_expr(
    expr: Expr,
    env: Mapping[str, Type] | None = None,
    program: Program | None = None,
    expected: Type = UNKNOWN,
) -> dict[NodeId, NodeInfo]:
    """Types and marks of every node of `expr`, with `env` in scope, checked against `expected`."""
    checker = _Checker(program if program is not None else Program())
    checker.env = dict(env or {})
    return _run(checker, expr, lambda: checker.check(expr, expected))


def _program_with(program: Program | None, tl: Toplevel) -> Program:
    """`program` with `tl` in it, so a function's own recursion and a type's own name resolve."""
    program = program if program is not None else Program()
    if isinstance(tl, UserFunction) and program.functions.get((tl.fn_id, tl.version)) is not tl:
        return attrs.evolve(program, functions={**program.functions, (tl.fn_id, tl.version): tl})
    if isinstance(tl, UserType) and program.types.get((tl.type_id, tl.version)) is not tl:
        return attrs.evolve(program, types={**program.types, (tl.type_id, tl.version): tl})
    return program


def check_toplevel(tl: Toplevel, program: Program | None = None) -> dict[NodeId, NodeInfo]:
    """Types and marks of every node of `tl` (its tlid included), in the scope its kind gives."""
    checker = _Checker(_program_with(program, tl))

    def check() -> None:
        checker.toplevel(tl)
        if isinstance(tl, Handler | UserFunction | Test):
            checker.test_calls(tl)

    return _run(checker, tl, check)
