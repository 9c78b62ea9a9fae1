"""Typing in the editor model (`editor.model.typing`): keys become trees.

Each test types as a programmer would, one character at a time from a hole in
a handler, and checks the resulting *tree* (and where the caret went), not
only the text shown. Operators typed left to right are checked against an
independent reading of the same text by precedence (the projection tests'
oracle).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import strip_ids
from test_editor_projection import read_back, shape

from editor.model import actions, committing, completion, motion, typing
from editor.model.state import EditorState, Outcome
from editor.projection import Caret
from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast import traverse
from shared_ast.apply import apply_to_canvas
from shared_ast.evaluator import run_toplevel
from shared_ast.nodes import LibFnRef
from shared_ast.operators import OPERATORS
from shared_ast.program import Program
from shared_ast.toplevels import Handler, HttpSpec, Pos, Toplevel
from shared_ast.values import Incomplete

TLID = 5
#: Keys that are commands rather than characters.
KEYS = {"\t": "next-hole", "\x19": "previous-hole", "\b": "backspace", "\n": "newline"}


def start(body: n.Expr | None = None, route: str = "/sum/:a/:b") -> EditorState:
    tl = Handler(TLID, Pos(0, 0), 0, HttpSpec("GET", route), body or n.EHole(1001))
    return motion.focus(EditorState({TLID: tl}), TLID).state


def press(state: EditorState, keys: str) -> EditorState:
    """Type `keys` (with `KEYS` for Tab, Shift-Tab, Backspace, Enter); every key must be taken."""
    for key in keys:
        out = actions.perform(state, KEYS[key]) if key in KEYS else typing.insert_char(state, key)
        assert not out.refused, f"{key!r} was refused: {out.message}\n{shown(state)}"
        check_ops(state, out)
        state = out.state
    return state


def check_ops(before: EditorState, out: Outcome) -> None:
    """The ops an action emits are what took the canvas from before to after."""
    assert apply_to_canvas(out.ops, before.canvas) == dict(out.state.canvas)


def typed(keys: str, body: n.Expr | None = None) -> EditorState:
    return press(start(body), keys)


def body(state: EditorState) -> n.Expr:
    tl = state.canvas[TLID]
    assert isinstance(tl, Handler)
    return tl.body


def shown(state: EditorState) -> str:
    proj = state.projection(TLID)
    assert proj is not None
    return proj.text


def caret_node(state: EditorState) -> n.Node | None:
    assert state.caret is not None
    return state.node(state.caret.node_id)


# --------------------------------------------------------- in a hole


def test_a_digit_in_a_hole_makes_an_int_that_more_digits_extend() -> None:
    state = typed("4")
    assert body(state) == n.EInt(1001, 4)
    state = press(state, "21")
    assert body(state) == n.EInt(1001, 421)
    assert state.caret == Caret(TLID, 1001, 3)


def test_a_minus_and_digits_make_a_negative_int_and_a_dot_a_float() -> None:
    assert strip_ids(body(typed("-12"))) == strip_ids(b.int_(-12))
    assert strip_ids(body(typed("1.5"))) == strip_ids(b.float_(1.5))


def test_a_quote_makes_a_string_typed_inside_and_closed_by_stepping_over() -> None:
    state = typed('"')
    assert body(state) == n.EString(1001, "")
    state = press(state, 'hi there"')
    assert body(state) == n.EString(1001, "hi there")
    assert shown(state) == '"hi there"'
    assert state.caret == Caret(TLID, 1001, len('"hi there"'))


def test_backslashes_and_quotes_inside_a_string_are_one_character_each() -> None:
    # Regression: offsets counted shown characters (`\\` shows as two) but edited the
    # string's own, so a typed backslash could never be erased.
    state = typed('"a\\')
    assert body(state) == n.EString(1001, "a\\")
    state = press(state, "\b")
    assert body(state) == n.EString(1001, "a")
    state = typed("", b.str_("a\nb"))
    nid = body(state).id
    # Shown as `"a\nb"`: the caret after `\n` (column 4) is before `b`.
    state = attrs.evolve(state, caret=Caret(TLID, nid, 4))
    assert body(press(state, "X")) == n.EString(nid, "a\nXb")
    assert body(press(state, "\b")) == n.EString(nid, "ab")


def test_a_bracket_makes_a_list_commas_add_items_and_the_closing_bracket_steps_over() -> None:
    state = typed("[")
    assert body(state) == n.EList(1001, ())
    state = press(state, "1, 2,3]")
    assert strip_ids(body(state)) == strip_ids(b.list_(1, 2, 3))
    assert body(state).id == 1001
    assert shown(state) == "[1, 2, 3]"
    # The caret is after the list, so an operator applies to the whole list.
    state = press(state, " ++ ")
    assert isinstance(body(state), n.EInfix) and isinstance(body(state).left, n.EList)


def test_lists_nest() -> None:
    assert strip_ids(body(typed("[1, [2, 3]]"))) == strip_ids(b.list_(1, b.list_(2, 3)))


def test_a_brace_makes_a_record_of_named_fields() -> None:
    # Regression: `:` after a field's name was refused instead of moving to its value.
    state = typed("{a: 1, b: 2}")
    assert strip_ids(body(state)) == strip_ids(b.record(("a", 1), ("b", 2)))
    assert shown(state) == "{ a: 1, b: 2 }"
    assert strip_ids(body(typed("{a: {b: 1}}"))) == strip_ids(
        b.record(("a", b.record(("b", 1)))))


def test_a_record_field_needs_a_name_first() -> None:
    state = typed("{")
    out = typing.insert_char(state, "1")
    assert out.refused and "field name" in out.message
    assert out.state == state and out.ops == ()


def test_a_backslash_makes_a_lambda_with_its_parameters_and_arrow() -> None:
    # Regression: `->` after the parameter was refused.
    state = typed("\\x -> ")
    lam = body(state)
    assert isinstance(lam, n.ELambda) and [p.name for p in lam.params] == ["x"]
    assert caret_node(state) == lam.body
    state = typed("\\acc, x -> acc + x")
    assert strip_ids(body(state)) == strip_ids(
        b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.partial("x", b.hole()))))
    committed = press(state, "\n")
    assert strip_ids(body(committed)) == strip_ids(
        b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x"))))


# ----------------------------------------------------------- partials


def test_letters_start_a_partial_that_space_commits_to_a_variable_in_scope() -> None:
    state = typed("a")
    partial = body(state)
    assert isinstance(partial, n.EPartial) and partial.text == "a"
    assert isinstance(partial.old, n.EHole)
    assert strip_ids(body(press(state, " "))) == strip_ids(b.var("a"))
    assert strip_ids(body(press(state, "\n"))) == strip_ids(b.var("a"))


@pytest.mark.parametrize(("word", "kind"), [
    ("let", n.ELet), ("if", n.EIf), ("match", n.EMatch), ("flag", n.EFlag),
    ("true", n.EBool), ("null", n.ENull), ("Just", n.EConstructor), ("Int::add", n.ECall),
])
def test_enter_commits_a_partial_that_names_a_keyword_literal_or_function(
        word: str, kind: type) -> None:
    state = typed(word + "\n")
    built = body(state)
    assert isinstance(built, kind)
    # The caret goes to the first blank of what was built, if it has one.
    blanks = [node for node in traverse.walk(built) if isinstance(node, (n.EHole, n.PHole))]
    if isinstance(built, n.ELet):
        assert caret_node(state) == built and built.name == ""
    elif blanks:
        assert caret_node(state) == blanks[0]


def test_a_library_call_gets_a_hole_per_parameter_and_typing_fills_them() -> None:
    state = typed("Int::add 1\t2")
    assert strip_ids(body(state)) == strip_ids(b.call("Int::add_v0", 1, 2))
    assert run_toplevel(state.canvas[TLID], {}) == 3


def test_a_partial_that_names_nothing_is_not_committed_and_says_why() -> None:
    state = typed("zzz")
    out = typing.insert_char(state, " ")
    assert out.refused and "'zzz'" in out.message and "pick from the list" in out.message
    assert out.state == state and out.ops == ()
    out = actions.newline(state)
    assert out.refused and out.state == state


def test_commit_completion_builds_the_completion_at_the_partial() -> None:
    state = typed("String::len")
    partial = body(state)
    program = Program.from_toplevels(state.canvas.values())
    offered = completion.completions(program, state.canvas[TLID], partial.id, "String::len")
    chosen = next(c for c in offered if c.label.startswith("String::length"))
    out = committing.commit_completion(state, partial.id, chosen)
    check_ops(state, out)
    call = body(out.state)
    assert isinstance(call, n.ECall) and call.fn == chosen.target
    assert caret_node(out.state) == call.args[0]


def test_a_completion_for_code_that_changed_under_it_is_refused() -> None:
    state = typed("1")
    chosen = completion.completions(Program(), state.canvas[TLID], 1001, "")[0]
    out = committing.commit_completion(state, 1001, chosen)
    assert out.refused and "no longer applies" in out.message and out.state == state


# ------------------------------------------------------------ operators


@pytest.mark.parametrize(("keys", "tree"), [
    ("1 + 2 * 3", b.infix("+", 1, b.infix("*", 2, 3))),
    ("1 * 2 + 3", b.infix("+", b.infix("*", 1, 2), 3)),
    ("2 ^ 3 ^ 2", b.infix("^", 2, b.infix("^", 3, 2))),
    ("1 - 2 - 3", b.infix("-", b.infix("-", 1, 2), 3)),
    ("1 || 2 && 3", b.infix("||", 1, b.infix("&&", 2, 3))),
    ("1 + 2 == 3", b.infix("==", b.infix("+", 1, 2), 3)),
    ("1 <=. 2", b.infix("<=.", 1, 2)),
    ("1.5 +. 2", b.infix("+.", 1.5, 2)),
])
def test_operators_typed_left_to_right_give_the_tree_precedence_says(
        keys: str, tree: n.Expr) -> None:
    state = typed(keys)
    assert strip_ids(body(state)) == strip_ids(tree)
    assert shown(state) == keys


def test_an_operator_after_an_expression_is_a_right_partial_until_it_is_finished() -> None:
    state = typed("1 +")
    rp = body(state)
    assert isinstance(rp, n.ERightPartial) and rp.text == "+" and rp.left == n.EInt(1001, 1)
    state = press(state, "+")
    assert body(state).text == "++"  # type: ignore[attr-defined]
    state = press(state, " ")
    assert isinstance(body(state), n.EInfix) and body(state).op == "++"  # type: ignore[attr-defined]
    assert isinstance(caret_node(state), n.EHole)


def test_an_operator_that_does_not_exist_is_refused_with_the_list() -> None:
    state = typed("1 +*")
    out = typing.insert_char(state, " ")
    assert out.refused and "'+*' is not an operator" in out.message and "|>" in out.message
    assert out.state == state


def test_an_operator_cannot_start_an_expression() -> None:
    out = typing.insert_char(start(), "*")
    assert out.refused and "left side" in out.message and out.ops == ()


@settings(max_examples=200)
@given(st.lists(st.integers(0, 9), min_size=2, max_size=6),
       st.lists(st.sampled_from(sorted(OPERATORS)), min_size=5, max_size=5))
def test_any_chain_of_operators_typed_left_to_right_reads_back_by_precedence(
        numbers: list[int], ops: list[str]) -> None:
    text = str(numbers[0])
    for number, op in zip(numbers[1:], ops, strict=False):
        text += f" {op} {number}"
    state = typed(text)
    tree = body(state)
    assert shape(tree) == read_back(text), f"{text!r} became {shown(state)!r}"
    assert shown(state) == text


# --------------------------------------------------------- fields and pipes


def test_a_dot_after_a_variable_in_scope_is_a_field_access() -> None:
    state = typed("request.body ")
    assert strip_ids(body(state)) == strip_ids(b.field(b.var("request"), "body"))
    assert shown(state) == "request.body"


def test_a_dot_after_a_let_bound_variable_is_a_field_access() -> None:
    state = typed("x.name ", b.let("x", b.var("request"), b.hole()))
    let = body(state)
    assert isinstance(let, n.ELet)
    assert strip_ids(let.body) == strip_ids(b.field(b.var("x"), "name"))
    assert shown(state) == "let x = request\nx.name"


def test_a_dot_inside_a_name_that_is_not_a_variable_continues_the_name() -> None:
    state = typed("List.")
    assert isinstance(body(state), n.EPartial) and body(state).text == "List."  # type: ignore


def test_a_pipe_passes_the_value_to_a_step_that_takes_it_first() -> None:
    state = typed("a |> String::length ")
    pipe = body(state)
    assert isinstance(pipe, n.EPipe)
    assert strip_ids(pipe.head) == strip_ids(b.var("a"))
    (step,) = pipe.steps
    assert isinstance(step, n.ECall) and step.fn.name == "length"  # type: ignore[union-attr]
    assert isinstance(step.args[0], n.EPipeTarget)
    assert run_toplevel(state.canvas[TLID], {"a": "four"}) == 4


def test_a_pipe_typed_after_a_step_adds_the_next_step_of_the_same_pipe() -> None:
    # Regression: `|>` after `Int::add · 1` piped the `1` into a pipe nested in the call.
    for keys in ("a |> String::length |> ", "a |> Int::add 1 |> "):
        state = typed(keys)
        pipe = body(state)
        assert isinstance(pipe, n.EPipe) and len(pipe.steps) == 2, shown(state)
        assert isinstance(pipe.steps[0], n.ECall) and pipe.steps[1] == caret_node(state)
        assert not any(isinstance(x, n.EPipe) for x in traverse.walk(pipe.steps[0]))


def test_a_pipe_takes_everything_that_ends_where_it_is_typed() -> None:
    state = typed("1 + 2 |> ")
    pipe = body(state)
    assert isinstance(pipe, n.EPipe)
    assert strip_ids(pipe.head) == strip_ids(b.infix("+", 1, 2))


# --------------------------------------------------------------- Tab


def test_tab_and_shift_tab_visit_the_holes_in_reading_order_and_wrap() -> None:
    state = typed("Int::add ")
    call = body(state)
    assert isinstance(call, n.ECall)
    first, second = (a.id for a in call.args)
    assert state.caret.node_id == first  # type: ignore[union-attr]
    state = press(state, "\t")
    assert state.caret.node_id == second  # type: ignore[union-attr]
    state = press(state, "\t")
    assert state.caret.node_id == first  # type: ignore[union-attr]
    state = press(state, "\x19")
    assert state.caret.node_id == second  # type: ignore[union-attr]


def test_tab_skips_filled_holes_and_reaches_blank_names() -> None:
    state = typed("let\n")
    let = body(state)
    assert isinstance(let, n.ELet)
    state = press(state, "x\t")
    assert state.caret.node_id == let.rhs.id  # type: ignore[union-attr]
    state = press(state, "1\t")
    assert state.caret.node_id == let.body.id  # type: ignore[union-attr]
    out = motion.next_blank(press(state, "x\n"))
    assert out.message == "No holes left in this code."


# --------------------------------------------------------------- a handler


def test_the_sum_handler_typed_from_an_empty_hole_runs() -> None:
    state = start()
    state = press(state, "let\nx\tString::toInt\na\n")
    state = press(state, "")
    state = actions.perform(state, "move-end").state
    state = press(state, "\nlet y\tString::toInt\nb\n")   # Enter goes onto the blank body
    state = actions.perform(state, "next-hole").state
    state = press(state, "x + y")
    state = press(state, "\n")
    assert shown(state) == ("let x = String::toInt_v1 a\n"
                            "let y = String::toInt_v1 b\n"
                            "x + y")
    tl: Toplevel = state.canvas[TLID]
    assert run_toplevel(tl, {"a": "3", "b": "4"}) == 7
    parse = body(state).rhs  # type: ignore[attr-defined]
    assert isinstance(parse, n.ECall) and parse.on_rail
    assert parse.fn == LibFnRef("String", "toInt", 1)


def test_code_that_is_still_being_typed_runs_as_incomplete_not_as_an_error() -> None:
    state = typed("Int::add 1")
    assert isinstance(run_toplevel(state.canvas[TLID], {}), Incomplete)


# ------------------------------------------------------------ refusals


@pytest.mark.parametrize(("keys", "ch"), [
    ("", ")"), ("", ","), ("1", "x"), ("{", ","), ("1 + 2", "("),
])
def test_a_key_that_cannot_go_here_changes_nothing_and_says_why(keys: str, ch: str) -> None:
    state = typed(keys)
    out = typing.insert_char(state, ch)
    assert out.refused and out.message
    assert out.state == state and out.ops == ()


def test_a_refused_key_after_a_partial_does_not_commit_the_partial() -> None:
    # Regression: the partial was committed and then the key refused, so a
    # "refused" outcome carried ops and a changed canvas.
    state = typed("let")
    out = typing.insert_char(state, '"')
    assert out.refused and out.ops == () and out.state == state


def test_typing_with_no_caret_is_refused_with_what_to_do() -> None:
    tl = Handler(TLID, Pos(0, 0), 0, HttpSpec("GET", "/"), n.EHole(1))
    out = typing.insert_char(EditorState({TLID: tl}), "1")
    assert out.refused and "click into a handler" in out.message


def test_space_after_an_argument_goes_to_the_calls_next_empty_argument() -> None:
    from editor.model import motion
    from editor.model import typing as typing_mod
    from editor.model.state import EditorState
    from shared_ast.nodes import ECall, EHole, EInt
    from shared_ast.toplevels import Handler, HttpSpec, Pos

    tl = Handler(5, Pos(0, 0), 0, HttpSpec("GET", "/"), EHole(77))
    state = motion.focus(EditorState({5: tl}), 5).state
    state = typing_mod.insert_text(state, "Int::add 1 2").state
    body = state.canvas[5].body
    assert isinstance(body, ECall) and body.fn.qualified == "Int::add_v0"
    assert [a.value for a in body.args if isinstance(a, EInt)] == [1, 2]


def test_a_key_that_finishes_a_partial_and_types_on_is_one_undo() -> None:
    from editor.model import actions, motion
    from editor.model import typing as typing_mod
    from editor.model.state import EditorState
    from shared_ast.nodes import EHole
    from shared_ast.toplevels import Handler, HttpSpec, Pos

    tl = Handler(5, Pos(0, 0), 0, HttpSpec("GET", "/x/:a"), EHole(77))
    state = motion.focus(EditorState({5: tl}), 5).state
    state = typing_mod.insert_text(state, "a").state        # a partial
    # (After a pause: else the whole word `a+` would be one undo step, see history.py.)
    state = attrs.evolve(state, history=state.history.sealed())
    before = state.canvas
    out = typing_mod.insert_text(state, "+")                  # commits `a`, starts `+`
    assert len(out.ops) >= 2
    undone = actions.undo(out.state)
    assert undone.state.canvas == before


# ------------------------------------------- found by driving the editor as a user


def _handler_state(route: str = "/x/:k") -> Any:
    from editor.model import motion
    from editor.model.state import EditorState
    from shared_ast.nodes import EHole
    from shared_ast.toplevels import Handler, HttpSpec, Pos

    tl = Handler(5, Pos(0, 0), 0, HttpSpec("GET", route), EHole(77))
    return motion.focus(EditorState({5: tl}), 5).state


def _drive(state: Any, steps: list[str]) -> Any:
    from editor.model import actions

    for step in steps:
        out = (actions.perform(state, step[1:]) if step.startswith("@")
               else actions.type_text(state, step))
        state = out.state
    return state


def test_a_match_with_two_cases_can_be_typed() -> None:
    from shared_ast.evaluator import run_toplevel

    state = _drive(_handler_state(), [
        "match", "@newline", "Dict::get", "@newline", "{a: 1}", "@next-hole", "k",
        "@next-hole", "Just v", "@next-hole", "v", "@move-end", "@newline", "Nothing",
        "@next-hole", "0"])
    assert state.projection().text == "match Dict::get_v2 { a: 1 } k\n  Just v -> v\n  Nothing -> 0"
    tl = state.canvas[5]
    assert run_toplevel(tl, {"k": "a", "request": None}) == 1
    assert run_toplevel(tl, {"k": "b", "request": None}) == 0


def test_moving_off_a_partial_that_names_a_variable_commits_it() -> None:
    from shared_ast.nodes import EVariable

    state = _drive(_handler_state(), ["k", "@move-left"])
    assert isinstance(state.canvas[5].body, EVariable)


def test_an_operator_over_a_selection_groups_it_and_a_paren_explains_how() -> None:
    from editor.model import actions
    from shared_ast.nodes import EInfix

    state = _drive(_handler_state(), ["1 + 2"])
    # In a hole `(` opens a group; after an expression it explains how to group that.
    refused = actions.type_text(state, "(")
    assert refused.refused and "Shift+Up" in refused.message
    state = _drive(state, ["@select-parent", "@select-parent", "* 3"])
    body = state.canvas[5].body
    assert isinstance(body, EInfix) and body.op == "*"
    assert isinstance(body.left, EInfix) and body.left.op == "+"
    assert state.projection().text == "(1 + 2) * 3"


def test_backspacing_a_call_name_to_nothing_leaves_a_hole_not_the_old_call() -> None:
    from shared_ast.nodes import EHole

    state = _drive(_handler_state(), ["Int::add", "@newline", "@move-home", "@move-end"])
    text = state.projection().text
    assert text.startswith("Int::add")
    state = _drive(state, ["@move-home"] + ["@move-right"] * len("Int::add"))
    state = _drive(state, ["@backspace"] * (len("Int::add") + 1))
    assert isinstance(state.canvas[5].body, EHole)


def test_backspace_that_removes_an_empty_let_leaves_the_caret_at_the_line_below() -> None:
    state = _drive(_handler_state(), ["let", "@newline", "@next-hole", "@next-hole", "7"])
    assert state.projection().text == "let name = ___\n7"
    state = _drive(state, ["@move-up", "@move-end", "@backspace", "@backspace"])
    assert state.projection().text == "7"
    assert state.projection().position(state.caret) == (0, 0)


def test_undo_puts_the_caret_where_the_change_was() -> None:
    state = _drive(_handler_state(), ["let", "@newline", "x", "@next-hole", "12",
                                      "@move-down", "x + 1"])
    assert state.projection().text == "let x = 12\nx + 1"
    state = _drive(state, ["@undo"])
    line, _col = state.projection().position(state.caret)
    assert line == 1
