"""The migration view: a datastore version's rows as it reads them, before anything moves.

Opened with Ctrl+Alt+M (*Show datastore migration*) on a datastore's frame, on
a `Users_v1` in code or in a conversion function, or with the button on the
header of a datastore that migrates. It asks the runtime (`get_migration`,
docs/protocol.md) and shows:

* the first rows of the chain's storage: key, the version each was written in,
  the value as stored, and the value as the viewed version reads it (the
  conversion applied, or why it fails);
* every failing row with its reason (error, incomplete, misfit, missing), and
  a *Delete row* button that asks first: a row is only ever deleted on purpose;
* the data-loss warning: rows where rollback(rollforward(row)) differs, counted
  over the stored rows and over rows generated from the schema, with examples;
* the background conversion's progress (state, rows done and left, rate,
  failures), kept up to date from the runtime's pushed `migrations` messages.

It refreshes when opened, on F5, when the conversion's state changes, and after
an edit that changes the datastore's versions or their conversion functions
reaches the runtime (the runtime converts with what it has deployed).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from editor.controller import EditorController
from shared_ast import traverse, wire
from shared_ast.migration import storage_name
from shared_ast.nodes import EVariable
from shared_ast.toplevels import Datastore, Toplevel, UserFunction
from shared_ast.values import show

#: How long after an edit the view waits before asking again (edits come in bursts).
REFRESH_DELAY_MS = 400
#: The most characters of a value a table cell shows (the whole is its tooltip).
CELL_CHARS = 120

NO_DATASTORE = ("Put the caret in a datastore (click its frame), on a datastore like Users_v1 "
                "in code, or in a conversion function; then Ctrl+Alt+M shows its migration.")


# ---------------------------------------------------------------- finding the datastore


def datastore_at(canvas: Mapping[int, Toplevel], tlid: int | None,
                 node_id: int | None = None) -> Datastore | None:
    """The datastore version a place in the canvas is about: the datastore itself, a
    `Users_v1` variable in code, or a rollforward or rollback function."""
    tl = canvas.get(tlid) if tlid is not None else None
    if tl is None:
        return None
    if isinstance(tl, Datastore):
        return tl
    stores = [d for d in canvas.values() if isinstance(d, Datastore)]
    node = traverse.find(tl, node_id) if node_id is not None else None
    if isinstance(node, EVariable):
        named = next((d for d in stores if d.qualified == node.name), None)
        if named is not None:
            return named
    if isinstance(tl, UserFunction):
        for d in stores:
            m = d.migration
            if m is not None and any((ref.fn_id, ref.version) == (tl.fn_id, tl.version)
                                     for ref in (m.rollforward, m.rollback)):
                return d
    return None


def related(canvas: Mapping[int, Toplevel], ds: Datastore) -> tuple[Toplevel, ...]:
    """The toplevels a datastore's rows read through: every version of its chain and their
    conversion functions (when one changes, the view asks again)."""
    versions = sorted((d for d in canvas.values() if isinstance(d, Datastore)
                       and d.name == ds.name and d.table == ds.table),
                      key=lambda d: d.version)
    refs = {(ref.fn_id, ref.version) for d in versions if d.migration is not None
            for ref in (d.migration.rollforward, d.migration.rollback)}
    fns = sorted((f for f in canvas.values() if isinstance(f, UserFunction)
                  and (f.fn_id, f.version) in refs), key=lambda f: f.tlid)
    return (*versions, *fns)


# ---------------------------------------------------------------- words


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def progress_text(state: Mapping[str, Any] | None) -> str:
    """The background conversion in a sentence or two, for the view."""
    if not state:
        return ("No background conversion yet: it starts once code names only one version "
                "of this datastore, a lock window after code last named another.")
    target = state.get("target")
    to = f"v{target}" if target is not None else "one version"
    done, left = int(state.get("done") or 0), int(state.get("left") or 0)
    failed = int(state.get("failed") or len(state.get("failures") or ()))
    match state.get("state"):
        case "converting":
            rate = float(state.get("rate") or 0.0)
            return (f"Converting to {to}: {done:,} rows done, {left:,} left, {rate:,.0f} rows/s, "
                    f"{_count(failed, 'failure')}.")
        case "blocked":
            return (f"Blocked: {_count(failed, 'row')} could not be converted to {to} (listed "
                    "under Failing rows). Fix the conversion function (a deploy retries) or "
                    "delete the row; until then the migration does not finish.")
        case "waiting":
            until = state.get("waiting_until")
            when = (f" in {max(0, round(float(until) - time.time()))} s"
                    if isinstance(until, (int, float)) else "")
            return (f"Waiting: no code names the other versions; rows convert to {to} once "
                    f"the lock window has passed{when}.")
        case "done":
            return f"Done: every row is at {to} ({done:,} converted)."
        case _:
            return ("Not converting: code names more than one version, so both are read and "
                    "written (a row converts when it is read through another version).")


def short_progress(state: Mapping[str, Any] | None) -> str | None:
    """A line for the datastore's frame while its rows are converting, waiting or blocked."""
    if not state or state.get("state") not in ("converting", "blocked", "waiting"):
        return None
    target = state.get("target")
    to = f"v{target}" if target is not None else "?"
    failed = int(state.get("failed") or len(state.get("failures") or ()))
    if state["state"] == "blocked":
        verb = "fails" if failed == 1 else "fail"
        return f"migration blocked: {_count(failed, 'row')} {verb} to convert to {to} (Ctrl+Alt+M)"
    if state["state"] == "waiting":
        return f"migration: converts to {to} after the lock window"
    return (f"converting to {to}: {int(state.get('done') or 0):,} done, "
            f"{int(state.get('left') or 0):,} left, {float(state.get('rate') or 0):,.0f}/s, "
            f"{failed:,} failed")


def loss_text(loss: Mapping[str, Any] | None) -> tuple[str, bool]:
    """The data-loss warning (and whether it is one): rows where rollback(rollforward(row))
    differs from the row, over stored rows and generated ones."""
    if not loss:
        return "", False
    stored, generated = loss.get("stored") or {}, loss.get("generated") or {}
    s_lost, s_checked = int(stored.get("lost") or 0), int(stored.get("checked") or 0)
    g_lost, g_checked = int(generated.get("lost") or 0), int(generated.get("checked") or 0)
    if s_lost == 0 and g_lost == 0:
        failing = int(stored.get("failed") or 0) + int(generated.get("failed") or 0)
        return (f"No data lost: rollback(rollforward(row)) gives back each of the "
                f"{_count(s_checked, 'stored row')} and {_count(g_checked, 'generated row')} "
                "checked" + (f" ({failing:,} more fail to convert)." if failing else ".")
                ), False
    lines = [f"Data loss: rollback(rollforward(row)) differs for {s_lost:,} of "
             f"{_count(s_checked, 'stored row')} and {g_lost:,} of "
             f"{_count(g_checked, 'generated row')}. A migration back to the older "
             "version would not give these rows back as they were."]
    s_failed, g_failed = int(stored.get("failed") or 0), int(generated.get("failed") or 0)
    if s_failed or g_failed:
        lines.append(f"Not counted: {s_failed:,} stored and {g_failed:,} generated rows whose "
                     "conversion fails (a fixed conversion may lose data on them too).")
    keys = [str(k) for k in stored.get("keys") or ()]
    if keys:
        lines.append("Stored rows that change: " + ", ".join(keys))
    example = generated.get("example")
    if example is not None:
        lines.append(f"A generated row that changes: {_value(example)}")
    return "\n".join(lines), True


def _value(encoded: Any) -> str:
    try:
        return show(wire.decode_value(encoded))
    except wire.WireError:
        return repr(encoded)


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…")
    item.setToolTip(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


def _table(headers: list[str], parent: QWidget, name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


# ---------------------------------------------------------------- the view


class MigrationView(QDialog):
    """Not modal: code is edited beside it, and it follows what is deployed."""

    def __init__(self, controller: EditorController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MigrationView")
        self.setWindowTitle("Datastore migration")
        self.resize(900, 640)
        self.controller = controller
        #: The datastore version shown, the runtime's last answer, and what it was about.
        self.tlid: int | None = None
        self.report: dict[str, Any] | None = None
        self._seen: tuple[Toplevel, ...] = ()
        self._asked = 0
        self._last_state: object = None
        layout = QVBoxLayout(self)
        self.heading = QLabel(self)
        self.heading.setObjectName("MigrationHeading")
        self.heading.setWordWrap(True)
        self.versions = QLabel(self)
        self.versions.setObjectName("MigrationVersions")
        self.progress = QLabel(self)
        self.progress.setObjectName("MigrationProgress")
        self.progress.setWordWrap(True)
        self.loss = QLabel(self)
        self.loss.setObjectName("MigrationLoss")
        self.loss.setWordWrap(True)
        self.loss.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (self.heading, self.versions, self.progress, self.loss):
            layout.addWidget(label)
        self.rows_label = QLabel("Rows", self)
        layout.addWidget(self.rows_label)
        self.rows = _table(["Key", "Stored in", "Stored value", "Read as"], self, "MigrationRows")
        layout.addWidget(self.rows, 3)
        self.failures_label = QLabel("Failing rows", self)
        layout.addWidget(self.failures_label)
        self.failures = _table(["Key", "Stored in", "Kind", "Reason"], self, "MigrationFailures")
        self.failures.itemSelectionChanged.connect(self._selection_changed)
        self.failures.currentCellChanged.connect(lambda *_a: self._selection_changed())
        layout.addWidget(self.failures, 1)
        buttons = QHBoxLayout()
        self.delete_button = QPushButton("Delete row…", self)
        self.delete_button.setObjectName("DeleteRowButton")
        self.delete_button.setToolTip("Delete the selected failing row (asks first; it cannot "
                                      "be undone)")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.ask_delete)
        self.refresh_button = QPushButton("Refresh (F5)", self)
        self.refresh_button.setObjectName("RefreshMigrationButton")
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QLabel(self)
        self.status.setObjectName("MigrationStatus")
        self.status.setWordWrap(True)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)
        #: The question asked before a row is deleted, while it is open.
        self.confirm: QMessageBox | None = None
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(REFRESH_DELAY_MS)
        self._later.timeout.connect(self._refresh_when_sent)
        controller.changed.connect(self._canvas_changed)
        controller.migrations_changed.connect(self._states_changed)

    # ------------------------------------------------------------ opening

    def show_datastore(self, tlid: int) -> None:
        """Show datastore version `tlid` and ask the runtime about it."""
        self.tlid = tlid
        self.report = None
        self._last_state = None
        ds = self.datastore
        self.setWindowTitle(f"Migration of {ds.qualified}" if ds else "Datastore migration")
        self._show_heading()
        self.rows.setRowCount(0)
        self.failures.setRowCount(0)
        self.versions.setText("")
        self.loss.setText("")
        self._show_progress()
        self.show()
        self.raise_()
        self.activateWindow()
        self.refresh()

    @property
    def datastore(self) -> Datastore | None:
        tl = self.controller.state.canvas.get(self.tlid) if self.tlid is not None else None
        return tl if isinstance(tl, Datastore) else None

    def refresh(self) -> None:
        """Ask the runtime again (F5)."""
        ds = self.datastore
        if ds is None:
            self.status.setText("This datastore version was deleted; open another one with "
                                "Ctrl+Alt+M.")
            return
        self._seen = related(self.controller.state.canvas, ds)
        self._asked += 1
        self.status.setText(f"Reading the rows of {storage_name(ds)}…")
        self.controller.spawn(self._load(ds.tlid, self._asked))

    async def _load(self, tlid: int, asked: int) -> None:
        try:
            reply = await self.controller.fetch_migration(tlid)
        except Exception as e:
            if asked == self._asked:
                self.status.setText(f"Could not read the migration: {e}")
            return
        if asked != self._asked or tlid != self.tlid:
            return  # a later question is on its way; its answer is what shows
        self.show_report(reply)

    # ------------------------------------------------------------ showing

    def _show_heading(self) -> None:
        ds = self.datastore
        if ds is None:
            self.heading.setText("(no datastore)")
            return
        canvas = self.controller.state.canvas
        if ds.migration is None:
            later = [d.qualified for d in related(canvas, ds)
                     if isinstance(d, Datastore) and d.migration is not None]
            tail = (f" {', '.join(later)} migrate{'s' if len(later) == 1 else ''} from it."
                    if later else "")
            self.heading.setText(f"<b>{ds.qualified}</b> has no migration: it was not made from "
                                 f"an earlier version.{tail}")
        else:
            m = ds.migration
            names = {(f.fn_id, f.version): f.shown for f in canvas.values()
                     if isinstance(f, UserFunction)}
            forward = names.get((m.rollforward.fn_id, m.rollforward.version), "(missing)")
            back = names.get((m.rollback.fn_id, m.rollback.version), "(missing)")
            self.heading.setText(
                f"<b>{ds.qualified}</b> migrates from {ds.name}_v{m.from_version}: rows convert "
                f"forward with {forward} and back with {back}. Rows are kept in "
                f"{storage_name(ds)}, each in the version it was written in.")
        self.rows.setHorizontalHeaderItem(3, QTableWidgetItem(f"As {ds.qualified} reads it"))

    def show_report(self, reply: Mapping[str, Any]) -> None:
        """Show the runtime's answer to get_migration."""
        self.report = dict(reply)
        self._show_heading()
        counts = reply.get("versions") or {}
        total = sum(int(n) for n in counts.values())
        if total:
            parts = ", ".join(f"{int(n):,} at v{v}" for v, n in
                              sorted(counts.items(), key=lambda kv: int(kv[0])) if int(n))
            self.versions.setText(f"{_count(total, 'row')} stored in {reply.get('storage')}: "
                                  f"{parts}.")
        else:
            self.versions.setText(f"No rows stored in {reply.get('storage')} yet.")
        rows = list(reply.get("rows") or ())
        self.rows_label.setText(f"The first {len(rows)} rows by key" if rows else "Rows")
        self.rows.setRowCount(len(rows))
        for i, row in enumerate(rows):
            failure = row.get("failure")
            read = (f"✗ {failure.get('kind')}: {failure.get('reason')}" if failure
                    else _value(row.get("read")))
            cells = [str(row.get("key")), f"v{row.get('version')}", _value(row.get("value")),
                     read]
            for j, text in enumerate(cells):
                self.rows.setItem(i, j, _cell(text))
        failures = list(reply.get("failures") or ())
        scanned, everything = reply.get("scanned"), reply.get("total")
        among = (f" among the first {int(scanned):,} of {int(everything):,} rows"
                 if isinstance(scanned, int) and isinstance(everything, int)
                 and scanned < everything else "")
        self.failures_label.setText(
            f"Failing rows: {len(failures):,}{among}" if failures else
            f"Failing rows: none{among}")
        self.failures.setRowCount(len(failures))
        for i, f in enumerate(failures):
            for j, text in enumerate([str(f.get("key")), f"v{f.get('version')}",
                                      str(f.get("kind")), str(f.get("reason"))]):
                self.failures.setItem(i, j, _cell(text))
        self._selection_changed()
        text, warns = loss_text(reply.get("loss"))
        self.loss.setText(text)
        self.loss.setVisible(bool(text))
        self.loss.setProperty("warning", warns)
        self.loss.setStyleSheet("color: #b3261e; font-weight: bold;" if warns else "")
        progress = reply.get("progress")
        if isinstance(progress, dict):
            self._last_state = progress.get("state")
        self._show_progress()
        self.status.setText(f"Read at {time.strftime('%H:%M:%S')}; F5 reads again.")

    def _state(self) -> dict[str, Any] | None:
        ds = self.datastore
        return self.controller.migrations.get(storage_name(ds)) if ds is not None else None

    def _show_progress(self) -> None:
        self.progress.setText("Background conversion: " + progress_text(self._state()))

    def _states_changed(self, _states: object) -> None:
        if self.tlid is None:
            return
        self._show_progress()
        state = self._state()
        now = state.get("state") if state else None
        if now != self._last_state and self.isVisible() and self.report is not None:
            # Rows moved to another version (or the conversion stopped on some): read again.
            self._last_state = now
            self.refresh()

    # ------------------------------------------------------------ following edits

    def _canvas_changed(self) -> None:
        ds = self.datastore
        if ds is None or not self.isVisible():
            return
        if related(self.controller.state.canvas, ds) != self._seen:
            self._later.start()

    def _refresh_when_sent(self) -> None:
        """Ask once the edit reached the runtime: what it converts with is what is deployed."""
        session = self.controller.session
        if session is not None and getattr(session, "pending", None):
            self._later.start()
            return
        self.refresh()

    # ------------------------------------------------------------ deleting

    def _selection_changed(self) -> None:
        self.delete_button.setEnabled(self._selected_failure() is not None)

    def _selected_failure(self) -> dict[str, Any] | None:
        row = self.failures.currentRow()  # the highlighted row (arrow keys, or a click)
        failures = list((self.report or {}).get("failures") or ())
        return dict(failures[row]) if 0 <= row < len(failures) else None

    def ask_delete(self) -> None:
        """Ask before deleting the selected failing row; nothing is deleted without a yes."""
        failure = self._selected_failure()
        if failure is None or self.report is None:
            self.status.setText("Select a failing row first (click it, or Tab to the list and "
                                "use the arrow keys).")
            return
        storage, key = str(self.report.get("storage")), str(failure.get("key"))
        datastore = str(self.report.get("datastore"))
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete row",
                          f"Delete the row {key!r} of {storage}? It is gone for every version "
                          f"of the datastore, and this cannot be undone.\n\nIt fails to "
                          f"convert: {failure.get('kind')}: {failure.get('reason')}",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("ConfirmDeleteRow")
        delete = box.addButton("Delete row", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)

        def answered() -> None:
            self.confirm = None
            if box.clickedButton() is delete:
                self.status.setText(f"Deleting the row {key!r}…")
                self.controller.spawn(self._delete(datastore, key))
            else:
                self.status.setText(f"Kept the row {key!r}.")

        box.finished.connect(lambda _r: answered())
        self.confirm = box
        box.open()

    async def _delete(self, datastore: str, key: str) -> None:
        try:
            await self.controller.delete_row(datastore, key)
        except Exception as e:
            self.status.setText(f"The row {key!r} was not deleted: {e}")
            return
        self.refresh()

    # ------------------------------------------------------------ keys

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_F5:
            self.refresh()
            return
        if event.key() == Qt.Key.Key_Delete and self.failures.hasFocus():
            self.ask_delete()
            return
        super().keyPressEvent(event)


__all__ = ["NO_DATASTORE", "MigrationView", "datastore_at", "loss_text", "progress_text",
           "related", "short_progress"]
