"""A trace becomes a test, end to end: a real runtime, a real request that read a real
datastore row, the editor's window driven with a real key (Ctrl+Alt+R on the handler),
and the test it makes run by the runtime before and after that row changes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from shared_ast import build as b
from shared_ast import toplevels
from shared_ast.testing import PASSED, Suite
from shared_ast.type_ast import STRING
from tests.runtime_harness import EditorSession, create_toplevels, run, running
from tests.test_editor_e2e import Editor

pytestmark = pytest.mark.qt_e2e

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def _handlers() -> tuple[Any, Any, Any]:
    users = b.datastore("Users", STRING)
    save = b.http("POST", "/users/:id/:name",
                  b.call("DB::set_v1", b.var("name"), b.var("id"), b.var("Users_v0")),
                  pos=(40, 40))
    show = b.http("GET", "/users/:id", b.match(
        b.call("DB::get_v2", b.var("id"), b.var("Users_v0")),
        (b.pctor("Just", b.pvar("name")),
         b.call("Http::response_v0", b.record(id=b.var("id"), name=b.var("name")), 200)),
        (b.pctor("Nothing"), b.call("Http::response_v0", b.str_("no such user"), 404))),
        pos=(40, 400))
    return users, save, show


async def _run_tests(rt: Any, tlid: int) -> dict[str, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        ed = await EditorSession.open(http, rt)
        got = await ed.reply({"type": "run_tests", "tlids": [tlid]})
        await ed.ws.close()
        return got


def test_a_trace_becomes_a_test_with_a_key_and_keeps_passing_when_its_row_changes(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    users, save, show = _handlers()
    with running(tmp_path / "data") as rt:
        never = b.http("GET", "/never", b.str_("never called"), pos=(40, 800))
        create_toplevels(rt, [users, save, show, never])
        asyncio.set_event_loop(loop)   # asyncio.run (inside create_toplevels) unset it
        assert rt.request("POST", "/users/7/Ada")[0] == 200
        assert rt.get("/users/7") == (200, {"id": "7", "name": "Ada"})
        ed = Editor(qtbot, loop, rt, "demo", rt.token("demo"), "tess")
        try:
            ed.wait(lambda: show.tlid in ed.controller.state.canvas, "the canvas")
            ed.controller.focus(show.tlid)
            ed.code.setFocus()
            ed.wait(lambda: bool(ed.controller.traces.get(show.tlid)), "the handler's trace")

            def tests() -> list[toplevels.Test]:
                """The tests made here (the demo canvas has tests of its own)."""
                return [t for t in ed.controller.state.canvas.values()
                        if isinstance(t, toplevels.Test) and t.tlid not in demo_tests]

            demo_tests = {t.tlid for t in ed.controller.state.canvas.values()
                          if isinstance(t, toplevels.Test)}

            ed.key(Qt.Key.Key_R, CTRL_ALT)            # Make a test from this trace
            ed.wait(lambda: bool(tests()), "the test made from the trace")
            (test,) = tests()
            assert test.name == "GET /users/7 answers as traced"
            assert [c.name for c in test.recording] == ["DB::get_v2"]
            assert test.pos.x > show.pos.x and test.pos.y >= show.pos.y  # beside its handler
            assert "it passes" in ed.window.status.currentMessage()
            ed.settle()                                # the runtime has it too

            # The editor's own run of it (no runtime) and the runtime's agree: it passes.
            local = Suite(ed.controller.state.canvas).run(test)
            assert local.status == PASSED, local.summary()
            asyncio.set_event_loop(loop)
            got = run(_run_tests(rt, test.tlid))
            asyncio.set_event_loop(loop)
            assert [(r["name"], r["status"]) for r in got["results"]] == [
                (test.name, PASSED)], got

            # The row it read changes: the handler answers otherwise, the test still passes.
            assert rt.request("POST", "/users/7/Grace")[0] == 200
            assert rt.get("/users/7") == (200, {"id": "7", "name": "Grace"})
            got = run(_run_tests(rt, test.tlid))
            asyncio.set_event_loop(loop)
            assert [r["status"] for r in got["results"]] == [PASSED], got

            # On a handler nobody has called, the same key says what to do instead.
            ed.controller.focus(never.tlid)
            ed.code.setFocus()
            ed.key(Qt.Key.Key_R, CTRL_ALT)
            assert ed.window.status.currentMessage() == (
                "This handler has no trace yet: send it a request, then make a test from "
                "the trace.")
            assert len(tests()) == 1
        finally:
            ed.close()
