"""The migration view with real key events on the real window, against a stand-in session.

The stand-in answers `get_migration` as the runtime's editor API does, from rows
it keeps: each read value is converted with the real `shared_ast.migration`, so
the view shows what the conversion functions on the canvas really give. It
answers `get_migrations` and `delete_row`, and pushes `migrations` as the
runtime does. The same against a real runtime is tests/test_migration_e2e.py.
The session's side of the wire (a pushed message without an id) is tested
against a fake websocket server at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from editor.client.session import ONLINE, CanvasSession, SessionSignals
from editor.controller import EditorController
from editor.model.state import commit
from editor.widgets.main_window import MainWindow
from editor.widgets.migration_view import (
    NO_DATASTORE,
    MigrationView,
    loss_text,
    progress_text,
    short_progress,
)
from shared_ast import build as b
from shared_ast import wire
from shared_ast.migration import ConversionFailed, convert, loses_data, storage_name
from shared_ast.nodes import EString
from shared_ast.ops import ReplaceNode
from shared_ast.program import Program
from shared_ast.stdlib.json_fns import from_json
from shared_ast.toplevels import Datastore, Pos, Toplevel
from shared_ast.type_ast import TInt, TRecord, TRecordField, TString

V0 = TRecord((TRecordField("name", TString()), TRecordField("age", TString())))
V1 = TRecord((TRecordField("name", TString()), TRecordField("age", TInt())))


def users_canvas() -> list[Toplevel]:
    """Users_v0 {name, age: String}; Users_v1 {name, age: Int}: rollforward parses the age
    (an error for "old"), rollback writes every age back as "?" (so it loses data)."""
    v0 = b.datastore("Users", V0, pos=(20, 20))
    v1, forward, back = b.datastore_version(
        v0, V1,
        b.record(name=b.field(b.var("row"), "name"),
                 age=b.call("String::toInt_v1", b.field(b.var("row"), "age"), rail=True)),
        b.record(name=b.field(b.var("row"), "name"), age="?"), pos=(20, 160))
    forward = attrs.evolve(forward, pos=Pos(480, 20))
    back = attrs.evolve(back, pos=Pos(480, 200))
    handler = b.http("GET", "/hello", "hi", pos=(20, 320))
    return [v0, v1, forward, back, handler]


class StandInSession(SessionSignals):
    """The runtime's editor API for migrations, over rows kept in memory."""


    def __init__(self) -> None:
        super().__init__()
        self.canvas: dict[int, Toplevel] = {}
        #: key → (version written in, JSON text of the value)
        self.rows: dict[str, tuple[int, str]] = {}
        self.state, self.detail, self.pending = "online", "stand-in", 0
        self.requests: list[dict[str, Any]] = []
        self.progress: dict[str, Any] | None = None

    def send_ops(self, ops: list[Any]) -> int:
        from shared_ast.apply import apply_to_canvas
        self.canvas = dict(apply_to_canvas(ops, self.canvas))
        return 1

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        self.requests.append(message)
        match message["type"]:
            case "get_migration":
                return self.answer(message["tlid"], message["limit"])
            case "get_migrations":
                return {"type": "migrations", "migrations": [self.progress] if self.progress
                        else []}
            case "delete_row":
                self.rows.pop(message["key"])
                return {"type": "row_deleted", "datastore": message["datastore"],
                        "key": message["key"]}
        return {"type": "none"}  # the window's polls (404s, locks, flags): nothing here

    def answer(self, tlid: int, limit: int) -> dict[str, Any]:
        program = Program.from_toplevels(self.canvas.values())
        ds = self.canvas[tlid]
        assert isinstance(ds, Datastore)
        rows, failures, versions = [], [], {}
        lost_keys: list[str] = []
        checked = 0
        for key, (version, text) in sorted(self.rows.items()):
            value = from_json(text)
            versions[str(version)] = versions.get(str(version), 0) + 1
            failure = read = None
            try:
                read = wire.encode_value(convert(program, ds.name, value, version, ds.version))
            except ConversionFailed as e:
                failure = {"kind": e.kind, "reason": e.reason}
                failures.append({"key": key, "version": version, **failure})
            if len(rows) < limit:
                rows.append({"key": key, "version": version, "value": wire.encode_value(value),
                             "read": read, "failure": failure})
            if ds.migration is not None and version == ds.migration.from_version:
                try:
                    lost = loses_data(program, ds, value)
                except ConversionFailed:
                    continue  # a row that fails to convert is listed as failing instead
                checked += 1
                if lost:
                    lost_keys.append(key)
        loss = None if ds.migration is None else {
            "stored": {"checked": checked, "lost": len(lost_keys), "keys": lost_keys[:20]},
            "generated": {"checked": 200, "lost": 7, "example": wire.encode_value(
                from_json('{"name": "a", "age": "07"}'))}}
        return {"type": "migration", "tlid": tlid, "datastore": ds.qualified,
                "storage": storage_name(ds), "versions": versions, "rows": rows,
                "failures": failures, "scanned": len(self.rows), "total": len(self.rows),
                "loss": loss, "progress": self.progress}

    async def close(self) -> None:
        pass

    def resync(self) -> None:
        pass


def asks(session: StandInSession) -> int:
    """How many times the view asked for a migration (other polls are not counted)."""
    return sum(1 for r in session.requests if r["type"] == "get_migration")


def wait(loop: Any, check: Callable[[], Any], what: str) -> None:
    async def poll() -> None:
        deadline = time.monotonic() + 10
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.01)
    loop.run_until_complete(poll())


def open_window(qtbot: Any) -> tuple[MainWindow, StandInSession, list[Toplevel]]:
    canvas = users_canvas()
    session = StandInSession()
    session.canvas = {tl.tlid: tl for tl in canvas}
    session.rows = {"ada": (0, '{"name": "Ada", "age": "36"}'),
                    "bo": (0, '{"name": "Bo", "age": "old"}'),
                    "cy": (1, '{"name": "Cy", "age": 7}')}
    controller = EditorController(session)
    controller.load(canvas)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    return window, session, canvas


def cells(table: Any) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def ctrl_alt_m(window: MainWindow) -> None:
    QTest.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier)


def open_view_on(window: MainWindow, loop: Any, tlid: int) -> MigrationView:
    """Click the datastore's header, then Ctrl+Alt+M; wait for the runtime's answer."""
    QTest.mouseClick(window.canvas.frames[tlid].header, Qt.MouseButton.LeftButton)
    ctrl_alt_m(window)
    view = window.migration_view
    assert view is not None and view.isVisible() and view.tlid == tlid
    wait(loop, lambda: view.report is not None, "the migration's rows")
    return view


def test_the_view_shows_rows_as_the_version_reads_them_failures_and_loss(
        loop: Any, qtbot: Any) -> None:
    window, session, (_v0, v1, *_rest) = open_window(qtbot)
    view = open_view_on(window, loop, v1.tlid)
    assert session.requests[-1] == {"type": "get_migration", "tlid": v1.tlid, "limit": 20}
    assert "Users_v1</b> migrates from Users_v0" in view.heading.text()
    assert "Users_v1_rollforward" in view.heading.text()
    assert view.versions.text() == "3 rows stored in Users_v0: 2 at v0, 1 at v1."
    assert view.rows.horizontalHeaderItem(3).text() == "As Users_v1 reads it"
    rows = cells(view.rows)
    assert rows[0] == ["ada", "v0", '{name: "Ada", age: "36"}', '{name: "Ada", age: 36}']
    assert rows[1][:3] == ["bo", "v0", '{name: "Bo", age: "old"}']
    assert rows[1][3].startswith("✗ error: Users_v1's rollforward (Users_v1_rollforward) "
                                 "went to the error rail")
    assert rows[2] == ["cy", "v1", '{name: "Cy", age: 7}', '{name: "Cy", age: 7}']
    failing = cells(view.failures)
    assert [f[:3] for f in failing] == [["bo", "v0", "error"]]
    assert "Users_v1_rollforward" in failing[0][3]
    assert view.failures_label.text() == "Failing rows: 1"
    # Rollback writes "?" for every age: the one stored row at v0 that converts loses data.
    assert view.loss.text().startswith(
        "Data loss: rollback(rollforward(row)) differs for 1 of 1 stored row and 7 of 200 "
        "generated rows.")
    assert "Stored rows that change: ada" in view.loss.text()
    assert view.loss.property("warning") is True
    assert view.progress.text().startswith("Background conversion: No background conversion")


def test_a_datastore_without_migration_shows_its_rows_and_says_so(loop: Any, qtbot: Any
                                                                   ) -> None:
    window, _session, (v0, v1, *_rest) = open_window(qtbot)
    assert not window.canvas.frames[v0.tlid].fields["migration"].isVisibleTo(window)
    assert window.canvas.frames[v1.tlid].fields["migration"].isVisibleTo(window)
    view = open_view_on(window, loop, v0.tlid)
    assert "Users_v0</b> has no migration" in view.heading.text()
    assert "Users_v1 migrates from it" in view.heading.text()
    # Rows written through v1 read back through the rollback, as v0 reads them.
    assert cells(view.rows)[2][:2] == ["cy", "v1"]
    assert cells(view.rows)[2][3] == '{name: "Cy", age: "?"}'
    assert not view.loss.isVisibleTo(view) and view.failures.rowCount() == 0
    assert view.failures_label.text() == "Failing rows: none"


def test_the_header_button_opens_the_view(loop: Any, qtbot: Any) -> None:
    window, _session, (_v0, v1, *_rest) = open_window(qtbot)
    button = window.canvas.frames[v1.tlid].fields["migration"]
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    view = window.migration_view
    assert view is not None and view.tlid == v1.tlid
    wait(loop, lambda: view.report is not None, "the migration's rows")


def test_ctrl_alt_m_in_a_conversion_function_or_elsewhere(loop: Any, qtbot: Any) -> None:
    window, _session, (_v0, v1, forward, _back, handler) = open_window(qtbot)
    window.controller.focus(handler.tlid)
    window.canvas.frames[handler.tlid].code.setFocus()
    QTest.keyClick(window.canvas.frames[handler.tlid].code, Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert window.migration_view is None
    assert window.status.currentMessage() == NO_DATASTORE
    # The caret in the rollforward: its datastore's migration.
    window.controller.focus(forward.tlid)
    code = window.canvas.frames[forward.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier)
    assert window.migration_view is not None and window.migration_view.tlid == v1.tlid


def test_f5_reads_again_and_an_edit_to_a_conversion_refreshes(loop: Any, qtbot: Any) -> None:
    window, session, (v0, _v1, _forward, back, handler) = open_window(qtbot)
    view = open_view_on(window, loop, v0.tlid)
    asked = asks(session)
    session.rows["dee"] = (0, '{"name": "Dee", "age": "5"}')
    QTest.keyClick(view.rows, Qt.Key.Key_F5)
    wait(loop, lambda: view.rows.rowCount() == 4, "the new row after F5")
    assert asks(session) == asked + 1
    assert cells(view.rows)[2] == ["cy", "v1", '{name: "Cy", age: 7}', '{name: "Cy", age: "?"}']
    # The rollback changes (as a deploy does): "?" becomes "unknown"; the view asks again.
    c = window.controller
    node = next(f for f in back.body.fields if f.name == "age").value
    c.apply(commit(c.state, [ReplaceNode(back.tlid, node.id, node, EString(node.id, "unknown"))],
                   None))
    wait(loop, lambda: cells(view.rows)[2][3] == '{name: "Cy", age: "unknown"}',
         "the rows read again after the edit")
    assert asks(session) == asked + 2
    # A change elsewhere (the handler's body) asks nothing.
    hello = c.state.canvas[handler.tlid]
    c.apply(commit(c.state, [ReplaceNode(hello.tlid, hello.body.id, hello.body,
                                         EString(hello.body.id, "hey"))], None))
    QTest.qWait(REFRESH_WAIT)
    assert asks(session) == asked + 2


REFRESH_WAIT = 600


def test_pushed_progress_updates_the_view_and_the_frame(loop: Any, qtbot: Any) -> None:
    window, session, (v0, v1, *_rest) = open_window(qtbot)
    view = open_view_on(window, loop, v1.tlid)
    asked = asks(session)
    state = {"name": "Users", "storage": "Users_v0", "target": 1, "state": "converting",
             "done": 1200, "left": 3400, "rate": 2000.0, "failures": [], "failed": 0,
             "unnamed_since": {"0": 1.0}, "holder": "n1", "updated_at": 2.0,
             "waiting_until": None}
    session.migrations_pushed.emit([state])
    assert view.progress.text() == ("Background conversion: Converting to v1: 1,200 rows done, "
                                    "3,400 left, 2,000 rows/s, 0 failures.")
    for tlid in (v0.tlid, v1.tlid):
        assert window.canvas.frames[tlid].summary.text().endswith(
            "converting to v1: 1,200 done, 3,400 left, 2,000/s, 0 failed")
    # A change of state reads the rows again (they moved to another version).
    wait(loop, lambda: asks(session) == asked + 1, "the refresh on a new state")
    session.migrations_pushed.emit([{**state, "done": 1300, "left": 3300}])
    QTest.qWait(50)
    assert asks(session) == asked + 1  # the same state: only the numbers change
    assert "1,300 rows done" in view.progress.text()
    session.migrations_pushed.emit([{**state, "state": "done", "done": 4600, "left": 0}])
    assert view.progress.text() == "Background conversion: Done: every row is at v1 (4,600 " \
        "converted)."
    assert "\n" not in window.canvas.frames[v1.tlid].summary.text()  # nothing to say when done


def test_deleting_a_failing_row_asks_first(loop: Any, qtbot: Any) -> None:
    window, session, (_v0, v1, *_rest) = open_window(qtbot)
    view = open_view_on(window, loop, v1.tlid)
    assert not view.delete_button.isEnabled()
    view.failures.setFocus()
    QTest.keyClick(view.failures, Qt.Key.Key_Down)          # the failing row "bo" (the only)
    assert view.delete_button.isEnabled()
    QTest.keyClick(view.failures, Qt.Key.Key_Delete)
    box = view.confirm
    assert box is not None and box.isVisible() and "'bo' of Users_v0" in box.text()
    QTest.keyClick(box, Qt.Key.Key_Escape)                    # no: nothing is deleted
    assert "bo" in session.rows and view.confirm is None
    assert view.status.text() == "Kept the row 'bo'."
    assert not any(r["type"] == "delete_row" for r in session.requests)
    view.delete_button.setFocus()
    QTest.keyClick(view.delete_button, Qt.Key.Key_Space)
    box = view.confirm
    assert box is not None
    QTest.keyClick(box, Qt.Key.Key_Return)                    # Enter is Cancel, the default
    assert "bo" in session.rows
    view.delete_button.click()
    box = view.confirm
    assert box is not None
    delete = next(btn for btn in box.findChildren(QPushButton) if btn.text() == "Delete row")
    delete.setFocus()
    QTest.keyClick(delete, Qt.Key.Key_Space)
    wait(loop, lambda: view.failures.rowCount() == 0, "the row deleted and the view read again")
    assert {"type": "delete_row", "datastore": "Users_v1", "key": "bo"} in session.requests
    assert "bo" not in session.rows and [r[0] for r in cells(view.rows)] == ["ada", "cy"]
    assert window.status.currentMessage() == "Deleted the row 'bo' of Users_v1."
    QApplication.processEvents()
    assert isinstance(box, QMessageBox)


def test_the_words() -> None:
    assert short_progress(None) is None
    assert short_progress({"state": "done", "target": 1}) is None
    assert short_progress({"state": "blocked", "target": 1, "failed": 3}) == \
        "migration blocked: 3 rows fail to convert to v1 (Ctrl+Alt+M)"
    assert progress_text({"state": "blocked", "target": 2, "failed": 1}).startswith(
        "Blocked: 1 row could not be converted to v2")
    assert progress_text({"state": "idle", "target": None}).startswith("Not converting")
    text, warns = loss_text({"stored": {"checked": 120, "lost": 3, "keys": ["a", "b", "c"]},
                             "generated": {"checked": 200, "lost": 7, "example": None}})
    assert warns and text.splitlines()[0].startswith(
        "Data loss: rollback(rollforward(row)) differs for 3 of 120 stored rows and 7 of 200 "
        "generated rows.")
    assert loss_text({"stored": {"checked": 1, "lost": 0}, "generated": {"checked": 200,
                                                                         "lost": 0}}) == (
        "No data lost: rollback(rollforward(row)) gives back each of the 1 stored row and "
        "200 generated rows checked.", False)


counts = st.integers(0, 10**6)


@given(counts, counts, counts, counts, st.lists(st.text(min_size=1, max_size=8), max_size=3))
def test_the_loss_warning_warns_exactly_when_rows_are_lost_and_says_how_many(
        s_lost: int, s_more: int, g_lost: int, g_more: int, keys: list[str]) -> None:
    loss = {"stored": {"checked": s_lost + s_more, "lost": s_lost, "keys": keys},
            "generated": {"checked": g_lost + g_more, "lost": g_lost, "example": None}}
    text, warns = loss_text(loss)
    assert warns == (s_lost + g_lost > 0)
    first = text.splitlines()[0]
    if warns:
        assert f"differs for {s_lost:,} of {s_lost + s_more:,} stored row" in first
        assert f"and {g_lost:,} of {g_lost + g_more:,} generated row" in first
        assert ("Stored rows that change: " + ", ".join(keys) in text) == bool(keys)
    else:
        assert first.startswith("No data lost") and f"{s_more:,} stored row" in first


@given(st.sampled_from(["idle", "waiting", "converting", "blocked", "done"]),
       st.one_of(st.none(), st.integers(0, 9)), counts, counts, counts)
def test_the_frame_shows_a_line_only_while_rows_convert_wait_or_are_blocked(
        phase: str, target: int | None, done: int, left: int, failed: int) -> None:
    state = {"state": phase, "target": target, "done": done, "left": left, "failed": failed,
             "rate": 10.0}
    line = short_progress(state)
    assert (line is not None) == (phase in ("converting", "waiting", "blocked"))
    if phase == "converting":
        assert line is not None and f"{done:,} done, {left:,} left" in line
    assert progress_text(state)  # the view always says something


# ---------------------------------------------------------- the session's side of the wire


def test_the_session_hears_pushed_migrations_and_answers_requests_by_id() -> None:
    state = {"name": "Users", "storage": "Users_v0", "state": "converting", "target": 1}

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"schema": 1, "type": "hello", "canvas": "demo", "seq": 1,
                            "toplevels": []})
        await ws.send_json({"schema": 1, "type": "migrations", "migrations": [state]})
        await ws.send_json({"schema": 1, "type": "migrations", "migrations": "junk"})
        async for msg in ws:
            data = json.loads(msg.data)
            await ws.send_json({"schema": 1, "type": "migrations", "id": data["id"],
                                "migrations": []})
        return ws

    async def scenario() -> tuple[list[Any], list[str], dict[str, Any]]:
        app = web.Application()
        app.router.add_get("/api/canvas/demo/ws", ws_handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        session = CanvasSession(f"http://127.0.0.1:{port}", "demo", "t", "jo")
        pushed: list[Any] = []
        problems: list[str] = []
        session.migrations_pushed.connect(pushed.append)
        session.problem.connect(problems.append)
        session.start()
        deadline = time.monotonic() + 10
        while not (session.state == ONLINE and pushed and problems):
            assert time.monotonic() < deadline, "no pushed migrations"
            await asyncio.sleep(0.02)
        reply = await session.request({"type": "get_migrations"})
        await session.close()
        await runner.cleanup()
        return pushed, problems, reply

    pushed, problems, reply = asyncio.run(scenario())
    assert pushed == [[state]]  # the reply to a request went to the request, not the signal
    assert len(problems) == 1 and "'migrations' is not a list of objects" in problems[0]
    assert reply["migrations"] == []
