"""Datastore versions through the editor against a real runtime: the new version's batch and a
reference moved through a just-me flag are what the runtime stores (read back by a second
session), with real key events into the real window.

The model and the keys without a runtime: tests/test_editor_datastore_versions.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from shared_ast import build as b
from shared_ast import wire
from shared_ast.nodes import ECall, EFlag, ELet, EVariable, UserFnRef
from shared_ast.toplevels import Datastore, Handler, Toplevel, UserFunction
from shared_ast.type_ast import STRING, TRecord, TRecordField
from tests.runtime_harness import (
    EditorSession,
    RuntimeProcess,
    create_toplevels,
    http_request,
    running,
)
from tests.test_editor_e2e import Editor

pytestmark = pytest.mark.qt_e2e

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def stored(ed: Editor, rt: RuntimeProcess) -> dict[int, Toplevel]:
    """The canvas as the runtime keeps it: a fresh session's hello (on the editor's loop)."""

    async def read() -> dict[int, Toplevel]:
        async with aiohttp.ClientSession() as http:
            session = await EditorSession.open(http, rt)
            await session.ws.close()
            found = [wire.decode_toplevel(t) for t in session.hello["toplevels"]]
            return {t.tlid: t for t in found}

    return dict(ed.loop.run_until_complete(read()))


def press(ed: Editor, key: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
          ) -> None:
    QTest.keyClick(QApplication.focusWidget() or ed.window, key, mods)


def test_a_new_datastore_version_and_a_just_me_move_reach_the_runtime(
        tmp_path: Path, loop: Any, qtbot: Any) -> None:
    name = TRecord((TRecordField("name", STRING),))
    v0 = b.datastore("Users", name, pos=(600, 40))
    handler = b.http("GET", "/h", b.let("store", b.var("Users_v0"), "hi"), pos=(40, 40))
    with running(tmp_path / "data", ["--lock-window", "3600"]) as runtime:
        create_toplevels(runtime, [v0, handler])
        asyncio.set_event_loop(loop)
        url = f"{runtime.http}/c/demo/h"
        assert http_request("GET", url) == (200, "hi")       # now /h is in use
        ed = Editor(qtbot, loop, runtime, "demo", runtime.token("demo"), "ivy")
        try:
            ed.wait(lambda: ed.session.state == "online", "the session to connect")
            ed.wait(lambda: handler.tlid in ed.controller.state.canvas, "the canvas")
            ed.window.activateWindow()        # keys go to the focus widget, as a person's do
            ed.wait(lambda: QApplication.activeWindow() is ed.window, "the window to be active")
            ed.controller.refresh_locks()
            ed.wait(lambda: handler.tlid in ed.controller.state.locks, "the lock")
            # Ctrl+P to the datastore, Ctrl+Alt+D: Users_v1 with its two conversions.
            press(ed, Qt.Key.Key_P, CTRL)
            QTest.keyClicks(ed.window.palette_.filter, "datastore Users")
            QTest.keyClick(ed.window.palette_.filter, Qt.Key.Key_Return)
            press(ed, Qt.Key.Key_D, CTRL_ALT)
            ed.settle()
            canvas = stored(ed, runtime)
            v1 = next(t for t in canvas.values() if isinstance(t, Datastore) and t.version == 1)
            fns = {f.name: f for f in canvas.values() if isinstance(f, UserFunction)}
            assert v1.migration is not None and v1.migration.from_version == 0
            forward = fns["Users_v1_rollforward"]
            assert v1.migration.rollforward == UserFnRef(forward.fn_id, forward.version)
            assert fns["Users_v1_rollback"].return_type == name
            # /h is in use: Use newest datastore version goes through a flag, just me.
            ed.controller.focus(handler.tlid)
            ed.code.setFocus()
            ed.key(Qt.Key.Key_End)                             # on Users_v0, line 1's end
            press(ed, Qt.Key.Key_K, CTRL)
            QTest.keyClicks(ed.window.palette_.filter, "newest datastore")
            QTest.keyClick(ed.window.palette_.filter, Qt.Key.Key_Return)
            # Done once the replay of /h's stored request agrees (the flag has no condition).
            ed.wait(lambda: "Users_v1" in str(ed.controller.state.canvas[handler.tlid]),
                    "the move, after its replay")
            ed.keys("Flag::justMe")
            ed.key(Qt.Key.Key_Return)
            ed.settle()
            body = stored(ed, runtime)[handler.tlid]
            assert isinstance(body, Handler) and isinstance(body.body, ELet)
            flag = body.body.rhs
            assert isinstance(flag, EFlag) and isinstance(flag.cond, ECall)
            assert flag.cond.fn.qualified == "Flag::justMe_v0"  # type: ignore[attr-defined]
            assert isinstance(flag.old, EVariable) and flag.old.name == "Users_v0"
            assert isinstance(flag.new, EVariable) and flag.new.name == "Users_v1"
            assert http_request("GET", url) == (200, "hi")   # traffic still runs /h
        finally:
            ed.close()
