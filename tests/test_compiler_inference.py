"""What the compiler infers to skip run-time checks, checked against the reference evaluator.

The fast path drops tests where it believes a value is surely an Int (of 64
bits, within bounds it computed) or a Bool, where a user function surely gives
one, where a function is quiet (no effect in it or in what it calls, so its
steps may be added late), and where a loop's lambda surely gives what the loop
wants (its steps added once for the whole list). A wrong belief would show as
a different value, error, step count or impure call here: the programs below
are drawn to meet those beliefs (Int functions calling each other, declared
types that lie, comparisons with literals near the 64-bit limits, budgets
that run out in the middle), and every run goes through `agree`, which
compares everything the reference evaluator's run shows.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compiler import agree

from shared_ast import build as b
from shared_ast.compile_unit import generate_unit
from shared_ast.compiler import compile_toplevel
from shared_ast.eval_context import Budget
from shared_ast.nodes import Expr, UserFnRef
from shared_ast.program import Program
from shared_ast.toplevels import UserFunction
from shared_ast.type_ast import BOOL, INT, STRING, UNKNOWN, Type
from shared_ast.values import ErrorValue

IMAX, IMIN = 2**63 - 1, -(2**63)
EDGES = [0, 1, 2, 3, -1, 7, 100, IMAX, IMIN, IMAX - 1, IMIN + 1, 2**62, -(2**62), 2**31]
FN_IDS = [910_001, 910_002, 910_003]
PARAMS = ["n", "m"]


def int_leaves(depth: int) -> st.SearchStrategy[Expr]:
    del depth
    return st.one_of(
        st.sampled_from(PARAMS).map(b.var),
        st.sampled_from(EDGES).map(b.int_),
        st.integers(-5, 5).map(b.int_),
        st.just(None).map(lambda _: b.str_("s")),  # breaks what is believed of a value
        st.just(None).map(lambda _: b.hole()),
    )


def int_exprs() -> st.SearchStrategy[Expr]:
    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        arith = st.tuples(st.sampled_from(["+", "-", "*", "%"]), inner, inner).map(
            lambda t: b.infix(*t))
        compare = st.tuples(st.sampled_from(["<", ">", "<=", ">=", "=="]), inner,
                            st.one_of(inner, st.sampled_from(EDGES).map(b.int_))).map(
            lambda t: b.infix(*t))
        branch = st.tuples(compare, inner, inner).map(lambda t: b.if_(*t))
        let = st.tuples(st.sampled_from(PARAMS), inner, inner).map(lambda t: b.let(*t))
        call = st.tuples(st.sampled_from(FN_IDS), st.lists(inner, min_size=0, max_size=3)).map(
            lambda t: b.user_call(UserFnRef(t[0], 0), *t[1]))
        named = st.tuples(st.sampled_from(["Int::add_v0", "Int::mod_v0", "Int::lessThan_v0"]),
                          inner, inner).map(lambda t: b.call(t[0], t[1], t[2]))
        impure = inner.map(lambda x: b.let("m", b.call("Int::random_v1", 0, 5), x))
        return st.one_of(arith, arith, compare, branch, branch, let, call, call, named, impure)

    return st.recursive(int_leaves(0), extend, max_leaves=10)


returns = st.sampled_from([INT, INT, BOOL, UNKNOWN, STRING])
param_types = st.sampled_from([INT, INT, INT, BOOL, UNKNOWN])


@st.composite
def int_programs(draw: Any) -> Program:
    functions = []
    for fn_id in FN_IDS[:draw(st.integers(1, len(FN_IDS)))]:
        params = [(p, draw(param_types)) for p in PARAMS[:draw(st.integers(1, 2))]]
        fn = b.function(f"f{fn_id}", params, draw(returns), draw(int_exprs()), fn_id=fn_id)
        functions.append(fn)
    return Program.from_toplevels(functions)


int_inputs = st.one_of(st.sampled_from(EDGES), st.integers(), st.just(2**70), st.just("s"),
                       st.booleans())
small_budgets = st.builds(Budget, max_steps=st.integers(1, 400), max_depth=st.integers(0, 12))
budgets = st.one_of(small_budgets, st.just(Budget(max_steps=3000, max_depth=40)))


@settings(max_examples=400, deadline=None)
@given(program=int_programs(), args=st.lists(int_inputs, min_size=0, max_size=3),
       budget=budgets)
def test_int_functions_agree_with_the_reference(program: Program, args: list[Any],
                                                budget: Budget) -> None:
    first = program.function(UserFnRef(FN_IDS[0], 0))
    assert first is not None
    # Arguments as literals (the compiler knows what they are) and as inputs (it does not).
    body = b.user_call(first, *[b.var(f"p{i}") for i in range(len(args))])
    agree(b.repl("h", _bind_inputs(body, args)), {}, program, budget)
    agree(first, {p.name: a for p, a in zip(first.params, args, strict=False)}, program, budget)


def _bind_inputs(body: Expr, args: list[Any]) -> Expr:
    for i, arg in reversed(list(enumerate(args))):
        body = b.let(f"p{i}", b.lift(arg), body)
    return body


# ------------------------------------------------------------------ loops

list_sources = st.one_of(
    st.tuples(st.sampled_from([0, -3, IMAX - 3, IMIN, 2**31]), st.integers(-2, 12)).map(
        lambda t: b.call("List::range_v0", t[0], t[0] + t[1])),
    st.just(None).map(lambda _: b.list_(1, 2, 3)),
    st.just(None).map(lambda _: b.list_(1, b.str_("s"))),
    st.just(None).map(lambda _: b.hole()),
)


def lambda_bodies(names: list[str]) -> st.SearchStrategy[Expr]:
    leaves = st.one_of(st.sampled_from(names).map(b.var), st.sampled_from(EDGES).map(b.int_),
                       st.just(None).map(lambda _: b.hole()))

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.tuples(st.sampled_from(["+", "-", "*", "%", "<", "=="]), inner, inner).map(
                lambda t: b.infix(*t)),
            st.tuples(st.sampled_from(["<", ">="]), inner, inner, inner).map(
                lambda t: b.if_(b.infix(t[0], t[1], t[2]), t[3], t[1])),
            inner.map(lambda x: b.call("List::head_v1", b.list_(), rail=True)),
            # An Int that may leave on the rail first.
            st.tuples(st.sampled_from([(), (1,)]), inner).map(
                lambda t: b.let("y", b.call("List::head_v1", b.list_(*t[0]), rail=True), t[1])),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def pipelines(draw: Any) -> Expr:
    steps: list[Expr] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["map", "filter", "fold"]))
        if kind == "fold":
            steps.append(b.call("List::fold_v0", b.target(), draw(st.sampled_from(EDGES)),
                                b.lam(["acc", "x"], draw(lambda_bodies(["acc", "x"])))))
        else:
            name = "List::map_v0" if kind == "map" else "List::filter_v2"
            steps.append(b.call(name, b.target(), b.lam(["x"], draw(lambda_bodies(["x"])))))
    return b.pipe(draw(list_sources), *steps)


@settings(max_examples=400, deadline=None)
@given(body=pipelines(), budget=st.one_of(
    st.builds(Budget, max_steps=st.integers(1, 200), max_depth=st.integers(0, 3)),
    st.just(Budget())))
def test_loops_over_lists_of_ints_agree_with_the_reference(body: Expr, budget: Budget) -> None:
    agree(b.repl("loops", body), {}, Program(), budget)


# ------------------------------------------------------------- named cases


def recursive(name: str, params: list[tuple[str, Type]], returns_: Type,
              make_body: Any) -> UserFunction:
    fn = b.function(name, params, returns_, b.int_(0))
    ref = UserFnRef(fn.fn_id, fn.version)
    return attrs.evolve(fn, body=make_body(ref))


def fib() -> UserFunction:
    n = b.var
    return recursive("fib", [("n", INT)], INT, lambda ref: b.if_(
        b.infix("<", n("n"), 2), n("n"),
        b.infix("+", b.user_call(ref, b.infix("-", n("n"), 1)),
                b.user_call(ref, b.infix("-", n("n"), 2)))))


@pytest.mark.parametrize("steps", [1, 5, 17, 18, 40, 41, 200, 1000, 10_000])
@pytest.mark.parametrize("depth", [0, 1, 3, 10, 400])
def test_fib_stops_where_the_reference_does(steps: int, depth: int) -> None:
    fn = fib()
    program = Program.from_toplevels([fn])
    for n in (0, 1, 2, 5, 12):
        agree(fn, {"n": n}, program, Budget(max_steps=steps, max_depth=depth))
        agree(b.repl("r", b.user_call(fn, n)), {}, program,
              Budget(max_steps=steps, max_depth=depth))


def test_the_fast_version_skips_the_checks_it_can() -> None:
    fn = fib()
    builder, _, _ = generate_unit(fn, Program.from_toplevels([fn]), ())
    source = "\n".join(builder.source)
    fast = source[source.index(f"def fast_{fn.fn_id}_0"):]
    assert "type(" not in fast.split("\ndef ")[0]  # no type tests: n is an Int, fib gives one
    assert builder.gave[(fn.fn_id, 0)] == ("int", True)


def test_a_wide_runaway_of_a_quiet_function_stops_as_the_reference_does() -> None:
    fn = fib()
    program = Program.from_toplevels([fn])
    got = agree(fn, {"n": 40}, program, Budget(max_steps=20_000))
    assert isinstance(got, ErrorValue) and "20000 steps" in got.message


def test_overflow_in_a_fast_function_is_the_reference_error() -> None:
    double = recursive("double", [("n", INT)], INT, lambda ref: b.if_(
        b.infix(">", b.var("n"), 2**61), b.infix("*", b.var("n"), 4),
        b.user_call(ref, b.infix("*", b.var("n"), 2))))
    program = Program.from_toplevels([double])
    got = agree(double, {"n": 3}, program, Budget())
    assert isinstance(got, ErrorValue)
    agree(b.repl("r", b.user_call(double, 3)), {}, program, Budget())


def test_a_function_declared_int_that_gives_a_string_is_not_believed() -> None:
    liar = b.function("liar", [("n", INT)], INT, b.if_(b.infix("<", b.var("n"), 1), b.str_("no"),
                                                       b.var("n")))
    caller = b.function("caller", [("n", INT)], INT,
                        b.infix("+", b.user_call(liar, b.var("n")), 1))
    program = Program.from_toplevels([liar, caller])
    for n in (0, 5):
        agree(caller, {"n": n}, program, Budget())
    builder, _, _ = generate_unit(caller, program, ())
    assert builder.guesses[(liar.fn_id, 0)][0] == "any"


def test_a_function_with_an_effect_is_not_quiet() -> None:
    noisy = b.function("noisy", [("n", INT)], INT,
                       b.infix("+", b.var("n"), b.call("Int::random_v1", 0, 3)))
    caller = b.function("caller", [("n", INT)], INT, b.infix(
        "+", b.user_call(noisy, b.infix("+", b.var("n"), 1)), b.user_call(noisy, b.var("n"))))
    program = Program.from_toplevels([noisy, caller])
    for steps in range(1, 30):
        agree(caller, {"n": 1}, program, Budget(max_steps=steps))
    builder, _, _ = generate_unit(caller, program, ())
    assert builder.guesses[(noisy.fn_id, 0)][1] is False


@pytest.mark.parametrize("n", [2**63, -(2**63) - 1, 2**70, IMAX, IMIN])
def test_ints_of_more_than_64_bits_take_the_reference(n: int) -> None:
    fn = fib()
    program = Program.from_toplevels([fn])
    agree(fn, {"n": n}, program, Budget(max_steps=100))
    agree(b.repl("r", b.user_call(fn, b.lift(n))), {}, program, Budget(max_steps=100))


@pytest.mark.parametrize(("lo", "hi"), [(0, 10), (IMAX - 3, IMAX), (IMIN, IMIN + 3),
                                        (2**31, 2**31 + 3), (-5, 5)])
@pytest.mark.parametrize("steps", [3, 10, 30, 1_000_000])
def test_a_pipeline_over_a_range_near_the_limits(lo: int, hi: int, steps: int) -> None:
    body = b.pipe(
        b.call("List::range_v0", lo, hi),
        b.call("List::map_v0", b.target(), b.lam(["x"], b.infix("*", b.var("x"), b.var("x")))),
        b.call("List::filter_v2", b.target(),
               b.lam(["x"], b.infix("==", b.infix("%", b.var("x"), 3), 0))),
        b.call("List::fold_v0", b.target(), 0,
               b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x")))))
    agree(b.repl("p", body), {}, Program(), Budget(max_steps=steps))


def test_a_fold_whose_step_is_not_an_int_keeps_its_tests() -> None:
    step = b.lam(["acc", "x"], b.if_(b.infix("<", b.var("x"), 3), b.var("acc"), b.hole()))
    body = b.call("List::fold_v0", b.call("List::range_v0", 0, 5), 0, step)
    agree(b.repl("f", body), {}, Program(), Budget())
    assert compile_toplevel(b.repl("f", body), Program()).fast


# --------------------------------------------------- bounds, exhaustively

GRID = [0, 1, 2, 3, -1, IMAX, IMIN, 2**62]


def run_with_each(body: Expr, inputs: list[int]) -> None:
    """`body` as a function of `n: Int`, called by a function and run as a toplevel."""
    fn = b.function("f", [("n", INT)], INT, body)
    caller = b.function("g", [("n", INT)], INT, b.user_call(fn, b.var("n")))
    program = Program.from_toplevels([fn, caller])
    for n in inputs:
        agree(caller, {"n": n}, program, Budget())
        agree(fn, {"n": n}, program, Budget())


@pytest.mark.parametrize("first", ["+", "-", "*", "%"])
@pytest.mark.parametrize("second", ["+", "-", "*"])
def test_arithmetic_on_known_bounds_keeps_the_tests_it_needs(first: str, second: str) -> None:
    for c1 in GRID:
        for c2 in GRID:
            run_with_each(b.infix(second, b.infix(first, b.var("n"), c1), c2), GRID)


@pytest.mark.parametrize("compare", ["<", ">", "<=", ">="])
@pytest.mark.parametrize("literal_left", [False, True])
def test_an_if_condition_bounds_its_int_exactly(compare: str, literal_left: bool) -> None:
    near = [IMIN, IMIN + 1, -1, 0, 1, 2, IMAX - 1, IMAX]
    for limit in [IMIN, IMIN + 1, -1, 0, 2, IMAX - 1, IMAX]:
        cond = (b.infix(compare, limit, b.var("n")) if literal_left
                else b.infix(compare, b.var("n"), limit))
        for k in (1, 2):
            for then, else_ in (("-", "+"), ("+", "-")):
                body = b.if_(cond, b.infix(then, b.var("n"), k), b.infix(else_, b.var("n"), k))
                run_with_each(body, near)


def test_an_int_argument_of_more_than_64_bits_is_the_reference_s() -> None:
    body = b.if_(b.infix(">", b.var("n"), 0), b.infix("-", b.var("n"), 1), b.var("n"))
    for n in (2**63, 2**70, -(2**70)):
        run_with_each(body, [n])


@pytest.mark.parametrize(("lo", "hi"), [(IMAX - 3, IMAX), (IMIN, IMIN + 3), (-2, 2)])
@pytest.mark.parametrize("op", ["+", "-", "*"])
@pytest.mark.parametrize("k", [1, 2, -1])
def test_a_loop_over_a_range_knows_its_ints_exactly(lo: int, hi: int, op: str, k: int) -> None:
    xs = b.call("List::range_v0", lo, hi)
    step = b.lam(["x"], b.infix(op, b.var("x"), k))
    agree(b.repl("m", b.call("List::map_v0", xs, step)), {}, Program(), Budget())
    agree(b.repl("f", b.call("List::fold_v0", xs, 0, b.lam(
        ["acc", "x"], b.infix(op, b.var("x"), k)))), {}, Program(), Budget())
