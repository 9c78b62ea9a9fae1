"""The compiled fast path agrees with the reference evaluator (issue 6, "correctness").

Differential: generated programs (well-formed, unfinished and wrong ones)
run through `compiler.compile_toplevel(...).run` and `evaluator.run_toplevel`
must give the same value, the same kind of special value with the same node
(and message; out of steps, the message only: see `same`), spend the same
steps, and make the same impure calls.
Hand-written cases pin each construct; fib and a list pipeline give the
right answers.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import NAMES, exprs, toplevels, values

from shared_ast import build as b
from shared_ast.apply import LATEST_LANGUAGE_VERSION
from shared_ast.compiler import compile_toplevel, fallback_counts, run_user_function
from shared_ast.eval_context import Budget, ImpureLog
from shared_ast.evaluator import call_user_function, run_toplevel
from shared_ast.nodes import EInt, Expr, UserFnRef
from shared_ast.program import Program
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.type_ast import INT, UNKNOWN
from shared_ast.values import (
    SPECIAL_TYPES,
    Closure,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Variant,
    values_equal,
)

# A route binding two of the names generated expressions use, besides `request`.
ROUTE = "/x/:" + NAMES[0] + "/:" + NAMES[1]


def same(a: Any, b_: Any) -> bool:
    if type(a) is not type(b_):
        return False
    if isinstance(a, ErrorValue) and a.message.startswith("Stopped after") and " steps: " in \
            a.message:
        # Out of steps, the compiled run stops with the reference's message but not always at
        # its node: it tests its steps once per straight run of code rather than at each node,
        # and never re-runs the reference to find the exact node (that cost seconds).
        return a.message == b_.message
    if isinstance(a, (*SPECIAL_TYPES, Closure)):
        return bool(a == b_)
    return values_equal(a, b_)


class RecordingHost:
    """A host that only records the flags it is told about."""

    def __init__(self) -> None:
        self.flags: list[tuple[int, str, bool]] = []

    def flag_decided(self, flag_id: int, name: str, took_new: bool) -> None:
        self.flags.append((flag_id, name, took_new))


def agree(tl: Toplevel, inputs: dict[str, Any], program: Program, budget: Budget,
          host: type[RecordingHost] = RecordingHost) -> Any:
    """Run both ways from equal budgets; assert they agree in every observable way.
    `host` makes each run's host (one with datastores, to run DB calls)."""
    ref_budget, fast_budget = attrs.evolve(budget), attrs.evolve(budget)
    ref_log = ImpureLog()
    ref_host, fast_host = host(), host()
    expected = run_toplevel(tl, inputs, program, budget=ref_budget, impure=ref_log, host=ref_host)
    compiled = compile_toplevel(tl, program)
    # The compiled path must really run: compiled, and not failing over to the reference
    # (which would agree with itself whatever the compiled code did).
    # (Only handlers and functions compile; other toplevels' `run` is the reference's.)
    assert compiled.fast or not isinstance(tl, Handler | UserFunction), compiled.reason
    before = fallback_counts()
    fast_log = ImpureLog(ref_log.calls)  # impure results (random, clock) replay the reference's
    got = compiled.run(inputs, budget=fast_budget, impure=fast_log, host=fast_host)
    failed = {k: n - before.get(k, 0) for k, n in fallback_counts().items()
              if k.startswith("bug") and n != before.get(k, 0)}
    assert failed == {}, f"the compiled code failed and the reference answered: {failed}"
    assert same(got, expected), (got, expected, compiled.reason)
    assert fast_budget.steps == ref_budget.steps
    assert fast_budget.depth == ref_budget.depth == budget.depth
    assert [c.name for c in fast_log.calls] == [c.name for c in ref_log.calls]
    assert fast_host.flags == ref_host.flags
    return got


programs = st.lists(toplevels(max_leaves=8), max_size=4).map(Program.from_toplevels)
inputs_ = st.dictionaries(st.sampled_from([*NAMES, "request"]), values(max_leaves=4), max_size=4)
budgets = st.sampled_from([Budget(), Budget(max_steps=40), Budget(max_steps=400, max_depth=3),
                           Budget(max_depth=1)])


def as_handler(body: Expr, version: int) -> Handler:
    return b.http("GET", ROUTE, body, language_version=version)


@settings(max_examples=700, deadline=None)
@given(body=exprs(), inputs=inputs_, program=programs, budget=budgets,
       version=st.integers(0, LATEST_LANGUAGE_VERSION))
def test_compiled_expressions_agree_with_the_reference(
    body: Expr, inputs: dict[str, Any], program: Program, budget: Budget, version: int
) -> None:
    agree(as_handler(body, version), inputs, program, budget)


@settings(max_examples=400, deadline=None)
@given(tl=toplevels(), inputs=inputs_, program=programs, budget=budgets)
def test_compiled_toplevels_agree_with_the_reference(
    tl: Toplevel, inputs: dict[str, Any], program: Program, budget: Budget
) -> None:
    # The toplevel is part of its program, so its recursive calls resolve.
    agree(tl, inputs, Program.from_toplevels([*program.functions.values(), tl]), budget)


@settings(max_examples=200, deadline=None)
@given(tl=toplevels(), args=st.lists(values(max_leaves=3), max_size=3), program=programs)
def test_calling_a_compiled_function_agrees_with_the_reference(
    tl: Toplevel, args: list[Any], program: Program
) -> None:
    if not isinstance(tl, UserFunction):
        return
    expected = call_user_function(tl, tuple(args), program, budget=Budget(max_steps=2000))
    got = run_user_function(tl, args, program, budget=Budget(max_steps=2000))
    assert same(got, expected), (got, expected)


# ------------------------------------------------------------------ constructs


def run_body(body: Expr, inputs: dict[str, Any] | None = None, program: Program | None = None,
             budget: Budget | None = None, version: int = 1) -> Any:
    return agree(as_handler(body, version), inputs or {}, program or Program(),
                 budget or Budget())


def test_a_hole_is_incomplete_with_its_own_node() -> None:
    hole = b.hole()
    assert run_body(b.call("Int::add_v0", 1, hole)) == Incomplete(hole.id)


def test_partials_evaluate_their_old_and_left_sides() -> None:
    assert run_body(b.partial("fo", b.int_(3))) == 3
    assert run_body(b.rpartial("+", b.int_(4))) == 4


def test_arithmetic_comparison_and_overflow() -> None:
    assert run_body(b.infix("+", 2, b.infix("*", 3, 4))) == 14
    assert run_body(b.infix("<", 2, 3)) is True
    big = b.infix("+", 2**63 - 1, 1)
    got = run_body(big)
    assert isinstance(got, ErrorValue) and got.node_id == big.id
    assert run_body(b.infix("==", b.str_("a"), b.str_("a"))) is True
    assert run_body(b.infix("==", 1, b.float_(1.0))) is False
    wrong = b.infix("+", b.str_("a"), 1)
    assert isinstance(run_body(wrong), ErrorValue)


def test_if_needs_a_bool_and_short_circuits() -> None:
    cond = b.int_(1)
    node = b.if_(cond, 1, 2)
    got = run_body(node)
    assert isinstance(got, ErrorValue) and got.node_id == node.id
    assert run_body(b.infix("&&", False, b.hole())) is False
    assert run_body(b.infix("||", True, b.call("Int::divide_v0", 1, 0))) is True
    assert isinstance(run_body(b.infix("&&", True, 3)), ErrorValue)


def test_flags_run_new_only_when_the_condition_is_exactly_true() -> None:
    assert run_body(b.flag("f", True, 1, 2)) == 2
    assert run_body(b.flag("f", b.hole(), 1, 2)) == 1
    assert run_body(b.flag("f", 1, 1, 2)) == 1
    host = RecordingHost()
    flag = b.flag("g", True, 1, 2)
    compile_toplevel(as_handler(flag, 1), Program()).run({}, host=host)
    assert host.flags == [(flag.id, "g", True)]


def test_the_error_rail_leaves_the_handler_but_not_a_flag_condition() -> None:
    on_rail = b.call("List::head_v1", b.list_(), rail=True)
    got = run_body(b.list_(1, on_rail, b.call("Int::divide_v0", 1, 0)))
    assert isinstance(got, ErrorRail) and got.node_id == on_rail.id
    assert run_body(b.flag("f", on_rail, 1, 2)) == 1
    assert run_body(b.call("List::head_v1", b.list_(5), rail=True)) == 5


def test_lists_and_records_follow_the_literal_rules_of_their_version() -> None:
    hole = b.hole()
    assert run_body(b.list_(1, hole, 2), version=0) == (1, 2)
    assert run_body(b.list_(1, hole, 2), version=1) == Incomplete(hole.id)
    rec = b.record(("a", 1), ("", 2), ("b", b.hole()))
    assert run_body(rec) == FrozenDict(a=1)
    assert run_body(b.field(b.record(("a", 1)), "a")) == 1
    missing = b.field(b.record(("a", 1)), "z")
    assert isinstance(run_body(missing), ErrorValue)


def test_lets_variables_and_inputs() -> None:
    assert run_body(b.let("x", 2, b.let("x", b.infix("+", b.var("x"), 1), b.var("x")))) == 3
    assert run_body(b.var(NAMES[0]), {NAMES[0]: "seven"}) == "seven"
    unbound = b.var("nobody")
    assert run_body(unbound) == ErrorValue("unbound variable nobody", unbound.id)


def test_pipes_lambdas_and_closures_library_code_calls_back() -> None:
    double = b.lam(["x"], b.infix("*", b.var("x"), 2))
    assert run_body(b.pipe(b.list_(1, 2, 3), b.call("List::map_v0", b.target(), double))) == (
        2, 4, 6)
    assert run_body(b.pipe(3, b.hole(), b.lam(["x"], b.infix("+", b.var("x"), 1)))) == 4
    target = b.target()
    assert run_body(target) == Incomplete(target.id)
    captured = b.let("k", 10, b.lam(["x"], b.var("k")))
    closure = run_body(captured)
    assert isinstance(closure, Closure) and closure.env["k"] == 10


def test_match_binds_and_falls_through_to_incomplete() -> None:
    m = b.match(b.just(4), (b.pctor("Nothing"), 0), (b.pctor("Just", b.pvar("v")), b.var("v")))
    assert run_body(m) == 4
    none = b.match(3, (b.pint(1), 0))
    assert run_body(none) == Incomplete(none.id)
    assert run_body(b.match(7, (b.phole(), 0), (b.pwild(), 1))) == 1


def test_constructors() -> None:
    assert run_body(b.ok(b.int_(1))) == Variant("Ok", (1,))
    bad = b.ctor("Just")
    assert isinstance(run_body(bad), ErrorValue)
    assert isinstance(run_body(b.ctor("Purple")), ErrorValue)


def fib_function() -> UserFunction:
    fib = b.function("fib", [("n", INT)], INT, b.int_(0))
    ref = UserFnRef(fib.fn_id, fib.version)
    n = b.var("n")
    body = b.if_(b.infix("<", n, 2), b.var("n"), b.infix(
        "+", b.user_call(ref, b.infix("-", b.var("n"), 1)),
        b.user_call(ref, b.infix("-", b.var("n"), 2))))
    return attrs.evolve(fib, body=body)


def test_fib_as_a_user_function() -> None:
    fib = fib_function()
    program = Program.from_toplevels([fib])
    assert run_user_function(fib, [15], program) == 610
    assert agree(fib, {"n": 12}, program, Budget()) == 144
    call = b.user_call(fib, 10)
    assert run_body(call, program=program) == 55


def test_runaway_recursion_stops_as_the_reference_does() -> None:
    loop = b.function("loop", [("n", UNKNOWN)], INT, b.int_(0))
    ref = UserFnRef(loop.fn_id, loop.version)
    loop = attrs.evolve(loop, body=b.infix("+", 1, b.user_call(ref, b.var("n"))))
    program = Program.from_toplevels([loop])
    got = run_body(b.user_call(loop, 1), program=program)
    assert isinstance(got, ErrorValue) and "recursion" in got.message
    got = run_body(b.user_call(loop, 1), program=program, budget=Budget(max_steps=100))
    assert isinstance(got, ErrorValue) and "100 steps" in got.message


def test_the_pipeline_gives_the_right_answer() -> None:
    body = b.pipe(
        b.call("List::range_v0", 0, 10000),
        b.call("List::map_v0", b.target(), b.lam(["x"], b.infix("*", b.var("x"), 2))),
        b.call("List::filter_v2", b.target(),
               b.lam(["x"], b.infix("==", b.call("Int::mod_v0", b.var("x"), 3), 0))),
        b.call("List::fold_v0", b.target(), 0,
               b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x")))))
    expected = sum(x for x in (2 * i for i in range(10001)) if x % 3 == 0)
    assert run_body(body) == expected


def test_impure_calls_are_logged_and_not_repeated_on_fallback() -> None:
    body = b.let("u", b.call("Uuid::generate_v0"), b.list_(b.var("u"), b.var("u")))
    log = ImpureLog()
    got = compile_toplevel(as_handler(body, 1), Program()).run({}, impure=log)
    assert len(log.calls) == 1 and got == (log.calls[0].result,) * 2
    # Too few steps: the compiled run falls back, and the re-run replays the call.
    loop_log = ImpureLog()
    got = compile_toplevel(as_handler(body, 1), Program()).run(
        {}, impure=loop_log, budget=Budget(max_steps=3))
    assert isinstance(got, ErrorValue) and len(loop_log.calls) <= 1


def test_what_is_not_a_handler_or_function_runs_the_reference() -> None:
    ds = b.datastore("Users", UNKNOWN)
    assert not compile_toplevel(ds, Program()).fast
    assert isinstance(compile_toplevel(ds, Program()).run({}), ErrorValue)


@pytest.mark.parametrize("value", [math.nan, 1.5, "s", None])
def test_literals(value: Any) -> None:
    node = b.lift(value) if value is not None else b.null()
    assert same(run_body(node), value)


LOOP_CASES = [
    ("List::map_v0", b.list_(1, 2, 3), b.lam(["x"], b.infix("+", b.var("x"), 1))),
    ("List::map_v0", b.list_(), b.lam(["x"], b.hole())),
    ("List::map_v0", b.list_(1, 2), b.lam(["x"], b.hole())),
    ("List::map_v0", b.list_(1, 2), b.lam(["x"], b.call("Int::divide_v0", b.var("x"), 0))),
    ("List::map_v0", b.list_(1, 2), b.lam(["x"], b.call("List::head_v1", b.list_(), rail=True))),
    ("List::map_v0", b.int_(3), b.lam(["x"], b.var("x"))),
    ("List::map_v0", b.hole(), b.lam(["x"], b.var("x"))),
    ("List::map_v0", b.list_(b.list_(1), b.list_(2, 3)),
     b.lam(["x"], b.call("List::map_v0", b.var("x"), b.lam(["y"], b.lam(["z"], b.var("y")))))),
    ("List::filter_v2", b.list_(1, 2, 3), b.lam(["x"], b.infix(">", b.var("x"), 1))),
    ("List::filter_v2", b.list_(1, 2, 3), b.lam(["x"], b.var("x"))),
    ("List::filter_v2", b.list_(1, 2), b.lam(["x"], b.flag("f", b.hole(), True, False))),
]


@pytest.mark.parametrize(("name", "xs", "fn"), LOOP_CASES)
@pytest.mark.parametrize("budget", [Budget(), Budget(max_steps=12), Budget(max_depth=0)])
def test_list_loops_over_a_lambda_in_place(name: str, xs: Expr, fn: Expr, budget: Budget) -> None:
    run_body(b.call(name, xs, fn), budget=budget)
    run_body(b.call(name, xs, fn, rail=True), budget=budget)


@pytest.mark.parametrize("init", [b.int_(0), b.hole(), b.str_("s")])
def test_fold_over_a_lambda_in_place(init: Expr) -> None:
    add = b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x")))
    got = run_body(b.call("List::fold_v0", b.list_(1, 2, 3), init, add))
    assert got == 6 or not isinstance(init, EInt)
    run_body(b.call("List::fold_v0", b.list_(), init, add))


def test_a_deploy_compiles_handlers_and_reuses_what_did_not_change() -> None:
    from runtime.traffic.live import CanvasState

    one = b.http("GET", "/one", b.infix("+", 1, 2))
    two = b.http("GET", "/two", b.str_("two"))
    state = CanvasState.build("c", 1, {one.tlid: one, two.tlid: two})
    compiled = state.compiled_for(one)
    assert compiled is not None and compiled.fast and compiled.run({}) == 3
    edited = attrs.evolve(two, body=b.str_("2"))
    after = state.next(2, {one.tlid: one, two.tlid: edited}, [two.tlid])
    assert after.compiled_for(one) is compiled
    assert after.compiled_for(two) is None  # the old handler object is not this snapshot's
    new = after.compiled_for(edited)
    assert new is not None and new.run({}) == "2"
