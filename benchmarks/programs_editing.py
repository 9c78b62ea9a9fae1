"""The programs and change edits `bench_editing.py` types (issue 12's `editing_keys_ratio`).

Each program is written as its text form, exactly as the editor lays it out;
the benchmark checks the editor shows exactly that after the keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Program:
    name: str
    #: The keys that create the toplevel and fill its header, e.g. "{Ctrl+N}/add/:a/:b{Tab}".
    header: str
    #: The text the header fields hold when done, counted as characters typed.
    header_text: str
    #: The code as the editor shows it (and as it would be written in a text file).
    text: str
    #: The keys for the code; None: the text's characters, line breaks as Enter.
    keys: str | None = None


@dataclass(frozen=True)
class Change:
    name: str
    program: Program
    #: Keys that put the caret where the change starts (not counted).
    place: str
    #: The change's keys.
    keys: str
    #: The code when done.
    result: str
    #: Keys a plain text editor (VS Code defaults) needs for the same change, and how.
    text_editor_keys: int
    text_editor_how: str
    extra: dict[str, Any] = field(default_factory=dict)


# Programs: each as its text form. Keep them realistic: what handlers and functions look like.

PROGRAMS: list[Program] = [
    # A handler with lets, route parameters on the error rail, arithmetic.
    Program("sum", "{Ctrl+N}/sum/:a/:b{Enter}", "/sum/:a/:b", """
let x = String::toInt a
let y = String::toInt b
x + y
""", keys="let x = String::toInt a{Enter}let y = String::toInt b{Tab}x + y"),
    # A pipe with a lambda.
    Program("pipe", "{Ctrl+N}/scores{Enter}", "/scores", """
let xs = [3, 1, 2]
xs
  |> List::map (\\x -> x * 10)
  |> List::sum
""", keys="let xs = [3, 1, 2]{Tab}xs |> List::map (\\x -> x * 10) |> List::sum"),
]

CHANGES: list[Change] = [
]
