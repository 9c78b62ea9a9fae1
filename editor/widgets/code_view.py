"""The code view: one toplevel's projection, painted token by token.

It draws what the controller hands it (a projection, the caret position, the
selection, the checker's marks, live values) and turns key presses and clicks
into command names and typed text. It holds no editor state: every change
comes back through `show_code`.

Signals:
    command(str): a key bound to a command in the keymap's `code` section.
    typed(str): printable text typed (one key press).
    clicked(int, int): a click at (line, column).
"""

from __future__ import annotations

import attrs
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from editor.projection import Projection
from editor.widgets.keymap import Keymap
from editor.widgets.theme import Underline, code_font, styled_font, token_style

PAD = 8


@attrs.frozen
class LiveHint:
    """The value shown at the end of the caret's line, and whether its branch was taken."""

    text: str
    taken: bool = True


class CodeView(QWidget):
    command = Signal(str)
    typed = Signal(str)
    clicked = Signal(int, int)

    def __init__(self, keymap: Keymap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CodeView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.keymap = keymap
        self.font_ = code_font()
        self.metrics = QFontMetrics(self.font_)
        self.projection: Projection | None = None
        self.caret: tuple[int, int] | None = None
        self.selection: set[int] = set()
        self.marked: set[int] = set()
        self.hint: LiveHint | None = None
        #: Repaints done, for the editor benchmark and tests.
        self.paints = 0
        self._fonts: dict[object, QFont] = {}
        self._colors: dict[str, QColor] = {}

    # ------------------------------------------------------------ state

    def show_code(self, projection: Projection | None, caret: tuple[int, int] | None,
                  selection: set[int], marked: set[int], hint: LiveHint | None) -> None:
        old_size = self.sizeHint()
        self.projection, self.caret = projection, caret
        self.selection, self.marked, self.hint = selection, marked, hint
        if self.sizeHint() != old_size:
            self.updateGeometry()
        self.update()

    @property
    def cell(self) -> tuple[int, int]:
        return self.metrics.horizontalAdvance("M"), self.metrics.height()

    def caret_rect(self) -> QRect | None:
        if self.caret is None:
            return None
        w, h = self.cell
        line, col = self.caret
        return QRect(PAD + col * w, PAD + line * h, 2, h)

    def sizeHint(self) -> QSize:
        w, h = self.cell
        if self.projection is None:
            return QSize(320, 2 * PAD + h)
        widest = max((len(line.text) for line in self.projection.lines), default=0)
        extra = len(self.hint.text) + 4 if self.hint else 0
        return QSize(max(320, 2 * PAD + (widest + extra) * w),
                     2 * PAD + max(1, len(self.projection.lines)) * h)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    # ------------------------------------------------------------ input

    def focusNextPrevChild(self, next_: bool) -> bool:
        # Tab and Shift-Tab move between holes, not between widgets.
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        name = self.keymap.command_for(event.keyCombination(), "code")
        if name is not None:
            self.command.emit(name)
            event.accept()
            return
        text = event.text()
        mods = (event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
                & ~Qt.KeyboardModifier.KeypadModifier)
        if text and text.isprintable() and mods == Qt.KeyboardModifier.NoModifier:
            self.typed.emit(text)
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        w, h = self.cell
        pos = event.position()
        line = max(0, int((pos.y() - PAD) // h))
        col = max(0, round((pos.x() - PAD) / w))
        self.clicked.emit(line, col)

    # ------------------------------------------------------------ paint

    def paintEvent(self, _event: QPaintEvent) -> None:
        self.paints += 1
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        proj = self.projection
        if proj is None:
            painter.end()
            return
        w, h = self.cell
        ascent = self.metrics.ascent()
        selection_bg = QColor(token_style("selection").background or "#dbe7ff")
        for p in proj.placed:
            token = p.token
            x, y = PAD + p.column * w, PAD + p.line * h
            width = len(token.text) * w
            style = token_style(token.role)
            if token.node_id in self.selection:
                painter.fillRect(QRect(x, y, width, h), selection_bg)
            elif style.background:
                painter.fillRect(QRect(x, y + 1, width, h - 2), QColor(style.background))
            if token.role == "space":
                continue
            painter.setFont(self._font(style))
            painter.setPen(self._color(style.foreground))
            painter.drawText(QPoint(x, y + ascent), token.text)
            underline = style.underline
            if token.node_id in self.marked:
                self._wave(painter, x, y + h - 2, width, token_style("error").foreground)
            elif underline != Underline.NONE:
                pen = QPen(QColor(style.underline_color or style.foreground))
                pen.setStyle(Qt.PenStyle.DotLine if underline == Underline.DOTTED
                             else Qt.PenStyle.SolidLine)
                painter.setPen(pen)
                painter.drawLine(x, y + h - 2, x + width, y + h - 2)
        if self.hint is not None and self.caret is not None:
            line = self.caret[0]
            col = len(proj.lines[line].text) + 3
            style = token_style("live" if self.hint.taken else "preview")
            painter.setFont(self._font(style))
            painter.setPen(self._color(style.foreground))
            painter.drawText(QPoint(PAD + col * w, PAD + line * h + ascent), f"→ {self.hint.text}")
        rect = self.caret_rect()
        if rect is not None and self.hasFocus():
            painter.fillRect(rect, QColor(token_style("caret").foreground))
        elif rect is not None:
            painter.fillRect(rect, QColor(token_style("placeholder").foreground))
        painter.end()

    def _font(self, style: object) -> QFont:
        """The code font in a style's weight and slant, made once per style."""
        font = self._fonts.get(style)
        if font is None:
            font = self._fonts[style] = styled_font(self.font_, style)  # type: ignore[arg-type]
        return font

    def _color(self, hex_color: str) -> QColor:
        color = self._colors.get(hex_color)
        if color is None:
            color = self._colors[hex_color] = QColor(hex_color)
        return color

    @staticmethod
    def _wave(painter: QPainter, x: int, y: int, width: int, color: str) -> None:
        pen = QPen(QColor(color))
        pen.setWidth(1)
        painter.setPen(pen)
        step = 3
        up = True
        for i in range(x, x + max(width, step), step):
            painter.drawLine(i, y + (0 if up else 2), i + step, y + (2 if up else 0))
            up = not up

