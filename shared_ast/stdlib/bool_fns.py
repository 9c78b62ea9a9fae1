"""The `Bool` module of the Gloam standard library: logic on Bools.

Besides the functions a program calls (`Bool::and_v0`, `Bool::not_v0`, ...),
this module holds the helpers the other library modules use to describe the
values they were handed or that a lambda returned (`describe`), and to insist
that a lambda's result is a Bool (`expect_bool`), so every module words those
errors the same way.

`Bool::isError_v0` is the one library function that looks at special values:
it is registered with `accepts_special=True`, so the evaluator hands it an
error instead of skipping the call, and it answers whether its argument is an
error. An incomplete argument still makes the call incomplete, and a value on
the error rail keeps travelling: it raises `Escape` with them, as `ctx.apply`
does, so the evaluator treats them exactly as for any other call.
"""

from __future__ import annotations

from typing import Any

from shared_ast.stdlib.registry import CallContext, Escape, LibError, register
from shared_ast.type_ast import BOOL, TVar
from shared_ast.values import ErrorRail, ErrorValue, Incomplete, show, type_name_of

__all__ = ["describe", "expect_bool"]

# ---------------------------------------------------------------- helpers


def describe(v: Any) -> str:
    """A value as an error message shows it: `3 (an Int)`, `"x" (a String)`."""
    name = type_name_of(v)
    article = "an" if name[:1] in "AEIOU" and name != "UUID" else "a"
    return f"{show(v, limit=60)} ({article} {name})"


def expect_bool(v: Any, what: str) -> bool:
    """`v` if it is a Bool, else a `LibError` saying what `what` returned instead.

    `what` names the producer, e.g. "the function passed to List::filter_v2".
    """
    if isinstance(v, bool):
        return v
    raise LibError(f"Expected {what} to return a Bool, but it returned {describe(v)}")


# ---------------------------------------------------------------- functions


@register(
    "Bool",
    "and",
    0,
    [("a", BOOL), ("b", BOOL)],
    BOOL,
    "Returns true when both a and b are true.",
)
def and_v0(ctx: CallContext, a: bool, b: bool) -> bool:
    return a and b


@register(
    "Bool",
    "or",
    0,
    [("a", BOOL), ("b", BOOL)],
    BOOL,
    "Returns true when a or b (or both) are true.",
)
def or_v0(ctx: CallContext, a: bool, b: bool) -> bool:
    return a or b


@register(
    "Bool",
    "xor",
    0,
    [("a", BOOL), ("b", BOOL)],
    BOOL,
    "Returns true when exactly one of a and b is true.",
)
def xor_v0(ctx: CallContext, a: bool, b: bool) -> bool:
    return a != b


@register(
    "Bool",
    "not",
    0,
    [("b", BOOL)],
    BOOL,
    "Returns the inverse of b: true if b is false and false if b is true.",
)
def not_v0(ctx: CallContext, b: bool) -> bool:
    return not b


@register(
    "Bool",
    "isError",
    0,
    [("value", TVar("a"))],
    BOOL,
    "Returns true if value is a runtime error, false for any other complete value.",
    accepts_special=True,
)
def is_error_v0(ctx: CallContext, value: Any) -> bool:
    # An incomplete argument keeps the call incomplete (it may yet become an
    # error or not), and a value on the error rail keeps leaving the handler:
    # both are carried out unchanged, as any other call would.
    if isinstance(value, Incomplete | ErrorRail):
        raise Escape(value)
    return isinstance(value, ErrorValue)
