"""Editing keys: programs typed from empty as their text form, and change edits (issue 12).

In process, offscreen Qt: a `MainWindow` on an `EditorController(None)` (no
runtime; every edit is still applied through the ops the runtime would get).
Every key is a real key event (`QTest.keyClick`) sent to whichever widget has
the keyboard focus, as a user's keys are: a header field, the code view, the
command palette.

**Programs** (`PROGRAMS`): each is a toplevel written from an empty canvas: the
key that creates it, its header fields, and its code as text. The keys are the
text's characters in order (leading indentation is not typed: the editor, like
a text editor, indents by itself), with `{Key}` for the few keys completion
needs (Enter, Tab). The figure is keys pressed / characters of the text form
(header text + code, indentation excluded, one per line break), goal ≤ 0.8,
and every program must come out exactly: the editor's own text of the
toplevel must equal the text form.

**Change edits** (`CHANGES`): a program typed as above, the caret put in
place (those keys are not counted: a text editor needs them too), then the
edit's keys. Each edit's result is checked, and its key count is compared with
what a plain text editor needs for the same change (VS Code's default keys,
counted by hand for each edit and written next to it): goal, no more keys.
"""

from __future__ import annotations

import os
import re
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import Any

import common
import programs_editing  # the programs and change edits

GOAL_RATIO = 0.8


_SPECIAL = re.compile(r"\{([^{}]+)\}")


def code_keys(text: str) -> str:
    """The keys that type a text form: its characters, no indentation, line breaks as Enter."""
    lines = [line.strip() for line in text.splitlines()]
    return "{Enter}".join(line.replace("{", "{{}") for line in lines)


def split_keys(keys: str) -> list[str]:
    """'ab{Tab}c' → ['a', 'b', '{Tab}', 'c']: one entry per key pressed ('{{}' is a '{')."""
    out: list[str] = []
    i = 0
    while i < len(keys):
        if keys.startswith("{{}", i):
            out.append("{")
            i += 3
            continue
        m = _SPECIAL.match(keys, i)
        if m:
            out.append(m.group(0))
            i = m.end()
        else:
            out.append(keys[i])
            i += 1
    return out


def text_chars(text: str) -> int:
    """Characters of a text form as a text editor counts what is typed: no indentation."""
    lines = [line.strip() for line in text.splitlines()]
    return sum(len(line) for line in lines) + len(lines) - 1


class Driver:
    """A main window with no runtime; keys go to the focused widget."""

    def __init__(self, app: Any) -> None:
        from editor.controller import EditorController
        from editor.widgets.main_window import MainWindow

        self.app = app
        self.controller = EditorController(None)
        self.controller.load([])
        self.window = MainWindow(self.controller)
        self.window.resize(1400, 1000)
        self.window.show()
        self.window.activateWindow()
        self.window.setFocus()
        app.processEvents()
        self.pressed = 0

    def press(self, keys: str) -> None:
        from PySide6.QtGui import QKeySequence
        from PySide6.QtTest import QTest

        for key in split_keys(keys):
            target = self.app.focusWidget() or self.window
            if key.startswith("{") and len(key) > 1:
                seq = QKeySequence.fromString(key[1:-1], QKeySequence.SequenceFormat.PortableText)
                if seq.isEmpty():
                    raise ValueError(f"{key} is not a key Qt knows")
                combo = seq[0]
                QTest.keyClick(target, combo.key(), combo.keyboardModifiers())
            else:
                QTest.keyClicks(target, key)
            self.pressed += 1
            self.app.processEvents()

    def code_text(self, tlid: int) -> str:
        proj = self.controller.state.projection(tlid)
        assert proj is not None
        return "\n".join(line.text.rstrip() for line in proj.lines)

    def unfinished(self, tlid: int) -> list[str]:
        """Text still being typed (a name not yet committed): the tree is not the text's."""
        from shared_ast import traverse
        from shared_ast.nodes import EPartial, ERightPartial

        tl = self.controller.state.canvas[tlid]
        return [n.text for n in traverse.walk(tl) if isinstance(n, EPartial | ERightPartial)]

    def newest(self) -> int:
        return max(self.controller.state.canvas)

    def close(self) -> None:
        self.window.close()


def normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def run_program(app: Any, program: programs_editing.Program) -> dict[str, Any]:
    driver = Driver(app)
    try:
        driver.press(program.header)
        tlid = driver.newest()
        driver.press(program.keys if program.keys is not None else code_keys(program.text))
        got = driver.code_text(tlid)
        left = driver.unfinished(tlid)
        exact = got == normal(program.text) and not left
        if left:
            got += f"\n(still being typed, not committed: {left})"
        chars = text_chars(program.text) + len(program.header_text)
        return {"name": program.name, "keys": driver.pressed, "chars": chars, "exact": exact,
                "got": got, "status": driver.window.status.currentMessage()}
    finally:
        driver.close()


def run_change(app: Any, change: programs_editing.Change) -> dict[str, Any]:
    driver = Driver(app)
    try:
        program = change.program
        driver.press(program.header)
        tlid = driver.newest()
        driver.press(program.keys if program.keys is not None else code_keys(program.text))
        before_ok = driver.code_text(tlid) == normal(program.text)
        driver.press(change.place)
        driver.pressed = 0
        driver.press(change.keys)
        got = driver.code_text(tlid)
        return {"name": change.name, "keys": driver.pressed, "text_keys": change.text_editor_keys,
                "exact": before_ok and got == normal(change.result), "got": got,
                "status": driver.window.status.currentMessage()}
    finally:
        driver.close()


def main(only: list[str] | None = None) -> dict[str, object]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])

    programs = [p for p in programs_editing.PROGRAMS if not only or p.name in only]
    changes = [c for c in programs_editing.CHANGES if not only or c.name in only]
    rows = [run_program(app, p) for p in programs]
    change_rows = [run_change(app, c) for c in changes]
    keys = sum(r["keys"] for r in rows)
    chars = sum(r["chars"] for r in rows)
    for r in rows:
        mark = "exact" if r["exact"] else "NOT EXACT"
        print(f"   program {r['name']:14s} {r['keys']:4d} keys / {r['chars']:4d} chars "
              f"= {r['keys'] / r['chars']:.2f}  {mark}")
        if not r["exact"]:
            print("      got:\n        " + r["got"].replace("\n", "\n        "))
            print(f"      status: {r['status']!r}")
    for r in change_rows:
        ok = r["exact"] and r["keys"] <= r["text_keys"]
        print(f"   change  {r['name']:14s} {r['keys']:3d} keys (text editor {r['text_keys']:3d})"
              f"  {'ok' if ok else 'MISSED'}{'' if r['exact'] else ', NOT EXACT'}")
        if not r["exact"]:
            print("      got:\n        " + r["got"].replace("\n", "\n        "))
            print(f"      status: {r['status']!r}")
    ratio = common.ratio(keys, chars)
    exact = sum(r["exact"] for r in rows)
    changes_ok = sum(r["exact"] and r["keys"] <= r["text_keys"] for r in change_rows)
    figures: dict[str, object] = {
        "editing_programs": len(rows),
        "editing_programs_exact": exact,
        "editing_keys": keys,
        "editing_chars": chars,
        "editing_keys_ratio": ratio,
        "editing_changes": len(change_rows),
        "editing_changes_within_text_keys": changes_ok,
        "editing_change_keys": sum(r["keys"] for r in change_rows),
        "editing_change_text_editor_keys": sum(r["text_keys"] for r in change_rows),
        "editing_changes_target_met": changes_ok == len(change_rows),
        "editing_target_met": bool(ratio <= GOAL_RATIO and exact == len(rows)
                                   and changes_ok == len(change_rows)),
    }
    common.report(
        "editing", figures,
        f"{len(rows)} programs typed as text: {keys} keys for {chars} characters, ratio {ratio} "
        f"(goal ≤ {GOAL_RATIO}), {exact}/{len(rows)} exact; change edits within a text editor's "
        f"keys: {changes_ok}/{len(change_rows)}; "
        + ("met" if figures["editing_target_met"] else "NOT met"),
    )
    return figures


if __name__ == "__main__":
    main(sys.argv[1:] or None)
    os._exit(0)
