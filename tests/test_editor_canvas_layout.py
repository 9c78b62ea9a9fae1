"""Seeing what you edit (issue 12, items 1 and 4), with real key events on the real window.

Frames never overlap: a frame that grows pushes the frames below it down, and
only those moves are sent. The canvas scrolls to keep the caret in view. Keys
jump between toplevels (Ctrl+PgDown / Ctrl+PgUp) and to one by name (Ctrl+P).
Popups stay inside the window. Long messages are readable (tooltip, log on
Ctrl+Shift+U), and connecting is not reported as "not connected".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtTest import QTest

from editor.client.session import CanvasSession
from editor.controller import EditorController
from editor.model import canvas_actions
from editor.model.placement import GAP, Box, free_position, push_apart
from editor.model.state import EditorState, replace
from editor.widgets.main_window import MainWindow
from editor.widgets.popups import place_popup
from shared_ast import build as b
from shared_ast.ops import MoveToplevel
from shared_ast.toplevels import Handler, HttpSpec, Pos

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def make_window(toplevels: list[Any], size: tuple[int, int] = (1000, 520)) -> MainWindow:
    controller = EditorController(None)
    controller.load(toplevels)
    w = MainWindow(controller)
    w.resize(*size)
    w.show()
    return w


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    w = make_window([b.http("GET", "/one", b.hole(), pos=(20, 20)),
                     b.http("GET", "/two", b.infix("+", 1, 2), pos=(20, 110)),
                     b.http("GET", "/side", 3, pos=(1400, 20))])
    yield w
    w.close()
    w.deleteLater()


def tlid_of(w: MainWindow, route: str) -> int:
    return next(t for t, tl in w.controller.state.canvas.items()
                if isinstance(tl, Handler) and isinstance(tl.spec, HttpSpec)
                and tl.spec.route == route)


def code_of(w: MainWindow, route: str) -> Any:
    return w.canvas.frames[tlid_of(w, route)].code


def focus_code(w: MainWindow, route: str) -> Any:
    w.controller.focus(tlid_of(w, route))
    code = code_of(w, route)
    code.setFocus()
    return code


def caret_in_viewport(w: MainWindow) -> bool:
    caret = w.controller.state.caret
    assert caret is not None
    code = w.canvas.frames[caret.tlid].code
    rect = code.caret_rect()
    assert rect is not None
    viewport = w.canvas_scroll.viewport()
    on_screen = QRect(code.mapTo(viewport, rect.topLeft()), rect.size())
    return viewport.rect().contains(on_screen)


def type_lets(code: Any, count: int) -> None:
    QTest.keyClicks(code, "let a0 = 0")
    for i in range(1, count):           # line by line, as text
        QTest.keyClick(code, Qt.Key.Key_Return)
        QTest.keyClicks(code, f"let a{i} = {i}")


# ------------------------------------------------------------ item 1: frames and caret


def test_a_growing_handler_pushes_the_frame_below_and_the_caret_stays_in_view(
        window: MainWindow) -> None:
    moves_sent: list[dict[int, Pos]] = []
    arrange = window.controller.arrange
    window.controller.arrange = lambda moves: (moves_sent.append(dict(moves)),  # type: ignore
                                               arrange(moves))[1]
    one, two, side = (tlid_of(window, r) for r in ("/one", "/two", "/side"))
    side_before = window.controller.state.canvas[side].pos
    code = focus_code(window, "/one")
    type_lets(code, 30)
    assert window.controller.state.projection(one).text.count("\n") >= 30  # it really grew
    frames = window.canvas.frames
    assert frames[one].geometry().bottom() > 110  # past where /two was
    for a, b_ in combinations(frames.values(), 2):
        assert not a.geometry().intersects(b_.geometry()), (a.tlid, b_.tlid)
    # The pushed frame's place is on the runtime's copy too (a move op), just below /one.
    two_pos = window.controller.state.canvas[two].pos
    assert (two_pos.x, two_pos.y) == (frames[two].x(), frames[two].y())
    assert two_pos.y == frames[one].geometry().bottom() + 1 + GAP
    # Only frames that moved were sent: never /one (being typed in), never /side (to the right).
    assert moves_sent and all(one not in m and side not in m for m in moves_sent)
    assert window.controller.state.canvas[side].pos == side_before
    # The line being typed is on screen, though /one is taller than the view now.
    assert frames[one].height() > window.canvas_scroll.viewport().height()
    assert window.canvas_scroll.verticalScrollBar().value() > 0
    assert caret_in_viewport(window)
    # Moving the caret back up scrolls back to it.
    QTest.keyClick(code, Qt.Key.Key_Home, CTRL)
    assert caret_in_viewport(window)
    assert window.canvas_scroll.verticalScrollBar().value() < frames[one].height() // 2


def test_new_frames_go_in_free_space_that_accounts_for_real_sizes(window: MainWindow) -> None:
    code = focus_code(window, "/two")  # the lowest frame grows taller than 200 px
    QTest.keyClick(code, Qt.Key.Key_Home, CTRL)
    QTest.keyClick(code, Qt.Key.Key_L, CTRL)  # wrap in let, then add lets below it
    QTest.keyClicks(code, "a0")
    for i in range(1, 14):
        QTest.keyClick(code, Qt.Key.Key_Return)
        QTest.keyClicks(code, f"a{i} = {i}")
    two = window.canvas.frames[tlid_of(window, "/two")]
    assert two.height() > 260
    moves_sent: list[dict[int, Pos]] = []
    arrange = window.controller.arrange
    window.controller.arrange = lambda moves: (moves_sent.append(dict(moves)),  # type: ignore
                                               arrange(moves))[1]
    QTest.keyClick(code, Qt.Key.Key_N, CTRL)  # a new HTTP handler
    new = window.controller.state.caret
    assert new is not None and new.tlid in window.canvas.frames
    frames = window.canvas.frames
    for a, b_ in combinations(frames.values(), 2):
        assert not a.geometry().intersects(b_.geometry()), (a.tlid, b_.tlid)
    assert moves_sent == []  # it went where there was room: nothing had to be pushed
    assert frames[new.tlid].y() > two.geometry().bottom()


def test_ctrl_pgdown_and_pgup_step_through_toplevels_in_reading_order(
        window: MainWindow) -> None:
    one, two, side = (tlid_of(window, r) for r in ("/one", "/two", "/side"))
    code = focus_code(window, "/one")
    QTest.keyClick(code, Qt.Key.Key_PageDown, CTRL)
    assert window.controller.state.caret is not None
    assert window.controller.state.caret.tlid == side  # y 20, to the right of /one
    assert window.focusWidget() is window.canvas.frames[side].code
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_PageDown, CTRL)
    assert window.controller.state.caret.tlid == two
    assert window.focusWidget() is window.canvas.frames[two].code
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_PageDown, CTRL)  # wraps around
    assert window.controller.state.caret.tlid == one
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_PageUp, CTRL)
    assert window.controller.state.caret.tlid == two
    assert caret_in_viewport(window)


def test_ctrl_p_goes_to_a_toplevel_by_part_of_its_route(window: MainWindow) -> None:
    code = focus_code(window, "/one")
    QTest.keyClick(code, Qt.Key.Key_P, CTRL)
    assert window.palette_.isVisible()
    assert window.palette_.list.count() == 3
    QTest.keyClicks(window.palette_.filter, "tw")
    assert [window.palette_.list.item(i).text() for i in range(window.palette_.list.count())
            ] == ["HTTP GET /two"]
    QTest.keyClick(window.palette_.filter, Qt.Key.Key_Return)
    assert not window.palette_.isVisible()
    two = tlid_of(window, "/two")
    assert window.controller.state.caret is not None and window.controller.state.caret.tlid == two
    assert window.focusWidget() is window.canvas.frames[two].code
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_End)
    QTest.keyClicks(window.focusWidget(), "0")  # typing goes into /two's code
    assert window.controller.state.projection(two).text == "1 + 20"


def test_the_palette_offers_the_navigation_and_log_commands(window: MainWindow) -> None:
    focus_code(window, "/one")
    QTest.keyClick(window, Qt.Key.Key_K, CTRL)
    QTest.keyClicks(window.palette_.filter, "go to toplevel")
    assert window.palette_.list.count() == 1
    QTest.keyClick(window.palette_.filter, Qt.Key.Key_Return)
    assert window.palette_.isVisible()  # now the toplevel pick
    assert "Go to toplevel" in window.palette_.filter.placeholderText()
    QTest.keyClick(window.palette_.filter, Qt.Key.Key_Escape)
    QTest.keyClick(window, Qt.Key.Key_K, CTRL)
    QTest.keyClicks(window.palette_.filter, "show all messages")
    QTest.keyClick(window.palette_.filter, Qt.Key.Key_Return)
    assert window.message_log is not None and window.message_log.isVisible()


# ------------------------------------------------------------ item 4: popups, messages


def test_the_completion_popup_stays_inside_the_window_near_its_bottom_right(
        qapp: Any) -> None:
    w = make_window([b.http("GET", "/far", b.hole(), pos=(900, 1500))], size=(760, 460))
    try:
        code = focus_code(w, "/far")
        QTest.keyClicks(code, "Int")
        # The caret as low in the view as following it leaves it: no room below for ten rows.
        bar = w.canvas_scroll.verticalScrollBar()
        bar.setValue(bar.value() - 200)
        QTest.keyClicks(code, "::")
        assert w.popup.isVisible() and len(w.popup.labels()) >= 5
        assert w.rect().contains(w.popup.geometry()), (w.popup.geometry(), w.rect())
        rect = code.caret_rect()
        caret_top = code.mapTo(w, rect.topLeft()).y()
        assert caret_top > w.height() - w.popup.height()  # it would not fit below
        assert w.popup.geometry().bottom() < caret_top  # so it is above the caret
        assert w.popup.geometry().right() < w.width()  # and moved in from the right edge
        QTest.keyClicks(code, "ad")
        # Every row shown whole: the list is as tall as its rows.
        lst = w.popup.list
        for i in range(lst.count()):
            assert lst.viewport().rect().contains(lst.visualItemRect(lst.item(i)))
        QTest.keyClicks(code, "d")  # one row left: shown whole, still inside the window
        assert lst.count() >= 1
        assert lst.viewport().rect().contains(lst.visualItemRect(lst.item(0)))
        assert w.rect().contains(w.popup.geometry())
    finally:
        w.close()
        w.deleteLater()


def test_a_popup_goes_below_the_caret_when_there_is_room(window: MainWindow) -> None:
    code = focus_code(window, "/one")
    QTest.keyClicks(code, "Int::ad")
    rect = code.caret_rect()
    assert window.popup.geometry().top() > code.mapTo(window, rect.bottomLeft()).y()
    assert window.rect().contains(window.popup.geometry())


@given(st.integers(-50, 1300), st.integers(-50, 900), st.integers(10, 500),
       st.integers(10, 400))
def test_place_popup_keeps_a_fitting_popup_inside_its_bounds(x: int, y: int, w: int,
                                                             h: int) -> None:
    bounds = QRect(0, 0, 1280, 800)
    at = place_popup(QRect(x, y, 2, 18), QSize(w, h), bounds)
    assert bounds.contains(QRect(at, QSize(w, h)))


def test_a_long_message_is_readable_in_full_and_stays_in_the_log(window: MainWindow) -> None:
    long = ("That edit was not made: " + "the runtime explained at length why " * 12
            + "and the end of the message says what to do.")
    code = focus_code(window, "/one")
    window.controller.message.emit("first message")
    window.controller.message.emit(long)
    bar = window.status
    assert bar.currentMessage() == long
    shown = bar.shown_text()
    assert shown.endswith("…") and len(shown) < len(long)  # elided, not cut mid-letter
    assert long in bar.toolTip() and "Ctrl+Shift+U" in bar.toolTip()
    bar.clearMessage()  # what the timeout does
    QTest.keyClick(code, Qt.Key.Key_U, CTRL | SHIFT)
    log = window.message_log
    assert log is not None and log.isVisible()
    lines = log.lines()
    assert lines[-2].endswith("  first message") and lines[-1].endswith("  " + long)
    assert lines[-1][:8].count(":") == 2  # its time, HH:MM:SS
    window.controller.message.emit("newest")  # the open log follows
    assert log.lines()[-1].endswith("  newest")


def test_a_refused_key_lands_in_the_log_too(window: MainWindow) -> None:
    code = focus_code(window, "/two")
    QTest.keyClick(code, Qt.Key.Key_Home, CTRL)
    QTest.keyClicks(code, "*")
    said = window.status.currentMessage()
    assert said and window.status.log[-1][1] == said


def test_connecting_is_not_reported_as_not_connected(qapp: Any, tmp_path: Path) -> None:
    async def scenario() -> tuple[list[str], str, list[str]]:
        session = CanvasSession("http://127.0.0.1:1", "demo", "t", "me",
                                queue_path=tmp_path / "queue.json")
        controller = EditorController(session)
        window = MainWindow(controller)
        session.start()
        controller.refresh_404s()  # as the editor does at startup
        focus = controller.state.caret
        assert focus is None
        await asyncio.sleep(0)
        while_connecting = [m for _t, m in window.status.log]
        status_then = window.status.currentMessage()
        for _ in range(200):
            if session.state == "offline":
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)  # a few retries (0.2 s, 0.4 s...)
        after = [m for _t, m in window.status.log]
        await session.close()
        window.close()
        return while_connecting, status_then, after

    while_connecting, status_then, after = asyncio.run(scenario())
    assert not any("not connected" in m or "unavailable" in m for m in while_connecting)
    assert status_then.startswith("Connecting to") and status_then.endswith("…")
    assert while_connecting == [status_then]
    # A connection that fails is reported, once it has failed, and its retries not each time.
    assert after[:1] == [status_then] and len(after) == 2 and "retrying" in after[1]


class FakeSession(QObject):
    loaded = Signal(object)
    remote_ops = Signal(object, str)
    rejected = Signal(int, str, object)
    acked = Signal(int, int)
    connection_changed = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.state, self.asked = "connecting", []  # type: ignore[var-annotated]

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(message["type"])
        return {"requests": [{"method": "GET", "path": "/missing", "count": 1}]}


def test_what_was_asked_while_connecting_is_fetched_once_online() -> None:
    async def scenario() -> tuple[list[str], list[str], list[Any]]:
        session = FakeSession()
        controller = EditorController(session)
        said: list[str] = []
        controller.message.connect(said.append)
        controller.refresh_404s()
        await asyncio.sleep(0)
        asked_before = list(session.asked)
        session.state = "online"
        session.connection_changed.emit("online", "connected")
        await asyncio.sleep(0.01)
        return asked_before, session.asked, said + controller.not_found

    before, after, rest = asyncio.run(scenario())
    assert before == [] and after == ["get_404s"]
    assert rest == [{"method": "GET", "path": "/missing", "count": 1}]


# ------------------------------------------------------------ placement, as properties


boxes_st = st.dictionaries(
    st.integers(1, 40),
    st.builds(Box, st.integers(0, 800), st.integers(0, 1500), st.integers(20, 500),
              st.integers(20, 600)),
    max_size=14)


@given(boxes_st, st.data())
def test_push_apart_leaves_no_overlap_and_moves_only_what_must_move(
        boxes: dict[int, Box], data: st.DataObject) -> None:
    first = data.draw(st.sampled_from([None, *boxes]))
    moves = push_apart(boxes, first)
    after = {t: Box(moves[t].x, moves[t].y, b_.w, b_.h) if t in moves else b_
             for t, b_ in boxes.items()}
    for (t, a), (u, c) in combinations(after.items(), 2):
        assert not a.overlaps(c), (t, u)
    for t, pos in moves.items():
        assert pos.x == boxes[t].x and pos.y > boxes[t].y  # straight down, never up
        # It had to move: where it was, it would overlap another frame's final place.
        assert any(boxes[t].overlaps(c) for u, c in after.items() if u != t)
    assert first not in moves
    # A layout without overlaps is left alone.
    assert push_apart(after, first) == {}


@given(boxes_st, st.integers(20, 500), st.integers(20, 400))
def test_free_position_overlaps_no_frame(boxes: dict[int, Box], w: int, h: int) -> None:
    pos = free_position(boxes, (w, h))
    placed = Box(pos.x, pos.y, w, h)
    assert not any(placed.overlaps(b_) for b_ in boxes.values())


def test_arrange_sends_one_batch_of_only_the_frames_that_move() -> None:
    one, two = b.http("GET", "/a", 1, pos=(0, 0)), b.http("GET", "/b", 1, pos=(0, 50))
    state = EditorState().with_canvas({one.tlid: one, two.tlid: two})
    out = canvas_actions.arrange(state, {one.tlid: Pos(0, 0), two.tlid: Pos(0, 300)})
    assert out.ops == (MoveToplevel(two.tlid, Pos(0, 50), Pos(0, 300)),)
    assert out.state.canvas[two.tlid].pos == Pos(0, 300)
    assert canvas_actions.arrange(out.state, {two.tlid: Pos(0, 300)}).ops == ()


def test_free_position_is_below_a_tall_frame_not_200px_under_its_top() -> None:
    tall = {1: Box(40, 40, 400, 900)}
    assert free_position(tall).y == 40 + 900 + GAP
    assert QPoint(free_position({}).x, free_position({}).y) == QPoint(40, 40)


def test_the_palette_sizes_to_its_rows_and_stays_inside_the_smallest_window(qapp: Any) -> None:
    w = make_window([b.http("GET", "/one", 1, pos=(20, 20)),
                     b.http("GET", "/two", 2, pos=(20, 200))], size=(300, 200))
    try:
        code = focus_code(w, "/one")
        QTest.keyClick(code, Qt.Key.Key_K, CTRL)  # every command: more rows than fit
        pal = w.palette_
        assert pal.list.count() > 20
        assert w.rect().contains(pal.geometry()), (pal.geometry(), w.rect())
        QTest.keyClick(pal.filter, Qt.Key.Key_Escape)
        QTest.keyClick(code, Qt.Key.Key_P, CTRL)  # two toplevels: two rows, shown whole
        assert pal.list.count() == 2 and w.rect().contains(pal.geometry())
        for i in range(2):
            assert pal.list.viewport().rect().contains(pal.list.visualItemRect(pal.list.item(i)))
        rows = sum(pal.list.visualItemRect(pal.list.item(i)).height() for i in range(2))
        assert pal.height() < rows + pal.filter.height() + 50  # no empty space below the rows
    finally:
        w.close()
        w.deleteLater()


# ------------------------------------------- what pushes frames, and what a push keeps


def test_a_push_keeps_the_new_name_selected_so_typing_still_renames_it(
        window: MainWindow) -> None:
    """Extract variable grows /one into /two; the push must not drop the name's selection."""
    code = focus_code(window, "/one")
    QTest.keyClicks(code, "1 + 2")
    QTest.keyClick(code, Qt.Key.Key_Home)           # on the `1`: it is what is extracted
    two = tlid_of(window, "/two")
    # /two just below /one, so that one more line of /one overlaps it.
    window.controller.move(two, Pos(20, window.canvas.frames[tlid_of(window, "/one")]
                                    .geometry().bottom() + 1 + GAP))
    before = window.controller.state.canvas[two].pos
    QTest.keyClick(code, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier)
    assert window.controller.state.canvas[two].pos != before   # /two was pushed down
    QTest.keyClicks(code, "total")
    assert window.controller.state.projection().text == "let total = 1\ntotal + 2"


def test_only_this_editors_edits_push_frames(window: MainWindow) -> None:
    sent: list[dict[int, Pos]] = []
    arrange = window.controller.arrange
    window.controller.arrange = lambda moves: (sent.append(dict(moves)),  # type: ignore
                                               arrange(moves))[1]
    one, two = tlid_of(window, "/one"), tlid_of(window, "/two")
    # Another editor's change makes /one overlap /two: nothing is pushed for it...
    tall = b.let("a", 1, b.let("b", 2, b.let("c", 3, b.let("d", 4, b.var("a")))))
    tl = window.controller.state.canvas[one]
    window.controller.on_remote_ops([replace(tl, tl.body.id, tall)], "other")  # type: ignore[attr-defined]
    code = focus_code(window, "/two")
    QTest.keyClick(code, Qt.Key.Key_Right)          # ...nor for a caret move
    QTest.keyClick(code, Qt.Key.Key_Left)
    assert sent == []
    assert window.controller.state.canvas[two].pos == Pos(20, 110)
    # An edit of our own does push (the frame being edited stays where it is).
    QTest.keyClick(code, Qt.Key.Key_End)
    QTest.keyClicks(code, "0")
    assert sent and all(two not in moves for moves in sent)
