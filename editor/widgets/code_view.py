"""The code view: one toplevel's projection, painted line by line.

It draws what the controller hands it (a projection, the caret position, the
selection, the checker's marks, live values) and turns key presses and clicks
into command names and typed text. Each line is painted token by token into an
image that is drawn again while the line is unchanged (`line_images.py`), so a
keystroke paints the line it edited and copies the others. It holds no editor
state: every change comes back through `show_code`.

Left of the code is a gutter (VS Code's glyph margin, Dark's rail marks): a red
dot on each line with a problem and an orange rail mark on each line where a
call on the error rail starts (`editor.model.problems.Gutter`). Resting the
mouse on the gutter or on an underlined or railed token shows its message.

Signals:
    command(str): a key bound to a command in the keymap's `code` section.
    typed(str): printable text typed (one key press).
    clicked(int, int): a click at (line, column).
"""

from __future__ import annotations

import attrs
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from editor.model.problems import Gutter
from editor.projection import Projection
from editor.widgets.keymap import Keymap
from editor.widgets.line_images import LineImages
from editor.widgets.theme import RAIL_INK, code_font, token_style

PAD = 8
#: The gutter's width, left of the code: a problem dot, then a rail mark.
GUTTER = 20
#: Where the code starts: the gutter, then the padding.
LEFT = GUTTER + PAD
#: The problem dot's and the rail mark's boxes within the gutter (x, width).
PROBLEM_X, RAIL_X, MARK_W = 2, 11, 8


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
        #: Each shown line painted once, drawn again while it is unchanged.
        self.images = LineImages(self.font_, LEFT)
        self.projection: Projection | None = None
        self.caret: tuple[int, int] | None = None
        self.selection: set[int] = set()
        self.marked: set[int] = set()
        self.hint: LiveHint | None = None
        #: The problems and rail calls of the shown code, by line and by node.
        self.gutter = Gutter()
        #: Repaints done, for the editor benchmark and tests.
        self.paints = 0

    # ------------------------------------------------------------ state

    def show_code(self, projection: Projection | None, caret: tuple[int, int] | None,
                  selection: set[int], marked: set[int], hint: LiveHint | None, *,
                  gutter: Gutter | None = None) -> None:
        old_size = self.sizeHint()
        self.gutter = gutter if gutter is not None else Gutter()
        if projection is not self.projection and projection is not None:
            self.images.keep_only(projection.lines)
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
        return QRect(LEFT + col * w, PAD + line * h, 2, h)

    def sizeHint(self) -> QSize:
        w, h = self.cell
        if self.projection is None:
            return QSize(320, 2 * PAD + h)
        widest = max((len(line.text) for line in self.projection.lines), default=0)
        # The live-value hint is not counted: a value arriving must not widen the frame into
        # its neighbours (it is drawn where there is room; the inspector shows all of it).
        return QSize(max(320, LEFT + PAD + widest * w),
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
        col = max(0, round((pos.x() - LEFT) / w))
        self.clicked.emit(line, col)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            tip = self.tooltip_at(event.pos())
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_at(self, pos: QPoint) -> str:
        """What the mouse at `pos` shows: the gutter's line's messages, or its token's."""
        proj = self.projection
        if proj is None:
            return ""
        w, h = self.cell
        line = (pos.y() - PAD) // h
        if pos.y() < PAD or line >= len(proj.lines):
            return ""
        if pos.x() < GUTTER:
            return "\n".join((*self.gutter.problems.get(line, ()),
                               *self.gutter.rails.get(line, ())))
        col = (pos.x() - LEFT) // w
        for p in proj.by_line[line]:
            if p.column <= col < p.end and p.token.role != "space":
                return self.gutter.tips.get(p.token.node_id, "")
        return ""

    # ------------------------------------------------------------ paint

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        painter = QPainter(self)
        proj = self.projection
        if proj is None:
            painter.end()
            return
        w, h = self.cell
        images = self.images
        images.set_ratio(self.devicePixelRatioF())
        # Only the lines the paint event asks for: Qt repaints what `update` marked.
        area = event.rect()
        first = max(0, (area.top() - PAD) // h)
        last = min(len(proj.lines) - 1, (area.bottom() - PAD) // h)
        for n in range(first, last + 1):
            painter.drawPixmap(0, PAD + n * h,
                               images.image(proj.lines[n], proj.by_line[n], self.selection,
                                            self.marked))
        if self.hint is not None and self.caret is not None:
            line = self.caret[0]
            col = len(proj.lines[line].text) + 3
            style = token_style("live" if self.hint.taken else "preview")
            painter.setFont(images.font_for(style))
            painter.setPen(images.color(style.foreground))
            painter.drawText(QPoint(LEFT + col * w, PAD + line * h + self.metrics.ascent()),
                             f"→ {self.hint.text}")
        self._paint_gutter(painter, first, last)
        rect = self.caret_rect()
        if rect is not None and self.hasFocus():
            painter.fillRect(rect, images.color(token_style("caret").foreground))
        elif rect is not None:
            painter.fillRect(rect, images.color(token_style("placeholder").foreground))
        painter.end()

    def _paint_gutter(self, painter: QPainter, first: int, last: int) -> None:
        """A red dot on each line with a problem, an orange rail mark where a railed call is."""
        _w, h = self.cell
        problem = self.images.color(token_style("error").foreground)
        rail = self.images.color(RAIL_INK)
        painter.setPen(Qt.PenStyle.NoPen)
        for n in range(first, last + 1):
            top = PAD + n * h + (h - MARK_W) // 2
            if n in self.gutter.problems:
                painter.setBrush(problem)
                painter.drawEllipse(QRect(PROBLEM_X, top, MARK_W, MARK_W))
            if n in self.gutter.rails:
                # A piece of track: the call's failures leave along it.
                painter.fillRect(QRect(RAIL_X, top + 1, MARK_W, 2), rail)
                painter.fillRect(QRect(RAIL_X, top + MARK_W - 3, MARK_W, 2), rail)
                painter.fillRect(QRect(RAIL_X + 1, top - 1, 1, MARK_W + 2), rail)
                painter.fillRect(QRect(RAIL_X + MARK_W - 2, top - 1, 1, MARK_W + 2), rail)
