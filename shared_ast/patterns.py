"""Pattern matching: does a value fit the left side of a match arm, and what does it bind?

A match arm's pattern is tested against the scrutinee's value:

- a variable matches anything and binds it; a wildcard matches anything;
- a literal (Int, Float, String, Bool, Null) matches an equal value of the
  same type, by `values_equal`: the Int pattern `1` does not match the Float
  `1.0`, and `true` does not match `1`;
- a constructor pattern matches a `Variant` with the same case name and the
  same number of arguments whose arguments match the sub-patterns. Patterns
  carry no type, so a case is matched by its name alone;
- an empty pattern (`PHole`) matches nothing: an arm that is still being
  written never runs.

Bindings are returned in pattern order; when a name occurs twice the later
binding shadows the earlier one, as nested lets would.

The editor also shows a value on every pattern node, so `pattern_values`
says which part of the scrutinee each pattern node was tested against.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared_ast.nodes import (
    NodeId,
    Pattern,
    PBool,
    PConstructor,
    PFloat,
    PHole,
    PInt,
    PNull,
    PString,
    PVariable,
    PWildcard,
)
from shared_ast.values import Incomplete, Variant, values_equal

__all__ = ["match_pattern", "pattern_values", "pattern_variables"]

Bindings = list[tuple[str, Any]]


def match_pattern(pattern: Pattern, value: Any) -> Bindings | None:
    """The variables `pattern` binds when it matches `value`, or None when it does not match."""
    bindings: Bindings = []
    return bindings if _match(pattern, value, bindings) else None


def _match(pattern: Pattern, value: Any, bindings: Bindings) -> bool:
    match pattern:
        case PVariable(name=name):
            bindings.append((name, value))
            return True
        case PWildcard():
            return True
        case PHole():
            return False
        case PInt(value=literal) | PFloat(value=literal) | PString(value=literal) | PBool(
            value=literal
        ):
            return values_equal(value, literal)
        case PNull():
            return value is None
        case PConstructor(name=name, args=args):
            if not isinstance(value, Variant) or value.name != name or len(value.args) != len(args):
                return False
            return all(_match(p, v, bindings) for p, v in zip(args, value.args, strict=True))
    # A pattern kind this module does not know matches nothing rather than crashing a handler.
    return False


def pattern_variables(pattern: Pattern) -> list[PVariable]:
    """Every variable the pattern binds, in order (for previewing an arm that did not match)."""
    found: list[PVariable] = []
    stack = [pattern]
    while stack:
        p = stack.pop()
        if isinstance(p, PVariable):
            found.append(p)
        elif isinstance(p, PConstructor):
            stack.extend(reversed(p.args))
    return found


def pattern_values(pattern: Pattern, value: Any) -> Iterator[tuple[NodeId, Any]]:
    """(pattern node id, the part of `value` it was tested against) for every pattern node.

    Below a constructor pattern whose case or arity does not line up with the
    value, the sub-patterns saw nothing: they get an `Incomplete`.
    """
    stack: list[tuple[Pattern, Any]] = [(pattern, value)]
    while stack:
        p, v = stack.pop()
        yield p.id, v
        if isinstance(p, PConstructor):
            lines_up = (
                isinstance(v, Variant) and v.name == p.name and len(v.args) == len(p.args)
            )
            parts = v.args if lines_up else tuple(Incomplete(sub.id) for sub in p.args)
            stack.extend(reversed(list(zip(p.args, parts, strict=True))))
