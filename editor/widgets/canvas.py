"""The canvas: one frame per toplevel, placed where the toplevel's position says.

A `ToplevelFrame` has a header (what triggers a handler, or a function's name)
with inline fields that send a spec change when edited, and below it the code
view. Dragging the header moves the toplevel; the move is an op like any
other edit.

Signals of `ToplevelFrame`:
    spec_edited(int, object): (tlid, new HandlerSpec) after a header field is edited.
    renamed(int, str): (tlid, new name) for functions, types and datastores.
    delete_requested(int): the delete button.
    run_requested(int): the play button.
    moved(int, int, int): (tlid, x, y) after a drag.
    focused(int): the frame was clicked or its code view got focus.
    declarations_requested(int): the "edit parameters / fields / schema" button.
    version_requested(int): the "new version" button of a function or type.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.model.placement import Box
from editor.model.problems import count_text as problem_count_text
from editor.widgets.code_view import CodeView
from editor.widgets.keymap import Keymap
from editor.widgets.theme import icon, restyle
from shared_ast.locking import InUse
from shared_ast.names import show_type_briefly
from shared_ast.toplevels import (
    HTTP_METHODS,
    CronSpec,
    Datastore,
    EnumDef,
    Handler,
    HttpSpec,
    ReplSpec,
    Toplevel,
    UserFunction,
    UserType,
    WorkerSpec,
)


def _icon_name(tl: Toplevel) -> str:
    match tl:
        case Handler(spec=HttpSpec()):
            return "http"
        case Handler(spec=WorkerSpec()):
            return "worker"
        case Handler(spec=CronSpec()):
            return "cron"
        case Handler():
            return "repl"
        case UserFunction():
            return "function"
        case UserType():
            return "type"
    return "datastore"


class _Header(QFrame):
    def __init__(self, frame: ToplevelFrame) -> None:
        super().__init__(frame)
        self.setObjectName("ToplevelHeader")
        self.frame = frame
        self._drag: QPoint | None = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag = event.globalPosition().toPoint()
        self.frame.focused.emit(self.frame.tlid)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        now = event.globalPosition().toPoint()
        self.frame.move(self.frame.pos() + now - self._drag)
        self._drag = now

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:
        if self._drag is not None:
            self._drag = None
            pos = self.frame.pos()
            self.frame.moved.emit(self.frame.tlid, pos.x(), pos.y())


class ToplevelFrame(QFrame):
    spec_edited = Signal(object, object)
    renamed = Signal(object, str)
    delete_requested = Signal(object)
    run_requested = Signal(object)
    moved = Signal(object, int, int)
    focused = Signal(object)
    declarations_requested = Signal(object)
    version_requested = Signal(object)

    def __init__(self, tl: Toplevel, keymap: Keymap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ToplevelFrame")
        self.tlid = tl.tlid
        self.toplevel: Toplevel | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.header = _Header(self)
        self.header_layout = QHBoxLayout(self.header)
        self.header_layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.header)
        self.code = CodeView(keymap, self)
        self.summary = QLabel(self)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setContentsMargins(10, 6, 10, 8)
        layout.addWidget(self.code)
        layout.addWidget(self.summary)
        self.fields: dict[str, QWidget] = {}
        self._forcing = False
        self.set_toplevel(tl)

    # ---------------------------------------------------------- header

    def set_toplevel(self, tl: Toplevel) -> None:
        if self.toplevel is not None and type(self.toplevel) is type(tl) and getattr(
                self.toplevel, "spec", None).__class__ is getattr(tl, "spec", None).__class__:
            self.toplevel = tl
            self._fill(tl)
            return
        self.toplevel = tl
        while self.header_layout.count():
            item = self.header_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.fields = {}
        badge = QLabel(self.header)
        badge.setPixmap(icon(_icon_name(tl)).pixmap(18, 18))
        self.header_layout.addWidget(badge)
        self._build_fields(tl)
        self.header_layout.addStretch(1)
        if isinstance(tl, (UserFunction, UserType, Datastore)):
            edit = QToolButton(self.header)
            edit.setIcon(icon("type"))
            edit.setToolTip({UserFunction: "Edit parameters and return type",
                             UserType: "Edit fields or cases",
                             Datastore: "Edit the schema"}[type(tl)])
            edit.clicked.connect(lambda: self.declarations_requested.emit(self.tlid))
            self.header_layout.addWidget(edit)
            self.fields["declarations"] = edit
        if isinstance(tl, (UserFunction, UserType)):
            version = QToolButton(self.header)
            version.setIcon(icon("add"))
            version.setToolTip("New version: a copy to edit while code keeps using this one")
            version.clicked.connect(lambda: self.version_requested.emit(self.tlid))
            self.header_layout.addWidget(version)
            self.fields["version"] = version
        if isinstance(tl, (UserFunction, Handler)):
            play = QToolButton(self.header)
            play.setIcon(icon("play"))
            play.setToolTip("Run on the runtime (Ctrl+Enter)")
            play.setObjectName("PlayButton")
            play.clicked.connect(lambda: self.run_requested.emit(self.tlid))
            self.header_layout.addWidget(play)
            self.fields["play"] = play
        delete = QToolButton(self.header)
        delete.setIcon(icon("delete"))
        delete.setToolTip("Delete this toplevel (Undo brings it back)")
        delete.clicked.connect(lambda: self.delete_requested.emit(self.tlid))
        self.header_layout.addWidget(delete)
        self.fields["delete"] = delete
        self._fill(tl)

    def _line(self, key: str, width: int, on_done: Callable[[], None]) -> QLineEdit:
        edit = QLineEdit(self.header)
        edit.setObjectName(f"Header_{key}")
        edit.setMinimumWidth(width)
        edit.editingFinished.connect(on_done)
        self.header_layout.addWidget(edit)
        self.fields[key] = edit
        return edit

    def _build_fields(self, tl: Toplevel) -> None:
        match tl:
            case Handler(spec=HttpSpec()):
                method = QComboBox(self.header)
                method.setObjectName("Header_method")
                method.addItems(list(HTTP_METHODS))
                method.currentTextChanged.connect(lambda _t: self._spec_done())
                self.header_layout.addWidget(method)
                self.fields["method"] = method
                self._line("route", 220, self._spec_done)
            case Handler(spec=WorkerSpec()):
                self.header_layout.addWidget(QLabel("worker", self.header))
                self._line("queue", 140, self._spec_done)
            case Handler(spec=CronSpec()):
                self.header_layout.addWidget(QLabel("cron", self.header))
                self._line("name", 140, self._spec_done)
                every = QSpinBox(self.header)
                every.setObjectName("Header_interval")
                every.setRange(1, 7 * 86400)
                every.setSuffix(" s")
                every.editingFinished.connect(self._spec_done)
                self.header_layout.addWidget(every)
                self.fields["interval"] = every
            case Handler(spec=ReplSpec()):
                self.header_layout.addWidget(QLabel("REPL", self.header))
                self._line("name", 140, self._spec_done)
            case UserFunction() | UserType() | Datastore():
                kind = {UserFunction: "fn", UserType: "type", Datastore: "datastore"}[type(tl)]
                self.header_layout.addWidget(QLabel(kind, self.header))
                self._line("name", 140, self._name_done)
                sig = QLabel(self.header)
                sig.setObjectName("Signature")
                self.header_layout.addWidget(sig)
                self.fields["signature"] = sig

    def _set_text(self, key: str, text: str, force: bool = False) -> None:
        w = self.fields.get(key)
        force = force or self._forcing
        if isinstance(w, QLineEdit) and (force or not w.hasFocus()) and w.text() != text:
            w.setText(text)

    def reset_fields(self, tl: Toplevel) -> None:
        """Show the stored trigger and name again, even in a field being edited."""
        self._forcing = True
        try:
            self._fill(tl)
        finally:
            self._forcing = False

    def _fill(self, tl: Toplevel) -> None:
        match tl:
            case Handler(spec=HttpSpec() as spec):
                method = self.fields["method"]
                assert isinstance(method, QComboBox)
                if method.currentText() != spec.method:
                    method.blockSignals(True)
                    method.setCurrentText(spec.method)
                    method.blockSignals(False)
                self._set_text("route", spec.route)
            case Handler(spec=WorkerSpec() as spec):
                self._set_text("queue", spec.queue)
            case Handler(spec=CronSpec() as spec):
                self._set_text("name", spec.name)
                every = self.fields["interval"]
                assert isinstance(every, QSpinBox)
                if not every.hasFocus():
                    every.setValue(spec.interval_seconds)
            case Handler(spec=ReplSpec() as spec):
                self._set_text("name", spec.name)
            case UserFunction():
                self._set_text("name", tl.name)
                params = ", ".join(f"{p.name}: {show_type_briefly(p.type)}" for p in tl.params)
                label = f"_v{tl.version}({params}) -> {show_type_briefly(tl.return_type)}"
                self.fields["signature"].setText(label)  # type: ignore[attr-defined]
            case UserType():
                self._set_text("name", tl.name)
                self.fields["signature"].setText(f"_v{tl.version}")  # type: ignore[attr-defined]
            case Datastore():
                self._set_text("name", tl.name)
                self.fields["signature"].setText(f"_v{tl.version}")  # type: ignore[attr-defined]
        has_code = isinstance(tl, (Handler, UserFunction))
        self.code.setVisible(has_code)
        self.summary.setVisible(not has_code)
        if not has_code:
            self.summary.setText(_summary(tl))

    def _spec_done(self) -> None:
        tl = self.toplevel
        if not isinstance(tl, Handler):
            return
        text = {k: w.text() for k, w in self.fields.items() if isinstance(w, QLineEdit)}
        spec: object
        match tl.spec:
            case HttpSpec():
                method = self.fields["method"]
                assert isinstance(method, QComboBox)
                spec = HttpSpec(method.currentText(), text["route"].strip())
            case WorkerSpec():
                spec = WorkerSpec(text["queue"].strip())
            case CronSpec():
                every = self.fields["interval"]
                assert isinstance(every, QSpinBox)
                spec = CronSpec(text["name"].strip(), every.value())
            case _:
                spec = ReplSpec(text["name"].strip())
        if spec != tl.spec:
            self.spec_edited.emit(self.tlid, spec)

    def _name_done(self) -> None:
        w = self.fields.get("name")
        if isinstance(w, QLineEdit) and w.text().strip() != getattr(self.toplevel, "name", None):
            self.renamed.emit(self.tlid, w.text().strip())

    def set_lock(self, in_use: InUse | None) -> None:
        """Show (or hide) that the toplevel is in use, with why and what to do, on hover."""
        badge = self.fields.get("lock")
        if in_use is None:
            if badge is not None:
                badge.hide()
            return
        if not isinstance(badge, QLabel):
            badge = QLabel(self.header)
            badge.setObjectName("LockBadge")
            badge.setPixmap(icon("lock").pixmap(16, 16))
            # After the icon and the fields, before the stretch and the buttons.
            self.header_layout.insertWidget(self.header_layout.count() - 1 - sum(
                1 for k in ("declarations", "version", "play", "delete") if k in self.fields),
                badge)
            self.fields["lock"] = badge
        badge.show()
        reach = (f"{in_use.requests} recent request(s)" if not in_use.via
                 else f"{in_use.via} ({in_use.requests} recent request(s))")
        badge.setToolTip(f"In use: {reach}. Its code is locked: change it inside a feature "
                         "flag (Ctrl+K, Wrap in feature flag), or, for a function, make a new "
                         "version.")

    def set_problem_count(self, count: int) -> None:
        """Show how many problems the code has ("2 problems"), or nothing when it has none."""
        label = self.fields.get("problems")
        if count == 0:
            if label is not None:
                label.hide()
            return
        if not isinstance(label, QLabel):
            label = QLabel(self.header)
            label.setObjectName("ProblemCount")
            label.setToolTip("F8 goes to the next problem, Shift+F8 to the previous one")
            # After the stretch, before the buttons.
            self.header_layout.insertWidget(self.header_layout.count() - sum(
                1 for k in ("declarations", "version", "play", "delete") if k in self.fields),
                label)
            self.fields["problems"] = label
        label.setText(problem_count_text(count))
        label.show()

    def set_selected(self, selected: bool) -> None:
        if self.property("selected") != selected:
            restyle(self, selected=selected)


def _summary(tl: Toplevel) -> str:
    match tl:
        case UserType():
            d = tl.definition
            if isinstance(d, EnumDef):
                return "\n".join(
                    f"| {c.name} " + " ".join(show_type_briefly(f.type) for f in c.fields)
                    for c in d.cases) or "(no cases)"
            return "\n".join(f"{f.name}: {show_type_briefly(f.type)}" for f in d.fields) or "{}"
        case Datastore():
            return f"rows: {show_type_briefly(tl.schema)}"
    return ""


class Canvas(QWidget):
    """The area the frames sit on; grows to hold them all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frames: dict[int, ToplevelFrame] = {}

    def fit(self) -> None:
        right = bottom = 0
        for f in self.frames.values():
            f.adjustSize()
            right = max(right, f.x() + f.width())
            bottom = max(bottom, f.y() + f.height())
        self.setMinimumSize(right + 80, bottom + 80)
        # Grow now, not at the next layout pass, so scrolling to the caret can reach it.
        if self.width() < right + 80 or self.height() < bottom + 80:
            self.resize(max(self.width(), right + 80), max(self.height(), bottom + 80))

    def boxes(self) -> dict[int, Box]:
        """Each frame's place and size on the canvas."""
        return {tlid: Box(f.x(), f.y(), f.width(), f.height()) for tlid, f in self.frames.items()}

    def reading_order(self) -> list[int]:
        """The frames top to bottom, left to right (the order of next/previous toplevel)."""
        return sorted(self.frames, key=lambda t: (self.frames[t].y(), self.frames[t].x(), t))
