"""The editor model apart from typing: deleting, moving, Enter, undo, clipboard, toplevels.

Every test starts from code built with `shared_ast.build` or typed into a
handler, performs actions by name (as the keymap and palette do) and checks
the resulting tree, the caret, and that the emitted ops are exactly what took
the canvas from before to after.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from strategies import exprs, renumber, strip_ids

from editor.model import actions, canvas_actions, deleting, motion, typing
from editor.model.history import inverse
from editor.model.state import EditorState, Outcome
from editor.projection import Caret
from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast import toplevels, traverse
from shared_ast.apply import apply_to_canvas
from shared_ast.ops import (
    CreateToplevel,
    DeleteToplevel,
    MoveToplevel,
    ReplaceNode,
    SetHandlerSpec,
    SetName,
)
from shared_ast.toplevels import (
    Datastore,
    Handler,
    HttpSpec,
    Pos,
    ReplSpec,
    UserFunction,
    UserType,
    WorkerSpec,
)

A, B = 5, 6


def handler(tlid: int, body: n.Expr | None = None, route: str = "/sum/:a/:b") -> Handler:
    return Handler(tlid, Pos(0, 0), 0, HttpSpec("GET", route), body or n.EHole(tlid * 1000))


def start(body: n.Expr | None = None, *, second: n.Expr | None = None) -> EditorState:
    canvas = {A: handler(A, body)}
    if second is not None:
        canvas[B] = handler(B, second, route="/other")
    return motion.focus(EditorState(canvas), A).state


def do(state: EditorState, *names: str) -> EditorState:
    for name in names:
        out = actions.perform(state, name)
        assert not out.refused, f"{name} was refused: {out.message}"
        check_ops(state, out)
        state = out.state
    return state


def typed(state: EditorState, text: str) -> EditorState:
    out = typing.insert_text(state, text)
    assert not out.refused, out.message
    check_ops(state, out)
    return out.state


def check_ops(before: EditorState, out: Outcome) -> None:
    assert apply_to_canvas(out.ops, before.canvas) == dict(out.state.canvas)


def body(state: EditorState, tlid: int = A) -> n.Expr:
    tl = state.canvas[tlid]
    assert isinstance(tl, (Handler, UserFunction))
    return tl.body


def shown(state: EditorState, tlid: int = A) -> str:
    proj = state.projection(tlid)
    assert proj is not None
    return proj.text


def at(state: EditorState, line: int, column: int, tlid: int = A) -> EditorState:
    return motion.place(state, tlid, line, column).state


def position(state: EditorState) -> tuple[int, int] | None:
    proj = state.projection()
    assert proj is not None and state.caret is not None
    return proj.position(state.caret)


def unchanged(before: EditorState, out: Outcome) -> bool:
    return out.ops == () and out.state.canvas == before.canvas


# ------------------------------------------------------------ backspace


def test_backspace_in_an_int_edits_it_and_emptied_it_becomes_a_hole_with_the_same_id() -> None:
    state = at(start(b.int_(42)), 0, 2)
    nid = body(state).id
    state = do(state, "backspace")
    assert body(state) == n.EInt(nid, 4)
    state = do(state, "backspace")
    assert body(state) == n.EHole(nid)
    assert state.caret == Caret(A, nid, 0)


def test_backspace_in_a_string_edits_it_and_an_empty_strings_quote_removes_it() -> None:
    state = at(start(b.str_("ab")), 0, 3)
    nid = body(state).id
    state = do(state, "backspace", "backspace")
    assert body(state) == n.EString(nid, "")
    state = do(state, "backspace")
    assert body(state) == n.EHole(nid)


def test_backspace_in_a_variable_makes_a_partial_that_keeps_the_variable() -> None:
    state = at(start(b.var("request")), 0, 7)
    var = body(state)
    state = do(state, "backspace")
    partial = body(state)
    assert isinstance(partial, n.EPartial) and partial.text == "reques" and partial.old == var


def test_backspace_on_the_keyword_of_an_empty_let_removes_it_and_keeps_its_body() -> None:
    state = start(b.let("", b.hole(), b.int_(7)))
    state = at(state, 0, 3)
    state = do(state, "backspace")
    assert strip_ids(body(state)) == strip_ids(b.int_(7))


def test_backspace_on_a_let_that_has_code_says_how_to_remove_it_and_changes_nothing() -> None:
    state = at(start(b.let("x", 1, b.var("x"))), 0, 3)
    out = deleting.backspace(state)
    assert unchanged(state, out)
    assert "let still has code" in out.message and "Shift+Up" in out.message


def test_backspace_after_an_operator_whose_right_side_is_a_hole_takes_it_back() -> None:
    state = typed(start(), "1 + ")
    assert isinstance(body(state), n.EInfix)
    state = do(state, "backspace")
    assert body(state) == n.EInt(A * 1000, 1)
    assert position(state) == (0, 1)


def test_backspace_on_an_operator_being_typed_takes_it_back() -> None:
    state = typed(start(), "1 +")
    state = do(state, "backspace")
    assert body(state) == n.EInt(A * 1000, 1)


def test_backspace_on_an_operator_with_a_right_side_leaves_the_code_alone() -> None:
    state = at(typed(start(), "1 + 2"), 0, 3)
    out = deleting.backspace(state)
    assert unchanged(state, out) and "infix still has code" in out.message


@pytest.mark.parametrize(("keys", "after"), [
    ("[1, 2, ", "[1, 2]"),
    ("{a: 1, ", "{ a: 1 }"),
    ("\\a, ", "\\a -> ___"),
])
def test_backspace_after_a_separator_takes_back_the_empty_item_it_added(
        keys: str, after: str) -> None:
    # Regression: the `, ` before the new item belonged to the list, so backspace
    # said "the list still has code in it" instead of removing the empty item.
    state = typed(start(), keys)
    state = do(state, "backspace")
    assert shown(state) == after


def test_backspace_in_a_pipes_only_empty_step_gives_back_its_head() -> None:
    state = typed(start(), "a |> ")
    state = do(state, "backspace")
    assert strip_ids(body(state)) == strip_ids(b.var("a"))


def test_backspace_at_the_start_of_the_code_does_nothing() -> None:
    state = at(start(b.int_(5)), 0, 0)
    out = deleting.backspace(state)
    assert unchanged(state, out) and not out.refused


def test_delete_removes_the_character_after_the_caret() -> None:
    state = at(start(b.int_(123)), 0, 0)
    state = do(state, "delete")
    assert isinstance(body(state), n.EInt) and body(state).value == 23  # type: ignore[attr-defined]


def test_delete_with_nothing_after_the_caret_is_refused_with_advice() -> None:
    state = at(start(b.int_(123)), 0, 3)
    out = deleting.delete_forward(state)
    assert out.refused and "select it" in out.message and unchanged(state, out)


# ------------------------------------------------------------ selection


def test_select_parent_grows_from_the_caret_to_the_whole_body() -> None:
    tree = b.infix("+", 1, b.infix("*", 2, 3))
    state = at(start(tree), 0, 9)
    state = do(state, "select-parent")
    assert state.selection == tree.right.right.id  # type: ignore[attr-defined]
    state = do(state, "select-parent")
    assert state.selection == tree.right.id
    state = do(state, "select-parent")
    assert state.selection == tree.id
    out = motion.select_parent(state)
    assert out.message == "The whole code is selected." and out.state.selection == tree.id


def test_deleting_a_selection_leaves_a_hole_and_puts_the_caret_in_it() -> None:
    tree = b.infix("+", 1, b.infix("*", 2, 3))
    state = do(at(start(tree), 0, 9), "select-parent", "select-parent", "delete-selection")
    after = body(state)
    assert isinstance(after, n.EInfix) and isinstance(after.right, n.EHole)
    assert after.left == tree.left
    assert state.caret == Caret(A, after.right.id, 0) and state.selection is None


def test_backspace_and_typing_replace_a_selection() -> None:
    tree = b.infix("+", 1, 2)
    state = do(at(start(tree), 0, 5), "select-parent")
    assert isinstance(body(do(state, "backspace")).right, n.EHole)  # type: ignore[attr-defined]
    state = typed(state, "9")
    assert strip_ids(body(state)) == strip_ids(b.infix("+", 1, 9))


def test_the_only_arm_of_a_match_cannot_be_deleted_alone() -> None:
    tree = b.match(b.var("x"), (b.pint(1), 2))
    state = start(tree)
    state = attrs.evolve(state, selection=tree.arms[0].id)
    out = deleting.delete_selection(state)
    assert out.refused and "needs at least one" in out.message and unchanged(state, out)


def test_deleting_a_record_field_removes_it() -> None:
    tree = b.record(a=1, b=2)
    state = attrs.evolve(start(tree), selection=tree.fields[0].id)
    state = do(state, "delete-selection")
    assert shown(state) == "{ b: 2 }"


# --------------------------------------------------------------- motion


def test_left_right_home_end_move_like_a_text_editor() -> None:
    state = at(start(b.let("x", 12, b.var("x"))), 0, 0)
    assert shown(state) == "let x = 12\nx"
    state = do(state, "move-end")
    assert position(state) == (0, 10)
    state = do(state, "move-left")
    assert position(state) == (0, 9)
    state = do(state, "move-right", "move-right")
    assert position(state) == (1, 0)
    state = do(state, "move-up")
    assert position(state)[0] == 0  # type: ignore[index]
    state = do(state, "move-home")
    assert position(state) == (0, 0)
    state = do(state, "move-doc-end")
    assert position(state) == (1, 1)


def test_a_hole_is_one_stop_for_left_and_right() -> None:
    state = at(start(b.infix("+", b.hole(), 1)), 0, 0)
    state = do(state, "move-right")
    assert position(state) == (0, 3)
    state = do(state, "move-left")
    assert position(state) == (0, 0)


@settings(max_examples=150)
@given(exprs(10))
def test_right_walks_every_line_forwards_to_the_end_and_left_walks_back(e: n.Expr) -> None:
    tl = renumber(Handler(0, Pos(0, 0), 0, HttpSpec("GET", "/"), e))
    state = motion.place(EditorState({tl.tlid: tl}), tl.tlid, 0, 0).state
    proj = state.projection()
    assert proj is not None
    last = len(proj.lines) - 1
    seen = [position(state)]
    for _ in range(10_000):
        state = motion.move(state, "right").state
        if position(state) == seen[-1]:
            break
        assert position(state) > seen[-1], f"right went back from {seen[-1]}:\n{proj.text}"
        seen.append(position(state))
    assert seen[-1] == (last, proj.line_end(last)), proj.text
    assert {line for line, _ in seen} == set(range(last + 1))
    back = [seen[-1]]
    for _ in range(10_000):
        state = motion.move(state, "left").state
        if position(state) == back[-1]:
            break
        assert position(state) < back[-1], f"left went forward from {back[-1]}:\n{proj.text}"
        back.append(position(state))
    assert back[-1] == seen[0]


def test_a_click_puts_the_caret_in_the_token_clicked() -> None:
    tree = b.let("total", 12, b.var("total"))
    state = at(start(tree), 0, 9)
    assert state.caret == Caret(A, tree.id, 9)  # the end of `let total`: typing extends it
    state = at(state, 0, 13)
    assert state.caret == Caret(A, tree.rhs.id, 1)
    state = at(state, 40, 40)
    assert position(state) == (1, 5)


def test_focus_goes_to_the_first_blank_and_moves_never_emit_ops() -> None:
    tree = b.let("x", b.hole(), b.hole())
    state = start(tree)
    assert state.caret == Caret(A, tree.rhs.id, 0)
    for name in ("move-left", "move-right", "move-up", "move-down", "next-hole", "select-parent"):
        out = actions.perform(state, name)
        assert out.ops == () and out.state.canvas == state.canvas


def test_moving_with_no_caret_is_refused() -> None:
    state = EditorState({A: handler(A)})
    out = motion.move(state, "left")
    assert out.refused and "click into" in out.message


# ---------------------------------------------------------------- Enter


def test_enter_at_the_end_of_a_let_line_adds_a_let_below_it() -> None:
    tree = b.let("x", 1, b.var("x"))
    state = do(at(start(tree), 0, 9), "newline")
    outer = body(state)
    assert isinstance(outer, n.ELet) and outer.name == "x"
    added = outer.body
    assert isinstance(added, n.ELet) and added.name == "" and isinstance(added.rhs, n.EHole)
    assert strip_ids(added.body) == strip_ids(b.var("x"))
    assert state.caret == Caret(A, added.id, 4)  # on its blank name
    assert shown(state) == "let x = 1\nlet name = ___\nx"


def test_enter_at_the_end_of_the_last_line_adds_a_line_below_it() -> None:
    one = b.int_(1)
    state = do(at(start(one), 0, 1), "newline")
    let = body(state)
    # As in a text editor: a new last line below; what was the result becomes `let _ = 1`.
    assert isinstance(let, n.ELet) and let.rhs == one and let.name == "_"
    assert isinstance(let.body, n.EHole) and state.caret.node_id == let.body.id


def test_enter_in_the_middle_of_a_line_does_not_split_it() -> None:
    state = at(start(b.let("x", 12, b.var("x"))), 0, 2)
    out = actions.newline(state)
    assert unchanged(state, out) and "End" in out.message


def test_typing_a_sequence_of_lets_with_enter() -> None:
    state = typed(start(), "let x = 1")
    state = do(state, "newline")                # onto the blank line below (the body)
    state = typed(state, "let y = 2")
    state = do(state, "newline")
    assert shown(state) == "let x = 1\nlet y = 2\n___"
    assert isinstance(state.node(state.caret.node_id), n.EHole)


# -------------------------------------------------------- undo and redo


def test_undo_emits_the_inverse_of_the_last_edit_and_redo_the_edit_again() -> None:
    state = typed(start(), "1 + 2")
    state = attrs.evolve(state, history=state.history.sealed())  # a pause: a new undo step
    done = typing.insert_char(state, "3")
    state = done.state
    undone = actions.undo(state)
    assert undone.ops == inverse(done.ops)
    check_ops(state, undone)
    assert strip_ids(body(undone.state)) == strip_ids(b.infix("+", 1, 2))
    redone = actions.redo(undone.state)
    assert redone.ops == done.ops
    assert body(redone.state) == body(state)


def test_undoing_everything_gives_back_the_start_and_redoing_everything_the_end() -> None:
    first = start()
    state = typed(first, "let x = [1, 2]")
    state = do(state, "newline")
    last = state.canvas[A]
    while state.history.can_undo(A):
        state = do(state, "undo")
    assert state.canvas[A] == first.canvas[A]
    assert actions.undo(state).message == "Nothing to undo in this toplevel."
    while state.history.can_redo(A):
        state = do(state, "redo")
    assert state.canvas[A] == last


def test_undo_is_per_toplevel() -> None:
    state = start(second=b.hole())
    state = typed(state, "1")
    state = typed(motion.focus(state, B).state, "2")
    in_b = state.canvas[B]
    state = do(motion.focus(state, A).state, "undo")
    assert isinstance(body(state, A), n.EHole)
    assert state.canvas[B] == in_b
    state = do(motion.focus(state, B).state, "undo")
    assert isinstance(body(state, B), n.EHole)


def test_a_new_edit_forgets_what_could_be_redone() -> None:
    state = do(typed(start(), "1"), "undo")
    assert state.history.can_redo(A)
    state = typed(state, "2")
    assert not state.history.can_redo(A)


def test_undo_of_an_edit_another_editor_changed_since_is_refused_with_the_reason() -> None:
    state = typed(start(), "1")
    nid = body(state).id
    remote = apply_to_canvas([ReplaceNode(A, nid, body(state), n.EInt(nid, 99))], state.canvas)
    state = state.with_canvas(remote)
    out = actions.undo(state)
    assert out.refused and "changed since" in out.message
    assert out.state.canvas == state.canvas and out.ops == ()
    # It is forgotten rather than retried for ever.
    assert not out.state.history.can_undo(A)


def test_moves_are_not_recorded_for_undo() -> None:
    state = typed(start(), "12")
    before = state.history
    state = do(state, "move-left", "move-home", "select-parent")
    assert state.history == before


# ------------------------------------------------------------- clipboard


def test_copy_and_paste_into_another_toplevel_gives_fresh_ids() -> None:
    tree = b.infix("+", 1, b.var("a"))
    state = start(tree, second=b.hole())
    state = attrs.evolve(state, selection=tree.id)
    state = do(state, "copy")
    assert state.clipboard == tree and body(state) == tree
    state = do(motion.focus(state, B).state, "paste")
    pasted = body(state, B)
    assert strip_ids(pasted) == strip_ids(tree)
    assert not set(traverse.node_ids(pasted)) & set(traverse.node_ids(tree))
    # Pasting again gives another copy with ids of its own.
    state = do(attrs.evolve(state, selection=pasted.id), "paste")
    again = body(state, B)
    assert strip_ids(again) == strip_ids(tree)
    assert not set(traverse.node_ids(again)) & set(traverse.node_ids(pasted))


def test_cut_leaves_a_hole_and_paste_puts_the_code_back() -> None:
    tree = b.call("Int::add_v0", 1, 2)
    state = attrs.evolve(start(tree), selection=tree.args[1].id)
    state = do(state, "cut")
    assert isinstance(body(state).args[1], n.EHole)  # type: ignore[attr-defined]
    assert state.clipboard == tree.args[1]
    state = do(state, "paste")
    assert strip_ids(body(state)) == strip_ids(tree)


def test_copy_without_a_selection_and_paste_with_an_empty_clipboard_are_refused() -> None:
    state = start(b.int_(1))
    out = actions.copy(state)
    assert out.refused and "Select something first" in out.message
    out = actions.paste(state)
    assert out.refused and "clipboard is empty" in out.message


def test_paste_needs_a_hole_or_a_selection_of_the_same_kind() -> None:
    tree = b.match(b.var("x"), (b.pint(1), 2))
    state = attrs.evolve(start(tree), selection=tree.arms[0].pattern.id)
    state = do(state, "copy")
    # A pattern does not go into an expression's place.
    state = attrs.evolve(state, selection=tree.scrutinee.id)
    out = actions.paste(state)
    assert out.refused and "cannot go where" in out.message and unchanged(state, out)
    # Not over code that is not selected.
    state = attrs.evolve(at(state, 0, 7), selection=None)
    out = actions.paste(state)
    assert out.refused and "hole" in out.message


# -------------------------------------------------------- canvas actions


@pytest.mark.parametrize("kind", sorted(canvas_actions.TOPLEVEL_KINDS))
def test_creating_each_kind_of_toplevel_emits_one_create_op(kind: str) -> None:
    state = start()
    out = canvas_actions.create_toplevel(state, kind)
    assert not out.refused
    (op,) = out.ops
    assert isinstance(op, CreateToplevel)
    check_ops(state, out)
    created = op.toplevel
    expected = {"http": Handler, "worker": Handler, "cron": Handler, "repl": Handler,
                "function": UserFunction, "type": UserType, "datastore": Datastore,
                "test": toplevels.Test}[kind]
    assert isinstance(created, expected)
    if isinstance(created, (Handler, UserFunction)):
        # Code toplevels open with the caret in their empty body.
        assert out.state.caret == Caret(created.tlid, created.body.id, 0)
    elif isinstance(created, toplevels.Test):
        # A test opens with the caret in its check's first hole, the actual value.
        assert isinstance(created.body, n.ECall)
        assert out.state.caret == Caret(created.tlid, created.body.args[0].id, 0)
    else:
        assert out.state.caret is None


def test_new_toplevels_never_clash_with_existing_names_or_routes() -> None:
    state = start()
    for _ in range(3):
        state = canvas_actions.create_toplevel(state, "http").state
        state = canvas_actions.create_toplevel(state, "function").state
        state = canvas_actions.create_toplevel(state, "worker").state
    tls = list(state.canvas.values())
    routes = [tl.spec for tl in tls if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)]
    assert len(routes) == len(set(routes)) == 4
    names = [tl.name for tl in tls if isinstance(tl, UserFunction)]
    assert len(names) == len(set(names)) == 3
    queues = [tl.spec for tl in tls if isinstance(tl, Handler) and isinstance(tl.spec, WorkerSpec)]
    assert len(queues) == len(set(queues)) == 3


def test_an_unknown_kind_of_toplevel_is_refused_with_the_kinds() -> None:
    out = canvas_actions.create_toplevel(start(), "spreadsheet")
    assert out.refused and "'spreadsheet'" in out.message and "datastore" in out.message


def test_deleting_and_moving_toplevels_emit_their_ops() -> None:
    state = start(second=b.int_(1))
    out = canvas_actions.move_toplevel(state, B, Pos(100, 200))
    assert out.ops == (MoveToplevel(B, Pos(0, 0), Pos(100, 200)),)
    check_ops(state, out)
    assert canvas_actions.move_toplevel(out.state, B, Pos(100, 200)).ops == ()
    out = canvas_actions.delete_toplevel(out.state, B)
    assert isinstance(out.ops[0], DeleteToplevel) and B not in out.state.canvas
    assert canvas_actions.delete_toplevel(out.state, B).refused


def test_undo_brings_back_a_deleted_toplevel_as_the_message_promises() -> None:
    state = start(second=b.int_(1))
    state = motion.focus(state, B).state
    out = canvas_actions.delete_toplevel(state, B)
    assert "Undo brings it back" in out.message
    restored = actions.undo(out.state)
    assert not restored.refused and B in restored.state.canvas


def test_retargeting_a_handler_checks_the_route_and_clashes() -> None:
    state = start(second=b.int_(1))
    out = canvas_actions.set_spec(state, B, HttpSpec("GET", "/sum/:a/:b"))
    assert out.refused and "already handled" in out.message and unchanged(state, out)
    out = canvas_actions.set_spec(state, B, HttpSpec("GET", "no-slash"))
    assert out.refused and "must start with /" in out.message
    out = canvas_actions.set_spec(state, B, ReplSpec("scratch"))
    assert out.ops == (SetHandlerSpec(B, HttpSpec("GET", "/other"), ReplSpec("scratch")),)
    check_ops(state, out)


def test_renaming_a_function_checks_the_name() -> None:
    state = canvas_actions.create_toplevel(start(), "function").state
    tlid = state.caret.tlid  # type: ignore[union-attr]
    out = canvas_actions.rename_toplevel(state, tlid, "square")
    assert isinstance(out.ops[0], SetName) and out.state.canvas[tlid].name == "square"  # type: ignore
    bad = canvas_actions.rename_toplevel(state, tlid, "not a name")
    assert bad.refused and bad.message and unchanged(state, bad)
    assert canvas_actions.rename_toplevel(state, A, "x").refused  # a handler has no name


def test_a_404_becomes_a_handler_for_that_method_and_path() -> None:
    out = canvas_actions.handler_for_404(start(), "POST /orders/new")
    (op,) = out.ops
    assert isinstance(op, CreateToplevel)
    assert op.toplevel.spec == HttpSpec("POST", "/orders/new")  # type: ignore[attr-defined]
    bad = canvas_actions.handler_for_404(start(), "not a request")
    assert bad.refused and "GET /path" in bad.message


def test_an_unknown_command_is_refused_by_name() -> None:
    out = actions.perform(start(), "make-coffee")
    assert out.refused and "'make-coffee'" in out.message
