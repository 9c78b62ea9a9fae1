"""The reference evaluator on whole programs: handlers, recursion, pipelines, budgets,
live values with previews, and replay of impure calls."""

from __future__ import annotations

import sys
import uuid
from types import SimpleNamespace
from typing import Any, ClassVar

import attrs

from shared_ast import build as b
from shared_ast.eval_context import ImpureCall, ImpureLog, LiveValue, LiveValues
from shared_ast.evaluator import Budget, call_user_function, evaluate, run_toplevel
from shared_ast.nodes import Expr
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY, LibFunction
from shared_ast.toplevels import UserFunction
from shared_ast.traverse import walk
from shared_ast.type_ast import (
    INT,
    STRING,
    UNKNOWN,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TUser,
    TVar,
    Type,
)
from shared_ast.value_types import value_fits
from shared_ast.values import (
    Closure,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Variant,
    just,
)

# ------------------------------------------------------------------ programs


def sum_handler() -> Any:
    parse_a = b.call("Int::parse_v0", b.var("a"), rail=True)
    parse_b = b.call("Int::parse_v0", b.var("b"), rail=True)
    return b.http("GET", "/sum/:a/:b", b.infix("+", parse_a, parse_b))


def recursive(name: str, params: list[tuple[str, Any]], body_of: Any) -> UserFunction:
    """A user function whose body calls itself: `body_of(fn)` builds the body."""
    fn = b.function(name, params, INT, b.hole())
    return attrs.evolve(fn, body=body_of(fn))


def fib_function() -> UserFunction:
    def body(fib: UserFunction) -> Expr:
        n = b.var
        return b.if_(
            b.infix("<", n("n"), 2),
            n("n"),
            b.infix("+", b.user_call(fib, b.infix("-", n("n"), 1)),
                    b.user_call(fib, b.infix("-", n("n"), 2))),
        )

    return recursive("fib", [("n", INT)], body)


# ------------------------------------------------------------------ handlers


def test_the_sum_handler_adds_its_route_params() -> None:
    assert run_toplevel(sum_handler(), {"a": "3", "b": "4"}, Program()) == 7


def test_the_sum_handler_leaves_on_the_rail_for_a_bad_param() -> None:
    handler = sum_handler()
    result = run_toplevel(handler, {"a": "x", "b": "4"}, Program())
    assert isinstance(result, ErrorRail)
    assert result.value.name == "Error"
    parse_a = handler.body.left  # type: ignore[attr-defined]
    assert result.node_id == parse_a.id


def test_a_handler_without_a_trace_sees_incomplete_bound_variables() -> None:
    assert isinstance(run_toplevel(sum_handler(), {}, Program()), Incomplete)


def test_fib_as_a_recursive_user_function() -> None:
    fib = fib_function()
    program = Program.from_toplevels([fib])
    assert [call_user_function(fib, (n,), program) for n in range(10)] == [
        0, 1, 1, 2, 3, 5, 8, 13, 21, 34,
    ]
    assert evaluate(b.user_call(fib, 20), program=program) == 6765


def test_run_toplevel_runs_a_function_with_inputs_by_parameter_name() -> None:
    sub = b.function("sub", [("a", INT), ("b", INT)], INT, b.infix("-", b.var("a"), b.var("b")))
    assert run_toplevel(sub, {"b": 1, "a": 10}, Program.from_toplevels([sub])) == 9
    assert isinstance(run_toplevel(sub, {"a": 10}, Program()), Incomplete)


def test_call_user_function_checks_its_arguments() -> None:
    sub = b.function("sub", [("a", INT)], INT, b.var("a"))
    assert isinstance(call_user_function(sub, ("x",), Program()), ErrorValue)
    assert isinstance(call_user_function(sub, (), Program()), ErrorValue)


# ----------------------------------------------------------------- pipelines


def test_list_pipeline_with_map_filter_and_fold() -> None:
    e = b.pipe(
        b.call("List::range_v0", 1, 10),
        b.call("List::map_v0", b.target(), b.lam(["x"], b.infix("*", b.var("x"), b.var("x")))),
        b.call("List::filter_v2", b.target(),
               b.lam(["x"], b.infix("==", b.infix("%", b.var("x"), 2), 0))),
        b.call("List::fold_v0", b.target(), 0,
               b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x")))),
    )
    expected = sum(x * x for x in range(1, 11) if x * x % 2 == 0)
    assert evaluate(e) == expected


def test_a_lambda_captures_variables_across_a_pipeline() -> None:
    e = b.let("k", 3, b.pipe(
        [1, 2],
        b.call("List::map_v0", b.target(), b.lam(["x"], b.infix("*", b.var("x"), b.var("k")))),
    ))
    assert evaluate(e) == (3, 6)


def test_a_rail_exit_inside_a_map_lambda_leaves_the_whole_pipeline() -> None:
    e = b.pipe(
        b.list_("1", "oops", "3"),
        b.call("List::map_v0", b.target(),
               b.lam(["s"], b.call("Int::parse_v0", b.var("s"), rail=True))),
        b.call("List::length_v0", b.target()),
    )
    assert isinstance(evaluate(e), ErrorRail)


# -------------------------------------------------------------------- budget


def test_infinite_recursion_stops_with_a_depth_error() -> None:
    forever = recursive("forever", [("n", INT)],
                        lambda fn: b.infix("+", 1, b.user_call(fn, b.var("n"))))
    result = evaluate(b.user_call(forever, 1), program=Program.from_toplevels([forever]))
    assert isinstance(result, ErrorValue)
    assert "recursion deeper than 400 calls" in result.message


def test_a_huge_loop_stops_with_a_step_error() -> None:
    inner = b.pipe(b.call("List::range_v0", 0, 100_000),
                   b.call("List::map_v0", b.target(),
                          b.lam(["y"], b.infix("+", b.var("x"), b.var("y")))))
    e = b.pipe(b.call("List::range_v0", 0, 100_000),
               b.call("List::map_v0", b.target(), b.lam(["x"], inner)))
    result = evaluate(e, budget=Budget(max_steps=20_000))
    assert isinstance(result, ErrorValue)
    assert "Stopped after 20000 steps" in result.message and "infinite loop" in result.message


def test_a_budget_is_shared_by_the_evaluations_that_use_it() -> None:
    budget = Budget(max_steps=10)
    assert evaluate(b.infix("+", 1, 2), budget=budget) == 3
    assert budget.steps == 3 and budget.depth == 0
    result = evaluate(b.list_(1, 2, 3, 4, 5, 6, 7, 8), budget=budget)
    assert isinstance(result, ErrorValue) and "Stopped after 10 steps" in result.message


def test_a_deeply_nested_tree_is_an_error_value_not_a_recursion_error() -> None:
    e: Expr = b.int_(1)
    for _ in range(20_000):
        e = b.list_(e)
    limit = sys.getrecursionlimit()
    result = evaluate(e)
    assert isinstance(result, ErrorValue) and "nested" in result.message
    assert sys.getrecursionlimit() == limit


def test_deep_recursion_with_a_generous_depth_budget_still_stops_cleanly() -> None:
    forever = recursive("forever", [("n", INT)],
                        lambda fn: b.infix("+", 1, b.user_call(fn, b.var("n"))))
    result = evaluate(b.user_call(forever, 1), program=Program.from_toplevels([forever]),
                      budget=Budget(max_depth=1_000_000))
    assert isinstance(result, ErrorValue) and "Stopped" in result.message


# --------------------------------------------------------------- live values


def test_live_values_cover_every_node_of_a_handler_with_untaken_branches_previewed() -> None:
    then_branch = b.infix("+", b.var("n"), 1)
    else_branch = b.infix("*", b.var("n"), 100)
    old_side = b.str_("old")
    new_side = b.str_("new")
    skipped_arm_body = b.infix("+", b.var("m"), 1)
    rhs_of_and = b.infix("==", b.var("n"), 0)
    body = b.let(
        "n", b.call("Int::parse_v0", b.var("a"), rail=True),
        b.record(
            picked=b.if_(b.infix(">", b.var("n"), 2), then_branch, else_branch),
            flagged=b.flag("f", b.hole(), old_side, new_side),
            matched=b.match(b.just(b.var("n")),
                            (b.pctor("Nothing"), 0),
                            (b.pctor("Just", b.pvar("m")), b.var("m")),
                            (b.pctor("Ok", b.pvar("m")), skipped_arm_body)),
            both=b.infix("&&", False, rhs_of_and),
            piped=b.pipe([1, 2], b.hole(),
                         b.call("List::map_v0", b.target(),
                                b.lam(["x"], b.infix("+", b.var("x"), b.var("n"))))),
        ),
    )
    handler = b.http("GET", "/n/:a", body)
    live = LiveValues()
    result = run_toplevel(handler, {"a": "5"}, Program(), live=live)
    assert result == FrozenDict(picked=6, flagged="old", matched=5, both=False, piped=(6, 7))

    missing = [n for n in walk(handler.body) if n.id not in live]
    assert missing == []
    assert live.get(then_branch.id) == LiveValue(6, True)
    assert live.get(else_branch.id) == LiveValue(500, False)
    assert live.get(old_side.id) == LiveValue("old", True)
    assert live.get(new_side.id) == LiveValue("new", False)
    preview = live.get(skipped_arm_body.id)
    assert preview is not None and not preview.taken and isinstance(preview.value, Incomplete)
    assert live.get(rhs_of_and.id) == LiveValue(False, False)
    assert live.get(body.id) == LiveValue(result, True)


def test_recording_never_changes_the_result() -> None:
    handler = sum_handler()
    for a in ("3", "x"):
        plain = run_toplevel(handler, {"a": a, "b": "4"}, Program())
        recorded = run_toplevel(handler, {"a": a, "b": "4"}, Program(), live=LiveValues())
        assert plain == recorded


def test_a_lambda_body_shows_its_first_call() -> None:
    x = b.var("x")
    param = b.lam(["x"], x)
    live = LiveValues()
    evaluate(b.call("List::map_v0", [10, 20, 30], param), live=live)
    assert live.get(x.id) == LiveValue(10, True)
    assert live.get(param.params[0].id) == LiveValue(10, True)


def test_a_lambda_body_is_recorded_per_iteration_in_order() -> None:
    body = b.infix("*", b.var("x"), 10)
    fn = b.lam(["x"], body)
    live = LiveValues()
    assert evaluate(b.call("List::map_v0", b.list_(1, 2, 3), fn), live=live) == (10, 20, 30)
    assert live.calls(fn.id) == 3
    assert [live.get(body.id, (i,)) for i in range(3)] == [
        LiveValue(10, True), LiveValue(20, True), LiveValue(30, True)]
    assert [live.get(fn.params[0].id, (i,)) for i in range(3)] == [
        LiveValue(v, True) for v in (1, 2, 3)]
    assert live.get(body.id, (3,)) is None
    assert live.get(fn.id, ()) is not None  # the lambda itself is outside its iterations


def test_iterations_past_the_bound_are_counted_not_recorded() -> None:
    body = b.infix("+", b.var("x"), 1)
    fn = b.lam(["x"], body)
    live = LiveValues(max_iterations=5)
    result = evaluate(b.call("List::map_v0", b.list_(*range(12)), fn), live=live)
    assert result == tuple(range(1, 13))
    assert (live.calls(fn.id), live.kept(fn.id)) == (12, 5)
    kept = [at for node_id, at, _ in live.entries() if node_id == body.id]
    assert kept == [(i,) for i in range(5)]
    assert live.get(body.id, (4,)) == LiveValue(5, True)


def test_a_lambda_that_captures_a_big_list_stops_recording_at_the_weight_bound() -> None:
    """Each call records the captured list again: bounded by weight, not only by count."""
    import json

    from shared_ast import wire
    from shared_ast.live import MAX_WEIGHT

    xs = b.var("xs")
    use = b.call("List::length_v0", xs)
    fn = b.lam(["x"], b.infix("+", use, b.var("x")))
    live = LiveValues()
    evaluate(b.let("xs", b.call("List::range_v0", 0, 9999), b.call("List::map_v0", xs, fn)),
             live=live)
    assert live.calls(fn.id) == 10_000
    assert 1 <= live.kept(fn.id) < 100            # cut by weight before the count bound
    assert live.weight < 2 * MAX_WEIGHT           # unbounded: 100 calls x 10,000 elements
    assert len(json.dumps(wire.encode_live_values(live))) < 4_000_000


def test_nested_lambdas_stop_recording_at_the_bound_on_all_values() -> None:
    inner_body = b.infix("*", b.var("x"), b.var("y"))
    inner = b.lam(["y"], inner_body)
    outer = b.lam(["x"], b.call("List::map_v0", b.list_(*range(10)), inner))
    live = LiveValues(max_values=60)
    evaluate(b.call("List::map_v0", b.list_(*range(10)), outer), live=live)
    # The first outer call is kept, and within it the inner calls until 60 values are
    # recorded; the other outer calls are only counted (their inner lambdas unrecorded).
    assert (live.calls(outer.id), live.kept(outer.id)) == (10, 1)
    assert (live.calls(inner.id, (0,)), live.kept(inner.id, (0,))) == (10, 9)
    assert live.calls(inner.id, (1,)) == 0
    assert 60 <= sum(1 for _ in live.entries()) < 60 + 5  # a kept call finishes its values
    assert live.get(inner_body.id, (0, 8)) is not None
    assert live.get(inner_body.id, (0, 9)) is None


def test_nested_lambdas_number_inner_calls_within_each_outer_call() -> None:
    inner_body = b.infix("+", b.var("x"), b.var("y"))
    inner = b.lam(["y"], inner_body)
    outer = b.lam(["x"], b.call("List::map_v0", b.list_(1, 2), inner))
    live = LiveValues()
    evaluate(b.call("List::map_v0", b.list_(10, 20, 30), outer), live=live)
    assert live.calls(outer.id) == 3
    assert [live.calls(inner.id, (i,)) for i in range(3)] == [2, 2, 2]
    assert live.get(inner_body.id, (2, 1)) == LiveValue(32, True)
    assert live.get(inner_body.id, (0, 0)) == LiveValue(11, True)


def test_a_closure_bound_by_let_numbers_its_calls_where_it_was_made() -> None:
    body = b.infix("*", b.var("n"), 2)
    f = b.lam(["n"], body)
    use = b.lam(["x"], b.infix("+", b.var("x"), b.var("x")))
    e = b.let("f", f, b.call("List::map_v0", b.list_(1, 2, 3), b.var("f")))
    live = LiveValues()
    assert evaluate(b.list_(e, b.call("List::map_v0", b.list_(5), use)), live=live) == \
        ((2, 4, 6), (10,))
    assert [live.get(body.id, (i,)) for i in range(3)] == [LiveValue(v, True) for v in (2, 4, 6)]


def test_a_preview_does_not_add_iterations_to_a_closure_that_really_ran() -> None:
    body = b.infix("+", b.var("x"), 1)
    f = b.lam(["x"], body)
    inner = b.lam(["y"], b.var("y"))
    e = b.let("f", f, b.if_(True, b.call("List::map_v0", b.list_(1), b.var("f")),
                            b.call("List::map_v0", b.list_(5, 6), inner)))
    live = LiveValues()
    assert evaluate(e, live=live) == (2,)
    assert live.calls(f.id) == 1 and live.get(body.id, (0,)) == LiveValue(2, True)
    # A lambda made in the preview has previewed iterations of its own.
    assert live.calls(inner.id) == 2
    assert live.get(inner.body.id, (1,)) == LiveValue(6, False)
    e2 = b.let("f", f, b.if_(False, b.call("List::map_v0", b.list_(5, 6), b.var("f")),
                             b.call("List::map_v0", b.list_(1), b.var("f"))))
    live2 = LiveValues()
    assert evaluate(e2, live=live2) == (2,)
    assert live2.calls(f.id) == 1 and live2.get(body.id, (0,)) == LiveValue(2, True)


def test_a_fold_records_each_step() -> None:
    body = b.infix("+", b.var("acc"), b.var("x"))
    fn = b.lam(["acc", "x"], body)
    live = LiveValues()
    assert evaluate(b.call("List::fold_v0", b.list_(1, 2, 3, 4), 0, fn), live=live) == 10
    assert [live.get(body.id, (i,)).value for i in range(4)] == [1, 3, 6, 10]  # type: ignore[union-attr]


def test_a_preview_runs_no_impure_function_and_enters_no_user_function() -> None:
    touched = b.function("touched", [], INT, b.call("Uuid::generate_v0"))
    program = Program.from_toplevels([touched])
    uuid_call = b.call("Uuid::generate_v0")
    user_call = b.user_call(touched)
    e = b.if_(True, 1, b.list_(uuid_call, user_call))
    log = ImpureLog()
    live = LiveValues()
    assert evaluate(e, program=program, live=live, impure=log) == 1
    assert log.calls == []
    assert live.get(uuid_call.id) == LiveValue(Incomplete(uuid_call.id), False)
    assert live.get(user_call.id) == LiveValue(Incomplete(user_call.id), False)


def test_a_runaway_preview_cannot_stop_the_real_evaluation() -> None:
    spin = b.call("List::map_v0", b.call("List::range_v0", 0, 1_000_000),
                  b.lam(["x"], b.infix("+", b.var("x"), 1)))
    # `w w` with w = \g -> g g, spelled with pipes: recursion without a user function.
    self_apply = b.let("w", b.lam(["g"], b.pipe(b.var("g"), b.var("g"))),
                       b.pipe(b.var("w"), b.var("w")))
    assert isinstance(evaluate(self_apply), ErrorValue)
    for runaway in (spin, self_apply):
        e = b.if_(True, b.list_(1, 2), runaway)
        budget = Budget(max_steps=50)
        assert evaluate(e, budget=budget, live=LiveValues()) == (1, 2)
        assert budget.steps == 5 and budget.depth == 0  # if, cond, list, 1, 2


def test_user_function_bodies_are_not_recorded_in_the_callers_live_values() -> None:
    inner = b.infix("*", b.var("n"), 2)
    double = b.function("double", [("n", INT)], INT, inner)
    live = LiveValues()
    evaluate(b.user_call(double, 4), program=Program.from_toplevels([double]), live=live)
    assert inner.id not in live
    own = LiveValues()
    run_toplevel(double, {"n": 4}, Program.from_toplevels([double]), live=own)
    assert own.get(inner.id) == LiveValue(8, True)


# ---------------------------------------------------------------- impure log


def test_an_impure_log_records_then_replays_uuid_generate() -> None:
    e = b.list_(b.call("Uuid::generate_v0"), b.call("Uuid::generate_v0"))
    log = ImpureLog()
    first = evaluate(e, impure=log)
    assert [c.name for c in log.calls] == ["Uuid::generate_v0", "Uuid::generate_v0"]
    assert all(isinstance(u, uuid.UUID) for u in first) and first[0] != first[1]
    replayed = evaluate(e, impure=ImpureLog(log.calls))
    assert replayed == first
    fresh = evaluate(e)
    assert fresh != first


def test_replay_runs_calls_for_real_once_the_recording_runs_out() -> None:
    recorded = [ImpureCall("Uuid::generate_v0", (), uuid.UUID(int=1))]
    e = b.list_(b.call("Uuid::generate_v0"), b.call("Uuid::generate_v0"))
    log = ImpureLog(recorded)
    result = evaluate(e, impure=log)
    assert result[0] == uuid.UUID(int=1) and result[1] != uuid.UUID(int=1)
    assert len(log.calls) == 2


# ---------------------------------------------------------------------- host


def test_library_functions_reach_the_runtime_host_as_ctx_host() -> None:
    def impl(ctx: Any) -> Any:
        return ctx.host.answer if ctx.host is not None else "no host"

    fn = LibFunction("Test", "host", 0, (), UNKNOWN, "the host's answer", False, impl)
    LIBRARY[fn.qualified] = fn
    try:
        host = SimpleNamespace(answer=42)
        assert evaluate(b.call(fn.qualified), host=host) == 42
        assert evaluate(b.call(fn.qualified)) == "no host"
        # A preview never reaches the host: the function is impure.
        live = LiveValues()
        skipped = b.call(fn.qualified)
        assert evaluate(b.if_(False, skipped, 1), host=host, live=live) == 1
        assert live.get(skipped.id) == LiveValue(Incomplete(skipped.id), False)
    finally:
        del LIBRARY[fn.qualified]


class DictHost:
    """A stand-in for the runtime's datastores: one dict per datastore."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def ds_set(self, ds: Any, key: str, value: Any) -> None:
        self.rows.setdefault(ds.qualified, {})[key] = value

    def ds_get(self, ds: Any, key: str) -> Any:
        return self.rows.get(ds.qualified, {}).get(key)


def test_datastore_calls_reach_the_host_and_replay_without_touching_it() -> None:
    program = Program.from_toplevels([b.datastore("Notes", STRING)])
    e = b.let("_", b.call("DB::set_v1", "hi", "k", b.var("Notes_v0")),
              b.call("DB::get_v2", "k", b.var("Notes_v0"), rail=True))
    host = DictHost()
    log = ImpureLog()
    assert evaluate(e, program=program, host=host, impure=log) == "hi"
    assert host.rows == {"Notes_v0": {"k": "hi"}}
    untouched = DictHost()
    assert evaluate(e, program=program, host=untouched, impure=ImpureLog(log.calls)) == "hi"
    assert untouched.rows == {}
    no_runtime = evaluate(e, program=program)
    assert isinstance(no_runtime, ErrorValue) and "runtime" in no_runtime.message


# --------------------------------------------------------------- value_fits


def test_value_fits_names_the_path_to_the_bad_part() -> None:
    person = b.record_type("Person", [("name", STRING), ("age", INT)])
    program = Program.from_toplevels([person])
    t = TUser(person.type_id, person.version)
    good = FrozenDict(name="Ada", age=36)
    bad = FrozenDict(name="Ada", age="old")
    assert value_fits(good, t, program) is None
    assert value_fits(bad, t, program) == 'field age: expected Int, found String "old"'
    assert value_fits(bad, t, program, deep=False) is None  # shallow: only the outer shape
    nested = TList(TRecord((TRecordField("tags", TList(STRING)),)))
    problem = value_fits((FrozenDict(tags=("a",)), FrozenDict(tags=("b", 3))), nested)
    assert problem is not None and problem.startswith("item 1.tags[1]: expected String")
    assert value_fits(just("x"), TOption(INT)) is not None
    assert value_fits(just("x"), TOption(INT), deep=False) is None
    assert value_fits(Variant("Nothing"), TOption(INT)) is None
    assert value_fits(True, INT) is not None  # a Bool is not an Int
    assert value_fits(FrozenDict(name="Ada"), t, program) is not None  # missing field
    assert value_fits(Closure(("x",), b.hole()), TOption(INT)) is not None


def test_value_fits_accepts_what_it_cannot_check() -> None:
    @attrs.frozen
    class TFuture(Type):
        KIND: ClassVar[str] = "t_future"

    assert value_fits(1, TFuture()) is None
    assert value_fits("x", TVar("a")) is None
    assert value_fits(Incomplete(None), UNKNOWN) is None
    missing_type = TUser(123, 0)
    assert value_fits(FrozenDict(), missing_type, Program()) is not None
