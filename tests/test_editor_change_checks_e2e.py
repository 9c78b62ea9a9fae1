"""Asking before a change that breaks tests, end to end: a real runtime with stored
requests, the editor's window driven by real key events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from shared_ast import build as b
from shared_ast.nodes import EFlag
from shared_ast.type_ast import INT
from tests.runtime_harness import create_toplevels, http_request, running
from tests.test_editor_e2e import Editor

pytestmark = pytest.mark.qt_e2e


def test_committing_a_flag_that_breaks_a_test_asks_naming_test_state_and_requests(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    fn = b.function("price", [("n", INT)], INT,
                    b.flag("triple", False, b.infix("*", b.var("n"), 2),
                           b.infix("*", b.var("n"), 3)), pos=(600, 40))
    handler = b.http("GET", "/price/:n",
                     b.user_call(fn, b.call("Int::parse_v0", b.var("n"), rail=True)),
                     pos=(40, 40))
    test = b.test("doubles two", b.expect(b.user_call(fn, 2), 4), pos=(40, 400))
    with running(tmp_path / "data") as runtime:
        create_toplevels(runtime, [fn, handler, test])
        asyncio.set_event_loop(loop)          # asyncio.run (inside create_toplevels) unset it
        url = f"{runtime.http}/c/demo/price"
        assert http_request("GET", f"{url}/3") == (200, 6)
        assert http_request("GET", f"{url}/0") == (200, 0)
        ed = Editor(qtbot, loop, runtime, "demo", runtime.token("demo"), "hana")
        try:
            ed.wait(lambda: ed.session.state == "online", "the session to connect")
            ed.wait(lambda: test.tlid in ed.controller.state.canvas, "the canvas")

            def commit_by_keys() -> Any:
                ed.controller.focus(fn.tlid)
                ed.code.setFocus()
                ed.key(Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
                QTest.keyClick(ed.window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
                QTest.keyClicks(ed.window.palette_.filter, "commit feature flag")
                QTest.keyClick(ed.window.palette_.filter, Qt.Key.Key_Return)
                ed.wait(lambda: ed.window.change_dialog is not None
                        and ed.window.change_dialog.isVisible(), "the question")
                return ed.window.change_dialog

            dialog = commit_by_keys()
            items = [dialog.items.item(i).text() for i in range(dialog.items.count())]
            assert items == [
                "test 'doubles two' failed with flag triple new: expected 4, got 6",
                "HTTP GET /price/:n: GET /price/3 answers 200 '6' now, 200 '9' after"], items
            summary = dialog.summary.text()
            assert "1 test(s): 0 pass, 1 fail" in summary
            assert "2 stored request(s) replayed, 1 answer differently" in summary
            QTest.keyClick(dialog, Qt.Key.Key_Escape)                  # Cancel
            assert isinstance(ed.controller.state.canvas[fn.tlid].body, EFlag)
            assert ed.session.pending == 0
            assert http_request("GET", f"{url}/3") == (200, 6)

            dialog = commit_by_keys()
            QTest.keyClick(dialog, Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)  # Go ahead
            assert not isinstance(ed.controller.state.canvas[fn.tlid].body, EFlag)
            ed.settle()
            assert http_request("GET", f"{url}/3") == (200, 9)
        finally:
            ed.close()
