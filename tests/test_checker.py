"""Unit tests of the type checker: each mark kind, the typing rules, and clean programs."""

from __future__ import annotations

from typing import Any

import pytest

from shared_ast import build as b
from shared_ast import checker as c
from shared_ast.checker import (
    MARK_KINDS,
    REQUEST_TYPE,
    Mark,
    NodeInfo,
    check_expr,
    check_toplevel,
    consistent,
    handler_env,
    join,
)
from shared_ast.nodes import ELet, EVariable, Expr, LibFnRef, TypeRef, UserFnRef
from shared_ast.program import Program
from shared_ast.toplevels import Toplevel
from shared_ast.traverse import node_ids
from shared_ast.type_ast import (
    BOOL,
    FLOAT,
    INT,
    NULL,
    STRING,
    UNKNOWN,
    TDict,
    TFn,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TResult,
    TUser,
    TVar,
    Type,
    show_type,
)

# ---------------------------------------------------------------- helpers


def all_marks(result: dict[int, NodeInfo]) -> list[tuple[int, Mark]]:
    return [(node_id, m) for node_id, info in result.items() for m in info.marks]


def kinds(result: dict[int, NodeInfo]) -> list[str]:
    return sorted(m.kind for _, m in all_marks(result))


def marks_on(result: dict[int, NodeInfo], node_id: int) -> list[str]:
    return [m.kind for m in result[node_id].marks]


def type_of(result: dict[int, NodeInfo], node_id: int) -> Type:
    return result[node_id].type


def clean(result: dict[int, NodeInfo]) -> bool:
    return not all_marks(result)


def the_mark(result: dict[int, NodeInfo], kind: str) -> tuple[int, Mark]:
    found = [(i, m) for i, m in all_marks(result) if m.kind == kind]
    assert len(found) == 1, f"expected one {kind} mark, got {all_marks(result)}"
    return found[0]


def covers_every_node(tree: Expr | Toplevel, result: dict[int, NodeInfo]) -> bool:
    return set(node_ids(tree)) <= set(result)


def color_type(**kw: Any) -> Any:
    return b.enum_type("Color", [("Red", []), ("Green", []), ("Rgb", [("r", INT), ("g", INT)])],
                       **kw)


# ------------------------------------------------------------ clean programs


def test_sum_handler_parses_params_on_the_rail_and_checks_clean_as_int() -> None:
    handler = b.http("GET", "/sum/:a/:b",
                     b.infix("+", b.call("Int::parse_v0", b.var("a"), rail=True),
                             b.call("Int::parse_v0", b.var("b"), rail=True)))
    result = check_toplevel(handler)
    assert clean(result)
    assert type_of(result, handler.tlid) == INT
    assert type_of(result, handler.body.id) == INT
    assert covers_every_node(handler, result)


def test_literals_have_their_types() -> None:
    for expr, want in [(b.int_(1), INT), (b.float_(1.5), FLOAT), (b.str_("s"), STRING),
                       (b.bool_(True), BOOL), (b.null(), NULL)]:
        result = check_expr(expr)
        assert type_of(result, expr.id) == want
        assert clean(result)


def test_hole_is_unknown_without_a_mark_and_remembers_what_it_should_be() -> None:
    hole = b.hole()
    call = b.call("Int::add_v0", hole, 1)
    result = check_expr(call)
    assert clean(result)
    assert type_of(result, hole.id) == UNKNOWN
    assert result[hole.id].expected == INT
    assert type_of(result, call.id) == INT


def test_expected_type_is_a_hint_not_part_of_equality() -> None:
    assert NodeInfo(INT, (), expected=STRING) == NodeInfo(INT)


# ----------------------------------------------------------------- literals


def test_list_elements_join_and_a_hole_joins_with_anything() -> None:
    lst = b.list_(b.hole(), 1, 2)
    result = check_expr(lst)
    assert clean(result)
    assert type_of(result, lst.id) == TList(INT)


def test_list_elements_must_agree() -> None:
    bad = b.str_("a")
    lst = b.list_(1, bad)
    result = check_expr(lst)
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == bad.id
    assert mark.message == "expected Int, found String"
    assert (mark.expected, mark.found) == (INT, STRING)
    assert type_of(result, lst.id) == TList(INT)


def test_list_of_lists_joins_structurally() -> None:
    lst = b.list_(b.list_(), b.list_(1))
    result = check_expr(lst)
    assert clean(result)
    assert type_of(result, lst.id) == TList(TList(INT))


def test_record_literal_is_a_record_type_with_field_entries() -> None:
    rec = b.record(a=1, name="x")
    result = check_expr(rec)
    assert clean(result)
    assert type_of(result, rec.id) == TRecord((TRecordField("a", INT),
                                               TRecordField("name", STRING)))
    assert type_of(result, rec.fields[1].id) == STRING


def test_record_literal_repeating_a_field_is_marked() -> None:
    rec = b.record(("a", 1), ("a", 2))
    result = check_expr(rec)
    assert marks_on(result, rec.fields[1].id) == [c.DUPLICATE_NAME]


# ------------------------------------------------------------ let, if, vars


def test_let_binds_the_rhs_type_in_the_body() -> None:
    body = b.var("x")
    let = b.let("x", "s", body)
    result = check_expr(let)
    assert clean(result)
    assert type_of(result, body.id) == STRING
    assert type_of(result, let.id) == STRING


def test_unbound_variable_is_marked_and_unknown() -> None:
    v = b.var("nope")
    result = check_expr(b.let("x", 1, v))
    assert marks_on(result, v.id) == [c.UNBOUND_VARIABLE]
    assert "nope" in result[v.id].marks[0].message
    assert type_of(result, v.id) == UNKNOWN


def test_let_scope_ends_with_its_body() -> None:
    outside = b.var("x")
    expr = b.list_(b.let("x", 1, b.var("x")), outside)
    result = check_expr(expr)
    assert marks_on(result, outside.id) == [c.UNBOUND_VARIABLE]


def test_env_given_to_check_expr_is_in_scope() -> None:
    v = b.var("n")
    result = check_expr(b.infix("+", v, 1), env={"n": INT})
    assert clean(result)


def test_if_condition_must_be_bool() -> None:
    cond = b.int_(1)
    result = check_expr(b.if_(cond, 1, 2))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == cond.id
    assert mark.message == "expected Bool, found Int"


def test_if_branches_join_and_must_agree() -> None:
    good = b.if_(True, b.hole(), 2)
    assert type_of(check_expr(good), good.id) == INT
    other = b.str_("x")
    bad = b.if_(True, 1, other)
    result = check_expr(bad)
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == other.id
    assert (mark.expected, mark.found) == (INT, STRING)


def test_if_checked_against_expected_marks_the_branch_not_the_if() -> None:
    wrong = b.str_("no")
    expr = b.if_(True, 1, wrong)
    result = check_expr(expr, expected=INT)
    assert [i for i, _ in all_marks(result)] == [wrong.id]


# ------------------------------------------------------------------- calls


def test_wrong_number_of_arguments_to_a_library_function() -> None:
    call = b.call("Int::add_v0", 1)
    result = check_expr(call)
    assert marks_on(result, call.id) == [c.WRONG_ARITY]
    assert "Int::add_v0" in result[call.id].marks[0].message
    assert type_of(result, call.id) == INT


def test_extra_arguments_are_still_checked() -> None:
    extra = b.var("nope")
    call = b.call("Int::add_v0", 1, 2, extra)
    result = check_expr(call)
    assert kinds(result) == [c.UNBOUND_VARIABLE, c.WRONG_ARITY]


def test_argument_of_the_wrong_type_is_marked_on_the_argument() -> None:
    arg = b.str_("1")
    result = check_expr(b.call("Int::add_v0", arg, 2))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == arg.id
    assert mark.message == "expected Int, found String"


def test_unknown_function() -> None:
    call = b.call("Nope::zzz_v0", b.var("x"))
    result = check_expr(call)
    assert sorted(marks_on(result, call.id)) == [c.UNKNOWN_FUNCTION]
    # the arguments are still checked
    assert kinds(result) == [c.UNBOUND_VARIABLE, c.UNKNOWN_FUNCTION]
    assert type_of(result, call.id) == UNKNOWN


def test_unknown_version_says_which_versions_exist() -> None:
    call = b.call("Dict::get_v9", b.hole(), "k")
    result = check_expr(call)
    assert marks_on(result, call.id) == [c.UNKNOWN_VERSION]
    message = result[call.id].marks[0].message
    assert "v0" in message and "v1" in message and "v2" in message and "9" in message


def test_deprecated_function_is_not_an_error_and_returns_unknown() -> None:
    dict_ = b.call("Dict::singleton_v0", "k", 1)
    call = b.call("Dict::get_v0", dict_, "k")
    result = check_expr(call)
    assert clean(result)
    assert type_of(result, call.id) == UNKNOWN
    assert type_of(result, dict_.id) == TDict(INT)


def test_dict_get_v2_returns_an_option_of_the_value_type() -> None:
    call = b.call("Dict::get_v2", b.call("Dict::singleton_v0", "k", 1), "k")
    result = check_expr(call)
    assert clean(result)
    assert type_of(result, call.id) == TOption(INT)


def test_type_variables_are_fresh_per_call() -> None:
    first = b.call("List::singleton_v0", 1)
    second = b.call("List::singleton_v0", "s")
    result = check_expr(b.list_(b.let("a", first, b.hole()), second))
    assert clean(result)
    assert type_of(result, first.id) == TList(INT)
    assert type_of(result, second.id) == TList(STRING)


def test_type_variable_shared_by_arguments_must_agree() -> None:
    val = b.str_("s")
    result = check_expr(b.call("List::push_v0", b.list_(1), val))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == val.id
    assert mark.message == "expected Int, found String"


def test_list_map_gives_the_lambda_its_element_type() -> None:
    lam = b.lam(["x"], b.infix("+", b.var("x"), 1))
    call = b.call("List::map_v0", b.list_(1, 2), lam)
    result = check_expr(call)
    assert clean(result)
    assert type_of(result, lam.params[0].id) == INT
    assert type_of(result, lam.id) == TFn((INT,), INT)
    assert type_of(result, call.id) == TList(INT)


def test_list_map_result_follows_the_lambda_body() -> None:
    call = b.call("List::map_v0", b.list_(1), b.lam(["x"], b.call("Int::toFloat_v0", b.var("x"))))
    assert type_of(check_expr(call), call.id) == TList(FLOAT)


def test_lambda_body_is_checked_with_the_inferred_parameter_type() -> None:
    x = b.var("x")
    call = b.call("List::map_v0", b.list_("a"), b.lam(["x"], b.infix("+", x, 1)))
    result = check_expr(call)
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == x.id
    assert mark.message == "expected Int, found String"


def test_list_fold_infers_accumulator_and_element() -> None:
    lam = b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.call("String::length_v1", b.var("x"))))
    call = b.call("List::fold_v0", b.list_("a", "bc"), 0, lam)
    result = check_expr(call)
    assert clean(result)
    assert type_of(result, lam.params[0].id) == INT
    assert type_of(result, lam.params[1].id) == STRING
    assert type_of(result, call.id) == INT


def test_lambda_with_the_wrong_number_of_parameters() -> None:
    lam = b.lam(["x", "y"], b.var("x"))
    result = check_expr(b.call("List::map_v0", b.list_(1), lam))
    assert marks_on(result, lam.id) == [c.WRONG_ARITY]
    assert kinds(result) == [c.WRONG_ARITY]


def test_lambda_without_a_context_has_unknown_params() -> None:
    lam = b.lam(["x"], b.var("x"))
    result = check_expr(lam)
    assert clean(result)
    assert type_of(result, lam.params[0].id) == UNKNOWN
    assert isinstance(type_of(result, lam.id), TFn)


def test_lambda_where_a_non_function_is_expected() -> None:
    lam = b.lam(["x"], 1)
    result = check_expr(b.call("Int::add_v0", lam, 1))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == lam.id
    assert mark.expected == INT


def test_rail_unwraps_option_and_result() -> None:
    opt = b.call("List::head_v1", b.list_(1), rail=True)
    res = b.call("Int::parse_v0", "1", rail=True)
    result = check_expr(b.list_(opt, res))
    assert clean(result)
    assert type_of(result, opt.id) == INT
    assert type_of(result, res.id) == INT


def test_rail_on_a_call_that_is_not_option_or_result_is_marked() -> None:
    call = b.call("Int::add_v0", 1, 2, rail=True)
    result = check_expr(call)
    assert marks_on(result, call.id) == [c.NOT_RAILABLE]
    assert "Int" in result[call.id].marks[0].message


def test_rail_on_an_unknown_result_is_fine() -> None:
    call = b.call("Json::parse_v0", "1", rail=True)
    result = check_expr(call)
    assert clean(result)
    assert type_of(result, call.id) == UNKNOWN


# ------------------------------------------------------------- user functions


def test_user_function_binds_params_and_checks_body_against_return_type() -> None:
    fn = b.function("double", [("n", INT)], INT, b.infix("*", b.var("n"), 2))
    result = check_toplevel(fn)
    assert clean(result)
    assert type_of(result, fn.tlid) == TFn((INT,), INT)
    assert type_of(result, fn.params[0].id) == INT


def test_user_function_body_of_the_wrong_type() -> None:
    fn = b.function("f", [("n", INT)], INT, b.str_("no"))
    result = check_toplevel(fn)
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == fn.body.id
    assert mark.message == "expected Int, found String"


def test_user_function_can_call_itself_without_a_program() -> None:
    fn = b.function("loop", [("n", INT)], INT, b.hole(), fn_id=777)
    rec = b.user_call(UserFnRef(777, 0), b.infix("-", b.var("n"), 1))
    import attrs

    fn = attrs.evolve(fn, body=rec)
    result = check_toplevel(fn)
    assert clean(result)
    assert type_of(result, rec.id) == INT


def test_user_function_calls_use_the_program() -> None:
    fn = b.function("greet", [("name", STRING)], STRING, b.infix("++", "hi ", b.var("name")))
    program = Program.from_toplevels([fn])
    good = b.user_call(fn, "bob")
    result = check_expr(good, program=program)
    assert clean(result)
    assert type_of(result, good.id) == STRING
    bad_arg = b.int_(1)
    result = check_expr(b.user_call(fn, bad_arg), program=program)
    assert the_mark(result, c.TYPE_MISMATCH)[0] == bad_arg.id
    few = b.user_call(fn)
    assert marks_on(check_expr(few, program=program), few.id) == [c.WRONG_ARITY]


def test_user_function_unknown_and_unknown_version() -> None:
    fn = b.function("greet", [], STRING, "hi", fn_id=501)
    program = Program.from_toplevels([fn])
    missing = b.user_call(UserFnRef(999, 0))
    assert marks_on(check_expr(missing, program=program), missing.id) == [c.UNKNOWN_FUNCTION]
    wrong_version = b.user_call(UserFnRef(501, 3))
    result = check_expr(wrong_version, program=program)
    assert marks_on(result, wrong_version.id) == [c.UNKNOWN_VERSION]
    assert "greet" in result[wrong_version.id].marks[0].message
    assert "v0" in result[wrong_version.id].marks[0].message


def test_duplicate_parameter_names() -> None:
    fn = b.function("f", [("a", INT), ("a", INT)], INT, b.var("a"))
    result = check_toplevel(fn)
    assert marks_on(result, fn.params[1].id) == [c.DUPLICATE_NAME]
    lam = b.lam(["x", "x"], 1)
    assert marks_on(check_expr(lam), lam.params[1].id) == [c.DUPLICATE_NAME]


# ---------------------------------------------------------------- handlers


def test_handler_env_for_each_kind() -> None:
    http = b.http("GET", "/users/:id", b.hole())
    assert handler_env(http) == {"request": REQUEST_TYPE, "id": STRING}
    assert REQUEST_TYPE.field("query") == TDict(STRING)
    assert REQUEST_TYPE.field("headers") == TDict(STRING)
    assert REQUEST_TYPE.field("body") == UNKNOWN
    assert REQUEST_TYPE.field("path") == STRING
    assert REQUEST_TYPE.field("method") == STRING
    assert handler_env(b.worker("q", b.hole())) == {"event": UNKNOWN}
    assert handler_env(b.cron("daily", 60, b.hole())) == {}
    assert handler_env(b.repl("r", b.hole())) == {}


def test_request_fields_in_an_http_handler() -> None:
    q = b.field(b.field(b.var("request"), "query"), "page")
    h = b.http("GET", "/", q)
    result = check_toplevel(h)
    assert clean(result)
    assert type_of(result, q.id) == STRING


def test_worker_binds_event_and_cron_binds_nothing() -> None:
    w = b.worker("q", b.var("event"))
    assert clean(check_toplevel(w))
    req = b.var("request")
    result = check_toplevel(b.cron("daily", 60, req))
    assert marks_on(result, req.id) == [c.UNBOUND_VARIABLE]


# ----------------------------------------------------------------- infix


def test_infix_library_operators_type_as_their_function() -> None:
    plus = b.infix("+", 1, 2)
    concat = b.infix("++", "a", "b")
    less = b.infix("<", 1, 2)
    result = check_expr(b.list_(b.let("a", plus, b.let("b", concat, less))))
    assert clean(result)
    assert (type_of(result, plus.id), type_of(result, concat.id), type_of(result, less.id)) == \
        (INT, STRING, BOOL)
    bad = b.float_(1.0)
    result = check_expr(b.infix("+", 1, bad))
    assert the_mark(result, c.TYPE_MISMATCH)[0] == bad.id


def test_and_or_need_bools() -> None:
    bad = b.int_(1)
    expr = b.infix("&&", True, bad)
    result = check_expr(expr)
    assert the_mark(result, c.TYPE_MISMATCH)[0] == bad.id
    assert type_of(result, expr.id) == BOOL


def test_equality_needs_consistent_sides() -> None:
    ok = b.infix("==", 1, b.hole())
    result = check_expr(ok)
    assert clean(result)
    assert type_of(result, ok.id) == BOOL
    right = b.str_("1")
    result = check_expr(b.infix("!=", 1, right))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == right.id
    assert mark.message == "expected Int, found String"


def test_unknown_operator() -> None:
    expr = b.infix("??", b.var("nope"), 1)
    result = check_expr(expr)
    assert marks_on(result, expr.id) == [c.UNKNOWN_OPERATOR]
    assert kinds(result) == [c.UNBOUND_VARIABLE, c.UNKNOWN_OPERATOR]


# ------------------------------------------------------------------- pipes


def test_pipe_flows_the_value_into_targets() -> None:
    lam = b.lam(["x"], b.infix("*", b.var("x"), 2))
    mapped = b.call("List::map_v0", b.target(), lam)
    length = b.call("List::length_v0", b.target())
    pipe = b.pipe(b.list_(1, 2), mapped, length)
    result = check_expr(pipe)
    assert clean(result)
    assert type_of(result, lam.params[0].id) == INT
    assert type_of(result, mapped.id) == TList(INT)
    assert type_of(result, pipe.id) == INT


def test_pipe_hole_step_passes_the_type_on() -> None:
    pipe = b.pipe("s", b.hole(), b.call("String::length_v1", b.target()))
    result = check_expr(pipe)
    assert clean(result)
    assert type_of(result, pipe.id) == INT


def test_pipe_lambda_step_is_applied() -> None:
    lam = b.lam(["x"], b.infix("++", b.var("x"), "!"))
    pipe = b.pipe("s", lam)
    result = check_expr(pipe)
    assert clean(result)
    assert type_of(result, lam.params[0].id) == STRING
    assert type_of(result, pipe.id) == STRING


def test_pipe_target_type_mismatch_is_marked() -> None:
    t = b.target()
    result = check_expr(b.pipe(1, b.call("String::length_v1", t)))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == t.id
    assert mark.message == "expected String, found Int"


def test_pipe_target_outside_a_pipe() -> None:
    t = b.target()
    result = check_expr(b.call("Int::add_v0", t, 1))
    assert marks_on(result, t.id) == [c.PIPE_TARGET_OUTSIDE_PIPE]
    head_target = b.target()
    result = check_expr(b.pipe(head_target, b.hole()))
    assert marks_on(result, head_target.id) == [c.PIPE_TARGET_OUTSIDE_PIPE]


# ------------------------------------------------------------------ fields


def test_unknown_field_on_a_record_literal() -> None:
    access = b.field(b.record(a=1), "b")
    result = check_expr(access)
    assert marks_on(result, access.id) == [c.UNKNOWN_FIELD]
    assert type_of(result, access.id) == UNKNOWN
    good = b.field(b.record(a=1), "a")
    assert type_of(check_expr(good), good.id) == INT


def test_fields_of_a_user_record_type() -> None:
    point = b.record_type("Point", [("x", INT), ("y", INT)])
    program = Program.from_toplevels([point])
    fn = b.function("getX", [("p", TUser(point.type_id, 0))], INT, b.field(b.var("p"), "x"))
    assert clean(check_toplevel(fn, program))
    bad = b.field(b.var("p"), "z")
    fn2 = b.function("getZ", [("p", TUser(point.type_id, 0))], INT, bad)
    result = check_toplevel(fn2, program)
    assert marks_on(result, bad.id) == [c.UNKNOWN_FIELD]
    assert "x, y" in result[bad.id].marks[0].message


def test_field_of_a_dict_is_its_value_and_of_unknown_is_unknown() -> None:
    d = b.field(b.call("Dict::singleton_v0", "k", 1.5), "k")
    u = b.field(b.var("event"), "x")
    result = check_expr(b.list_(b.let("a", d, u)), env={"event": UNKNOWN})
    assert clean(result)
    assert type_of(result, d.id) == FLOAT


def test_field_of_a_non_record_is_marked() -> None:
    access = b.field(1, "x")
    assert marks_on(check_expr(access), access.id) == [c.NOT_A_RECORD]


def test_record_literal_fits_a_user_record_type() -> None:
    point = b.record_type("Point", [("x", INT), ("y", INT)])
    program = Program.from_toplevels([point])
    fn = b.function("origin", [], TUser(point.type_id, 0), b.record(x=0, y=0))
    assert clean(check_toplevel(fn, program))
    wrong = b.str_("0")
    fn = b.function("origin", [], TUser(point.type_id, 0), b.record(x=0, y=wrong))
    result = check_toplevel(fn, program)
    assert the_mark(result, c.TYPE_MISMATCH)[0] == wrong.id
    missing = b.record(x=0)
    fn = b.function("origin", [], TUser(point.type_id, 0), missing)
    result = check_toplevel(fn, program)
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == missing.id
    assert mark.message == "expected Point_v0, found {x: Int}"


# ------------------------------------------------------------ constructors


def test_option_and_result_constructors() -> None:
    just = b.just(1)
    ok = b.ok("s")
    result = check_expr(b.list_(b.let("a", just, ok)))
    assert clean(result)
    assert type_of(result, just.id) == TOption(INT)
    assert type_of(result, ok.id) == TResult(STRING, UNKNOWN)


def test_constructor_argument_checked_against_the_expected_type() -> None:
    arg = b.str_("s")
    result = check_expr(b.list_(b.just(1), b.just(arg)))
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == arg.id
    assert mark.message == "expected Int, found String"


def test_constructor_with_the_wrong_number_of_arguments() -> None:
    ctor = b.ctor("Just", 1, 2)
    assert marks_on(check_expr(ctor), ctor.id) == [c.WRONG_ARITY]
    nothing = b.ctor("Nothing", 1)
    assert marks_on(check_expr(nothing), nothing.id) == [c.WRONG_ARITY]


def test_user_enum_constructor_by_unique_name_and_by_type_ref() -> None:
    color = color_type()
    program = Program.from_toplevels([color])
    by_name = b.ctor("Rgb", 1, 2)
    by_ref = b.ctor("Red", type_ref=TypeRef(color.type_id, 0))
    result = check_expr(b.list_(by_name, by_ref), program=program)
    assert clean(result)
    assert type_of(result, by_name.id) == TUser(color.type_id, 0)
    bad = b.str_("x")
    result = check_expr(b.ctor("Rgb", 1, bad), program=program)
    assert the_mark(result, c.TYPE_MISMATCH)[0] == bad.id


def test_unknown_constructor() -> None:
    color = color_type()
    program = Program.from_toplevels([color])
    nope = b.ctor("Blue")
    result = check_expr(nope, program=program)
    assert marks_on(result, nope.id) == [c.UNKNOWN_CONSTRUCTOR]
    wrong_case = b.ctor("Blue", type_ref=TypeRef(color.type_id, 0))
    result = check_expr(wrong_case, program=program)
    assert marks_on(result, wrong_case.id) == [c.UNKNOWN_CONSTRUCTOR]
    assert "Red" in result[wrong_case.id].marks[0].message


def test_constructor_shared_by_two_enums_is_ambiguous_unless_expected() -> None:
    color = color_type()
    light = b.enum_type("Light", [("Red", []), ("Off", [])])
    program = Program.from_toplevels([color, light])
    red = b.ctor("Red")
    assert marks_on(check_expr(red, program=program), red.id) == [c.AMBIGUOUS_CONSTRUCTOR]
    red = b.ctor("Red")
    result = check_expr(red, program=program, expected=TUser(light.type_id, 0))
    assert clean(result)
    assert type_of(result, red.id) == TUser(light.type_id, 0)


def test_unknown_type_ref_on_a_constructor() -> None:
    ctor = b.ctor("Red", type_ref=TypeRef(424242, 0))
    assert marks_on(check_expr(ctor), ctor.id) == [c.UNKNOWN_TYPE]


# -------------------------------------------------------------- user types


def test_unknown_type_in_declarations() -> None:
    missing = TUser(9999, 0)
    fn = b.function("f", [("p", TList(missing))], missing, b.hole())
    result = check_toplevel(fn)
    assert marks_on(result, fn.params[0].id) == [c.UNKNOWN_TYPE]
    assert marks_on(result, fn.tlid) == [c.UNKNOWN_TYPE]
    store = b.datastore("Users", TOption(missing))
    assert marks_on(check_toplevel(store), store.tlid) == [c.UNKNOWN_TYPE]
    rec = b.record_type("R", [("a", missing)])
    result = check_toplevel(rec)
    assert marks_on(result, rec.definition.fields[0].id) == [c.UNKNOWN_TYPE]


def test_unknown_type_version_says_which_exist() -> None:
    point = b.record_type("Point", [("x", INT)])
    program = Program.from_toplevels([point])
    fn = b.function("f", [("p", TUser(point.type_id, 4))], INT, 1)
    result = check_toplevel(fn, program)
    message = result[fn.params[0].id].marks[0].message
    assert "Point" in message and "v0" in message


def test_user_types_check_their_fields_and_cases() -> None:
    color = color_type()
    result = check_toplevel(color)
    assert clean(result)
    assert covers_every_node(color, result)
    assert type_of(result, color.tlid) == TUser(color.type_id, 0)
    # A type may name itself (a recursive type) without being in the program.
    tree = b.record_type("Tree", [("kids", TList(TUser(4242, 0)))], type_id=4242)
    assert clean(check_toplevel(tree))
    dupes = b.enum_type("D", [("A", []), ("A", [])])
    assert marks_on(check_toplevel(dupes), dupes.definition.cases[1].id) == [c.DUPLICATE_NAME]


# ------------------------------------------------------------------ matches


def test_pattern_variables_are_bound_with_the_scrutinee_parts() -> None:
    body = b.infix("+", b.var("x"), 1)
    m = b.match(b.just(1), (b.pctor("Just", b.pvar("x")), body), (b.pctor("Nothing"), 0))
    result = check_expr(m)
    assert clean(result)
    assert type_of(result, m.id) == INT
    assert type_of(result, m.arms[0].pattern.args[0].id) == INT  # type: ignore[attr-defined]
    assert type_of(result, m.arms[0].id) == INT


def test_match_arms_must_agree() -> None:
    other = b.str_("s")
    m = b.match(True, (b.pbool(True), 1), (b.pbool(False), other))
    result = check_expr(m)
    assert the_mark(result, c.TYPE_MISMATCH)[0] == other.id


def test_literal_pattern_must_fit_the_scrutinee() -> None:
    pat = b.pstr("a")
    m = b.match(1, (pat, 1), (b.pwild(), 2))
    result = check_expr(m)
    node_id, mark = the_mark(result, c.TYPE_MISMATCH)
    assert node_id == pat.id
    assert mark.message == "expected Int, found String"


def test_constructor_pattern_must_fit_the_scrutinee() -> None:
    pat = b.pctor("Ok", b.pwild())
    result = check_expr(b.match(b.just(1), (pat, 1), (b.pwild(), 2)))
    assert the_mark(result, c.TYPE_MISMATCH)[0] == pat.id


@pytest.mark.parametrize(
    ("scrutinee", "patterns", "missing"),
    [
        (True, [b.pbool(True)], "false"),
        (b.just(1), [b.pctor("Just", b.pvar("x"))], "Nothing"),
        (b.ok(1), [b.pctor("Ok", b.pvar("x"))], "Error _"),
        (b.just(b.ok(1)), [b.pctor("Just", b.pctor("Ok", b.pwild())), b.pctor("Nothing")],
         "Just (Error _)"),
        (1, [b.pint(1), b.pint(2)], None),
    ],
)
def test_non_exhaustive_match_says_what_is_missing(scrutinee: Any, patterns: list[Any],
                                                   missing: str | None) -> None:
    m = b.match(scrutinee, *[(p, 0) for p in patterns])
    result = check_expr(m)
    assert marks_on(result, m.id) == [c.NON_EXHAUSTIVE_MATCH]
    if missing is not None:
        assert missing in result[m.id].marks[0].message


@pytest.mark.parametrize(
    ("scrutinee", "patterns"),
    [
        (True, [b.pbool(True), b.pbool(False)]),
        (b.just(1), [b.pctor("Just", b.pvar("x")), b.pctor("Nothing")]),
        (b.ok(1), [b.pctor("Error", b.pwild()), b.pctor("Ok", b.pint(1)),
                   b.pctor("Ok", b.pvar("n"))]),
        (1, [b.pint(1), b.pvar("n")]),
        (b.hole(), [b.pctor("Just", b.pwild()), b.pctor("Nothing")]),
        (b.null(), [b.pnull()]),
    ],
)
def test_exhaustive_matches_are_clean(scrutinee: Any, patterns: list[Any]) -> None:
    m = b.match(scrutinee, *[(p, 0) for p in patterns])
    assert clean(check_expr(m))


def test_user_enum_exhaustiveness_lists_the_missing_cases() -> None:
    color = color_type()
    program = Program.from_toplevels([color])
    fn = b.function("f", [("c", TUser(color.type_id, 0))], INT,
                    b.match(b.var("c"), (b.pctor("Red"), 1)))
    result = check_toplevel(fn, program)
    _, mark = the_mark(result, c.NON_EXHAUSTIVE_MATCH)
    assert "Green" in mark.message and "Rgb _ _" in mark.message
    full = b.match(b.var("c"), (b.pctor("Red"), 1), (b.pctor("Green"), 2),
                   (b.pctor("Rgb", b.pvar("r"), b.pvar("g")), b.var("r")))
    fn = b.function("f", [("c", TUser(color.type_id, 0))], INT, full)
    assert clean(check_toplevel(fn, program))


def test_enum_pattern_with_the_wrong_number_of_arguments() -> None:
    color = color_type()
    program = Program.from_toplevels([color])
    pat = b.pctor("Rgb", b.pwild())
    result = check_expr(b.match(b.ctor("Red"), (pat, 1), (b.pwild(), 2)), program=program)
    assert marks_on(result, pat.id) == [c.WRONG_ARITY]


def test_redundant_arm_after_a_catch_all() -> None:
    m = b.match(1, (b.pvar("n"), 1), (b.pint(2), 2))
    result = check_expr(m)
    assert marks_on(result, m.arms[1].id) == [c.REDUNDANT_ARM]
    assert kinds(result) == [c.REDUNDANT_ARM]


@pytest.mark.parametrize(
    ("scrutinee", "patterns", "redundant"),
    [
        (b.just(1), [b.pctor("Nothing"), b.pctor("Just", b.pwild()), b.pctor("Nothing")], 2),
        (1, [b.pint(3), b.pint(3), b.pwild()], 1),
        (True, [b.pbool(True), b.pbool(False), b.pwild()], 2),
        (b.just(1), [b.pctor("Just", b.pvar("x")), b.pctor("Just", b.pint(1)),
                     b.pctor("Nothing")], 1),
    ],
)
def test_redundant_arm_already_covered(scrutinee: Any, patterns: list[Any],
                                       redundant: int) -> None:
    m = b.match(scrutinee, *[(p, 0) for p in patterns])
    result = check_expr(m)
    assert [i for i, mark in all_marks(result) if mark.kind == c.REDUNDANT_ARM] == \
        [m.arms[redundant].id]
    assert kinds(result) == [c.REDUNDANT_ARM]


def test_pattern_hole_matches_nothing_and_is_not_redundant() -> None:
    m = b.match(True, (b.pbool(True), 1), (b.phole(), 2))
    result = check_expr(m)
    assert kinds(result) == [c.NON_EXHAUSTIVE_MATCH]


# ------------------------------------------------------------------- flags


def test_flag_condition_must_be_bool() -> None:
    cond = b.int_(1)
    result = check_expr(b.flag("f", cond, 1, 2))
    assert marks_on(result, cond.id) == [c.FLAG_CONDITION_NOT_BOOL]
    assert kinds(result) == [c.FLAG_CONDITION_NOT_BOOL]


def test_flag_condition_may_be_a_hole_and_type_joins_old_and_new() -> None:
    flag = b.flag("f", b.hole(), b.hole(), 2)
    result = check_expr(flag)
    assert clean(result)
    assert type_of(result, flag.id) == INT
    flag = b.flag("f", b.infix("==", 1, 1), b.list_(), b.list_("a"))
    result = check_expr(flag)
    assert clean(result)
    assert type_of(result, flag.id) == TList(STRING)


def test_flag_branches_must_agree() -> None:
    new = b.str_("x")
    result = check_expr(b.flag("f", True, 1, new))
    assert the_mark(result, c.TYPE_MISMATCH)[0] == new.id


# ---------------------------------------------------------------- partials


def test_partial_has_its_old_expression_type() -> None:
    p = b.partial("Str", b.int_(3))
    result = check_expr(p)
    assert clean(result)
    assert type_of(result, p.id) == INT


def test_right_partial_has_its_left_type() -> None:
    rp = b.rpartial("+", "s")
    result = check_expr(rp)
    assert clean(result)
    assert type_of(result, rp.id) == STRING


def test_partial_mismatch_is_marked_once_on_the_old_expression() -> None:
    old = b.str_("s")
    result = check_expr(b.call("Int::add_v0", b.partial("x", old), 1))
    assert [i for i, _ in all_marks(result)] == [old.id]


# ---------------------------------------------------- consistency and join


def test_consistent_is_gradual_and_structural() -> None:
    assert consistent(UNKNOWN, INT)
    assert consistent(TList(UNKNOWN), TList(INT))
    assert not consistent(TList(STRING), TList(INT))
    assert not consistent(INT, FLOAT)
    assert consistent(TFn((INT,), UNKNOWN), TFn((INT,), BOOL))
    assert not consistent(TFn((INT,), BOOL), TFn((INT, INT), BOOL))
    assert consistent(TResult(INT, UNKNOWN), TResult(INT, STRING))
    assert consistent(TVar("a"), TDict(INT))


def test_consistent_resolves_user_types_through_the_program() -> None:
    point = b.record_type("Point", [("x", INT)])
    other = b.record_type("Other", [("x", INT)])
    program = Program.from_toplevels([point, other])
    p, o = TUser(point.type_id, 0), TUser(other.type_id, 0)
    assert consistent(p, TRecord((TRecordField("x", INT),)), program)
    assert consistent(TRecord((TRecordField("x", UNKNOWN),)), p, program)
    assert not consistent(p, TRecord((TRecordField("y", INT),)), program)
    assert not consistent(p, o, program)
    assert consistent(p, p, program)


def test_join_takes_the_more_precise_side() -> None:
    assert join(UNKNOWN, INT) == INT
    assert join(TList(UNKNOWN), TList(INT)) == TList(INT)
    assert join(TResult(INT, UNKNOWN), TResult(UNKNOWN, STRING)) == TResult(INT, STRING)
    assert join(INT, STRING) is None


# ---------------------------------------------------------------- totality


def test_mark_kinds_are_unique_and_include_every_constant() -> None:
    assert len(set(MARK_KINDS)) == len(MARK_KINDS)
    constants = {v for k, v in vars(c).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(MARK_KINDS)


def test_every_node_of_a_toplevel_gets_an_entry() -> None:
    fn = b.function(
        "f", [("xs", TList(INT))], INT,
        b.match(b.call("List::head_v1", b.var("xs")),
                (b.pctor("Just", b.pvar("x")), b.pipe(b.var("x"), b.lam(["y"], b.var("y")))),
                (b.pctor("Nothing"), b.field(b.record(a=1), "a"))),
    )
    result = check_toplevel(fn)
    assert clean(result)
    assert covers_every_node(fn, result)


def test_deep_tree_does_not_raise_and_covers_every_node() -> None:
    expr: Expr = b.var("x")
    for i in range(5000):
        expr = ELet(100_000 + i, "x", EVariable(200_000 + i, "x"), expr)
    result = check_expr(expr)
    assert covers_every_node(expr, result)
    assert all(m.kind != c.INTERNAL_ERROR for _, m in all_marks(result))


def test_show_in_messages_uses_the_program_type_names() -> None:
    point = b.record_type("Point", [("x", INT)])
    program = Program.from_toplevels([point])
    arg = b.int_(1)
    fn = b.function("f", [("p", TUser(point.type_id, 0))], INT, 1)
    program = Program.from_toplevels([point, fn])
    result = check_expr(b.user_call(fn, arg), program=program)
    assert the_mark(result, c.TYPE_MISMATCH)[1].message == "expected Point_v0, found Int"
    assert show_type(TUser(point.type_id, 0), program.type_names()) == "Point_v0"


def test_unknown_library_ref_kinds() -> None:
    call = b.call("Int::add_v0", 1, 2)
    assert isinstance(call.fn, LibFnRef)
    assert clean(check_expr(call))


def test_hole_expected_type_is_solved_from_the_other_arguments() -> None:
    hole = b.hole()
    result = check_expr(b.call("List::push_v0", b.list_("a"), hole))
    assert clean(result)
    assert result[hole.id].expected == STRING


def test_datastore_has_its_schema_type() -> None:
    store = b.datastore("Users", TDict(INT))
    result = check_toplevel(store)
    assert clean(result)
    assert type_of(result, store.tlid) == TDict(INT)
