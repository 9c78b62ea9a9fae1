"""Tests that run by themselves, in the real window with real key events (offscreen, no
runtime): write a test, break the function it tests and see the failure on both frames
without pressing anything; a flag whose new branch breaks a test names that state; a click
or Ctrl+F8 goes to the failing check with the live values of that run; another editor's
edit runs the tests it affects too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from editor.controller import EditorController
from editor.widgets.main_window import MainWindow
from shared_ast import build as b
from shared_ast import toplevels
from shared_ast.nodes import EInfix
from shared_ast.ops import ReplaceNode
from shared_ast.toplevels import UserFunction
from shared_ast.type_ast import INT

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
WAIT_MS = 10_000


@pytest.fixture
def window(qapp: Any) -> Iterator[MainWindow]:
    controller = EditorController(None)
    controller.load([b.function("total", [("n", INT)], INT, b.infix("+", b.var("n"), 1),
                                pos=(20, 20))])
    w = MainWindow(controller)
    w.resize(1280, 800)
    w.show()
    yield w
    w.close()
    w.deleteLater()


def function(w: MainWindow) -> UserFunction:
    return next(tl for tl in w.controller.state.canvas.values() if isinstance(tl, UserFunction))


def the_test(w: MainWindow) -> toplevels.Test:
    return next(tl for tl in w.controller.state.canvas.values() if isinstance(tl, toplevels.Test))


def status(w: MainWindow) -> str:
    button = w.canvas.frames[the_test(w).tlid].findChild(QToolButton, "TestStatus")
    return button.text() if isinstance(button, QToolButton) else ""


def count(w: MainWindow) -> str:
    button = w.canvas.frames[function(w).tlid].fields.get("tests")
    return button.text() if isinstance(button, QToolButton) and button.isVisible() else ""


def write_test(w: MainWindow, qtbot: Any) -> None:
    """Ctrl+Alt+T, the name, Enter, then `total 2`, Tab, `3`: Test::expect (total 2) 3."""
    QTest.keyClick(w, Qt.Key.Key_T, CTRL_ALT)
    frame = w.canvas.frames[the_test(w).tlid]
    name = frame.fields["name"]
    assert name.selectedText() == "new test"  # typing replaces it
    QTest.keyClicks(name, "adds one")
    QTest.keyClick(name, Qt.Key.Key_Return)
    code = frame.code
    QTest.keyClicks(code, "total 2")
    QTest.keyClick(code, Qt.Key.Key_Tab)
    QTest.keyClicks(code, "3")
    assert the_test(w).name == "adds one"
    assert [ln.text for ln in code.projection.lines] == ["Test::expect (total 2) 3"]
    qtbot.waitUntil(lambda: status(w) == "✓ passed", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: count(w) == "tests 1 ✓", timeout=WAIT_MS)


def edit_function(w: MainWindow, *steps: Any) -> Any:
    fn = function(w)
    w.controller.focus(fn.tlid)
    code = w.canvas.frames[fn.tlid].code
    code.setFocus()
    for step in steps:
        if isinstance(step, str):
            QTest.keyClicks(code, step)
        elif isinstance(step, tuple):
            QTest.keyClick(code, *step)
        else:
            QTest.keyClick(code, step)
    return code


def test_a_broken_function_fails_its_test_on_both_frames_and_a_click_shows_where(
        window: MainWindow, qtbot: Any) -> None:
    write_test(window, qtbot)
    # Break the function: n + 1 becomes n + 2. Nothing else is pressed.
    edit_function(window, Qt.Key.Key_End, Qt.Key.Key_Backspace, "2")
    qtbot.waitUntil(lambda: status(window) == "✗ failed: expected 3, got 4", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: count(window) == "tests 0 ✓ 1 ✗", timeout=WAIT_MS)
    fn_frame = window.canvas.frames[function(window).tlid]
    assert fn_frame.fields["tests"].property("failing") is True
    assert "adds one" in fn_frame.fields["tests"].toolTip()
    # One click on the count: the caret in the test, on the failing check's actual value,
    # whose live value is that run's.
    QTest.mouseClick(fn_frame.fields["tests"], Qt.MouseButton.LeftButton)
    caret = window.controller.state.caret
    test = the_test(window)
    assert caret is not None and caret.tlid == test.tlid
    assert caret.node_id == test.body.args[0].id  # type: ignore[attr-defined]
    assert window.controller.live_at_caret() == ("4", True)
    assert "expected 3, got 4" in window.status.currentMessage()
    # Mend it: the test passes again on its own.
    edit_function(window, Qt.Key.Key_End, Qt.Key.Key_Backspace, "1")
    qtbot.waitUntil(lambda: status(window) == "✓ passed", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: count(window) == "tests 1 ✓", timeout=WAIT_MS)
    assert window.controller.live.get(test.tlid) is None  # no failing run: no live values


def test_a_flag_whose_new_branch_breaks_a_test_names_that_state(
        window: MainWindow, qtbot: Any) -> None:
    write_test(window, qtbot)
    # The 1 wrapped in a flag (Ctrl+Shift+F, condition `true`); Ctrl+End and Left put the
    # caret after the new branch's 1, which becomes 5.
    code = edit_function(window, Qt.Key.Key_End,
                         (Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier
                          | Qt.KeyboardModifier.ShiftModifier), "true",
                         (Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier),
                         Qt.Key.Key_Left, Qt.Key.Key_Backspace, "5")
    flag = code.projection.lines[0].text
    assert flag.startswith("n + (flag ") and code.projection.lines[2].text.strip() == "new 5)"
    name = flag.removeprefix("n + (flag ").split(" ")[0]
    qtbot.waitUntil(lambda: status(window).startswith("✗ failed with flag"), timeout=WAIT_MS)
    assert status(window) == f"✗ failed with flag {name} new: expected 3, got 7"
    tip = window.canvas.frames[the_test(window).tlid].findChild(QToolButton, "TestStatus")
    assert f"flag {name} old: passed" in tip.toolTip()  # type: ignore[union-attr]
    assert count(window) == "tests 0 ✓ 1 ✗"
    # Ctrl+F8 from the function: the failing check, with the failing state's live values.
    QTest.keyClick(code, Qt.Key.Key_F8, Qt.KeyboardModifier.ControlModifier)
    caret = window.controller.state.caret
    assert caret is not None and caret.tlid == the_test(window).tlid
    assert window.controller.live_at_caret() == ("7", True)
    assert f"flag {name} new" in window.status.currentMessage()


def test_another_editors_edit_runs_the_tests_it_affects(window: MainWindow, qtbot: Any) -> None:
    write_test(window, qtbot)
    fn = function(window)
    assert isinstance(fn.body, EInfix)
    new_body = b.infix("*", b.var("n"), 10)
    window.controller.on_remote_ops([ReplaceNode(fn.tlid, fn.body.id, fn.body, new_body)],
                                    "someone")
    qtbot.waitUntil(lambda: status(window) == "✗ failed: expected 3, got 20", timeout=WAIT_MS)
    assert count(window) == "tests 0 ✓ 1 ✗"


def test_results_come_from_the_worker_and_its_process_and_the_ui_keeps_going(
        window: MainWindow, qtbot: Any) -> None:
    write_test(window, qtbot)
    ran_in: list[str] = []
    worker = window.tests.worker
    run = worker._run

    def spy(request: Any, superseded: Any) -> Any:
        ran_in.append(threading.current_thread().name)
        return run(request, superseded)

    worker._run = spy
    code = edit_function(window, Qt.Key.Key_End, Qt.Key.Key_Backspace, "2")
    # The key was applied at once; the results follow from the worker.
    assert [ln.text for ln in code.projection.lines] == ["n + 2"]
    qtbot.waitUntil(lambda: status(window).startswith("✗"), timeout=WAIT_MS)
    assert ran_in and set(ran_in) == {"gloam-tests"}
    assert threading.current_thread().name != "gloam-tests"
    # The tests themselves ran in the runner's process, not in this one.
    child = window.tests.process._proc
    assert child is not None and child.poll() is None


def test_no_failing_test_says_so(window: MainWindow, qtbot: Any) -> None:
    write_test(window, qtbot)
    QTest.keyClick(window, Qt.Key.Key_F8, Qt.KeyboardModifier.ControlModifier)
    assert window.status.currentMessage() == "No failing tests."


def test_results_wait_for_a_pause_in_editing_then_show(qapp: Any, qtbot: Any) -> None:
    """Results of a half-typed edit are not shown while editing goes on; once it pauses
    they are, without another key."""
    from editor.widgets.test_results import QUIET_MS, TestRunner

    now = [100.0]
    runner = TestRunner()
    runner.clock = lambda: now[0]
    shown: list[int] = []
    runner.updated.connect(lambda: shown.append(runner.shown))
    fn = b.function("total", [("n", INT)], INT, b.infix("+", b.var("n"), 1))
    test = b.test("adds one", b.expect(b.user_call(fn, 2), 3))
    try:
        runner.follow({fn.tlid: fn, test.tlid: test})
        # Still "editing": the report arrives but waits.
        qtbot.waitUntil(lambda: runner._arrived == runner.asked, timeout=WAIT_MS)
        qtbot.wait(QUIET_MS * 3)
        assert shown == [] and runner.busy()
        now[0] += QUIET_MS / 1000 + 0.001  # the pause
        qtbot.waitUntil(lambda: shown == [runner.asked], timeout=WAIT_MS)
        assert not runner.busy() and runner.board.results[test.tlid].passed
    finally:
        runner.stop()


def test_a_test_is_edited_like_code_a_second_check_and_a_flag_of_its_own(
        window: MainWindow, qtbot: Any) -> None:
    write_test(window, qtbot)
    code = window.canvas.frames[the_test(window).tlid].code
    # Enter at the end of the check: a line below for a second check.
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "Test::expect (total 5) 6")
    assert [ln.text for ln in code.projection.lines] == [
        "let _ = Test::expect (total 2) 3", "Test::expect (total 5) 6"]
    qtbot.waitUntil(lambda: status(window) == "✓ passed", timeout=WAIT_MS)
    # The expected 6 wrapped in a flag of the test's own (Ctrl+Shift+F), its new branch 60.
    QTest.keyClick(code, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(code, "true")
    QTest.keyClick(code, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(code, Qt.Key.Key_Left)
    QTest.keyClicks(code, "0")
    flag = next(ln.text for ln in code.projection.lines if "flag " in ln.text)
    name = flag.split("flag ")[1].split(" ")[0]
    assert name.startswith("test")
    qtbot.waitUntil(lambda: status(window).startswith("✗"), timeout=WAIT_MS)
    assert status(window) == f"✗ failed with flag {name} new: expected 60, got 6"
