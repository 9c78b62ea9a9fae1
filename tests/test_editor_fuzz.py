"""Fuzzing in the editor: real keys into a real MainWindow (offscreen, no runtime: a fuzz runs
locally). The planted bug, `String::toInt` of the input on the error rail with no fallback, is
found and shrunk to "" in a worker thread; Enter keeps it as a test; a pause after typing
fuzzes by itself; a report about code edited since is never shown."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from editor.controller import EditorController
from editor.model import fuzzing
from editor.model.state import EditorState
from editor.widgets import keymap as keymaps
from editor.widgets.main_window import MainWindow, known_commands
from shared_ast import build as b
from shared_ast import fuzz, toplevels
from shared_ast.nodes import ECall, EHole, EString
from shared_ast.program import Program
from shared_ast.toplevels import UserFunction
from shared_ast.type_ast import INT, STRING, UNKNOWN

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def parse_age() -> UserFunction:
    """The planted bug: the input's Int on the error rail, no fallback for a non-number."""
    return b.function("parseAge", [("s", STRING)], INT,
                      b.infix("+", b.call("String::toInt_v1", b.var("s"), rail=True), 1),
                      pos=(20, 20))


@pytest.fixture
def window(qapp: Any, monkeypatch: Any) -> Iterator[MainWindow]:
    threads: list[threading.Thread] = []
    real = fuzz.fuzz_target

    def recording(*args: Any, **kw: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kw)

    monkeypatch.setattr(fuzz, "fuzz_target", recording)
    controller = EditorController(None)
    controller.load([parse_age(), b.http("GET", "/one", 1, pos=(20, 400))])
    w = MainWindow(controller)
    w.fuzz_threads = threads  # type: ignore[attr-defined]
    w.show()
    yield w
    w.close()
    w.deleteLater()


def function_code(w: MainWindow) -> Any:
    fn = next(tl for tl in w.controller.state.canvas.values() if isinstance(tl, UserFunction))
    w.controller.focus(fn.tlid)
    code = w.canvas.frames[fn.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_End)
    return code


def rows(w: MainWindow) -> list[str]:
    view = w.fuzzing.view
    assert view is not None
    return [view.failures.item(i).text() for i in range(view.failures.count())]


def test_the_key_is_bound() -> None:
    keymap = keymaps.load()
    assert keymap.window["Ctrl+Alt+Z"] == "fuzz-function"
    assert keymaps.check(keymap, known_commands()) == []


def test_ctrl_alt_z_finds_the_planted_bug_shrunk_off_the_ui_thread_and_enter_keeps_it(
        window: MainWindow, qtbot: Any) -> None:
    code = function_code(window)
    QTest.keyClick(code, Qt.Key.Key_Z, CTRL_ALT)
    qtbot.waitUntil(lambda: window.fuzzing.view is not None
                    and window.fuzzing.view.isVisible(), timeout=20_000)
    (row,) = rows(window)
    assert row.startswith('s = ""  →  error rail:')  # shrunk to the empty String
    threads = window.fuzz_threads  # type: ignore[attr-defined]
    assert threads and all(t is not threading.main_thread() for t in threads)
    # Enter in the view keeps the failure as a test.
    view = window.fuzzing.view
    assert view is not None
    QTest.keyClick(view.failures, Qt.Key.Key_Return)
    tests = [tl for tl in window.controller.state.canvas.values() if isinstance(tl, toplevels.Test)]
    (test,) = tests
    assert isinstance(test.body, ECall) and test.body.fn.qualified == "Test::expect_v0"
    actual, expected = test.body.args
    assert isinstance(actual, ECall) and isinstance(actual.args[0], EString)
    assert actual.args[0].value == "" and isinstance(expected, EHole)
    assert not view.isVisible()
    assert "Kept as a test" in window.status.currentMessage()


def test_a_pause_after_typing_fuzzes_by_itself(window: MainWindow, qtbot: Any) -> None:
    window.fuzzing.idle.setInterval(300)
    code = function_code(window)
    QTest.keyClicks(code, " + 2")
    fn = next(tl for tl in window.controller.state.canvas.values()
              if isinstance(tl, UserFunction))
    assert "2" in str(fn.body)  # the edit went in
    qtbot.waitUntil(lambda: window.fuzzing.view is not None
                    and window.fuzzing.view.isVisible(), timeout=20_000)
    assert rows(window)[0].startswith('s = ""')
    assert window.fuzzing.fuzzed[fn.tlid] == fn  # this version is fuzzed; not again
    # One click on "Keep as test" keeps it.
    view = window.fuzzing.view
    assert view is not None
    qtbot.mouseClick(view.keep, Qt.MouseButton.LeftButton)
    kept = [tl for tl in window.controller.state.canvas.values() if isinstance(tl, toplevels.Test)]
    assert len(kept) == 1 and "parseAge" in kept[0].name


def test_a_handler_is_fuzzed_and_without_a_caret_the_key_says_what_to_do(
        window: MainWindow, qtbot: Any) -> None:
    handler = next(tl for tl in window.controller.state.canvas.values()
                   if not isinstance(tl, UserFunction))
    window.controller.focus(handler.tlid)
    code = window.canvas.frames[handler.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_Z, CTRL_ALT)
    qtbot.waitUntil(lambda: window.fuzzing.view is not None
                    and window.fuzzing.view.isVisible(), timeout=20_000)
    view = window.fuzzing.view
    assert view is not None and "GET /one" in view.summary.text()
    assert "No input ended" in view.summary.text() and rows(window) == []
    window.controller.state = attrs.evolve(window.controller.state, caret=None)
    QTest.keyClick(window, Qt.Key.Key_Z, CTRL_ALT)
    assert "Put the caret in a function" in window.status.currentMessage()


def test_a_report_about_code_edited_since_is_not_shown(window: MainWindow, qtbot: Any) -> None:
    state = window.controller.state
    fn = next(tl for tl in state.canvas.values() if isinstance(tl, UserFunction))
    job = fuzzing.FuzzJob(fn, Program.from_toplevels(state.canvas.values()), 5.0, 50)
    report = job.run()
    assert report.failures
    code = function_code(window)
    QTest.keyClicks(code, " + 2")  # the function changes
    window.fuzzing.runner.job = job
    window.fuzzing.runner.done.emit(job, report)  # the old report arrives after the edit
    assert window.fuzzing.view is None or not window.fuzzing.view.isVisible()
    assert not fuzzing.is_current(window.controller.state, job)


# ------------------------------------------------------------------ the model, no Qt


def test_idle_fuzzes_only_typed_finished_functions_once_per_version() -> None:
    fn = parse_age()
    state = EditorState().with_canvas({fn.tlid: fn})
    from editor.model import motion

    at_fn = motion.focus(state, fn.tlid).state
    job = fuzzing.idle_target(at_fn, {})
    assert job is not None and not job.asked and job.toplevel == fn
    assert fuzzing.idle_target(at_fn, {fn.tlid: fn}) is None  # already fuzzed
    untyped = b.function("f", [("x", UNKNOWN)], INT, 1)
    holed = b.function("g", [("x", INT)], INT, b.infix("+", b.var("x"), b.hole()))
    for other in (untyped, holed):
        s = motion.focus(EditorState().with_canvas({other.tlid: other}), other.tlid).state
        assert fuzzing.idle_target(s, {}) is None
        assert isinstance(fuzzing.job_at_caret(s), str if other is untyped else
                          fuzzing.FuzzJob)


def test_keep_as_test_refuses_what_code_cannot_write() -> None:
    fn = b.function("half", [("x", b.function("t", [], INT, 1).return_type)], INT, 1)
    state = EditorState().with_canvas({fn.tlid: fn})
    # A UUID has no literal (NaN does: Float literals write it).
    unwritable = fuzz.Failure(fuzz.ERROR, "boom", (("x", uuid.UUID(int=7)),), None)
    report = fuzz.FuzzReport(fn.tlid, "half", (unwritable,), 1, 0.1, False, 0)
    out = fuzzing.keep_as_test(state, report, 0)
    assert out.refused and "cannot be written as code" in out.message
    assert fuzzing.keep_as_test(state, report, 3).refused


def test_a_newer_fuzz_stops_the_running_one_and_only_its_report_arrives(
        qapp: Any, qtbot: Any) -> None:
    from editor.widgets.fuzz_view import FuzzRunner

    slow = b.function("slow", [("n", INT)], INT,
                      b.call("List::fold_v0", b.call("List::range_v0", 0, 20_000), b.var("n"),
                             b.lam(["a", "x"], b.infix("+", b.var("a"), 1))))
    fn = parse_age()
    program = Program.from_toplevels([slow, fn])
    runner = FuzzRunner()
    arrived: list[Any] = []
    runner.done.connect(lambda job, result: arrived.append((job, result)))
    old = fuzzing.FuzzJob(slow, program, 60.0, 100_000)
    new = fuzzing.FuzzJob(fn, program, 20.0, 50)
    runner.start(old)
    runner.start(new)
    qtbot.waitUntil(lambda: bool(arrived), timeout=20_000)
    runner.wait()
    qapp.processEvents()
    ((job, report),) = arrived
    assert job is new and [dict(f.inputs) for f in report.failures] == [{"s": ""}]


def test_a_handler_reading_user_input_from_its_route_is_fuzzed_from_the_palette(
        qapp: Any, qtbot: Any) -> None:
    """`GET /age/:n` takes String::toInt of the path's n on the error rail: from the palette
    (Ctrl+K, "fuzz", Enter) the fuzz finds it with a one-character n, and the kept test runs
    the handler on that path and reproduces the failure."""
    from shared_ast.testing import ERROR as TEST_ERROR
    from shared_ast.testing import Suite

    h = b.http("GET", "/age/:n",
               b.infix("+", b.call("String::toInt_v1", b.var("n"), rail=True), 1), pos=(20, 20))
    controller = EditorController(None)
    controller.load([h])
    w = MainWindow(controller)
    w.show()
    try:
        w.controller.focus(h.tlid)
        code = w.canvas.frames[h.tlid].code
        code.setFocus()
        QTest.keyClick(code, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(w.palette_.filter, "fuzz this")
        QTest.keyClick(w.palette_.filter, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.fuzzing.view is not None and w.fuzzing.view.isVisible(),
                        timeout=20_000)
        (row,) = rows(w)
        assert row.startswith("n = \"") and "error rail" in row
        view = w.fuzzing.view
        assert view is not None and view.report is not None
        (failure,) = view.report.failures
        assert len(failure.inputs[0][1]) == 1  # shrunk to one character
        QTest.keyClick(view.failures, Qt.Key.Key_Return)
        (test,) = [tl for tl in w.controller.state.canvas.values()
                   if isinstance(tl, toplevels.Test)]
        filled = b.test(test.name, b.expect(test.body.args[0], 1))  # type: ignore[attr-defined]
        result = Suite([h, filled]).run(filled)
        assert result.status == TEST_ERROR and "error rail" in result.summary()
    finally:
        w.close()
        w.deleteLater()


def test_typing_stops_a_running_idle_fuzz_and_the_next_pause_fuzzes_again(
        window: MainWindow, qtbot: Any, monkeypatch: Any) -> None:
    """An idle fuzz shares the interpreter with the keystrokes: typing stops it."""
    stopped: list[bool] = []
    started = threading.Event()

    def slow(tl: Any, program: Program, **kw: Any) -> Any:
        started.set()
        stop = kw["stop"]
        deadline = time.monotonic() + 10
        while not stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        stopped.append(bool(stop()))
        return fuzz.FuzzReport(tl.tlid, "parseAge", (), 1, 0.1, False, 0)

    monkeypatch.setattr(fuzz, "fuzz_target", slow)
    window.fuzzing.idle.setInterval(100)
    code = function_code(window)
    QTest.keyClicks(code, " + 2")
    qtbot.waitUntil(started.is_set, timeout=10_000)
    job = window.fuzzing.runner.job
    assert job is not None and not job.asked
    QTest.keyClicks(code, "0")  # typing again
    qtbot.waitUntil(lambda: stopped == [True], timeout=10_000)
    fn = next(tl for tl in window.controller.state.canvas.values()
              if isinstance(tl, UserFunction))
    assert fn.tlid not in window.fuzzing.fuzzed  # not fuzzed: the next pause tries again
    qtbot.waitUntil(lambda: len(stopped) == 1 and window.fuzzing.runner.job is not job,
                    timeout=10_000)
