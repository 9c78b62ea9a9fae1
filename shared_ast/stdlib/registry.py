"""The registry of versioned library functions.

Each library function is a `LibFunction`: `Module::name_vN` with its parameter
types, return type, a one-line doc, whether it is pure, and its deprecation
(replaced by which function, or why). Versions never replace each other: old
code keeps calling the version it was written against.

Implementations are plain Python functions `impl(ctx, *args)`. The evaluator
has already checked the arguments: none is incomplete, an error or on the
error rail (unless the function says `accepts_special`), and each has the
shallow shape its declared type asks for. An implementation signals a domain
error (division by zero, a bad index) by raising `LibError`; the evaluator
turns it into an error value pointing at the call. To call a lambda it uses
`ctx.apply(fn, args)`, which raises `Escape` when the lambda's result is
incomplete, an error or on the rail, so implementations never need to check.

Limits (`shared_ast.limits`): the evaluator measures every result that is a
String, List or Dict against the run's size caps and allocation budget. A
function that may build far more than its arguments hold asks first with
`ctx.will_build(kind, size)`; one that builds values deep inside its result
spends them with `ctx.charge(kind, size)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

from shared_ast.type_ast import Type

#: Ints are 64-bit signed, as in the system the seed describes; overflow is an error.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


class LibError(Exception):
    """A domain error inside a library function; the message is shown to the programmer."""


class Escape(Exception):
    """Raised by `CallContext.apply` to carry an incomplete, error or rail value out of a call."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


class CallContext(Protocol):
    """What a library function may ask of the evaluator that calls it."""

    def apply(self, fn: Any, args: tuple[Any, ...]) -> Any:
        """Call a function value (a lambda) with arguments; raises `Escape` on a special result."""
        ...

    def will_build(self, kind: str, size: int) -> None:
        """Ask before building a "String" of `size` characters, or a "List" or "Dict" of
        `size` elements, that may be far bigger than the arguments (a join, a flatten):
        raises `LibError` if it is over this run's cap, so that it is never built.
        (Every result is measured after the call anyway; this only saves building it.)"""
        ...

    def charge(self, kind: str, size: int) -> None:
        """Spend this run's allocation budget on values built inside the result, which
        the check of the result's top level does not see (`Json::parse`)."""
        ...


@attrs.frozen
class Deprecation:
    """Why a function is deprecated: the function that replaces it, or a reason."""

    replaced_by: str | None = None
    reason: str | None = None


@attrs.frozen
class LibParam:
    name: str
    type: Type


@attrs.frozen
class LibFunction:
    module: str
    name: str
    version: int
    params: tuple[LibParam, ...]
    return_type: Type
    doc: str
    pure: bool
    impl: Callable[..., Any] = attrs.field(eq=False, repr=False)
    deprecated: Deprecation | None = None
    #: Receives incomplete/error arguments instead of being skipped (e.g. `Bool::isError_v0`).
    accepts_special: bool = False
    #: `Module::name_vN`, worked out once: every call reads it (the impure log, the
    #: allocation checks), and formatting it each time was a tenth of a library call.
    qualified: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "qualified", f"{self.module}::{self.name}_v{self.version}")


LIBRARY: dict[str, LibFunction] = {}


def register(
    module: str,
    name: str,
    version: int,
    params: list[tuple[str, Type]],
    returns: Type,
    doc: str,
    *,
    pure: bool = True,
    deprecated: Deprecation | None = None,
    accepts_special: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding an implementation to `LIBRARY` under `Module::name_vN`."""

    def wrap(impl: Callable[..., Any]) -> Callable[..., Any]:
        fn = LibFunction(
            module=module,
            name=name,
            version=version,
            params=tuple(LibParam(n, t) for n, t in params),
            return_type=returns,
            doc=doc,
            pure=pure,
            impl=impl,
            deprecated=deprecated,
            accepts_special=accepts_special,
        )
        if fn.qualified in LIBRARY:
            raise AssertionError(f"library function registered twice: {fn.qualified}")
        LIBRARY[fn.qualified] = fn
        return impl

    return wrap


def lookup(module: str, name: str, version: int) -> LibFunction | None:
    return LIBRARY.get(f"{module}::{name}_v{version}")


def versions_of(module: str, name: str) -> list[LibFunction]:
    """Every version of `Module::name`, oldest first."""
    found = [f for f in LIBRARY.values() if f.module == module and f.name == name]
    return sorted(found, key=lambda f: f.version)


def int64(n: int) -> int:
    """`n` if it fits in a 64-bit signed Int, else a `LibError`."""
    if n < INT_MIN or n > INT_MAX:
        raise LibError("Int overflow: the result does not fit in 64 bits")
    return n
