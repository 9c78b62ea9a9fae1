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
    # A handler with lets: route parameters parsed on the error rail, arithmetic.
    Program("sum", "{Ctrl+N}/sum/:a/:b{Enter}", "/sum/:a/:b", r"""
let x = String::toInt_v1 a
let y = String::toInt_v1 b
x + y
""", keys="let x = toI{Enter}a{Enter}let y = toI{Enter}b{Enter}x + y"),
    # A pipe through a lambda.
    Program("pipe", "{Ctrl+N}/scores{Enter}", "/scores", r"""
let xs = [3, 1, 2]
xs
  |> List::map (\x -> x * 10)
  |> Int::sum
""", keys="let xs = [3, 1, 2]{Tab}xs |> map{Enter}(\\x -> x * 10) |> su{Enter}"),
    # A match on a route parameter.
    Program("match", "{Ctrl+N}/greet/:name{Enter}", "/greet/:name", r"""
match name
  "ada" -> "hi ada"
  _ -> "who?"
""", keys='match name{Enter}"ada" -> "hi ada{Enter}_ -> "who?'),
    # A record, and a field of it.
    Program("record", "{Ctrl+N}/user{Enter}", "/user", r"""
let user = { name: "ada", age: 36 }
user.name
""", keys='let user = { name: "ada", age: 36{Tab}user.name'),
    # An if over a parsed parameter.
    Program("if", "{Ctrl+N}/size/:a{Enter}", "/size/:a", r"""
let n = String::toInt_v1 a
if n > 10
then
  "big"
else
  "small"
""", keys='let n = toI{Enter}a{Enter}if n > 10{Tab}"big{Tab}"small'),
    # A function with typed parameters.
    Program("function", "{Ctrl+Alt+F}area{Tab}w : Int, h : Int{Tab}Int{Enter}",
            "areaw : Int, h : IntInt", r"""
w * h
"""),
    # A worker that handles an event.
    Program("worker", "{Ctrl+Alt+W}emails{Enter}", "emails", r"""
let to = event.to
String::length_v1 to
""", keys="let to = event.to{Enter}String::len{Enter}to"),
    # A cron.
    Program("cron", "{Ctrl+Alt+C}nightly{Tab}3600{Enter}", "nightly3600", r"""
let xs = [1, 2, 3]
List::fold xs 0 (\acc, x -> acc + x)
""", keys="let xs = [1, 2, 3]{Tab}fol{Enter}xs 0 \\acc, x -> acc + x"),
]

CHANGES: list[Change] = [
]
