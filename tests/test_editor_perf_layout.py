"""Incremental layout gives what a layout from scratch gives (editor/projection/fragments.py).

The projection of a toplevel reuses the lines of blocks that are the same
objects as in its last layout. These tests edit random toplevels with random
valid ops (and step back to older trees, as undo does, and rename the user
functions calls name) and check after every step that the projection's lines
equal those of a fresh layout of the same tree.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from op_strategies import canvas_toplevels, valid_ops

from editor.projection import Projection, layout_expr
from editor.projection.fragments import LayoutMemo
from editor.projection.layout import body_of
from shared_ast import build as b
from shared_ast import ops as o
from shared_ast import traverse
from shared_ast.apply import apply, invert
from shared_ast.nodes import EHole, EIf, ELet, EList, EPipe, EVariable, Expr
from shared_ast.toplevels import Toplevel

#: The op kinds that change code (the others leave the body as it was).
CODE_OPS = [o.ReplaceNode, o.SetName, o.InsertElement, o.RemoveElement]
NAMES = [{}, {1: "f"}, {1: "g", 2: "h"}]


def _with_code(tl: Toplevel) -> bool:
    return body_of(tl) is not None


def _fresh(tl: Toplevel, names: dict[int, str]) -> list[Any]:
    body = body_of(tl)
    assert body is not None
    return layout_expr(body, names)


@settings(max_examples=300)
@given(st.data())
def test_incremental_projection_equals_a_fresh_layout(data: st.DataObject) -> None:
    tl = data.draw(canvas_toplevels(12).filter(_with_code), label="toplevel")
    names = NAMES[0]
    seen: list[Toplevel] = [tl]
    for _step in range(data.draw(st.integers(1, 8), label="steps")):
        choice = data.draw(st.integers(0, 9), label="choice")
        if choice == 0 and len(seen) > 1:
            # Back to an older tree (undo brings the old subtrees back as they were).
            tl = data.draw(st.sampled_from(seen), label="older")
        elif choice == 1:
            names = data.draw(st.sampled_from(NAMES), label="names")
        elif choice == 2:
            # Move a subtree, as it is, to where something else starts its line.
            tl = _wrapped(tl, data)
            seen.append(tl)
        else:
            op = data.draw(valid_ops(tl, data.draw(st.sampled_from(CODE_OPS), label="kind")),
                           label="op")
            new = apply(op, tl)
            assert new is not None
            if choice == 3:
                # Undo right away: the inverse brings back the old subtree objects.
                back = apply(invert(op), new)
                assert back is not None
                new = back
            tl = new
            seen.append(tl)
        proj = Projection.of_toplevel(tl, names)
        assert proj is not None
        assert proj.lines == _fresh(tl, names)
        assert proj.text == "\n".join(line.text for line in _fresh(tl, names))


def _wrapped(tl: Toplevel, data: st.DataObject) -> Toplevel:
    exprs = [x for x in traverse.walk(tl) if isinstance(x, Expr)]
    node = data.draw(st.sampled_from(exprs), label="wrapped")
    fresh = max(traverse.node_ids(tl)) + 1
    wrappers = [ELet(fresh, "w", node, EHole(fresh + 1)), EList(fresh, (node,)),
                EIf(fresh, node, EHole(fresh + 1), EHole(fresh + 2)),
                EIf(fresh, EHole(fresh + 1), node, EHole(fresh + 2)),
                EPipe(fresh, EHole(fresh + 1), (node,))]
    new = traverse.replace(tl, node.id, data.draw(st.sampled_from(wrappers), label="wrapper"))
    assert isinstance(new, Toplevel)
    return new


def _chain(n: int, last: object) -> Any:
    body: Any = last
    for i in reversed(range(n)):
        body = b.let(f"v{i}", b.infix("+", b.var("x"), b.int_(i)), body)
    return body


def test_a_block_moved_to_another_indent_is_laid_out_again() -> None:
    chain = _chain(4, b.var("v3"))
    memo = LayoutMemo({})
    flat = layout_expr(chain, {}, memo)
    # The same chain object, now inside an `if`: indented by one step.
    wrapped = EIf(1, EVariable(2, "c"), chain, EHole(3))
    assert layout_expr(wrapped, {}, memo) == layout_expr(wrapped, {})
    assert layout_expr(chain, {}, memo) == flat


def test_a_block_that_started_a_line_is_reused_after_other_tokens() -> None:
    inner = b.if_(b.var("c"), b.int_(1), b.int_(2))
    memo = LayoutMemo({})
    layout_expr(inner, {}, memo)
    # The same `if`, now after `let x = ` and then after `[`: its first line changes.
    for outer in (ELet(1, "x", inner, EHole(2)), b.list_(inner), b.call("List::singleton_v0",
                                                                          inner)):
        assert layout_expr(outer, {}, memo) == layout_expr(outer, {})
        assert layout_expr(inner, {}, memo) == layout_expr(inner, {})


def test_unchanged_lines_keep_their_identity_after_an_edit() -> None:
    chain = _chain(30, b.var("v29"))
    memo = LayoutMemo({})
    before = layout_expr(chain, {}, memo)
    # Edit the first let's right-hand side: every later block is the same object.
    assert isinstance(chain, ELet)
    edited = ELet(chain.id, chain.name, b.int_(99), chain.body)
    after = layout_expr(edited, {}, memo)
    assert after == layout_expr(edited, {})
    same = sum(1 for x, y in zip(before, after, strict=True) if x is y)
    assert same >= len(before) - 2


def test_a_memo_forgets_stale_fragments() -> None:
    memo = LayoutMemo({})
    for i in range(200):
        # Fresh trees every time: nothing is reused, old fragments must not pile up.
        layout_expr(_chain(5, b.int_(i)), {}, memo)
    assert len(memo) <= 2 * 5 + 64
