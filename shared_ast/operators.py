"""Infix operators: what each means, how tightly it binds.

An infix node is a call displayed between its operands. Most operators are the
infix spelling of one library function; `&&`, `||`, `==` and `!=` are built in
(`&&`/`||` short-circuit, so `false && hole` is `false`). The editor computes
parentheses from `precedence` and `right_assoc`; the tree itself never needs
them.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Operator:
    symbol: str
    precedence: int
    #: The library function this operator spells, or None for a built-in.
    lib_fn: str | None
    right_assoc: bool = False
    doc: str = ""


_OPS = [
    Operator("||", 1, None, doc="Boolean or; `true || x` does not evaluate x"),
    Operator("&&", 2, None, doc="Boolean and; `false && x` does not evaluate x"),
    Operator("==", 3, None, doc="Structural equality of two values of the same type"),
    Operator("!=", 3, None, doc="Structural inequality"),
    Operator("<", 4, "Int::lessThan_v0"),
    Operator(">", 4, "Int::greaterThan_v0"),
    Operator("<=", 4, "Int::lessThanOrEqualTo_v0"),
    Operator(">=", 4, "Int::greaterThanOrEqualTo_v0"),
    Operator("<.", 4, "Float::lessThan_v0"),
    Operator(">.", 4, "Float::greaterThan_v0"),
    Operator("<=.", 4, "Float::lessThanOrEqualTo_v0"),
    Operator(">=.", 4, "Float::greaterThanOrEqualTo_v0"),
    Operator("++", 5, "String::append_v1"),
    Operator("+", 6, "Int::add_v0"),
    Operator("-", 6, "Int::subtract_v0"),
    Operator("+.", 6, "Float::add_v0"),
    Operator("-.", 6, "Float::subtract_v0"),
    Operator("*", 7, "Int::multiply_v0"),
    Operator("%", 7, "Int::mod_v0"),
    Operator("*.", 7, "Float::multiply_v0"),
    Operator("/", 7, "Float::divide_v0"),
    Operator("^", 8, "Int::power_v0", right_assoc=True),
]

OPERATORS: dict[str, Operator] = {op.symbol: op for op in _OPS}

BUILTIN_OPERATORS = frozenset(sym for sym, op in OPERATORS.items() if op.lib_fn is None)
