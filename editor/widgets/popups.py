"""The completion popup and the command palette.

The completion popup lists what the partial at the caret could become; it
never takes focus, so typing goes on in the code view while it filters. The
palette takes focus: a filter line above a list of commands; Enter runs the
highlighted one, and a command that needs a name asks for it in the same line.

Signals of `Palette`:
    chosen(str, object): (command name, argument or None).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from editor.model.completion import Completion
from shared_ast.names import show_type_briefly
from shared_ast.toplevels import UserFunction

#: The completion popup's widest, and the most rows it shows before it scrolls.
POPUP_WIDTH, POPUP_ROWS = 460, 10
#: The same for the command palette (and the Ctrl+P toplevel pick).
PALETTE_WIDTH, PALETTE_ROWS = 420, 12


def place_popup(anchor: QRect, size: QSize, bounds: QRect, gap: int = 4) -> QPoint:
    """Where a popup of `size` goes for a caret at `anchor`, staying inside `bounds`.

    Below the caret if it fits there, else above it (as VS Code's suggest widget
    flips); then moved left and up as needed to stay inside `bounds`.
    """
    y = anchor.bottom() + 1 + gap
    above = anchor.top() - gap - size.height()
    if y + size.height() > bounds.bottom() + 1 and above >= bounds.top():
        y = above
    x = anchor.left()
    x = max(bounds.left(), min(x, bounds.right() + 1 - size.width()))
    y = max(bounds.top(), min(y, bounds.bottom() + 1 - size.height()))
    return QPoint(x, y)


class CompletionPopup(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CompletionPopup")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.doc = QLabel(self)
        self.doc.setWordWrap(True)
        self.doc.setObjectName("CompletionDoc")
        layout.addWidget(self.list)
        layout.addWidget(self.doc)
        self.resize(460, 240)
        self.hide()

    def show_completions(self, items: Sequence[Completion], index: int) -> None:
        self.list.clear()
        for c in items:
            mark = "" if c.fits else "  (does not fit)"
            text = f"{c.label}    {c.type_text}{mark}" if c.type_text else f"{c.label}{mark}"
            item = QListWidgetItem(text)
            item.setToolTip(c.doc)
            if c.deprecated:
                font = item.font()
                font.setStrikeOut(True)
                item.setFont(font)
            self.list.addItem(item)
        if items:
            self.list.setCurrentRow(index)
            self.doc.setText(items[index].doc)
            self.doc.setVisible(bool(items[index].doc))
            self.fit_rows()

    def fit_rows(self, width: int = POPUP_WIDTH) -> None:
        """As tall as its rows (up to ten), the doc line of the highlighted one below, and
        no wider than `width`."""
        rows = min(self.list.count(), POPUP_ROWS)
        least = self.list.fontMetrics().height()
        heights = sum(max(self.list.sizeHintForRow(i), least) for i in range(rows))
        self.list.setFixedHeight(heights + 2 * self.list.frameWidth())
        self.setFixedWidth(width)
        layout = self.layout()
        height = layout.totalHeightForWidth(width) if layout is not None else self.height()
        self.setFixedHeight(max(height, self.sizeHint().height()))

    def labels(self) -> list[str]:
        return [self.list.item(i).text().split("    ")[0] for i in range(self.list.count())]


class Palette(QFrame):
    chosen = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Palette")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Type to filter commands; Enter runs; Esc closes")
        self.list = QListWidget(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.commands: list[tuple[str, str, str | None]] = []
        self.asking: tuple[str, str] | None = None
        self.filter.textChanged.connect(self._refilter)
        self.filter.installEventFilter(self)
        self.list.itemActivated.connect(lambda _i: self._accept())
        self.resize(420, 300)
        self.hide()

    def open(self, commands: Sequence[tuple[str, str, str | None]],
             placeholder: str = "Type to filter commands; Enter runs; Esc closes") -> None:
        """`commands`: (name, title, prompt for an argument or None)."""
        self.commands = list(commands)
        self.asking = None
        self.filter.clear()
        self.filter.setPlaceholderText(placeholder)
        self._refilter("")
        self.show()
        self.raise_()
        self.filter.setFocus()

    def _refilter(self, text: str) -> None:
        if self.asking is not None:
            return
        words = text.lower().split()
        self.list.clear()
        for name, title, _asks in self.commands:
            hay = f"{title} {name}".lower()
            if all(w in hay for w in words):
                item = QListWidgetItem(title)
                item.setData(Qt.ItemDataRole.UserRole, name)
                self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self._fit()

    def _fit(self) -> None:
        """As tall as its rows (up to a dozen), centred near the top, inside the window."""
        parent = self.parentWidget()
        if parent is None:
            return
        least = self.list.fontMetrics().height()
        rows = min(self.list.count(), PALETTE_ROWS)
        room = max(parent.height() - 16 - 56 - self.filter.sizeHint().height() - 24, least)
        height = sum(max(self.list.sizeHintForRow(i), least) for i in range(rows))
        self.list.setFixedHeight(min(height, room) + 2 * self.list.frameWidth())
        self.list.setVisible(rows > 0)
        width = min(PALETTE_WIDTH, parent.width() - 16)
        layout = self.layout()
        by_width = layout.totalHeightForWidth(width) if layout is not None else -1
        self.resize(width, max(by_width, self.sizeHint().height()))
        self.move(place_popup(QRect((parent.width() - self.width()) // 2, 56, 0, 0),
                              self.size(), parent.rect()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._accept()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_palette()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.list.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                self.list.setCurrentRow((self.list.currentRow() + step) % self.list.count())
                return True
        return super().eventFilter(watched, event)

    def _accept(self) -> None:
        if self.asking is not None:
            name, _prompt = self.asking
            argument = self.filter.text().strip()
            self.close_palette()
            self.chosen.emit(name, argument)
            return
        item = self.list.currentItem()
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        asks = next((a for n, _t, a in self.commands if n == name), None)
        if asks is not None:
            self.asking = (name, asks)
            self.filter.clear()
            self.filter.setPlaceholderText(f"{item.text()}: type {asks}, then Enter")
            self.list.clear()
            self._fit()
            return
        self.close_palette()
        self.chosen.emit(name, None)

    def ask(self, name: str, title: str, prompt: str, text: str = "") -> None:
        """Open straight at a command's question (F2's rename), `text` filled in and selected
        so that typing replaces it, as VS Code's rename box does."""
        self.open([(name, title, prompt)])
        self.asking = (name, prompt)
        self.list.clear()
        self.filter.setPlaceholderText(f"{title}: type {prompt}, then Enter")
        self.filter.setText(text)
        self.filter.selectAll()

    def close_palette(self) -> None:
        self.hide()
        self.asking = None
        parent = self.parentWidget()
        if parent is not None:
            parent.setFocus()


class ArgumentsDialog(QDialog):
    """Asks for a function's arguments before the play button runs it, one JSON value each."""

    def __init__(self, fn: UserFunction, previous: dict[str, str], parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Run {fn.qualified}")
        form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        for p in fn.params:
            edit = QLineEdit(previous.get(p.name, ""), self)
            edit.setPlaceholderText('JSON: 3, "text", [1, 2], {"a": 1}')
            form.addRow(f"{p.name}: {show_type_briefly(p.type)}", edit)
            self.edits[p.name] = edit
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, str]:
        return {name: edit.text().strip() or "null" for name, edit in self.edits.items()}
