"""Properties of the reference evaluator over generated programs.

The evaluator is total (it returns a value for every tree, never raises),
and recording live values is an observation only: it never changes a result.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs, names, toplevels, types, values

from shared_ast.eval_context import ImpureLog, LiveValue, LiveValues
from shared_ast.evaluator import Budget, evaluate, run_toplevel
from shared_ast.nodes import Expr
from shared_ast.program import Program
from shared_ast.toplevels import Toplevel
from shared_ast.value_types import value_fits
from shared_ast.values import (
    SPECIAL_TYPES,
    Char,
    Closure,
    DatastoreRef,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Response,
    Variant,
    values_equal,
)

SMALL_STEPS = 5_000

envs = st.dictionaries(names, values(max_leaves=4), max_size=4)
programs = st.lists(toplevels(max_leaves=8), max_size=4).map(Program.from_toplevels)

_ATOMS = (bool, int, float, str, type(None), Char, Closure, DatastoreRef, dt.datetime, uuid.UUID,
          *SPECIAL_TYPES)


def parts(v: Any) -> list[Any]:
    """`v` and every value inside it."""
    found, stack = [], [v]
    while stack:
        x = stack.pop()
        found.append(x)
        if isinstance(x, tuple):
            stack.extend(x)
        elif isinstance(x, FrozenDict):
            stack.extend(x.values())
        elif isinstance(x, Variant):
            stack.extend(x.args)
        elif isinstance(x, Response):
            stack.append(x.body)
        elif isinstance(x, ErrorRail):
            stack.append(x.value)
    return found


def is_value(v: Any) -> bool:
    """Whether `v` is a Gloam runtime value all the way down (values.py)."""
    return all(isinstance(x, (*_ATOMS, tuple, FrozenDict, Variant, Response)) for x in parts(v))


def internal_errors(v: Any) -> list[str]:
    """The "internal error" values inside `v`: the evaluator turns a crash of its own or
    of a library function into one, so it never raises, but each is a bug all the same."""
    return [x.message for x in parts(v)
            if isinstance(x, ErrorValue) and x.message.startswith("internal error")]


def assert_total(result: Any) -> None:
    """A value, all the way down, and not one made of a crash."""
    assert is_value(result), result
    assert internal_errors(result) == [], internal_errors(result)


@settings(max_examples=1000, deadline=None)
@given(expr=exprs(), env=envs, program=programs, version=st.integers(0, 1))
def test_evaluate_never_raises_and_returns_a_value(
    expr: Expr, env: dict[str, Any], program: Program, version: int
) -> None:
    limit = sys.getrecursionlimit()
    result = evaluate(expr, env, program, budget=Budget(max_steps=SMALL_STEPS),
                      language_version=version)
    assert_total(result)
    assert sys.getrecursionlimit() == limit


# Tight budgets too: a preview that spent the real budget would show as a changed result.
budgets = st.tuples(st.sampled_from([3, 10, 30, SMALL_STEPS]), st.sampled_from([1, 2, 400]))


@settings(max_examples=1000, deadline=None)
@given(expr=exprs(), env=envs, program=programs, limits=budgets)
def test_recording_never_changes_the_result(
    expr: Expr, env: dict[str, Any], program: Program, limits: tuple[int, int]
) -> None:
    # The impure calls of the plain run are replayed in the recorded one, so
    # a random number or a UUID cannot make the two differ by chance.
    log = ImpureLog()
    plain = evaluate(expr, env, program, budget=Budget(*limits), impure=log)
    live = LiveValues()
    recorded = evaluate(expr, env, program, budget=Budget(*limits), live=live,
                        impure=ImpureLog(log.calls))
    assert values_equal(plain, recorded), (plain, recorded)
    assert_total(recorded)
    if not isinstance(plain, ErrorValue) or "Stopped" not in plain.message:
        assert live.get(expr.id) == LiveValue(recorded, True)


@settings(max_examples=500, deadline=None)
@given(tl=toplevels(), inputs=envs, program=programs)
def test_running_any_toplevel_never_raises(
    tl: Toplevel, inputs: dict[str, Any], program: Program
) -> None:
    live = LiveValues()
    result = run_toplevel(tl, inputs, program, budget=Budget(max_steps=SMALL_STEPS), live=live)
    assert_total(result)


@settings(max_examples=1000, deadline=None)
@given(value=values(), t=types(), program=programs)
def test_value_fits_is_total_and_deep_implies_shallow(value: Any, t: Any, program: Program) -> None:
    deep = value_fits(value, t, program)
    shallow = value_fits(value, t, program, deep=False)
    assert deep is None or isinstance(deep, str)
    if deep is None:
        assert shallow is None


ROOT = Path(__file__).resolve().parent.parent


def shared_copies(value: Any, doublings: int) -> Any:
    """A List holding the one before it twice, `doublings` deep: small in memory, 2^n
    elements as a tree (what `let x = [y, y]` builds in a loop)."""
    for _ in range(doublings):
        value = (value, value)
    return value


@given(values(), st.integers(0, 8), st.booleans())
def test_equality_of_shared_values_is_structural(base: Any, depth: int, differ: bool) -> None:
    a = shared_copies(base, depth)
    b = shared_copies((base, 1) if differ else base, depth)
    assert values_equal(a, b) == (not differ)
    # Built apart, unshared, they compare the same.
    assert values_equal(a, unshared_copies(base, depth))


def unshared_copies(value: Any, doublings: int) -> Any:
    if doublings == 0:
        return value
    return (unshared_copies(value, doublings - 1), unshared_copies(value, doublings - 1))


def test_equality_of_shared_values_costs_what_they_hold_not_their_tree() -> None:
    # 2^60 elements as a tree: comparing them element by element would never end. A hang
    # guard, not a timing: the subprocess has minutes for what takes a millisecond.
    code = ("from shared_ast.values import values_equal\n"
            "a, b = (1,), (1,)\n"
            "for _ in range(60): a, b = (a, a), (b, b)\n"
            "print(values_equal(a, b), values_equal(a, (a[0], (b[1][0], (2,)))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "False"]
