"""The code view's kept line images paint what painting from scratch paints (line_images.py).

A `CodeView` keeps an image of each line it painted and draws it again while
the same line object comes back with the same selection and marks. These
tests show one view a run of edits, selections and error marks, and after each
compare what it paints with what a new view (nothing kept) paints for the
same projection, pixel for pixel.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_strategies import canvas_toplevels, valid_ops
from PySide6.QtGui import QImage

from editor.projection import Caret, Projection
from editor.projection.layout import body_of
from editor.widgets import keymap as keymaps
from editor.widgets.code_view import CodeView, LiveHint
from shared_ast import build as b
from shared_ast import ops as o
from shared_ast import traverse
from shared_ast.apply import apply
from shared_ast.nodes import ELet
from shared_ast.toplevels import Toplevel

CODE_OPS = [o.ReplaceNode, o.SetName, o.InsertElement, o.RemoveElement]
KEYMAP = keymaps.load()


def _painted(view: CodeView) -> QImage:
    view.resize(view.sizeHint())
    return view.grab().toImage()


def _show(view: CodeView, proj: Projection, selection: set[int], marked: set[int],
          hint: LiveHint | None) -> None:
    first = proj.placed[0].token.node_id
    view.show_code(proj, proj.position(Caret(proj.tlid, first, 0)), selection, marked, hint)


def _fresh_paint(proj: Projection, selection: set[int], marked: set[int],
                 hint: LiveHint | None) -> QImage:
    view = CodeView(KEYMAP)
    try:
        _show(view, proj, selection, marked, hint)
        return _painted(view)
    finally:
        view.deleteLater()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_kept_line_images_paint_what_a_new_view_paints(qapp: Any, data: st.DataObject) -> None:
    tl: Toplevel = data.draw(canvas_toplevels(10).filter(lambda t: body_of(t) is not None),
                             label="toplevel")
    view = CodeView(KEYMAP)
    try:
        for _step in range(data.draw(st.integers(1, 5), label="steps")):
            if data.draw(st.booleans(), label="edit"):
                op = data.draw(valid_ops(tl, data.draw(st.sampled_from(CODE_OPS))), label="op")
                new = apply(op, tl)
                assert new is not None
                tl = new
            ids = traverse.node_ids(tl)[1:]
            selection = set(data.draw(st.lists(st.sampled_from(ids), max_size=3),
                                      label="selection"))
            marked = set(data.draw(st.lists(st.sampled_from(ids), max_size=3), label="marked"))
            hint = data.draw(st.sampled_from([None, LiveHint("42"), LiveHint("old", False)]),
                             label="hint")
            proj = Projection.of_toplevel(tl)
            assert proj is not None
            _show(view, proj, selection, marked, hint)
            assert _painted(view) == _fresh_paint(proj, selection, marked, hint)
    finally:
        view.deleteLater()


def _chain(n: int) -> Any:
    body: Any = b.var(f"v{n - 1}")
    for i in reversed(range(n)):
        body = b.let(f"v{i}", b.infix("+", b.var("x"), b.int_(i)), body)
    return body


def test_an_edit_paints_only_the_lines_it_changed(qapp: Any) -> None:
    tl = b.http("GET", "/chain", _chain(40))
    view = CodeView(KEYMAP)
    try:
        proj = Projection.of_toplevel(tl)
        assert proj is not None
        _show(view, proj, set(), set(), None)
        _painted(view)
        made = view.images.made
        assert made == len(proj.lines)
        body = tl.body
        assert isinstance(body, ELet)
        edited = traverse.replace(tl, body.rhs.id, b.int_(7))
        proj = Projection.of_toplevel(edited)  # type: ignore[arg-type]
        assert proj is not None
        _show(view, proj, set(), set(), None)
        _painted(view)
        # The edited line, and at most the first and last line of the unchanged rest.
        assert view.images.made - made <= 3
    finally:
        view.deleteLater()
