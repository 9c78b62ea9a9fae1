"""Properties of the type checker: total on every tree; consistency is equality up to `?`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs, renumber, toplevels, types

from shared_ast import checker as c
from shared_ast.checker import MARK_KINDS, NodeInfo, check_expr, check_toplevel, consistent, join
from shared_ast.nodes import Expr
from shared_ast.program import Program
from shared_ast.toplevels import Toplevel
from shared_ast.traverse import node_ids
from shared_ast.type_ast import UNKNOWN, Type

FAILURES = {c.INTERNAL_ERROR, c.TOO_DEEP}

#: A canvas for the generated trees to call into: functions and types with the
#: ids the strategies draw references from (1..3), so references sometimes resolve.
programs = st.lists(toplevels(max_leaves=4), max_size=4).map(Program.from_toplevels)

envs = st.dictionaries(st.sampled_from(["a", "b", "x", "xs", "request", "event", "acc"]),
                       types(), max_size=3)


def assert_total(tree: Expr | Toplevel, result: dict[int, NodeInfo]) -> None:
    missing = set(node_ids(tree)) - set(result)
    assert not missing, f"no entry for nodes {sorted(missing)}"
    for node_id, info in result.items():
        assert isinstance(info, NodeInfo)
        # The checker's own unknowns are solved or shown as `?`; they never leave it.
        assert "Meta(" not in repr(info), f"node {node_id}: {info}"
        for mark in info.marks:
            assert mark.kind in MARK_KINDS
            assert mark.kind not in FAILURES, f"node {node_id}: {mark.message}"
            assert mark.message


@settings(max_examples=1000, deadline=None)
@given(exprs())
def test_check_expr_is_total_on_every_expression(expr: Expr) -> None:
    assert_total(expr, check_expr(expr))


@settings(max_examples=1000, deadline=None)
@given(exprs(), envs, programs, types())
def test_check_expr_is_total_with_env_program_and_expected_type(
    expr: Expr, env: dict[str, Type], program: Program, expected: Type
) -> None:
    assert_total(expr, check_expr(expr, env, program, expected))


@settings(max_examples=1000, deadline=None)
@given(toplevels())
def test_check_toplevel_is_total_on_every_toplevel(tl: Toplevel) -> None:
    assert_total(tl, check_toplevel(tl))


@settings(max_examples=1000, deadline=None)
@given(toplevels(), programs)
def test_check_toplevel_is_total_within_a_program(tl: Toplevel, program: Program) -> None:
    assert_total(tl, check_toplevel(tl, program))


@given(exprs(), programs)
def test_checking_is_deterministic(expr: Expr, program: Program) -> None:
    first = check_expr(expr, program=program)
    again = check_expr(renumber(expr), program=program)
    assert first == again


@given(types(), types())
def test_consistency_is_reflexive_and_symmetric(a: Type, b: Type) -> None:
    assert consistent(a, a)
    assert consistent(a, UNKNOWN) and consistent(UNKNOWN, a)
    assert consistent(a, b) == consistent(b, a)


@given(types(), types())
def test_join_exists_exactly_for_consistent_types(a: Type, b: Type) -> None:
    assert (join(a, b) is not None) == consistent(a, b)
    assert join(a, UNKNOWN) == a
    assert join(UNKNOWN, a) == a
    joined = join(a, b)
    if joined is not None:
        assert consistent(joined, a) and consistent(joined, b)
