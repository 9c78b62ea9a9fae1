"""Fuzzing in the window: the worker thread that fuzzes, the idle timer, and the results view.

`FuzzRunner` runs one `editor.model.fuzzing.FuzzJob` at a time in a worker thread
(a fuzz is pure Python on an immutable snapshot of the canvas), so typing never
waits for it; the report comes back to the UI thread through a Qt signal (queued
across threads). A new job stops the one running (it stops at its next input).

`Fuzzing` is what the window holds: "Fuzz this function" (Ctrl+Alt+Z) fuzzes the
caret's function or HTTP handler at once; `IDLE_SECONDS` after the last edit, it
fuzzes the caret's function by itself (typed parameters, no holes, not fuzzed in
this version yet). A report whose toplevel changed meanwhile is stale: it is
dropped (a fuzz asked for runs again on the new code). Reports with failures show
in `FuzzView`; an idle fuzz that finds nothing says nothing.

`FuzzView` (not modal, beside the code): the summary, one row per distinct failure
(the smallest input found, how it failed), and "Keep as test" (the button, or Enter
on a row) which makes the chosen failure a Test toplevel.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.controller import EditorController
from editor.model import fuzzing
from shared_ast.fuzz import FuzzReport, Unfuzzable, label_of
from shared_ast.toplevels import Toplevel

__all__ = ["FuzzRunner", "FuzzView", "Fuzzing"]


class FuzzRunner(QObject):
    """One fuzz at a time in a worker thread; `done(job, report or message)` on the UI thread."""

    done = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: fuzzing.FuzzJob | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, job: fuzzing.FuzzJob) -> None:
        self.stop()
        stop = threading.Event()
        self.job, self._stop = job, stop
        before = self._thread

        def work() -> None:
            if before is not None:
                before.join()  # the stopped fuzz ends at its next input: one at a time
            if stop.is_set():
                return
            result: FuzzReport | str
            try:
                result = job.run(stop.is_set)
            except Unfuzzable as e:
                result = f"Not fuzzed: {e}."
            if not stop.is_set():
                # Queued to the UI thread, where the runner lives; a window closed meanwhile
                # has deleted it (closing stops the fuzz first, but not between the two).
                with contextlib.suppress(RuntimeError):
                    self.done.emit(job, result)

        self._thread = threading.Thread(target=work, name="gloam-fuzz", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        self._stop = None

    def wait(self, seconds: float = 5.0) -> None:
        """For closing: let the thread see its stop and end."""
        self.stop()
        if self._thread is not None:
            self._thread.join(seconds)


class FuzzView(QDialog):
    """The failures of the last fuzz, each keepable as a test. Not modal."""

    keep_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FuzzView")
        self.setWindowTitle("Fuzz results")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.resize(720, 360)
        self.report: FuzzReport | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setObjectName("FuzzSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)
        self.failures = QListWidget(self)
        self.failures.setObjectName("FuzzFailures")
        self.failures.itemActivated.connect(lambda item: self.keep_requested.emit(
            self.failures.row(item)))
        layout.addWidget(self.failures, 1)
        buttons = QHBoxLayout()
        self.keep = QPushButton("Keep as test", self)
        self.keep.setObjectName("KeepAsTest")
        self.keep.setToolTip("Make the chosen failure a test: Test::expect (fn input) <hole> "
                             "(Enter on a row does the same)")
        # Enter is the list's (itemActivated): the button must not take it as the default too.
        self.keep.setAutoDefault(False)
        self.keep.clicked.connect(lambda: self.keep_requested.emit(self.failures.currentRow()))
        buttons.addStretch(1)
        buttons.addWidget(self.keep)
        layout.addLayout(buttons)

    def show_report(self, report: FuzzReport) -> None:
        self.report = report
        self.summary.setText(_summary(report))
        self.failures.clear()
        for failure in report.failures:
            item = QListWidgetItem(f"{failure.describe_inputs()}  →  {failure.kind}: "
                                   f"{failure.message}"
                                   + (f"  ({failure.count} inputs failed so)"
                                      if failure.count > 1 else ""))
            item.setToolTip(failure.describe())
            self.failures.addItem(item)
        if report.failures:
            self.failures.setCurrentRow(0)
        self.keep.setEnabled(bool(report.failures))


def _summary(report: FuzzReport) -> str:
    head = (f"Fuzzed {report.label} with {report.examples} generated inputs in "
            f"{report.seconds:.1f} s (seed {report.seed})"
            + (", stopped at its time limit" if report.timed_out else "") + ".")
    if not report.failures:
        return head + " No input ended in an error, a hole or a limit."
    return (f"{head} {len(report.failures)} distinct failure(s), each with the smallest "
            "input found. Keep one as a test (Enter) to fix it against.")


class Fuzzing(QObject):
    """The window's fuzzing: the command, idle fuzzing, the view and keeping a failure."""

    def __init__(self, controller: EditorController, say: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self.controller = controller
        self.say = say
        self.window = parent
        self.view: FuzzView | None = None
        self.runner = FuzzRunner(self)
        self.runner.done.connect(self._done)
        #: tlid → the version of the toplevel last fuzzed (idle fuzzes each version once).
        self.fuzzed: dict[int, Toplevel] = {}
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(int(fuzzing.IDLE_SECONDS * 1000))
        self.idle.timeout.connect(self.fuzz_on_idle)
        self._canvas: object = controller.state.canvas
        controller.changed.connect(self._changed)

    def _changed(self) -> None:
        canvas = self.controller.state.canvas
        if canvas is not self._canvas:
            self._canvas = canvas
            # Typing again: an idle fuzz (which shares the interpreter with the keystrokes)
            # stops, and starts over after the next pause; a fuzz that was asked for goes on.
            job = self.runner.job
            if self.runner.busy and job is not None and not job.asked:
                self.runner.stop()
            self.idle.start()  # an edit: wait for a pause in the typing

    def fuzz_at_caret(self) -> None:
        job = fuzzing.job_at_caret(self.controller.state)
        if isinstance(job, str):
            self.say(job)
            return
        self.say(f"Fuzzing {_label(job)} in the background (at most "
                 f"{job.time_limit:.0f} s)…")
        self.runner.start(job)

    def fuzz_on_idle(self) -> None:
        if self.runner.busy:
            return
        job = fuzzing.idle_target(self.controller.state, self.fuzzed)
        if job is not None:
            self.runner.start(job)

    def _done(self, job: fuzzing.FuzzJob, result: FuzzReport | str) -> None:
        if job is not self.runner.job:
            return  # superseded by a newer fuzz
        if isinstance(result, str):
            if job.asked:
                self.say(result)
            return
        state = self.controller.state
        if not fuzzing.is_current(state, job):
            # The code changed while it was fuzzed: the report is about older code.
            if job.asked and job.toplevel.tlid in state.canvas:
                self.say(f"{_label(job)} changed while it was fuzzed: fuzzing it again…")
                fresh = fuzzing.job_at_caret(state)
                if isinstance(fresh, fuzzing.FuzzJob) and \
                        fresh.toplevel.tlid == job.toplevel.tlid:
                    self.runner.start(fresh)
            return
        self.fuzzed[job.toplevel.tlid] = job.toplevel
        if not result.failures and not job.asked:
            return
        self.say(result.summary())
        if result.failures or job.asked:
            self.show_report(result)

    def show_report(self, report: FuzzReport) -> None:
        if self.view is None:
            self.view = FuzzView(self.window)
            self.view.keep_requested.connect(self.keep)
        self.view.show_report(report)
        self.view.show()
        self.view.raise_()

    def keep(self, index: int) -> None:
        if self.view is None or self.view.report is None:
            return
        out = self.controller.apply(fuzzing.keep_as_test(self.controller.state,
                                                         self.view.report, index))
        if not out.refused:
            self.view.hide()

    def close(self) -> None:
        self.idle.stop()
        self.runner.wait()


def _label(job: fuzzing.FuzzJob) -> str:
    return label_of(job.toplevel)
