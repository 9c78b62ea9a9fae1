"""The `Float` module of the Gloam standard library: IEEE 754 double arithmetic.

Floats follow IEEE 754, never Python's exceptions: dividing by `0.0` gives
`Infinity`, `-Infinity` or `NaN` as IEEE says, `Float::sqrt_v0` of a negative
number is `NaN`, and `Float::power_v0` overflows to `Infinity`. The functions
that turn a Float into an Int (`ceiling`, `floor`, `round`, `roundDown`,
`roundUp`, `truncate`) cannot represent `NaN` or an infinity, nor a value
beyond the 64-bit range; for those they raise a `LibError`.

`Float::round_v0` rounds halves away from zero (`2.5 -> 3`, `-2.5 -> -3`), as
the system the seed describes does, not to even as Python's `round` does.

The module also provides `expect_float` (checks an element of a
`List<Float>`) and `parse_float`, shared with `String::toFloat_v1`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.registry import INT_MAX, INT_MIN, CallContext, LibError, register
from shared_ast.type_ast import BOOL, FLOAT, INT, STRING, TList, TResult
from shared_ast.values import Variant, error, ok

__all__ = ["expect_float", "parse_float"]

# ---------------------------------------------------------------- helpers


def expect_float(v: Any, what: str) -> float:
    """`v` if it is a Float, else a `LibError` naming `what`."""
    if isinstance(v, float):
        return v
    raise LibError(f"Expected {what} to be a Float, but it was {describe(v)}")


_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_FLOATS = {
    "NaN": math.nan,
    "Infinity": math.inf,
    "+Infinity": math.inf,
    "-Infinity": -math.inf,
}


def parse_float(s: str) -> float | str:
    """The Float that `s` spells, or an error message saying why it is not one.

    Accepted: decimal notation with an optional sign, fraction and exponent
    (`3`, `-0.5`, `.5`, `1e10`, `2.5E-3`), and the words `NaN`, `Infinity`
    and `-Infinity` (how Gloam shows those values). No surrounding spaces, no
    underscores. A number too large for a Float parses as an infinity, as IEEE
    rounding says.
    """
    if s in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[s]
    if not _FLOAT_RE.fullmatch(s):
        return f"Expected a String representing a Float, like \"-1.5\" or \"2e10\", got {s!r}"
    return float(s)


def _to_int(x: float, fn: str, rounding: Callable[[float], float]) -> int:
    """`rounding(x)` as an Int, refusing NaN, the infinities and values beyond 64 bits."""
    if math.isnan(x):
        raise LibError(f"{fn}: cannot convert NaN to an Int; expected a finite Float")
    if math.isinf(x):
        sign = "" if x > 0 else "-"
        raise LibError(f"{fn}: cannot convert {sign}Infinity to an Int; expected a finite Float")
    n = int(rounding(x))
    if n < INT_MIN or n > INT_MAX:
        raise LibError(f"{fn}: {x!r} is outside the range of a 64-bit Int")
    return n


def round_half_away(x: float) -> float:
    """`x` rounded to the nearest integer, halves away from zero (finite `x` only)."""
    r = math.floor(x)
    diff = x - r  # exact for every finite double
    if diff > 0.5 or (diff == 0.5 and x > 0):
        r += 1
    return float(r)


def _sorted_limits(a: float, b: float) -> tuple[float, float]:
    if math.isnan(a) or math.isnan(b):
        raise LibError("Expected the clamp limits to be numbers, but one of them is NaN")
    return (a, b) if a <= b else (b, a)


# ---------------------------------------------------------------- arithmetic


@register(
    "Float", "add", 0, [("a", FLOAT), ("b", FLOAT)], FLOAT,
    "Adds two Floats (IEEE: may give Infinity or NaN).",
)
def add_v0(ctx: CallContext, a: float, b: float) -> float:
    return a + b


@register(
    "Float", "subtract", 0, [("a", FLOAT), ("b", FLOAT)], FLOAT,
    "Subtracts b from a (IEEE: may give Infinity or NaN).",
)
def subtract_v0(ctx: CallContext, a: float, b: float) -> float:
    return a - b


@register(
    "Float", "multiply", 0, [("a", FLOAT), ("b", FLOAT)], FLOAT,
    "Multiplies two Floats (IEEE: may give Infinity or NaN).",
)
def multiply_v0(ctx: CallContext, a: float, b: float) -> float:
    return a * b


@register(
    "Float", "divide", 0, [("a", FLOAT), ("b", FLOAT)], FLOAT,
    "Divides a by b; dividing by zero gives Infinity, -Infinity or NaN as IEEE 754 says.",
)
def divide_v0(ctx: CallContext, a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        # The sign is the product of the signs, including the sign of a zero divisor.
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


@register(
    "Float", "power", 0, [("base", FLOAT), ("exponent", FLOAT)], FLOAT,
    "Raises base to exponent as IEEE pow does: overflow is Infinity, (-8) ^ 0.5 is NaN.",
)
def power_v0(ctx: CallContext, base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd = exponent.is_integer() and exponent % 2 == 1
        return -math.inf if base < 0 and odd else math.inf
    except ValueError:
        # Python refuses two IEEE cases: zero to a negative power (a pole,
        # Infinity), and a negative base to a non-integer power (NaN).
        if base == 0.0 and exponent < 0:
            odd = exponent.is_integer() and exponent % 2 == 1
            return math.copysign(math.inf, base) if odd else math.inf
        return math.nan


@register(
    "Float", "sqrt", 0, [("a", FLOAT)], FLOAT,
    "Returns the square root of a; NaN when a is negative.",
)
def sqrt_v0(ctx: CallContext, a: float) -> float:
    if a < 0 or math.isnan(a):
        return math.nan
    return math.sqrt(a)


@register(
    "Float", "negate", 0, [("a", FLOAT)], FLOAT,
    "Returns the negation of a (-a).",
)
def negate_v0(ctx: CallContext, a: float) -> float:
    return -a


@register(
    "Float", "absoluteValue", 0, [("a", FLOAT)], FLOAT,
    "Returns the absolute value of a.",
)
def absolute_value_v0(ctx: CallContext, a: float) -> float:
    return abs(a)


@register(
    "Float", "sum", 0, [("list", TList(FLOAT))], FLOAT,
    "Adds up a list of Floats from left to right (0.0 for an empty list).",
)
def sum_v0(ctx: CallContext, xs: tuple[Any, ...]) -> float:
    total = 0.0
    for i, x in enumerate(xs):
        total += expect_float(x, f"element {i} of the list")
    return total


@register(
    "Float", "parse", 0, [("s", STRING)], TResult(FLOAT, STRING),
    "Ok of the Float s spells (like -1.5, 2e10, NaN or Infinity), else Error with the reason.",
)
def parse_v0(ctx: CallContext, s: str) -> Variant:
    x = parse_float(s)
    return error(x) if isinstance(x, str) else ok(x)


# ---------------------------------------------------------------- to Int


@register(
    "Float", "ceiling", 0, [("a", FLOAT)], INT,
    "Rounds a up to the nearest Int; an error for NaN, Infinity or a value beyond 64 bits.",
)
def ceiling_v0(ctx: CallContext, a: float) -> int:
    return _to_int(a, "Float::ceiling", math.ceil)


@register(
    "Float", "roundUp", 0, [("a", FLOAT)], INT,
    "Rounds a up to the nearest Int (same as ceiling); an error for NaN or Infinity.",
)
def round_up_v0(ctx: CallContext, a: float) -> int:
    return _to_int(a, "Float::roundUp", math.ceil)


@register(
    "Float", "floor", 0, [("a", FLOAT)], INT,
    "Rounds a down to the nearest Int; an error for NaN, Infinity or a value beyond 64 bits.",
)
def floor_v0(ctx: CallContext, a: float) -> int:
    return _to_int(a, "Float::floor", math.floor)


@register(
    "Float", "roundDown", 0, [("a", FLOAT)], INT,
    "Rounds a down to the nearest Int (same as floor); an error for NaN or Infinity.",
)
def round_down_v0(ctx: CallContext, a: float) -> int:
    return _to_int(a, "Float::roundDown", math.floor)


@register(
    "Float", "round", 0, [("a", FLOAT)], INT,
    "Rounds a to the nearest Int, halves away from zero (2.5 is 3, -2.5 is -3); NaN is an error.",
)
def round_v0(ctx: CallContext, a: float) -> int:
    return _to_int(a, "Float::round", round_half_away)


@register(
    "Float", "truncate", 0, [("a", FLOAT)], INT,
    "Drops the fractional part of a, rounding towards zero; an error for NaN or Infinity.",
)
def truncate_v0(ctx: CallContext, a: float) -> int:
    return _to_int(a, "Float::truncate", math.trunc)


# ---------------------------------------------------------------- comparison


@register(
    "Float", "greaterThan", 0, [("a", FLOAT), ("b", FLOAT)], BOOL,
    "Returns true if a is greater than b (false whenever either is NaN).",
)
def greater_than_v0(ctx: CallContext, a: float, b: float) -> bool:
    return a > b


@register(
    "Float", "greaterThanOrEqualTo", 0, [("a", FLOAT), ("b", FLOAT)], BOOL,
    "Returns true if a is greater than or equal to b (false whenever either is NaN).",
)
def greater_than_or_equal_to_v0(ctx: CallContext, a: float, b: float) -> bool:
    return a >= b


@register(
    "Float", "lessThan", 0, [("a", FLOAT), ("b", FLOAT)], BOOL,
    "Returns true if a is less than b (false whenever either is NaN).",
)
def less_than_v0(ctx: CallContext, a: float, b: float) -> bool:
    return a < b


@register(
    "Float", "lessThanOrEqualTo", 0, [("a", FLOAT), ("b", FLOAT)], BOOL,
    "Returns true if a is less than or equal to b (false whenever either is NaN).",
)
def less_than_or_equal_to_v0(ctx: CallContext, a: float, b: float) -> bool:
    return a <= b


@register(
    "Float", "max", 0, [("a", FLOAT), ("b", FLOAT)], FLOAT,
    "Returns the larger of a and b; NaN if either is NaN.",
)
def max_v0(ctx: CallContext, a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return max(a, b)


@register(
    "Float", "min", 0, [("a", FLOAT), ("b", FLOAT)], FLOAT,
    "Returns the smaller of a and b; NaN if either is NaN.",
)
def min_v0(ctx: CallContext, a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return min(a, b)


@register(
    "Float", "clamp", 0, [("value", FLOAT), ("limitA", FLOAT), ("limitB", FLOAT)], FLOAT,
    "Returns value if it lies between the limits (either order), else the nearer limit.",
)
def clamp_v0(ctx: CallContext, value: float, limit_a: float, limit_b: float) -> float:
    lo, hi = _sorted_limits(limit_a, limit_b)
    if math.isnan(value):
        return value
    return min(max(value, lo), hi)
