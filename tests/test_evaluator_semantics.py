"""Pins of the language's run-time rules (DESIGN.md "The language"), one test per rule.

Each test is named after the rule it pins and builds the smallest program
that shows it, with `shared_ast.build`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import shared_ast.evaluator as evaluator_module
from shared_ast import build as b
from shared_ast.evaluator import LiteralRules, evaluate, literal_rules
from shared_ast.nodes import TypeRef
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY, LibFunction, LibParam
from shared_ast.type_ast import INT, STRING, UNKNOWN
from shared_ast.values import (
    NOTHING,
    Closure,
    DatastoreRef,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Variant,
    error,
    just,
    ok,
)

# ------------------------------------------------------------------ helpers


def is_error(v: Any, *fragments: str) -> bool:
    return isinstance(v, ErrorValue) and all(f in v.message for f in fragments)


@pytest.fixture
def exploding_library_function() -> Iterator[str]:
    """A library function whose implementation has a bug (raises KeyError)."""

    def impl(ctx: Any, x: int) -> int:
        return {}[x]  # type: ignore[no-any-return]

    fn = LibFunction("Test", "explode", 0, (LibParam("x", INT),), INT, "boom", True, impl)
    LIBRARY[fn.qualified] = fn
    yield fn.qualified
    del LIBRARY[fn.qualified]


# -------------------------------------------------------- holes and partials


def test_an_empty_hole_is_incomplete() -> None:
    h = b.hole()
    assert evaluate(h) == Incomplete(h.id)


def test_a_partial_evaluates_to_its_old_expression() -> None:
    assert evaluate(b.partial("Int::ad", b.infix("+", 1, 2))) == 3


def test_a_right_partial_evaluates_to_its_left_side() -> None:
    assert evaluate(b.rpartial("+", b.infix("*", 2, 5))) == 10


def test_a_pipe_target_outside_a_pipe_is_incomplete() -> None:
    t = b.target()
    assert evaluate(t) == Incomplete(t.id)


def test_a_pipe_target_does_not_reach_into_a_lambda_body() -> None:
    inner = b.target()
    e = b.pipe(5, b.call("List::map_v0", [1], b.lam(["x"], inner)))
    assert isinstance(evaluate(e), Incomplete)


def test_an_unbound_variable_is_an_error() -> None:
    assert is_error(evaluate(b.var("nope")), "unbound variable nope")
    assert evaluate(b.var("x"), {"x": None}) is None  # bound to Null is bound


def test_a_datastore_is_the_variable_name_vn_and_locals_shadow_it() -> None:
    program = Program.from_toplevels([b.datastore("Users", UNKNOWN, version=2)])
    assert evaluate(b.var("Users_v2"), program=program) == DatastoreRef("Users", 2)
    assert is_error(evaluate(b.var("Users_v1"), program=program), "unbound variable Users_v1")
    assert evaluate(b.let("Users_v2", 5, b.var("Users_v2")), program=program) == 5


# --------------------------------------------------------------------- calls


def test_a_call_with_an_incomplete_argument_is_incomplete() -> None:
    h = b.hole()
    assert evaluate(b.call("Int::add_v0", 1, h)) == Incomplete(h.id)


def test_a_call_with_special_arguments_prefers_rail_then_incomplete_then_error() -> None:
    h = b.hole()
    bad = b.call("Int::divide_v0", 1, 0)
    rail = b.call("List::head_v1", b.list_(), rail=True)
    # Error first in argument order, yet the incomplete wins over it...
    assert evaluate(b.call("Int::add_v0", bad, h)) == Incomplete(h.id)
    # ...and a rail exit wins over both.
    result = evaluate(b.call("List::append_v0", b.list_(bad, h), rail))
    assert isinstance(result, ErrorRail)


def test_library_arguments_are_checked_against_the_declared_types() -> None:
    result = evaluate(b.call("Int::add_v0", 1, "x"))
    assert result == ErrorValue('Int::add_v0 expects an Int for b, got String "x"', result.node_id)


def test_a_library_error_becomes_an_error_value_at_the_call() -> None:
    call = b.call("Int::divide_v0", 1, 0)
    result = evaluate(call)
    assert isinstance(result, ErrorValue) and result.node_id == call.id


def test_an_exception_inside_a_library_function_is_an_internal_error(
    exploding_library_function: str,
) -> None:
    call = b.call(exploding_library_function, 3)
    result = evaluate(call)
    assert is_error(result, f"internal error in {exploding_library_function}", "KeyError")
    assert result.node_id == call.id


def test_a_special_lambda_result_escapes_the_library_call() -> None:
    h = b.hole()
    assert evaluate(b.call("List::map_v0", [1, 2], b.lam(["x"], h))) == Incomplete(h.id)


def test_a_function_that_accepts_specials_receives_them() -> None:
    assert evaluate(b.call("Bool::isError_v0", b.call("Int::divide_v0", 1, 0))) is True
    assert evaluate(b.call("Bool::isError_v0", 3)) is False


def test_an_unknown_library_function_is_an_error() -> None:
    assert is_error(evaluate(b.call("Nope::zzz_v0", 1)), "unknown function Nope::zzz_v0")


def test_a_library_call_with_the_wrong_arity_is_an_error() -> None:
    assert is_error(evaluate(b.call("Int::add_v0", 1)), "Int::add_v0", "2 argument", "given 1")


# ------------------------------------------------------------------ the rail


def test_the_rail_unwraps_just_and_ok() -> None:
    assert evaluate(b.call("Int::parse_v0", "42", rail=True)) == 42
    assert evaluate(b.call("List::head_v1", [7], rail=True)) == 7


def test_nothing_and_error_on_the_rail_leave_through_everything() -> None:
    call = b.call("Int::parse_v0", "x", rail=True)
    inside_map = b.call("List::map_v0", [1, 2], b.lam(["n"], b.infix("+", b.var("n"), call)))
    e = b.let("a", 1, b.list_(b.record(v=inside_map), 2))
    result = evaluate(e)
    assert isinstance(result, ErrorRail)
    assert result.node_id == call.id and result.value.name == "Error"
    nothing = b.call("List::head_v1", b.list_(), rail=True)
    assert evaluate(b.list_(1, nothing)) == ErrorRail(NOTHING, nothing.id)


def test_a_value_that_is_not_an_option_or_result_on_the_rail_is_an_error() -> None:
    assert is_error(evaluate(b.call("Int::add_v0", 1, 2, rail=True)), "error rail", "Int::add_v0")


# ---------------------------------------------------------------------- let


def test_an_incomplete_let_rhs_is_bound_and_the_body_still_runs() -> None:
    assert evaluate(b.let("x", b.hole(), 5)) == 5
    assert isinstance(evaluate(b.let("x", b.hole(), b.var("x"))), Incomplete)


def test_an_error_let_rhs_is_bound_and_the_body_still_runs() -> None:
    assert evaluate(b.let("x", b.call("Int::divide_v0", 1, 0), 5)) == 5


def test_a_rail_let_rhs_leaves_at_once() -> None:
    rhs = b.call("Int::parse_v0", "x", rail=True)
    result = evaluate(b.let("x", rhs, 5))
    assert isinstance(result, ErrorRail) and result.node_id == rhs.id


# ---------------------------------------------------------------- literals


def test_incompletes_are_dropped_from_list_literals() -> None:
    assert evaluate(b.list_(1, b.hole(), 3)) == (1, 3)


def test_incompletes_are_dropped_from_record_literals() -> None:
    assert evaluate(b.record(a=1, b=b.hole())) == FrozenDict(a=1)


def test_an_error_in_a_list_or_record_literal_is_the_literal_value() -> None:
    bad = b.call("Int::divide_v0", 1, 0)
    result = evaluate(b.list_(1, bad, b.hole()))
    assert isinstance(result, ErrorValue) and result.node_id == bad.id
    bad2 = b.call("Int::divide_v0", 1, 0)
    assert isinstance(evaluate(b.record(a=bad2)), ErrorValue)


def test_literal_rules_are_keyed_on_the_language_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # A later version that keeps incompletes must change only code written in it.
    def keep_all(values: Any) -> Any:
        return tuple(values)

    v1 = LiteralRules(keep_all, literal_rules(0).record_fields)
    monkeypatch.setitem(evaluator_module._LITERAL_RULES, 1, v1)
    h = b.hole()
    e = b.list_(1, h)
    assert evaluate(e, language_version=0) == (1,)
    assert evaluate(e, language_version=1) == (1, Incomplete(h.id))
    assert literal_rules(7) is v1  # an unknown newer version gets the newest rules
    # A user function written in version 1 keeps its meaning when called from version 0.
    fn = b.function("keep", [], UNKNOWN, b.list_(1, b.hole()), language_version=1)
    called = evaluate(b.user_call(fn), program=Program.from_toplevels([fn]), language_version=0)
    assert isinstance(called, tuple) and len(called) == 2


# ----------------------------------------------------------------------- if


def test_an_if_with_an_incomplete_condition_is_incomplete() -> None:
    assert isinstance(evaluate(b.if_(b.hole(), 1, 2)), Incomplete)


def test_an_if_with_an_error_condition_propagates_it() -> None:
    bad = b.call("Int::divide_v0", 1, 0)
    result = evaluate(b.if_(bad, 1, 2))
    assert isinstance(result, ErrorValue) and result.node_id == bad.id


def test_an_if_with_a_non_bool_condition_is_an_error() -> None:
    assert is_error(evaluate(b.if_(1, 2, 3)), "Bool")


def test_an_if_runs_the_branch_its_condition_picks() -> None:
    assert evaluate(b.if_(True, 1, b.hole())) == 1
    assert evaluate(b.if_(False, b.hole(), 2)) == 2


# -------------------------------------------------------------------- infix


def test_false_and_a_hole_is_false() -> None:
    assert evaluate(b.infix("&&", False, b.hole())) is False


def test_true_or_a_hole_is_true() -> None:
    assert evaluate(b.infix("||", True, b.hole())) is True


def test_and_with_a_true_left_is_its_right_side_which_must_be_a_bool() -> None:
    assert evaluate(b.infix("&&", True, False)) is False
    assert isinstance(evaluate(b.infix("&&", True, b.hole())), Incomplete)
    assert is_error(evaluate(b.infix("&&", True, 3)), "&&", "right")
    assert is_error(evaluate(b.infix("||", "x", True)), "||", "left")


def test_equality_is_structural_and_respects_types() -> None:
    assert evaluate(b.infix("==", [1, 2], [1, 2])) is True
    assert evaluate(b.infix("==", 1, 1.0)) is False
    assert evaluate(b.infix("!=", 1, 1.0)) is True
    assert isinstance(evaluate(b.infix("==", 1, b.hole())), Incomplete)


def test_other_operators_call_their_library_function() -> None:
    assert evaluate(b.infix("+", 2, 3)) == 5
    assert evaluate(b.infix("++", "a", "b")) == "ab"
    assert is_error(evaluate(b.infix("+", 2, "x")), "Int::add_v0 expects an Int for b")


def test_an_unknown_operator_is_an_error() -> None:
    assert is_error(evaluate(b.infix("??", 1, 2)), "unknown operator ??")


# --------------------------------------------------------------------- pipe


def test_a_pipe_step_that_is_a_hole_passes_its_value_on() -> None:
    e = b.pipe(1, b.hole(), b.infix("+", b.target(), 1))
    assert evaluate(e) == 2


def test_a_pipe_step_gets_the_value_as_its_target() -> None:
    e = b.pipe([1, 2, 3], b.call("List::length_v0", b.target()), b.infix("*", b.target(), 10))
    assert evaluate(e) == 30


def test_a_pipe_step_without_target_yielding_a_function_is_applied() -> None:
    e = b.pipe(4, b.lam(["x"], b.infix("*", b.var("x"), b.var("x"))))
    assert evaluate(e) == 16
    via_variable = b.let("sq", b.lam(["x"], b.infix("*", b.var("x"), 3)), b.pipe(2, b.var("sq")))
    assert evaluate(via_variable) == 6


# -------------------------------------------------------------------- field


def test_field_access_reads_a_record_field() -> None:
    assert evaluate(b.field(b.record(name="Ada"), "name")) == "Ada"


def test_a_missing_field_is_an_error_naming_it() -> None:
    assert is_error(evaluate(b.field(b.record(name="Ada"), "age")), "no field age")


def test_a_field_of_an_incomplete_record_is_incomplete() -> None:
    assert isinstance(evaluate(b.field(b.hole(), "age")), Incomplete)


# -------------------------------------------------------------------- match


def test_a_match_variable_pattern_binds_the_value() -> None:
    assert evaluate(b.match(5, (b.pvar("n"), b.infix("+", b.var("n"), 1)))) == 6


def test_literal_patterns_compare_with_types_so_int_does_not_match_float() -> None:
    e = b.match(1.0, (b.pint(1), "int"), (b.pfloat(1.0), "float"))
    assert evaluate(e) == "float"
    assert evaluate(b.match("a", (b.pstr("b"), 1), (b.pstr("a"), 2))) == 2
    assert evaluate(b.match(None, (b.pbool(False), 1), (b.pnull(), 2))) == 2


def test_constructor_patterns_match_name_and_arguments() -> None:
    e = b.match(b.just(b.ok(3)),
                (b.pctor("Just", b.pctor("Error", b.pvar("e"))), 0),
                (b.pctor("Just", b.pctor("Ok", b.pvar("v"))), b.var("v")))
    assert evaluate(e) == 3


def test_a_wildcard_pattern_matches_anything() -> None:
    assert evaluate(b.match([1], (b.pint(2), 0), (b.pwild(), 9))) == 9


def test_an_empty_pattern_matches_nothing() -> None:
    assert evaluate(b.match(1, (b.phole(), 0), (b.pint(1), 7))) == 7


def test_a_match_with_no_matching_arm_is_incomplete() -> None:
    m = b.match(3, (b.pint(1), 0))
    assert evaluate(m) == Incomplete(m.id)


def test_a_match_on_a_special_scrutinee_propagates_it() -> None:
    h = b.hole()
    assert evaluate(b.match(h, (b.pwild(), 1))) == Incomplete(h.id)
    bad = b.call("Int::divide_v0", 1, 0)
    result = evaluate(b.match(bad, (b.pwild(), 1)))
    assert isinstance(result, ErrorValue) and result.node_id == bad.id


# ------------------------------------------------------------- constructors


def test_builtin_constructors_build_variants() -> None:
    assert evaluate(b.just(1)) == just(1)
    assert evaluate(b.nothing()) == NOTHING
    assert evaluate(b.ok("a")) == ok("a")
    assert evaluate(b.err("e")) == error("e")
    assert isinstance(evaluate(b.just(b.hole())), Incomplete)


def test_user_enum_cases_are_resolved_by_type_ref_or_unique_case_name() -> None:
    color = b.enum_type("Color", [("Red", []), ("Rgb", [("r", INT), ("g", INT), ("b", INT)])])
    program = Program.from_toplevels([color])
    ref = TypeRef(color.type_id, color.version)
    expected = Variant("Rgb", (1, 2, 3), "Color_v0")
    assert evaluate(b.ctor("Rgb", 1, 2, 3, type_ref=ref), program=program) == expected
    assert evaluate(b.ctor("Rgb", 1, 2, 3), program=program) == expected
    assert evaluate(b.ctor("Red"), program=program) == Variant("Red", (), "Color_v0")


def test_constructor_arity_is_checked() -> None:
    color = b.enum_type("Color", [("Rgb", [("r", INT), ("g", INT), ("b", INT)])])
    program = Program.from_toplevels([color])
    assert is_error(evaluate(b.ctor("Rgb", 1), program=program), "Rgb", "3 argument")
    assert is_error(evaluate(b.ctor("Just", 1, 2)), "Just", "1 argument")


def test_an_unknown_or_ambiguous_constructor_is_an_error() -> None:
    one = b.enum_type("A", [("Red", [])])
    two = b.enum_type("B", [("Red", [])])
    program = Program.from_toplevels([one, two])
    assert is_error(evaluate(b.ctor("Blue"), program=program), "unknown constructor Blue")
    assert is_error(evaluate(b.ctor("Red"), program=program), "A_v0", "B_v0")


# --------------------------------------------------------------------- flag


def test_a_flag_runs_new_only_when_its_condition_is_exactly_true() -> None:
    assert evaluate(b.flag("f", True, "old", "new")) == "new"
    rail = b.call("Int::parse_v0", "x", rail=True)
    not_true = [False, b.hole(), b.call("Int::divide_v0", 1, 0), rail, 1, "true", b.list_(True)]
    for cond in not_true:
        assert evaluate(b.flag("f", cond, "old", "new")) == "old", cond


# ------------------------------------------------------------------ lambdas


def test_a_lambda_is_a_closure_over_its_scope() -> None:
    result = evaluate(b.let("y", 10, b.lam(["x"], b.var("y"))))
    assert isinstance(result, Closure) and result.params == ("x",)
    assert result.env == FrozenDict(y=10)
    applied = b.let("y", 10, b.pipe(1, b.lam(["x"], b.infix("+", b.var("x"), b.var("y")))))
    assert evaluate(applied) == 11


def test_applying_a_lambda_with_the_wrong_number_of_arguments_is_an_error() -> None:
    e = b.call("List::map_v0", [1], b.lam(["a", "b"], 1))
    assert is_error(evaluate(e), "List::map_v0")
    piped = b.pipe(1, b.lam(["a", "b"], 1))
    assert is_error(evaluate(piped), "2 argument", "given 1")


# ------------------------------------------------------------ user functions


def test_a_user_function_call_runs_its_body_with_its_parameters() -> None:
    double = b.function("double", [("n", INT)], INT, b.infix("*", b.var("n"), 2))
    program = Program.from_toplevels([double])
    assert evaluate(b.user_call(double, 21), program=program) == 42


def test_a_missing_user_function_is_an_error() -> None:
    ghost = b.function("ghost", [], INT, 1)
    assert is_error(evaluate(b.user_call(ghost), program=Program()), "unknown function")


def test_user_function_arity_and_argument_types_are_checked() -> None:
    greet = b.function("greet", [("name", STRING)], STRING, b.var("name"))
    program = Program.from_toplevels([greet])
    assert is_error(evaluate(b.user_call(greet), program=program), "greet_v0", "1 argument")
    assert is_error(evaluate(b.user_call(greet, 5), program=program),
                    "greet_v0 expects a String for name, got Int 5")


def test_a_user_function_body_does_not_see_the_callers_variables() -> None:
    peek = b.function("peek", [], UNKNOWN, b.var("secret"))
    program = Program.from_toplevels([peek])
    result = evaluate(b.let("secret", 1, b.user_call(peek)), program=program)
    assert is_error(result, "unbound variable secret")


def test_pattern_variables_shadow_and_a_later_binding_wins() -> None:
    e = b.match(b.ok(b.just(2)), (b.pctor("Ok", b.pctor("Just", b.pvar("x"))), b.var("x")))
    assert evaluate(b.let("x", 1, e)) == 2


def test_user_function_versions_are_separate() -> None:
    v0 = b.function("f", [], INT, 0, version=0)
    v1 = attrs.evolve(b.function("f", [], INT, 1, version=1), fn_id=v0.fn_id)
    program = Program.from_toplevels([v0, v1])
    assert evaluate(b.list_(b.user_call(v0), b.user_call(v1)), program=program) == (0, 1)
