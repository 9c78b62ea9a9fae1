"""Tests that run by themselves, between two editors on a real runtime (real websocket,
real key events): a test one editor types is stored by the runtime and runs in the other
editor as soon as it arrives; a function broken by keys in one editor fails the test on
both frames in the other, without anyone pressing anything there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from shared_ast import toplevels
from shared_ast.toplevels import UserFunction
from tests.runtime_harness import RuntimeProcess, running
from tests.test_editor_e2e import Editor, new_canvas

pytestmark = pytest.mark.qt_e2e

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    with running(tmp_path_factory.mktemp("tests-e2e") / "data") as runtime:
        yield runtime


def _status(ed: Editor) -> str:
    test = next((tl for tl in ed.controller.state.canvas.values()
                 if isinstance(tl, toplevels.Test)), None)
    frame = ed.window.canvas.frames.get(test.tlid) if test is not None else None
    button = frame.findChild(QToolButton, "TestStatus") if frame is not None else None
    return button.text() if isinstance(button, QToolButton) else ""


def _count(ed: Editor) -> str:
    fn = next((tl for tl in ed.controller.state.canvas.values()
               if isinstance(tl, UserFunction)), None)
    frame = ed.window.canvas.frames.get(fn.tlid) if fn is not None else None
    button = frame.fields.get("tests") if frame is not None else None
    return button.text() if isinstance(button, QToolButton) and not button.isHidden() else ""


def test_a_test_typed_in_one_editor_runs_in_the_other_and_a_remote_break_fails_it(
        rt: RuntimeProcess, loop: Any, qtbot: Any) -> None:
    token = new_canvas(rt, "tested")
    alice = Editor(qtbot, loop, rt, "tested", token, "alice")
    bob = Editor(qtbot, loop, rt, "tested", token, "bob")
    try:
        alice.wait(lambda: alice.session.state == "online", "alice to connect")
        bob.wait(lambda: bob.session.state == "online", "bob to connect")
        # Alice: a function `total x = x + 1`, typed.
        alice.window.new_actions["function"].trigger()
        fn_tlid = alice.controller.state.caret.tlid
        name = alice.window.canvas.frames[fn_tlid].fields["name"]
        qtbot.keyClicks(name, "total")
        qtbot.keyClick(name, Qt.Key.Key_Return)
        alice.controller.focus(fn_tlid)
        alice.code.setFocus()
        alice.keys("x + 1")
        # Alice: a test of it, typed (Ctrl+Alt+T, its name, Enter, then the check).
        qtbot.keyClick(alice.window, Qt.Key.Key_T, CTRL_ALT)
        test_tlid = alice.controller.state.caret.tlid
        test_name = alice.window.canvas.frames[test_tlid].fields["name"]
        qtbot.keyClicks(test_name, "adds one")
        qtbot.keyClick(test_name, Qt.Key.Key_Return)
        alice.keys("total 2")
        alice.key(Qt.Key.Key_Tab)
        alice.keys("3")
        alice.settle()
        alice.wait(lambda: _status(alice) == "✓ passed", "the test to pass at alice's")
        # Bob pressed nothing: the test arrived, ran, and passed there too.
        bob.wait(lambda: _status(bob) == "✓ passed", "the test to pass at bob's")
        bob.wait(lambda: _count(bob) == "tests 1 ✓", "the count on bob's function")
        stored = bob.controller.state.canvas[test_tlid]
        assert isinstance(stored, toplevels.Test) and stored.name == "adds one"
        # Bob breaks the function by keys; alice sees the failure on both frames.
        bob.controller.focus(fn_tlid)
        bob.code.setFocus()
        bob.key(Qt.Key.Key_End)
        bob.key(Qt.Key.Key_Backspace)
        bob.keys("5")
        bob.settle()
        alice.wait(lambda: _status(alice) == "✗ failed: expected 3, got 7",
                   "bob's break to fail the test at alice's")
        alice.wait(lambda: _count(alice) == "tests 0 ✓ 1 ✗", "the count at alice's")
    finally:
        alice.close()
        bob.close()
