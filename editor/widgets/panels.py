"""The side panels: the canvas's toplevels and 404s on the left, the inspector on the right.

Signals of `Sidebar`:
    toplevel_chosen(int): a toplevel clicked in the list.
    create_from_404(str): "create handler" for a request line like "GET /path".
    refresh_requested(): the 404 list's refresh button.
Signals of `Inspector`:
    trace_chosen(str): a trace picked in the list.
    send_requested(str): "Send as me" with its request line (`GET /path [JSON body]`).
    iteration_step(int): the iteration stepper's previous (-1) or next (+1) button.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.model.canvas_actions import toplevel_label
from editor.widgets.theme import icon
from shared_ast.live import Stepper
from shared_ast.toplevels import Toplevel


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("heading", True)
    return label


class Sidebar(QFrame):
    toplevel_chosen = Signal(object)
    create_from_404 = Signal(str)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Sidebar")
        layout = QVBoxLayout(self)
        layout.addWidget(_heading("Toplevels", self))
        self.toplevels = QListWidget(self)
        self.toplevels.itemClicked.connect(
            lambda item: self.toplevel_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.toplevels, 3)
        layout.addWidget(_heading("404s: no handler yet", self))
        self.not_found = QListWidget(self)
        self.not_found.setObjectName("NotFoundList")
        self.not_found.itemActivated.connect(self._create)
        self.not_found.itemDoubleClicked.connect(self._create)
        layout.addWidget(self.not_found, 2)
        self.create_button = QPushButton(icon("add"), "Create handler", self)
        self.create_button.clicked.connect(self._create_current)
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(self.refresh_requested.emit)
        layout.addWidget(self.create_button)
        layout.addWidget(refresh)
        self.setMinimumWidth(220)

    def show_toplevels(self, toplevels: Sequence[Toplevel], current: int | None) -> None:
        self.toplevels.clear()
        for tl in sorted(toplevels, key=lambda t: (t.pos.y, t.pos.x)):
            item = QListWidgetItem(toplevel_label(tl))
            item.setData(Qt.ItemDataRole.UserRole, tl.tlid)
            self.toplevels.addItem(item)
            if tl.tlid == current:
                self.toplevels.setCurrentItem(item)

    def show_404s(self, requests: Sequence[dict[str, Any]]) -> None:
        self.not_found.clear()
        for r in requests:
            item = QListWidgetItem(f"{r.get('description', '?')}   ({r.get('count', 1)} requests)")
            item.setData(Qt.ItemDataRole.UserRole, r.get("description", ""))
            item.setToolTip("Double-click (or Create handler) to make a handler for it")
            self.not_found.addItem(item)

    def _create(self, item: QListWidgetItem) -> None:
        self.create_from_404.emit(item.data(Qt.ItemDataRole.UserRole))

    def _create_current(self) -> None:
        item = self.not_found.currentItem() or self.not_found.item(0)
        if item is not None:
            self._create(item)


class Inspector(QFrame):
    trace_chosen = Signal(str)
    iteration_step = Signal(int)
    send_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Inspector")
        layout = QVBoxLayout(self)
        layout.addWidget(_heading("At the caret", self))
        self.type_label = QLabel(self)
        self.type_label.setObjectName("CaretType")
        self.type_label.setWordWrap(True)
        self.type_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.type_label)
        layout.addWidget(_heading("Live value", self))
        self.live_label = QLabel(self)
        self.live_label.setObjectName("LiveValue")
        self.live_label.setWordWrap(True)
        self.live_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.live_label)
        layout.addWidget(self._build_stepper())
        layout.addWidget(_heading("Feature flag", self))
        self.flag_label = QLabel("—", self)
        self.flag_label.setObjectName("FlagInfo")
        self.flag_label.setWordWrap(True)
        layout.addWidget(self.flag_label)
        layout.addWidget(_heading("Send as me", self))
        self.request_line = QLineEdit(self)
        self.request_line.setObjectName("RequestLine")
        self.request_line.setPlaceholderText('GET /path   or   POST /path {"json": 1}')
        self.request_line.returnPressed.connect(self._send)
        send = QPushButton("Send as me", self)
        send.setToolTip("Sends the request as the editor: Flag::justMe is true for it, so a "
                        "flag can try new code in production for you alone.")
        send.clicked.connect(self._send)
        layout.addWidget(self.request_line)
        layout.addWidget(send)
        layout.addWidget(_heading("Traces", self))
        self.traces = QListWidget(self)
        self.traces.setObjectName("TraceList")
        self.traces.currentItemChanged.connect(self._chosen)
        layout.addWidget(self.traces, 1)
        layout.addWidget(_heading("Run result", self))
        self.result = QLabel(self)
        self.result.setObjectName("RunResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        self.setMinimumWidth(260)
        self._filling = False

    def show_info(self, lines: Sequence[str]) -> None:
        """What the caret is on and its type, then its problems (`editor.model.inspecting`)."""
        self.type_label.setText("\n".join(lines) if lines else "—")

    def _build_stepper(self) -> QWidget:
        """The iteration stepper under the live value: "iteration 3 of 7", previous, next."""
        self.stepper = QWidget(self)
        self.stepper.setObjectName("IterationStepper")
        row = QHBoxLayout(self.stepper)
        row.setContentsMargins(0, 0, 0, 0)
        self.previous_iteration = QPushButton("◀", self.stepper)
        self.previous_iteration.setObjectName("PreviousIteration")
        self.previous_iteration.setToolTip("The previous call of this lambda (Ctrl+[)")
        self.previous_iteration.clicked.connect(lambda: self.iteration_step.emit(-1))
        self.iteration_label = QLabel(self.stepper)
        self.iteration_label.setObjectName("IterationLabel")
        self.iteration_label.setWordWrap(True)
        self.next_iteration = QPushButton("▶", self.stepper)
        self.next_iteration.setObjectName("NextIteration")
        self.next_iteration.setToolTip("The next call of this lambda (Ctrl+])")
        self.next_iteration.clicked.connect(lambda: self.iteration_step.emit(1))
        for button in (self.previous_iteration, self.next_iteration):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the code
            button.setFixedWidth(32)
        row.addWidget(self.previous_iteration)
        row.addWidget(self.iteration_label, 1)
        row.addWidget(self.next_iteration)
        self.stepper.hide()
        return self.stepper

    def show_live(self, live: tuple[str, bool] | None,
                  empty: str = "(no trace yet: send it a request, or run)") -> None:
        """The caret's live value, or `empty` saying why there is none."""
        if live is None:
            self.live_label.setText(empty)
        else:
            text, taken = live
            self.live_label.setText(text if taken else f"{text}   (branch not taken)")

    def show_iterations(self, steppers: Sequence[Stepper]) -> None:
        """Which call of each lambda around the caret the live values are from; the stepper
        buttons step the innermost one that ran more than once. Hidden outside such lambdas."""
        shown = [s for s in steppers if s.calls > 1]
        if not shown:
            self.stepper.hide()
            return
        self.iteration_label.setText(" ▸ ".join(s.label() for s in shown))
        last = [s for s in shown if s.kept > 1]
        self.previous_iteration.setEnabled(bool(last) and last[-1].index > 0)
        self.next_iteration.setEnabled(bool(last) and last[-1].index < last[-1].kept - 1)
        self.stepper.show()

    def show_traces(self, traces: Sequence[dict[str, Any]], selected: str | None) -> None:
        self._filling = True
        self.traces.clear()
        for t in traces:
            at = dt.datetime.fromtimestamp(float(t.get("at", 0))).strftime("%H:%M:%S")
            status = t.get("output", {}).get("status", "")
            item = QListWidgetItem(icon("trace"), f"{at}  {t.get('description', '')}  → {status}")
            item.setData(Qt.ItemDataRole.UserRole, t.get("trace_id"))
            self.traces.addItem(item)
            if t.get("trace_id") == selected:
                self.traces.setCurrentItem(item)
        self._filling = False

    def _send(self) -> None:
        if self.request_line.text().strip():
            self.send_requested.emit(self.request_line.text())

    def show_flag(self, text: str | None) -> None:
        self.flag_label.setText(text or "—")

    def show_replay(self, report: tuple[str, list[dict[str, Any]]]) -> None:
        """A replay's summary and, for each request that answers differently, old → new."""
        summary, rows = report
        lines = [summary]
        for row in rows:
            if not row.get("same"):
                old, new = row.get("old", {}), row.get("new", {})
                lines.append(f"{row.get('description', '?')}: {old.get('status')} "
                             f"{str(old.get('body', ''))[:40]!r} → {new.get('status')} "
                             f"{str(new.get('body', ''))[:40]!r}")
        self.result.setText("\n".join(lines))

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None and not self._filling:
            self.trace_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
