"""The command-palette refactorings (`editor.model.refactor`, `editor.model.flags`).

Every command runs on real programs built with `shared_ast.build`; its ops are
applied with `apply_to_canvas` as the runtime would, the result is checked and
run, and the inverse ops, in reverse order, must give back the canvas exactly.
Commands that keep meaning are run before and after; those that change it are
held to the value they promise. Property tests do the same for generated toplevels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import strip_ids, toplevels

from editor.model.flags import commit_flag, discard_flag, wrap_in_flag
from editor.model.refactor import (
    Edit,
    RefactorError,
    extract_function,
    extract_variable,
    insert_let_above,
    rename_variable,
    resolve_variables,
    with_fresh_ids,
    wrap_in_if,
    wrap_in_let,
    wrap_in_match,
)
from shared_ast import build as b
from shared_ast import traverse
from shared_ast.apply import apply, apply_to_canvas, invert, same_tree
from shared_ast.checker import check_toplevel
from shared_ast.evaluator import call_user_function, run_toplevel
from shared_ast.nodes import (
    ECall,
    EFlag,
    EHole,
    EIf,
    ELet,
    EMatch,
    EPipe,
    EVariable,
    Expr,
    LambdaParam,
    LibFnRef,
    Param,
    PHole,
    PVariable,
    UserFnRef,
)
from shared_ast.ops import CreateToplevel, ReplaceNode, SetName
from shared_ast.program import Program
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.type_ast import INT, TRecord
from shared_ast.values import (
    Closure,
    ErrorRail,
    ErrorValue,
    FrozenDict,
    Incomplete,
    Response,
    Variant,
)

Canvas = dict[int, Toplevel]


# ------------------------------------------------------------------ helpers


def canvas_of(*tls: Toplevel) -> Canvas:
    return {tl.tlid: tl for tl in tls}


def applied(edit: Edit, canvas: Canvas) -> Canvas:
    """The canvas after the edit; also checks that undoing it restores the canvas exactly."""
    after = apply_to_canvas(edit.ops, canvas)
    undone = apply_to_canvas([invert(op) for op in reversed(edit.ops)], after)
    assert undone.keys() == canvas.keys()
    for tlid, tl in canvas.items():
        assert same_tree(undone[tlid], tl)
    return after


def run(canvas: Mapping[int, Toplevel], tlid: int, **inputs: Any) -> Any:
    return run_toplevel(canvas[tlid], inputs, Program.from_toplevels(canvas.values()))


def marks(canvas: Mapping[int, Toplevel], tlid: int) -> list[str]:
    infos = check_toplevel(canvas[tlid], Program.from_toplevels(canvas.values()))
    return [m.kind for info in infos.values() for m in info.marks]


def node(canvas: Mapping[int, Toplevel], tlid: int, node_id: int) -> Any:
    found = traverse.find(canvas[tlid], node_id)
    assert found is not None, f"node {node_id} is not in toplevel {tlid}"
    return found


def sum_handler() -> tuple[Handler, dict[str, Expr]]:
    """GET /sum/:a/:b → a + b * 2, with the parts a test aims at."""
    parsed_a = b.call("Int::parse_v0", b.var("a"), rail=True)
    use_x, use_y = b.var("x"), b.var("y")
    doubled = b.infix("*", use_y, 2)
    total = b.infix("+", use_x, doubled)
    let_y = b.let("y", b.call("Int::parse_v0", b.var("b"), rail=True), total)
    let_x = b.let("x", parsed_a, let_y)
    parts = {"parsed_a": parsed_a, "x": use_x, "y": use_y, "doubled": doubled, "total": total,
             "let_x": let_x, "let_y": let_y}
    return b.http("GET", "/sum/:a/:b", let_x), parts


# -------------------------------------------------------------------- wraps


def test_wrap_in_let_moves_the_expression_into_a_blank_let_above_a_hole() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    doubled = parts["doubled"]
    edit = wrap_in_let(canvas, h.tlid, doubled.id)
    after = applied(edit, canvas)
    assert len(edit.ops) == 1
    let = node(after, h.tlid, edit.caret[1])
    assert isinstance(let, ELet) and let.name == "" and isinstance(let.body, EHole)
    assert let.rhs is doubled  # moved, not copied: it keeps its id
    assert node(after, h.tlid, parts["total"].id).right is let
    # Until the body is written the let is unfinished, and so is the sum.
    assert run(after, h.tlid, a="3", b="4") == Incomplete(let.body.id)
    assert marks(after, h.tlid) == []


def test_wrap_in_if_puts_the_caret_on_the_condition() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    edit = wrap_in_if(canvas, h.tlid, parts["total"].id)
    after = applied(edit, canvas)
    wrapped = node(after, h.tlid, parts["let_y"].id).body
    assert isinstance(wrapped, EIf) and wrapped.then is parts["total"]
    assert edit.caret == (h.tlid, wrapped.cond.id) and isinstance(wrapped.cond, EHole)
    assert run(after, h.tlid, a="3", b="4") == Incomplete(wrapped.cond.id)
    filled = apply(ReplaceNode(h.tlid, wrapped.cond.id, wrapped.cond, b.bool_(True)),
                   after[h.tlid])
    assert run({h.tlid: filled}, h.tlid, a="3", b="4") == 11


def test_wrap_in_match_puts_the_caret_on_the_first_pattern() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    edit = wrap_in_match(canvas, h.tlid, parts["doubled"].id)
    after = applied(edit, canvas)
    wrapped = node(after, h.tlid, parts["total"].id).right
    assert isinstance(wrapped, EMatch) and wrapped.scrutinee is parts["doubled"]
    (arm,) = wrapped.arms
    assert isinstance(arm.pattern, PHole) and isinstance(arm.body, EHole)
    assert edit.caret == (h.tlid, arm.pattern.id)


def test_wraps_explain_a_missing_node_a_missing_toplevel_and_a_non_expression() -> None:
    h, _ = sum_handler()
    fn = b.function("twice", [("n", INT)], INT, b.infix("*", b.var("n"), 2))
    store = b.datastore("Notes", INT)
    canvas = canvas_of(h, fn, store)
    with pytest.raises(RefactorError, match=r"node 12345 is not in toplevel .*Put the caret"):
        wrap_in_let(canvas, h.tlid, 12345)
    with pytest.raises(RefactorError, match=r"no toplevel 777 on this canvas"):
        wrap_in_if(canvas, 777, h.body.id)
    with pytest.raises(RefactorError, match=r"needs an expression, but node .* function parameter"):
        wrap_in_match(canvas, fn.tlid, fn.params[0].id)
    with pytest.raises(RefactorError, match=r"needs an expression, but node .* whole handler"):
        wrap_in_let(canvas, h.tlid, h.tlid)
    with pytest.raises(RefactorError, match=r"works on code.*is a datastore"):
        wrap_in_flag(canvas, store.tlid, store.tlid)


# -------------------------------------------------------------------- flags


def test_wrap_in_flag_keeps_the_value_and_copies_the_old_code_with_new_ids() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    total = parts["total"]
    edit = wrap_in_flag(canvas, h.tlid, total.id)
    after = applied(edit, canvas)
    flag = node(after, h.tlid, parts["let_y"].id).body
    # Named from its handler's route and what it wraps (issue 12 #14).
    assert isinstance(flag, EFlag) and flag.name == "sum-a-b-sum"
    assert flag.old is total and edit.caret == (h.tlid, flag.cond.id)
    assert isinstance(flag.cond, EHole)
    # The copy has the same shape and none of the ids.
    old_ids = set(traverse.node_ids(total))
    assert old_ids.isdisjoint(traverse.node_ids(flag.new))
    assert _without_ids(flag.new) == _without_ids(total)
    assert run(after, h.tlid, a="3", b="4") == 11
    assert marks(after, h.tlid) == []


def test_wrap_in_flag_can_start_the_new_code_empty_and_names_each_flag_apart() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    first = applied(wrap_in_flag(canvas, h.tlid, parts["doubled"].id, new_from_old=False),
                    canvas)
    edit = wrap_in_flag(first, h.tlid, parts["x"].id, new_from_old=False)
    after = applied(edit, first)
    flags = [n for n in traverse.walk(after[h.tlid]) if isinstance(n, EFlag)]
    assert len(flags) == 2 and flags[0].name != flags[1].name
    assert all(isinstance(f.new, EHole) for f in flags)
    assert run(after, h.tlid, a="3", b="4") == 11


def flag_handler() -> tuple[Handler, EFlag, EFlag]:
    inner = b.flag("inner", True, b.int_(5), b.int_(7))
    outer = b.flag("outer", b.bool_(False), b.infix("+", 1, 1), b.infix("*", inner, 10))
    return b.repl("flags", b.let("v", outer, b.infix("+", b.var("v"), 1))), outer, inner


def test_commit_flag_keeps_the_new_code_in_one_op() -> None:
    h, outer, _ = flag_handler()
    canvas = canvas_of(h)
    assert run(canvas, h.tlid) == 3  # the condition is false: old code runs
    edit = commit_flag(canvas, h.tlid, outer.new.id)
    assert len(edit.ops) == 1
    after = applied(edit, canvas)
    assert node(after, h.tlid, h.body.id).rhs is outer.new
    assert edit.caret == (h.tlid, outer.new.id)
    assert run(after, h.tlid) == 71  # the new branch, whose inner flag is on
    assert marks(after, h.tlid) == []


def test_discard_flag_keeps_the_old_code_and_works_from_the_condition() -> None:
    h, outer, _ = flag_handler()
    canvas = canvas_of(h)
    edit = discard_flag(canvas, h.tlid, outer.cond.id)
    after = applied(edit, canvas)
    assert node(after, h.tlid, h.body.id).rhs is outer.old
    assert run(after, h.tlid) == 3


def test_flag_commands_settle_the_innermost_flag() -> None:
    h, outer, inner = flag_handler()
    canvas = canvas_of(h)
    after = applied(discard_flag(canvas, h.tlid, inner.new.id), canvas)
    still = node(after, h.tlid, outer.id)
    assert isinstance(still, EFlag) and still.new.left is inner.old
    with pytest.raises(RefactorError, match=r"not inside a feature flag; put the caret on a flag"):
        commit_flag(canvas, h.tlid, h.body.body.id)


# --------------------------------------------------------- extract variable


def test_extract_variable_binds_the_expression_above_its_statement() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    doubled, total = parts["doubled"], parts["total"]
    edit = extract_variable(canvas, h.tlid, doubled.id)
    after = applied(edit, canvas)
    let = node(after, h.tlid, parts["let_y"].id).body
    # Named from what it computes (issue 12 #14), with its name selected to type over.
    assert isinstance(let, ELet) and let.name == "product" and let.rhs is doubled
    assert let.body.id == total.id and let.body.right == EVariable(let.body.right.id, "product")
    assert edit.select_name
    assert edit.caret == (h.tlid, let.id)
    assert run(after, h.tlid, a="3", b="4") == 11
    assert marks(after, h.tlid) == []


def test_extract_variable_keeps_a_railing_call_on_the_rail() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    edit = extract_variable(canvas, h.tlid, parts["parsed_a"].id, name="parsed")
    after = applied(edit, canvas)
    top = after[h.tlid].body
    assert isinstance(top, ELet) and top.name == "parsed" and top.body.id == parts["let_x"].id
    assert run(after, h.tlid, a="3", b="4") == 11
    assert isinstance(run(after, h.tlid, a="three", b="4"), ErrorRail)
    assert isinstance(run(canvas, h.tlid, a="three", b="4"), ErrorRail)


def test_extract_variable_stays_inside_the_branch_it_came_from() -> None:
    doubled = b.infix("*", b.var("n"), 2)
    body = b.if_(b.infix(">", b.var("n"), 100), 100, doubled)
    fn = b.function("score", [("n", INT)], INT, body)
    canvas = canvas_of(fn)
    after = applied(extract_variable(canvas, fn.tlid, doubled.id), canvas)
    branch = node(after, fn.tlid, body.id).else_
    assert isinstance(branch, ELet) and branch.rhs is doubled
    program = Program.from_toplevels(after.values())
    for n, want in [(5, 10), (500, 100)]:
        assert run_toplevel(after[fn.tlid], {"n": n}, program) == want
    assert marks(after, fn.tlid) == []


def test_extract_variable_from_the_right_of_and_keeps_it_unevaluated() -> None:
    # `false && x` never runs x: hoisting a railing x above the && would leave early.
    railing = b.call("Int::parse_v0", "nine", rail=True)
    guard = b.infix("==", railing, 9)
    r = b.repl("r", b.infix("&&", False, guard))
    canvas = canvas_of(r)
    after = applied(extract_variable(canvas, r.tlid, railing.id), canvas)
    assert isinstance(node(after, r.tlid, r.body.id).right, ELet)
    assert run(canvas, r.tlid) is False and run(after, r.tlid) is False


def pipe_repl() -> tuple[Handler, dict[str, Expr]]:
    """`let offset = 1 in [1, 2, 3] |> List::map (\\x -> x + offset) |> Int::sum _`"""
    added = b.infix("+", b.var("x"), b.var("offset"))
    mapper = b.lam(["x"], added)
    mapping = b.call("List::map_v0", b.target(), mapper)
    piped = b.target()
    summing = b.call("Int::sum_v0", piped)
    pipe = b.pipe(b.list_(1, 2, 3), mapping, summing)
    parts = {"added": added, "mapper": mapper, "mapping": mapping, "piped": piped,
             "summing": summing, "pipe": pipe}
    return b.repl("pipes", b.let("offset", 1, pipe)), parts


def test_extract_variable_inside_a_lambda_keeps_its_parameter_in_scope() -> None:
    h, parts = pipe_repl()
    canvas = canvas_of(h)
    assert run(canvas, h.tlid) == 9
    after = applied(extract_variable(canvas, h.tlid, parts["added"].id, name="bumped"), canvas)
    body = node(after, h.tlid, parts["mapper"].id).body
    assert isinstance(body, ELet) and body.name == "bumped"
    assert run(after, h.tlid) == 9
    assert marks(after, h.tlid) == []


def test_extract_variable_of_the_piped_value_stays_in_its_step() -> None:
    h, parts = pipe_repl()
    canvas = canvas_of(h)
    after = applied(extract_variable(canvas, h.tlid, parts["piped"].id), canvas)
    pipe = node(after, h.tlid, parts["pipe"].id)
    assert isinstance(pipe, EPipe) and isinstance(pipe.steps[1], ELet)
    assert pipe.steps[1].rhs is parts["piped"]
    assert run(after, h.tlid) == 9
    assert marks(after, h.tlid) == []


def test_extract_variable_refuses_a_hole_a_bad_name_and_a_name_it_would_capture() -> None:
    h, parts = sum_handler()
    hole = b.hole()
    r = b.repl("r", b.list_(hole, 1))
    canvas = canvas_of(h, r)
    with pytest.raises(RefactorError, match=r"empty hole, so there is nothing to extract"):
        extract_variable(canvas, r.tlid, hole.id)
    with pytest.raises(RefactorError, match=r"'2x' is not a valid name"):
        extract_variable(canvas, h.tlid, parts["doubled"].id, name="2x")
    with pytest.raises(RefactorError, match=r"if is a keyword"):
        extract_variable(canvas, h.tlid, parts["doubled"].id, name="if")
    captured = f"already uses a variable x \\(node {parts['x'].id}\\)"
    with pytest.raises(RefactorError, match=captured):
        extract_variable(canvas, h.tlid, parts["doubled"].id, name="x")
    # `y` is used only inside the extracted part, so it is free to take.
    after = applied(extract_variable(canvas, h.tlid, parts["doubled"].id, name="y"), canvas)
    assert run(after, h.tlid, a="3", b="4") == 11


def test_a_fresh_variable_name_avoids_every_name_in_use() -> None:
    used = b.var("sum")
    e = b.infix("+", b.var("n"), 1)
    fn = b.function("f", [("n", INT)], INT, b.let("sum", 2, b.infix("+", used, e)))
    canvas = canvas_of(fn)
    edit = extract_variable(canvas, fn.tlid, e.id)
    let = node(applied(edit, canvas), fn.tlid, edit.caret[1])
    assert let.name == "sum2"


# --------------------------------------------------------- extract function


def test_extract_function_makes_a_function_of_the_expression_and_calls_it() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    total = parts["total"]
    edit = extract_function(canvas, h.tlid, total.id)
    create, replace = edit.ops
    assert isinstance(create, CreateToplevel) and isinstance(replace, ReplaceNode)
    after = applied(edit, canvas)
    fn = after[create.toplevel.tlid]
    assert isinstance(fn, UserFunction) and fn.name == "extracted"
    assert [(p.name, p.type) for p in fn.params] == [("x", INT), ("y", INT)]
    assert fn.return_type == INT
    assert set(traverse.node_ids(fn.body)).isdisjoint(traverse.node_ids(h))
    assert (fn.pos.x, fn.pos.y) != (h.pos.x, h.pos.y)
    assert edit.caret == (fn.tlid, fn.tlid)
    call = node(after, h.tlid, replace.new.id)
    assert isinstance(call, ECall) and call.fn == UserFnRef(fn.fn_id, fn.version)
    assert [a.name for a in call.args] == ["x", "y"]
    assert run(after, h.tlid, a="3", b="4") == 11
    program = Program.from_toplevels(after.values())
    assert call_user_function(fn, (3, 4), program) == 11
    assert marks(after, h.tlid) == [] and marks(after, fn.tlid) == []


def test_extract_function_passes_outer_variables_but_not_inner_ones_or_datastores() -> None:
    h, parts = pipe_repl()
    notes = b.datastore("Notes", INT)
    counted = b.infix("+", b.call("DB::count_v0", b.var("Notes_v0")), b.var("offset"))
    r = b.repl("count", b.let("offset", 1, counted))
    canvas = canvas_of(h, notes, r)
    after = applied(extract_function(canvas, h.tlid, parts["mapper"].id, name="bump"), canvas)
    fn = next(t for t in after.values() if isinstance(t, UserFunction))
    assert [p.name for p in fn.params] == ["offset"]  # x is the lambda's own
    assert run(after, h.tlid) == 9
    edit = extract_function(after, r.tlid, counted.id)
    (made,) = [t for t in applied(edit, after).values() if isinstance(t, UserFunction)
               and t.tlid != fn.tlid]
    assert [p.name for p in made.params] == ["offset"]  # Notes_v0 is global


def test_extract_function_types_the_request_parameter() -> None:
    path = b.field(b.var("request"), "path")
    h = b.http("GET", "/where", path)
    canvas = canvas_of(h)
    edit = extract_function(canvas, h.tlid, path.id, name="where")
    fn = edit.ops[0].toplevel
    assert fn.name == "where" and [p.name for p in fn.params] == ["request"]
    assert isinstance(fn.params[0].type, TRecord)
    after = applied(edit, canvas)
    assert marks(after, h.tlid) == [] and marks(after, fn.tlid) == []


def test_extract_function_refuses_the_piped_value_and_a_taken_name() -> None:
    h, parts = pipe_repl()
    other = b.function("extracted", [], INT, 1)
    canvas = canvas_of(h, other)
    with pytest.raises(RefactorError, match=r"value piped into this pipe step.*whole pipe"):
        extract_function(canvas, h.tlid, parts["summing"].id)
    with pytest.raises(RefactorError, match=r"already a function named extracted"):
        extract_function(canvas, h.tlid, parts["added"].id, name="extracted")
    edit = extract_function(canvas, h.tlid, parts["added"].id)
    assert edit.ops[0].toplevel.name == "extracted2"


# ---------------------------------------------------------- insert let above


def test_insert_let_above_the_statement_holding_the_caret() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    edit = insert_let_above(canvas, h.tlid, parts["doubled"].id)
    after = applied(edit, canvas)
    let = node(after, h.tlid, parts["let_y"].id).body
    assert isinstance(let, ELet) and let.name == "" and isinstance(let.rhs, EHole)
    assert let.body is parts["total"] and edit.caret == (h.tlid, let.id)
    assert run(after, h.tlid, a="3", b="4") == 11
    # From inside a let's right side, the new let goes above that let.
    after = applied(insert_let_above(canvas, h.tlid, parts["parsed_a"].id), canvas)
    assert after[h.tlid].body.body is parts["let_x"]


def test_insert_let_above_from_the_toplevel_or_a_parameter_goes_to_the_top() -> None:
    fn = b.function("f", [("n", INT)], INT, b.infix("+", b.var("n"), 1))
    canvas = canvas_of(fn)
    for target in (fn.tlid, fn.params[0].id):
        after = applied(insert_let_above(canvas, fn.tlid, target), canvas)
        assert after[fn.tlid].body.body is fn.body
        assert run_toplevel(after[fn.tlid], {"n": 1}, Program()) == 2


# -------------------------------------------------------------------- rename


def test_rename_a_let_renames_its_uses_and_nothing_else() -> None:
    inner_use, outer_use = b.var("x"), b.var("x")
    inner = b.let("x", 2, inner_use)
    outer = b.let("x", 1, b.infix("+", inner, outer_use))
    r = b.repl("r", outer)
    canvas = canvas_of(r)
    edit = rename_variable(canvas, r.tlid, outer.id, "first")
    assert {(op.node_id, op.old, op.new) for op in edit.ops} == {
        (outer.id, "x", "first"), (outer_use.id, "x", "first")}
    after = applied(edit, canvas)
    assert node(after, r.tlid, inner.id).name == "x"
    assert node(after, r.tlid, inner_use.id).name == "x"
    assert run(after, r.tlid) == 3 and edit.caret == (r.tlid, outer.id)


def test_rename_from_a_use_renames_its_binder() -> None:
    h, parts = sum_handler()
    canvas = canvas_of(h)
    edit = rename_variable(canvas, h.tlid, parts["y"].id, "second")
    assert all(isinstance(op, SetName) for op in edit.ops)
    after = applied(edit, canvas)
    assert node(after, h.tlid, parts["let_y"].id).name == "second"
    assert run(after, h.tlid, a="3", b="4") == 11 and marks(after, h.tlid) == []


def test_rename_lambda_pattern_and_function_parameters() -> None:
    h, parts = pipe_repl()
    param = parts["mapper"].params[0]
    canvas = canvas_of(h)
    after = applied(rename_variable(canvas, h.tlid, param.id, "item"), canvas)
    assert node(after, h.tlid, param.id) == LambdaParam(param.id, "item")
    assert run(after, h.tlid) == 9

    bound = b.pvar("n")
    scrutinee = b.call("Int::parse_v0", b.var("a"))
    m = b.match(scrutinee, (b.pctor("Ok", bound), b.infix("+", b.var("n"), 1)),
                (b.pctor("Error", b.pwild()), 0))
    handler = b.http("GET", "/next/:a", m)
    canvas = canvas_of(handler)
    after = applied(rename_variable(canvas, handler.tlid, bound.id, "parsed"), canvas)
    assert node(after, handler.tlid, bound.id) == PVariable(bound.id, "parsed")
    assert run(after, handler.tlid, a="41") == 42

    fn = b.function("twice", [("n", INT)], INT, b.infix("*", b.var("n"), 2))
    canvas = canvas_of(fn)
    after = applied(rename_variable(canvas, fn.tlid, fn.params[0].id, "count"), canvas)
    assert after[fn.tlid].params[0] == Param(fn.params[0].id, "count", INT)
    assert call_user_function(after[fn.tlid], (4,), Program()) == 8
    assert marks(after, fn.tlid) == []


def test_rename_refuses_names_that_would_shadow_or_capture_a_use() -> None:
    use_x = b.var("x")
    inner = b.let("y", 2, b.infix("+", use_x, b.var("y")))
    outer = b.let("x", 1, inner)
    r = b.repl("r", outer)
    canvas = canvas_of(r)
    with pytest.raises(RefactorError, match=rf"x is used at node {use_x.id}.*let y .*would hide"):
        rename_variable(canvas, r.tlid, outer.id, "y")
    with pytest.raises(RefactorError, match=rf"x is already used at node {use_x.id}, where it "
                                            "means the let x"):
        rename_variable(canvas, r.tlid, inner.id, "x")
    lam = b.lam(["a", "b"], b.var("a"))
    twice = b.repl("t", lam)
    canvas = canvas_of(twice)
    with pytest.raises(RefactorError, match=r"this lambda already has a parameter"):
        rename_variable(canvas, twice.tlid, lam.params[0].id, "b")


def test_rename_refuses_what_it_cannot_rename_and_explains() -> None:
    h, parts = sum_handler()
    request = b.var("request")
    unknown = b.var("nope")
    notes = b.datastore("Notes", INT)
    store_use = b.var("Notes_v0")
    r = b.http("POST", "/r", b.list_(request, unknown, store_use))
    canvas = canvas_of(h, r, notes)
    route_use = node(canvas, h.tlid, parts["parsed_a"].args[0].id)
    with pytest.raises(RefactorError, match=r"a is a parameter of the route /sum/:a/:b"):
        rename_variable(canvas, h.tlid, route_use.id, "first")
    with pytest.raises(RefactorError, match=r"runtime gives request to the handler"):
        rename_variable(canvas, r.tlid, request.id, "req")
    with pytest.raises(RefactorError, match=r"nothing defines nope here"):
        rename_variable(canvas, r.tlid, unknown.id, "yes")
    with pytest.raises(RefactorError, match=r"Notes_v0 is a datastore"):
        rename_variable(canvas, r.tlid, store_use.id, "n")
    with pytest.raises(RefactorError, match=r"needs a variable or the name that binds it.*an int"):
        rename_variable(canvas, h.tlid, parts["doubled"].right.id, "n")
    with pytest.raises(RefactorError, match=r"'' is not a valid name"):
        rename_variable(canvas, h.tlid, parts["let_x"].id, "")
    with pytest.raises(RefactorError, match=r"true is a keyword"):
        rename_variable(canvas, h.tlid, parts["let_x"].id, "true")
    assert rename_variable(canvas, h.tlid, parts["let_x"].id, "x").ops == ()


def test_renaming_a_blank_let_gives_it_a_name_unless_that_captures_a_use() -> None:
    use = b.var("later")
    blank = b.let("", 1, b.infix("+", use, 1))
    r = b.repl("r", b.let("later", 5, blank))
    canvas = canvas_of(r)
    with pytest.raises(RefactorError, match=r"later is already used"):
        rename_variable(canvas, r.tlid, blank.id, "later")
    after = applied(rename_variable(canvas, r.tlid, blank.id, "one"), canvas)
    assert node(after, r.tlid, blank.id).name == "one" and run(after, r.tlid) == 6


# ---------------------------------------------------------------- properties

_IMPURE = {name for name, fn in LIBRARY.items() if not fn.pure}


def _code() -> st.SearchStrategy[Handler | UserFunction]:
    """Generated handlers and functions that the runtime would store, with no impure calls
    (their values differ from run to run whatever the refactoring)."""
    def storable(tl: Toplevel) -> bool:
        if not isinstance(tl, Handler | UserFunction):
            return False
        try:
            apply(CreateToplevel(tl), None)
        except Exception:
            return False
        return not any(isinstance(n, ECall) and isinstance(n.fn, LibFnRef)
                       and n.fn.qualified in _IMPURE for n in traverse.walk(tl))
    return toplevels(max_leaves=10).filter(storable)


def _draw_expression(tl: Toplevel, data: st.DataObject) -> Expr:
    # Drawn by position: a node's repr can be huge, an index's is not.
    expressions = [n for n in traverse.walk(tl) if isinstance(n, Expr)]
    return expressions[data.draw(st.integers(0, len(expressions) - 1), label="expression")]


def _value(tl: Toplevel, edit: Edit | None = None) -> Any:
    """The value of `tl` to compare, run with no program (a generated call of a user
    function is then an error, never a recursion).

    After `edit`, something raised by the root of a replacement counts as raised by
    the node it replaced: a pipe step that is wrapped is still the step that failed.
    """
    moved = {op.new.id: op.node_id for op in (edit.ops if edit else ())
             if isinstance(op, ReplaceNode)}
    return _shape(run_toplevel(tl, {}, Program()), moved)


def _shape(v: Any, moved: Mapping[int, int]) -> Any:
    """A value to compare: closures by arity (their bodies and captured variables are
    what refactorings rewrite), numbers with their type, NaN equal to itself, errors by
    the node that raised them (their messages describe closures by parameter names)."""
    match v:
        case Closure():
            return ("closure", len(v.params))
        case bool():
            return ("bool", v)
        case float() if math.isnan(v):
            return ("nan",)
        case int() | float():
            return (type(v).__name__, v)
        case tuple():
            return tuple(_shape(x, moved) for x in v)
        case FrozenDict():
            return ("record", {k: _shape(x, moved) for k, x in v.items()})
        case Variant():
            return ("variant", v.name, v.type_name, _shape(v.args, moved))
        case Response():
            return ("response", v.status, v.headers, _shape(v.body, moved))
        case ErrorRail():
            return ("rail", _shape(v.value, moved), moved.get(v.node_id, v.node_id))
        case ErrorValue():
            return ("error", moved.get(v.node_id, v.node_id))
        case Incomplete():
            return ("incomplete", moved.get(v.node_id, v.node_id))
    return v


def _is_pipe_step(tl: Toplevel, e: Expr) -> bool:
    parent = traverse.parent_of(tl, e.id)
    return isinstance(parent, EPipe) and e is not parent.head


def _after(edit: Edit, tl: Toplevel) -> Toplevel:
    after = applied(edit, {tl.tlid: tl})
    return after[tl.tlid]


@settings(max_examples=150)
@given(_code(), st.data())
def test_wrap_in_flag_keeps_the_value_of_any_expression(tl: Toplevel, data: st.DataObject) -> None:
    e = _draw_expression(tl, data)
    new_from_old = data.draw(st.booleans())
    edit = wrap_in_flag({tl.tlid: tl}, tl.tlid, e.id, new_from_old=new_from_old)
    after = _after(edit, tl)
    # A hole as a pipe step passes the value on; a flag there is a step like any other.
    assume(not (isinstance(e, EHole) and _is_pipe_step(tl, e)))
    assert _value(after, edit) == _value(tl)


@settings(max_examples=150)
@given(_code(), st.data())
def test_wrap_in_let_runs_the_expression_and_leaves_a_hole(tl: Toplevel,
                                                          data: st.DataObject) -> None:
    e = _draw_expression(tl, data)
    edit = wrap_in_let({tl.tlid: tl}, tl.tlid, e.id)
    after = _after(edit, tl)
    let = traverse.find(after, edit.caret[1])
    assert isinstance(let, ELet) and let.rhs is e
    assume(not _is_pipe_step(tl, e))
    # Unless the expression leaves on the rail, the let means what its body hole means.
    with_hole = traverse.replace(tl, e.id, let.body)
    new = run_toplevel(after, {}, Program())
    if not isinstance(new, ErrorRail):
        assert _value(after, edit) == _value(with_hole)


@settings(max_examples=200)
@given(_code(), st.data())
def test_extract_variable_keeps_the_value(tl: Toplevel, data: st.DataObject) -> None:
    e = _draw_expression(tl, data)
    try:
        edit = extract_variable({tl.tlid: tl}, tl.tlid, e.id)
    except RefactorError:
        assert isinstance(e, EHole)
        return
    after = _after(edit, tl)
    old, new = run_toplevel(tl, {}, Program()), run_toplevel(after, {}, Program())
    # Only the order of evaluation changes: a program that leaves on the rail still
    # does, maybe from another call; one that fails still fails, maybe at another node
    # (the extracted expression now runs first, and it may fail too); any other value
    # is the same.
    assert isinstance(old, ErrorRail) == isinstance(new, ErrorRail)
    assert isinstance(old, ErrorValue) == isinstance(new, ErrorValue), (old, new)
    if not isinstance(old, ErrorRail | ErrorValue):
        assert _value(after, edit) == _value(tl)


@settings(max_examples=100)
@given(_code(), st.data())
def test_insert_let_above_keeps_the_value(tl: Toplevel, data: st.DataObject) -> None:
    target = data.draw(st.sampled_from([tl.tlid, *traverse.node_ids(tl)]), label="node id")
    edit = insert_let_above({tl.tlid: tl}, tl.tlid, target)
    assert _value(_after(edit, tl), edit) == _value(tl)


@settings(max_examples=100)
@given(_code(), st.data())
def test_rename_to_an_unused_name_keeps_the_value(tl: Toplevel, data: st.DataObject) -> None:
    binders = [n for n in traverse.walk(tl)
               if isinstance(n, ELet | LambdaParam | PVariable | Param) and n.name]
    assume(binders)
    binder = binders[data.draw(st.integers(0, len(binders) - 1), label="binder")]
    edit = rename_variable({tl.tlid: tl}, tl.tlid, binder.id, "renamed")
    after = _after(edit, tl)
    before = resolve_variables(tl, Program())
    uses = [op.node_id for op in edit.ops[1:]]
    assert sorted(uses) == sorted(v for v, found in before.items() if found == binder.id)
    assert _value(after) == _value(tl)


# ------------------------------------------------------------------ helpers


def _without_ids(obj: Any) -> Any:
    """A tree as nested tuples of class names and fields, ids left out."""
    if isinstance(obj, tuple):
        return tuple(_without_ids(x) for x in obj)
    if attrs.has(type(obj)):
        return (type(obj).__name__, tuple((a.name, _without_ids(getattr(obj, a.name)))
                                          for a in attrs.fields(type(obj)) if a.name != "id"))
    return obj


@settings(max_examples=150)
@given(toplevels())
def test_a_copy_of_a_toplevel_has_the_same_code_and_none_of_its_node_ids(tl: Toplevel) -> None:
    # New function and type versions are such copies: sharing node ids with the
    # original would make the runtime count a flag in either as the same flag.
    copy = with_fresh_ids(tl)
    assert strip_ids(copy) == strip_ids(tl)
    assert copy.tlid == tl.tlid  # the caller gives the copy its own
    shared = set(traverse.node_ids(copy)) & set(traverse.node_ids(tl))
    assert shared <= {tl.tlid}  # (a toplevel's own id is its tlid)
    assert traverse.duplicate_ids(copy) == set()
