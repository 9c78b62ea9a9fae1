"""The `Int` module of the Gloam standard library: arithmetic on 64-bit Ints.

Ints are 64-bit signed integers, as in the system the seed describes. Python's
ints are unbounded, so every result that can leave the range goes through
`int64`, which turns an overflow into a `LibError` rather than a silently
wrapped or oversized number. `Int::power_v0` checks the size of the result
*before* computing it, so `2 ^ 1000000000` is refused at once instead of
allocating a huge number.

Division follows the system the seed describes:

- `Int::divide_v0` is floor division (rounds towards negative infinity, so
  `-7 / 2 == -4`); dividing by zero is an error.
- `Int::mod_v0` wraps into `0 <= result < b`; the modulus must be positive.
- `Int::remainder_v0` returns a `Result`: `Ok` of the remainder with the sign
  of the dividend (`-7 rem 2 == -1`), or `Error` when dividing by zero.

The module also provides `expect_int`, used by other modules to check the
elements of a `List<Int>` (the evaluator checks only the shallow shape of
arguments) and the values lambdas return.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.registry import (
    INT_MAX,
    INT_MIN,
    CallContext,
    LibError,
    int64,
    register,
)
from shared_ast.type_ast import BOOL, FLOAT, INT, STRING, TList, TResult
from shared_ast.values import Variant, error, ok

__all__ = ["expect_int", "parse_int"]

# ---------------------------------------------------------------- helpers


def expect_int(v: Any, what: str) -> int:
    """`v` if it is an Int (and not a Bool), else a `LibError` naming `what`."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise LibError(f"Expected {what} to be an Int, but it was {describe(v)}")


_INT_RE = re.compile(r"[+-]?[0-9]+")


def parse_int(s: str) -> int | str:
    """The Int that `s` spells, or an error message saying why it is not one.

    Accepted: an optional sign followed by ASCII digits, nothing else (no
    spaces, no underscores, no decimal point), within the 64-bit range.
    """
    if not _INT_RE.fullmatch(s):
        return f"Expected a String of digits with an optional sign, like \"-42\", got {s!r}"
    # At most 19 significant digits fit in 64 bits: refuse longer ones before
    # converting so that a megabyte of digits costs nothing.
    if len(s.lstrip("+-").lstrip("0")) > 19:
        return f"The number {s[:40]!r} does not fit in a 64-bit Int"
    n = int(s)
    if n < INT_MIN or n > INT_MAX:
        return f"The number {s!r} does not fit in a 64-bit Int"
    return n


def _sorted_limits(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


# ---------------------------------------------------------------- arithmetic


@register(
    "Int", "add", 0, [("a", INT), ("b", INT)], INT,
    "Adds two Ints; an error if the sum does not fit in 64 bits.",
)
def add_v0(ctx: CallContext, a: int, b: int) -> int:
    return int64(a + b)


@register(
    "Int", "subtract", 0, [("a", INT), ("b", INT)], INT,
    "Subtracts b from a; an error if the result does not fit in 64 bits.",
)
def subtract_v0(ctx: CallContext, a: int, b: int) -> int:
    return int64(a - b)


@register(
    "Int", "multiply", 0, [("a", INT), ("b", INT)], INT,
    "Multiplies two Ints; an error if the product does not fit in 64 bits.",
)
def multiply_v0(ctx: CallContext, a: int, b: int) -> int:
    return int64(a * b)


@register(
    "Int", "divide", 0, [("a", INT), ("b", INT)], INT,
    "Divides a by b rounding down (floor division: -7 / 2 is -4); dividing by zero is an error.",
)
def divide_v0(ctx: CallContext, a: int, b: int) -> int:
    if b == 0:
        raise LibError("Division by zero: expected the divisor b to be a non-zero Int")
    return int64(a // b)


@register(
    "Int", "mod", 0, [("a", INT), ("b", INT)], INT,
    "Wraps a into the range 0 <= result < b (-5 mod 3 is 1); b must be positive.",
)
def mod_v0(ctx: CallContext, a: int, b: int) -> int:
    if b == 0:
        raise LibError("Division by zero: expected the modulus b to be a positive Int, got 0")
    if b < 0:
        raise LibError(f"Expected the modulus b to be a positive Int, but it was {b}")
    return a % b


@register(
    "Int", "remainder", 0, [("value", INT), ("divisor", INT)], TResult(INT, STRING),
    "Ok of the remainder of value / divisor, with the sign of value; Error if divisor is 0.",
)
def remainder_v0(ctx: CallContext, value: int, divisor: int) -> Variant:
    if divisor == 0:
        return error("Division by zero: expected the divisor to be a non-zero Int")
    r = abs(value) % abs(divisor)
    return ok(-r if value < 0 else r)


@register(
    "Int", "power", 0, [("base", INT), ("exponent", INT)], INT,
    "Raises base to exponent (>= 0); an error if the result does not fit in 64 bits.",
)
def power_v0(ctx: CallContext, base: int, exponent: int) -> int:
    if exponent < 0:
        raise LibError(
            f"Expected the exponent to be zero or positive, but it was {exponent}"
            " (use Float::power_v0 for negative exponents)"
        )
    if base in (0, 1) or exponent == 0:
        return 1 if exponent == 0 else base
    if base == -1:
        return 1 if exponent % 2 == 0 else -1
    # |base| >= 2 here, so the result has at least `exponent` bits: anything
    # beyond 64 cannot fit, and we know that without computing it.
    if exponent > 63 or (abs(base).bit_length() - 1) * exponent > 64:
        raise LibError("Int overflow: the result does not fit in 64 bits")
    return int64(base**exponent)


@register(
    "Int", "negate", 0, [("a", INT)], INT,
    "Returns the negation of a (-a); an error for the smallest Int, whose negation overflows.",
)
def negate_v0(ctx: CallContext, a: int) -> int:
    return int64(-a)


@register(
    "Int", "absoluteValue", 0, [("a", INT)], INT,
    "Returns the absolute value of a; an error for the smallest Int, which has none in range.",
)
def absolute_value_v0(ctx: CallContext, a: int) -> int:
    return int64(abs(a))


@register(
    "Int", "sqrt", 0, [("a", INT)], FLOAT,
    "Returns the square root of a as a Float; NaN when a is negative.",
)
def sqrt_v0(ctx: CallContext, a: int) -> float:
    if a < 0:
        return math.nan
    return math.sqrt(a)


@register(
    "Int", "sum", 0, [("list", TList(INT))], INT,
    "Adds up a list of Ints (0 for an empty list); an error if the sum does not fit in 64 bits.",
)
def sum_v0(ctx: CallContext, xs: tuple[Any, ...]) -> int:
    total = 0
    for i, x in enumerate(xs):
        total += expect_int(x, f"element {i} of the list")
    return int64(total)


@register(
    "Int", "toFloat", 0, [("a", INT)], FLOAT,
    "Converts an Int to the nearest Float.",
)
def to_float_v0(ctx: CallContext, a: int) -> float:
    return float(a)


@register(
    "Int", "parse", 0, [("s", STRING)], TResult(INT, STRING),
    "Ok of the Int s spells (optional sign, then digits), else Error with the reason.",
)
def parse_v0(ctx: CallContext, s: str) -> Variant:
    n = parse_int(s)
    return error(n) if isinstance(n, str) else ok(n)


@register(
    "Int", "random", 1, [("start", INT), ("end", INT)], INT,
    "Returns a random Int between start and end, both inclusive (in either order).",
    pure=False,
)
def random_v1(ctx: CallContext, start: int, end: int) -> int:
    lo, hi = _sorted_limits(start, end)
    return random.randint(lo, hi)


# ---------------------------------------------------------------- comparison


@register(
    "Int", "greaterThan", 0, [("a", INT), ("b", INT)], BOOL,
    "Returns true if a is greater than b.",
)
def greater_than_v0(ctx: CallContext, a: int, b: int) -> bool:
    return a > b


@register(
    "Int", "greaterThanOrEqualTo", 0, [("a", INT), ("b", INT)], BOOL,
    "Returns true if a is greater than or equal to b.",
)
def greater_than_or_equal_to_v0(ctx: CallContext, a: int, b: int) -> bool:
    return a >= b


@register(
    "Int", "lessThan", 0, [("a", INT), ("b", INT)], BOOL,
    "Returns true if a is less than b.",
)
def less_than_v0(ctx: CallContext, a: int, b: int) -> bool:
    return a < b


@register(
    "Int", "lessThanOrEqualTo", 0, [("a", INT), ("b", INT)], BOOL,
    "Returns true if a is less than or equal to b.",
)
def less_than_or_equal_to_v0(ctx: CallContext, a: int, b: int) -> bool:
    return a <= b


@register(
    "Int", "max", 0, [("a", INT), ("b", INT)], INT,
    "Returns the larger of a and b.",
)
def max_v0(ctx: CallContext, a: int, b: int) -> int:
    return max(a, b)


@register(
    "Int", "min", 0, [("a", INT), ("b", INT)], INT,
    "Returns the smaller of a and b.",
)
def min_v0(ctx: CallContext, a: int, b: int) -> int:
    return min(a, b)


@register(
    "Int", "clamp", 0, [("value", INT), ("limitA", INT), ("limitB", INT)], INT,
    "Returns value if it lies between the two limits (given in either order), else the nearer one.",
)
def clamp_v0(ctx: CallContext, value: int, limit_a: int, limit_b: int) -> int:
    lo, hi = _sorted_limits(limit_a, limit_b)
    return min(max(value, lo), hi)
