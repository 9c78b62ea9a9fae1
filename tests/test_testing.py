"""Tests in the language: the Test toplevel, Test::expect, runs across flag states,
impure calls refused or replayed, and what a test reaches."""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
from hypothesis import given, settings

from shared_ast import build as b
from shared_ast import names, wire
from shared_ast.checker import TEST_ONLY, check_toplevel
from shared_ast.evaluator import run_toplevel
from shared_ast.testing import (
    ERROR,
    FAILED,
    INCOMPLETE,
    MAX_EXHAUSTIVE_FLAGS,
    PASSED,
    Suite,
    flag_states,
)
from shared_ast.type_ast import INT, UNKNOWN
from shared_ast.values import DatastoreRef, ErrorValue, FrozenDict, ImpureCall, just


def _total(flagged: bool = False):  # type: ignore[no-untyped-def]
    plus_one = b.infix("+", b.var("n"), 1)
    body = b.flag("double", b.bool_(False), plus_one, b.infix("*", b.var("n"), 2)) \
        if flagged else plus_one
    return b.function("total", [("n", INT)], INT, body)


def test_a_test_passes_and_reports_each_check() -> None:
    fn = _total()
    t = b.test("adds one", b.list_(b.expect(b.user_call(fn, 2), 3),
                                   b.expect(b.user_call(fn, 5), 6)))
    result = Suite([fn, t]).run(t)
    assert result.status == PASSED
    (run,) = result.runs
    assert [(c.actual, c.expected, c.passed) for c in run.checks] == [(3, 3, True), (6, 6, True)]
    assert run.live is None  # live values are kept only for runs that do not pass


def test_a_failing_check_names_expected_and_actual_and_keeps_live_values() -> None:
    fn = _total()
    check = b.expect(b.user_call(fn, 2), 4)
    t = b.test("adds two", b.list_(check, b.expect(b.user_call(fn, 1), 2)))
    result = Suite([fn, t]).run(t)
    assert result.status == FAILED
    (run,) = result.runs
    assert run.message == "expected 4, got 3"
    assert run.failed_check is not None and run.failed_check.node_id == check.id
    # The test goes on after a failed check: the second one ran and passed.
    assert [c.passed for c in run.checks] == [False, True]
    assert run.live is not None and run.live.get(check.args[0].id).value == 3
    assert result.summary() == "adds two: failed: expected 4, got 3"


def test_each_flag_state_runs_and_the_failing_one_is_named() -> None:
    fn = _total(flagged=True)
    t = b.test("adds one", b.expect(b.user_call(fn, 2), 3))
    result = Suite([fn, t]).run(t)
    assert [(r.describe_state(), r.status) for r in result.runs] == [
        ("flag double old", PASSED), ("flag double new", FAILED)]
    assert result.status == FAILED
    assert "with flag double new" in result.summary()


def test_flags_in_the_test_and_in_what_it_calls_multiply() -> None:
    fn = _total(flagged=True)
    t = b.test("both", b.flag("viaTest", b.bool_(True), b.expect(b.user_call(fn, 2), 3),
                              b.expect(b.user_call(fn, 2), 4)))
    result = Suite([fn, t]).run(t)
    assert [f.name for f in result.flags] == ["viaTest", "double"]  # the test's own first
    assert len(result.runs) == 4
    passing = {r.describe_state() for r in result.runs if r.status == PASSED}
    # old/old: total 2 = 3 == 3; new/new: total 2 = 4 == 4.
    assert passing == {"flag viaTest old, flag double old", "flag viaTest new, flag double new"}


def test_holes_and_no_checks_are_incomplete_errors_are_errors() -> None:
    assert Suite([t := b.test("todo", b.hole())]).run(t).status == INCOMPLETE
    assert Suite([t := b.test("nothing", 1)]).run(t).status == INCOMPLETE
    err = b.test("boom", b.call("Int::divide_v0", 1, 0))
    result = Suite([err]).run(err)
    assert result.status == ERROR and "zero" in result.runs[0].message.lower()


def test_impure_calls_are_refused_unless_the_recording_replays_them() -> None:
    ds = b.datastore("Users", UNKNOWN)
    handler = b.http("GET", "/users/:id", b.call("DB::get_v2", b.var("id"), b.var("Users_v0")))
    asked = b.call("Test::http_v0", "GET", "/users/7", None)
    bare = b.test("reads", b.expect(asked, b.just(b.record(("name", "Ann")))))
    suite = Suite([ds, handler, bare])
    run = suite.run(bare).runs[0]
    assert run.status == FAILED
    assert isinstance(run.checks[0].actual, ErrorValue)
    assert "DB::get_v2 is impure" in run.checks[0].actual.message
    recorded = b.test("reads", bare.body, recording=[ImpureCall(
        "DB::get_v2", ("7", DatastoreRef("Users", 0)), just(FrozenDict(name="Ann")))])
    assert Suite([ds, handler, recorded]).run(recorded).status == PASSED


def test_random_and_clock_are_refused_too() -> None:
    t = b.test("random", b.expect(b.call("Uuid::generate_v0"), 1))
    run = Suite([t]).run(t).runs[0]
    assert "is impure" in run.message


def test_test_http_event_and_cron_run_the_handler() -> None:
    h = b.http("POST", "/sum/:a", b.infix("++", b.var("a"), b.field(b.var("request"), "n")))
    w = b.worker("mail", b.field(b.var("event"), "to"))
    c = b.cron("tick", 60, 42)
    t = b.test("all", b.list_(
        b.expect(b.call("Test::http_v0", "POST", "/sum/2", b.record(("n", "3"))), "23"),
        b.expect(b.call("Test::event_v0", "mail", b.record(("to", "ann"))), "ann"),
        b.expect(b.call("Test::cron_v0", "tick"), 42),
        b.expect(b.call("Test::http_v0", "POST", "/sum/4?x=1", b.record(("n", "5"))), "45"),
        b.expect(b.call("Test::http_v0", "GET", "/nowhere", None), 1)))
    suite = Suite([h, w, c, t])
    run = suite.run(t).runs[0]
    assert [c.passed for c in run.checks] == [True, True, True, True, False]
    assert "no HTTP handler answers GET /nowhere" in run.checks[4].actual.message
    assert suite.reached(t) == {t.tlid, h.tlid, w.tlid, c.tlid}


def test_tests_reaching_follows_calls_and_routes() -> None:
    fn = _total()
    helper = b.function("helper", [("n", INT)], INT, b.user_call(fn, b.var("n")))
    h = b.http("GET", "/t/:n", b.user_call(helper, b.call("String::toInt_v1", b.var("n"))))
    other = b.http("GET", "/other", 1)
    direct = b.test("direct", b.expect(b.user_call(fn, 1), 2))
    via_route = b.test("route", b.expect(b.call("Test::http_v0", "GET", "/t/1?a=b", None), 2))
    computed = b.test("any", b.expect(b.call("Test::http_v0", "GET", b.var("x"), None), 2))
    unrelated = b.test("unrelated", b.expect(1, 1))
    suite = Suite([fn, helper, h, other, direct, via_route, computed, unrelated])
    assert {t.name for t in suite.tests_reaching(fn.tlid)} == {"direct", "route", "any"}
    assert {t.name for t in suite.tests_reaching(other.tlid)} == {"any"}
    assert {t.name for t in suite.tests_reaching(unrelated.tlid)} == {"unrelated"}


def test_test_functions_outside_a_test_are_marked_and_give_an_error() -> None:
    h = b.http("GET", "/", b.expect(1, 1))
    marks = [m for info in check_toplevel(h).values() for m in info.marks]
    assert [m.kind for m in marks] == [TEST_ONLY]
    value = run_toplevel(h, {})
    assert isinstance(value, ErrorValue) and "runs only in a test" in value.message


def test_impure_calls_in_a_test_are_marked_unless_recorded() -> None:
    call = b.call("Uuid::generate_v0")
    t = b.test("random", b.expect(call, 1))
    assert [m.kind for m in check_toplevel(t)[call.id].marks] == [TEST_ONLY]
    recorded = b.test("random", b.expect(b.call("Uuid::generate_v0"), 1),
                      recording=[ImpureCall("Uuid::generate_v0", (), 1)])
    assert not check_toplevel(recorded)[recorded.body.args[0].id].marks


def test_test_names_are_one_line_phrases() -> None:
    assert names.test_name_problem("total of an empty cart is 0") is None
    assert names.test_name_problem("") is not None
    assert names.test_name_problem("two\nlines") is not None
    assert names.test_name_problem("x" * 201) is not None


def test_a_test_with_a_bad_recorded_value_does_not_decode() -> None:
    t = b.test("x", b.expect(1, 1), recording=[ImpureCall("Uuid::generate_v0", (), 1)])
    raw = wire.encode_toplevel(t)
    raw["recording"][0]["result"] = {"kind": "nonsense"}
    try:
        wire.decode_toplevel(raw)
    except wire.WireError as e:
        assert "recording" in e.path and "bad value" in e.message
    else:
        raise AssertionError("a recorded call with a bad value decoded")


@given(st.integers(min_value=0, max_value=MAX_EXHAUSTIVE_FLAGS))
def test_up_to_six_flags_run_every_combination(n: int) -> None:
    states = flag_states(n)
    assert sorted(states) == sorted(itertools.product((False, True), repeat=n))


@settings(max_examples=40)
@given(st.integers(min_value=MAX_EXHAUSTIVE_FLAGS + 1, max_value=200))
def test_more_flags_cover_every_pair_of_branches(n: int) -> None:
    states = flag_states(n)
    assert len(set(states)) == len(states)
    assert all(len(s) == n for s in states)
    assert (False,) * n in states and (True,) * n in states
    for i, j in itertools.combinations(range(n), 2):
        assert {(s[i], s[j]) for s in states} == {(False, False), (False, True),
                                                  (True, False), (True, True)}
    assert len(states) <= 2 * n.bit_length() + 4  # logarithmic, never 2**n


def test_live_values_are_kept_once_per_test_not_for_every_failing_state() -> None:
    """A test failing in all 64 states of 6 flags keeps the live values of the run the
    editor shows (its first failing run), not 64 sets of them (each up to live.MAX_WEIGHT)."""
    flags = [b.flag(f"f{i}", b.bool_(False), b.int_(i), b.int_(-i))
             for i in range(MAX_EXHAUSTIVE_FLAGS)]
    t = b.test("always fails", b.list_(*flags, b.expect(b.int_(1), 2)))
    result = Suite([t]).run(t)
    assert len(result.failing_runs) == 2 ** MAX_EXHAUSTIVE_FLAGS
    kept = [r for r in result.runs if r.live is not None]
    assert kept == [result.failing_runs[0]]
    check = result.failing_runs[0].failed_check
    assert check is not None and result.failing_runs[0].live is not None
    assert result.failing_runs[0].live.get(check.node_id) is not None


def test_a_check_whose_expected_value_is_a_hole_is_unfinished_not_failed() -> None:
    """`Test::expect (f 2) <hole>` is a test being written (a new test's body, a failure
    kept from a fuzz): incomplete, so it counts neither as failing in the editor nor in
    `gloam canvas test`; a check beside it that fails still fails the test."""
    fn = _total()
    todo = b.test("todo", b.expect(b.user_call(fn, 2), b.hole()))
    fresh = b.test("fresh", b.expect(b.hole(), b.hole()))
    both = b.test("both", b.list_(b.expect(b.user_call(fn, 2), b.hole()),
                                  b.expect(b.user_call(fn, 2), 4)))
    results = Suite([fn, todo, fresh, both]).run_all()
    assert [r.status for r in results] == [INCOMPLETE, INCOMPLETE, FAILED], \
        [r.summary() for r in results]
    assert results[0].summary() == "todo: incomplete: the test has holes: fill them to run it"
    assert results[2].runs[0].message == "expected 4, got 3"


def test_only_a_test_reaches_the_handlers_its_test_calls_run() -> None:
    """A `Test::http` in a handler or function runs nothing (an error outside a test), so
    it reaches nothing: locking spreads "in use" along reach, and a stray one (a computed
    path: every HTTP handler) must not mark the canvas's other handlers in use."""
    from shared_ast.reach import Reach

    other = b.http("GET", "/other", 1)
    stray = b.http("GET", "/stray", b.call("Test::http_v0", "GET", b.var("x"), None))
    helper = b.function("helper", [], INT, b.call("Test::cron_v0", "tick"))
    cron = b.cron("tick", 60, 1)
    test = b.test("all", b.expect(b.call("Test::http_v0", "GET", b.var("x"), None), 1))
    # In a test's run, the stray call does run handlers: the test reaches them.
    via = b.test("via", b.expect(b.call("Test::http_v0", "GET", "/stray", None), 1))
    reach = Reach([other, stray, helper, cron, test, via])
    assert reach.reached(stray) == {stray.tlid}
    assert reach.reached(helper) == {helper.tlid}
    assert reach.reached(test) == {test.tlid, other.tlid, stray.tlid}
    assert reach.reached(via) == {via.tlid, stray.tlid, other.tlid}


def test_running_a_test_as_a_toplevel_says_it_is_a_test() -> None:
    """run_toplevel of a test (the `run` a handler or function gets) says what it is given,
    not that it is a datastore."""
    value = run_toplevel(b.test("t", b.expect(1, 1)), {})
    assert isinstance(value, ErrorValue) and value.message.endswith("this is a test")
