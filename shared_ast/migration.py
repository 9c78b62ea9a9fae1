"""Datastore migrations: versions of a datastore that share one set of rows.

`Users_v1` made from `Users_v0` carries a `Migration`: a rollforward function
(a v0 row → a v1 row) and a rollback (v1 → v0), ordinary user functions. All
the versions of such a chain keep their rows in one storage (`storage_name`),
each row with the version it was written in; a row read through another
version is converted on the way out (`convert`), step by step along the chain
(v0 → v1 → v2, or back). Nothing here touches storage: the runtime's host and
its background converter, the editor's preview and the tests all convert
through this module, so a row reads the same wherever it is read.

A conversion fails (`ConversionFailed`) when a function is missing or still
has holes ("an unfinished conversion converts nothing"), when it gives an
error or hits the run limits, or when what it gives does not fit the target
version's schema. A failure never changes the row: the caller says so.
"""

from __future__ import annotations

import datetime as _dt
import math
import random
import uuid as _uuid
from typing import Any

import attrs

from shared_ast import traverse
from shared_ast.compiler import Compiled, compile_toplevel
from shared_ast.limits import Budget
from shared_ast.nodes import EHole, EPartial, ERightPartial, UserFnRef
from shared_ast.program import Program
from shared_ast.stdlib.registry import LibError
from shared_ast.toplevels import Datastore, EnumDef, RecordDef, UserFunction
from shared_ast.type_ast import (
    TBool,
    TChar,
    TDate,
    TDict,
    TFloat,
    TInt,
    TList,
    TNull,
    TOption,
    TRecord,
    TResult,
    TString,
    TUser,
    TUuid,
    Type,
)
from shared_ast.value_types import value_fits
from shared_ast.values import (
    NOTHING,
    Char,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Variant,
    error,
    just,
    ok,
    show,
    values_equal,
)

__all__ = [
    "ERROR", "INCOMPLETE", "MISFIT", "MISSING", "ConversionFailed", "Step", "chain",
    "conversion_function", "convert", "family", "roundtrip", "sample_rows", "storage_name",
]

#: Why a conversion failed, as `ConversionFailed.kind`.
ERROR = "error"            # the function gave an error or hit the run limits
INCOMPLETE = "incomplete"  # the function has holes, or its code did not give a value
MISFIT = "misfit"          # what it gave does not fit the target version's schema
MISSING = "missing"        # no function, or no chain of versions between the two


class ConversionFailed(Exception):
    """A row that cannot be converted, and why (`kind` is one of the four above)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@attrs.frozen
class Step:
    """One conversion of a chain: through `ds`'s rollforward (`forward`) or rollback."""

    ds: Datastore
    forward: bool

    @property
    def source(self) -> int:
        assert self.ds.migration is not None
        return self.ds.migration.from_version if self.forward else self.ds.version

    @property
    def target(self) -> int:
        assert self.ds.migration is not None
        return self.ds.version if self.forward else self.ds.migration.from_version

    @property
    def label(self) -> str:
        return f"{self.ds.qualified}'s {'rollforward' if self.forward else 'rollback'}"


def storage_name(ds: Datastore) -> str:
    """The name the runtime stores this version's rows under (shared along a chain)."""
    return f"{ds.name}_v{ds.table}"


def family(program: Program, ds: Datastore) -> list[Datastore]:
    """Every version of `ds`'s datastore that shares its rows, oldest first."""
    return sorted((d for d in program.datastores.values()
                   if d.name == ds.name and d.table == ds.table), key=lambda d: d.version)


def chain(program: Program, name: str, source: int, target: int) -> list[Step]:
    """The conversions that take a row written in version `source` to version `target`."""
    if source == target:
        return []
    low, high = min(source, target), max(source, target)
    steps: list[Step] = []
    at = program.datastore(name, high)
    while at is not None and at.version != low:
        if at.migration is None:
            at = None
            break
        steps.append(Step(at, forward=source < target))
        at = program.datastore(name, at.migration.from_version)
    if at is None:
        raise ConversionFailed(MISSING, f"there is no chain of conversions between {name}_v"
                                        f"{source} and {name}_v{target} on this canvas")
    return steps[::-1] if source < target else steps


#: id(function) → (the function, whether it has holes): a conversion runs once per row,
#: and walking its tree each time was most of the cost of converting a row.
_UNFINISHED: dict[int, tuple[UserFunction, bool]] = {}


def _unfinished(fn: UserFunction) -> bool:
    cached = _UNFINISHED.get(id(fn))
    if cached is not None and cached[0] is fn:
        return cached[1]
    found = any(isinstance(node, EHole | EPartial | ERightPartial) for node in traverse.walk(fn))
    if len(_UNFINISHED) > 256:
        _UNFINISHED.clear()
    _UNFINISHED[id(fn)] = (fn, found)
    return found


def conversion_function(program: Program, step: Step) -> UserFunction:
    """The user function a step runs; refuses a missing or unfinished one."""
    m = step.ds.migration
    assert m is not None
    ref: UserFnRef = m.rollforward if step.forward else m.rollback
    fn = program.function(ref)
    if fn is None:
        raise ConversionFailed(MISSING, f"{step.label} is missing: its function was deleted. "
                                        "Undo the deletion (Ctrl+Z) to read these rows through "
                                        f"{step.ds.qualified} again")
    if _unfinished(fn):
        raise ConversionFailed(INCOMPLETE, f"{step.label} ({fn.shown}) is unfinished: it "
                                           "has holes, and converts nothing until they are "
                                           "filled")
    if len(fn.params) != 1:
        raise ConversionFailed(ERROR, f"{step.label} ({fn.shown}) must take one parameter, "
                                      f"the row; it takes {len(fn.params)}")
    return fn


class _NoDatastores:
    """The host of a conversion: it converts one row, and reaches nothing else."""

    def _refuse(self, *_args: Any) -> Any:
        raise LibError("a conversion converts one row: it cannot read or write datastores or "
                       "queue events (move that work into a handler)")

    ds_set = ds_get = ds_items = ds_delete = ds_count = emit = _refuse
    #: No flags to report (as a host without the attribute; looking for a missing one
    #: raised and caught an AttributeError for every row).
    flag_decided = None


_NO_HOST = _NoDatastores()


@attrs.frozen(eq=False)
class _Prepared:
    """One step of a conversion, worked out once per program (`_plan`): the function it
    runs, compiled, and the version it gives; or why it cannot run (`failed`, raised
    when a row gets to this step, so that an earlier step's failure still comes first)."""

    step: Step
    failed: tuple[str, str] | None = None
    fn: UserFunction | None = None
    compiled: Compiled | None = None
    target: Datastore | None = None


#: (id(program), name, source, target) → (the program, its steps, or why there is no
#: chain). A conversion runs once per row, and finding its chain, functions, compiled
#: code and target schema again for each row was a fifth of the cost of converting one.
#: Programs are read-only indexes (a deploy makes a new one), so identity is the key.
_PLANS: dict[tuple[int, str, int, int],
             tuple[Program, tuple[_Prepared, ...], tuple[str, str] | None]] = {}


def _plan(program: Program, name: str, source: int, target: int
          ) -> tuple[_Prepared, ...]:
    key = (id(program), name, source, target)
    cached = _PLANS.get(key)
    if cached is None or cached[0] is not program:
        try:
            steps = chain(program, name, source, target)
            cached = (program, tuple(_prepare(program, step) for step in steps), None)
        except ConversionFailed as failed:
            cached = (program, (), (failed.kind, failed.reason))
        if len(_PLANS) > 256:
            _PLANS.clear()
        _PLANS[key] = cached
    if cached[2] is not None:
        raise ConversionFailed(*cached[2])
    return cached[1]


def _prepare(program: Program, step: Step) -> _Prepared:
    try:
        fn = conversion_function(program, step)
    except ConversionFailed as failed:
        return _Prepared(step, (failed.kind, failed.reason))
    target = program.datastore(step.ds.name, step.target)
    if target is None:
        return _Prepared(step, (MISSING, f"{step.ds.name}_v{step.target} is not on this "
                                         "canvas"))
    return _Prepared(step, None, fn, compile_toplevel(fn, program), target)


def _run_step(program: Program, prepared: _Prepared, value: Any, budget: Budget | None
              ) -> Any:
    if prepared.failed is not None:
        raise ConversionFailed(*prepared.failed)
    fn, compiled, target, step = prepared.fn, prepared.compiled, prepared.target, prepared.step
    assert fn is not None and compiled is not None and target is not None
    result = compiled.call((value,), budget=budget if budget is not None else Budget(),
                           host=_NO_HOST)
    if isinstance(result, ErrorValue):
        raise ConversionFailed(ERROR, f"{step.label} ({fn.shown}) failed: {result.message}")
    if isinstance(result, ErrorRail):
        raise ConversionFailed(ERROR, f"{step.label} ({fn.shown}) went to the error rail "
                                      f"with {show(result.value, 200)}")
    if isinstance(result, Incomplete):
        raise ConversionFailed(INCOMPLETE, f"{step.label} ({fn.shown}) gave no value: its "
                                           "code is incomplete for this row")
    misfit = value_fits(result, target.schema, program, deep=True)
    if misfit is not None:
        raise ConversionFailed(MISFIT, f"{step.label} ({fn.shown}) gave a row that does "
                                       f"not fit {target.qualified}: {misfit}")
    return result


def convert(program: Program, name: str, value: Any, source: int, target: int,
            budget: Budget | None = None) -> Any:
    """`value`, written through `name_v{source}`, as `name_v{target}` reads it.

    `budget` limits the conversion's code (a fresh default one per step when None);
    raises `ConversionFailed`, and never changes anything.
    """
    if source == target:
        return value
    for prepared in _plan(program, name, source, target):
        value = _run_step(program, prepared, value, budget)
    return value


def roundtrip(program: Program, ds: Datastore, value: Any,
              budget: Budget | None = None) -> Any:
    """A row of the version `ds` migrates from, rolled forward to `ds` and back again:
    equal to `value` unless the migration loses data (raises `ConversionFailed`)."""
    assert ds.migration is not None
    there = convert(program, ds.name, value, ds.migration.from_version, ds.version, budget)
    return convert(program, ds.name, there, ds.version, ds.migration.from_version, budget)


def loses_data(program: Program, ds: Datastore, value: Any, budget: Budget | None = None
               ) -> bool:
    """Whether rollback(rollforward(value)) differs from `value`."""
    return not values_equal(roundtrip(program, ds, value, budget), value)


# ------------------------------------------------------- rows from a schema

_STRINGS = ("", "a", "Ada Lovelace", "  padded  ", "ünïcödé", "日本語", "👩‍💻 emoji", "a,b;c",
            "line\nbreak", "x" * 200)
_INTS = (0, 1, -1, 42, -(2**31), 2**31 - 1, 2**53, -(2**53), 10**12)
_FLOATS = (0.0, -0.0, 1.5, -2.25, 1e-9, 1e300, 3.141592653589793)


def sample_rows(schema: Type, program: Program, count: int, seed: int = 0) -> list[Any]:
    """`count` rows that fit `schema`, edge cases first (empty, long, unicode, extremes),
    the same for the same seed: what the migration preview converts besides stored rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        row = _sample(schema, program, rng, depth=0, edge=i)
        if value_fits(row, schema, program, deep=True) is None:
            rows.append(row)
    return rows


def _pick(rng: random.Random, options: tuple[Any, ...], edge: int) -> Any:
    return options[edge] if edge < len(options) else rng.choice(options)


def _sample(tp: Type, program: Program, rng: random.Random, depth: int, edge: int) -> Any:
    deeper = depth + 1
    match tp:
        case TInt():
            return _pick(rng, _INTS, edge) if rng.random() < 0.7 else rng.randint(-1000, 1000)
        case TFloat():
            value = _pick(rng, _FLOATS, edge)
            return value if math.isfinite(value) else 0.0
        case TBool():
            return rng.random() < 0.5
        case TString():
            return _pick(rng, _STRINGS, edge)
        case TChar():
            return Char(rng.choice("aZ9 é👍"))
        case TNull():
            return None
        case TList(elem=elem):
            size = 0 if edge == 0 or depth > 2 else rng.randint(0, 4)
            return tuple(_sample(elem, program, rng, deeper, rng.randint(0, 20))
                         for _ in range(size))
        case TDict(value=elem):
            size = 0 if edge == 0 or depth > 2 else rng.randint(0, 3)
            return FrozenDict({_pick(rng, _STRINGS, rng.randint(0, 20)):
                               _sample(elem, program, rng, deeper, rng.randint(0, 20))
                               for _ in range(size)})
        case TOption(inner=inner):
            return NOTHING if edge % 3 == 0 else just(_sample(inner, program, rng, deeper, edge))
        case TResult(ok=okt, error=errt):
            return (ok(_sample(okt, program, rng, deeper, edge)) if edge % 2 == 0
                    else error(_sample(errt, program, rng, deeper, edge)))
        case TRecord(fields=fields):
            return FrozenDict({f.name: _sample(f.type, program, rng, deeper, edge)
                               for f in fields})
        case TUser(type_id=type_id, version=version):
            defined = program.type(type_id, version)
            if defined is not None and isinstance(defined.definition, RecordDef):
                return FrozenDict({f.name: _sample(f.type, program, rng, deeper, edge)
                                   for f in defined.definition.fields})
            if defined is not None and isinstance(defined.definition, EnumDef) \
                    and defined.definition.cases:
                case = defined.definition.cases[edge % len(defined.definition.cases)]
                return Variant(case.name, tuple(_sample(f.type, program, rng, deeper, edge)
                                                for f in case.fields),
                               f"{defined.name}_v{defined.version}")
            return None
        case TDate():
            return _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(
                seconds=rng.randint(0, 4_000_000_000))
        case TUuid():
            return _uuid.UUID(int=rng.getrandbits(128))
    return None
