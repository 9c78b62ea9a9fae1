"""The projection (`editor.projection`): trees as lines of tokens, and caret arithmetic.

Properties over every expression kind (`tests/strategies.py`): layout never
fails, every node that is shown owns a token, tokens belong to the tree, and
a caret survives the trip to a screen position and back. Parentheses are
checked against an independent precedence-climbing reader of the shown text:
what is shown reads back as the tree, and every pair of parentheses shown is
needed for that.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import exprs, renumber, toplevels

from editor.projection import Caret, Projection, layout_expr, layout_toplevel
from editor.projection.layout import show_string, string_index
from editor.projection.tokens import HOLE_TEXT
from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast import traverse
from shared_ast.operators import OPERATORS
from shared_ast.toplevels import Datastore, Handler, UserFunction, UserType
from shared_ast.type_ast import INT


def text_of(e: n.Expr) -> str:
    return "\n".join(line.text for line in layout_expr(e))


def shown_ids(e: n.Node) -> set[int]:
    """The nodes the layout must show: all but the inside of a partial's old expression.

    A partial shows its old expression greyed as one token owned by the old
    expression's root (none when it is a hole), and a pipe without steps is
    just its head. A call's first argument, or an operator's left side, that is the
    piped value is implicit: not shown.
    """
    out: set[int] = set()
    stack: list[n.Node] = [e]
    while stack:
        node = stack.pop()
        if not (isinstance(node, n.EPipe) and not node.steps):
            out.add(node.id)
        if isinstance(node, n.EPartial):
            if not isinstance(node.old, n.EHole):
                out.add(node.old.id)
            continue
        stack.extend(traverse.children(node))
    return out - implicit_targets(e)


def implicit_targets(e: n.Node) -> set[int]:
    """The pipe targets the layout leaves implicit (`xs |> List::map f`, `|> + 1`)."""
    out: set[int] = set()
    for node in traverse.walk(e):
        match node:
            case n.ECall(args=(n.EPipeTarget() as t, *_)):
                out.add(t.id)
            case n.EInfix(left=n.EPipeTarget() as t) | n.ERightPartial(left=n.EPipeTarget() as t):
                out.add(t.id)
    return out


# ------------------------------------------------------------ properties


@settings(max_examples=400)
@given(exprs(16))
def test_every_shown_node_owns_a_token_and_every_token_a_node(e: n.Expr) -> None:
    proj = Projection.of_expr(e, 1)
    ids = set(traverse.node_ids(e))
    assert proj.lines, "a layout has at least one line"
    for p in proj.placed:
        assert p.token.node_id in ids, f"token {p.token} belongs to no node of the tree"
    missing = [i for i in shown_ids(e) if not proj.has(i)]
    assert not missing, f"nodes {missing} have no token in\n{proj.text}"
    # Columns are consistent with the text of each line.
    for number, line in enumerate(proj.lines):
        for p in proj.by_line[number]:
            assert line.text[p.column:p.end] == p.token.text


@settings(max_examples=300)
@given(exprs(16))
def test_a_caret_from_a_click_goes_to_a_position_that_clicks_back_to_it(e: n.Expr) -> None:
    proj = Projection.of_expr(e, 1)
    for line in range(len(proj.lines)):
        for column in range(proj.line_end(line) + 2):
            caret = proj.caret_at(line, column)
            assert proj.has(caret.node_id)
            pos = proj.position(caret)
            assert pos is not None
            assert proj.caret_at(*pos) == caret, (
                f"({line}, {column}) gives {caret}, shown at {pos}, which gives "
                f"{proj.caret_at(*pos)}\n{proj.text}")


@settings(max_examples=200)
@given(exprs(12))
def test_every_offset_of_a_node_has_a_position_on_its_own_tokens(e: n.Expr) -> None:
    proj = Projection.of_expr(e, 1)
    for node_id in shown_ids(e):
        for offset in range(proj.own_length(node_id) + 1):
            found = proj.placed_at(Caret(1, node_id, offset))
            assert found is not None
            placed, k = found
            assert placed.token.node_id == node_id and 0 <= k <= len(placed.token.text)


@settings(max_examples=100)
@given(toplevels(8))
def test_toplevels_with_code_are_laid_out_and_the_others_are_not(tl: object) -> None:
    lines = layout_toplevel(tl)  # type: ignore[arg-type]
    if isinstance(tl, (Handler, UserFunction)):
        assert lines and Projection.of_toplevel(tl) is not None
    else:
        assert isinstance(tl, (UserType, Datastore))
        assert lines == [] and Projection.of_toplevel(tl) is None


def test_the_first_flag_branch_line_is_reached_by_its_own_caret() -> None:
    # Regression: the caret at the start of `old` (the flag's own text right after
    # `when `) was shown at the end of the line above, behind the condition.
    e = renumber(n.EFlag(0, "f", n.EHole(0), n.EHole(0), n.EHole(0)))
    proj = Projection.of_expr(e, 1)
    caret = proj.caret_at(1, 2)
    assert caret.node_id == e.id
    assert proj.position(caret) == (1, 2)


# ------------------------------------------------------------ layout of each kind


@pytest.mark.parametrize(("tree", "shown"), [
    (b.hole(), HOLE_TEXT),
    (b.int_(-3), "-3"),
    (b.float_(1.0), "1.0"),
    (b.str_("hi"), '"hi"'),
    (b.str_('say "hi"\n'), '"say \\"hi\\"\\n"'),
    (b.bool_(False), "false"),
    (b.null(), "null"),
    (b.var("x"), "x"),
    (b.list_(), "[]"),
    (b.list_(1, 2), "[1, 2]"),
    (b.record(), "{}"),
    (b.record(a=1, b="s"), '{ a: 1, b: "s" }'),
    (b.lam(["a", "b"], b.var("a")), "\\a, b -> a"),
    (b.call("Int::add_v0", 1, b.call("Int::add_v0", 2, 3)), "Int::add 1 (Int::add 2 3)"),
    (b.call("String::length_v1", "s"), 'String::length_v1 "s"'),
    (b.ctor("Just", b.ctor("Just", 1)), "Just (Just 1)"),
    (b.ctor("Just", b.nothing()), "Just Nothing"),
    (b.field(b.field(b.var("r"), "a"), "b"), "r.a.b"),
    (b.field(b.infix("+", 1, 2), "x"), "(1 + 2).x"),
    (b.let("x", 1, b.var("x")), "let x = 1\nx"),
    (b.if_(True, 1, 2), "if true\nthen\n  1\nelse\n  2"),
    (b.match(b.var("x"), (b.pint(1), 2), (b.pctor("Just", b.pctor("Just", b.pwild())), 3)),
     "match x\n  1 -> 2\n  Just (Just _) -> 3"),
    (b.pipe(b.list_(1), b.call("List::length_v0", b.target())),
     "[1]\n  |> List::length"),
    (b.pipe(b.list_(1), b.infix("+", b.target(), b.target())), "[1]\n  |> + piped"),
    (b.flag("f", True, 1, 2), "flag f when true\n  old 1\n  new 2"),
    (b.partial("Int::a", b.infix("+", 1, 2)), "Int::a  1 + 2"),
    (b.partial("x", b.hole()), "x"),
    (b.rpartial("+", b.infix("*", 1, 2)), "(1 * 2) +"),
    (n.ELet(1, "", b.hole(), b.hole()), f"let name = {HOLE_TEXT}\n{HOLE_TEXT}"),
])
def test_each_kind_is_shown_as_code_reads(tree: n.Expr, shown: str) -> None:
    assert text_of(tree) == shown


def test_a_user_call_shows_the_functions_name() -> None:
    fn = b.function("square", [("x", INT)], INT, b.infix("*", b.var("x"), b.var("x")))
    call = b.user_call(fn, 3)
    assert "\n".join(ln.text for ln in layout_expr(call, {fn.fn_id: "square"})) == "square 3"


def test_blocks_inside_inline_code_are_parenthesised() -> None:
    assert text_of(b.infix("+", b.lam(["a"], 1), 2)) == "(\\a -> 1) + 2"
    assert text_of(b.call("Int::add_v0", b.let("x", 1, b.var("x")), 2)) == (
        "Int::add (let x = 1\n          x) 2")
    assert text_of(b.infix("+", b.if_(True, 1, 2), 3)).startswith("(if true")


def test_holes_and_blank_names_are_tab_stops_in_reading_order() -> None:
    e = n.ELet(1, "", n.EHole(2), n.EInfix(3, "+", n.EHole(4), n.EHole(5)))
    proj = Projection.of_expr(e, 9)
    assert [p.token.node_id for p in proj.holes()] == [1, 2, 4, 5]
    assert all(p.token.blank for p in proj.holes())


@pytest.mark.parametrize("value", ["", "plain", "a\nb", "back\\slash", 'q"uote', "\t\t"])
def test_string_offsets_map_shown_characters_to_the_strings_own(value: str) -> None:
    shown = show_string(value)
    assert "\n" not in shown
    assert string_index(value, 0) == 0
    assert string_index(value, len(shown)) == len(value)
    for i in range(len(value) + 1):
        assert string_index(value, len(show_string(value[:i]))) == i


# ------------------------------------------------------------ precedence

#: An independent reader of shown infix code, the test's oracle: precedence
#: climbing over the operator table, `^` to the right, the rest to the left.
_TOKEN = re.compile(r"\s*(\d+|\(|\)|[^\s\d()]+)")


def read_back(text: str) -> object:
    tokens = _TOKEN.findall(text)
    pos = 0

    def atom() -> object:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            inner = expr(0)
            assert tokens[pos] == ")", f"unclosed parenthesis in {text!r}"
            pos += 1
            return inner
        assert tok.isdigit(), f"unexpected {tok!r} in {text!r}"
        return int(tok)

    def expr(min_prec: int) -> object:
        nonlocal pos
        left = atom()
        while pos < len(tokens) and tokens[pos] in OPERATORS:
            op = OPERATORS[tokens[pos]]
            if op.precedence < min_prec:
                break
            pos += 1
            right = expr(op.precedence if op.right_assoc else op.precedence + 1)
            left = (op.symbol, left, right)
        return left

    result = expr(0)
    assert pos == len(tokens), f"{text!r} has left-over tokens {tokens[pos:]}"
    return result


def shape(e: n.Expr) -> object:
    if isinstance(e, n.EInfix):
        return (e.op, shape(e.left), shape(e.right))
    assert isinstance(e, n.EInt)
    return e.value


def infix_trees() -> st.SearchStrategy[n.Expr]:
    leaf = st.builds(n.EInt, st.just(0), st.integers(0, 9))
    return st.recursive(
        leaf,
        lambda inner: st.builds(n.EInfix, st.just(0), st.sampled_from(sorted(OPERATORS)),
                                inner, inner),
        max_leaves=7,
    ).map(renumber)


@settings(max_examples=500)
@given(infix_trees())
def test_shown_operators_read_back_as_the_tree(e: n.Expr) -> None:
    assert read_back(text_of(e)) == shape(e)


@settings(max_examples=300)
@given(infix_trees())
def test_every_pair_of_parentheses_shown_is_needed(e: n.Expr) -> None:
    text = text_of(e)
    opens = [i for i, c in enumerate(text) if c == "("]
    for start in opens:
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        without = text[:start] + text[start + 1:end] + text[end + 1:]
        assert read_back(without) != shape(e), (
            f"the parentheses at {start} in {text!r} change nothing")


@pytest.mark.parametrize(("tree", "shown"), [
    (b.infix("*", b.infix("+", 1, 2), 3), "(1 + 2) * 3"),
    (b.infix("+", 1, b.infix("*", 2, 3)), "1 + 2 * 3"),
    (b.infix("+", b.infix("*", 1, 2), 3), "1 * 2 + 3"),
    (b.infix("-", b.infix("-", 1, 2), 3), "1 - 2 - 3"),
    (b.infix("-", 1, b.infix("-", 2, 3)), "1 - (2 - 3)"),
    (b.infix("^", 2, b.infix("^", 3, 2)), "2 ^ 3 ^ 2"),
    (b.infix("^", b.infix("^", 2, 3), 2), "(2 ^ 3) ^ 2"),
    (b.infix("&&", b.infix("||", True, False), True), "(true || false) && true"),
    (b.infix("==", b.infix("+", 1, 2), 3), "1 + 2 == 3"),
])
def test_parentheses_appear_exactly_where_precedence_needs_them(tree: n.Expr,
                                                                  shown: str) -> None:
    assert text_of(tree) == shown


def test_an_unknown_operator_is_always_parenthesised_inside_another() -> None:
    assert text_of(b.infix("??", b.infix("??", 1, 2), 3)) == "(1 ?? 2) ?? 3"
    assert text_of(b.infix("+", b.infix("??", 1, 2), 3)) == "(1 ?? 2) + 3"


# ------------------------------------------------------------ reading like source (issue 12 #5)


def ghosts(e: n.Expr) -> set[int]:
    """The nodes of partials' old expressions: shown greyed, as one token, not caret stops."""
    return {i for node in traverse.walk(e) if isinstance(node, n.EPartial)
            for i in traverse.node_ids(node.old)}


@settings(max_examples=300)
@given(exprs(16))
def test_every_shown_node_is_a_caret_stop_and_no_placeholder_dot_is_shown(e: n.Expr) -> None:
    proj = Projection.of_expr(e, 1)
    # (Text the user typed, a string or a name, may hold any character, also where it is
    # shown but not edited: a partial shows the expression it replaces, strings included.)
    assert not [p.token for p in proj.placed
                if "·" in p.token.text and not p.token.editable and p.token.role != "partial_old"]
    reached = {proj.caret_at(line, column).node_id
               for line in range(len(proj.lines))
               for column in range(proj.line_start(line), proj.line_end(line) + 1)}
    missing = shown_ids(e) - ghosts(e) - reached
    assert not missing, f"the caret never reaches nodes {sorted(missing)} in\n{proj.text}"


@settings(max_examples=300)
@given(exprs(16))
def test_then_and_else_sit_at_their_ifs_column(e: n.Expr) -> None:
    proj = Projection.of_expr(e, 1)
    for node in traverse.walk(e):
        if not isinstance(node, n.EIf) or node.id in ghosts(e):
            continue
        keywords = {p.token.text: p for p in proj.own_tokens(node.id) if p.token.role == "keyword"}
        if_, then, else_ = keywords["if"], keywords["then"], keywords["else"]
        assert then.column == else_.column == if_.column, proj.text
        assert if_.line < then.line < else_.line
        # Each keyword starts its own line.
        assert proj.by_line[then.line][0] is then and proj.by_line[else_.line][0] is else_


def test_an_if_in_a_let_lines_up_under_its_if() -> None:
    e = b.let("size", b.if_(b.infix(">", b.var("x"), 3), "big", "small"), b.var("size"))
    assert text_of(e) == (
        'let size = if x > 3\n'
        '           then\n'
        '             "big"\n'
        '           else\n'
        '             "small"\n'
        'size')


def test_versions_show_alike_for_library_and_user_calls() -> None:
    fn = b.function("square", [("x", INT)], INT, b.var("x"))
    v1 = n.UserFnRef(fn.fn_id, 1)
    e = b.list_(b.call("String::length_v1", "s"), b.call("Int::add_v0", 1, 2),
                n.ECall(2, v1, (b.int_(3),)), n.ECall(3, n.UserFnRef(fn.fn_id, 0), (b.int_(4),)))
    shown = "\n".join(ln.text for ln in layout_expr(renumber(e), {fn.fn_id: "square"}))
    assert shown == '[String::length_v1 "s", Int::add 1 2, square_v1 3, square 4]'
