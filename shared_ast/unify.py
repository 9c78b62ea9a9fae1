"""Gradual unification of Gloam types: the engine under the checker.

The checker infers the types it is not told (the element type a lambda passed
to `List::map_v0` receives, the type a match arm's variable stands for) by
solving equations between types. The unknowns are `Meta` variables: a fresh one
for each type variable of a library signature at each call, and wherever a
construct needs a type it has not seen yet. One `Unifier` holds the solution
for one check of one toplevel; it only grows, so nothing is ever copied.

The gradual type `?` is consistent with every type and binds nothing: a hole
never decides what a variable is. A type variable left in a user's declared
type is treated like `?` too. User types are nominal, except that a record
literal (`TRecord`) fits a user record type with exactly the same fields.

`consistent` and `join` are the public face, for callers that have plain types
(the editor ranks the functions whose type fits a hole with `consistent`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import attrs

from shared_ast.program import Program
from shared_ast.toplevels import RecordDef
from shared_ast.type_ast import (
    UNKNOWN,
    TBool,
    TChar,
    TDatastore,
    TDate,
    TDict,
    TFloat,
    TFn,
    TInt,
    TList,
    TNull,
    TOption,
    TRecord,
    TRecordField,
    TResponse,
    TResult,
    TString,
    TUnknown,
    TUser,
    TUuid,
    TVar,
    Type,
)

__all__ = ["Meta", "Unifier", "consistent", "has_type_vars", "join", "user_types_in"]


@attrs.frozen
class Meta(Type):
    """An unknown the checker is solving for; never leaves the checker.

    `show_type` does not know this kind and shows it as `?`, which is what an
    unsolved one means to a reader.
    """

    KIND: ClassVar[str] = "t_meta"
    n: int


#: Types with no parts, which no meta can hide in.
_LEAVES = frozenset({TUnknown, TInt, TFloat, TBool, TString, TChar, TNull, TDate, TUuid,
                     TResponse, TUser, TVar})


def _is_gradual(t: Type) -> bool:
    return isinstance(t, TUnknown | TVar)


class Unifier:
    """Solves type equations for one check; `unify` says whether two types can agree."""

    def __init__(self, program: Program | None = None) -> None:
        self.program = program if program is not None else Program()
        self._solution: dict[int, Type] = {}
        self._count = 0
        self._records: dict[tuple[int, int], TRecord | None] = {}

    # ---------------------------------------------------------------- metas

    def fresh(self) -> Meta:
        self._count += 1
        return Meta(self._count)

    def resolve(self, t: Type) -> Type:
        """`t` with its outermost solved metas followed; the children are left as they are."""
        while isinstance(t, Meta):
            found = self._solution.get(t.n)
            if found is None:
                return t
            t = found
        return t

    def zonk(self, t: Type) -> Type:
        """`t` with every solved meta replaced by its solution, and unsolved ones by `?`."""
        if type(t) in _LEAVES:
            return t
        t = self.resolve(t)
        match t:
            case Meta():
                return UNKNOWN
            case TList(elem):
                z = self.zonk(elem)
                return t if z is elem else TList(z)
            case TDict(value):
                z = self.zonk(value)
                return t if z is value else TDict(z)
            case TOption(inner):
                z = self.zonk(inner)
                return t if z is inner else TOption(z)
            case TResult(ok, err):
                zo, ze = self.zonk(ok), self.zonk(err)
                return t if zo is ok and ze is err else TResult(zo, ze)
            case TFn(params, ret):
                zp = tuple(self.zonk(p) for p in params)
                zr = self.zonk(ret)
                same = zr is ret and all(a is b for a, b in zip(zp, params, strict=True))
                return t if same else TFn(zp, zr)
            case TRecord(fields):
                zf = tuple(TRecordField(f.name, self.zonk(f.type)) for f in fields)
                same = all(a.type is b.type for a, b in zip(zf, fields, strict=True))
                return t if same else TRecord(zf)
            case TDatastore(schema):
                z = self.zonk(schema)
                return t if z is schema else TDatastore(z)
        return t

    def instantiate_all(self, ts: tuple[Type, ...]) -> tuple[Type, ...]:
        """A signature's types with its type variables replaced by fresh metas, one per name."""
        if not any(has_type_vars(t) for t in ts):
            return ts
        names: dict[str, Type] = {}
        return tuple(self.instantiate(t, names) for t in ts)

    def instantiate(self, t: Type, names: dict[str, Type]) -> Type:
        """`t` with each `TVar` replaced by the meta `names` gives it (fresh the first time)."""
        match t:
            case TVar(name):
                found = names.get(name)
                if found is None:
                    found = names[name] = self.fresh()
                return found
            case TList(elem):
                return TList(self.instantiate(elem, names))
            case TDict(value):
                return TDict(self.instantiate(value, names))
            case TOption(inner):
                return TOption(self.instantiate(inner, names))
            case TResult(ok, err):
                return TResult(self.instantiate(ok, names), self.instantiate(err, names))
            case TFn(params, ret):
                return TFn(tuple(self.instantiate(p, names) for p in params),
                           self.instantiate(ret, names))
            case TRecord(fields):
                return TRecord(tuple(TRecordField(f.name, self.instantiate(f.type, names))
                                     for f in fields))
            case TDatastore(schema):
                return TDatastore(self.instantiate(schema, names))
        return t

    def _occurs(self, meta: Meta, t: Type) -> bool:
        t = self.resolve(t)
        match t:
            case Meta(n):
                return n == meta.n
            case TList(elem):
                return self._occurs(meta, elem)
            case TDict(value):
                return self._occurs(meta, value)
            case TOption(inner):
                return self._occurs(meta, inner)
            case TResult(ok, err):
                return self._occurs(meta, ok) or self._occurs(meta, err)
            case TFn(params, ret):
                return any(self._occurs(meta, p) for p in params) or self._occurs(meta, ret)
            case TRecord(fields):
                return any(self._occurs(meta, f.type) for f in fields)
            case TDatastore(schema):
                return self._occurs(meta, schema)
        return False

    # ----------------------------------------------------------- user types

    def user_record(self, t: TUser) -> TRecord | None:
        """The fields of a user record type as a `TRecord`; None for an enum or a missing type."""
        key = (t.type_id, t.version)
        if key not in self._records:
            definition = self.program.record_fields(*key)
            self._records[key] = None if definition is None else record_def_type(definition)
        return self._records[key]

    def _user_missing(self, t: TUser) -> bool:
        return self.program.type(t.type_id, t.version) is None

    # ---------------------------------------------------------------- unify

    def unify(self, a: Type, b: Type) -> bool:
        """Whether `a` and `b` can be the same type, solving metas so that they are.

        A failure may leave some metas of the parts that did agree solved; the
        caller marks the failure, so the partial solution only refines what
        is shown, it never hides an error.
        """
        a, b = self.resolve(a), self.resolve(b)
        if a is b or _is_gradual(a) or _is_gradual(b):
            return True
        if isinstance(a, Meta):
            return self._solve(a, b)
        if isinstance(b, Meta):
            return self._solve(b, a)
        if isinstance(b, TUser):
            return self._unify_user(b, a)
        match a:
            case TList(elem):
                return isinstance(b, TList) and self.unify(elem, b.elem)
            case TDict(value):
                return isinstance(b, TDict) and self.unify(value, b.value)
            case TOption(inner):
                return isinstance(b, TOption) and self.unify(inner, b.inner)
            case TResult(ok, err):
                return isinstance(b, TResult) and self.unify(ok, b.ok) and self.unify(err, b.error)
            case TFn(params, ret):
                return (
                    isinstance(b, TFn)
                    and len(params) == len(b.params)
                    and all(self.unify(p, q) for p, q in zip(params, b.params, strict=True))
                    and self.unify(ret, b.ret)
                )
            case TRecord():
                return isinstance(b, TRecord) and self._unify_records(a, b)
            case TUser():
                return self._unify_user(a, b)
            case TDatastore(schema):
                return isinstance(b, TDatastore) and self.unify(schema, b.schema)
        return type(a) is type(b)

    def _solve(self, meta: Meta, t: Type) -> bool:
        if meta == t:
            return True
        # A meta that would contain itself is left open: `?` is always a sound answer.
        if not self._occurs(meta, t):
            self._solution[meta.n] = t
        return True

    def _unify_records(self, a: TRecord, b: TRecord) -> bool:
        if {f.name for f in a.fields} != {f.name for f in b.fields}:
            return False
        return all(self.unify(f.type, b.field(f.name) or UNKNOWN) for f in a.fields)

    def _unify_user(self, user: TUser, other: Type) -> bool:
        if isinstance(other, TUser):
            return user == other
        if self._user_missing(user):
            # The missing type is marked where it is named; here it acts as `?` so
            # one wrong name does not spread mismatches through the whole handler.
            return True
        record = self.user_record(user)
        return record is not None and isinstance(other, TRecord) and self._unify_records(record,
                                                                                          other)

    # ----------------------------------------------------------------- join

    def join(self, a: Type, b: Type) -> Type:
        """The most precise type that both `a` and `b` fit, assuming they are consistent.

        `?` joins to the other side, so `[hole, 1]` is a `List<Int>`. An open meta
        is kept rather than replaced, so a later solution still reaches it. When
        the two are not consistent (the caller has marked that), `a` wins.
        """
        a, b = self.resolve(a), self.resolve(b)
        if _is_gradual(a):
            return b
        if _is_gradual(b) or isinstance(a, Meta):
            return a
        if isinstance(b, Meta):
            return b
        match a:
            case TList(elem) if isinstance(b, TList):
                return TList(self.join(elem, b.elem))
            case TDict(value) if isinstance(b, TDict):
                return TDict(self.join(value, b.value))
            case TOption(inner) if isinstance(b, TOption):
                return TOption(self.join(inner, b.inner))
            case TResult(ok, err) if isinstance(b, TResult):
                return TResult(self.join(ok, b.ok), self.join(err, b.error))
            case TFn(params, ret) if isinstance(b, TFn) and len(params) == len(b.params):
                return TFn(tuple(self.join(p, q) for p, q in zip(params, b.params, strict=True)),
                           self.join(ret, b.ret))
            case TRecord(fields) if isinstance(b, TRecord):
                return TRecord(tuple(TRecordField(f.name, self.join(f.type, b.field(f.name)
                                                                    or UNKNOWN))
                                     for f in fields))
            case TRecord() if isinstance(b, TUser):
                return b
            case TDatastore(schema) if isinstance(b, TDatastore):
                return TDatastore(self.join(schema, b.schema))
        return a


def _children(t: Type) -> tuple[Type, ...]:
    match t:
        case TList(elem):
            return (elem,)
        case TDatastore(schema):
            return (schema,)
        case TDict(value):
            return (value,)
        case TOption(inner):
            return (inner,)
        case TResult(ok, err):
            return (ok, err)
        case TFn(params, ret):
            return (*params, ret)
        case TRecord(fields):
            return tuple(f.type for f in fields)
    return ()


def _parts(t: Type) -> Iterator[Type]:
    stack = [t]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(_children(current))


def has_type_vars(t: Type) -> bool:
    """Whether `t` mentions a type variable, i.e. must be instantiated at each use."""
    return any(isinstance(part, TVar) for part in _parts(t))


def user_types_in(t: Type) -> Iterator[TUser]:
    """Every user type `t` names, however deep."""
    return (part for part in _parts(t) if isinstance(part, TUser))


def consistent(a: Type, b: Type, program: Program | None = None) -> bool:
    """Whether a value of type `a` may be used where `b` is expected, gradually.

    `?` (and a type variable of a library signature) is consistent with every
    type; otherwise the two must have the same shape, user types resolved
    through `program`.
    """
    return Unifier(program).unify(a, b)


def join(a: Type, b: Type, program: Program | None = None) -> Type | None:
    """The most precise type both fit (`join(?, Int)` is `Int`); None when they are inconsistent."""
    u = Unifier(program)
    if not u.unify(a, b):
        return None
    return Unifier(program).join(a, b)


def record_def_type(definition: RecordDef) -> TRecord:
    """A user record definition as the anonymous record type of the same fields."""
    return TRecord(tuple(TRecordField(f.name, f.type) for f in definition.fields))
