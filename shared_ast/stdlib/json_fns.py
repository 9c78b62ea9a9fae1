"""The `Json` module of the Gloam standard library: reading and writing JSON text.

`Json::parse_v0` turns JSON text into Gloam values, typed `?` because the
shape is only known at run time:

    object -> Dict (FrozenDict, keys in document order; a repeated key keeps its last value)
    array  -> List (tuple)
    number -> Int if written without fraction or exponent and within 64 bits,
              otherwise Float (so a huge integer id becomes a Float, not an error)
    string -> String, true/false -> Bool, null -> Null

Invalid JSON is an error that says where (line, column and character
offset). So are the non-standard `NaN` / `Infinity` tokens Python would
accept, and strings holding unpaired surrogates (`"\\ud800"`), which are not
text.

`Json::serialize_v0` writes any data value as compact JSON (no spaces,
non-ASCII characters written as themselves):

    Int, Float, Bool, String, Null -> the JSON scalar (a Float keeps its
              fraction: 1.0 is written "1.0"); NaN and the infinities have no
              JSON form and are an error
    List -> array, Dict/record -> object (in key order)
    Just x -> x, Nothing -> null
    Ok x -> {"Ok": x}, Error e -> {"Error": e}
    a user enum case -> its name as a string if it has no arguments,
              else {"Name": [arg, ...]}
    Char -> string, Date -> "2019-07-28T22:42:36Z", UUID -> its string
    functions and HTTP responses have no JSON form and are an error
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable
from typing import Any

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.date_fns import format_date
from shared_ast.stdlib.registry import INT_MAX, INT_MIN, CallContext, LibError, register
from shared_ast.type_ast import STRING, UNKNOWN, TVar
from shared_ast.values import Char, FrozenDict, Variant
from shared_ast.wire_values import json_problem

__all__ = ["from_json", "to_json"]

#: Deeper documents are refused rather than risking Python's recursion limit.
MAX_DEPTH = 500

# ---------------------------------------------------------------- parsing


def _reject_constant(name: str) -> Any:
    raise LibError(
        f"Invalid JSON: {name} is not a JSON value; expected a number, string,"
        " true, false, null, array or object"
    )


def _parse_int(text: str) -> int | float:
    if len(text.lstrip("-")) > 19:
        return float(text)
    n = int(text)
    return n if INT_MIN <= n <= INT_MAX else float(n)


#: Told (kind, size) of each String, List and Dict a parse builds (`CallContext.will_build`).
Sizes = Callable[[str, int], None]


def _convert(v: Any, depth: int, sizes: Sizes | None) -> Any:
    """Python's JSON decoding (lists, dicts of pairs) to Gloam values."""
    if depth > MAX_DEPTH:
        raise LibError(f"Invalid JSON: nested deeper than {MAX_DEPTH} levels")
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError as e:
            raise LibError(
                "Invalid JSON: a string holds an unpaired surrogate escape (like \\ud800),"
                " which is not text"
            ) from e
        if sizes is not None:
            sizes("String", len(v))
        return v
    if isinstance(v, list):
        if sizes is not None:
            sizes("List", len(v))
        return tuple(_convert(x, depth + 1, sizes) for x in v)
    if isinstance(v, _Pairs):
        if sizes is not None:
            sizes("Dict", len(v.pairs))
        return FrozenDict({_convert(k, depth + 1, sizes): _convert(x, depth + 1, sizes)
                           for k, x in v.pairs})
    return v


class _Pairs:
    """An object as decoded, before conversion (keeps every pair in order)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


def from_json(text: str, sizes: Sizes | None = None) -> Any:
    """The Gloam value of JSON `text`, or a `LibError` saying what is wrong and where.

    `sizes`, if given, is told the kind and size of each String, List and Dict built.
    """
    try:
        raw = json.loads(
            text,
            object_pairs_hook=_Pairs,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as e:
        where = json_problem(text, e)
        raise LibError(f"Invalid JSON at line {where.line}, column {where.column} (character "
                       f"{where.offset}): {where.message}") from e
    except RecursionError as e:
        raise LibError("Invalid JSON: nested too deeply to read") from e
    return _convert(raw, 0, sizes)


# ---------------------------------------------------------------- serializing


def _float_json(x: float) -> float:
    if math.isnan(x) or math.isinf(x):
        shown = "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
        raise LibError(f"Cannot serialize {shown} to JSON: JSON has no such number")
    return x


class _Length:
    """The least length of the JSON text written so far, told to `check` every `EVERY`
    characters: a value may hold one big part many times over, and its text must be
    refused before it is written (or even walked) whole."""

    EVERY = 1 << 16
    __slots__ = ("at", "check", "next")

    def __init__(self, check: Callable[[int], None] | None) -> None:
        self.at = 0
        self.next = self.EVERY
        self.check = check

    def add(self, n: int) -> None:
        self.at += n
        if self.at >= self.next and self.check is not None:
            self.check(self.at)
            self.next = self.at + self.EVERY


def _plain(v: Any, depth: int, length: _Length) -> Any:
    """A Gloam value as plain Python data that `json.dumps` writes as documented above."""
    if depth > MAX_DEPTH:
        raise LibError(
            f"Cannot serialize to JSON: the value is nested deeper than {MAX_DEPTH} levels"
        )
    length.add(len(v) + 2 if isinstance(v, str) else 1)
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return _float_json(v)
    if isinstance(v, tuple):
        return [_plain(x, depth + 1, length) for x in v]
    if isinstance(v, FrozenDict):
        length.add(sum(len(k) + 3 for k in v))  # "key": and a comma
        return {k: _plain(x, depth + 1, length) for k, x in v.items()}
    if isinstance(v, Char):
        return v.text
    if isinstance(v, dt.datetime):
        return format_date(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, Variant):
        if v.type_name is None:
            if v.name == "Just" and len(v.args) == 1:
                return _plain(v.args[0], depth + 1, length)
            if v.name == "Nothing":
                return None
            if v.name in ("Ok", "Error") and len(v.args) == 1:
                return {v.name: _plain(v.args[0], depth + 1, length)}
        if not v.args:
            return v.name
        return {v.name: [_plain(a, depth + 1, length) for a in v.args]}
    raise LibError(f"Cannot serialize {describe(v)} to JSON: it has no JSON form")


def to_json(v: Any, check_length: Callable[[int], None] | None = None) -> str:
    """`v` as compact JSON text, or a `LibError` if some part of it has no JSON form.

    `check_length`, if given, is told how long the text is at least, as it is
    worked out, and may raise to refuse a text that long.
    """
    plain = _plain(v, 0, _Length(check_length))
    return json.dumps(plain, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# ---------------------------------------------------------------- functions


@register(
    "Json", "parse", 0, [("json", STRING)], UNKNOWN,
    "Parses JSON text (objects become Dicts, arrays Lists); an error if it is not JSON.",
)
def parse_v0(ctx: CallContext, text: str) -> Any:
    # What it builds is deep inside the result, where the run's check of a result does
    # not look: each part is asked for (a cap) and spent (the allocation budget) here.
    built = {"String": 0, "List": 0, "Dict": 0}

    def sizes(kind: str, size: int) -> None:
        ctx.will_build(kind, size)
        built[kind] += size

    value = from_json(text, sizes)
    for kind, size in built.items():
        ctx.charge(kind, size)
    return value


@register(
    "Json", "serialize", 0, [("value", TVar("a"))], STRING,
    "Writes value as compact JSON (Just x as x, Nothing as null, Ok x as {\"Ok\": x}).",
)
def serialize_v0(ctx: CallContext, value: Any) -> str:
    return to_json(value, lambda length: ctx.will_build("String", length))
