"""Test results in the window: the runner that keeps them fresh, and how frames show them.

`TestRunner` follows the controller's canvas (`follow`, called on every
refresh: cheap when the canvas did not change) and runs the tests each change
affects off the UI thread (`editor.model.test_runs.TestWorker`, whose thread
hands them to a process of its own, `editor.model.test_process`). Results come
back to the UI thread through a queued Qt signal and are shown once editing has
paused for `QUIET_MS` (at once when it already has): `updated` is emitted when
the shown results changed. Typing never waits for a test.

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

import time
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QWidget

from editor.model.test_process import ProcessRun
from editor.model.test_runs import (
    PackedReport,
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


#: Results wait for this long a pause in editing before they are shown: the results of a
#: half-typed word are noise, and showing them would cost the next keystroke its paint.
QUIET_MS = 40


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
        #: The clock pauses are measured on (replaceable in tests).
        self.clock = time.monotonic
        self._last_edit = float("-inf")
        self._show_later = QTimer(self)
        self._show_later.setSingleShot(True)
        self._show_later.timeout.connect(self._show)
        self._moved = False
        #: Reports arrived and not yet shown, oldest first.
        self._pending: list[RunReport | PackedReport] = []
        #: The newest generation whose results arrived (shown once editing pauses).
        self._arrived = 0
        #: What each frame shows, by result identity (`show_on_frames` skips the same).
        self.seen: dict[object, object] = {}

    def follow(self, canvas: Mapping[int, Toplevel]) -> None:
        """The canvas changed (or not): run the tests its changes affect."""
        request = self.board.request(canvas)
        if request is not None:
            self.asked = request.generation
            self._last_edit = self.clock()
            self.worker.submit(request)

    def busy(self) -> bool:
        """Whether results of the newest canvas are still to come (or to be shown)."""
        return self.shown < self.asked

    def _accept(self, report: RunReport | PackedReport) -> None:
        self._pending.append(report)
        self._arrived = max(self._arrived, report.generation)
        quiet_for = (self.clock() - self._last_edit) * 1000
        if quiet_for >= QUIET_MS:
            self._show()
        else:
            self._show_later.start(int(QUIET_MS - quiet_for) + 1)

    def _show(self) -> None:
        if (self.clock() - self._last_edit) * 1000 < QUIET_MS:
            # Edited again meanwhile: wait for the pause (results of that edit follow).
            self._show_later.start(QUIET_MS)
            return
        self._show_later.stop()
        pending, self._pending = self._pending, []
        for packed in pending:
            try:
                report = packed.unpack() if isinstance(packed, PackedReport) else packed
            except Exception as e:
                self.problem.emit(f"The test results could not be read ({e}); edit again to "
                                  "run the tests again.")
                continue
            if report.error:
                self.problem.emit(report.error)
            self._moved = self.board.accept(report) or self._moved
        self.shown = max(self.shown, self._arrived)
        moved, self._moved = self._moved, False
        if moved or self.shown >= self.asked:
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
                   board: TestBoard, go: Callable[[int], None],
                   seen: dict[object, object] | None = None) -> set[int]:
    """Every frame's count or status from `board`; the frames whose look changed. `seen`
    remembers what each frame shows (by result identity), to skip frames that are as
    they were."""
    seen = {} if seen is None else seen
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
        if isinstance(tl, Test) and (seen.get(("status", tlid)) is not board.results.get(tlid)
                                     or frame.findChild(QToolButton, "TestStatus") is None):
            own = board.results.get(tlid)
            seen[("status", tlid)] = own
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
        key = tuple(id(r) for r in mine)
        if seen.get(("count", tlid)) == key and frame.fields.get("tests") is not None:
            continue
        seen[("count", tlid)] = key
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
