"""The programs and change edits `bench_editing.py` types (issue 12's `editing_keys_ratio`).

Each program is written as its text form, exactly as the editor lays it out;
the benchmark checks the editor shows exactly that after the keys, with nothing
left uncommitted. A program that ends on a name ends with Tab: a name being
typed stays a draft (with its completions open) until a key commits it.
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
""", keys="let x = toI{Enter}a{Enter}let y = toI{Enter}b{Enter}x + y{Tab}"),
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
""", keys="w * h{Tab}"),
    # A worker that handles an event.
    Program("worker", "{Ctrl+Alt+W}emails{Enter}", "emails", r"""
let to = event.to
String::length_v1 to
""", keys="let to = event.to{Enter}String::len{Enter}to{Tab}"),
    # A cron.
    Program("cron", "{Ctrl+Alt+C}nightly{Tab}3600{Enter}", "nightly3600", r"""
let xs = [1, 2, 3]
List::fold xs 0 (\acc, x -> acc + x)
""", keys="let xs = [1, 2, 3]{Tab}fol{Enter}xs 0 \\acc, x -> acc + x{Tab}"),
]

_SUM, _IF = PROGRAMS[0], PROGRAMS[4]

CHANGES: list[Change] = [
    Change("wrap in if", _SUM, "{Ctrl+End}{Home}", "{Shift+Up}{Shift+Up}{Ctrl+I}x > 0{Tab}{Tab}0",
           """
let x = String::toInt_v1 a
let y = String::toInt_v1 b
if x > 0
then
  x + y
else
  0
""", 25, "at the start of `x + y`: `if x > 0` (8), Enter, `then` (4), Enter, Tab, End, Enter, "
           "Shift+Tab, `else` (4), Enter, Tab, `0`"),
    Change("unwrap", _IF, "{Ctrl+End}{Up}{Up}", "{Ctrl+U}", """
let n = String::toInt_v1 a
"big"
""", 6, "on the `if` line: Ctrl+Shift+K twice (if, then), Shift+Tab on `\"big\"`, Down, "
           "Ctrl+Shift+K twice (else, \"small\")"),
    Change("move a let", _SUM, "{Ctrl+Home}{Down}", "{Alt+Up}", """
let y = String::toInt_v1 b
let x = String::toInt_v1 a
x + y
""", 1, "on the line: Alt+Up (VS Code's move line up)"),
    Change("regroup", _SUM, "{Ctrl+End}{Home}", "{Shift+Up}{Shift+Up}* 2", """
let x = String::toInt_v1 a
let y = String::toInt_v1 b
(x + y) * 2
""", 7, "at the start of `x + y`: `(`, End, `) * 2` (5)"),
    Change("rename", _SUM, "{Ctrl+Home}{Right}{Right}{Right}{Right}", "{F2}total{Enter}", """
let total = String::toInt_v1 a
let y = String::toInt_v1 b
total + y
""", 7, "on `x`: F2 (rename symbol), `total` (5), Enter"),
    Change("commit a flag", _SUM,
           "{Ctrl+End}{Home}{Shift+Up}{Shift+Up}{Ctrl+Shift+F}{Ctrl+End} * 2", "{Ctrl+U}", """
let x = String::toInt_v1 a
let y = String::toInt_v1 b
x + y * 2
""", 6, "on the `flag` line: Ctrl+Shift+K twice (flag, old), then on `new x + y * 2`: Home, "
           "Ctrl+Delete (`new`), Delete (the space), Ctrl+[ (outdent)"),
]
