"""Typing like text (issue 12, items 7-11), with real key events on the real widgets.

The core invariant: typing the text form of a program (as the editor itself
shows it), character by character, gives that program. The property at the
end draws small expressions, lays them out with the projection, types that
text into an empty hole and compares the trees without ids.

What the generator covers: ints (negative too), floats, strings, bools, null,
the route's variables, lambda parameters in their lambda's body, field access
on a variable, infix operators of every precedence (with the parentheses the
layout shows), library calls (arguments grouped with parentheses where the
layout puts them), `Just`/`Ok`/`Nothing`, lists and records; and lines of
`let`s: Enter at the end of a `let` line starts the next `let` (typing its
`let ` goes over the keyword Enter wrote, and Enter goes onto a body still
blank); match cases (strings, ints, `_`, names, `Just q`, `Nothing`; Enter after
`match x` goes into its blank case, after a case adds the next, and ` -> ` is
typed over the case's arrow); pipes (a step per line, typed on one line:
`xs |> List::map (\\a -> ...) |> Int::add 1`), as a let's value or the last
line. A real-keys variant types each line and presses Enter between them (on
the popup an exact name is taken and the line ended by the same key). Not
covered yet: if and flag (their `then`/`else`/`old`/`new` lines are reached
with Tab, not typed over); lets nested in a value; calls of a function with
several versions (see `CALLS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from strategies import strip_ids

from editor.controller import EditorController
from editor.model import actions, committing, motion, typing
from editor.model.state import EditorState
from editor.projection import Projection
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast.toplevels import Handler

ROUTE = "/t/:x/:y/:xs/:rows"
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    controller.load([b.http("GET", ROUTE, b.hole(), pos=(20, 20))])
    w = MainWindow(controller)
    w.show()
    yield w
    w.close()
    w.deleteLater()


def the_handler(w: MainWindow) -> Handler:
    tl = next(iter(w.controller.state.canvas.values()))
    assert isinstance(tl, Handler)
    return tl


def code_of(w: MainWindow, body: n.Expr | None = None) -> Any:
    """The handler's code view, focused, its body `body` (or kept), the caret at its start."""
    c = w.controller
    tl = the_handler(w)
    if body is not None:
        c.load([b.http("GET", ROUTE, body, pos=(20, 20))])
        tl = the_handler(w)
    c.focus(tl.tlid)
    code = w.canvas.frames[tl.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_Home, CTRL)
    return code


def finish(w: MainWindow, code: Any) -> None:
    """Tab finishes a name or operator still being typed (on the popup its exact match,
    which ranks first; Enter there would also end the line)."""
    caret = w.controller.state.caret
    node = w.controller.state.node(caret.node_id) if caret is not None else None
    if w.popup.isVisible() or isinstance(node, (n.EPartial, n.ERightPartial)):
        QTest.keyClick(code, Qt.Key.Key_Tab)


def body(w: MainWindow) -> n.Expr:
    return the_handler(w).body


def shown(w: MainWindow) -> str:
    text = w.controller.state.projection(the_handler(w).tlid)
    assert text is not None
    return text.text


# ------------------------------------------------------------- item 7


def test_what_is_typed_ranks_first_in_the_popup(window: MainWindow) -> None:
    code = code_of(window, b.call("Int::add_v0", b.hole(), 1))   # an Int is expected
    QTest.keyClick(code, Qt.Key.Key_Tab)
    QTest.keyClicks(code, "r")
    labels = window.popup.labels()
    # The route's `rows` (a String) before `Result::map`, which only fits the type.
    assert labels[0] == "rows"
    starts = [label.lower().startswith("r") for label in labels]
    assert starts == sorted(starts, reverse=True)
    QTest.keyClicks(code, "o")
    assert window.popup.labels()[0] == "rows"
    QTest.keyClick(code, Qt.Key.Key_Backspace)
    QTest.keyClick(code, Qt.Key.Key_Backspace)
    QTest.keyClicks(code, "toI")
    assert window.popup.labels()[0] == "String::toInt_v1"    # labelled as code shows it


# ------------------------------------------------------------- item 8


def test_a_call_typed_as_text_with_spaces_between_arguments(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "List::fold xs 0 (\\acc, x -> acc + x)")
    want = b.call("List::fold_v0", b.var("xs"), 0,
                  b.lam(["acc", "x"], b.infix("+", b.var("acc"), b.var("x"))))
    assert strip_ids(body(window)) == strip_ids(want)
    assert shown(window) == "List::fold xs 0 (\\acc, x -> acc + x)"


def test_tab_on_the_popup_accepts_and_goes_on_to_the_next_hole(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "Int::ad")
    assert window.popup.isVisible()
    QTest.keyClick(code, Qt.Key.Key_Tab)        # Int::add, the caret in its first argument
    QTest.keyClicks(code, "x")
    assert window.popup.isVisible() and window.popup.labels()[0] == "x"
    QTest.keyClick(code, Qt.Key.Key_Tab)        # takes `x` and moves to the second argument
    QTest.keyClicks(code, "7")
    assert strip_ids(body(window)) == strip_ids(b.call("Int::add_v0", b.var("x"), 7))


def messages_of(w: MainWindow) -> list[str]:
    said: list[str] = []
    w.controller.message.connect(said.append)
    return said


def test_a_match_types_as_text_over_its_cases_arrows(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "match x")
    assert window.popup.isVisible()
    QTest.keyClick(code, Qt.Key.Key_Return)     # takes `x`, and on into the blank case
    match = body(window)
    assert isinstance(match, n.EMatch) and len(match.arms) == 1
    QTest.keyClicks(code, '"ada" -> "hi ada"')  # ` -> ` typed over the case's arrow
    QTest.keyClick(code, Qt.Key.Key_Return)     # a finished case: Enter adds the next
    QTest.keyClicks(code, '_ -> "who?')
    QTest.keyClick(code, Qt.Key.Key_Return)     # only the closing quote follows: a line end
    QTest.keyClicks(code, "Nothing -> 1")       # `Nothing ` takes no argument
    want = b.match(b.var("x"), (b.pstr("ada"), b.str_("hi ada")), (b.pwild(), b.str_("who?")),
                   (b.pctor("Nothing"), 1))
    assert strip_ids(body(window)) == strip_ids(want)
    assert shown(window) == 'match x\n  "ada" -> "hi ada"\n  _ -> "who?"\n  Nothing -> 1'


def test_the_arrow_of_a_case_is_stepped_over_without_spaces_too(window: MainWindow) -> None:
    code = code_of(window, b.match(b.var("x"), (b.phole(), b.hole())))
    QTest.keyClick(code, Qt.Key.Key_Tab)        # the case's pattern
    QTest.keyClicks(code, "1->2")
    want = b.match(b.var("x"), (b.pint(1), 2))
    assert strip_ids(body(window)) == strip_ids(want)


def test_a_pipe_through_a_grouped_lambda_types_as_text(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "xs |> List::map (\\a -> a * 10) |> Int::su")
    assert window.popup.isVisible() and window.popup.labels()[0] == "Int::sum"
    QTest.keyClick(code, Qt.Key.Key_Return)
    want = b.pipe(b.var("xs"),
                  b.call("List::map_v0", b.target(), b.lam(["a"], b.infix("*", b.var("a"), 10))),
                  b.call("Int::sum_v0", b.target()))
    assert strip_ids(body(window)) == strip_ids(want)
    # Without the parentheses the lambda's body goes on to the end, as the text reads.
    code = code_of(window, b.hole())
    QTest.keyClicks(code, "List::map xs \\a -> a |> Int::sum")
    finish(window, code)
    lam = body(window).args[1]                  # type: ignore[attr-defined]
    assert isinstance(lam, n.ELambda) and isinstance(lam.body, n.EPipe)


def test_a_field_that_names_one_of_the_records_fields_reads_as_one(window: MainWindow) -> None:
    code = code_of(window, b.let("user", b.record(("name", b.str_("ada")), ("age", 36)),
                                 b.hole()))
    QTest.keyClick(code, Qt.Key.Key_Tab)        # the body
    QTest.keyClicks(code, "user.nam")
    assert shown(window).endswith("user .nam")  # not a field of user's yet: still typed
    QTest.keyClicks(code, "e")
    assert shown(window).endswith("\nuser.name")
    assert strip_ids(body(window).body) == strip_ids(  # type: ignore[attr-defined]
        b.field(b.var("user"), "name"))
    QTest.keyClicks(code, "s")                  # and typing on edits the field's name
    assert shown(window).endswith("\nuser.names")


def test_a_field_of_something_of_unknown_type_reads_as_one_at_once(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "\\r -> r.a")
    assert shown(window) == "\\r -> r.a"
    lam = body(window)
    assert isinstance(lam, n.ELambda) and isinstance(lam.body, n.EField)


def test_enter_on_an_exact_name_takes_it_and_ends_the_line(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "let n = Int::neg")
    QTest.keyClick(code, Qt.Key.Key_Return)     # a function: the caret in its argument
    assert shown(window) == "let n = Int::negate ___\n___"
    QTest.keyClicks(code, "x")
    assert window.popup.isVisible()
    QTest.keyClick(code, Qt.Key.Key_Return)     # `x` as typed: taken, and a new line
    QTest.keyClicks(code, "let m = n")
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "m + 1")
    want = b.let("n", b.call("Int::negate_v0", b.var("x")),
                 b.let("m", b.var("n"), b.infix("+", b.var("m"), 1)))
    assert strip_ids(body(window)) == strip_ids(want)


def test_enter_after_a_field_name_commits_it_and_ends_the_line(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "let n = x.size")    # x is a String: `.size` stays being typed
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "n")
    finish(window, code)
    want = b.let("n", b.field(b.var("x"), "size"), b.var("n"))
    assert strip_ids(body(window)) == strip_ids(want)


def test_enter_on_a_completion_longer_than_what_is_typed_only_takes_it(
        window: MainWindow) -> None:
    code = code_of(window, b.let("n", b.hole(), b.hole()))
    QTest.keyClick(code, Qt.Key.Key_Tab)        # the let's value
    QTest.keyClicks(code, "ro")
    QTest.keyClick(code, Qt.Key.Key_Return)
    assert shown(window) == "let n = rows\n___"
    caret = window.controller.state.caret
    assert caret is not None and caret.node_id == body(window).rhs.id  # type: ignore[attr-defined]


def test_enter_on_an_exact_name_in_a_flags_condition_only_takes_it(window: MainWindow) -> None:
    flag = b.flag("f", b.hole(), 1, 2)
    code = code_of(window, b.let("n", 1, flag))
    QTest.keyClick(code, Qt.Key.Key_Tab)        # the flag's condition (no line to add below)
    QTest.keyClicks(code, "true")
    QTest.keyClick(code, Qt.Key.Key_Return)
    want = b.let("n", 1, b.flag("f", True, 1, 2))
    assert strip_ids(body(window)) == strip_ids(want)


def test_enter_on_an_empty_line_says_so(window: MainWindow) -> None:
    code = code_of(window)
    said = messages_of(window)
    QTest.keyClick(code, Qt.Key.Key_Return)
    assert isinstance(body(window), n.EHole)
    assert said and "empty" in said[-1]


# ------------------------------------------------------------- item 9


@pytest.mark.parametrize(("text", "want"), [
    ("(x + y) * 2", b.infix("*", b.infix("+", b.var("x"), b.var("y")), 2)),
    ("x + (y * 2)", b.infix("+", b.var("x"), b.infix("*", b.var("y"), 2))),
    ("x * (y + 2)", b.infix("*", b.var("x"), b.infix("+", b.var("y"), 2))),
    ("((1 + 2) * (3 - y)) / 4",
     b.infix("/", b.infix("*", b.infix("+", 1, 2), b.infix("-", 3, b.var("y"))), 4)),
    ("Int::add (Int::negate x) y",
     b.call("Int::add_v0", b.call("Int::negate_v0", b.var("x")), b.var("y"))),
])
def test_parentheses_typed_as_text_group(window: MainWindow, text: str, want: n.Expr) -> None:
    code = code_of(window)
    QTest.keyClicks(code, text)
    finish(window, code)
    assert strip_ids(body(window)) == strip_ids(want)


def test_backspace_after_an_open_parenthesis_takes_it_back(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "x * (")
    QTest.keyClick(code, Qt.Key.Key_Backspace)  # the `(`: nothing in the tree changes
    assert strip_ids(body(window)) == strip_ids(b.infix("*", b.var("x"), b.hole()))
    QTest.keyClicks(code, "y + 1")              # no group now: `*` binds tighter
    want = b.infix("+", b.infix("*", b.var("x"), b.var("y")), 1)
    assert strip_ids(body(window)) == strip_ids(want)


def test_a_closing_parenthesis_with_no_group_open_says_so(window: MainWindow) -> None:
    code = code_of(window)
    messages: list[str] = []
    window.controller.message.connect(messages.append)
    QTest.keyClicks(code, ")")
    assert isinstance(body(window), n.EHole)
    assert messages and "closes a group" in messages[-1]


# ------------------------------------------------------------ item 10


def test_end_enter_after_a_pipes_last_step_adds_the_let_below(window: MainWindow) -> None:
    rhs = b.pipe(b.var("xs"), b.call("List::length_v0", b.target()))
    code = code_of(window, b.let("n", rhs, b.infix("+", b.var("n"), 1)))
    assert shown(window).splitlines()[1].strip().startswith("|>")
    QTest.keyClick(code, Qt.Key.Key_Down)       # the pipe's last step
    QTest.keyClick(code, Qt.Key.Key_End)
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "m")
    QTest.keyClick(code, Qt.Key.Key_Tab)
    QTest.keyClicks(code, "2")
    got = body(window)
    want = b.let("n", rhs, b.let("m", 2, b.infix("+", b.var("n"), 1)))
    assert strip_ids(got) == strip_ids(want)


def test_lines_of_lets_typed_as_text_with_enter(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, "let a = 1")
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "let b = a + 1")
    QTest.keyClick(code, Qt.Key.Key_Return)     # Enter at the end of the line: the next line
    QTest.keyClicks(code, "let c = b")
    assert window.popup.isVisible()
    QTest.keyClick(code, Qt.Key.Key_Return)     # takes `b`, and ends the line as text does
    QTest.keyClicks(code, "c * 2")
    want = b.let("a", 1, b.let("b", b.infix("+", b.var("a"), 1),
                                b.let("c", b.var("b"), b.infix("*", b.var("c"), 2))))
    assert strip_ids(body(window)) == strip_ids(want)


def test_end_enter_on_the_last_line_adds_a_line_below(window: MainWindow) -> None:
    code = code_of(window, b.let("n", 1, b.var("n")))
    QTest.keyClick(code, Qt.Key.Key_Down)
    QTest.keyClick(code, Qt.Key.Key_End)
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "5")
    want = b.let("n", 1, b.let("_", b.var("n"), 5))
    assert strip_ids(body(window)) == strip_ids(want)


# ------------------------------------------------------------ item 11


def undo(code: Any) -> None:
    QTest.keyClick(code, Qt.Key.Key_Z, CTRL)


def test_undo_takes_back_typing_a_word_at_a_time(window: MainWindow) -> None:
    code = code_of(window)
    QTest.keyClicks(code, '"hello world')
    assert shown(window) == '"hello world"'
    undo(code)
    assert shown(window) == '"hello "'
    undo(code)
    assert isinstance(body(window), n.EHole)
    QTest.keyClick(code, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert shown(window) == '"hello "'


def test_a_pause_or_a_caret_move_starts_a_new_undo_step(window: MainWindow) -> None:
    now = [100.0]
    window.controller.clock = lambda: now[0]
    code = code_of(window)
    QTest.keyClicks(code, '"abc')
    now[0] += 2.0                               # a pause longer than a second
    QTest.keyClicks(code, "def")
    undo(code)
    assert shown(window) == '"abc"'
    QTest.keyClick(code, Qt.Key.Key_Left)       # undo left the caret after the string
    QTest.keyClicks(code, "gh")
    QTest.keyClick(code, Qt.Key.Key_Left)
    QTest.keyClicks(code, "X")                  # after a move: its own step
    assert shown(window) == '"abcgXh"'
    undo(code)
    assert shown(window) == '"abcgh"'


def test_undoing_a_word_sends_its_inverse_as_one_batch(window: MainWindow) -> None:
    sent: list[list[Any]] = []

    class Session:
        pending_batches: tuple[()] = ()

        def send_ops(self, ops: list[Any]) -> None:
            sent.append(ops)

    window.controller.session = Session()
    code = code_of(window)
    QTest.keyClicks(code, "12345")
    assert len(sent) == 5                       # each key still goes to the runtime
    undo(code)
    assert len(sent) == 6 and isinstance(body(window), n.EHole)
    typed_ops = [op for batch in sent[:5] for op in batch]
    assert len(sent[5]) == len(typed_ops)


# ------------------------------------------------- the text form property

VARIABLES = ("x", "y", "xs")
OPERATORS = ("+", "-", "*", "/", "<", "==", "&&", "++")
#: Functions with one version only: a call of an older version shows a `_v0` suffix or none
#: depending on the layout (issue 12 item 5, another branch), which text cannot name yet.
CALLS = {"Int::negate_v0": 1, "Int::add_v0": 2, "List::length_v0": 1, "Int::max_v0": 2,
         "List::fold_v0": 3}


def expressions(scope: tuple[str, ...], depth: int = 3) -> st.SearchStrategy[n.Expr]:
    leaves = st.one_of(
        st.integers(-999, 999).map(b.int_),
        st.integers(-400, 400).map(lambda k: b.float_(k / 4)),
        st.sampled_from(scope).map(b.var),
        st.text("abc xyz", max_size=6).map(b.str_),
        st.sampled_from([b.bool_(True), b.bool_(False), b.null(), b.nothing()]),
        st.tuples(st.sampled_from(scope), st.sampled_from(["a", "size"])).map(
            lambda p: b.field(b.var(p[0]), p[1])),
    )
    if depth == 0:
        return leaves
    inner = expressions(scope, depth - 1)

    def call(name: str) -> st.SearchStrategy[n.Expr]:
        return st.lists(inner, min_size=CALLS[name], max_size=CALLS[name]).map(
            lambda args: b.call(name, *args))

    lam = st.sampled_from([("a",), ("a", "b")]).flatmap(
        lambda ps: expressions((*scope, *ps), depth - 1).map(lambda e: b.lam(list(ps), e)))
    return st.one_of(
        leaves,
        st.builds(b.infix, st.sampled_from(OPERATORS), inner, inner),
        st.sampled_from(sorted(CALLS)).flatmap(call),
        st.builds(b.just, inner),
        st.builds(b.ok, inner),
        st.lists(inner, max_size=3).map(lambda items: b.list_(*items)),
        st.lists(st.sampled_from(["a", "bc", "d"]), min_size=1, max_size=2, unique=True).flatmap(
            lambda names: st.lists(inner, min_size=len(names), max_size=len(names)).map(
                lambda values: b.record(*zip(names, values, strict=True)))),
        lam,
    )


@st.composite
def let_chains(draw: st.DrawFn) -> n.Expr:
    """`let v0 = ...` lines, each seeing the ones above, then the result on the last line."""
    scope: tuple[str, ...] = VARIABLES
    lets: list[tuple[str, n.Expr]] = []
    for i in range(draw(st.integers(1, 3))):
        lets.append((f"v{i}", draw(expressions(scope, depth=2))))
        scope = (*scope, f"v{i}")
    e = draw(expressions(scope, depth=2))
    for name, rhs in reversed(lets):
        e = b.let(name, rhs, e)
    return e


def text_form(e: n.Expr) -> str:
    proj = Projection.of_toplevel(b.http("GET", ROUTE, e))
    assert proj is not None
    return proj.text


def finished(state: EditorState) -> EditorState:
    """A name or operator still being typed, committed (Enter without the popup commits a
    name; Enter would also end the line after a field, so that is committed directly)."""
    node = state.node(state.caret.node_id) if state.caret else None
    if isinstance(node, n.EPartial):
        return actions.perform(state, "newline").state
    if isinstance(node, n.ERightPartial):
        return committing.commit_right_partial(state, node.id).state
    return state


def typed_lines(text: str) -> list[tuple[bool, str]]:
    """A text form's lines as typed: (Enter before it?, its characters). No indentation is
    typed, and a pipe's steps go on the line they continue (the layout breaks them)."""
    typed: list[tuple[bool, str]] = []
    for i, shown_line in enumerate(text.split("\n")):
        line = shown_line.strip()
        if i and line.startswith("|>"):
            typed.append((False, " " + line))
        else:
            typed.append((i > 0, line))
    return typed


def typed_into_a_hole(text: str) -> n.Expr:
    tl = b.http("GET", ROUTE, b.hole())
    state: EditorState = motion.focus(EditorState({tl.tlid: tl}), tl.tlid).state
    for enter, line in typed_lines(text):
        if enter:
            # A new line: Enter finishes a name still being typed (as on VS Code's popup),
            # then Enter at the end of the line goes on to the line below: the body a `let`
            # left blank, a match's next case (a new one, or the blank one `match` made).
            state = finished(state)
            out = actions.perform(state, "newline")
            assert not out.refused, out.message
            state = out.state
        for ch in line:
            out = typing.insert_char(state, ch)
            assert not out.refused, f"{ch!r} refused in {text!r}: {out.message}"
            state = out.state
    state = finished(state)
    typed_tl = state.canvas[tl.tlid]
    assert isinstance(typed_tl, Handler)
    return typed_tl.body


#: Match cases' patterns, each with the names it binds for the case's value.
PATTERNS: st.SearchStrategy[tuple[n.Pattern, tuple[str, ...]]] = st.one_of(
    st.text("ab ", max_size=4).map(lambda t: (b.pstr(t), ())),
    st.integers(0, 99).map(lambda k: (b.pint(k), ())),
    st.just((b.pwild(), ())),
    st.just((b.pctor("Nothing"), ())),
    st.just((b.pctor("Just", b.pvar("q")), ("q",))),
    st.just((b.pvar("v"), ("v",))),
)


@st.composite
def matches(draw: st.DrawFn, scope: tuple[str, ...] = VARIABLES) -> n.Expr:
    """`match x` and one to three cases, each on its line."""
    arms = []
    for _ in range(draw(st.integers(1, 3))):
        pattern, bound = draw(PATTERNS)
        arms.append((pattern, draw(expressions((*scope, *bound), depth=1))))
    return b.match(b.var(draw(st.sampled_from(scope))), *arms)


def pipes(scope: tuple[str, ...] = VARIABLES) -> st.SearchStrategy[n.Expr]:
    """A value piped through one to three steps (a step per line, `|>` first)."""
    step = st.one_of(
        st.just(b.call("List::length_v0", b.target())),
        st.integers(0, 99).map(lambda k: b.call("Int::add_v0", b.target(), k)),
        expressions((*scope, "a"), depth=1).map(
            lambda body: b.call("List::map_v0", b.target(), b.lam(["a"], body))),
    )
    head = st.one_of(st.sampled_from(scope).map(b.var),
                     st.lists(st.integers(0, 9).map(b.int_), max_size=3).map(
                         lambda items: b.list_(*items)))
    return st.builds(lambda h, steps: b.pipe(h, *steps), head, st.lists(step, min_size=1,
                                                                         max_size=3))


@st.composite
def programs(draw: st.DrawFn) -> n.Expr:
    """Lines of lets (values: expressions or pipes), then a match, a pipe or an expression."""
    scope: tuple[str, ...] = VARIABLES
    lets: list[tuple[str, n.Expr]] = []
    for i in range(draw(st.integers(0, 2))):
        lets.append((f"v{i}", draw(st.one_of(expressions(scope, depth=1), pipes(scope)))))
        scope = (*scope, f"v{i}")
    e = draw(st.one_of(matches(scope), pipes(scope), expressions(scope, depth=1)))
    for name, rhs in reversed(lets):
        e = b.let(name, rhs, e)
    return e


@settings(max_examples=300, deadline=None)
@given(expressions(VARIABLES))
@example(b.float_(-0.25))                      # `-0` once lost its sign on the way
def test_typing_the_text_form_of_an_expression_gives_that_expression(e: n.Expr) -> None:
    text = text_form(e)
    assert "\n" not in text
    assert strip_ids(typed_into_a_hole(text)) == strip_ids(e), text


@settings(max_examples=100, deadline=None)
@given(let_chains())
def test_typing_the_lines_of_lets_with_enter_gives_those_lets(e: n.Expr) -> None:
    text = text_form(e)
    assert strip_ids(typed_into_a_hole(text)) == strip_ids(e), text


@settings(max_examples=150, deadline=None)
@given(programs())
@example(b.match(b.var("x"), (b.pstr("ada"), b.str_("hi ada")), (b.pwild(), b.str_("who?"))))
@example(b.pipe(b.var("xs"), b.call("List::map_v0", b.target(),
                                    b.lam(["a"], b.infix("*", b.var("a"), 10))),
                b.call("Int::add_v0", b.target(), 1)))
def test_typing_lines_with_matches_and_pipes_gives_that_program(e: n.Expr) -> None:
    text = text_form(e)
    assert strip_ids(typed_into_a_hole(text)) == strip_ids(e), text


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(e=programs())
def test_a_programs_lines_typed_with_real_keys_and_enter_give_that_program(
        window: MainWindow, e: n.Expr) -> None:
    """As text: each line's characters, Enter between lines (on the popup, an exact name is
    taken and the line ended with the same key); a pipe's steps typed on one line."""
    code = code_of(window, b.hole())
    text = text_form(e)
    for enter, line in typed_lines(text):
        if enter:
            QTest.keyClick(code, Qt.Key.Key_Return)
        QTest.keyClicks(code, line)
    finish(window, code)
    assert strip_ids(body(window)) == strip_ids(e), text


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(e=expressions(VARIABLES, depth=2))
def test_the_text_form_typed_with_real_keys_gives_that_expression(
        window: MainWindow, e: n.Expr) -> None:
    code = code_of(window, b.hole())
    text = text_form(e)
    QTest.keyClicks(code, text)
    finish(window, code)
    assert strip_ids(body(window)) == strip_ids(e), text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text("abz", min_size=1, max_size=4), min_size=1, max_size=4))
def test_each_undo_takes_back_one_word_of_a_typed_string(words: list[str]) -> None:
    tl = b.http("GET", ROUTE, b.hole())
    state: EditorState = motion.focus(EditorState({tl.tlid: tl}), tl.tlid).state
    text = '"' + " ".join(words)
    for ch in text:
        state = typing.insert_char(state, ch).state
    # Word by word from the end: each step keeps the words before and their space.
    for k in range(len(words) - 1, 0, -1):
        state = actions.undo(state).state
        typed_tl = state.canvas[tl.tlid]
        assert isinstance(typed_tl, Handler)
        assert strip_ids(typed_tl.body) == strip_ids(b.str_(" ".join(words[:k]) + " "))
    state = actions.undo(state).state                # the first word and the quote
    first = state.canvas[tl.tlid]
    assert isinstance(first, Handler) and isinstance(first.body, n.EHole)
    assert not state.history.can_undo(tl.tlid)
