"""The keymap: keys to command names, read from `assets/keymap.json`.

Bindings are data. `code` bindings apply while a code view has focus; `window`
bindings anywhere in the main window. `check` refuses a keymap whose binding
names a command that does not exist, so a typo is caught by a test, not by a
user pressing a dead key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import attrs
from PySide6.QtCore import QKeyCombination
from PySide6.QtGui import QKeySequence

from editor.widgets.theme import ASSETS_DIR

KEYMAP_PATH = ASSETS_DIR / "keymap.json"
SECTIONS = ("code", "window")


@attrs.frozen
class Keymap:
    code: dict[str, str]
    window: dict[str, str]

    def command_for(self, combination: QKeyCombination, section: str) -> str | None:
        key = QKeySequence(combination).toString(QKeySequence.SequenceFormat.PortableText)
        table: dict[str, str] = getattr(self, section)
        return table.get(key)

    def keys_for(self, command: str) -> list[str]:
        return [k for table in (self.code, self.window) for k, c in table.items() if c == command]


class KeymapError(ValueError):
    pass


def load(path: Path = KEYMAP_PATH) -> Keymap:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise KeymapError(f"cannot read the keymap {path}: {e}") from e
    tables: dict[str, dict[str, str]] = {}
    for section in SECTIONS:
        table = data.get(section, {})
        if not isinstance(table, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
            raise KeymapError(f"{path}: {section!r} must map key names to command names")
        normal: dict[str, str] = {}
        for key, command in table.items():
            seq = QKeySequence.fromString(key, QKeySequence.SequenceFormat.PortableText)
            text = seq.toString(QKeySequence.SequenceFormat.PortableText)
            if seq.isEmpty() or seq.count() != 1 or not text:
                raise KeymapError(f"{path}: {key!r} in {section!r} is not a key Qt knows")
            normal[text] = command
        tables[section] = normal
    return Keymap(tables["code"], tables["window"])


def check(keymap: Keymap, known: Iterable[str]) -> list[str]:
    """Every binding that names no known command, as messages."""
    names = set(known)
    return [f"{section} binding {key!r} names {command!r}, which is not a command"
            for section in SECTIONS for key, command in getattr(keymap, section).items()
            if command not in names]
