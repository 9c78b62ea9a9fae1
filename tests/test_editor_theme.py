"""The editor's look: the stylesheet parses, icons render, code tokens are styled and readable."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt, qInstallMessageHandler
from PySide6.QtGui import QColor, QFontInfo, QImage, QPainter, QTextCursor, QTextDocument
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QStyleFactory, QVBoxLayout, QWidget

from editor.widgets import theme

ROOT = Path(__file__).resolve().parent.parent

# The roles the code view's projection paints, as the editor brief names them.
BRIEF_ROLES = (
    "keyword", "binder", "variable", "fn", "constructor", "int", "float", "string", "bool",
    "null", "op", "punct", "hole", "placeholder", "partial", "partial_old", "field", "flag",
    "space", "error", "live", "preview", "selection", "caret",
)  # fmt: skip
BRIEF_ICONS = (
    "http", "worker", "cron", "repl", "function", "type", "datastore", "play", "undo", "redo",
    "palette", "online", "offline", "flag", "trace", "lock", "delete", "add", "test",
)  # fmt: skip
# Deliberately faint text: ghosts of what is not there or not taken.
GHOST_ROLES = {"placeholder", "partial_old", "preview"}
# Quiet but must stay legible (WCAG's 3:1 for large text and UI parts).
QUIET_ROLES = {"punct"}


@contextmanager
def qt_messages() -> Iterator[list[str]]:
    """Collect every message Qt logs inside the block, then restore the previous handler."""
    seen: list[str] = []
    previous = qInstallMessageHandler(lambda _kind, _context, message: seen.append(message))
    try:
        yield seen
    finally:
        qInstallMessageHandler(previous)


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The shared QApplication with the theme applied, put back as it was afterwards."""
    sheet, palette, style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    theme.apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(QStyleFactory.create(style))


def _widget_per_object_name(qtbot) -> QWidget:
    """A window holding one widget per documented object name, so every rule gets matched."""
    root = QWidget()
    layout = QVBoxLayout(root)
    for name in theme.OBJECT_NAMES:
        frame = QFrame()
        frame.setObjectName(name)
        inner = QVBoxLayout(frame)
        inner.addWidget(QLabel(name))
        layout.addWidget(frame)
    for state in theme.CONNECTION_STATES:
        label = QLabel(state)
        label.setObjectName("ConnectionIndicator")
        theme.restyle(label, state=state)
        layout.addWidget(label)
    qtbot.addWidget(root)
    return root


def _selectors(qss: str) -> str:
    """The selector text of a stylesheet: comments and declaration blocks removed."""
    without_comments = re.sub(r"/\*.*?\*/", "", qss, flags=re.DOTALL)
    return re.sub(r"\{[^}]*\}", " ", without_comments)


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two '#rrggbb' colours."""

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _opaque_pixels(image: QImage) -> list[QColor]:
    return [
        image.pixelColor(x, y)
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 0
    ]


# ---- stylesheet -------------------------------------------------------------


def test_assets_dir_is_the_repositorys() -> None:
    assert theme.ASSETS_DIR == ROOT / "assets"
    assert theme.load_stylesheet() == (ROOT / "assets" / "theme.qss").read_text()


def test_qt_accepts_the_stylesheet(themed: QApplication, qtbot) -> None:
    with qt_messages() as seen:
        themed.setStyleSheet(theme.load_stylesheet())
        root = _widget_per_object_name(qtbot)
        root.show()
        qtbot.waitExposed(root)
        root.grab()
    complaints = [m for m in seen if "style" in m.lower() and "sheet" in m.lower()]
    assert complaints == []


def test_the_message_capture_does_catch_a_broken_stylesheet(
    themed: QApplication,
    qtbot,
) -> None:
    # Guards the test above: if Qt stopped reporting bad QSS there, it would pass vacuously.
    with qt_messages() as seen:
        themed.setStyleSheet("#Toolbar { color: ; {{ }")
        root = _widget_per_object_name(qtbot)
        root.show()
        qtbot.waitExposed(root)
    assert any("stylesheet" in m.lower() for m in seen), seen


def test_every_object_name_the_stylesheet_targets_is_documented() -> None:
    targeted = set(re.findall(r"#([A-Za-z_]\w*)", _selectors(theme.load_stylesheet())))
    undocumented = targeted - set(theme.OBJECT_NAMES)
    assert undocumented == set(), f"add these to OBJECT_NAMES in theme.py: {sorted(undocumented)}"
    unstyled = set(theme.OBJECT_NAMES) - targeted
    assert unstyled == set(), f"OBJECT_NAMES that theme.qss never styles: {sorted(unstyled)}"


def test_object_names_cover_the_main_window_parts() -> None:
    expected = {
        "Toolbar", "Sidebar", "Canvas", "ToplevelFrame", "ToplevelHeader", "CodeView",
        "Inspector", "CompletionPopup", "Palette", "ConnectionIndicator", "TraceList",
        "NotFoundList", "StatusBar", "LockBadge", "ProblemCount", "TestCount", "TestStatus",
    }  # fmt: skip
    assert set(theme.OBJECT_NAMES) == expected
    assert all(theme.OBJECT_ROLES[name] for name in theme.OBJECT_NAMES)


def test_every_connection_state_has_its_own_rule() -> None:
    selectors = _selectors(theme.load_stylesheet())
    styled = set(re.findall(r'#ConnectionIndicator\[state="(\w+)"\]', selectors))
    assert styled == set(theme.CONNECTION_STATES) == {"online", "offline", "connecting"}


def _dominant_colour(widget: QWidget) -> QColor:
    image = widget.grab().toImage()
    counts = Counter(
        image.pixelColor(x, y).rgb() for y in range(image.height()) for x in range(image.width())
    )
    return QColor.fromRgb(counts.most_common(1)[0][0])


def test_offline_indicator_turns_red_when_its_state_changes(themed, qtbot) -> None:
    label = QLabel("     offline     ")
    label.setObjectName("ConnectionIndicator")
    theme.restyle(label, state="online")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    online = _dominant_colour(label)
    # Changed after the first polish: restyle must make Qt re-read the selector.
    theme.restyle(label, state="offline")
    offline = _dominant_colour(label)
    assert online.green() > online.red(), online.name()
    assert offline.red() > offline.green() and offline.red() > offline.blue(), offline.name()


def test_restyle_before_showing_keeps_the_font_set_afterwards(themed, qtbot) -> None:
    inspector = QFrame()
    inspector.setObjectName("Inspector")
    label = QLabel("Int")
    theme.restyle(label, heading=False)
    label.setFont(theme.code_font(10))
    QVBoxLayout(inspector).addWidget(label)
    qtbot.addWidget(inspector)
    inspector.show()
    qtbot.waitExposed(inspector)
    assert QFontInfo(label.font()).fixedPitch()


# ---- icons ------------------------------------------------------------------


def test_the_icon_set_is_exactly_the_documented_one() -> None:
    assert set(theme.ICON_NAMES) == set(BRIEF_ICONS)
    assert set(theme.available_icons()) == set(theme.ICON_NAMES)


@pytest.mark.parametrize("name", BRIEF_ICONS)
def test_icon_is_a_consistent_24px_stroke_svg(name: str) -> None:
    root = ET.parse(theme.ICONS_DIR / f"{name}.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("24", "24", "0 0 24 24")
    assert root.get("fill") == "none"
    assert root.get("stroke") == theme.ICON_INK
    assert root.get("stroke-width") == "1.75"


@pytest.mark.parametrize("name", BRIEF_ICONS)
def test_icon_renders_with_qsvgrenderer(qapp, name: str) -> None:
    with qt_messages() as seen:
        renderer = QSvgRenderer(str(theme.icon_path(name)))
        image = QImage(24, 24, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter, QRectF(0, 0, 24, 24))
        painter.end()
    assert renderer.isValid()
    assert seen == []
    inked = len(_opaque_pixels(image))
    # Some ink, and strokes rather than a filled block.
    assert 30 < inked < 0.6 * 24 * 24, inked


@pytest.mark.parametrize("name", BRIEF_ICONS)
def test_icon_loads_as_a_qicon(qapp, name: str) -> None:
    pixmap = theme.icon(name).pixmap(24, 24)
    assert not pixmap.isNull()
    assert _opaque_pixels(pixmap.toImage())


def test_icon_can_be_reinked(qapp) -> None:
    pixels = _opaque_pixels(theme.icon("offline", color="#d1242f").pixmap(24, 24).toImage())
    solid = [p for p in pixels if p.alpha() == 255]
    assert solid
    assert all(p.name() == "#d1242f" for p in solid)


def test_a_missing_icon_names_the_file_and_the_icons_there_are() -> None:
    with pytest.raises(FileNotFoundError) as raised:
        theme.icon("rocket")
    message = str(raised.value)
    assert "rocket.svg" in message
    assert all(name in message for name in BRIEF_ICONS)


def test_a_bad_icon_colour_is_refused(qapp) -> None:
    with pytest.raises(ValueError, match="rrggbb"):
        theme.icon("add", color="red")


# ---- code font --------------------------------------------------------------


def test_code_font_is_fixed_pitch(qapp) -> None:
    font = theme.code_font()
    assert QFontInfo(font).fixedPitch()
    assert font.pointSize() == 11
    assert theme.code_font(15).pointSize() == 15


@pytest.mark.parametrize("size", [0, -3, 10.5])
def test_code_font_refuses_a_bad_size(qapp, size) -> None:
    with pytest.raises(ValueError, match="positive int"):
        theme.code_font(size)


# ---- token styles -----------------------------------------------------------


def test_every_role_has_a_valid_style() -> None:
    assert set(theme.ROLES) == set(BRIEF_ROLES)
    for role in theme.ROLES:
        style = theme.token_style(role)
        assert isinstance(style, theme.TokenStyle)
        assert QColor(style.foreground).isValid(), role
        assert style.background is None or QColor(style.background).isValid(), role


@given(st.text())
def test_any_role_name_gets_a_style(role: str) -> None:
    style = theme.token_style(role)
    if role not in theme.ROLES:
        assert style == theme.DEFAULT_STYLE


def test_unknown_roles_look_like_plain_text() -> None:
    assert theme.token_style("sparkle") == theme.token_style("variable")


def test_text_is_readable_and_ghosts_are_faint() -> None:
    plain = _contrast(theme.DEFAULT_STYLE.foreground, "#ffffff")
    for role in theme.ROLES:
        style = theme.token_style(role)
        ratio = _contrast(style.foreground, style.background or "#ffffff")
        if role in GHOST_ROLES:
            assert 2.0 <= ratio < 4.5, (role, ratio)
            assert ratio < plain
        elif role in QUIET_ROLES:
            assert ratio >= 3.0, (role, ratio)
        else:
            assert ratio >= 4.5, (role, ratio)


def test_holes_partials_flags_and_errors_stand_apart() -> None:
    style = theme.token_style
    plain = theme.DEFAULT_STYLE
    assert style("hole").background not in {None, "#ffffff"}
    assert style("placeholder").italic
    assert style("partial").underline is not theme.Underline.NONE
    assert style("partial_old").strike and style("partial_old").foreground != plain.foreground
    assert style("error").underline is theme.Underline.WAVE
    # Amber: more red than blue, and a hue between orange and yellow.
    assert 30 <= QColor(style("flag").foreground).hue() <= 60
    assert style("preview").foreground != style("live").foreground
    assert style("selection").background is not None


def test_a_bad_colour_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match=r"TokenStyle.background must be a '#rrggbb'"):
        theme.TokenStyle("#000000", background="blue")


def test_styled_tokens_paint_their_hole_box(qapp, tmp_path: Path) -> None:
    tokens = [("let", "keyword"), (" ", "space"), ("x", "binder"), (" = ", "op")]
    tokens += [("    ", "hole"), (" ", "space"), ("Stri", "partial"), ("total", "partial_old")]
    document = QTextDocument()
    document.setDocumentMargin(4)
    cursor = QTextCursor(document)
    base = theme.code_font(12)
    for text, role in tokens:
        cursor.insertText(text, theme.char_format(theme.token_style(role), base))
    size = document.size().toSize()
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    document.drawContents(painter)
    painter.end()
    image.save(str(tmp_path / "tokens.png"))
    colours = {
        image.pixelColor(x, y).name() for y in range(image.height()) for x in range(image.width())
    }
    assert theme.token_style("hole").background in colours
    assert theme.token_style("keyword").foreground in colours
