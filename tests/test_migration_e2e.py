"""A datastore migration end to end: the editor with real key events, a real runtime daemon.

A canvas with `Users_v0 {name}` and rows stored through a handler. In the editor:
Ctrl+Alt+D makes `Users_v1` with its rollforward and rollback (identity at first),
the schema form gives it a new field, and the conversions are typed as code; the
migration view (Ctrl+Alt+M) shows the conversion applied to the stored rows after
each deploy (failing rows while the conversion does not fit, then the converted
values, and no data lost). One handler moves to `Users_v1` through a just-me flag
(the editor's own requests read through v1, everyone else's through v0), then all
of them; a lock window after code last named v0 the runtime converts every row to
v1 in the background, and the view watches it finish.

The runtime runs with a short lock window (--lock-window), so handlers that served
a request are in use (locked) for a few seconds, and the conversion starts that
long after the last code naming v0 is gone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from editor.model.state import commit
from editor.widgets.declarations_dialog import DeclarationsDialog
from editor.widgets.migration_view import MigrationView
from shared_ast import build as b
from shared_ast.nodes import EFlag
from shared_ast.ops import CreateToplevel
from shared_ast.toplevels import Datastore, Handler, UserFunction
from shared_ast.type_ast import TRecord, TRecordField, TString
from tests.runtime_harness import RuntimeProcess, http_request, running
from tests.test_editor_e2e import Editor, new_canvas

pytestmark = pytest.mark.qt_e2e

#: Seconds a handler stays in use after a request, and v0 stays in use after code last
#: named it (the background conversion starts after it).
LOCK_WINDOW = 4
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
EDITOR_HEADER = "X-Gloam-Editor"


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[RuntimeProcess]:
    with running(tmp_path / "data", extra=["--lock-window", str(LOCK_WINDOW)]) as runtime:
        yield runtime


def focused(ed: Editor) -> QWidget:
    got = QApplication.focusWidget()
    return got if got is not None else ed.window


def key(ed: Editor, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
        ) -> None:
    ed.qtbot.keyClick(focused(ed), k, mods)


def keys(ed: Editor, text: str) -> None:
    ed.qtbot.keyClicks(focused(ed), text)


def palette(ed: Editor, text: str) -> None:
    ed.key(Qt.Key.Key_K, CTRL)
    assert ed.window.palette_.isVisible()
    ed.qtbot.keyClicks(ed.window.palette_.filter, text)
    assert ed.window.palette_.list.count() >= 1, text
    ed.qtbot.keyClick(ed.window.palette_.filter, Qt.Key.Key_Return)


def checked(ed: Editor, done: Any, what: str) -> None:
    """Wait for a command checked by tests and replay (committing a flag, a newer datastore
    version) to be done; when the editor asks (a replay answers differently), go ahead with
    Alt+G, as the programmer would who knows the new version reads converted rows."""
    ed.wait(lambda: done() or ed.window.change_dialog is not None, what)
    if not done():
        dialog = ed.window.change_dialog
        assert dialog is not None
        ed.qtbot.keyClick(dialog, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    assert done(), what


def named(ed: Editor, kind: type, name: str) -> Any:
    return next(t for t in ed.controller.state.canvas.values() if isinstance(t, kind) and (
        t.spec.route if isinstance(t, Handler) else t.qualified if isinstance(t, Datastore)
        else t.name) == name)  # type: ignore[attr-defined]


def text_of(ed: Editor, tl: Any) -> str:
    proj = ed.controller.state.projection(tl.tlid)
    assert proj is not None
    return str(proj.text)


def get(rt: RuntimeProcess, path: str, me: str | None = None) -> tuple[int, Any]:
    headers = {EDITOR_HEADER: me} if me is not None else None
    return http_request("GET", f"{rt.http}/c/mig{path}", headers=headers)


def on_the_datastore_name(ed: Editor, code: Any) -> None:
    """The keyboard in a handler's code, on its datastore (the line's last word)."""
    into_code(ed, next(t for t, f in ed.window.canvas.frames.items() if f.code is code))
    ed.qtbot.keyClick(code, Qt.Key.Key_End)
    ed.qtbot.keyClick(code, Qt.Key.Key_Left)


def into_code(ed: Editor, tlid: int) -> None:
    """Back in the main window (the view stays open beside it), the caret in `tlid`."""
    ed.window.activateWindow()
    ed.controller.focus(tlid)
    ed.window.canvas.frames[tlid].code.setFocus()


def in_use(ed: Editor, tlid: int, used: bool = True) -> None:
    """Wait until the editor knows the handler is in use (the runtime's locks), or with
    `used` False, that it no longer is (a lock window after its last request)."""
    asked = [0.0]

    def known() -> bool:
        if time.monotonic() - asked[0] > 0.3:
            asked[0] = time.monotonic()
            ed.controller.refresh_locks()
        return (tlid in ed.controller.state.locks) == used

    ed.wait(known, "the handler to be in use" if used else "the handler's lock to end",
            timeout=30)


def not_in_use(ed: Editor, tlid: int) -> None:
    in_use(ed, tlid, used=False)


def fill_schema(ed: Editor) -> None:
    """The schema form, open: add the field `shout: String`, then OK (Enter)."""
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, DeclarationsDialog)
    QTest.mouseClick(dialog.findChild(QWidget, "AddRow"), Qt.MouseButton.LeftButton)
    _id, name, type_edit, _w = dialog.rows[1]
    QTest.keyClicks(name, "shout")
    assert type_edit is not None
    type_edit.selectAll()
    QTest.keyClicks(type_edit, "String")
    QTest.keyClick(type_edit, Qt.Key.Key_Return)


def view_rows(view: MigrationView) -> list[list[str]]:
    t = view.rows
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_a_migration_through_the_editor_from_v1_to_the_background_conversion(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    token = new_canvas(rt, "mig")
    ed = Editor(qtbot, loop, rt, "mig", token, "alice")
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")
        ed.window.activateWindow()
        # The canvas: Users_v0 {name}, a handler that saves rows, one that reads them.
        v0 = b.datastore("Users", TRecord((TRecordField("name", TString()),)), pos=(20, 20))
        save = b.http("GET", "/save/:key/:name", b.call(
            "DB::set_v1", b.record(name=b.var("name")), b.var("key"), b.var("Users_v0")),
            pos=(20, 420))
        read = b.http("GET", "/read/:key", b.call(
            "DB::get_v2", b.var("key"), b.var("Users_v0"), rail=True), pos=(20, 560))
        ed.controller.apply(commit(ed.controller.state, [
            CreateToplevel(v0), CreateToplevel(save), CreateToplevel(read)], None))
        ed.settle()
        for key_, name in (("ada", "Ada"), ("bo", "Bo"), ("cy", "Cy")):
            assert get(rt, f"/save/{key_}/{name}")[0] == 200
        assert get(rt, "/read/bo") == (200, {"name": "Bo"})

        # Ctrl+Alt+D on Users_v0's header: Users_v1 with identity conversions.
        name_field = ed.window.canvas.frames[v0.tlid].fields["name"]
        QTest.mouseClick(name_field, Qt.MouseButton.LeftButton)
        key(ed, Qt.Key.Key_D, CTRL_ALT)
        v1 = named(ed, Datastore, "Users_v1")
        forward = named(ed, UserFunction, "Users_v1_rollforward")
        back = named(ed, UserFunction, "Users_v1_rollback")
        assert v1.migration is not None and v1.migration.from_version == 0
        ed.settle()

        # Ctrl+Alt+M on Users_v1's header: the view, on the stored rows.
        QTest.mouseClick(ed.window.canvas.frames[v1.tlid].fields["name"],
                         Qt.MouseButton.LeftButton)
        key(ed, Qt.Key.Key_M, CTRL_ALT)
        view = ed.window.migration_view
        assert view is not None and view.isVisible() and view.tlid == v1.tlid
        ed.wait(lambda: view.report is not None, "the migration's rows")
        assert view.versions.text() == "3 rows stored in Users_v0: 3 at v0."
        assert view_rows(view) == [["ada", "v0", '{name: "Ada"}', '{name: "Ada"}'],
                                   ["bo", "v0", '{name: "Bo"}', '{name: "Bo"}'],
                                   ["cy", "v0", '{name: "Cy"}', '{name: "Cy"}']]
        assert view.loss.text().startswith("No data lost: rollback(rollforward(row)) gives "
                                           "back each of the 3 stored rows")

        # The schema form adds shout: String. The identity rollforward no longer fits: the
        # view asks again after the deploy, and every row fails, with the reason.
        QTimer.singleShot(0, lambda: fill_schema(ed))
        ed.window.canvas.frames[v1.tlid].fields["declarations"].click()
        ed.settle()
        ed.wait(lambda: view.failures.rowCount() == 3, "three failing rows in the view")
        assert all(view.failures.item(r, 2).text() == "misfit" for r in range(3))
        assert view_rows(view)[0][3].startswith("✗ misfit: ")

        # The rollforward, typed as code; then the rollback.
        into_code(ed, forward.tlid)
        ed.key(Qt.Key.Key_K, CTRL | Qt.KeyboardModifier.ShiftModifier)   # delete the line
        ed.keys("{name: row.name, shout: String::toUpp")
        ed.key(Qt.Key.Key_Return)
        ed.keys("row.name")
        assert text_of(ed, forward).replace(" ", "").startswith(
            "{name:row.name,shout:String::toUppercase_v1row.name"), text_of(ed, forward)
        into_code(ed, back.tlid)
        ed.key(Qt.Key.Key_K, CTRL | Qt.KeyboardModifier.ShiftModifier)
        ed.keys("{name: row.name}")
        ed.settle()
        ed.wait(lambda: view.failures.rowCount() == 0 and view_rows(view)[0][3]
                == '{name: "Ada", shout: "ADA"}', "the rows converted in the view")
        assert [r[:2] for r in view_rows(view)] == [["ada", "v0"], ["bo", "v0"], ["cy", "v0"]]
        assert view.loss.text().startswith(
            "No data lost: rollback(rollforward(row)) gives back each of the 3 stored rows "
            "and 200 generated rows checked")

        # One handler moves through a just-me flag: it is in use (it served a request).
        assert get(rt, "/read/ada") == (200, {"name": "Ada"})
        in_use(ed, read.tlid)
        on_the_datastore_name(ed, ed.window.canvas.frames[read.tlid].code)
        palette(ed, "newest datastore")
        checked(ed, lambda: isinstance(ed.controller.state.canvas[read.tlid].body.args[1],
                                       EFlag), "the move through a flag")
        ed.keys("Flag::justMe")                 # the caret is in the flag's condition
        ed.key(Qt.Key.Key_Return)
        ed.settle()
        # The editor's own requests read through v1; everyone else's still through v0.
        assert get(rt, "/read/ada", me=token) == (200, {"name": "Ada", "shout": "ADA"})
        assert get(rt, "/read/ada") == (200, {"name": "Ada"})
        # Both versions are named: nothing converts in the background.
        ed.controller.refresh_migrations()
        ed.wait(lambda: (ed.controller.migrations.get("Users_v0") or {}).get("state")
                == "idle", "the migration to be idle while both versions are in use")
        assert view.progress.text().startswith("Background conversion: Not converting")

        # Then all of them: the flag committed, the other handler moved (through a flag too,
        # since it is in use) and committed.
        on_the_datastore_name(ed, ed.window.canvas.frames[read.tlid].code)
        palette(ed, "Commit feature flag")
        checked(ed, lambda: "Users_v0" not in text_of(ed, ed.controller.state.canvas[read.tlid]),
                "the flag of /read committed")
        assert get(rt, "/save/dee/Dee")[0] == 200
        in_use(ed, save.tlid)
        on_the_datastore_name(ed, ed.window.canvas.frames[save.tlid].code)
        palette(ed, "newest datastore")
        checked(ed, lambda: "Users_v1" in text_of(ed, ed.controller.state.canvas[save.tlid]),
                "the move of /save through a flag")
        ed.keys("Flag::justMe")
        ed.key(Qt.Key.Key_Return)
        on_the_datastore_name(ed, ed.window.canvas.frames[save.tlid].code)
        palette(ed, "Commit feature flag")
        checked(ed, lambda: "Users_v0" not in text_of(ed, ed.controller.state.canvas[save.tlid]),
                "the flag of /save committed")
        ed.settle()
        assert "Users_v0" not in text_of(ed, ed.controller.state.canvas[read.tlid])
        assert "Users_v0" not in text_of(ed, ed.controller.state.canvas[save.tlid])

        # A lock window later the runtime converts every row to v1; the view watches.
        ed.wait(lambda: (ed.controller.migrations.get("Users_v0") or {}).get("state")
                == "done", "the background conversion to finish", timeout=60)
        assert view.progress.text() == ("Background conversion: Done: every row is at v1 "
                                         "(4 converted).")
        ed.wait(lambda: [r[1] for r in view_rows(view)] == ["v1"] * 4,
                "the view to show every row stored in v1")
        assert view_rows(view)[3] == ["dee", "v1", '{name: "Dee", shout: "DEE"}',
                                      '{name: "Dee", shout: "DEE"}']
        assert view.versions.text() == "4 rows stored in Users_v0: 4 at v1."
        assert get(rt, "/read/cy") == (200, {"name": "Cy", "shout": "CY"})
    finally:
        ed.close()


def test_a_row_that_fails_blocks_the_conversion_until_it_is_deleted_from_the_view(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    """Users_v1 splits a name in two; "Plato" has no second word, so its rollforward fails.
    Once no code names v0, the background conversion converts the others and stops,
    blocked, on Plato's row, which stays as it was; the view lists it, and Delete row
    (after asking) deletes it, and the conversion finishes."""
    token = new_canvas(rt, "mig")
    ed = Editor(qtbot, loop, rt, "mig", token, "alice")
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")
        v0 = b.datastore("Users", TRecord((TRecordField("name", TString()),)), pos=(20, 20))
        save = b.http("GET", "/save/:key/:name", b.call(
            "DB::set_v1", b.record(name=b.var("name")), b.var("key"), b.var("Users_v0")),
            pos=(20, 420))
        ed.controller.apply(commit(ed.controller.state, [CreateToplevel(v0),
                                                         CreateToplevel(save)], None))
        ed.settle()
        for key_, name in (("ada", "Ada%20Lovelace"), ("alan", "Alan%20Turing"),
                           ("plato", "Plato")):
            assert get(rt, f"/save/{key_}/{name}")[0] == 200
        def row() -> Any:
            return b.var("row")

        def parts() -> Any:
            return b.var("parts")

        v1, forward, back = b.datastore_version(
            v0, TRecord((TRecordField("first", TString()), TRecordField("last", TString()))),
            b.let("parts", b.call("String::split_v1", b.field(row(), "name"), " "), b.record(
                first=b.call("List::head_v1", parts(), rail=True),
                last=b.call("List::head_v1", b.call("List::drop_v0", parts(), 1), rail=True))),
            b.record(name=b.call("String::join_v0", b.list_(
                b.field(row(), "first"), b.field(row(), "last")), " ")), pos=(20, 160))
        read = b.http("GET", "/read/:key", b.call(
            "DB::get_v2", b.var("key"), b.var("Users_v1"), rail=True), pos=(20, 560))
        ed.controller.apply(commit(ed.controller.state, [
            CreateToplevel(forward), CreateToplevel(back), CreateToplevel(v1),
            CreateToplevel(read)], None))
        ed.settle()
        assert get(rt, "/read/ada") == (200, {"first": "Ada", "last": "Lovelace"})
        # Only v1 is named once the saving handler goes (when it is no longer in use).
        in_use(ed, save.tlid)
        not_in_use(ed, save.tlid)
        ed.controller.delete(save.tlid)
        ed.settle()
        assert v1.tlid in ed.window.canvas.frames, ed.window.status.log
        ed.window.canvas.frames[v1.tlid].fields["migration"].click()
        view = ed.window.migration_view
        assert view is not None and view.tlid == v1.tlid
        ed.wait(lambda: (ed.controller.migrations.get("Users_v0") or {}).get("state")
                == "blocked", "the conversion to stop on the failing row", timeout=60)
        assert view.progress.text().startswith(
            "Background conversion: Blocked: 1 row could not be converted to v1")
        assert ed.window.canvas.frames[v1.tlid].summary.text().endswith(
            "migration blocked: 1 row fails to convert to v1 (Ctrl+Alt+M)")
        ed.wait(lambda: view.failures.rowCount() == 1 and view_rows(view)[0][1] == "v1",
                "the view to show the converted rows and the failing one")
        assert [r[:2] for r in view_rows(view)] == [["ada", "v1"], ["alan", "v1"],
                                                    ["plato", "v0"]]
        assert view_rows(view)[2][2] == '{name: "Plato"}'      # left exactly as it was
        assert view.failures.item(0, 0).text() == "plato"
        # Delete row: the keyboard on the failing row, Delete, and yes.
        view.activateWindow()
        view.failures.setFocus()
        QTest.keyClick(view.failures, Qt.Key.Key_Down)
        QTest.keyClick(view.failures, Qt.Key.Key_Delete)
        box = view.confirm
        assert box is not None and "'plato' of Users_v0" in box.text()
        yes = next(w for w in box.findChildren(QPushButton) if w.text() == "Delete row")
        yes.setFocus()
        QTest.keyClick(yes, Qt.Key.Key_Space)
        ed.wait(lambda: (ed.controller.migrations.get("Users_v0") or {}).get("state")
                == "done", "the conversion to finish once the row is gone", timeout=60)
        ed.wait(lambda: view.failures.rowCount() == 0 and view.rows.rowCount() == 2,
                "the view without the deleted row")
        assert view.versions.text() == "2 rows stored in Users_v0: 2 at v1."
        assert "Deleted the row 'plato' of Users_v1." in [m for _t, m in ed.window.status.log]
    finally:
        ed.close()


def test_abandoning_moves_code_back_and_the_rows_roll_back(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    """Code on Users_v1 wrote rows through it; *Move back to the older datastore version*
    at each reference abandons the migration: a lock window later the rows written through
    v1 are rolled back to v0 (the view shows them there), and v1 can be deleted."""
    token = new_canvas(rt, "mig")
    ed = Editor(qtbot, loop, rt, "mig", token, "alice")
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")
        v0 = b.datastore("Users", TRecord((TRecordField("name", TString()),)), pos=(20, 20))
        v1, forward, back = b.datastore_version(
            v0, TRecord((TRecordField("name", TString()), TRecordField("shout", TString()))),
            b.record(name=b.field(b.var("row"), "name"),
                     shout=b.call("String::toUppercase_v1", b.field(b.var("row"), "name"))),
            b.record(name=b.field(b.var("row"), "name")), pos=(20, 160))
        save = b.http("GET", "/save/:key/:name", b.call(
            "DB::set_v1", b.record(name=b.var("name"), shout=b.var("name")), b.var("key"),
            b.var("Users_v1")), pos=(20, 420))
        read = b.http("GET", "/read/:key", b.call(
            "DB::get_v2", b.var("key"), b.var("Users_v1"), rail=True), pos=(20, 560))
        ed.controller.apply(commit(ed.controller.state, [
            CreateToplevel(v0), CreateToplevel(forward), CreateToplevel(back),
            CreateToplevel(v1), CreateToplevel(save), CreateToplevel(read)], None))
        ed.settle()
        assert get(rt, "/save/ada/Ada")[0] == 200
        assert get(rt, "/read/ada") == (200, {"name": "Ada", "shout": "Ada"})
        QTest.mouseClick(ed.window.canvas.frames[v0.tlid].fields["name"],
                         Qt.MouseButton.LeftButton)
        key(ed, Qt.Key.Key_M, CTRL_ALT)
        view = ed.window.migration_view
        assert view is not None and view.tlid == v0.tlid
        ed.wait(lambda: view.report is not None and view.rows.rowCount() == 1, "the row")
        assert view_rows(view) == [["ada", "v1", '{name: "Ada", shout: "Ada"}',
                                    '{name: "Ada"}']]
        # Move both handlers back, once they are no longer in use (directly, no flag).
        for handler in (save, read):
            in_use(ed, handler.tlid)           # each served a request: a lock window to wait
        for handler in (save, read):
            not_in_use(ed, handler.tlid)
        for handler in (save, read):
            on_the_datastore_name(ed, ed.window.canvas.frames[handler.tlid].code)
            palette(ed, "Move back to the older datastore version")
            assert text_of(ed, ed.controller.state.canvas[handler.tlid]).endswith("Users_v0")
        ed.settle()
        # A lock window after v1 was last named, its rows roll back to v0.
        ed.wait(lambda: (ed.controller.migrations.get("Users_v0") or {}).get("state")
                == "done" and (ed.controller.migrations["Users_v0"].get("target") == 0),
                "the rows to roll back to v0", timeout=60)
        ed.wait(lambda: view_rows(view) == [["ada", "v0", '{name: "Ada"}', '{name: "Ada"}']],
                "the view to show the row back at v0")
        assert get(rt, "/read/ada") == (200, {"name": "Ada"})
        # Nothing names v1 and no row is stored in it: it can go.
        ed.window.canvas.frames[v1.tlid].fields["delete"].click()
        ed.settle()
        assert v1.tlid not in ed.controller.state.canvas
        assert not any("refused" in m for _t, m in ed.window.status.log), ed.window.status.log
    finally:
        ed.close()
