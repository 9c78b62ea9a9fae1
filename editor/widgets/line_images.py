"""Painted lines of code, kept while the line is unchanged.

Painting a line token by token costs a font, a pen and a text draw per token;
a 300-node handler has some 500 tokens, and every keystroke repaints the code
view. An edit changes a line or two, and the layout keeps the unchanged lines
as the same `Line` objects (`editor.projection.fragments`), so the code view
paints each line once into an image and, while an equal line comes back with
the same selection and error marks on it, draws that image again. Lines are
keyed by value, not identity: a line laid out again (an ancestor of the edited
node starts it) is usually equal to the old one, and its hash is cached.

An image covers the line from the left edge of the view (the padding and the
indent are transparent) to a character past its end, and one pixel row below
it, where an error's wave reaches into the next line; the view draws lines top
to bottom, so the next line's selection paints over that row as it did when
every token was painted straight onto the view.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap

from editor.projection import Line, Placed
from editor.widgets.theme import TokenStyle, Underline, styled_font, token_style

#: What decorates a line beyond its tokens: per token, 1 if selected plus 2 if marked;
#: None when nothing on the line is.
Decoration = tuple[int, ...] | None


class LineImages:
    """Images of lines painted in one font, by line, for the code view."""

    def __init__(self, font: QFont, pad: int) -> None:
        self.font = font
        self.metrics = QFontMetrics(font)
        self.pad = pad
        self.ratio = 1.0
        #: Images made: how many lines were painted token by token (for tests).
        self.made = 0
        #: By line value: equal lines look the same (a token's node id matters only
        #: to the decoration), and a line laid out again is usually equal to the old one.
        self._images: dict[Line, tuple[Decoration, QPixmap]] = {}
        self._fonts: dict[TokenStyle, QFont] = {}
        self._colors: dict[str, QColor] = {}

    @property
    def cell(self) -> tuple[int, int]:
        return self.metrics.horizontalAdvance("M"), self.metrics.height()

    def keep_only(self, lines: Iterable[Line]) -> None:
        """Forget the images of lines no longer shown."""
        images = self._images
        kept: dict[Line, tuple[Decoration, QPixmap]] = {}
        for line in lines:
            entry = images.get(line)
            if entry is not None:
                kept[line] = entry
        self._images = kept

    def set_ratio(self, ratio: float) -> None:
        """The device pixel ratio images are made for; a new one forgets the old images."""
        if ratio != self.ratio:
            self.ratio = ratio
            self._images = {}

    def image(self, line: Line, row: Sequence[Placed], selection: set[int],
              marked: set[int]) -> QPixmap:
        """The line painted: `row` is its placed tokens, `selection` and `marked` node ids."""
        decoration: Decoration = None
        if selection or marked:
            flags = tuple((t.node_id in selection) + 2 * (t.node_id in marked)
                          for t in line.tokens)
            decoration = flags if any(flags) else None
        entry = self._images.get(line)
        if entry is not None and entry[0] == decoration:
            return entry[1]
        pixmap = self._paint(line, row, decoration)
        self._images[line] = (decoration, pixmap)
        return pixmap

    # ------------------------------------------------------------ paint

    def _paint(self, line: Line, row: Sequence[Placed], decoration: Decoration) -> QPixmap:
        self.made += 1
        w, h = self.cell
        end = row[-1].end if row else line.indent
        width, height = self.pad + (end + 1) * w, h + 1
        pixmap = QPixmap(max(1, round(width * self.ratio)), max(1, round(height * self.ratio)))
        pixmap.setDevicePixelRatio(self.ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        ascent = self.metrics.ascent()
        selection_bg = self.color(token_style("selection").background or "#dbe7ff")
        for i, p in enumerate(row):
            token = p.token
            x = self.pad + p.column * w
            text_width = len(token.text) * w
            style = token_style(token.role)
            flags = decoration[i] if decoration is not None else 0
            if flags & 1:
                painter.fillRect(QRect(x, 0, text_width, h), selection_bg)
            elif style.background:
                painter.fillRect(QRect(x, 1, text_width, h - 2), self.color(style.background))
            if token.role == "space":
                continue
            painter.setFont(self.font_for(style))
            painter.setPen(self.color(style.foreground))
            painter.drawText(QPoint(x, ascent), token.text)
            if flags & 2:
                wave(painter, x, h - 2, text_width, token_style("error").foreground)
            elif style.underline != Underline.NONE:
                pen = QPen(QColor(style.underline_color or style.foreground))
                pen.setStyle(Qt.PenStyle.DotLine if style.underline == Underline.DOTTED
                             else Qt.PenStyle.SolidLine)
                painter.setPen(pen)
                painter.drawLine(x, h - 2, x + text_width, h - 2)
        painter.end()
        return pixmap

    def font_for(self, style: TokenStyle) -> QFont:
        """The code font in a style's weight and slant, made once per style."""
        font = self._fonts.get(style)
        if font is None:
            font = self._fonts[style] = styled_font(self.font, style)
        return font

    def color(self, hex_color: str) -> QColor:
        """A theme colour as a QColor, made once per colour."""
        color = self._colors.get(hex_color)
        if color is None:
            color = self._colors[hex_color] = QColor(hex_color)
        return color


def wave(painter: QPainter, x: int, y: int, width: int, color: str) -> None:
    """The wavy underline of a token with an error mark."""
    pen = QPen(QColor(color))
    pen.setWidth(1)
    painter.setPen(pen)
    step = 3
    up = True
    for i in range(x, x + max(width, step), step):
        painter.drawLine(i, y + (0 if up else 2), i + step, y + (2 if up else 0))
        up = not up
