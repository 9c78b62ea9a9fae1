"""Asking before a change that breaks tests, in the window, with real key events and no
runtime: the tests run in a worker thread, the replay is said to be impossible offline."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from editor.controller import EditorController
from editor.model import change_checks
from editor.model.state import replace
from editor.widgets.change_dialog import ChangeDialog
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast.nodes import EFlag
from shared_ast.ops import CreateToplevel
from shared_ast.toplevels import Toplevel, UserFunction
from shared_ast.type_ast import INT


def price_canvas(new: int) -> list[Toplevel]:
    fn = b.function("price", [("n", INT)], INT,
                    b.flag("triple", False, b.infix("*", b.var("n"), 2),
                           b.infix("*", b.var("n"), new)), pos=(500, 20))
    return [fn, b.test("doubles two", b.expect(b.user_call(fn, 2), 4), pos=(20, 300)),
            b.http("GET", "/price", b.user_call(fn, 5), pos=(20, 20))]


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    w = MainWindow(EditorController(None))
    w.show()
    yield w
    w.close()
    w.deleteLater()


def price(w: MainWindow) -> UserFunction:
    return next(t for t in w.controller.state.canvas.values() if isinstance(t, UserFunction))


def commit_flag_by_keys(w: MainWindow, qtbot: Any) -> None:
    """The caret into price's flag, then Ctrl+K, "commit feature flag", Enter."""
    fn = price(w)
    w.controller.focus(fn.tlid)
    code = w.canvas.frames[fn.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(w, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert w.palette_.isVisible()
    QTest.keyClicks(w.palette_.filter, "commit feature flag")
    QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)


def dialog_shown(w: MainWindow, qtbot: Any) -> ChangeDialog:
    qtbot.waitUntil(lambda: w.change_dialog is not None and w.change_dialog.isVisible(),
                    timeout=10_000)
    assert w.change_dialog is not None
    return w.change_dialog


def test_a_breaking_commit_asks_escape_keeps_the_flag_alt_g_commits(
        window: MainWindow, qtbot: Any) -> None:
    window.controller.load(price_canvas(new=3))
    ran_in: list[str] = []
    real = change_checks.run_tests

    def spy(change: change_checks.Change) -> change_checks.TestsRun:
        ran_in.append(threading.current_thread().name)
        return real(change)

    change_checks.run_tests = spy  # type: ignore[assignment]
    try:
        commit_flag_by_keys(window, qtbot)
        # Nothing is done until the tests say so.
        assert isinstance(price(window).body, EFlag)
        dialog = dialog_shown(window, qtbot)
    finally:
        change_checks.run_tests = real  # type: ignore[assignment]
    assert ran_in == ["change-check"]                      # off the UI thread
    items = [dialog.items.item(i).text() for i in range(dialog.items.count())]
    assert items == ["test 'doubles two' failed with flag triple new: expected 4, got 6"]
    assert "Committing flag 'triple'" in dialog.question.text()
    assert "could not be replayed (not connected to a runtime)" in dialog.summary.text()
    assert dialog.cancel_button.hasFocus()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert isinstance(price(window).body, EFlag)           # Cancel keeps the flag
    assert window.status.currentMessage().startswith("Cancelled committing flag 'triple'")

    commit_flag_by_keys(window, qtbot)
    dialog = dialog_shown(window, qtbot)
    QTest.keyClick(dialog, Qt.Key.Key_Return)              # Enter is the safe answer too
    assert isinstance(price(window).body, EFlag)

    commit_flag_by_keys(window, qtbot)
    dialog = dialog_shown(window, qtbot)
    QTest.keyClick(dialog, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    assert not isinstance(price(window).body, EFlag)       # Go ahead commits
    assert "Commit feature flag (keep new): done." in window.status.currentMessage()
    window.controller.run("undo")
    assert isinstance(price(window).body, EFlag)           # one undo step, as without a check


def test_a_commit_every_test_passes_goes_on_at_once_and_says_so(
        window: MainWindow, qtbot: Any) -> None:
    window.controller.load(price_canvas(new=2))
    reports: list[Any] = []
    window.controller.change_report.connect(reports.append)
    commit_flag_by_keys(window, qtbot)
    qtbot.waitUntil(lambda: not isinstance(price(window).body, EFlag), timeout=10_000)
    assert window.change_dialog is None
    [report] = reports
    assert not report.needs_asking
    message = window.status.currentMessage()
    assert "1 test(s): 1 pass" in message and "could not be replayed" in message
    assert "1 test(s): 1 pass" in window.inspector.result.text()


def test_an_edit_elsewhere_meanwhile_keeps_the_check_an_edit_of_what_it_ran_voids_it(
        window: MainWindow, qtbot: Any) -> None:
    window.controller.load(price_canvas(new=3))
    commit_flag_by_keys(window, qtbot)
    dialog = dialog_shown(window, qtbot)
    other = b.http("GET", "/other", 1, pos=(20, 600))
    window.controller.on_remote_ops([CreateToplevel(other)], "dana")     # nothing it ran
    QTest.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not isinstance(price(window).body, EFlag)                     # went ahead
    assert other.tlid in window.controller.state.canvas
    window.controller.run("undo")
    assert isinstance(price(window).body, EFlag)

    commit_flag_by_keys(window, qtbot)
    dialog = dialog_shown(window, qtbot)
    fn = price(window)
    flag = fn.body
    assert isinstance(flag, EFlag)
    two = flag.old.right  # type: ignore[attr-defined]
    window.controller.on_remote_ops([replace(fn, two.id, b.lift(5))], "dana")  # what it ran
    QTest.keyClick(dialog, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    assert isinstance(price(window).body, EFlag)
    assert window.status.currentMessage().startswith(
        "Not done: fn price_v0 changed while committing flag 'triple'")


def test_without_tests_or_a_runtime_a_commit_is_done_at_once(
        window: MainWindow, qtbot: Any) -> None:
    canvas = price_canvas(new=3)
    window.controller.load([canvas[0], canvas[2]])
    commit_flag_by_keys(window, qtbot)
    assert not isinstance(price(window).body, EFlag)
    assert "No test reaches this change; the stored requests could not be replayed" in \
        window.status.currentMessage()
