"""The status bar and the message log.

Every message the editor shows (a refusal, a connection change, a result) goes
to the status bar and into the log. A message too long for the bar is cut with
"…", and the whole text is its tooltip; a message stays a little longer the
longer it is. The log (Ctrl+Shift+U, like VS Code's Output panel) lists every
message with its time, newest last, and keeps them after the bar clears.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QDialog, QPlainTextEdit, QStatusBar, QVBoxLayout, QWidget

#: How long a message stays in the bar: a base, plus a little per character.
BASE_MS, PER_CHAR_MS, MAX_MS = 8000, 40, 30000
#: The most messages the log keeps (the oldest go first).
LOG_SIZE = 1000


def shown_for(text: str) -> int:
    """Milliseconds a message stays in the bar: longer for a longer message."""
    return min(MAX_MS, BASE_MS + PER_CHAR_MS * len(text))


class MessageBar(QStatusBar):
    """A status bar that elides what does not fit, shows the whole in a tooltip, and logs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusBar")
        self.log: list[tuple[datetime, str]] = []
        self.log_view: MessageLog | None = None
        self.messageChanged.connect(self._changed)

    def say(self, text: str, timeout: int | None = None) -> None:
        """Show `text` in the bar and add it to the log (once, if it repeats the last)."""
        if not text:
            return
        if not self.log or self.log[-1][1] != text:
            self.log.append((datetime.now(), text))
            del self.log[:-LOG_SIZE]
            if self.log_view is not None:
                self.log_view.add(*self.log[-1])
        self.showMessage(text, shown_for(text) if timeout is None else timeout)

    def shown_text(self) -> str:
        """What the bar shows of the current message: all of it, or its start and "…"."""
        room = self.width() - 16
        return self.fontMetrics().elidedText(self.currentMessage(), Qt.TextElideMode.ElideRight,
                                              max(room, 0))

    def _changed(self, text: str) -> None:
        self.setToolTip(f"{text}\n\nAll messages: Ctrl+Shift+U" if text else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.currentMessage():
            super().paintEvent(event)
            return
        # QStatusBar would cut the text at the edge; draw it elided instead.
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.rect().adjusted(8, 0, -8, 0),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         self.shown_text())
        painter.end()


class MessageLog(QDialog):
    """Every message with its time, newest last; not modal, so editing goes on beside it."""

    def __init__(self, bar: MessageBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageLog")
        self.setWindowTitle("Messages")
        self.resize(640, 320)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.text)
        for when, message in bar.log:
            self.add(when, message)
        if not bar.log:
            self.text.setPlaceholderText("No messages yet.")

    def add(self, when: datetime, message: str) -> None:
        self.text.appendPlainText(f"{when:%H:%M:%S}  {message}")
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def lines(self) -> list[str]:
        return self.text.toPlainText().splitlines()
