"""Test results in the window: the runner that keeps them fresh, and how frames show them.

`TestRunner` follows the controller's canvas (`follow`, called on every
refresh: cheap when the canvas did not change) and runs the tests each change
affects off the UI thread (`editor.model.test_runs.TestWorker`, whose thread
hands them to a process of its own, `editor.model.test_process`). Results come
back to the UI thread through a queued Qt signal; `updated` is emitted when the
shown results changed. Typing never waits for a test.

On frames: a test's frame has a status line under its code (`TestStatus`: "✓
passed in 2 flag states", "✗ failed with flag double new: expected 4, got 3");
every frame the tests reach has a count in its header (`TestCount`: "tests 4 ✓
1 ✗"). Both are buttons: a click goes to the failing test, the caret on its
failing check with that run's live values.

Signals of `TestRunner`:
    updated(): the results shown changed (a run finished with something new).
    problem(str): a run broke (not a failing test: a bug); what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QWidget

from editor.model.test_process import ProcessRun
from editor.model.test_runs import (
    RunReport,
    TestBoard,
    TestWorker,
    count_text,
    status_text,
)
from editor.widgets.canvas import ToplevelFrame
from editor.widgets.theme import restyle
from shared_ast.testing import TestResult
from shared_ast.toplevels import Test, Toplevel

#: The header buttons a count goes before (as the problem count does).
_BUTTONS = ("declarations", "migration", "version", "play", "delete")


class TestRunner(QObject):
    updated = Signal()
    problem = Signal(str)
    #: From the worker thread: a finished run (queued to the UI thread).
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.board = TestBoard()
        self._finished.connect(self._accept, Qt.ConnectionType.QueuedConnection)
        #: The tests run in a process of their own (typing never waits for them).
        self.process = ProcessRun()
        self.worker = TestWorker(self._finished.emit, self.process)
        #: Runs asked for and not yet shown (the newest request's generation).
        self.asked = 0
        self.shown = 0

    def follow(self, canvas: Mapping[int, Toplevel]) -> None:
        """The canvas changed (or not): run the tests its changes affect."""
        request = self.board.request(canvas)
        if request is not None:
            self.asked = request.generation
            self.worker.submit(request)

    def busy(self) -> bool:
        """Whether results of the newest canvas are still to come."""
        return self.shown < self.asked

    def _accept(self, report: RunReport) -> None:
        self.shown = max(self.shown, report.generation)
        if report.error:
            self.problem.emit(report.error)
        if self.board.accept(report) or self.shown >= self.asked:
            self.updated.emit()

    def stop(self) -> None:
        self.worker.stop()
        self.process.stop()


def _button(parent: QWidget, name: str) -> QToolButton:
    button = QToolButton(parent)
    button.setObjectName(name)
    button.setAutoRaise(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


def show_count(frame: ToplevelFrame, text: str, tip: str, go: Callable[[int], None]) -> bool:
    """The header's "tests 4 ✓ 1 ✗" (hidden when `text` is ""); whether it changed."""
    button = frame.fields.get("tests")
    if not text:
        if isinstance(button, QToolButton) and not button.isHidden():
            button.hide()
            return True
        return False
    if not isinstance(button, QToolButton):
        button = _button(frame.header, "TestCount")
        button.clicked.connect(lambda: go(frame.tlid))
        frame.header_layout.insertWidget(frame.header_layout.count() - sum(
            1 for k in _BUTTONS if k in frame.fields), button)
        frame.fields["tests"] = button
    changed = button.text() != text or button.isHidden()
    if changed:
        button.setText(text)
        if button.property("failing") != ("✗" in text):
            restyle(button, failing="✗" in text)
    button.setToolTip(tip)
    button.show()
    return changed


def show_status(frame: ToplevelFrame, text: str, failing: bool, tip: str,
                go: Callable[[int], None]) -> bool:
    """A test's status line under its code; whether it changed."""
    button = frame.findChild(QToolButton, "TestStatus")
    if not isinstance(button, QToolButton):
        row = QWidget(frame)
        box = QHBoxLayout(row)
        box.setContentsMargins(6, 0, 6, 4)
        button = _button(row, "TestStatus")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        button.clicked.connect(lambda: go(frame.tlid))
        box.addWidget(button)
        box.addStretch(1)
        layout = frame.layout()
        assert layout is not None
        layout.addWidget(row)
    changed = button.text() != text
    if changed:
        button.setText(text)
        if button.property("failing") != failing:
            restyle(button, failing=failing)
    button.setToolTip(tip)
    return changed


def show_on_frames(frames: Mapping[int, ToplevelFrame], canvas: Mapping[int, Toplevel],
                   board: TestBoard, go: Callable[[int], None]) -> set[int]:
    """Every frame's count or status from `board`; the frames whose look changed."""
    reaching: dict[int, list[TestResult]] = {}
    for result in board.results.values():
        for tlid in result.reached:
            if tlid != result.tlid:
                reaching.setdefault(tlid, []).append(result)
    moved: set[int] = set()
    for tlid, frame in frames.items():
        tl = canvas.get(tlid)
        if tl is None:
            continue
        if isinstance(tl, Test):
            own = board.results.get(tlid)
            if own is None:
                text, failing, tip = "… not run yet", False, ""
            else:
                text, failing = status_text(own), own.failing
                tip = "\n".join(f"{r.describe_state() or 'as written'}: {r.status}"
                                + (f": {r.message}" if r.message else "") for r in own.runs)
                if failing:
                    tip += "\nClick (or Ctrl+F8) to go to the failing check."
            if show_status(frame, text, failing, tip, go):
                moved.add(tlid)
        mine = reaching.get(tlid, [])
        counts = {"passed": 0, "failing": 0, "incomplete": 0}
        for r in mine:
            counts["passed" if r.passed else "failing" if r.failing else "incomplete"] += 1
        text = count_text(counts)
        button = frame.fields.get("tests")
        if not text and not (isinstance(button, QToolButton) and not button.isHidden()):
            continue
        tip = "\n".join(f"{r.name}: {status_text(r)}" for r in mine)
        if show_count(frame, text, tip + "\nClick to go to the failing test.", go):
            moved.add(tlid)
    return moved
