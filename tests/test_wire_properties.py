"""Properties of the wire format over generated programs, ops, values and junk.

- decode(encode(x)) is x for expressions, toplevels, ops and values, through
  JSON text (NaN compares equal to NaN, and -0.0 stays -0.0);
- every decoder, given any JSON at all, returns or raises `WireError`, never
  anything else;
- a single wrong scalar in a valid payload is reported at its own path.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs, patterns, positions, renumber, specs, toplevels, types, values

from shared_ast import nodes as n
from shared_ast import ops as o
from shared_ast import toplevels as t
from shared_ast import type_ast as ty
from shared_ast import values as v
from shared_ast import wire
from shared_ast.live import LiveValues
from shared_ast.wire import WireError

ROUND_TRIPS = settings(max_examples=1000, deadline=None)


def same(a: Any, b: Any) -> bool:
    """Structural equality that tells 1 from 1.0 and True, -0.0 from 0.0, and NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, v.FrozenDict | dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if attrs.has(type(a)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, dt.datetime):
        return a == b and a.tzinfo == b.tzinfo
    return bool(a == b)


def through_text(raw: Any) -> Any:
    return json.loads(json.dumps(raw, allow_nan=False))


def test_same_is_strict_about_what_the_wire_must_keep() -> None:
    assert same(n.EFloat(1, math.nan), n.EFloat(1, math.nan))
    assert not same(n.EFloat(1, 0.0), n.EFloat(1, -0.0))
    assert not same((1,), (1.0,)) and not same((1,), (True,))
    assert not same(v.FrozenDict(a=1, b=2), v.FrozenDict(b=2, a=1))  # entry order is kept
    assert not same(n.ECall(1, n.UserFnRef(1, 0)), n.ECall(1, n.UserFnRef(1, 0), on_rail=True))


# --------------------------------------------------------------- strategies


def with_any_floats(tree: st.SearchStrategy[n.Expr]) -> st.SearchStrategy[n.Expr]:
    """Expressions next to float literals and patterns of every float, NaN and ±0 included."""
    floats = st.floats()
    hole = st.builds(n.EHole, st.just(0))
    arm = st.builds(n.MatchArm, st.just(0), st.builds(n.PFloat, st.just(0), floats), hole)
    specials = st.one_of(
        st.builds(n.EFloat, st.just(0), floats),
        st.builds(n.EMatch, st.just(0), hole, st.lists(arm, max_size=2).map(tuple)),
    )
    return st.builds(lambda e, extra: renumber(n.EList(0, (e, *extra))),
                     tree, st.lists(specials, max_size=3))


def elements() -> st.SearchStrategy[n.Node]:
    """Any node an op can carry: expressions, patterns and every kind of element."""
    field_names = st.sampled_from(["a", "name"])
    return st.one_of(
        exprs(6),
        patterns().map(renumber),
        st.builds(n.RecordField, st.just(0), field_names, exprs(3)).map(renumber),
        st.builds(n.LambdaParam, st.just(0), field_names),
        st.builds(n.MatchArm, st.just(0), patterns(), exprs(3)).map(renumber),
        st.builds(n.Param, st.just(0), field_names, types()),
        st.builds(n.TypeField, st.just(0), field_names, types()),
        st.builds(n.EnumCase, st.just(0), st.just("Rgb"),
                  st.lists(st.builds(n.TypeField, st.just(0), field_names, types()),
                           max_size=2).map(tuple)).map(renumber),
    )


ids = st.integers(min_value=1, max_value=2**53 - 1)
texts = st.text(max_size=10)


def ops() -> st.SearchStrategy[o.Op]:
    """Ops of every kind, well-formed but not necessarily valid against any canvas."""
    field = st.sampled_from(["items", "fields", "args", "arms", "params", "cases"])
    return st.one_of(
        st.builds(o.CreateToplevel, toplevels(6)),
        st.builds(o.DeleteToplevel, toplevels(6)),
        st.builds(o.MoveToplevel, ids, positions, positions),
        st.builds(o.ReplaceNode, ids, ids, elements(), elements()),
        st.builds(o.SetName, ids, ids, texts, texts),
        st.builds(o.SetHandlerSpec, ids, specs, specs),
        st.builds(o.SetType, ids, ids, types(), types()),
        st.builds(o.SetDescription, ids, texts, texts),
        st.builds(o.SetLanguageVersion, ids, st.integers(0, 3), st.integers(0, 3)),
        st.builds(o.InsertElement, ids, ids, field, st.integers(-1, 5), elements()),
        st.builds(o.RemoveElement, ids, ids, field, st.integers(-1, 5), elements()),
    )


def _all_kinds() -> list[str]:
    families: list[tuple[type, ...]] = [
        n.ALL_NODE_KINDS, ty.TYPE_KINDS, t.SPEC_KINDS, t.TOPLEVEL_KINDS, o.OP_KINDS,
        (t.RecordDef, t.EnumDef)]
    kinds = [k.KIND for family in families for k in family]
    return sorted({*kinds, *wire.VALUE_KINDS, "lib_fn", "user_fn"})


def _all_field_names() -> list[str]:
    classes = [*n.ALL_NODE_KINDS, *ty.TYPE_KINDS, *t.SPEC_KINDS, *t.TOPLEVEL_KINDS,
               *o.OP_KINDS, t.RecordDef, t.EnumDef, t.Pos, n.LibFnRef, n.UserFnRef, n.TypeRef,
               ty.TRecordField]
    names = {f.name for c in classes for f in attrs.fields(c)} - {"else_"}
    return sorted({*names, "else", *(f for fs in wire.VALUE_KINDS.values() for f in fs)})


def junk() -> st.SearchStrategy[Any]:
    """Any JSON, often shaped like the real thing: objects with real kinds and field names."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                        st.sampled_from(["NaN", "Infinity", "2019-07-28T22:42:36Z", "1"]))
    kinds = st.sampled_from(_all_kinds())
    names = st.sampled_from(_all_field_names())

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.one_of(names, st.text(max_size=3)), inner, max_size=3),
            st.builds(lambda kind, rest: {"kind": kind, **rest}, kinds,
                      st.dictionaries(names, inner, max_size=5)),
            st.dictionaries(st.integers(1, 50).map(str), inner, max_size=2),  # live values
        )

    return st.recursive(scalars, extend, max_leaves=20)


# --------------------------------------------------------------- round trips


@ROUND_TRIPS
@given(with_any_floats(exprs()))
def test_expressions_round_trip(expr: n.Expr) -> None:
    raw = through_text(wire.encode_expr(expr))
    assert same(wire.decode_expr(raw), expr)
    assert same(wire.loads_document(wire.dumps_document("expr", expr), "expr"), expr)


@ROUND_TRIPS
@given(toplevels())
def test_toplevels_round_trip(toplevel: t.Toplevel) -> None:
    raw = through_text(wire.encode_toplevel(toplevel))
    assert same(wire.decode_toplevel(raw), toplevel)
    assert raw["kind"] == toplevel.KIND and next(iter(raw)) == "kind"


@ROUND_TRIPS
@given(st.lists(ops(), min_size=1, max_size=3))
def test_ops_round_trip(batch: list[o.Op]) -> None:
    for op in batch:
        assert same(wire.decode_op(through_text(wire.encode_op(op))), op)
    text = wire.dumps_document("ops", batch)
    assert same(wire.loads_document(text, "ops"), batch)


@ROUND_TRIPS
@given(values())
def test_values_round_trip(value: Any) -> None:
    assert same(wire.decode_value(through_text(wire.encode_value(value))), value)
    live = {7: (value, True), 8: (value, False)}
    assert same(wire.decode_live_values(through_text(wire.encode_live_values(live))), live)


ITERATION_PATHS = st.lists(st.integers(0, 500), max_size=3).map(tuple)
#: Built once: building the recursive value strategy inside each draw cost 0.4 s a draw.
RECORDED = st.lists(st.tuples(st.integers(-3, 10**6), ITERATION_PATHS, values(), st.booleans()),
                    max_size=8)


@st.composite
def live_values(draw: Any) -> LiveValues:
    """Recorded values at iteration paths, and call counts of lambdas, as the evaluator keeps."""
    live = LiveValues(max_iterations=draw(st.integers(1, 200)))
    for node_id, at, value, taken in draw(RECORDED):
        live.record(node_id, value, taken, at)
    for lambda_id, at, calls, kept in draw(st.lists(st.tuples(
            st.integers(0, 10**6), ITERATION_PATHS, st.integers(0, 10**7), st.integers(0, 200)),
            max_size=4)):
        live.set_calls(lambda_id, at, calls, min(kept, calls))
    return live


def same_live(a: LiveValues, b: LiveValues) -> bool:
    return (a.max_iterations == b.max_iterations
            and list(a.call_counts()) == list(b.call_counts())
            and len(list(a.entries())) == len(list(b.entries()))
            and all(na == nb and ata == atb and ea.taken == eb.taken and same(ea.value, eb.value)
                    for (na, ata, ea), (nb, atb, eb) in zip(a.entries(), b.entries(),
                                                            strict=True)))


@ROUND_TRIPS
@given(live_values())
def test_live_iterations_round_trip(live: LiveValues) -> None:
    back = wire.decode_live_iterations(through_text(wire.encode_live_values(live)))
    assert same_live(back, live)
    # The flat view is each node's first value, whichever format it is read from.
    flat = {node_id: (e.value, e.taken) for node_id, e in live.items()}
    assert same(wire.decode_live_values(through_text(wire.encode_live_values(live))), flat)


@ROUND_TRIPS
@given(st.dictionaries(st.integers(-3, 10**6), st.tuples(values(), st.booleans()), max_size=6))
def test_version_1_live_values_decode_to_one_value_per_node(flat: dict[int, Any]) -> None:
    """Version 1, as runtimes wrote it before iterations: {"<id>": {"value", "taken"}}."""
    old = {str(k): {"value": wire.encode_value(value), "taken": taken}
           for k, (value, taken) in flat.items()}
    assert same(wire.decode_live_values(through_text(old)), flat)
    live = wire.decode_live_iterations(through_text(old))
    assert [(node_id, at) for node_id, at, _ in live.entries()] == [(k, ()) for k in flat]
    assert list(live.call_counts()) == []


# ------------------------------------------------------------------- junk

DECODERS = (wire.decode_expr, wire.decode_pattern, wire.decode_node, wire.decode_type,
            wire.decode_toplevel, wire.decode_op, wire.decode_ops, wire.decode_value,
            wire.decode_live_values, wire.decode_live_iterations)


@settings(max_examples=1000, deadline=None)
@given(junk())
def test_junk_gets_a_wire_error_and_nothing_else(raw: Any) -> None:
    for decode in DECODERS:
        try:
            decode(raw)
        except WireError as e:
            assert str(e).startswith(f"at {e.path}: ") and e.path.startswith("$")
            assert e.message and (e.path, e.message) == e.errors[0]
    text = json.dumps({"schema": 1, "payload": raw})
    for kind in wire.DOCUMENT_KINDS:
        try:
            wire.loads_document(text.replace('"payload"', json.dumps(kind), 1), kind)
        except WireError as e:
            assert e.path.startswith("$")


# ------------------------------------------------------ errors name the path


def scalar_paths(raw: Any, path: str = "$") -> list[str]:
    """The path of every scalar in a JSON tree except `kind` tags."""
    if isinstance(raw, dict):
        return [p for k, x in raw.items() if k != "kind"
                for p in scalar_paths(x, f"{path}.{k}")]
    if isinstance(raw, list):
        return [p for i, x in enumerate(raw) for p in scalar_paths(x, f"{path}[{i}]")]
    return [path]


def replace_at(raw: Any, path: str, new: Any) -> Any:
    """`raw` with the scalar at `path` (as `scalar_paths` writes it) replaced by `new`."""
    steps = path[1:].replace("[", ".[").split(".")[1:]
    parents = [raw]
    for step in steps[:-1]:
        parents.append(parents[-1][int(step[1:-1])] if step.startswith("[")
                       else parents[-1][step])
    last = steps[-1]
    parents[-1][int(last[1:-1]) if last.startswith("[") else last] = new
    return raw


@settings(max_examples=500, deadline=None)
@given(toplevels(), st.data())
def test_a_wrong_scalar_is_reported_at_its_own_path(toplevel: t.Toplevel, data: st.DataObject,
                                                    ) -> None:
    raw = through_text(wire.encode_toplevel(toplevel))
    path = data.draw(st.sampled_from(scalar_paths(raw)))
    # An object is no field's scalar: every field would refuse it.
    e = None
    try:
        wire.decode_toplevel(replace_at(raw, path, {"not": "this"}))
    except WireError as error:
        e = error
    assert e is not None, path
    assert any(p == path or p.startswith(path + ".") for p, _ in e.errors), (path, e.errors)
