"""Hypothesis strategies for Gloam programs, values and types.

Trees are drawn with `st.recursive` and then renumbered so that every node id
in one toplevel is unique, as the editor guarantees. Names come from a small
pool so that variables are sometimes bound and sometimes not; library calls
name real functions (with any number of arguments) and sometimes unknown ones,
so the checker and evaluator see every kind of wrong program too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import attrs
from hypothesis import strategies as st

from shared_ast import nodes as n
from shared_ast import toplevels as t
from shared_ast import type_ast as ty
from shared_ast import values as v
from shared_ast.operators import OPERATORS

NAMES = ["a", "b", "x", "xs", "request", "event", "acc"]
FIELD_NAMES = ["a", "b", "name", "id", "body"]
CTOR_NAMES = ["Just", "Nothing", "Ok", "Error", "Red", "Rgb"]

ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
small_ints = st.integers(min_value=-1000, max_value=1000)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
texts = st.text(max_size=12)
names = st.sampled_from(NAMES)


def _lib_names() -> list[str]:
    import shared_ast.stdlib  # noqa: F401 - fills the registry
    from shared_ast.stdlib.registry import LIBRARY

    return sorted(LIBRARY) or ["Int::add_v0"]


def lib_refs() -> st.SearchStrategy[n.LibFnRef]:
    known = st.sampled_from(_lib_names()).map(_parse_ref)
    unknown = st.builds(
        n.LibFnRef,
        st.sampled_from(["Int", "Nope"]),
        st.sampled_from(["add", "zzz"]),
        st.integers(0, 9),
    )
    return st.one_of(known, known, known, unknown)


def _parse_ref(q: str) -> n.LibFnRef:
    module, _, rest = q.partition("::")
    name, _, version = rest.rpartition("_v")
    return n.LibFnRef(module, name, int(version))


# ------------------------------------------------------------------- types

base_types = st.sampled_from(
    [
        ty.UNKNOWN,
        ty.INT,
        ty.FLOAT,
        ty.BOOL,
        ty.STRING,
        ty.CHAR,
        ty.NULL,
        ty.DATE,
        ty.UUID,
        ty.RESPONSE,
    ]
)


def types() -> st.SearchStrategy[ty.Type]:
    return st.recursive(
        base_types,
        lambda inner: st.one_of(
            st.builds(ty.TList, inner),
            st.builds(ty.TDict, inner),
            st.builds(ty.TOption, inner),
            st.builds(ty.TResult, inner, inner),
            st.builds(ty.TFn, st.lists(inner, max_size=3).map(tuple), inner),
            st.builds(
                ty.TRecord,
                st.lists(
                    st.builds(ty.TRecordField, st.sampled_from(FIELD_NAMES), inner),
                    max_size=3,
                    unique_by=lambda f: f.name,
                ).map(tuple),
            ),
            st.builds(ty.TUser, st.integers(1, 3), st.integers(0, 2)),
            st.builds(ty.TDatastore, inner),
        ),
        max_leaves=6,
    )


# -------------------------------------------------------------- patterns

_ID = st.just(0)  # placeholder; `renumber` assigns real ids


def patterns() -> st.SearchStrategy[n.Pattern]:
    leaves = st.one_of(
        st.builds(n.PVariable, _ID, names),
        st.builds(n.PInt, _ID, small_ints),
        st.builds(n.PFloat, _ID, finite_floats),
        st.builds(n.PString, _ID, texts),
        st.builds(n.PBool, _ID, st.booleans()),
        st.builds(n.PNull, _ID),
        st.builds(n.PWildcard, _ID),
        st.builds(n.PHole, _ID),
        st.builds(n.PConstructor, _ID, st.sampled_from(["Nothing", "Red"]), st.just(())),
    )
    return st.recursive(
        leaves,
        lambda inner: st.builds(
            n.PConstructor, _ID, st.sampled_from(CTOR_NAMES), st.lists(inner, max_size=2).map(tuple)
        ),
        max_leaves=4,
    )


# ------------------------------------------------------------- expressions


def _leaves() -> st.SearchStrategy[n.Expr]:
    return st.one_of(
        st.builds(n.EHole, _ID),
        st.builds(n.EInt, _ID, st.one_of(small_ints, ints)),
        st.builds(n.EFloat, _ID, finite_floats),
        st.builds(n.EString, _ID, texts),
        st.builds(n.EBool, _ID, st.booleans()),
        st.builds(n.ENull, _ID),
        st.builds(n.EVariable, _ID, names),
        st.builds(n.EPipeTarget, _ID),
    )


def _tuple_of(s: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(s, max_size=max_size).map(tuple)


def _extend(inner: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
    return st.one_of(
        st.builds(n.EList, _ID, _tuple_of(inner)),
        st.builds(
            n.ERecord,
            _ID,
            _tuple_of(st.builds(n.RecordField, _ID, st.sampled_from(FIELD_NAMES), inner)),
        ),
        st.builds(n.ELet, _ID, names, inner, inner),
        st.builds(n.EIf, _ID, inner, inner, inner),
        st.builds(n.ELambda, _ID, _tuple_of(st.builds(n.LambdaParam, _ID, names), 2), inner),
        st.builds(n.ECall, _ID, lib_refs(), _tuple_of(inner), st.booleans()),
        st.builds(
            n.ECall,
            _ID,
            st.builds(n.UserFnRef, st.integers(1, 3), st.integers(0, 1)),
            _tuple_of(inner),
            st.booleans(),
        ),
        st.builds(n.EInfix, _ID, st.sampled_from([*sorted(OPERATORS), "??"]), inner, inner),
        st.builds(n.EPipe, _ID, inner, _tuple_of(inner)),
        st.builds(n.EField, _ID, inner, st.sampled_from(FIELD_NAMES)),
        st.builds(n.EMatch, _ID, inner, _tuple_of(st.builds(n.MatchArm, _ID, patterns(), inner))),
        st.builds(
            n.EConstructor,
            _ID,
            st.sampled_from(CTOR_NAMES),
            _tuple_of(inner, 2),
            st.one_of(st.none(), st.builds(n.TypeRef, st.integers(1, 3), st.integers(0, 1))),
        ),
        st.builds(n.EFlag, _ID, st.sampled_from(["f", "g"]), inner, inner, inner),
        st.builds(n.EPartial, _ID, texts, inner),
        st.builds(n.ERightPartial, _ID, st.sampled_from(["+", "&&", "|", "=="]), inner),
    )


def raw_exprs(max_leaves: int = 12) -> st.SearchStrategy[n.Expr]:
    return st.recursive(_leaves(), _extend, max_leaves=max_leaves)


def exprs(max_leaves: int = 12) -> st.SearchStrategy[n.Expr]:
    """Expressions of every kind, holes and partials included, with unique ids."""
    return raw_exprs(max_leaves).map(renumber)


# ---------------------------------------------------------------- toplevels

specs = st.one_of(
    st.builds(
        t.HttpSpec, st.sampled_from(["GET", "POST"]), st.sampled_from(["/", "/a/:x", "/b/:a/:b"])
    ),
    st.builds(t.WorkerSpec, st.sampled_from(["q1", "q2"])),
    st.builds(t.CronSpec, st.sampled_from(["daily"]), st.integers(1, 86400)),
    st.builds(t.ReplSpec, st.sampled_from(["repl"])),
)
positions = st.builds(t.Pos, st.integers(-500, 500), st.integers(-500, 500))


def toplevels(max_leaves: int = 12) -> st.SearchStrategy[t.Toplevel]:
    body = raw_exprs(max_leaves)
    type_fields = _tuple_of(st.builds(n.TypeField, _ID, st.sampled_from(FIELD_NAMES), types()))
    return st.one_of(
        st.builds(t.Handler, _ID, positions, st.integers(0, 2), specs, body),
        st.builds(
            t.UserFunction,
            _ID,
            positions,
            st.integers(0, 2),
            st.integers(1, 3),
            st.sampled_from(["f", "g"]),
            st.integers(0, 2),
            _tuple_of(st.builds(n.Param, _ID, names, types())),
            types(),
            body,
            texts,
        ),
        st.builds(
            t.UserType,
            _ID,
            positions,
            st.integers(0, 1),
            st.integers(1, 3),
            st.sampled_from(["T", "Color"]),
            st.integers(0, 2),
            st.one_of(
                st.builds(t.RecordDef, type_fields),
                st.builds(
                    t.EnumDef,
                    _tuple_of(
                        st.builds(n.EnumCase, _ID, st.sampled_from(["Red", "Rgb"]), type_fields)
                    ),
                ),
            ),
        ),
        st.builds(
            t.Datastore,
            _ID,
            positions,
            st.integers(0, 1),
            st.sampled_from(["Users"]),
            st.integers(0, 2),
            types(),
        ),
    ).map(renumber)


# ---------------------------------------------------------------- renumbering


def strip_ids(node: object) -> object:
    """A tree as nested tuples without ids, to compare shapes."""
    if isinstance(node, tuple):
        return tuple(strip_ids(x) for x in node)
    if not attrs.has(type(node)):
        return node
    fields = [(a.name, strip_ids(getattr(node, a.name))) for a in attrs.fields(type(node))
              if a.name != "id"]
    return (type(node).__name__, *fields)


def renumber(tree: Any, start: int = 1) -> Any:
    """The same tree with ids 1, 2, 3, ... in pre-order (tlid included), so they are unique."""
    counter = itertools.count(start)
    return _renumber(tree, counter)


def _renumber(obj: Any, counter: itertools.count[int]) -> Any:
    if isinstance(obj, tuple):
        return tuple(_renumber(x, counter) for x in obj)
    if not attrs.has(type(obj)):
        return obj
    changes: dict[str, Any] = {}
    if isinstance(obj, n.Node):
        changes["id"] = next(counter)
    elif isinstance(obj, t.Toplevel):
        changes["tlid"] = next(counter)
    for a in attrs.fields(type(obj)):
        if a.name in ("id", "tlid"):
            continue
        val = getattr(obj, a.name)
        if isinstance(val, tuple | n.Node) or (
            attrs.has(type(val)) and isinstance(val, t.RecordDef | t.EnumDef)
        ):
            changes[a.name] = _renumber(val, counter)
    return attrs.evolve(obj, **changes)


# --------------------------------------------------------------------- values


def values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Runtime values of every kind, specials included."""
    leaves = st.one_of(
        ints,
        st.floats(),  # NaN and infinities included: the wire format must carry them
        texts,
        st.booleans(),
        st.none(),
        st.builds(v.Char, st.sampled_from(["a", "é", "🇵🇹"])),
        st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
            lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)
        ),
        st.uuids().map(lambda u: uuid.UUID(str(u))),
        st.builds(v.Incomplete, st.one_of(st.none(), st.integers(1, 100))),
        st.builds(v.ErrorValue, texts, st.one_of(st.none(), st.integers(1, 100))),
        st.just(v.NOTHING),
        st.builds(v.DatastoreRef, st.sampled_from(["Users", "Notes"]), st.integers(0, 2)),
    )

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=3).map(v.FrozenDict),
            st.builds(
                v.Variant,
                st.sampled_from(["Just", "Ok", "Error", "Rgb"]),
                st.lists(inner, min_size=1, max_size=2).map(tuple),
                st.sampled_from([None, "Color_v0"]),
            ),
            st.builds(
                v.Response,
                st.integers(100, 599),
                inner,
                st.lists(st.tuples(texts, texts), max_size=2).map(tuple),
            ),
            st.builds(
                v.ErrorRail,
                st.builds(v.Variant, st.just("Error"), st.tuples(inner)),
                st.one_of(st.none(), st.integers(1, 100)),
            ),
            st.builds(
                v.Closure,
                st.lists(names, max_size=2, unique=True).map(tuple),
                # A closure's code comes from elsewhere in the program: ids far from the
                # 1, 2, 3... of the expression under test, as on a real canvas.
                st.builds(renumber, raw_exprs(4), st.integers(10**6, 10**9)),
                st.dictionaries(names, inner, max_size=2).map(v.FrozenDict),
                st.integers(0, 1),
            ),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)
