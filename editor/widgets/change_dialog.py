"""The question before a change that breaks tests or answers requests differently.

`ChangeDialog` shows a `change_checks.ChangeReport`: what the change is, each
failing test (with the flag state it fails in and why) and each stored request
that would answer differently, and the summary of what ran. It is driven by
the keyboard: Enter or Escape cancels (the safe answer is the default), Alt+G
or Ctrl+Enter goes ahead, Tab moves between the buttons and the list.
`ask(parent, report, answered)` opens it (window-modal, without a nested
event loop) and calls `answered(report, went_ahead)` once it is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.model.change_checks import ChangeReport

KEYS_HINT = "Enter or Esc: Cancel · Alt+G or Ctrl+Enter: Go ahead · Tab: next button"


class ChangeDialog(QDialog):
    def __init__(self, report: ChangeReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setObjectName("ChangeDialog")
        self.setWindowTitle("This change would break tests or requests")
        layout = QVBoxLayout(self)
        self.question = QLabel(report.question(), self)
        self.question.setWordWrap(True)
        self.question.setObjectName("ChangeQuestion")
        layout.addWidget(self.question)
        self.items = QListWidget(self)
        self.items.setObjectName("ChangeItems")
        self.items.addItems(report.lines() or ["(nothing listed)"])
        self.items.setWordWrap(True)
        layout.addWidget(self.items)
        self.summary = QLabel(report.summary(), self)
        self.summary.setWordWrap(True)
        self.summary.setObjectName("ChangeSummary")
        layout.addWidget(self.summary)
        hint = QLabel(KEYS_HINT, self)
        hint.setObjectName("ChangeKeys")
        layout.addWidget(hint)
        row = QHBoxLayout()
        row.addStretch(1)
        self.go_button = QPushButton("Go ahead", self)
        self.go_button.setObjectName("ChangeGoAhead")
        self.go_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("ChangeCancel")
        self.cancel_button.setDefault(True)
        row.addWidget(self.go_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.go_button.clicked.connect(self.accept)
        self.cancel_button.clicked.connect(self.reject)
        self.resize(640, 360)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if (key == Qt.Key.Key_G and mods & Qt.KeyboardModifier.AltModifier) or (
                enter and mods & Qt.KeyboardModifier.ControlModifier):
            self.accept()
            return
        if enter and not self.go_button.hasFocus():
            self.reject()  # Enter anywhere but on Go ahead is the safe answer
            return
        super().keyPressEvent(event)


def ask(parent: QWidget, report: ChangeReport,
        answered: Callable[[ChangeReport, bool], Any]) -> ChangeDialog:
    """Open the dialog for `report`; once answered, give the keyboard back to where it was
    and call `answered(report, went_ahead)` (once)."""
    back = parent.focusWidget()
    dialog = ChangeDialog(report, parent)

    def done(result: int) -> None:
        dialog.finished.disconnect(done)
        if back is not None:
            back.setFocus()
        answered(report, result == QDialog.DialogCode.Accepted)
        dialog.deleteLater()

    dialog.finished.connect(done)
    dialog.open()
    dialog.cancel_button.setFocus()
    return dialog


__all__ = ["KEYS_HINT", "ChangeDialog", "ask"]
