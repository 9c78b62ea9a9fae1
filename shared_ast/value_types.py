"""Does a runtime value fit a type? The evaluator's and the datastores' type test.

Types are checked statically by the checker, but gradually: a hole's `?` is
consistent with everything, so a program can run with a String where an Int
belongs. The evaluator therefore checks values where they cross a boundary
that declares a type:

- the arguments of a library or user function call, shallowly
  (`deep=False`): only the outer shape (a List, a Dict, an Option, a record)
  is checked, so a check costs the same for a list of one element or of a
  million. The library functions check the elements they look at.
- a row stored in a datastore, deeply (`deep=True`): every element, field and
  case argument is checked, since the row outlives the program that wrote it.

`value_fits` answers with None when the value fits, else with a message that
names the path to the part that does not fit: `field age: expected Int,
found String "x"`. It never raises: an unknown user type or a missing program
is reported as a misfit, not an exception.

Type variables (`a` in `List::map_v0 : List<a>, (a -> b) -> List<b>`) and the
gradual `?` accept every value.
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from collections.abc import Mapping
from typing import Any

from shared_ast.program import Program
from shared_ast.toplevels import EnumDef, RecordDef
from shared_ast.type_ast import (
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
    show_type,
)
from shared_ast.values import (
    Char,
    Closure,
    DatastoreRef,
    FrozenDict,
    Response,
    Variant,
    show,
    type_name_of,
)

__all__ = ["describe_value", "quick_fit", "type_phrase", "value_fits"]

#: How much of a value an error message quotes.
_QUOTE_LIMIT = 40


def describe_value(v: Any) -> str:
    """A value as a misfit message shows it: its type name and a short rendering, `String "x"`."""
    return f"{type_name_of(v)} {show(v, limit=_QUOTE_LIMIT)}"


def type_phrase(t: Type, program: Program | None = None) -> str:
    """A type with its article, as in "expects an Int" or "expects a List<String>"."""
    text = show_type(t, program.type_names() if program is not None else None)
    if isinstance(t, TFn):
        return f"a function {text}"
    # "an" goes with the vowel *sound*: an Int, an Option, but a UUID.
    article = "an" if text[:1] in "AEIO" else "a"
    return f"{article} {text}"


def value_fits(
    value: Any, t: Type, program: Program | None = None, *, deep: bool = True,
    quick: bool = True,
) -> str | None:
    """None when `value` fits `t`, else a message naming the path to the first part that does not.

    With `deep=False` only the outermost shape is checked: cheap enough for
    every argument of every call. `quick=False` leaves out the quick test of a
    deep check (`quick_fit`), which must agree with the full one: tests compare them.
    """
    try:
        if deep and quick:
            test = quick_fit(t)
            if test is not None and test(value):
                return None
        return _Fit(program, deep).check(value, t, ())
    except RecursionError:
        # A value nested thousands deep (built by a runaway fold) is data, not a crash.
        return f"expected {show_type(t)}, found a value nested too deeply to check"


# ------------------------------------------------------------ quick tests
# A deep check of a row runs for every row a datastore stores or converts. For a type
# made of the built-in types, `quick_fit` makes a test, once per type, that answers
# True only where `value_fits(value, t, deep=True)` is None, with exact types where
# `_Fit` says isinstance (never wider), so that `value_fits` can answer at once for
# a value that fits and leave every misfit, with its message, to `_Fit`. Types that
# need the program (user types) or are rare in rows have no quick test.

_Test = Any  # Callable[[Any], bool]; Any keeps the lambdas below readable to mypy

_ANYTHING: _Test = lambda _value: True  # noqa: E731
_SCALAR_TYPES: dict[type, type] = {TInt: int, TFloat: float, TBool: bool, TString: str,
                                   TChar: Char, TDate: _dt.datetime, TUuid: _uuid.UUID}

#: id(type) → (the type, its test or None); types are immutable and long-lived (a
#: datastore's schema), so identity is the key and hashing the type is never needed.
_QUICK: dict[int, tuple[Type, _Test | None]] = {}


def quick_fit(t: Type) -> _Test | None:
    """A test that is True only for values that fit `t` deeply (see above), or None."""
    cached = _QUICK.get(id(t))
    if cached is not None and cached[0] is t:
        return cached[1]
    test = _quick_test(t)
    if len(_QUICK) > 1024:
        _QUICK.clear()
    _QUICK[id(t)] = (t, test)
    return test


def _quick_test(t: Type) -> _Test | None:
    if isinstance(t, TUnknown | TVar):
        return _ANYTHING
    exact = _SCALAR_TYPES.get(type(t))
    if exact is not None:
        return lambda value: type(value) is exact
    if isinstance(t, TNull):
        return lambda value: value is None
    if isinstance(t, TList | TDict):
        inner = quick_fit(t.elem if isinstance(t, TList) else t.value)
        if inner is None:
            return None
        if isinstance(t, TList):
            return (lambda value: type(value) is tuple) if inner is _ANYTHING else (
                lambda value: type(value) is tuple and all(map(inner, value)))
        return lambda value: type(value) is FrozenDict and all(map(inner, value._d.values()))
    if isinstance(t, TOption):
        inner = quick_fit(t.inner)
        if inner is None:
            return None
        return lambda value: (type(value) is Variant and value.type_name is None and (
            (value.name == "Just" and len(value.args) == 1 and inner(value.args[0]))
            or (value.name == "Nothing" and not value.args)))
    if isinstance(t, TResult):
        ok, err = quick_fit(t.ok), quick_fit(t.error)
        if ok is None or err is None:
            return None
        return lambda value: (type(value) is Variant and value.type_name is None
                              and len(value.args) == 1 and (
                                  (value.name == "Ok" and ok(value.args[0]))
                                  or (value.name == "Error" and err(value.args[0]))))
    if isinstance(t, TRecord):
        fields = []
        for f in t.fields:
            inner = quick_fit(f.type)
            if inner is None:
                return None
            fields.append((f.name, inner))
        # All the declared fields there and as many entries as fields: no extra one.
        size = len({name for name, _ in fields})
        return lambda value: (type(value) is FrozenDict and len(value._d) == size and all(
            name in value._d and inner(value._d[name]) for name, inner in fields))
    return None


# A path is a tuple of steps from the checked value down to the misfit:
# ("field", "age"), ("item", 3), ("key", "k"), ("case", "Just", 0).
_Step = tuple[Any, ...]


def _render_path(path: tuple[_Step, ...]) -> str:
    first, rest = path[0], path[1:]
    head = {
        "field": lambda s: f"field {s[1]}",
        "item": lambda s: f"item {s[1]}",
        "key": lambda s: f"key {show(s[1])}",
        "case": lambda s: f"argument {s[2] + 1} of {s[1]}",
    }[first[0]](first)
    tail = "".join(
        {
            "field": lambda s: f".{s[1]}",
            "item": lambda s: f"[{s[1]}]",
            "key": lambda s: f"[{show(s[1])}]",
            "case": lambda s: f" (argument {s[2] + 1} of {s[1]})",
        }[step[0]](step)
        for step in rest
    )
    return head + tail


class _Fit:
    """One fitting run: the program to resolve user types in, and how deep to look."""

    def __init__(self, program: Program | None, deep: bool) -> None:
        self.program = program
        self.deep = deep

    def misfit(self, path: tuple[_Step, ...], t: Type, value: Any, why: str | None = None) -> str:
        names = self.program.type_names() if self.program is not None else None
        found = why or f"found {describe_value(value)}"
        message = f"expected {show_type(t, names)}, {found}"
        return f"{_render_path(path)}: {message}" if path else message

    def check(self, value: Any, t: Type, path: tuple[_Step, ...]) -> str | None:
        match t:
            case TUnknown() | TVar():
                return None
            case TInt():
                ok = isinstance(value, int) and not isinstance(value, bool)
            case TFloat():
                ok = isinstance(value, float)
            case TBool():
                ok = isinstance(value, bool)
            case TString():
                ok = isinstance(value, str)
            case TChar():
                ok = isinstance(value, Char)
            case TNull():
                ok = value is None
            case TDate():
                ok = isinstance(value, _dt.datetime)
            case TUuid():
                ok = isinstance(value, _uuid.UUID)
            case TResponse():
                ok = isinstance(value, Response)
            case TList(elem):
                if not isinstance(value, tuple):
                    return self.misfit(path, t, value)
                return self.each(((("item", i), x, elem) for i, x in enumerate(value)), path)
            case TDict(elem):
                if not isinstance(value, FrozenDict):
                    return self.misfit(path, t, value)
                return self.each(((("key", k), x, elem) for k, x in value.items()), path)
            case TOption(inner):
                return self.variant(value, t, path, {"Just": (inner,), "Nothing": ()}, None)
            case TResult(ok_type, error_type):
                cases = {"Ok": (ok_type,), "Error": (error_type,)}
                return self.variant(value, t, path, cases, None)
            case TRecord(fields):
                return self.record(value, t, fields, path)
            case TUser(type_id, version):
                return self.user(value, t, type_id, version, path)
            case TDatastore():
                # Only the reference is checked; its rows were checked when they were stored.
                ok = isinstance(value, DatastoreRef)
            case TFn(params, _):
                if not isinstance(value, Closure):
                    return self.misfit(path, t, value)
                if len(value.params) != len(params):
                    why = (f"found a function of {len(value.params)} argument(s) "
                           f"where one of {len(params)} is needed")
                    return self.misfit(path, t, value, why)
                return None
            case _:
                # A type kind newer than this module cannot be checked here; the
                # library function that declared it checks its own arguments.
                return None
        return None if ok else self.misfit(path, t, value)

    def each(self, parts: Any, path: tuple[_Step, ...]) -> str | None:
        """Check the parts of a container, only when looking deep."""
        if not self.deep:
            return None
        for step, part, part_type in parts:
            problem = self.check(part, part_type, (*path, step))
            if problem is not None:
                return problem
        return None

    def variant(
        self,
        value: Any,
        t: Type,
        path: tuple[_Step, ...],
        cases: Mapping[str, tuple[Type, ...]],
        type_name: str | None,
    ) -> str | None:
        if not isinstance(value, Variant) or value.type_name != type_name:
            return self.misfit(path, t, value)
        arg_types = cases.get(value.name)
        if arg_types is None:
            why = f"found the case {value.name}, which it does not have"
            return self.misfit(path, t, value, why)
        if len(arg_types) != len(value.args):
            why = (f"found {value.name} with {len(value.args)} argument(s) "
                   f"where it takes {len(arg_types)}")
            return self.misfit(path, t, value, why)
        return self.each(
            ((("case", value.name, i), a, at)
             for i, (a, at) in enumerate(zip(value.args, arg_types, strict=True))),
            path,
        )

    def record(
        self, value: Any, t: Type, fields: tuple[TRecordField, ...], path: tuple[_Step, ...]
    ) -> str | None:
        if not isinstance(value, FrozenDict):
            return self.misfit(path, t, value)
        if not self.deep:
            return None
        for f in fields:
            if f.name not in value:
                return self.misfit(path, t, value, f"found a record without the field {f.name}")
        declared = {f.name for f in fields}
        for name in value:
            if name not in declared:
                return self.misfit(path, t, value, f"found a record with an extra field {name}")
        return self.each(((("field", f.name), value[f.name], f.type) for f in fields), path)

    def user(
        self, value: Any, t: Type, type_id: int, version: int, path: tuple[_Step, ...]
    ) -> str | None:
        user_type = self.program.type(type_id, version) if self.program is not None else None
        if user_type is None:
            return self.misfit(path, t, value, "but that type does not exist")
        definition = user_type.definition
        if isinstance(definition, RecordDef):
            fields = tuple(TRecordField(f.name, f.type) for f in definition.fields)
            return self.record(value, t, fields, path)
        if isinstance(definition, EnumDef):
            cases = {c.name: tuple(f.type for f in c.fields) for c in definition.cases}
            return self.variant(value, t, path, cases, f"{user_type.name}_v{user_type.version}")
        return self.misfit(path, t, value, "but that type has no definition")
