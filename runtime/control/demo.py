"""The demo canvas a fresh data folder starts with (`--no-demo` skips it).

Built with the same builder the tests use and stored through the same deploy
records as any editor's ops, so what `make run` serves is ordinary Gloam code.
"""

from __future__ import annotations

from pathlib import Path

from runtime.control.deploy import first_batch
from runtime.store.protocol import Store
from runtime.tokens import create_canvas
from shared_ast import build as b
from shared_ast.toplevels import Toplevel
from shared_ast.type_ast import INT, STRING, TRecord, TRecordField

DEMO_CANVAS = "demo"

DOUBLE_SQUARE = b.function(
    "square", [("x", INT)], INT, b.infix("*", b.var("x"), b.var("x")),
    description="x times x", pos=(40, 560),
)


def demo_toplevels() -> list[Toplevel]:
    note_type = TRecord((TRecordField("text", STRING), TRecordField("at", STRING)))
    request_text = b.field(b.field(b.var("request"), "body"), "text")
    return [
        b.http("GET", "/hello",
               b.call("Http::response_v0", "Hello from Gloam!\n", 200), pos=(40, 40)),
        b.http("GET", "/sum/:a/:b",
               b.infix("+",
                       b.call("Int::parse_v0", b.var("a"), rail=True),
                       b.call("Int::parse_v0", b.var("b"), rail=True)),
               pos=(40, 200)),
        b.http("GET", "/square/:n",
               b.let("n", b.call("Int::parse_v0", b.var("n"), rail=True),
                     b.record(n=b.var("n"), square=b.user_call(DOUBLE_SQUARE, b.var("n")))),
               pos=(40, 360)),
        b.http("POST", "/notes",
               b.let("note",
                     b.record(text=request_text,
                              at=b.call("Date::toString_v0", b.call("Date::now_v0"))),
                     b.let("key", b.call("Uuid::toString_v0", b.call("Uuid::generate_v0")),
                           b.pipe(b.call("DB::set_v1", b.var("note"), b.var("key"),
                                         b.var("Notes_v0")),
                                  b.call("Emit::emit_v0", b.target(), "notes")))),
               pos=(620, 40)),
        b.http("GET", "/notes", b.call("DB::getAll_v3", b.var("Notes_v0")), pos=(620, 260)),
        b.worker("notes",
                 b.call("DB::set_v1",
                        b.record(text=b.field(b.var("event"), "text"), at="seen by the worker"),
                        "last-note", b.var("NoteLog_v0")),
                 pos=(1200, 40)),
        b.http("GET", "/last-note",
               b.call("DB::get_v2", "last-note", b.var("NoteLog_v0"), rail=True),
               pos=(1200, 200)),
        b.datastore("Notes", note_type, pos=(1200, 360)),
        b.datastore("NoteLog", note_type, pos=(1200, 480)),
        DOUBLE_SQUARE,
        # Tests run by themselves in the editor, and with `gloam canvas test demo`.
        b.test("the square of 12 is 144",
               b.expect(b.user_call(DOUBLE_SQUARE, 12), 144), pos=(40, 700)),
        b.test("/sum adds its two numbers",
               b.expect(b.call("Test::http_v0", "GET", "/sum/3/4", None), 7), pos=(40, 820)),
    ]


def install_demo(store: Store, data_dir: Path) -> None:
    """The demo canvas, its token and its code: one transaction (a crash during the
    first start leaves no canvas, and the next start installs it again)."""
    create_canvas(store, data_dir, DEMO_CANVAS, first_batch("gloam-demo", demo_toplevels()))
