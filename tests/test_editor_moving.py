"""Changing code like text (issue 12, item 12): delete a line, move up/down, unwrap, cut and
paste a line (`editor.model.moving`).

The widget tests press the real keys (Alt+Up, Alt+Down, Ctrl+Shift+K, Ctrl+U, Ctrl+X,
Ctrl+V) on the real CodeView of a MainWindow; the model tests and properties run the
same commands by name and check that every batch of ops is what took the canvas from
before to after (`shared_ast.apply.apply_to_canvas`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from strategies import strip_ids

from editor.controller import EditorController
from editor.model import actions, motion
from editor.model.state import EditorState, Outcome
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast import traverse
from shared_ast.apply import apply_to_canvas
from shared_ast.checker import UNBOUND_VARIABLE
from shared_ast.locking import InUse
from shared_ast.ops import InsertElement, RemoveElement, ReplaceNode
from shared_ast.toplevels import Handler, HttpSpec, Pos

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
K = Qt.Key


# ------------------------------------------------------------- widgets


@pytest.fixture
def open_window(qapp: Any) -> Iterator[Callable[[n.Expr], MainWindow]]:
    windows: list[MainWindow] = []

    def make(body: n.Expr) -> MainWindow:
        controller = EditorController(None)
        controller.load([b.http("GET", "/code", body, pos=(20, 20))])
        w = MainWindow(controller)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        w.deleteLater()


def code_of(w: MainWindow) -> Any:
    tl = the_handler(w)
    w.controller.focus(tl.tlid)
    code = w.canvas.frames[tl.tlid].code
    code.setFocus()
    return code


def the_handler(w: MainWindow) -> Handler:
    return next(tl for tl in w.controller.state.canvas.values() if isinstance(tl, Handler))


def shown(w: MainWindow) -> str:
    proj = w.controller.state.projection(the_handler(w).tlid)
    assert proj is not None
    return proj.text


def to_line(code: Any, line: int, right: int = 0) -> None:
    """Ctrl+Home, then Down `line` times and Right `right` times: the caret by keys."""
    QTest.keyClick(code, K.Key_Home, CTRL)
    for _ in range(line):
        QTest.keyClick(code, K.Key_Down)
    for _ in range(right):
        QTest.keyClick(code, K.Key_Right)


def chain() -> n.Expr:
    return b.let("a", 1, b.let("b", 2, b.infix("+", b.var("a"), b.var("b"))))


def test_alt_up_moves_a_let_above_the_previous_one_and_one_undo_restores(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    w = open_window(chain())
    before = the_handler(w).body
    code = code_of(w)
    to_line(code, 1)
    QTest.keyClick(code, K.Key_Up, ALT)
    assert shown(w) == "let b = 2\nlet a = 1\na + b"
    after = the_handler(w).body
    # The same nodes, in the new order: the ids (and so live values) moved with them.
    assert isinstance(before, n.ELet) and isinstance(before.body, n.ELet)
    assert isinstance(after, n.ELet) and after.id == before.body.id
    assert isinstance(after.body, n.ELet) and after.body.id == before.id
    # The caret stayed on the moved let: Alt+Down takes it back down.
    assert w.controller.state.caret is not None
    assert w.controller.state.caret.node_id == before.body.id
    QTest.keyClick(code, K.Key_Z, CTRL)
    assert the_handler(w).body == before
    QTest.keyClick(code, K.Key_Up, ALT)
    QTest.keyClick(code, K.Key_Down, ALT)
    assert the_handler(w).body == before


def test_a_let_moved_above_the_let_it_uses_is_made_and_its_use_marked(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    # As in a text editor, the move is made; the checker marks the use left unbound.
    tree = b.let("a", 1, b.let("b", b.infix("+", b.var("a"), 1), b.var("b")))
    w = open_window(tree)
    code = code_of(w)
    to_line(code, 1)
    use = tree.body.rhs.left  # type: ignore[attr-defined]
    assert w.controller.infos[the_handler(w).tlid][use.id].marks == ()
    QTest.keyClick(code, K.Key_Up, ALT)
    assert shown(w) == "let b = a + 1\nlet a = 1\nb"
    marks = w.controller.infos[the_handler(w).tlid][use.id].marks
    assert [m.kind for m in marks] == [UNBOUND_VARIABLE], marks


def test_alt_up_on_the_first_let_says_why_it_cannot_move(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    w = open_window(chain())
    code = code_of(w)
    to_line(code, 0)
    QTest.keyClick(code, K.Key_Up, ALT)
    assert "already the first" in w.status.currentMessage()
    assert shown(w) == "let a = 1\nlet b = 2\na + b"
    to_line(code, 2)  # `a + b` is no line that moves
    QTest.keyClick(code, K.Key_Down, ALT)
    assert "put the caret on one" in w.status.currentMessage()


MOVES = [
    # (tree, line, Rights from the line's start, key, text after)
    (b.match(b.var("x"), (b.pint(1), 10), (b.pint(2), 20), (b.pint(3), 30)), 2, 0, K.Key_Up,
     "match x\n  2 -> 20\n  1 -> 10\n  3 -> 30"),
    (b.match(b.var("x"), (b.pint(1), 10), (b.pint(2), 20)), 1, 5, K.Key_Down,
     "match x\n  2 -> 20\n  1 -> 10"),
    (b.list_(1, 2, 3), 0, 1, K.Key_Down, "[2, 1, 3]"),
    (b.list_(1, 2, 3), 0, 7, K.Key_Up, "[1, 3, 2]"),
    (b.record(("a", 1), ("b", 2)), 0, 8, K.Key_Up, "{ b: 2, a: 1 }"),
    (b.pipe(b.list_(1), b.call("List::length_v0", b.target()), b.infix("+", b.target(), 1)),
     2, 0, K.Key_Up, None),
]


@pytest.mark.parametrize(("tree", "line", "right", "key", "expected"), MOVES)
def test_alt_up_and_down_move_arms_items_fields_and_pipe_steps(
        open_window: Callable[[n.Expr], MainWindow], tree: n.Expr, line: int, right: int,
        key: Qt.Key, expected: str | None) -> None:
    w = open_window(tree)
    code = code_of(w)
    to_line(code, line)
    QTest.keyClick(code, K.Key_Home)
    for _ in range(right):
        QTest.keyClick(code, K.Key_Right)
    caret_before = w.controller.state.caret
    before = the_handler(w).body
    QTest.keyClick(code, key, ALT)
    after = the_handler(w).body
    assert after != before, w.status.currentMessage()
    if expected is not None:
        assert shown(w) == expected
    else:  # the pipe: its two steps swapped
        assert isinstance(before, n.EPipe) and isinstance(after, n.EPipe)
        assert after.steps == (before.steps[1], before.steps[0]) and after.head == before.head
    assert sorted(traverse.node_ids(after)) == sorted(traverse.node_ids(before))
    # The caret stays on the moved thing, so the opposite key moves it back.
    assert caret_before is not None and w.controller.state.caret is not None
    if caret_before.node_id != before.id:  # (not on a `|>` of the pipe itself)
        assert w.controller.state.caret == caret_before
    other = K.Key_Down if key == K.Key_Up else K.Key_Up
    QTest.keyClick(code, other, ALT)
    assert the_handler(w).body == before
    QTest.keyClick(code, K.Key_Z, CTRL)           # undoes the move back, in one step
    assert the_handler(w).body == after
    QTest.keyClick(code, K.Key_Z, CTRL)           # and the move, in one step
    assert the_handler(w).body == before


def test_ctrl_shift_k_on_a_let_line_keeps_the_lines_below(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    w = open_window(chain())
    code = code_of(w)
    to_line(code, 0, right=9)                     # at the end of `let a = 1`
    QTest.keyClick(code, K.Key_K, CTRL | SHIFT)
    assert shown(w) == "let b = 2\na + b"
    # `a` is now unbound, as deleting the line in a text editor leaves it; the checker
    # marks it.
    tl = the_handler(w)
    use = tl.body.body.left  # type: ignore[attr-defined]
    marks = w.controller.infos[tl.tlid][use.id].marks
    assert [m.kind for m in marks] == [UNBOUND_VARIABLE], marks
    QTest.keyClick(code, K.Key_Z, CTRL)
    assert shown(w) == "let a = 1\nlet b = 2\na + b"


def test_deleting_a_selected_let_removes_the_binding_only(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    w = open_window(chain())
    code = code_of(w)
    to_line(code, 1, right=8)                     # on `2`
    QTest.keyClick(code, K.Key_Up, SHIFT)         # selects 2
    QTest.keyClick(code, K.Key_Up, SHIFT)         # selects the let
    assert isinstance(w.controller.state.node(w.controller.state.selection or 0), n.ELet)
    QTest.keyClick(code, K.Key_Delete)
    assert shown(w) == "let a = 1\na + b"


def test_ctrl_u_in_an_else_branch_keeps_that_branch(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    tree = b.let("x", 1, b.if_(b.infix(">", b.var("x"), 0), b.str_("pos"), b.str_("neg")))
    w = open_window(tree)
    code = code_of(w)
    QTest.keyClick(code, K.Key_End, CTRL)         # the else branch's `"neg"`
    QTest.keyClick(code, K.Key_U, CTRL)
    body = the_handler(w).body
    assert isinstance(body, n.ELet) and body.body == tree.body.else_  # type: ignore[attr-defined]
    assert "Unwrapped the if" in w.status.currentMessage()
    QTest.keyClick(code, K.Key_Z, CTRL)
    assert the_handler(w).body == tree


def test_ctrl_u_in_an_ifs_condition_never_drops_both_branches(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    cond = b.infix(">", b.var("x"), 0)
    tree = b.let("x", 1, b.if_(cond, b.str_("pos"), b.str_("neg")))
    w = open_window(tree)
    code = code_of(w)
    QTest.keyClick(code, K.Key_Down)              # the `if x > 0` line
    QTest.keyClick(code, K.Key_End)               # on the condition's `0`
    QTest.keyClick(code, K.Key_U, CTRL)
    body = the_handler(w).body
    assert isinstance(body, n.ELet) and isinstance(body.body, n.EIf), shown(w)
    assert body.body.then == tree.body.then and body.body.else_ == tree.body.else_  # type: ignore[attr-defined]
    assert "condition" in w.status.currentMessage()


def test_ctrl_u_keeps_a_call_argument_and_refuses_outside_any_construct(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    tree = b.call("Int::add_v0", b.var("a"), b.int_(7))
    w = open_window(tree)
    code = code_of(w)
    QTest.keyClick(code, K.Key_End, CTRL)         # on `7`
    QTest.keyClick(code, K.Key_U, CTRL)
    assert the_handler(w).body == tree.args[1]
    QTest.keyClick(code, K.Key_U, CTRL)           # `7` alone: nothing around it
    assert "Unwrap keeps one part" in w.status.currentMessage()


def test_ctrl_x_on_a_let_line_and_ctrl_v_on_another_line_moves_the_binding(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    tree = b.let("a", 1, b.let("b", 2, b.let("c", 3, b.var("c"))))
    w = open_window(tree)
    code = code_of(w)
    to_line(code, 2, right=4)                     # in `let c = 3`, no selection
    QTest.keyClick(code, K.Key_X, CTRL)
    assert shown(w) == "let a = 1\nlet b = 2\nc"  # the binding went, the body stayed
    QTest.keyClick(code, K.Key_Up)
    QTest.keyClick(code, K.Key_Up)                # on the line `let a = 1`
    QTest.keyClick(code, K.Key_V, CTRL)
    assert shown(w) == "let c = 3\nlet a = 1\nlet b = 2\nc"
    # Pasted with ids of its own (the cut binding could be pasted twice).
    pasted = the_handler(w).body
    assert isinstance(pasted, n.ELet) and pasted.id != tree.body.body.id  # type: ignore[attr-defined]


def test_moves_in_a_locked_handler_are_refused_and_inside_a_flag_allowed(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    w = open_window(b.flag("f", b.hole(), b.list_(1, 2), b.list_(1, 2)))
    tl = the_handler(w)
    w.controller.set_locks({tl.tlid: InUse(tl.tlid, 3, 0.0)})
    body = the_handler(w).body
    assert isinstance(body, n.EFlag)
    code = code_of(w)
    proj = w.controller.state.projection(tl.tlid)
    assert proj is not None
    old_line = next(i for i, row in enumerate(proj.by_line)
                    if any(p.token.node_id == body.old.items[0].id for p in row))  # type: ignore[attr-defined]
    new_line = next(i for i, row in enumerate(proj.by_line)
                    if any(p.token.node_id == body.new.items[0].id for p in row))  # type: ignore[attr-defined]
    to_line(code, old_line)
    QTest.keyClick(code, K.Key_End)
    QTest.keyClick(code, K.Key_Left)              # after the `2` of the old (live) list
    QTest.keyClick(code, K.Key_Up, ALT)
    assert "in use" in w.status.currentMessage()
    assert the_handler(w).body == body
    to_line(code, new_line)
    QTest.keyClick(code, K.Key_End)
    QTest.keyClick(code, K.Key_Left)              # after the `2` of the new branch's list
    QTest.keyClick(code, K.Key_Up, ALT)
    after = the_handler(w).body
    assert isinstance(after, n.EFlag) and after.old == body.old
    assert [i.value for i in after.new.items] == [2, 1]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- model


TLID = 5


def start(body: n.Expr) -> EditorState:
    tl = Handler(TLID, Pos(0, 0), 0, HttpSpec("GET", "/code"), body)
    return motion.focus(EditorState({TLID: tl}), TLID).state


def perform(state: EditorState, name: str) -> Outcome:
    out = actions.perform(state, name)
    assert apply_to_canvas(out.ops, state.canvas) == dict(out.state.canvas)
    return out


def body_of(state: EditorState) -> n.Expr:
    tl = state.canvas[TLID]
    assert isinstance(tl, Handler)
    return tl.body


def at_node(state: EditorState, node_id: int) -> EditorState:
    proj = state.projection(TLID)
    assert proj is not None
    caret = proj.caret_start(node_id)
    assert caret is not None
    return attrs.evolve(state, caret=caret)


def test_a_let_move_is_one_replace_and_an_element_move_a_remove_and_an_insert() -> None:
    tree = chain()
    assert isinstance(tree, n.ELet)
    out = perform(at_node(start(tree), tree.body.id), "move-line-up")
    assert len(out.ops) == 1 and isinstance(out.ops[0], ReplaceNode)
    items = b.list_(1, 2)
    out = perform(at_node(start(items), items.items[0].id), "move-line-down")
    assert [type(op) for op in out.ops] == [RemoveElement, InsertElement]


def test_delete_line_on_a_case_removes_it_and_on_the_only_case_says_why() -> None:
    tree = b.match(b.var("x"), (b.pint(1), 10), (b.pint(2), 20))
    out = perform(at_node(start(tree), tree.arms[0].pattern.id), "delete-line")
    assert not out.refused and body_of(out.state) == attrs.evolve(tree, arms=tree.arms[1:])
    out = perform(at_node(out.state, tree.arms[1].pattern.id), "delete-line")
    assert out.refused and "at least one case" in out.message


def test_unwrap_in_a_flags_new_branch_commits_it_as_the_flag_command_does() -> None:
    tree = b.flag("f", b.bool_(True), b.int_(1), b.int_(2))
    out = perform(at_node(start(tree), tree.new.id), "unwrap")
    assert body_of(out.state) == tree.new
    assert out.ops == (ReplaceNode(TLID, tree.id, tree, tree.new),)
    # In the old branch it keeps the old code, as discarding the flag does.
    out = perform(at_node(start(tree), tree.old.id), "unwrap")
    assert body_of(out.state) == tree.old


def test_copy_without_a_selection_copies_a_let_line_and_paste_repeats_it() -> None:
    tree = chain()
    assert isinstance(tree, n.ELet)
    state = at_node(start(tree), tree.id)
    state = perform(state, "copy").state
    state = perform(state, "paste").state
    state = perform(state, "paste").state
    proj = state.projection(TLID)
    assert proj is not None and proj.text == "let a = 1\nlet a = 1\nlet a = 1\nlet b = 2\na + b"


# ----------------------------------------------------------- properties


def _kinds(node: object) -> Counter[object]:
    """The multiset of nodes by kind and own values (ids and children left out)."""
    out: Counter[object] = Counter()
    for x in traverse.walk(node):  # type: ignore[arg-type]
        own = tuple((f.name, getattr(x, f.name)) for f in attrs.fields(type(x))
                    if f.name != "id" and not isinstance(getattr(x, f.name), (n.Node, tuple)))
        out[(x.KIND, own)] += 1
    return out


@st.composite
def let_chains(draw: st.DrawFn) -> tuple[n.Expr, int]:
    """A chain of lets over a final expression, and the index of one let in it."""
    count = draw(st.integers(1, 6))
    rhs = st.one_of(st.integers(-5, 5).map(b.int_), st.sampled_from("abcd").map(b.var),
                    st.builds(b.list_, st.integers(0, 3), st.integers(0, 3)))
    tree: n.Expr = b.infix("+", b.var(draw(st.sampled_from("abcd"))), b.int_(1))
    for _ in range(count):
        tree = b.let(draw(st.sampled_from("abcd")), draw(rhs), tree)
    return tree, draw(st.integers(0, count - 1))


def _let_at(tree: n.Expr, index: int) -> n.ELet:
    node = tree
    for _ in range(index):
        assert isinstance(node, n.ELet)
        node = node.body
    assert isinstance(node, n.ELet)
    return node


@settings(max_examples=60, deadline=None)
@given(let_chains(), st.sampled_from(["move-line-up", "move-line-down"]))
def test_a_let_move_and_its_opposite_give_the_chain_back(
        drawn: tuple[n.Expr, int], first: str) -> None:
    tree, index = drawn
    count = sum(1 for x in traverse.walk(tree) if isinstance(x, n.ELet))
    state = at_node(start(tree), _let_at(tree, index).id)
    out = perform(state, first)
    at_end = index == 0 if first == "move-line-up" else index == count - 1
    assert out.refused == at_end, out.message
    if out.refused:
        assert body_of(out.state) == tree and "already the" in out.message
        return
    moved = body_of(out.state)
    assert moved != tree and _kinds(moved) == _kinds(tree)
    assert sorted(traverse.node_ids(moved)) == sorted(traverse.node_ids(tree))
    back = perform(out.state, "move-line-down" if first == "move-line-up" else "move-line-up")
    assert not back.refused, back.message
    assert strip_ids(body_of(back.state)) == strip_ids(tree)


@st.composite
def element_trees(draw: st.DrawFn) -> tuple[n.Expr, int]:
    """A list, record, match or pipe with two or more elements, and one element's id."""
    size = draw(st.integers(2, 5))
    values = draw(st.lists(st.integers(0, 9), min_size=size, max_size=size))
    kind = draw(st.sampled_from(["list", "record", "match", "pipe"]))
    tree: n.Expr
    if kind == "list":
        tree = b.list_(*values)
        ids = [i.id for i in tree.items]
    elif kind == "record":
        tree = b.record(*((f"f{k}", v) for k, v in enumerate(values)))
        ids = [f.id for f in tree.fields]
    elif kind == "match":
        tree = b.match(b.var("x"), *((b.pint(v), v) for v in values))
        ids = [a.pattern.id for a in tree.arms]
    else:
        tree = b.pipe(b.int_(0), *(b.infix("+", b.target(), v) for v in values))
        # The piped value is not shown (`|> + 3`): the caret goes on the step's own operand.
        ids = [s.right.id for s in tree.steps]  # type: ignore[attr-defined]
    return tree, draw(st.sampled_from(ids))


@settings(max_examples=60, deadline=None)
@given(element_trees(), st.lists(st.sampled_from(["move-line-up", "move-line-down"]),
                                 max_size=6))
def test_element_moves_never_lose_or_duplicate_nodes_and_undo_all_gives_it_back(
        drawn: tuple[n.Expr, int], keys: list[str]) -> None:
    tree, node_id = drawn
    state = at_node(start(tree), node_id)
    done = 0
    field = {n.EList: "items", n.ERecord: "fields", n.EMatch: "arms", n.EPipe: "steps"}[
        type(tree)]
    for key in keys:
        elements = traverse.list_field(body_of(state), field)
        index = next(k for k, e in enumerate(elements) if node_id in traverse.node_ids(e))
        out = perform(state, key)
        at_end = index == 0 if key == "move-line-up" else index == len(elements) - 1
        assert out.refused == at_end, out.message
        if not out.refused:
            done += 1
            moved = body_of(out.state)
            # The elements changed order (by id: two may look alike).
            assert [x.id for x in traverse.children(moved)] != [
                x.id for x in traverse.children(body_of(state))]
            assert _kinds(moved) == _kinds(tree)
            assert sorted(traverse.node_ids(moved)) == sorted(traverse.node_ids(tree))
        else:
            assert "already the" in out.message
        state = out.state
    for _ in range(done):
        out = perform(state, "undo")
        assert not out.refused, out.message
        state = out.state
    assert body_of(state) == tree


def test_backspace_after_an_empty_lets_keyword_removes_that_binding_only(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    tree = b.let("a", 1, b.let("", b.hole(), b.var("a")))
    w = open_window(tree)
    code = code_of(w)
    to_line(code, 1)
    QTest.keyClick(code, K.Key_Home)
    for _ in range(3):
        QTest.keyClick(code, K.Key_Right)         # after `let`
    QTest.keyClick(code, K.Key_Backspace)
    assert shown(w) == "let a = 1\na"


def test_a_let_line_pasted_inside_an_expression_says_where_it_goes() -> None:
    tree = chain()
    assert isinstance(tree, n.ELet)
    state = perform(at_node(start(tree), tree.id), "cut").state
    assert isinstance(state.clipboard, n.ELet)
    inner = b.if_(b.bool_(True), 1, 2)
    state = attrs.evolve(start(inner), clipboard=state.clipboard)
    proj = state.projection(TLID)
    assert proj is not None
    else_line = next(i for i, row in enumerate(proj.by_line) if row[0].token.text == "else")
    state = attrs.evolve(state, caret=proj.caret_at(else_line, proj.line_start(else_line)))
    out = perform(state, "paste")
    assert out.refused and "goes above a line of a body" in out.message
    # On the `1` line (the if's then branch, a body of its own) it goes above.
    out = perform(at_node(state, inner.then.id), "paste")
    assert not out.refused
    assert strip_ids(body_of(out.state)) == strip_ids(
        b.if_(b.bool_(True), b.let("a", 1, 1), 2))


def test_cutting_the_only_pipe_step_leaves_the_head() -> None:
    tree = b.pipe(b.list_(1), b.call("List::length_v0", b.target()))
    state = at_node(start(tree), tree.steps[0].id)
    out = perform(state, "cut")
    assert not out.refused and body_of(out.state) == tree.head
    assert out.state.clipboard == tree.steps[0]


def test_delete_line_on_the_first_line_of_an_if_says_how_to_remove_it_all() -> None:
    tree = b.if_(b.bool_(True), 1, 2)
    out = perform(at_node(start(tree), tree.id), "delete-line")
    assert out.refused and re.search(r"an if of \d+ lines", out.message)
    assert "Unwrap" in out.message
    # A one-line statement becomes an empty line (a hole), as the line's text would go.
    one = b.infix("+", 1, 2)
    out = perform(at_node(start(one), one.left.id), "delete-line")
    assert not out.refused and isinstance(body_of(out.state), n.EHole)


def test_unwrap_from_the_palette(open_window: Callable[[n.Expr], MainWindow]) -> None:
    tree = b.call("Int::add_v0", b.var("a"), b.int_(7))
    w = open_window(tree)
    code_of(w)
    QTest.keyClick(w.focusWidget(), K.Key_End, CTRL)   # on `7`
    QTest.keyClick(w, K.Key_K, CTRL)
    QTest.keyClicks(w.palette_.filter, "unwrap")
    assert w.palette_.list.count() == 1
    QTest.keyClick(w.palette_.filter, K.Key_Return)
    assert the_handler(w).body == tree.args[1]


def test_ctrl_c_on_a_pipe_step_line_and_ctrl_v_on_another_step_line_duplicates_it(
        open_window: Callable[[n.Expr], MainWindow]) -> None:
    tree = b.pipe(b.list_(1), b.call("List::length_v0", b.target()), b.infix("+", b.target(), 1))
    w = open_window(tree)
    code = code_of(w)
    to_line(code, 1)
    QTest.keyClick(code, K.Key_End)
    QTest.keyClick(code, K.Key_C, CTRL)
    assert "Copied the pipe step line" in w.status.currentMessage()
    QTest.keyClick(code, K.Key_Down)
    QTest.keyClick(code, K.Key_V, CTRL)
    after = the_handler(w).body
    assert isinstance(after, n.EPipe) and len(after.steps) == 3
    assert strip_ids(after.steps[1]) == strip_ids(tree.steps[0])
    assert after.steps[1].id != tree.steps[0].id and after.steps[2] == tree.steps[1]


def test_unwrap_in_a_match_keeps_the_case_body_or_the_scrutinee() -> None:
    tree = b.match(b.var("x"), (b.pint(1), b.str_("one")), (b.pint(2), b.str_("two")))
    # From the second case's pattern or body, the match becomes that case's body.
    for inside in (tree.arms[1].pattern.id, tree.arms[1].body.id):
        out = perform(at_node(start(tree), inside), "unwrap")
        assert body_of(out.state) == tree.arms[1].body
        assert out.state.caret is not None and out.state.caret.node_id == tree.arms[1].body.id
    out = perform(at_node(start(tree), tree.scrutinee.id), "unwrap")
    assert body_of(out.state) == tree.scrutinee


def test_a_selected_let_moves_and_stays_selected() -> None:
    tree = chain()
    assert isinstance(tree, n.ELet)
    state = attrs.evolve(at_node(start(tree), tree.id), selection=tree.body.id)
    out = perform(state, "move-line-up")
    assert body_of(out.state).id == tree.body.id and out.state.selection == tree.body.id
