"""Tests from traces (shared_ast/trace_tests.py): values written back as code, and the test
a trace stands for, run by `shared_ast.testing`."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from shared_ast import build as b
from shared_ast import wire
from shared_ast.evaluator import evaluate
from shared_ast.nodes import EConstructor, EFloat
from shared_ast.program import Program
from shared_ast.testing import FAILED, PASSED, Suite
from shared_ast.toplevels import CURRENT_LANGUAGE_VERSION, Pos
from shared_ast.trace_tests import MAX_DEPTH, TraceTestError, test_from_trace, value_expr
from shared_ast.type_ast import INT, STRING
from shared_ast.values import (
    NOTHING,
    Char,
    Closure,
    DatastoreRef,
    ErrorValue,
    FrozenDict,
    ImpureCall,
    Incomplete,
    Response,
    Variant,
    error,
    just,
    ok,
    values_equal,
)
from tests.strategies import texts

COLOR = b.enum_type("Color", [("Red", []), ("Rgb", [("r", INT), ("g", INT), ("b", INT)]),
                              ("Named", [("name", STRING)])])
PROGRAM = Program.from_toplevels([COLOR])
HEADER_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,8}", fullmatch=True)
KEYS = st.one_of(st.sampled_from(["a", "b", "name", "_x1"]), st.text(max_size=6))


def _cases(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    color = "Color_v0"
    return st.one_of(
        inner.map(just), st.just(NOTHING), inner.map(ok), inner.map(error),
        st.just(Variant("Red", (), color)),
        st.tuples(*[st.integers(0, 255)] * 3).map(lambda rgb: Variant("Rgb", rgb, color)),
        inner.map(lambda x: Variant("Named", (x,), color)),
    )


def writable(max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Values code can write: every kind value_expr handles."""
    leaves = st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(),  # NaN, the infinities and -0.0 included
        texts, st.booleans(), st.none(),
        st.sampled_from(["a", "é", "e\u0301", "🇵🇹", "👩‍👩‍👧", " ", "\n"]).map(Char),
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
        .map(lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)),
    )

    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(KEYS, inner, max_size=3).map(FrozenDict),
            _cases(inner),
            st.builds(Response, st.integers(100, 599), inner,
                      st.dictionaries(HEADER_NAMES, st.text(
                          st.characters(blacklist_characters="\r\n\0"), max_size=8),
                          max_size=2).map(lambda d: tuple(d.items()))),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _eval(value: Any) -> Any:
    expr = value_expr(value, PROGRAM)
    assert expr is not None, f"value_expr could not write {value!r}"
    # The code goes over the wire as a test would (NaN, Infinity as words), then runs.
    test = b.test("round trip", expr)
    decoded = wire.decode_toplevel(wire.json_load(wire.json_text(wire.encode_toplevel(test))))
    return evaluate(decoded.body, {}, PROGRAM, language_version=CURRENT_LANGUAGE_VERSION)


@settings(max_examples=300, deadline=None)
@given(writable())
def test_code_for_a_value_evaluates_to_an_equal_value(value: Any) -> None:
    got = _eval(value)
    assert values_equal(got, value), (value, got)


@given(st.floats(allow_nan=False))
def test_floats_keep_their_sign_and_bits(x: float) -> None:
    got = _eval(x)
    assert isinstance(got, float) and math.copysign(1, got) == math.copysign(1, x) and got == x


def test_how_special_floats_and_enum_cases_are_written() -> None:
    nan = value_expr(math.nan)
    assert isinstance(nan, EFloat) and math.isnan(nan.value)
    assert wire.encode_expr(nan)["value"] == "NaN"
    case = value_expr(Variant("Rgb", (1, 2, 3), "Color_v0"), PROGRAM)
    assert isinstance(case, EConstructor) and case.type_ref is not None
    assert case.type_ref.type_id == COLOR.type_id
    # A Nothing is the built-in case: no type to name.
    nothing = value_expr(NOTHING)
    assert isinstance(nothing, EConstructor) and nothing.type_ref is None


@pytest.mark.parametrize("value", [
    Closure(("x",), b.var("x")),
    uuid.UUID(int=7),
    Char("ab"),                                    # not one character
    DatastoreRef("Users", 0),
    ErrorValue("boom"),
    Incomplete(),
    (1, Closure((), b.int_(1))),
    FrozenDict(a=uuid.UUID(int=1)),
    Variant("Rgb", (1, 2, 3), "Gone_v4"),          # a type the program does not have
    Response(200, "x", (("A", "1"), ("A", "2"))),  # a header twice
    dt.datetime(2020, 1, 1, 0, 0, 0, 5, tzinfo=dt.UTC),  # a fraction of a second
])
def test_what_code_cannot_write_gives_none(value: Any) -> None:
    assert value_expr(value, PROGRAM) is None


def test_deep_values_give_none_instead_of_overflowing() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = (deep,)
    assert value_expr(deep) is None
    # Just within the limit, in the deepest form (Dicts of non-name keys in Responses),
    # the code still goes over the wire and runs.
    nested: Any = 1
    for _ in range(MAX_DEPTH // 4):
        nested = Response(200, FrozenDict({"a-b": nested}))
    assert values_equal(_eval(nested), nested)


# ------------------------------------------------------------------ test_from_trace


def _users_handler() -> Any:
    users = b.datastore("Users", STRING)
    got = b.call("DB::get_v2", b.var("id"), b.var("Users_v0"))
    body = b.match(got,
                   (b.pctor("Just", b.pvar("name")),
                    b.call("Http::response_v0", b.record(id=b.var("id"), name=b.var("name")),
                           200)),
                   (b.pctor("Nothing"), b.call("Http::response_v0", b.str_("no such user"),
                                               404)))
    return users, b.http("GET", "/users/:id", body, pos=(100, 200))


def _request(path: str) -> FrozenDict:
    return FrozenDict(method="GET", path=path, body=None, query=FrozenDict(),
                      headers=FrozenDict({"user-agent": "curl/8", "accept": "*/*"}))


def test_a_trace_becomes_a_test_that_replays_its_datastore_read_and_passes() -> None:
    users, handler = _users_handler()
    request = _request("/users/7")
    read = ImpureCall("DB::get_v2", ("7", DatastoreRef("Users", 0)), just("Ada"))
    expected = Response(200, FrozenDict(id="7", name="Ada"))
    test = test_from_trace(handler, {"request": request, "id": "7"}, expected, [read],
                           pos=Pos(600, 200))
    assert test.name == "GET /users/7 answers as traced"
    assert test.recording == (read,) and test.pos == Pos(600, 200)
    suite = Suite([users, handler, test])
    result = suite.run(test)
    assert result.status == PASSED, result.summary()
    assert handler.tlid in result.reached
    # Without its recording the read is refused: the test never touches the world.
    bare = Suite([users, handler, b.test("bare", test.body)]).run_all()[0]
    assert bare.status == FAILED and "never touches the world" in bare.runs[0].message


def test_a_test_from_a_trace_fails_when_the_handler_changes_its_answer() -> None:
    users, handler = _users_handler()
    read = ImpureCall("DB::get_v2", ("7", DatastoreRef("Users", 0)), just("Ada"))
    test = test_from_trace(handler, {"request": _request("/users/7"), "id": "7"},
                           Response(200, FrozenDict(id="7", name="Ada")), [read])
    changed = b.http("GET", "/users/:id", b.call("Http::response_v0", b.str_("gone"), 410))
    changed = changed.__class__(handler.tlid, handler.pos, handler.language_version,
                                handler.spec, changed.body)
    result = Suite([users, changed, test]).run(test)
    assert result.status == FAILED
    assert "expected Http::response" in result.summary() or "410" in result.summary()


def test_worker_and_cron_traces_become_tests() -> None:
    worker = b.worker("emails", b.field(b.var("event"), "to"))
    cron = b.cron("nightly", 3600, b.call("Date::now_v0"))
    when = dt.datetime(2026, 12, 8, 1, 0, 0, tzinfo=dt.UTC)
    t1 = test_from_trace(worker, {"event": FrozenDict(to="a@b.c")}, "a@b.c", [])
    t2 = test_from_trace(cron, {}, when, [ImpureCall("Date::now_v0", (), when)])
    assert t1.name == "worker emails answers as traced"
    results = Suite([worker, cron, t1, t2]).run_all()
    assert [r.status for r in results] == [PASSED, PASSED], [r.summary() for r in results]


def test_a_value_code_cannot_write_is_refused_with_a_reason() -> None:
    worker = b.worker("q", b.lam(["x"], b.var("x")))
    with pytest.raises(TraceTestError, match=r"cannot be written as code \(a UUID in it\)"):
        test_from_trace(worker, {"event": 1}, (1, FrozenDict(id=uuid.UUID(int=3))), [])
    with pytest.raises(TraceTestError, match="worker q ended with <error: boom>, not a value"):
        test_from_trace(worker, {"event": 1}, ErrorValue("boom"), [])
    repl = b.repl("scratch", b.int_(1))
    with pytest.raises(TraceTestError, match="REPL"):
        test_from_trace(repl, {}, 1, [])


def test_a_long_or_multiline_name_is_made_one_line() -> None:
    worker = b.worker("q", b.int_(1))
    t = test_from_trace(worker, {"event": 1}, 1, [], name="line one\nline two" + "x" * 300)
    assert "\n" not in t.name and len(t.name) <= 200 and t.name.startswith("line one line two")


def test_a_test_with_a_recording_is_a_well_formed_toplevel_to_create() -> None:
    """Its recorded calls hold values of any kind (an `Any` field: the shape check once
    crashed on it, so no test made from a trace could be created)."""
    from shared_ast.apply import apply_to_canvas
    from shared_ast.ops import CreateToplevel

    users, handler = _users_handler()
    read = ImpureCall("DB::get_v2", ("7", DatastoreRef("Users", 0)), just("Ada"))
    test = test_from_trace(handler, {"request": _request("/users/7"), "id": "7"},
                           Response(200, FrozenDict(id="7", name="Ada")), [read])
    canvas = apply_to_canvas([CreateToplevel(test)], {users.tlid: users,
                                                      handler.tlid: handler})
    assert canvas[test.tlid] == test


@given(st.text(max_size=300))
def test_any_name_asked_for_gives_a_name_a_test_may_have(name: str) -> None:
    """`trace_to_test`'s "name" comes from any client: whatever it holds (a NUL, lines,
    only spaces), the test made has a valid name, so creating it is not refused."""
    from shared_ast.names import test_name_problem

    worker = b.worker("q", b.int_(1))
    t = test_from_trace(worker, {"event": 1}, 1, [], name=name)
    assert test_name_problem(t.name) is None, repr(t.name)


def test_a_value_nested_too_deeply_is_refused_with_a_reason_not_a_crash() -> None:
    """A trace's value nested near the wire's limit (1000 levels) cannot be written (past
    MAX_DEPTH): the refusal says so; finding what to name once overflowed Python's stack."""
    deep: Any = 1
    for _ in range(990):
        deep = (deep,)
    worker = b.worker("q", 1)
    with pytest.raises(TraceTestError, match=f"a value nested more than {MAX_DEPTH} levels"):
        test_from_trace(worker, {"event": 1}, deep, [])
    record: Any = FrozenDict(id=uuid.UUID(int=3))
    with pytest.raises(TraceTestError, match=r"\(a UUID in it\)"):
        test_from_trace(worker, {"event": 1}, (1, (record,)), [])
    # A user enum case the program writes is not what is named: the UUID beside it is.
    red = Variant("Red", (), f"{COLOR.name}_v{COLOR.version}")
    with pytest.raises(TraceTestError, match=r"\(a UUID in it\)"):
        test_from_trace(worker, {"event": 1}, (red, uuid.UUID(int=3)), [],
                        program=Program.from_toplevels([COLOR]))
