"""Fuzzing from types (shared_ast.fuzz): values drawn from a type fit it, failures are
found and shrunk, a fuzz is the same for a seed, and never touches the world."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import find, given, settings

from shared_ast import build as b
from shared_ast import type_ast as ty
from shared_ast.evaluator import evaluate
from shared_ast.fuzz import (
    ERROR,
    INCOMPLETE,
    LIMIT,
    RAIL,
    Unfuzzable,
    body_type_of,
    fuzz_function,
    fuzz_handler,
    input_literal,
    keep_as_test,
    strategy_for,
)
from shared_ast.nodes import TypeRef, UserFnRef
from shared_ast.program import Program
from shared_ast.testing import Suite
from shared_ast.toplevels import Pos
from shared_ast.value_types import value_fits
from shared_ast.values import NOTHING, Closure, DatastoreRef, FrozenDict, Variant, values_equal
from tests.strategies import types

# A record type and a recursive enum (a tree of Ints), to draw user types from.
PERSON = b.record_type("Person", [("name", ty.STRING), ("age", ty.INT),
                                  ("tags", ty.TList(ty.STRING))])
TREE_ID = 777
TREE = b.enum_type("Tree", [("Leaf", []), ("Node", [("left", ty.TUser(TREE_ID, 0)),
                                                    ("value", ty.INT),
                                                    ("right", ty.TUser(TREE_ID, 0))])],
                   type_id=TREE_ID)
PROGRAM = Program.from_toplevels([PERSON, TREE])
PERSON_T = ty.TUser(PERSON.type_id, 0)
TREE_T = ty.TUser(TREE_ID, 0)

def _fuzzable(t: ty.Type) -> bool:
    """No function or datastore anywhere in it, and user types only the program's."""
    match t:
        case ty.TFn() | ty.TDatastore():
            return False
        case ty.TUser():
            return (t.type_id, t.version) in PROGRAM.types
        case ty.TList(elem=x) | ty.TDict(value=x) | ty.TOption(inner=x):
            return _fuzzable(x)
        case ty.TResult(ok=x, error=y):
            return _fuzzable(x) and _fuzzable(y)
        case ty.TRecord(fields=fs):
            return all(_fuzzable(f.type) for f in fs)
    return True


def _with_users(t: ty.Type) -> st.SearchStrategy[ty.Type]:
    return st.sampled_from([t, ty.TList(PERSON_T), ty.TOption(TREE_T),
                            ty.TResult(TREE_T, t), ty.TDict(PERSON_T)])


@settings(max_examples=150, deadline=None)
@given(st.data(), types().filter(_fuzzable).flatmap(_with_users))
def test_every_drawn_value_fits_its_type(data: st.DataObject, t: ty.Type) -> None:
    value = data.draw(strategy_for(t, PROGRAM))
    assert value_fits(value, t, PROGRAM, deep=True) is None


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_user_records_and_recursive_enums_fit(data: st.DataObject) -> None:
    person = data.draw(strategy_for(PERSON_T, PROGRAM))
    tree = data.draw(strategy_for(TREE_T, PROGRAM))
    assert value_fits(person, PERSON_T, PROGRAM) is None
    assert value_fits(tree, TREE_T, PROGRAM) is None
    assert isinstance(tree, Variant) and tree.type_name == "Tree_v0"


def test_edges_come_out() -> None:
    """Ints at the 64-bit bounds, NaN and -0.0, the empty String, emoji and a combining
    mark, empty and long Lists, Nothing and Just, both cases of a Result: each is drawn."""
    quick = settings(max_examples=3000, database=None, deadline=None)

    def drawn(t: ty.Type, wanted: Callable[[Any], bool]) -> None:
        find(strategy_for(t, PROGRAM), wanted, settings=quick)  # raises if never drawn

    for edge in (0, 1, -1, 2**63 - 1, -(2**63)):
        drawn(ty.INT, lambda v, e=edge: v == e)
    drawn(ty.FLOAT, math.isnan)
    drawn(ty.FLOAT, lambda v: math.isinf(v) and v < 0)
    drawn(ty.FLOAT, lambda v: v == 0.0 and math.copysign(1, v) < 0)
    for text in ("", "👩‍💻", "e\u0301", "שלום"):
        drawn(ty.STRING, lambda v, t=text: v == t)
    drawn(ty.TList(ty.INT), lambda v: v == ())
    drawn(ty.TList(ty.INT), lambda v: len(v) >= 40)
    drawn(ty.TOption(ty.INT), lambda v: v == NOTHING)
    drawn(ty.TOption(ty.INT), lambda v: v.name == "Just")
    drawn(ty.TResult(ty.INT, ty.STRING), lambda v: v.name == "Error")
    drawn(ty.TDict(ty.INT), lambda v: len(v) >= 2)
    drawn(TREE_T, lambda v: v.name == "Node" and v.args[0].name == "Node")


def test_functions_and_datastores_cannot_be_drawn() -> None:
    for t in (ty.TFn((ty.INT,), ty.INT), ty.TDatastore(ty.INT), ty.TUser(1, 9)):
        try:
            strategy_for(t, PROGRAM)
        except Unfuzzable as e:
            assert "no" in str(e)
        else:
            raise AssertionError(f"{t} drew values")


# ------------------------------------------------------------------ fuzzing


def _parse_age():  # type: ignore[no-untyped-def]
    """The planted bug: String::toInt of the input on the error rail, no fallback."""
    return b.function("parseAge", [("s", ty.STRING)], ty.INT,
                      b.infix("+", b.call("String::toInt_v1", b.var("s"), rail=True), 1))


def test_the_planted_bug_is_found_and_shrunk_to_the_empty_string() -> None:
    fn = _parse_age()
    report = fuzz_function(fn, Program.from_toplevels([fn]), seed=1, max_examples=150,
                           time_limit=20)
    (failure,) = report.failures
    assert failure.kind == RAIL
    assert failure.inputs == (("s", ""),)
    assert "got ''" in failure.message
    assert failure.count > 1  # many inputs failed this way; one is shown
    assert "1 distinct failure" in report.summary()


def test_correct_code_has_no_failure() -> None:
    fn = b.function("safeAge", [("s", ty.STRING)], ty.INT,
                    b.call("Result::withDefault_v0", b.call("String::toInt_v1", b.var("s")), 0))
    report = fuzz_function(fn, Program.from_toplevels([fn]), seed=1, max_examples=100,
                           time_limit=20)
    assert report.failures == ()
    assert report.examples == 100


def test_distinct_failures_are_each_shrunk() -> None:
    fn = b.function("two", [("s", ty.STRING), ("n", ty.INT)], ty.INT,
                    b.if_(b.infix(">", b.var("n"), 100), b.call("Int::divide_v0", 1, 0),
                          b.call("String::toInt_v1", b.var("s"), rail=True)))
    report = fuzz_function(fn, Program.from_toplevels([fn]), seed=5, max_examples=300,
                           time_limit=30)
    kinds = {f.kind: dict(f.inputs) for f in report.failures}
    assert set(kinds) == {RAIL, ERROR}
    assert kinds[RAIL] == {"s": "", "n": 0}
    assert kinds[ERROR]["s"] == "" and kinds[ERROR]["n"] > 100


def test_the_same_seed_gives_the_same_report() -> None:
    fn = b.function("firstWord", [("p", PERSON_T)], ty.STRING,
                    b.call("List::head_v1", b.field(b.var("p"), "tags"), rail=True))
    one = fuzz_function(fn, Program.from_toplevels([fn, PERSON]), seed=7, time_limit=30)
    two = fuzz_function(fn, Program.from_toplevels([fn, PERSON]), seed=7, time_limit=30)
    assert one.failures == two.failures and one.examples == two.examples
    (failure,) = one.failures
    (_, person), = failure.inputs
    assert person["tags"] == ()  # the empty list is what fails, shrunk to


def test_limits_holes_and_impure_calls_are_failures_and_nothing_is_written() -> None:
    loop = b.function("spin", [("n", ty.INT)], ty.INT,
                      b.user_call(UserFnRef(4242, 0), b.var("n")), fn_id=4242)
    hole = b.function("unfinished", [("n", ty.INT)], ty.INT, b.infix("+", b.var("n"), b.hole()))
    store = b.datastore("Users", ty.INT)
    writes = b.function("save", [("n", ty.INT)], ty.NULL,
                        b.call("DB::set_v1", b.var("n"), "k", b.var("Users_v0")))
    program = Program.from_toplevels([loop, hole, writes, store])
    for fn, kind, said in ((loop, LIMIT, "Stopped"), (hole, INCOMPLETE, "holes"),
                           (writes, ERROR, "never touches the world")):
        report = fuzz_function(fn, program, seed=0, max_examples=5, time_limit=10)
        assert [f.kind for f in report.failures] == [kind], fn.name
        assert said in report.failures[0].message


def test_untyped_or_parameterless_functions_say_what_to_do() -> None:
    for fn, said in ((b.function("f", [("x", ty.UNKNOWN)], ty.INT, 1), "give them types"),
                     (b.function("g", [], ty.INT, 1), "no parameters")):
        try:
            fuzz_function(fn, Program.from_toplevels([fn]))
        except Unfuzzable as e:
            assert said in str(e)
        else:
            raise AssertionError("fuzzed")


def test_a_handler_route_parameter_is_fuzzed_and_shrunk() -> None:
    h = b.http("GET", "/age/:n", b.call("String::toInt_v1", b.var("n"), rail=True))
    report = fuzz_handler(h, Program.from_toplevels([h]), seed=3, max_examples=100,
                          time_limit=20)
    (failure,) = report.failures
    # A path segment is never empty: the smallest failing one is one character long.
    (name, value), (_, body) = failure.inputs
    assert name == "n" and len(value) == 1 and not value.isdigit()
    assert body is None


def test_a_handler_body_is_typed_by_the_function_it_is_passed_to() -> None:
    greet = b.function("greet", [("p", PERSON_T)], ty.STRING,
                       b.call("String::append_v1", "hi ", b.field(b.var("p"), "name")))
    h = b.http("POST", "/greet", b.user_call(greet, b.field(b.var("request"), "body")))
    program = Program.from_toplevels([greet, h, PERSON])
    assert body_type_of(h, program) == PERSON_T
    assert body_type_of(b.http("POST", "/x", 1), program) == ty.UNKNOWN
    report = fuzz_handler(h, program, seed=0, max_examples=50, time_limit=20)
    assert report.failures == ()


# ------------------------------------------------------------------ keeping as a test


@settings(max_examples=100, deadline=None)
@given(st.data(), types().filter(_fuzzable).flatmap(_with_users))
def test_an_input_literal_evaluates_to_the_input(data: st.DataObject, t: ty.Type) -> None:
    value = data.draw(strategy_for(t, PROGRAM))
    lit = input_literal(value, PROGRAM)
    if lit is not None:
        assert values_equal(evaluate(lit, {}, PROGRAM), value)


def test_inputs_code_cannot_write_give_none() -> None:
    # (NaN, Chars and keys that are not names are written: trace_tests.value_expr.)
    for value in (uuid.UUID(int=1), (1, DatastoreRef("Users", 0)),
                  FrozenDict({"a": Closure(("x",), b.var("x"))})):
        assert input_literal(value) is None


def test_kept_failure_becomes_a_test_that_calls_the_function_with_the_input() -> None:
    fn = _parse_age()
    program = Program.from_toplevels([fn])
    (failure,) = fuzz_function(fn, program, seed=1, time_limit=20).failures
    t = keep_as_test(failure, fn, program, Pos(10, 20))
    assert t.pos == Pos(10, 20) and "parseAge" in t.name
    # Its body is `Test::expect (parseAge "") <hole>`: it reproduces the failure at once.
    result = Suite([fn, t]).run(t)
    assert result.status == "error" and "error rail" in result.summary()
    check = t.body
    assert check.args[0].args[0].value == ""  # type: ignore[attr-defined]


def test_a_kept_handler_failure_runs_the_handler_on_its_path() -> None:
    h = b.http("GET", "/age/:n", b.call("String::toInt_v1", b.var("n"), rail=True))
    program = Program.from_toplevels([h])
    (failure,) = fuzz_handler(h, program, seed=3, time_limit=20).failures
    t = keep_as_test(failure, h, program, Pos(0, 0))
    # Give the hole a value: the test then runs the handler and reports its error.
    filled = b.test(t.name, b.expect(t.body.args[0], 1))  # type: ignore[attr-defined]
    result = Suite([h, filled]).run(filled)
    assert result.status == "error", result.summary()
    assert "error rail" in result.summary()


def test_a_user_enum_input_is_written_with_its_type() -> None:
    node = Variant("Node", (Variant("Leaf", (), "Tree_v0"), 3, Variant("Leaf", (), "Tree_v0")),
                   "Tree_v0")
    lit = input_literal(node, PROGRAM)
    assert lit is not None and lit.type_ref == TypeRef(TREE_ID, 0)  # type: ignore[attr-defined]
    assert values_equal(evaluate(lit, {}, PROGRAM), node)



def _slow():  # type: ignore[no-untyped-def]
    return b.function("slow", [("n", ty.INT)], ty.INT,
                      b.call("List::fold_v0", b.call("List::range_v0", 0, 20_000), b.var("n"),
                             b.lam(["a", "x"], b.infix("+", b.var("a"), 1))))


def test_a_fuzz_stops_at_its_time_limit_and_the_next_one_still_runs() -> None:
    fn = _slow()
    program = Program.from_toplevels([fn])
    report = fuzz_function(fn, program, seed=0, max_examples=10_000, time_limit=0.3)
    assert report.timed_out and 0 < report.examples < 10_000
    assert "stopped at its time limit" in report.summary()
    again = fuzz_function(_parse_age(), Program.from_toplevels([_parse_age()]), seed=1,
                          max_examples=50, time_limit=20)
    assert [dict(f.inputs) for f in again.failures] == [{"s": ""}]


def test_a_fuzz_stops_when_asked() -> None:
    fn = _slow()
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    report = fuzz_function(fn, Program.from_toplevels([fn]), seed=0, max_examples=10_000,
                           time_limit=60, stop=stop)
    assert report.stopped and not report.timed_out and report.examples == 3


def test_shrinking_finds_the_boundary_not_just_an_edge() -> None:
    """Failing only above 1000 or past 5 characters: the inputs shown are 1001 and a String
    of 6 characters, whatever larger input failed first."""
    fn = b.function("bounded", [("n", ty.INT), ("s", ty.STRING)], ty.INT,
                    b.if_(b.infix(">", b.var("n"), 1000), b.call("Int::divide_v0", 1, 0),
                          b.if_(b.infix(">", b.call("String::length_v1", b.var("s")), 5),
                                b.call("List::head_v1", b.list_(), rail=True), 0)))
    report = fuzz_function(fn, Program.from_toplevels([fn]), seed=2, max_examples=300,
                           time_limit=30)
    by_kind = {f.kind: dict(f.inputs) for f in report.failures}
    assert by_kind[ERROR]["n"] == 1001
    assert by_kind[RAIL]["n"] <= 1000 and len(by_kind[RAIL]["s"]) == 6


def test_the_codes_own_literals_are_tried() -> None:
    """A crash only for "admin" (in a function it calls) or only just past 4242: found,
    which random Strings and Ints would almost never be."""
    guard = b.function("guard", [("who", ty.STRING)], ty.INT,
                       b.if_(b.infix("==", b.var("who"), "admin"),
                             b.call("Int::divide_v0", 1, 0), 0))
    fn = b.function("door", [("who", ty.STRING), ("n", ty.INT)], ty.INT,
                    b.if_(b.infix("==", b.var("n"), 4243),
                          b.call("List::head_v1", b.list_(), rail=True),
                          b.user_call(guard, b.var("who"))))
    program = Program.from_toplevels([guard, fn])
    report = fuzz_function(fn, program, seed=0, max_examples=300, time_limit=30)
    by_kind = {f.kind: dict(f.inputs) for f in report.failures}
    assert by_kind[ERROR]["who"] == "admin"
    assert by_kind[RAIL]["n"] == 4243


@pytest.mark.parametrize("seed", [0, 1, 17, 404, 9999])
def test_every_reported_input_fails_as_reported_when_run_again(seed: int) -> None:
    """For any seed (a fuzz is a Hypothesis run: it cannot nest in @given), each input
    reported fails the way the report says when the function runs on it again."""
    from shared_ast.evaluator import call_user_function

    fn = b.function("mixed", [("p", PERSON_T), ("k", ty.TOption(ty.INT))], ty.INT,
                    b.if_(b.infix(">", b.call("List::length_v0", b.field(b.var("p"), "tags")),
                                  2),
                          b.call("Int::divide_v0", b.field(b.var("p"), "age"), 0),
                          b.call("String::toInt_v1", b.field(b.var("p"), "name"), rail=True)))
    program = Program.from_toplevels([fn, PERSON])
    report = fuzz_function(fn, program, seed=seed, max_examples=60, time_limit=30)
    assert report.failures
    for failure in report.failures:
        args = tuple(v for _, v in failure.inputs)
        again = call_user_function(fn, args, program)
        kind = (RAIL if type(again).__name__ == "ErrorRail" else
                ERROR if type(again).__name__ == "ErrorValue" else "passed")
        assert kind == failure.kind, (failure, again)


def test_a_handlers_404_is_an_answer_and_its_500_a_failure() -> None:
    """A Nothing on the rail answers 404 (as the runtime does): not a failure of a handler.
    An Error on the rail is a 500: a failure."""
    not_found = b.http("GET", "/item/:id",
                       b.call("List::head_v1", b.list_(), rail=True))
    broken = b.http("GET", "/thing/:id",
                    b.call("String::toInt_v1", b.var("id"), rail=True))
    program = Program.from_toplevels([not_found, broken])
    assert fuzz_handler(not_found, program, max_examples=20, time_limit=10).failures == ()
    assert [f.kind for f in fuzz_handler(broken, program, max_examples=20,
                                         time_limit=10).failures] == [RAIL]
    # A function's Nothing on the rail goes on to its caller: a failure of the function.
    fn = b.function("first", [("xs", ty.TList(ty.INT))], ty.INT,
                    b.call("List::head_v1", b.var("xs"), rail=True))
    (failure,) = fuzz_function(fn, Program.from_toplevels([fn]), time_limit=10).failures
    assert failure.inputs == (("xs", ()),)
