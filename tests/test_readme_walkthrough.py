"""The README's walkthrough ("Your first live handler"), followed word for word.

Each step below quotes the README's own words for it, and the test first
checks that the README still says exactly that, in this order; then it does
what those words say with real key events on the real main window, against a
real runtime, and checks what the README promises (the answers of real HTTP
requests). So the walkthrough cannot drift from what the editor does: changing
either one without the other fails here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from shared_ast.nodes import EFlag
from tests.runtime_harness import ROOT, RuntimeProcess, running
from tests.test_editor_e2e import Editor, get

pytestmark = pytest.mark.qt_e2e

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def walkthrough() -> str:
    """The walkthrough section of the README, with its line breaks and list marks as spaces."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your first live handler", 1)[1].split("\n## ", 1)[0]
    return re.sub(r"\s+", " ", section)


def says(quotes: list[str]) -> None:
    """The README says each quote, in this order."""
    text, at = walkthrough(), 0
    for quote in quotes:
        found = text.find(quote, at)
        assert found >= 0, f"the README's walkthrough no longer says {quote!r} (after {at})"
        at = found + len(quote)


#: (what the README says, what the test does for it)
Step = tuple[str, Callable[[Editor], None]]


def focused(ed: Editor) -> Any:
    return QApplication.focusWidget()


def press(ed: Editor, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
          ) -> None:
    ed.qtbot.keyClick(focused(ed), key, modifiers)


def type_(ed: Editor, text: str) -> None:
    ed.qtbot.keyClicks(focused(ed), text)


def test_the_readme_walkthrough_word_for_word(tmp_path: Path, loop: Any, qtbot: Any) -> None:
    # The runtime's defaults, as `make run` starts it: locking on (7 days), the demo canvas.
    with running(tmp_path / "data", ["--lock-window", str(7 * 24 * 3600)]) as rt:
        walk(rt, Editor(qtbot, loop, rt, "demo", rt.token("demo"), "reader"))


def walk(rt: RuntimeProcess, ed: Editor) -> None:
    ed.window.activateWindow()
    try:
        ed.wait(lambda: ed.session.state == "online", "the session to connect")

        def route_selected(ed: Editor) -> None:
            field = focused(ed)
            assert field.objectName() == "Header_route", field
            assert field.selectedText() == "/new"

        def in_code(ed: Editor) -> None:
            assert focused(ed) is ed.code
            tlid = ed.controller.state.caret.tlid
            assert ed.controller.state.canvas[tlid].spec.route == "/add/:a/:b"

        def completion_listed(ed: Editor) -> None:
            assert ed.window.popup.isVisible()
            assert ed.window.popup.labels()[0] == "String::toInt_v1"

        def on_rail(ed: Editor) -> None:
            assert ed.controller.state.projection().text.startswith("let x = String::toInt_v1")
            assert 0 in ed.code.gutter.rails, "no rail mark in the gutter on the first line"

        def code_is(text: str) -> Callable[[Editor], None]:
            return lambda ed: _code(ed, text)

        def answers(path: str, value: object) -> Callable[[Editor], None]:
            def check(ed: Editor) -> None:
                ed.settle()
                assert get(rt, "demo", path) == (200, value)
            return check

        def locked(ed: Editor) -> None:
            tlid = ed.controller.state.caret.tlid
            asked = [0.0]

            def has_lock() -> bool:  # the traffic's use reaches the runtime's locks in a moment
                if time.monotonic() - asked[0] > 0.5:
                    asked[0] = time.monotonic()
                    ed.controller.refresh_locks()
                return tlid in ed.controller.state.locks

            ed.wait(has_lock, "the lock")
            badge = ed.window.canvas.frames[tlid].fields.get("lock")
            assert badge is not None and badge.isVisible(), "no lock shown in the frame's header"

        def flagged(ed: Editor) -> None:
            body = ed.controller.state.toplevel.body  # type: ignore[union-attr]
            assert isinstance(body, EFlag) or any(
                isinstance(n, EFlag) for n in _nodes(body)), ed.controller.state.projection().text

        def unflagged(ed: Editor) -> None:
            body = ed.controller.state.toplevel.body  # type: ignore[union-attr]
            assert not any(isinstance(n, EFlag) for n in _nodes(body))

        steps: list[Step] = [
            ("Press **Ctrl+N**", lambda ed: press(ed, Qt.Key.Key_N, CTRL)),
            ("its route field has the keyboard, with `/new` selected", route_selected),
            ("type `/add/:a/:b` over it, then Enter", lambda ed: (
                type_(ed, "/add/:a/:b"), press(ed, Qt.Key.Key_Return))),
            ("the caret is in the body's hole (`___`)", in_code),
            ("`let x = toI`, then Enter", lambda ed: (
                type_(ed, "let x = toI"), completion_listed(ed), press(ed, Qt.Key.Key_Return))),
            ("`toI` finds `String::toInt_v1`",
             lambda ed: _code(ed, "let x = String::toInt_v1 ___\n___")),
            ("The call goes on the error rail (the orange mark in the gutter", on_rail),
            ("`a`, then Enter", lambda ed: (type_(ed, "a"), press(ed, Qt.Key.Key_Return))),
            ("the caret is on the blank line below", code_is(
                "let x = String::toInt_v1 a\n___")),
            ("`let y = toI`, Enter, `b`, Enter", lambda ed: (
                type_(ed, "let y = toI"), press(ed, Qt.Key.Key_Return), type_(ed, "b"),
                press(ed, Qt.Key.Key_Return))),
            ("`x + y * 1`", lambda ed: type_(ed, "x + y * 1")),
            ("so it is `x + (y * 1)`", code_is(
                "let x = String::toInt_v1 a\nlet y = String::toInt_v1 b\nx + y * 1")),
            ("`curl http://demo.localhost:8470/add/3/4` answers `7`", answers("/add/3/4", 7)),
            ("its frame shows a lock", locked),
            ("With the caret on the `1` (Ctrl+End)", lambda ed: press(ed, Qt.Key.Key_End, CTRL)),
            ("press Ctrl+Shift+F (*Wrap in feature flag*)",
             lambda ed: press(ed, Qt.Key.Key_F, CTRL | SHIFT)),
            ("type `true` as its condition", lambda ed: (type_(ed, "true"), flagged(ed))),
            ("Ctrl+End and Left put the caret after the new branch's `1`",
             lambda ed: (press(ed, Qt.Key.Key_End, CTRL), press(ed, Qt.Key.Key_Left))),
            ("Backspace, `10`", lambda ed: (press(ed, Qt.Key.Key_Backspace), type_(ed, "10"))),
            ("the next request answers `43`", answers("/add/3/4", 43)),
            ("Ctrl+U there", lambda ed: press(ed, Qt.Key.Key_U, CTRL)),
            ("commits the flag: the new code stays, the flag goes", lambda ed: (
                unflagged(ed), _code(ed, "let x = String::toInt_v1 a\nlet y = String::toInt_v1 b"
                                         "\nx + y * 10"), answers("/add/3/4", 43)(ed))),
        ]
        says([quote for quote, _ in steps])
        for _quote, act in steps:
            act(ed)
    finally:
        ed.close()


def _code(ed: Editor, text: str) -> None:
    shown = ed.controller.state.projection().text
    assert shown == text, f"the code reads {shown!r}, not {text!r}"


def _nodes(e: Any) -> list[Any]:
    from shared_ast import traverse

    return list(traverse.walk(e))
