"""The language's totality promises at high example counts: `make test-slow`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from strategies import exprs, toplevels

from shared_ast import wire
from shared_ast.checker import check_toplevel
from shared_ast.eval_context import Budget
from shared_ast.evaluator import evaluate
from shared_ast.program import Program

pytestmark = pytest.mark.slow


@settings(max_examples=20_000, deadline=None)
@given(exprs(max_leaves=30))
def test_evaluation_of_big_programs_never_raises(expr: object) -> None:
    evaluate(expr, budget=Budget(max_steps=20_000))  # type: ignore[arg-type]


@settings(max_examples=20_000, deadline=None)
@given(toplevels(max_leaves=30))
def test_big_toplevels_check_and_round_trip(tl: object) -> None:
    infos = check_toplevel(tl, Program())  # type: ignore[arg-type]
    assert tl.tlid in infos  # type: ignore[attr-defined]
    assert wire.decode_toplevel(wire.encode_toplevel(tl)) == tl
