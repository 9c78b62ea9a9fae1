"""A tiny call context for testing library functions without the evaluator.

Function values are plain Python callables; `apply` just calls them. `call`
runs a library function by its qualified name, as the evaluator would.
"""

from __future__ import annotations

from typing import Any

import shared_ast.stdlib  # noqa: F401 - fills the registry
from shared_ast.limits import Budget, refuse_to_build
from shared_ast.stdlib.registry import LIBRARY


class PyCtx:
    """`CallContext` whose function values are Python callables, with a default `Budget`'s caps."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.calls = 0
        self.budget = budget or Budget()

    def apply(self, fn: Any, args: tuple[Any, ...]) -> Any:
        self.calls += 1
        return fn(*args)

    def will_build(self, kind: str, size: int) -> None:
        refuse_to_build(self.budget, "the function", kind, size)

    def charge(self, kind: str, size: int) -> None:
        self.budget.spend(kind, size, "the function", None)


CTX = PyCtx()


def call(qualified: str, *args: Any, ctx: PyCtx | None = None) -> Any:
    """Runs `LIBRARY[qualified]` on `args` with a `PyCtx`."""
    return LIBRARY[qualified].impl(ctx or CTX, *args)
