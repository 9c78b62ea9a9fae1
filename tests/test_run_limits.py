"""A run's limits (`shared_ast.limits`): time, size caps, the allocation budget, on both paths.

Runaway code must end with a clear error value, quickly and in bounded memory,
on the reference evaluator and on the compiled path alike:

- a spin (a loop of a loop, a wide recursion) stops at the budget's time limit;
- a value built past its cap (a String doubled in a loop, `++`, a list
  appended to itself, a join of one String a million times over) is an error
  value naming the function and the limit, built neither whole nor in part;
- a run that builds too much in all stops at its allocation budget;
- compiled code out of steps answers the reference's error without running
  the reference evaluator;
- for random programs that build Strings and Lists under small budgets, both
  paths agree on the value (and on whether a limit stopped them), the steps
  spent and the bytes charged.

No test asserts how long something took: a spin with a time limit must return
its error (the suite's own run time is the judge of "quickly").
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs
from test_compiler import agree

from shared_ast import build as b
from shared_ast import compiler, limits
from shared_ast.compiler import compile_toplevel
from shared_ast.eval_context import Budget, ImpureLog
from shared_ast.evaluator import evaluate, run_toplevel
from shared_ast.nodes import Expr, UserFnRef
from shared_ast.program import Program
from shared_ast.toplevels import Handler, UserFunction
from shared_ast.type_ast import INT, STRING, UNKNOWN
from shared_ast.values import ErrorValue

# ------------------------------------------------------------------ helpers

PATHS = ["reference", "compiled"]


def run(path: str, tl: Handler, budget: Budget, program: Program | None = None) -> Any:
    program = program or Program()
    if path == "reference":
        return run_toplevel(tl, {}, program, budget=budget)
    compiled = compile_toplevel(tl, program)
    assert compiled.fast, compiled.reason
    return compiled.run({}, budget=budget)


def recursive(name: str, params: list[tuple[str, Any]], body: Callable[[UserFnRef], Expr]
              ) -> UserFunction:
    """A user function whose body may call itself through the reference it is given."""
    fn = b.function(name, params, UNKNOWN, b.int_(0))
    return attrs.evolve(fn, body=body(UserFnRef(fn.fn_id, fn.version)))


def doubling() -> UserFunction:
    """`double s n = if n == 0 then s else double (s ++ s) (n - 1)`."""
    return recursive("double", [("s", STRING), ("n", INT)], lambda me: b.if_(
        b.infix("==", b.var("n"), 0), b.var("s"),
        b.user_call(me, b.infix("++", b.var("s"), b.var("s")), b.infix("-", b.var("n"), 1))))


def fib() -> UserFunction:
    return recursive("fib", [("n", INT)], lambda me: b.if_(
        b.infix("<", b.var("n"), 2), b.var("n"),
        b.infix("+", b.user_call(me, b.infix("-", b.var("n"), 1)),
                b.user_call(me, b.infix("-", b.var("n"), 2)))))


def message(value: Any) -> str:
    assert isinstance(value, ErrorValue), value
    return value.message


# ---------------------------------------------------------------- time limit

def nested_folds() -> Handler:
    """A fold over a million Ints whose every step folds over a million more."""
    inner = b.call("List::fold_v0", b.call("List::range_v0", 0, 999_999), b.var("acc"),
                   b.lam(["a", "y"], b.infix("+", b.var("a"), 1)))
    return b.repl("spin", b.call("List::fold_v0", b.call("List::range_v0", 0, 999_999), 0,
                                 b.lam(["acc", "x"], inner)))


@pytest.mark.parametrize("path", PATHS)
def test_a_spin_in_list_loops_stops_at_the_time_limit(path: str) -> None:
    got = run(path, nested_folds(), Budget(max_steps=10**15, time_limit=0.2))
    assert message(got).startswith("Stopped after 0.2 s: the code ran longer than this run's "
                                   "time limit. Is there an infinite loop?")


@pytest.mark.parametrize("path", PATHS)
def test_a_wide_recursion_stops_at_the_time_limit(path: str) -> None:
    fn = fib()
    got = run(path, b.repl("f", b.user_call(fn, 60)), Budget(max_steps=10**15, time_limit=0.2),
              Program.from_toplevels([fn]))
    assert message(got).startswith("Stopped after 0.2 s:")


class SlowClock:
    """A `time` module whose clock moves a second at each look, whatever the code does."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now


LOOP_BODIES: dict[str, Callable[[int], Expr]] = {
    # a = a + i, five times: straight code (its steps added once per chunk when compiled)
    "straight": lambda i: b.infix("+", b.var("a"), i),
    # a = if y < i then a + i else a - 1: steps added at each element
    "branching": lambda i: b.if_(b.infix("<", b.var("y"), i), b.infix("+", b.var("a"), i),
                                 b.infix("-", b.var("a"), 1)),
    # a = a: no library call at all, so no look at the clock after one
    "plain": lambda i: b.var("a"),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", sorted(LOOP_BODIES))
def test_one_long_loop_looks_at_the_clock_as_it_runs(
        path: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # One loop over a million Ints, no call in it: in compiled code only the loop's own
    # tests of the steps can see the clock. Looking 30 times takes a small part of it.
    body: Expr = b.var("a")
    for i in range(5):
        body = b.let("a", LOOP_BODIES[kind](i), body)
    loop = b.call("List::fold_v0", b.call("List::range_v0", 0, 999_999), 0,
                  b.lam(["a", "y"], body))
    whole = Budget(max_steps=10**15)
    assert isinstance(run("compiled", b.repl("loop", loop), whole), int)
    monkeypatch.setattr(limits, "time", SlowClock())
    budget = Budget(max_steps=10**15, time_limit=30.5)
    got = run(path, b.repl("loop", loop), budget)
    assert message(got).startswith("Stopped after 30.5 s:")
    assert budget.steps < whole.steps / 2  # well before the end of the loop


def test_runs_sharing_a_budget_share_its_deadline() -> None:
    budget = Budget(max_steps=10**15, time_limit=0.1)
    first = run("compiled", nested_folds(), budget)
    assert message(first).startswith("Stopped after 0.1 s:")
    # The deadline has passed: the next run on the budget stops at its first look.
    again = run("reference", nested_folds(), budget)
    assert message(again).startswith("Stopped after 0.1 s:")
    assert evaluate(b.infix("+", 1, 2), budget=Budget(time_limit=0.1)) == 3


# -------------------------------------------------------- size caps, memory

@pytest.mark.parametrize("path", PATHS)
def test_doubling_a_string_stops_at_its_cap_in_bounded_memory(path: str) -> None:
    fn = doubling()
    tracemalloc.start()
    try:
        got = run(path, b.repl("d", b.user_call(fn, "a", 40)), Budget(),
                  Program.from_toplevels([fn]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message(got) == (
        "String::append_v1 would build a String of 33,554,432 characters, over this run's "
        "limit of 16,777,216 (is a loop making it ever longer?)")
    # 2**40 characters unchecked; here the Strings up to 16 Mi (kept by the recursion),
    # and never the one of 32 Mi.
    assert peak < 150 * 2**20, peak


CAPPED: dict[str, Callable[[Expr, Expr], Expr]] = {
    "++": lambda s, xs: b.infix("++", s, s),
    "String::append": lambda s, xs: b.call("String::append_v1", s, s),
    "String::prepend": lambda s, xs: b.call("String::prepend_v0", s, s),
    "String::join": lambda s, xs: b.call("String::join_v0", b.call("List::repeat_v0", 8, s), ""),
    "String::replaceAll": lambda s, xs: b.call("String::replaceAll_v0", s, "a", "aaa"),
    "List::append": lambda s, xs: b.call("List::append_v0", xs, xs),
    "List::repeat": lambda s, xs: b.call("List::repeat_v0", 40, 1),
    "List::range": lambda s, xs: b.call("List::range_v0", 1, 40),
    "List::flatten": lambda s, xs: b.call("List::flatten_v0", b.call("List::repeat_v0", 3, xs)),
    # Only the measure of the result catches these: no function asks first.
    "List::map": lambda s, xs: b.call("List::map_v0", b.list_(*range(35)),
                                      b.lam(["x"], b.var("x"))),
    "List::interpose": lambda s, xs: b.call("List::interpose_v0", xs, 0),
    "String::padEnd": lambda s, xs: b.call("String::padEnd_v0", s, "-", 35),
    "String::split": lambda s, xs: b.call("String::split_v1", "a," * 35, ","),
    "String::toList": lambda s, xs: b.call("String::toList_v1", "a" * 35),
    "Json::serialize": lambda s, xs: b.call("Json::serialize_v0", b.call("List::repeat_v0", 8, s)),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", sorted(CAPPED))
def test_each_builder_is_capped(name: str, path: str) -> None:
    # A String of 20 "a"s and a list of 20 Ints, under caps of 30 characters and 30 elements.
    s, xs = b.str_("a" * 20), b.call("List::range_v0", 1, 20)
    tl = b.repl("cap", CAPPED[name](s, xs))
    got = run(path, tl, Budget(max_string=30, max_list=30))
    assert "over this run's limit of 30 (is a loop making it ever" in message(got)
    expected = run_toplevel(tl, {}, Program(), budget=Budget(max_string=30, max_list=30))
    assert got == expected  # the same message, at the same node, on both paths


def test_the_caps_are_the_run_s_and_leave_smaller_values_alone() -> None:
    s = b.str_("a" * 20)
    assert evaluate(b.infix("++", s, s), budget=Budget(max_string=40)) == "a" * 40
    assert message(evaluate(b.infix("++", s, s), budget=Budget(max_string=39))).startswith(
        "String::append_v1 would build a String of 40 characters, over this run's limit of 39")
    assert len(evaluate(b.call("List::range_v0", 1, 40), budget=Budget(max_list=40))) == 40


def test_a_join_of_one_string_many_times_over_is_refused_before_it_is_built() -> None:
    big = b.call("List::repeat_v0", 1_000_000, b.str_("x" * 1_000))
    tracemalloc.start()
    try:
        got = evaluate(b.call("String::join_v0", big, ","))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message(got).startswith("String::join_v0 would build a String of 1,000,999,999 "
                                   "characters, over this run's limit of 16,777,216")
    assert peak < 100 * 2**20, peak


def test_serializing_a_value_shared_many_times_over_stops_before_walking_it_whole() -> None:
    inner = b.call("List::repeat_v0", 1_000_000, b.str_("x" * 100))
    got = evaluate(b.call("Json::serialize_v0", b.call("List::repeat_v0", 1_000_000, inner)))
    assert message(got).startswith("Json::serialize_v0 would build a String of ")
    assert "over this run's limit of 16,777,216" in message(got)


def test_json_parse_asks_for_and_charges_what_it_builds_inside_its_result() -> None:
    text = "[" + ",".join(["[1,2,3,4,5,6,7,8,9,10]"] * 10) + "]"
    assert message(evaluate(b.call("Json::parse_v0", text), budget=Budget(max_list=9))
                   ).startswith("Json::parse_v0 would build a List of 10 elements")
    budget = Budget()
    evaluate(b.call("Json::parse_v0", text), budget=budget)
    assert budget.allocated == 8 * (10 + 10 * 10)


# ------------------------------------------------------- allocation budget

def range_per_step(steps: int) -> Handler:
    """A fold that builds a list of 1,000 Ints at each of its steps (8,000 bytes each)."""
    return b.repl("alloc", b.call(
        "List::fold_v0", b.call("List::range_v0", 1, steps), 0,
        b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.call(
            "List::length_v0", b.call("List::range_v0", 1, 1_000))))))


@pytest.mark.parametrize("path", PATHS)
def test_building_too_much_in_all_stops_at_the_allocation_budget(path: str) -> None:
    budget = Budget(max_alloc=100_000)
    got = run(path, range_per_step(100), budget)
    assert message(got).startswith(
        "Stopped at List::range_v0: this run has built 104,800 bytes of Strings, Lists and "
        "Dicts, over its allocation limit of 100,000 bytes.")
    # 800 for the range folded over, then 8,000 for each of 13 steps.
    assert budget.allocated == 104_800
    assert run(path, range_per_step(10), Budget(max_alloc=100_000)) == 10_000


def test_the_allocation_stop_is_the_same_on_both_paths() -> None:
    ref, fast = Budget(max_alloc=100_000), Budget(max_alloc=100_000)
    tl = range_per_step(100)
    expected = run("reference", tl, ref)
    assert run("compiled", tl, fast) == expected  # node included
    assert (fast.allocated, fast.steps) == (ref.allocated, ref.steps)


# ------------------------------------------- compiled stops, no reference

@pytest.fixture
def no_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled path may not fall back to the reference evaluator in this test."""
    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("the compiled run called the reference evaluator")

    monkeypatch.setattr(compiler, "run_toplevel", refuse)
    monkeypatch.setattr(compiler, "call_user_function", refuse)


@pytest.mark.usefixtures("no_reference")
@pytest.mark.parametrize("steps", [1, 50, 10_000, 1_000_000])
def test_compiled_fib_out_of_steps_answers_without_the_reference(steps: int) -> None:
    fn = fib()
    program = Program.from_toplevels([fn])
    budget = Budget(max_steps=steps)
    got = compile_toplevel(b.repl("f", b.user_call(fn, 25)), program).run({}, budget=budget)
    assert message(got) == (f"Stopped after {steps} steps: the code took too long to run. "
                            "Is there an infinite loop?")
    assert budget.steps == steps + 1  # as the reference leaves it
    called = compile_toplevel(fn, program).run({"n": 25}, budget=Budget(max_steps=steps))
    assert message(called) == message(got)


def test_a_budget_spent_in_a_flag_condition_decides_nothing() -> None:
    # The compiled condition is straight code, its steps added after it: the stop must
    # still come before the flag is reported decided (`agree` compares the reports).
    cond: Expr = b.bool_(True)
    for i in range(30):
        cond = b.let(f"v{i}", i, cond)
    tl = b.repl("flagged", b.flag("f", cond, 1, 2))
    for steps in (5, 30, 61, 62, 63, 100):
        agree(tl, {}, Program(), Budget(max_steps=steps))


@pytest.mark.usefixtures("no_reference")
def test_compiled_time_and_allocation_stops_answer_without_the_reference() -> None:
    assert message(run("compiled", nested_folds(), Budget(max_steps=10**15, time_limit=0.1))
                   ).startswith("Stopped after 0.1 s:")
    assert message(run("compiled", range_per_step(100), Budget(max_alloc=100_000))
                   ).startswith("Stopped at List::range_v0:")


# ------------------------------------------- both paths, random programs

S, N, XS = b.var("s"), b.var("n"), b.var("xs")

strings = st.recursive(
    st.one_of(st.sampled_from(["", "a", "abc"]).map(b.str_), st.just(S)),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: b.infix("++", *t)),
        st.tuples(inner, inner).map(lambda t: b.call("String::append_v1", *t)),
        st.tuples(st.integers(0, 6), inner, inner).map(
            lambda t: b.call("String::join_v0", b.call("List::repeat_v0", t[0], t[1]), t[2])),
        inner.map(lambda s: b.call("String::replaceAll_v0", s, "a", "aa")),
        inner.map(lambda s: b.call("Json::serialize_v0", b.list_(s, s))),
    ), max_leaves=5)

lists = st.recursive(
    st.one_of(st.integers(-1, 8).map(lambda k: b.call("List::range_v0", 0, k)), st.just(XS)),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: b.call("List::append_v0", *t)),
        inner.map(lambda xs: b.call("List::flatten_v0", b.list_(xs, xs, xs))),
        inner.map(lambda xs: b.call("List::map_v0", xs, b.lam(["x"], b.infix("*", b.var("x"), 2)))),
        inner.map(lambda xs: b.call("List::filter_v2", xs,
                                    b.lam(["x"], b.infix(">", b.var("x"), 1)))),
        st.tuples(st.integers(0, 9), inner).map(lambda t: b.call("List::repeat_v0", t[0], t[1])),
    ), max_leaves=5)


@st.composite
def growing_programs(draw: Any) -> tuple[Handler, Program]:
    """`grow s xs n` builds from s and xs, n times over, recursing or in a fold."""
    string, lst = draw(strings), draw(lists)
    recursion = draw(st.booleans())

    def body(me: UserFnRef) -> Expr:
        if recursion:
            return b.if_(b.infix("<=", N, 0), b.list_(S, XS),
                         b.user_call(me, string, lst, b.infix("-", N, 1)))
        return b.call("List::fold_v0", b.call("List::range_v0", 1, N), b.list_(S, XS),
                      b.lam(["acc", "i"], b.list_(
                          b.let("s", b.call("List::head_v0", b.var("acc")), string),
                          b.let("xs", b.call("List::last_v2", b.var("acc")), lst))))

    fn = recursive("grow", [("s", STRING), ("xs", UNKNOWN), ("n", INT)], body)
    start = draw(st.sampled_from(["", "ab"]))
    tl = b.repl("g", b.user_call(fn, start, b.call("List::range_v0", 1, 3),
                                 draw(st.integers(0, 12))))
    return tl, Program.from_toplevels([fn])


limit_budgets = st.builds(
    Budget, max_steps=st.sampled_from([30, 300, 5_000, 1_000_000]),
    max_depth=st.sampled_from([3, 40]), max_string=st.sampled_from([4, 60, 2_000]),
    max_list=st.sampled_from([3, 40, 1_000]), max_alloc=st.sampled_from([40, 2_000, 10**6]))


def is_limit(value: Any) -> bool:
    return isinstance(value, ErrorValue) and (
        value.message.startswith("Stopped") or "over this run's limit" in value.message)


@settings(max_examples=300, deadline=None)
@given(program=growing_programs(), budget=limit_budgets)
def test_both_paths_agree_on_limits(program: tuple[Handler, Program], budget: Budget) -> None:
    tl, prog = program
    ref_budget, fast_budget = attrs.evolve(budget), attrs.evolve(budget)
    expected = run_toplevel(tl, {}, prog, budget=ref_budget, impure=ImpureLog())
    got = compile_toplevel(tl, prog).run({}, budget=fast_budget, impure=ImpureLog())
    assert is_limit(got) == is_limit(expected), (got, expected)
    assert ref_budget.allocated == fast_budget.allocated
    # And everything else `agree` compares: the value (a step stop by its message), steps.
    agree(tl, {}, prog, budget)


tiny_budgets = st.builds(
    Budget, max_steps=st.integers(1, 300), max_depth=st.integers(0, 5),
    max_string=st.integers(0, 6), max_list=st.integers(0, 4), max_alloc=st.integers(0, 64))


@settings(max_examples=300, deadline=None)
@given(body=exprs(), budget=tiny_budgets)
def test_any_code_under_tiny_limits_gives_a_value_and_both_paths_agree(
        body: Expr, budget: Budget) -> None:
    # The evaluator never raises, whatever limit stops it; `agree` runs both paths.
    agree(b.repl("tiny", body), {}, Program(), budget)


@pytest.mark.parametrize("path", PATHS)
def test_a_run_that_may_yield_gives_its_thread_up_before_building_a_big_value(
        path: str) -> None:
    import time

    from shared_ast.limits import YIELD_BEFORE_BUILDING, Preempted

    big = b.repl("big", b.call("List::length_v0",
                               b.call("List::range_v0", 1, YIELD_BEFORE_BUILDING)))
    small = b.repl("small", b.call("List::length_v0",
                                   b.call("List::range_v0", 2, YIELD_BEFORE_BUILDING)))
    far = time.monotonic() + 3600  # the time to yield has not come: only the size decides
    with pytest.raises(Preempted):
        run(path, big, Budget(time_limit=10.0, yield_at=far))
    assert run(path, small, Budget(time_limit=10.0, yield_at=far)) == YIELD_BEFORE_BUILDING - 1
    # Without yield_at (a run in a thread already), the big value is built.
    assert run(path, big, Budget(time_limit=10.0)) == YIELD_BEFORE_BUILDING
