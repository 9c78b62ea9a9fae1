"""Properties of the reference evaluator over generated programs.

The evaluator is total (it returns a value for every tree, never raises),
and recording live values is an observation only: it never changes a result.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
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


def is_value(v: Any) -> bool:
    """Whether `v` is a Gloam runtime value all the way down (values.py)."""
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, _ATOMS):
            continue
        if isinstance(x, tuple):
            stack.extend(x)
        elif isinstance(x, FrozenDict):
            stack.extend(x.values())
        elif isinstance(x, Variant):
            stack.extend(x.args)
        elif isinstance(x, Response):
            stack.append(x.body)
        else:
            return False
    return True


@settings(max_examples=2000, deadline=None)
@given(expr=exprs(), env=envs, program=programs, version=st.integers(0, 1))
def test_evaluate_never_raises_and_returns_a_value(
    expr: Expr, env: dict[str, Any], program: Program, version: int
) -> None:
    limit = sys.getrecursionlimit()
    result = evaluate(expr, env, program, budget=Budget(max_steps=SMALL_STEPS),
                      language_version=version)
    assert is_value(result), result
    assert sys.getrecursionlimit() == limit


# Tight budgets too: a preview that spent the real budget would show as a changed result.
budgets = st.tuples(st.sampled_from([3, 10, 30, SMALL_STEPS]), st.sampled_from([1, 2, 400]))


@settings(max_examples=2000, deadline=None)
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
    if not isinstance(plain, ErrorValue) or "Stopped" not in plain.message:
        assert live.get(expr.id) == LiveValue(recorded, True)


@settings(max_examples=500, deadline=None)
@given(tl=toplevels(), inputs=envs, program=programs)
def test_running_any_toplevel_never_raises(
    tl: Toplevel, inputs: dict[str, Any], program: Program
) -> None:
    result = run_toplevel(tl, inputs, program, budget=Budget(max_steps=SMALL_STEPS),
                          live=LiveValues())
    assert is_value(result)


@settings(max_examples=1000, deadline=None)
@given(value=values(), t=types(), program=programs)
def test_value_fits_is_total_and_deep_implies_shallow(value: Any, t: Any, program: Program) -> None:
    deep = value_fits(value, t, program)
    shallow = value_fits(value, t, program, deep=False)
    assert deep is None or isinstance(deep, str)
    if deep is None:
        assert shallow is None
