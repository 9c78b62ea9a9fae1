"""Render the editor's screenshots offscreen: `make screenshots`.

Opens the main window on the demo canvas (no runtime needed), types a handler
with real key events, and saves PNGs next to this file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import attrs
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton

from editor.controller import EditorController
from editor.widgets.main_window import MainWindow
from editor.widgets.theme import apply_theme
from runtime.control.demo import demo_toplevels
from runtime.control.migration_view import preview
from runtime.store import open_store
from shared_ast import build as b
from shared_ast import wire
from shared_ast.evaluator import run_toplevel
from shared_ast.limits import Budget
from shared_ast.live import LiveValues
from shared_ast.locking import InUse
from shared_ast.migration import storage_name
from shared_ast.program import Program
from shared_ast.stdlib.json_fns import from_json
from shared_ast.toplevels import Handler, HttpSpec, Pos, UserFunction
from shared_ast.type_ast import INT, TList, TRecord, TRecordField, TString

HERE = Path(__file__).resolve().parent


def main() -> int:
    app = QApplication.instance() or QApplication([])
    apply_theme(app)  # type: ignore[arg-type]
    controller = EditorController(None)
    # A tidy column layout for the picture: the demo's own positions overlap at this size.
    toplevels = [t for t in demo_toplevels() if isinstance(t, UserFunction) or (
        isinstance(t, Handler) and isinstance(t.spec, HttpSpec)
        and t.spec.route in ("/hello", "/square/:n"))]
    controller.load(toplevels)
    window = MainWindow(controller, "Gloam — demo")
    window.resize(1280, 760)
    window.show()
    for i, tl in enumerate(toplevels):
        controller.move(tl.tlid, Pos(24 + 460 * (i // 2), 24 + 130 * (i % 2)))
    window.new_toplevel("http")                # Ctrl+N: the route field, `/new` selected
    tlid = controller.state.caret.tlid
    controller.move(tlid, Pos(24, 280))
    frame = window.canvas.frames[tlid]
    # As the README's walkthrough: the route typed over `/new`, then the code as text.
    route = frame.fields["route"]
    QTest.keyClicks(route, "/add/:a/:b")
    QTest.keyClick(route, Qt.Key.Key_Return)
    code = frame.code
    for step in ("let x = toI", Qt.Key.Key_Return, "a", Qt.Key.Key_Return, "let y = toI",
                 Qt.Key.Key_Return, "b", Qt.Key.Key_Return, "x + y * 1"):
        if isinstance(step, str):
            QTest.keyClicks(code, step)
        else:
            QTest.keyClick(code, step)
    app.processEvents()
    window.grab().save(str(HERE / "editor-handler.png"))
    # Mid-typing: a partial with its completions.
    QTest.keyClick(code, Qt.Key.Key_Escape)
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "let sum = Int::a")
    app.processEvents()
    window.grab().save(str(HERE / "editor-completion.png"))
    # Code in use: /hello is locked, and its change goes through a flag.
    QTest.keyClick(code, Qt.Key.Key_Escape)
    hello = next(t for t in toplevels if isinstance(t, Handler) and t.spec.route == "/hello")
    controller.set_locks({hello.tlid: InUse(hello.tlid, 42, time.time())})
    controller.flag_counts = {}
    controller.focus(hello.tlid)
    hello_code = window.canvas.frames[hello.tlid].code
    hello_code.setFocus()
    window.run_command("wrap-in-flag")
    QTest.keyClicks(hello_code, "Flag::justMe")
    QTest.keyClick(hello_code, Qt.Key.Key_Return)
    flag = controller.state.canvas[hello.tlid].body
    controller.flag_counts = {flag.id: {"old": 40, "new": 2}}
    controller.changed.emit()
    app.processEvents()
    window.grab().save(str(HERE / "editor-flag.png"))
    print(f"wrote {HERE / 'editor-handler.png'}, {HERE / 'editor-completion.png'} and "
          f"{HERE / 'editor-flag.png'}")
    window.close()
    iterations(app)
    problems(app)
    migration(app)
    tests(app)
    return 0


def iterations(app: QApplication) -> None:
    """The iteration stepper: a handler's List::map, its lambda's third call shown."""
    body = b.record(name=b.call("String::toUppercase_v1", b.field(b.var("user"), "name")),
                    score=b.infix("*", b.field(b.var("user"), "score"), 10))
    users = b.list_(*(b.record(name=n, score=s) for n, s in
                      (("ada", 7), ("bo", 9), ("cy", 4), ("di", 8))))
    handler = b.http("GET", "/scores", b.let("users", users, b.call(
        "List::map_v0", b.var("users"), b.lam(["user"], body))), pos=(24, 24))
    controller = EditorController(None)
    controller.load([handler])
    window = MainWindow(controller, "Gloam — iterations")
    window.resize(1560, 480)
    window.show()
    live = LiveValues()
    run_toplevel(handler, {}, Program.from_toplevels([handler]), live=live)
    controller.live[handler.tlid] = live  # what a run of the newest trace brings
    controller.focus(handler.tlid)
    code = window.canvas.frames[handler.tlid].code
    line = next(i for i, ln in enumerate(code.projection.lines) if "*" in ln.text)
    controller.click(handler.tlid, line, code.projection.lines[line].text.index("*"))
    code.setFocus()
    for _ in range(2):
        QTest.keyClick(code, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
    app.processEvents()
    window.canvas_scroll.horizontalScrollBar().setValue(0)  # the frame's left edge in view
    app.processEvents()
    window.grab().save(str(HERE / "editor-iterations.png"))
    print(f"wrote {HERE / 'editor-iterations.png'}")
    window.close()


def problems(app: QApplication) -> None:
    """The error rail and a problem: a railed call piped where a Result is wanted."""
    controller = EditorController(None)
    controller.load([b.http("GET", "/parse/:a", b.hole(), pos=(24, 24)),
                     b.http("GET", "/double/:n", b.infix("*", b.call(
                         "String::toInt_v1", b.var("n"), rail=True), 2), pos=(24, 200))])
    window = MainWindow(controller, "Gloam — problems and the error rail")
    window.resize(1280, 640)
    window.show()
    tlid = next(t for t, tl in controller.state.canvas.items()
                if isinstance(tl, Handler) and tl.spec.route == "/parse/:a")
    controller.focus(tlid)
    code = window.canvas.frames[tlid].code
    code.setFocus()
    QTest.keyClicks(code, "toI")
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "a |> withD")
    QTest.keyClick(code, Qt.Key.Key_Return)
    QTest.keyClicks(code, "0")
    QTest.keyClick(code, Qt.Key.Key_Home)       # the caret on the call: its type, its problem
    app.processEvents()
    window.grab().save(str(HERE / "editor-problems.png"))
    print(f"wrote {HERE / 'editor-problems.png'}")
    window.close()


def migration(app: QApplication) -> None:
    """The migration view of Users_v1 (a name split in two) over rows in a real SQLite store,
    as the runtime's preview reads them: converted values, a failing row, lost data."""
    v0 = b.datastore("Users", TRecord((TRecordField("name", TString()),)), pos=(24, 24))
    split = b.call("String::split_v1", b.field(b.var("row"), "name"), " ")
    forward_body = b.let("parts", split, b.record(
        first=b.call("List::head_v1", b.var("parts"), rail=True),
        last=b.call("List::head_v1", b.call("List::drop_v0", b.var("parts"), 1), rail=True)))
    back_body = b.record(name=b.call("String::join_v0", b.list_(
        b.field(b.var("row"), "first"), b.field(b.var("row"), "last")), " "))
    v1, forward, back = b.datastore_version(
        v0, TRecord((TRecordField("first", TString()), TRecordField("last", TString()))),
        forward_body, back_body, pos=(24, 150))
    canvas = [v0, v1, attrs.evolve(forward, pos=Pos(480, 24)),
              attrs.evolve(back, pos=Pos(480, 240))]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "gloam.sqlite3")
        store.create_canvas("demo", "x")
        rows = {"ada": (0, {"name": "Ada Lovelace"}), "alan": (0, {"name": "Alan Turing"}),
                "edsger": (0, {"name": "Edsger W. Dijkstra"}),
                "grace": (0, {"name": "Grace Hopper"}), "plato": (0, {"name": "Plato"}),
                "linus": (1, {"first": "Linus", "last": "Torvalds"})}
        for key, (version, value) in rows.items():
            text = wire.json_text(wire.encode_value(from_json(json.dumps(value))))
            store.ds_set("demo", storage_name(v0), key, text, version)
        body = preview(store, "demo", Program.from_toplevels(canvas), v1, 20, Budget)
        store.close()
    controller = EditorController(None)
    controller.load(canvas)
    controller.set_migrations([{"name": "Users", "storage": "Users_v0", "target": None,
                                "state": "idle", "done": 0, "left": 0, "failures": []}])
    window = MainWindow(controller, "Gloam — migration")
    window.show()
    window.show_migration_of(v1.tlid)
    view = window.migration_view
    assert view is not None
    view.show_report({"type": "migration", "tlid": v1.tlid, **body})
    view.resize(980, 620)
    app.processEvents()
    view.grab().save(str(HERE / "migration.png"))
    print(f"wrote {HERE / 'migration.png'}")
    view.close()
    window.close()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # PySide6 can crash while Python finalizes its objects; the PNGs are written by now.
    os._exit(code)


def tests(app: QApplication) -> None:
    """A failing test beside the code it tests: a test typed with real keys passes, then
    a flag's new branch (a planted discount) breaks it, and the results come by themselves;
    a click on the test's status puts the caret on the failing check, with its live value."""
    item = TRecord((TRecordField("price", INT), TRecordField("qty", INT)))
    line = b.lam(["i"], b.infix("*", b.field(b.var("i"), "price"), b.field(b.var("i"), "qty")))
    body = b.let("subtotal", b.pipe(b.var("items"), b.call("List::map_v0", b.target(), line),
                                    b.call("Int::sum_v0", b.target())), b.var("subtotal"))
    total = b.function("total", [("items", TList(item))], INT, body, pos=(24, 24))
    empty = b.test("an empty cart costs nothing", b.expect(b.user_call(total, b.list_()), 0),
                   pos=(24, 190))
    controller = EditorController(None)
    controller.load([total, empty])
    window = MainWindow(controller, "Gloam — tests")
    window.resize(1500, 640)
    window.show()

    def settle() -> None:
        for _ in range(500):
            app.processEvents()
            time.sleep(0.01)
            if not window.tests.busy():
                break
        app.processEvents()

    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    QTest.keyClick(window, Qt.Key.Key_T, both)           # New test: its name selected
    tlid = controller.state.caret.tlid
    controller.move(tlid, Pos(24, 290))
    frame = window.canvas.frames[tlid]
    QTest.keyClicks(frame.fields["name"], "three at 200 cost 600")
    QTest.keyClick(frame.fields["name"], Qt.Key.Key_Return)
    QTest.keyClicks(frame.code, "total [{ price: 200, qty: 3 }]")
    QTest.keyClick(frame.code, Qt.Key.Key_Tab)
    QTest.keyClicks(frame.code, "600")
    settle()
    # The planted change: a flag around the result, its new branch 50 off.
    controller.focus(total.tlid)
    code = window.canvas.frames[total.tlid].code
    code.setFocus()
    QTest.keyClick(code, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(code, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(code, "true")
    QTest.keyClick(code, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(code, " - 50")
    settle()
    status = frame.findChild(QToolButton, "TestStatus")
    assert status is not None and status.text().startswith("✗"), "the test did not fail"
    QTest.mouseClick(status, Qt.MouseButton.LeftButton)
    app.processEvents()
    window.grab().save(str(HERE / "tests.png"))
    print(f"wrote {HERE / 'tests.png'}")
    window.close()
