"""The `String` module of the Gloam standard library: Unicode text.

Strings are Unicode, and every position, length and count in this module is
in *characters as a person sees them*: extended grapheme clusters (Unicode
UAX #29), found with the `regex` module's `\\X`. So `"é"` written as `e` plus
a combining accent has length 1, a flag `"🇵🇹"` has length 1, and the family
`"👨‍👩‍👧"` (three people joined by zero-width joiners) has length 1.
A `Char` is one such cluster; `String::toList_v1` yields them.

Choices worth knowing:

- `String::base64Encode_v0` writes the URL-safe alphabet (`-` and `_`) with
  `=` padding; `String::base64Decode_v0` reads either alphabet, with or
  without padding, and the decoded bytes must be UTF-8 text.
- `String::sha256_v0`, `String::sha384_v0` and `String::digest_v0` return the
  digest as URL-safe base64 *without* padding (`digest_v0` is SHA-384), as the
  system the seed describes does; not hex.
- Negative counts (`first`, `last`, `dropFirst`, `dropLast`) count as zero.
  `String::slice_v0` takes Python-style indices: negative ones count from the
  end, and out-of-range ones are clamped.
- `String::prepend_v0(s, prefix)` puts `prefix` in front of `s`, so that
  `"world" |> String::prepend_v0 "hello "` reads as it runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from typing import Any

import regex  # type: ignore[import-untyped]

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.float_fns import parse_float
from shared_ast.stdlib.int_fns import parse_int
from shared_ast.stdlib.registry import CallContext, Deprecation, LibError, register
from shared_ast.type_ast import (
    BOOL,
    CHAR,
    FLOAT,
    INT,
    STRING,
    UUID,
    TFn,
    TList,
    TResult,
)
from shared_ast.values import Char, Variant, error, ok

__all__ = ["expect_string", "grapheme_length", "graphemes", "utf8"]

# ---------------------------------------------------------------- helpers

_GRAPHEME = regex.compile(r"\X")


def graphemes(s: str) -> list[str]:
    """The extended grapheme clusters of `s`, in order."""
    # Fast path: in ASCII only CR LF forms a cluster of two code points.
    if s.isascii() and "\r\n" not in s:
        return list(s)
    found: list[str] = _GRAPHEME.findall(s)
    return found


def grapheme_length(s: str) -> int:
    """How many characters a person sees in `s`."""
    if s.isascii() and "\r\n" not in s:
        return len(s)
    return len(graphemes(s))


def expect_string(v: Any, what: str) -> str:
    """`v` if it is a String, else a `LibError` naming `what`."""
    if isinstance(v, str):
        return v
    raise LibError(f"Expected {what} to be a String, but it was {describe(v)}")


#: The longest String `padStart` / `padEnd` will build, in characters.
MAX_PADDED_LENGTH = 1_000_000


def _padding(s: str, pad: str, goal_length: int) -> str:
    """The run of `pad` that brings `s` to `goal_length` characters ("" if it is long enough)."""
    _one_grapheme(pad, "padWith")
    if goal_length > MAX_PADDED_LENGTH:
        raise LibError(
            f"Expected goalLength to be at most {MAX_PADDED_LENGTH}, but it was {goal_length}"
        )
    missing = goal_length - grapheme_length(s)
    return pad * missing if missing > 0 else ""


def _one_grapheme(pad: str, param: str) -> str:
    if grapheme_length(pad) != 1:
        raise LibError(
            f"Expected {param} to be exactly one character, but it was {pad!r}"
            f" ({grapheme_length(pad)} characters)"
        )
    return pad


def utf8(s: str) -> bytes:
    """The UTF-8 bytes of `s`; a `LibError` if it holds a lone surrogate (not text)."""
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise LibError(
            f"The String holds an unpaired surrogate at index {e.start}, which is not"
            " valid Unicode text; expected text that can be written as UTF-8"
        ) from e


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


_BASE64_RE = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")

# ---------------------------------------------------------------- building


@register(
    "String", "append", 1, [("s1", STRING), ("s2", STRING)], STRING,
    "Returns s1 followed by s2.",
)
def append_v1(ctx: CallContext, s1: str, s2: str) -> str:
    ctx.will_build("String", len(s1) + len(s2))
    return s1 + s2


@register(
    "String", "prepend", 0, [("s", STRING), ("prefix", STRING)], STRING,
    "Returns prefix followed by s (so \"world\" |> prepend \"hello \" is \"hello world\").",
)
def prepend_v0(ctx: CallContext, s: str, prefix: str) -> str:
    ctx.will_build("String", len(s) + len(prefix))
    return prefix + s


@register(
    "String", "join", 0, [("list", TList(STRING)), ("separator", STRING)], STRING,
    "Joins a list of Strings into one, with separator between each pair.",
)
def join_v0(ctx: CallContext, xs: tuple[Any, ...], separator: str) -> str:
    # The Strings may be one String many times over: ask before building one that long.
    ctx.will_build("String", sum(len(x) for x in xs if type(x) is str)
                   + len(separator) * max(len(xs) - 1, 0))
    return separator.join(expect_string(x, f"element {i} of the list") for i, x in enumerate(xs))


@register("String", "newline", 0, [], STRING, "Returns a String holding a newline character.")
def newline_v0(ctx: CallContext) -> str:
    return "\n"


@register(
    "String", "fromChar", 1, [("c", CHAR)], STRING,
    "Returns a String holding the one character c.",
)
def from_char_v1(ctx: CallContext, c: Char) -> str:
    return c.text


@register(
    "String", "fromList", 1, [("chars", TList(CHAR))], STRING,
    "Joins a list of Chars into a String.",
)
def from_list_v1(ctx: CallContext, chars: tuple[Any, ...]) -> str:
    out = []
    for i, c in enumerate(chars):
        if not isinstance(c, Char):
            raise LibError(
                f"Expected element {i} of the list to be a Char, but it was {describe(c)}"
            )
        out.append(c.text)
    return "".join(out)


@register(
    "String", "padStart", 0,
    [("s", STRING), ("padWith", STRING), ("goalLength", INT)], STRING,
    "Pads s on the left with the one-character padWith until it is goalLength characters long.",
)
def pad_start_v0(ctx: CallContext, s: str, pad_with: str, goal_length: int) -> str:
    return _padding(s, pad_with, goal_length) + s


@register(
    "String", "padEnd", 0,
    [("s", STRING), ("padWith", STRING), ("goalLength", INT)], STRING,
    "Pads s on the right with the one-character padWith until it is goalLength characters long.",
)
def pad_end_v0(ctx: CallContext, s: str, pad_with: str, goal_length: int) -> str:
    return s + _padding(s, pad_with, goal_length)


# ---------------------------------------------------------------- characters


@register(
    "String", "length", 1, [("s", STRING)], INT,
    "Returns the number of characters (extended grapheme clusters) in s.",
)
def length_v1(ctx: CallContext, s: str) -> int:
    return grapheme_length(s)


@register("String", "isEmpty", 0, [("s", STRING)], BOOL, "Returns true if s is the empty String.")
def is_empty_v0(ctx: CallContext, s: str) -> bool:
    return s == ""


@register(
    "String", "toList", 1, [("s", STRING)], TList(CHAR),
    "Returns the characters (extended grapheme clusters) of s as a list of Chars.",
)
def to_list_v1(ctx: CallContext, s: str) -> tuple[Char, ...]:
    _will_split(ctx, s)
    return tuple(Char(g) for g in graphemes(s))


@register(
    "String", "foreach", 1, [("s", STRING), ("fn", TFn((CHAR,), CHAR))], STRING,
    "Calls fn on each character of s and joins the Chars it returns into a new String.",
)
def foreach_v1(ctx: CallContext, s: str, fn: Any) -> str:
    out = []
    for g in graphemes(s):
        c = ctx.apply(fn, (Char(g),))
        if not isinstance(c, Char):
            raise LibError(
                f"Expected the function passed to String::foreach_v1 to return a Char,"
                f" but it returned {describe(c)}"
            )
        out.append(c.text)
    return "".join(out)


@register(
    "String", "reverse", 0, [("s", STRING)], STRING,
    "Reverses s character by character (a flag or an accented letter stays whole).",
)
def reverse_v0(ctx: CallContext, s: str) -> str:
    return "".join(reversed(graphemes(s)))


@register(
    "String", "first", 0, [("s", STRING), ("count", INT)], STRING,
    "Returns the first count characters of s (all of s if shorter; none if count < 1).",
)
def first_v0(ctx: CallContext, s: str, count: int) -> str:
    return "".join(graphemes(s)[: max(count, 0)])


@register(
    "String", "last", 0, [("s", STRING), ("count", INT)], STRING,
    "Returns the last count characters of s (all of s if shorter; none if count < 1).",
)
def last_v0(ctx: CallContext, s: str, count: int) -> str:
    if count <= 0:
        return ""
    return "".join(graphemes(s)[-count:])


@register(
    "String", "dropFirst", 0, [("s", STRING), ("count", INT)], STRING,
    "Returns s without its first count characters (s itself if count < 1).",
)
def drop_first_v0(ctx: CallContext, s: str, count: int) -> str:
    return "".join(graphemes(s)[max(count, 0) :])


@register(
    "String", "dropLast", 0, [("s", STRING), ("count", INT)], STRING,
    "Returns s without its last count characters (s itself if count < 1).",
)
def drop_last_v0(ctx: CallContext, s: str, count: int) -> str:
    if count <= 0:
        return s
    return "".join(graphemes(s)[:-count])


@register(
    "String", "slice", 0, [("s", STRING), ("from", INT), ("to", INT)], STRING,
    "Returns the characters of s from index from up to (but not) to; negatives count from the end.",
)
def slice_v0(ctx: CallContext, s: str, start: int, stop: int) -> str:
    return "".join(graphemes(s)[start:stop])


# ---------------------------------------------------------------- searching


@register(
    "String", "contains", 0, [("lookingIn", STRING), ("searchingFor", STRING)], BOOL,
    "Returns true if searchingFor occurs in lookingIn (the empty String occurs everywhere).",
)
def contains_v0(ctx: CallContext, looking_in: str, searching_for: str) -> bool:
    return searching_for in looking_in


@register(
    "String", "isSubstring", 1, [("lookingIn", STRING), ("searchingFor", STRING)], BOOL,
    "Returns true if searchingFor occurs in lookingIn.",
    deprecated=Deprecation(reason="Renamed: use String::contains_v0, which does the same."),
)
def is_substring_v1(ctx: CallContext, looking_in: str, searching_for: str) -> bool:
    return searching_for in looking_in


@register(
    "String", "startsWith", 0, [("s", STRING), ("prefix", STRING)], BOOL,
    "Returns true if s starts with prefix.",
)
def starts_with_v0(ctx: CallContext, s: str, prefix: str) -> bool:
    return s.startswith(prefix)


@register(
    "String", "endsWith", 0, [("s", STRING), ("suffix", STRING)], BOOL,
    "Returns true if s ends with suffix.",
)
def ends_with_v0(ctx: CallContext, s: str, suffix: str) -> bool:
    return s.endswith(suffix)


@register(
    "String", "replaceAll", 0,
    [("s", STRING), ("searchFor", STRING), ("replaceWith", STRING)], STRING,
    "Replaces every occurrence of searchFor in s with replaceWith; searchFor must not be empty.",
)
def replace_all_v0(ctx: CallContext, s: str, search_for: str, replace_with: str) -> str:
    if search_for == "":
        raise LibError("Expected searchFor to be a non-empty String, but it was empty")
    if len(replace_with) > len(search_for):  # the only way it can grow, maybe manyfold
        ctx.will_build("String", len(s) + s.count(search_for)
                       * (len(replace_with) - len(search_for)))
    return s.replace(search_for, replace_with)


@register(
    "String", "split", 1, [("s", STRING), ("separator", STRING)], TList(STRING),
    "Splits s at each separator; an empty separator splits s into its characters.",
)
def split_v1(ctx: CallContext, s: str, separator: str) -> tuple[str, ...]:
    # Ask before making a String into more pieces than a list may hold (each piece costs
    # far more memory than its characters did).
    if separator == "":
        _will_split(ctx, s)
        return tuple(graphemes(s))
    ctx.will_build("List", s.count(separator) + 1)
    return tuple(s.split(separator))


def _will_split(ctx: CallContext, s: str) -> None:
    """Ask before making `s` a list of its characters (known without splitting in ASCII)."""
    if s.isascii():
        ctx.will_build("List", len(s) - s.count("\r\n"))


# ---------------------------------------------------------------- case and space


@register(
    "String", "toLowercase", 1, [("s", STRING)], STRING,
    "Returns s with every letter in lower case (Unicode rules).",
)
def to_lowercase_v1(ctx: CallContext, s: str) -> str:
    return s.lower()


@register(
    "String", "toUppercase", 1, [("s", STRING)], STRING,
    "Returns s with every letter in upper case (Unicode rules: \"ß\" becomes \"SS\").",
)
def to_uppercase_v1(ctx: CallContext, s: str) -> str:
    return s.upper()


@register(
    "String", "trim", 0, [("s", STRING)], STRING,
    "Removes whitespace (Unicode) from both ends of s.",
)
def trim_v0(ctx: CallContext, s: str) -> str:
    return s.strip()


@register(
    "String", "trimStart", 0, [("s", STRING)], STRING,
    "Removes whitespace (Unicode) from the start of s.",
)
def trim_start_v0(ctx: CallContext, s: str) -> str:
    return s.lstrip()


@register(
    "String", "trimEnd", 0, [("s", STRING)], STRING,
    "Removes whitespace (Unicode) from the end of s.",
)
def trim_end_v0(ctx: CallContext, s: str) -> str:
    return s.rstrip()


_NOT_SLUG = regex.compile(r"[^\p{L}\p{M}\p{N}]+")


@register(
    "String", "slugify", 2, [("s", STRING)], STRING,
    "Turns s into a URL slug: lowercase letters and digits, other runs become one hyphen.",
)
def slugify_v2(ctx: CallContext, s: str) -> str:
    slug: str = _NOT_SLUG.sub("-", s.lower())
    return slug.strip("-")


_HTML_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "/": "&#x2F;",
}
_HTML_RE = re.compile("[&<>\"'/]")


@register(
    "String", "htmlEscape", 0, [("html", STRING)], STRING,
    "Escapes & < > \" ' and / as HTML entities, so html can be shown as text in a page.",
)
def html_escape_v0(ctx: CallContext, html: str) -> str:
    return _HTML_RE.sub(lambda m: _HTML_ESCAPES[m.group(0)], html)


# ---------------------------------------------------------------- conversion


@register(
    "String", "toInt", 1, [("s", STRING)], TResult(INT, STRING),
    "Ok of the Int s spells (optional sign, then digits), else Error with the reason.",
)
def to_int_v1(ctx: CallContext, s: str) -> Variant:
    n = parse_int(s)
    return error(n) if isinstance(n, str) else ok(n)


@register(
    "String", "toFloat", 1, [("s", STRING)], TResult(FLOAT, STRING),
    "Ok of the Float s spells (like -1.5, 2e10, NaN or Infinity), else Error with the reason.",
)
def to_float_v1(ctx: CallContext, s: str) -> Variant:
    x = parse_float(s)
    return error(x) if isinstance(x, str) else ok(x)


@register(
    "String", "toUUID", 1, [("s", STRING)], TResult(UUID, STRING),
    "Ok of the UUID s spells (like 3e8a1f1c-8c3b-4bb5-9f54-0a3b6a1f2c7d), else Error.",
)
def to_uuid_v1(ctx: CallContext, s: str) -> Variant:
    try:
        return ok(uuid.UUID(s))
    except ValueError:
        return error(
            f"Expected a String representing a UUID, like"
            f" \"3e8a1f1c-8c3b-4bb5-9f54-0a3b6a1f2c7d\", got {s[:60]!r}"
        )


# ---------------------------------------------------------------- encodings


@register(
    "String", "base64Encode", 0, [("s", STRING)], STRING,
    "Encodes the UTF-8 bytes of s as URL-safe base64 (alphabet with - and _), padded with =.",
)
def base64_encode_v0(ctx: CallContext, s: str) -> str:
    return base64.urlsafe_b64encode(utf8(s)).decode("ascii")


@register(
    "String", "base64Decode", 0, [("s", STRING)], STRING,
    "Decodes standard or URL-safe base64 (padding optional) to text; invalid input is an error.",
)
def base64_decode_v0(ctx: CallContext, s: str) -> str:
    if not _BASE64_RE.fullmatch(s) or len(s.rstrip("=")) % 4 == 1:
        raise LibError(f"Expected a base64-encoded String, but {s[:60]!r} is not valid base64")
    body = s.rstrip("=").replace("-", "+").replace("_", "/")
    body += "=" * (-len(body) % 4)
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as e:
        raise LibError(
            f"Expected a base64-encoded String, but {s[:60]!r} is not valid base64"
        ) from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LibError(
            "The base64 decoded to bytes that are not UTF-8 text; expected encoded text"
        ) from e


@register(
    "String", "digest", 0, [("s", STRING)], STRING,
    "Hashes s to a secure digest (currently SHA-384, as unpadded URL-safe base64).",
)
def digest_v0(ctx: CallContext, s: str) -> str:
    return _b64url(hashlib.sha384(utf8(s)).digest())


@register(
    "String", "sha256", 0, [("s", STRING)], STRING,
    "Hashes the UTF-8 bytes of s with SHA-256; returns the digest as unpadded URL-safe base64.",
)
def sha256_v0(ctx: CallContext, s: str) -> str:
    return _b64url(hashlib.sha256(utf8(s)).digest())


@register(
    "String", "sha384", 0, [("s", STRING)], STRING,
    "Hashes the UTF-8 bytes of s with SHA-384; returns the digest as unpadded URL-safe base64.",
)
def sha384_v0(ctx: CallContext, s: str) -> str:
    return _b64url(hashlib.sha384(utf8(s)).digest())
