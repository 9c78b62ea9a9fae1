"""The editor's look: stylesheet, icons, the code font and the colours of code tokens.

Everything visual that is not layout lives here or in `assets/` so the widgets
stay free of colour literals. The stylesheet (`assets/theme.qss`) targets widgets
by object name; `OBJECT_NAMES` is the contract between it and the widget code,
and a test fails when the stylesheet targets a name missing from it. The code
view paints projection tokens itself, so token colours are data here
(`token_style(role)`) rather than QSS, which cannot reach inside a painted view.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs
from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
    QTextCharFormat,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
STYLESHEET_PATH = ASSETS_DIR / "theme.qss"
ICONS_DIR = ASSETS_DIR / "icons"

# Object names the stylesheet styles, with the widget each one belongs to. The
# widget code sets these with `setObjectName`; a custom QWidget subclass that
# should paint a QSS background also needs `WA_StyledBackground` (QFrame has it).
OBJECT_ROLES: dict[str, str] = {
    "Toolbar": "the main window's QToolBar (indicator, New menu, undo, redo, play, palette)",
    "ConnectionIndicator": "label in the toolbar; dynamic property `state`, see CONNECTION_STATES",
    "Sidebar": "left panel: the canvas's toplevels list and the 404s list",
    "NotFoundList": "list of requests that hit no route, each with a 'create handler' action",
    "Canvas": "central scroll area holding one ToplevelFrame per toplevel",
    "ToplevelFrame": "QFrame around one toplevel; dynamic property `selected` = true/false",
    "ToplevelHeader": "top strip of a ToplevelFrame: method + route, or name + signature",
    "LockBadge": "small label in a ToplevelHeader marking a toplevel that cannot be edited now",
    "ProblemCount": "label in a ToplevelHeader: how many problems its code has (\"2 problems\")",
    "TestCount": "button in a ToplevelHeader: the tests reaching it (\"tests 4 ✓ 1 ✗\"); "
                 "dynamic property `failing`; a click goes to the failing test",
    "TestStatus": "button under a test's code: its status (\"✗ failed with flag x new: ...\"); "
                  "dynamic property `failing`; a click goes to the failing check",
    "CodeView": "the painted projection of a toplevel's code, below its header",
    "Inspector": "right panel: types at the caret, error marks, live value, traces",
    "TraceList": "list of the selected handler's traces, in the Inspector",
    "StatusBar": "the main window's QStatusBar",
    "CompletionPopup": "the autocomplete list (label, type, doc line per row)",
    "Palette": "the command palette frame: a QLineEdit filter above a QListView",
}
OBJECT_NAMES: tuple[str, ...] = tuple(OBJECT_ROLES)

# Values of the ConnectionIndicator's `state` property, each styled in the QSS.
CONNECTION_STATES: tuple[str, ...] = ("online", "offline", "connecting")

# Every icon the widgets may ask for; each is assets/icons/NAME.svg.
ICON_NAMES: tuple[str, ...] = (
    "http", "worker", "cron", "repl", "function", "type", "datastore",
    "play", "undo", "redo", "palette", "online", "offline",
    "flag", "trace", "lock", "delete", "add", "test",
)  # fmt: skip
# The stroke colour every icon is drawn in; `icon(name, color=...)` swaps it.
ICON_INK = "#3f4754"
_ICON_SIZES = (16, 20, 24, 32, 48, 64)

# First family found wins; all are free fonts a Linux machine is likely to have.
CODE_FONT_FAMILIES: tuple[str, ...] = ("JetBrains Mono", "DejaVu Sans Mono")

TEXT = "#1f2328"
MUTED = "#6a737d"
ACCENT = "#2f6fdb"
#: The error rail's gutter mark (a problem's is the "error" token colour).
RAIL_INK = "#bc4c00"
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _hex_color(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name in {"background", "underline_color"}:
        return
    if not (isinstance(value, str) and _HEX.fullmatch(value)):
        raise ValueError(f"TokenStyle.{attribute.name} must be a '#rrggbb' colour, got {value!r}")


class Underline(StrEnum):
    """How a token is underlined; the code view maps these to Qt underline styles."""

    NONE = "none"
    SOLID = "solid"
    WAVE = "wave"
    DOTTED = "dotted"


@attrs.frozen
class TokenStyle:
    """How the code view paints one token: colours are '#rrggbb' strings for QColor."""

    foreground: str = attrs.field(validator=_hex_color)
    background: str | None = attrs.field(default=None, validator=_hex_color)
    bold: bool = False
    italic: bool = False
    underline: Underline = attrs.field(
        default=Underline.NONE, validator=attrs.validators.instance_of(Underline)
    )
    # None: underline in the foreground colour.
    underline_color: str | None = attrs.field(default=None, validator=_hex_color)
    strike: bool = False


DEFAULT_STYLE = TokenStyle(TEXT)

# Roles the projection gives tokens, in the order the brief lists them.
ROLES: tuple[str, ...] = (
    "keyword", "binder", "variable", "fn", "constructor",
    "int", "float", "string", "bool", "null", "op", "punct",
    "hole", "placeholder", "partial", "partial_old",
    "field", "flag", "space", "error", "live", "preview", "selection", "caret",
)  # fmt: skip

_STYLES: dict[str, TokenStyle] = {
    "keyword": TokenStyle("#8250df", bold=True),
    # A binder is where a name is introduced; a lighter tone of the variable's
    # ink would vanish, so it gets its own hue.
    "binder": TokenStyle("#0b7285"),
    "variable": DEFAULT_STYLE,
    "fn": TokenStyle("#2f5fc4"),
    "constructor": TokenStyle("#a3307a"),
    "int": TokenStyle("#b35900"),
    "float": TokenStyle("#b35900"),
    "string": TokenStyle("#1a7f37"),
    "bool": TokenStyle("#a3307a"),
    "null": TokenStyle("#a3307a", italic=True),
    "op": TokenStyle("#57606a"),
    "punct": TokenStyle("#8c959f"),
    # An empty hole must be findable at a glance: a tinted box, not just colour.
    "hole": TokenStyle("#4f5d7a", background="#e4ecfb"),
    "placeholder": TokenStyle("#9aa1ab", italic=True),
    "partial": TokenStyle(TEXT, underline=Underline.SOLID, underline_color=ACCENT),
    "partial_old": TokenStyle("#9aa1ab", strike=True),
    "field": TokenStyle("#0a3069"),
    "flag": TokenStyle("#8a5a00", background="#fff6d9", bold=True),
    "space": DEFAULT_STYLE,
    "error": TokenStyle("#d1242f", underline=Underline.WAVE, underline_color="#d1242f"),
    "live": TokenStyle("#1f7a55", background="#eaf6ef", italic=True),
    "preview": TokenStyle("#a0a7b1", italic=True),
    "selection": TokenStyle(TEXT, background="#cfe0ff"),
    "caret": TokenStyle(ACCENT),
}

# Checked at import: a role without a style, or a style for no role, is a typo.
if set(_STYLES) != set(ROLES):
    raise RuntimeError(
        f"token styles and ROLES disagree: unstyled {sorted(set(ROLES) - set(_STYLES))}, "
        f"unknown {sorted(set(_STYLES) - set(ROLES))}"
    )


def token_style(role: str) -> TokenStyle:
    """The style for a projection token role; unknown roles get the plain text style."""
    return _STYLES.get(role, DEFAULT_STYLE)


def styled_font(base: QFont, style: TokenStyle) -> QFont:
    """`base` with the style's weight, slant and strike-out (underlines are painted apart)."""
    font = QFont(base)
    font.setBold(style.bold)
    font.setItalic(style.italic)
    font.setStrikeOut(style.strike)
    return font


_QT_UNDERLINE = {
    Underline.NONE: QTextCharFormat.UnderlineStyle.NoUnderline,
    Underline.SOLID: QTextCharFormat.UnderlineStyle.SingleUnderline,
    Underline.WAVE: QTextCharFormat.UnderlineStyle.WaveUnderline,
    Underline.DOTTED: QTextCharFormat.UnderlineStyle.DotLine,
}


def char_format(style: TokenStyle, base: QFont | None = None) -> QTextCharFormat:
    """A QTextCharFormat for views that lay tokens out with Qt's text engine."""
    fmt = QTextCharFormat()
    if base is not None:
        fmt.setFont(base)
    fmt.setForeground(QColor(style.foreground))
    if style.background is not None:
        fmt.setBackground(QColor(style.background))
    fmt.setFontWeight(QFont.Weight.Bold if style.bold else QFont.Weight.Normal)
    fmt.setFontItalic(style.italic)
    fmt.setFontStrikeOut(style.strike)
    fmt.setUnderlineStyle(_QT_UNDERLINE[style.underline])
    if style.underline is not Underline.NONE:
        fmt.setUnderlineColor(QColor(style.underline_color or style.foreground))
    return fmt


def _require_gui(what: str) -> None:
    if QGuiApplication.instance() is None:
        raise RuntimeError(
            f"{what} needs a running QApplication (fonts and pixmaps come from the "
            "platform): create QApplication first"
        )


def load_stylesheet() -> str:
    """The text of assets/theme.qss."""
    if not STYLESHEET_PATH.is_file():
        raise FileNotFoundError(
            f"the editor stylesheet is missing: {STYLESHEET_PATH} does not exist; "
            "restore assets/theme.qss from the repository"
        )
    return STYLESHEET_PATH.read_text(encoding="utf-8")


def available_icons() -> tuple[str, ...]:
    """Names of the SVG icons present in assets/icons, sorted."""
    return tuple(sorted(p.stem for p in ICONS_DIR.glob("*.svg")))


def icon_path(name: str) -> Path:
    """The SVG file of icon `name`; a clear error lists the icons that do exist."""
    path = ICONS_DIR / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(
            f"no icon named {name!r}: {path} does not exist. "
            f"Available icons: {', '.join(available_icons()) or '(none)'}. "
            "Use one of these or add NAME.svg to assets/icons."
        )
    return path


def icon(name: str, color: str | None = None) -> QIcon:
    """Icon `name` from assets/icons, drawn in its own ink or re-inked in `color` ('#rrggbb')."""
    path = icon_path(name)
    if color is None:
        return QIcon(str(path))
    if not _HEX.fullmatch(color):
        raise ValueError(f"icon colour must be '#rrggbb', got {color!r}")
    _require_gui("icon(name, color=...)")
    svg = path.read_text(encoding="utf-8").replace(ICON_INK, color)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"icon {path} is not an SVG that Qt can render; fix or redraw it")
    result = QIcon()
    for size in _ICON_SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def code_font(point_size: int = 11) -> QFont:
    """The monospace font code is shown in: a preferred family if installed, else the system's."""
    if not isinstance(point_size, int) or point_size <= 0:
        raise ValueError(f"code_font point_size must be a positive int, got {point_size!r}")
    _require_gui("code_font()")
    installed = set(QFontDatabase.families())
    family = next((f for f in CODE_FONT_FAMILIES if f in installed), None)
    if family is not None:
        font = QFont(family, point_size)
    else:
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(point_size)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    return font


def _palette() -> QPalette:
    # The palette covers what QSS does not reach (native dialogs, item views'
    # default highlight), in the same colours as the stylesheet.
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#f5f6f8",
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f8fa",
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: "#cfe0ff",
        QPalette.ColorRole.HighlightedText: TEXT,
        QPalette.ColorRole.ToolTipBase: TEXT,
        QPalette.ColorRole.ToolTipText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#9aa1ab",
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#a0a7b1"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#a0a7b1"))
    return palette


def apply_theme(app: QApplication) -> None:
    """Give `app` the Gloam look: Fusion style, the palette and the stylesheet."""
    # Fusion draws the same on every OS, so the stylesheet is tuned once.
    app.setStyle("Fusion")
    app.setPalette(_palette())
    app.setStyleSheet(load_stylesheet())


def restyle(widget: QWidget, **properties: object) -> None:
    """Set dynamic properties the stylesheet matches on and make Qt re-apply it.

    Qt evaluates `[prop="value"]` selectors only when a widget is polished, so
    changing a property alone leaves the old look; this re-polishes.
    """
    for key, value in properties.items():
        widget.setProperty(key, value)
    if not widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
        # Not shown yet: its first polish will read the properties. Polishing
        # now would fix its font before it is even in its parent.
        return
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
