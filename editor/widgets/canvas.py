"""The canvas: one frame per toplevel, placed where the toplevel's position says.

A `ToplevelFrame` has a header (what triggers a handler, or a function's name)
with inline fields that send a spec change when edited, and below it the code
view. Dragging the header moves the toplevel; the move is an op like any
other edit.

Signals of `ToplevelFrame`:
    spec_edited(int, object): (tlid, new HandlerSpec) after a header field is edited.
    renamed(int, str): (tlid, new name) for functions, types, datastores and tests.
    delete_requested(int): the delete button.
    run_requested(int): the play button.
    moved(int, int, int): (tlid, x, y) after a drag.
    focused(int): the frame was clicked or its code view got focus.
    params_edited(int, list[Row], str): a function's parameters and return type, edited
        in place in the header (rows as `editor.model.declarations` reads them).
    code_requested(int, bool): leave the header for the code (True: Tab from the last
        field, caret to the first hole; False: Escape, caret where it was).
    declarations_requested(int): the "edit fields / schema" button of a type or datastore.
    version_requested(int): the "new version" button of a function or type.
    migration_requested(int): the "migration" button of a datastore made from an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
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

from editor.model.declarations import Declarations, Row, declarations_of
from editor.model.placement import Box
from editor.model.problems import count_text as problem_count_text
from editor.widgets.code_view import CodeView
from editor.widgets.keymap import Keymap
from editor.widgets.migration_view import short_progress
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
    Test,
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
        case Test():
            return "test"
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
    params_edited = Signal(object, object, object)
    code_requested = Signal(object, bool)
    declarations_requested = Signal(object)
    version_requested = Signal(object)
    migration_requested = Signal(object)
    #: A window key pressed in a header field (`window_command(name)`), see `eventFilter`.
    window_command = Signal(str)

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
        #: A datastore's background conversion, as the runtime said (`set_migration`).
        self.migration_state: dict[str, object] | None = None
        #: A function's parameters, one row of name and type fields each, in order.
        self.param_rows: list[_ParamRow] = []
        #: How the header shows a toplevel's declarations; the window sets one that
        #: knows the canvas's user types.
        self.declarations: Callable[[Toplevel], Declarations | None] = (
            lambda t: declarations_of(t, [t]))
        #: Set when the window refused the header's last edit (see `reset_fields`).
        self.refused = False
        self._forcing = False
        self._by_key = False
        self._rebuilding = False
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
        self.param_rows = []
        badge = QLabel(self.header)
        badge.setPixmap(icon(_icon_name(tl)).pixmap(18, 18))
        self.header_layout.addWidget(badge)
        self._build_fields(tl)
        self.header_layout.addStretch(1)
        if isinstance(tl, (UserType, Datastore)):
            edit = QToolButton(self.header)
            edit.setIcon(icon("type"))
            edit.setToolTip({UserType: "Edit fields or cases",
                             Datastore: "Edit the schema"}[type(tl)])
            edit.clicked.connect(lambda: self.declarations_requested.emit(self.tlid))
            self.header_layout.addWidget(edit)
            self.fields["declarations"] = edit
        if isinstance(tl, Datastore):
            migration = QToolButton(self.header)
            migration.setObjectName("MigrationButton")
            migration.setIcon(icon("datastore"))
            migration.setToolTip("Show the migration: rows as this version reads them, rows "
                                 "that fail to convert, data loss, progress (Ctrl+Alt+M)")
            migration.clicked.connect(lambda: self.migration_requested.emit(self.tlid))
            self.header_layout.addWidget(migration)
            self.fields["migration"] = migration
        if isinstance(tl, (UserFunction, UserType, Datastore)):
            version = QToolButton(self.header)
            version.setIcon(icon("add"))
            version.setToolTip(
                "New version: a copy to edit while code keeps using this one" if not isinstance(
                    tl, Datastore) else "New datastore version (Ctrl+Alt+D): a new schema "
                "sharing these rows, with a rollforward and a rollback")
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
        edit.installEventFilter(self)
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
                method.installEventFilter(self)
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
                every.installEventFilter(self)
                self.header_layout.addWidget(every)
                self.fields["interval"] = every
            case Handler(spec=ReplSpec()):
                self.header_layout.addWidget(QLabel("REPL", self.header))
                self._line("name", 140, self._spec_done)
            case UserFunction():
                self.header_layout.addWidget(QLabel("fn", self.header))
                self._line("name", 140, self._name_done)
                sig = QLabel(self.header)
                sig.setObjectName("Signature")
                self.header_layout.addWidget(sig)
                self.fields["signature"] = sig
                self.header_layout.addWidget(QLabel("(", self.header))
                params = QWidget(self.header)
                params.setObjectName("Params")
                self.params_box = QHBoxLayout(params)
                self.params_box.setContentsMargins(0, 0, 0, 0)
                self.params_box.setSpacing(2)
                self.header_layout.addWidget(params)
                self.fields["params"] = params
                self.header_layout.addWidget(QLabel(") ->", self.header))
                ret = self._line("return", 40, self._params_done)
                ret.setToolTip("The return type: Int, String, List<Int>, ? for any, ...")
                _fit_to_text(ret)
            case Test():
                self.header_layout.addWidget(QLabel("test", self.header))
                name = self._line("name", 220, self._name_done)
                name.setToolTip("What the test checks, as a phrase: \"total of an empty cart "
                                "is 0\"")
            case UserType() | Datastore():
                kind = {UserType: "type", Datastore: "datastore"}[type(tl)]
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
        """The window refused the header's edit: show the stored values again, even in a
        field being edited. When a key (Tab, Enter, `,`) made the edit, the field keeps
        its text and the focus instead, so it can be corrected (Escape restores it)."""
        self.refused = True
        if not self._by_key:
            self.restore(tl)

    def restore(self, tl: Toplevel) -> None:
        """Show the stored trigger, name and parameters, dropping what is being typed."""
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
                if self._forcing or not every.hasFocus():
                    every.setValue(spec.interval_seconds)
            case Handler(spec=ReplSpec() as spec):
                self._set_text("name", spec.name)
            case UserFunction():
                self._set_text("name", tl.name)
                self.fields["signature"].setText(f"_v{tl.version}")  # type: ignore[attr-defined]
                self._fill_params(tl)
            case UserType():
                self._set_text("name", tl.name)
                self.fields["signature"].setText(f"_v{tl.version}")  # type: ignore[attr-defined]
            case Datastore():
                self._set_text("name", tl.name)
                self.fields["signature"].setText(f"_v{tl.version}")  # type: ignore[attr-defined]
            case Test():
                self._set_text("name", tl.name)
        has_code = isinstance(tl, (Handler, UserFunction, Test))
        self.code.setVisible(has_code)
        self.summary.setVisible(not has_code)
        if isinstance(tl, Datastore):
            self.fields["migration"].setVisible(tl.migration is not None)
        if not has_code:
            progress = short_progress(self.migration_state) if isinstance(tl, Datastore) \
                else None
            self.summary.setText(_summary(tl) + (f"\n{progress}" if progress else ""))

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

    # ------------------------------------------------- function parameters

    def _fill_params(self, tl: UserFunction) -> None:
        shown = self.declarations(tl)
        if shown is None:
            return
        sent = [r for r in self.param_rows if not r.pending]
        fits = len(sent) == len(shown.rows) and all(
            r.id in (None, d.id) for r, d in zip(sent, shown.rows, strict=True))
        if fits and not self._forcing:
            for r, d in zip(sent, shown.rows, strict=True):
                r.id = d.id  # a row just added now has its parameter's id
                self._put(r.name, d.name)
                self._put(r.type, d.type_text)
        else:
            slot = next(((i, w is r.type) for i, r in enumerate(self.param_rows)
                         for w in (r.name, r.type) if w.hasFocus()), None)
            self._rebuilding = True
            try:
                for r in self.param_rows:
                    r.widget.hide()
                    r.widget.deleteLater()
                self.param_rows = []
                for d in shown.rows:
                    self._insert_row(len(self.param_rows), d)
            finally:
                self._rebuilding = False
            if slot is not None and slot[0] < len(self.param_rows):
                row = self.param_rows[slot[0]]
                (row.type if slot[1] else row.name).setFocus()
        if not self.param_rows:
            # Where a first parameter is typed; it is not one until it has a name.
            self._insert_row(0, Row(None, "", "?"))
        self._set_text("return", shown.return_type or "?")

    def _put(self, edit: QLineEdit, text: str) -> None:
        if (self._forcing or not edit.hasFocus()) and edit.text() != text:
            edit.setText(text)

    def _insert_row(self, index: int, row: Row) -> _ParamRow:
        made = _ParamRow(self.fields["params"], row)
        for edit in (made.name, made.type):
            edit.installEventFilter(self)
            edit.editingFinished.connect(self._params_done)
        self.params_box.insertWidget(index, made.widget)
        self.param_rows.insert(index, made)
        for i, r in enumerate(self.param_rows):
            r.comma.setVisible(i < len(self.param_rows) - 1)
        return made

    def param_values(self) -> tuple[list[Row], str]:
        """The parameters and return type as typed (a row without a name is not one yet)."""
        rows = [Row(r.id, r.name.text().strip(), r.type.text().strip() or "?")
                for r in self.param_rows if not r.pending]
        ret = self.fields.get("return")
        return rows, (ret.text().strip() if isinstance(ret, QLineEdit) else "") or "?"

    def _params_done(self) -> None:
        tl = self.toplevel
        if not isinstance(tl, UserFunction) or self._rebuilding:
            return
        rows, ret = self.param_values()
        shown = self.declarations(tl)
        if shown is not None and tuple(rows) == shown.rows and ret == shown.return_type:
            return
        self.params_edited.emit(self.tlid, rows, ret)

    def _add_row_after(self, row: _ParamRow) -> None:
        if row.pending:
            return
        index = self.param_rows.index(row)
        if not self._commit(row.type if row.type.hasFocus() else row.name):
            return
        made = self._insert_row(min(index + 1, len(self.param_rows)), Row(None, "", "?"))
        self._focus(made.name)

    def _remove_row(self, row: _ParamRow) -> None:
        chain = self.header_chain()
        before = chain[chain.index(row.name) - 1]
        if len(self.param_rows) == 1 and row.pending:
            self._focus(before, at_end=True)
            return
        self._rebuilding = True
        try:
            self._focus(before, at_end=True)
            self.param_rows.remove(row)
            row.widget.hide()
            row.widget.deleteLater()
        finally:
            self._rebuilding = False
        if row.id is not None:
            self._commit(before)
            if self.refused and self.toplevel is not None:
                self.restore(self.toplevel)
        if not self.param_rows:
            self._insert_row(0, Row(None, "", "?"))
        for i, r in enumerate(self.param_rows):
            r.comma.setVisible(i < len(self.param_rows) - 1)

    # ------------------------------------------------------ keyboard focus

    def header_chain(self) -> list[QWidget]:
        """The header's fields in Tab order (left to right); after the last comes the code."""
        if isinstance(self.toplevel, UserFunction):
            params = [w for r in self.param_rows
                      for w in ((r.name,) if r.pending else (r.name, r.type))]
            return [self.fields["name"], *params, self.fields["return"]]
        return [w for k, w in self.fields.items()
                if k in ("method", "route", "queue", "name", "interval")]

    def focus_header(self, last: bool = False) -> bool:
        """Put the keyboard in the header: its last field, or the one a new toplevel is
        usually given first (the route of an HTTP handler, else the first), selected."""
        chain = self.header_chain()
        if not chain:
            return False
        route = self.fields.get("route")
        self._focus(chain[-1] if last else route if route is not None else chain[0])
        return True

    def at_code_start(self) -> bool:
        """Whether the caret is at the code's start, or on or before its first hole."""
        caret, proj = self.code.caret, self.code.projection
        if caret is None or proj is None:
            return False
        return caret == (0, 0) or not any((p.line, p.column) < caret for p in proj.holes())

    def _focus(self, w: QWidget, at_end: bool = False) -> None:
        w.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(w, QLineEdit):
            if at_end:
                w.deselect()
                w.end(False)
            else:
                w.selectAll()
        elif isinstance(w, QSpinBox):
            w.selectAll()

    def _commit(self, w: QWidget) -> bool:
        """Send what field `w` says; False when the window refused it."""
        self.refused = False
        self._by_key = True
        try:
            if isinstance(self.toplevel, Handler):
                self._spec_done()
            elif w is self.fields.get("name"):
                self._name_done()
            else:
                self._params_done()
        finally:
            self._by_key = False
        return not self.refused

    def _step(self, w: QWidget, delta: int) -> None:
        chain = self.header_chain()
        if w not in chain or not self._commit(w):
            return
        i = chain.index(w) + delta
        chain = self.header_chain()
        if i >= len(chain):
            if self.code.isVisible():
                self.code_requested.emit(self.tlid, True)
        elif i >= 0:
            self._focus(chain[i])

    def _row_of(self, w: QObject) -> _ParamRow | None:
        return next((r for r in self.param_rows if w is r.name or w is r.type), None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent) \
                or not isinstance(watched, QWidget):
            return super().eventFilter(watched, event)
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        window_key = self.code.keymap.command_for(event.keyCombination(), "window")
        if window_key is not None and mods & both == both:
            # A field would type Ctrl+Alt+D's letter (as AltGr text): the window's key wins.
            self.window_command.emit(window_key)
            return True
        if key == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.NoModifier:
            self._step(watched, 1)
            return True
        if key == Qt.Key.Key_Backtab:
            self._step(watched, -1)
            return True
        if key == Qt.Key.Key_Escape and self.toplevel is not None:
            self.restore(self.toplevel)
            if self.code.isVisible():
                self.code_requested.emit(self.tlid, False)
            return True
        row = self._row_of(watched)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if row is not None:
                self._add_row_after(row)
            elif self._commit(watched) and self.code.isVisible():
                self.code_requested.emit(self.tlid, True)
            return True
        return row is not None and self._param_key(row, watched, event)

    def _param_key(self, row: _ParamRow, w: QWidget, event: QKeyEvent) -> bool:
        """`a : Int, b : String` typed as text: `:` goes to the type, `,` adds a parameter,
        Backspace on an empty name removes it; spaces between are skipped."""
        text = event.text()
        if w is row.name:
            if text == ":":
                self._step(w, 1)
                return True
            if text == ",":
                self._add_row_after(row)
                return True
            if event.key() == Qt.Key.Key_Backspace and not row.name.text():
                self._remove_row(row)
                return True
            return text == " "
        if text == "," and _depth(row.type.text()[:row.type.cursorPosition()]) == 0:
            self._add_row_after(row)
            return True
        return text == " " and (row.type.cursorPosition() == 0
                                or row.type.selectedText() == row.type.text())

    def _name_done(self) -> None:
        w = self.fields.get("name")
        if isinstance(w, QLineEdit) and w.text().strip() != getattr(self.toplevel, "name", None):
            self.renamed.emit(self.tlid, w.text().strip())

    def set_migration(self, state: dict[str, object] | None) -> None:
        """A datastore's background conversion: a line under its schema while it converts,
        waits for the lock window or is blocked by rows that fail."""
        if state != self.migration_state:
            self.migration_state = state
            if self.toplevel is not None:
                self._fill(self.toplevel)

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
                1 for k in ("declarations", "migration", "version", "play", "delete")
                if k in self.fields), badge)
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
                1 for k in ("declarations", "migration", "version", "play", "delete")
                if k in self.fields), label)
            self.fields["problems"] = label
        label.setText(problem_count_text(count))
        label.show()

    def set_selected(self, selected: bool) -> None:
        if self.property("selected") != selected:
            restyle(self, selected=selected)


class _ParamRow:
    """One parameter in a function's header: `name : Type`, and a comma if one follows."""

    def __init__(self, parent: QWidget, row: Row) -> None:
        self.id = row.id
        self.widget = QWidget(parent)
        box = QHBoxLayout(self.widget)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        self.name = QLineEdit(row.name, self.widget)
        self.name.setObjectName("Header_param")
        self.name.setPlaceholderText("parameter")
        self.type = QLineEdit(row.type_text, self.widget)
        self.type.setObjectName("Header_param_type")
        self.type.setToolTip("The parameter's type: Int, String, List<Int>, ? for any, ...")
        self.comma = QLabel(",", self.widget)
        box.addWidget(self.name)
        box.addWidget(QLabel(":", self.widget))
        box.addWidget(self.type)
        box.addWidget(self.comma)
        _fit_to_text(self.name)
        _fit_to_text(self.type)

    @property
    def pending(self) -> bool:
        """A row being added that has no name yet: not a parameter until it has one."""
        return self.id is None and not self.name.text().strip()


def _fit_to_text(edit: QLineEdit) -> None:
    """Keep a header field as wide as what it holds, as code is, rather than stretched."""
    def fit(text: str) -> None:
        shown = text or edit.placeholderText() or "?"
        edit.setFixedWidth(max(36, edit.fontMetrics().horizontalAdvance(shown) + 18))

    edit.textChanged.connect(fit)
    fit(edit.text())


def _depth(text: str) -> int:
    """How many brackets of a type are open in `text` (a `,` inside one is the type's)."""
    return sum(text.count(c) for c in "<{") - sum(text.count(c) for c in ">}")


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
