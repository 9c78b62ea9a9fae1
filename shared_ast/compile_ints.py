"""Ints in generated code: what is known of temporaries, and the Int operations it spares.

The code generator (`compile_gen.Body`) names every value with a Python
expression: a temporary, a literal, or pure arithmetic written in place.
`IntFacts` records what each such name surely holds, never a special value:

- an Int of 64 bits (`ints`), with bounds narrower than 64 bits where they are
  known (`bounds`: from literals, from the arithmetic that made it, and inside
  an `if` from its condition, e.g. `n >= 2` in the else of `if n < 2`);
- a Bool (`bools`), and for a comparison of Ints, what it compared;
- a list that holds only Ints within bounds, if it is a list (`int_lists`:
  `List::range_v0` of two Ints, a map or filter of such a list).

`int_op` generates the library's Int operations (`_INLINE_INT_OPS`) with
only the tests that knowledge leaves: the types, when not known; the 64-bit
range of the result, unless its bounds fit. A result out of 64 bits raises
`Fallback` (the reference evaluator re-runs and gives its error), so an
operation on two known Ints always gives an Int, and is known to.
"""

from __future__ import annotations

from shared_ast.stdlib.registry import INT_MAX, INT_MIN, LibFunction

__all__ = ["FULL", "INLINE_INT_OPS", "IntFacts", "arithmetic", "literal"]

# Library functions on two Ints inlined as a Python operator; True: the result is range-checked.
INLINE_INT_OPS: dict[str, tuple[str, bool]] = {
    "Int::add_v0": ("+", True),
    "Int::subtract_v0": ("-", True),
    "Int::multiply_v0": ("*", True),
    "Int::mod_v0": ("%", False),
    "Int::lessThan_v0": ("<", False),
    "Int::greaterThan_v0": (">", False),
    "Int::lessThanOrEqualTo_v0": ("<=", False),
    "Int::greaterThanOrEqualTo_v0": (">=", False),
}


FULL = (INT_MIN, INT_MAX)
#: Longer pure arithmetic is kept in a temporary (a `let` repeats what it names).
INLINE_LENGTH = 60
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
_NEGATED = {"<": ">=", ">": "<=", "<=": ">", ">=": "<"}


def literal(value: str) -> int | None:
    """The Int a generated name spells, if it is a literal of 64 bits."""
    if not value.lstrip("-").isdigit():
        return None
    n = int(value)
    return n if INT_MIN <= n <= INT_MAX else None


def arithmetic(op: str, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Bounds of `a op b` for Ints within the bounds given; `FULL` when they may not fit."""
    if op == "%":
        return (0, b[1] - 1) if b[0] > 0 else FULL
    if op == "+":
        lo, hi = a[0] + b[0], a[1] + b[1]
    elif op == "-":
        lo, hi = a[0] - b[1], a[1] - b[0]
    elif op == "*":
        corners = [x * y for x in a for y in b]
        lo, hi = min(corners), max(corners)
    else:
        return FULL
    return (lo, hi) if lo >= INT_MIN and hi <= INT_MAX and (lo, hi) != FULL else FULL


class IntFacts:
    """What the temporaries of one generated body surely hold (see the module docstring)."""

    def __init__(self) -> None:
        #: Temporaries known to hold an Int, a Bool (never a special value).
        self.ints: set[str] = set()
        self.bools: set[str] = set()
        #: Narrower bounds of Int temporaries (from literals, arithmetic, if conditions),
        #: which spare the 64-bit test of a result that cannot leave them.
        self.bounds: dict[str, tuple[int, int]] = {}
        #: A Bool temporary that holds a comparison of Ints: (left, operator, right).
        self.compares: dict[str, tuple[str, str, str]] = {}
        #: A temporary that, when it holds a List, holds Ints within these bounds.
        self.int_lists: dict[str, tuple[int, int]] = {}

    # The generator's own, which `int_op` emits with.
    indent: int

    def emit(self, line: str) -> None:
        raise NotImplementedError

    def tmp(self) -> str:
        raise NotImplementedError

    def slow_library(self, lib: LibFunction, args: list[str], node_id: int) -> str:
        raise NotImplementedError

    def is_int(self, value: str) -> bool:
        """`value` surely holds an Int of 64 bits (`const` spells Ints as digits)."""
        return value in self.ints or literal(value) is not None

    def bound(self, value: str) -> tuple[int, int]:
        """The least and greatest Int `value` (which `is_int`) may hold."""
        spelt = literal(value)
        if spelt is not None:
            return spelt, spelt
        return self.bounds.get(value, FULL)

    def is_bool(self, value: str) -> bool:
        return value in self.bools or value in ("True", "False")

    def kind(self, value: str) -> str:
        """What `value` surely holds: "int", "bool", or "any" (a special value, perhaps)."""
        return "int" if self.is_int(value) else "bool" if self.is_bool(value) else "any"

    def know(self, var: str, kind_of: str) -> None:
        """`var` holds what `kind_of` holds."""
        if self.is_int(kind_of):
            self.ints.add(var)
            self.bounds[var] = self.bound(kind_of)
        elif self.is_bool(kind_of):
            self.bools.add(var)

    def refine(self, cond: str, holds: bool) -> None:
        """Where `cond` is `holds`: a comparison of an Int with a literal bounds the Int."""
        compare = self.compares.get(cond)
        if compare is None:
            return
        left, op, right = compare
        if literal(left) is not None:  # `3 < x` is `x > 3`
            left, op, right = right, _FLIPPED[op], left
        limit = literal(right)
        if limit is None or left not in self.ints:
            return
        if not holds:
            op = _NEGATED[op]
        lo, hi = self.bound(left)
        self.bounds[left] = {"<": (lo, min(hi, limit - 1)), "<=": (lo, min(hi, limit)),
                             ">": (max(lo, limit + 1), hi), ">=": (max(lo, limit), hi)}[op]

    def int_op(self, lib: LibFunction, inline: tuple[str, bool], args: list[str],
               node_id: int) -> str:
        # Pure and calls nothing back: its slow path needs no flush of the steps.
        op, checked = inline
        a, b = args
        tests = [f"type({v}) is int" for v in dict.fromkeys(args) if not self.is_int(v)]
        if op == "%" and not (b.isdigit() and int(b) > 0):
            tests.append(f"{b} > 0")  # the modulus must be positive: the slow path says so
        bounds = arithmetic(op, self.bound(a), self.bound(b)) if not tests else FULL
        pure = f"({a} {op} {b})"
        if not tests and (not checked or bounds != FULL) and len(pure) <= INLINE_LENGTH:
            # Nothing to test: the operation itself is the value, written where it is used.
            self.know_op(pure, op, a, b, bounds)
            return pure
        out = self.tmp()
        if tests:
            self.emit(f"if {' and '.join(tests)}:")
            self.indent += 1
        self.emit(f"{out} = {a} {op} {b}")
        if checked and bounds == FULL:
            # Out of 64 bits is rare: the reference re-runs and gives its error.
            # The cheapest test there is; it takes INT_MIN for too long too (a fallback).
            self.emit(f"if {out}.bit_length() > 63:")
            self.emit("    raise FB()")
        if tests:
            self.indent -= 1
            self.emit("else:")
            self.emit(f"    {out} = {self.slow_library(lib, args, node_id)}")
        else:
            self.know_op(out, op, a, b, bounds)
        return out

    def know_op(self, value: str, op: str, a: str, b: str, bounds: tuple[int, int]) -> None:
        """`value` holds `a op b`, an operation on Ints of 64 bits that gave no error."""
        if op in ("+", "-", "*", "%"):
            self.ints.add(value)
            self.bounds[value] = bounds
        else:
            self.bools.add(value)
            self.compares[value] = (a, op, b)
