"""The `Result` module of the Gloam standard library: values that may be errors.

A `Result<a, e>` is `Ok x` or `Error e` (built with `values.ok` and
`values.error`). These functions transform one without taking it apart by
hand: `Result::map_v1` changes the `Ok` value, `Result::mapError_v1` the
`Error` value, `Result::andThen_v1` chains a step that may itself fail,
`Result::map2_v0` combines two (the first `Error` wins), and
`Result::withDefault_v0` / `Result::toOption_v1` / `Result::fromOption_v2`
convert to and from plain values and Options.

An `Error` here is an ordinary value, not a runtime error: it only leaves the
handler if the program sends it to the error rail.

The module also provides `expect_result`, for checking what a lambda returned.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.option_fns import is_option
from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import TFn, TOption, TResult, TVar
from shared_ast.values import NOTHING, Variant, error, just, ok

__all__ = ["expect_result", "is_result"]

A = TVar("a")
B = TVar("b")
C = TVar("c")
E = TVar("e")
F = TVar("f")

# ---------------------------------------------------------------- helpers


def is_result(v: Any) -> TypeGuard[Variant]:
    """Whether `v` is `Ok x` or `Error e`."""
    return (
        isinstance(v, Variant)
        and v.type_name is None
        and v.name in ("Ok", "Error")
        and len(v.args) == 1
    )


def expect_result(v: Any, what: str) -> Variant:
    """`v` if it is `Ok x` or `Error e`, else a `LibError` saying what `what` returned."""
    if is_result(v):
        return v
    raise LibError(
        f"Expected {what} to return a Result (Ok or Error), but it returned {describe(v)}"
    )


def _arg_result(v: Any, param: str) -> Variant:
    if is_result(v):
        return v
    raise LibError(f"Expected {param} to be a Result (Ok or Error), but it was {describe(v)}")


# ---------------------------------------------------------------- functions


@register(
    "Result", "map", 1,
    [("result", TResult(A, E)), ("fn", TFn((A,), B))], TResult(B, E),
    "If result is Ok x, returns Ok (fn x); an Error is returned unchanged.",
)
def map_v1(ctx: CallContext, result: Variant, fn: Any) -> Variant:
    r = _arg_result(result, "result")
    if r.name == "Error":
        return r
    return ok(ctx.apply(fn, (r.args[0],)))


@register(
    "Result", "mapError", 1,
    [("result", TResult(A, E)), ("fn", TFn((E,), F))], TResult(A, F),
    "If result is Error e, returns Error (fn e); an Ok is returned unchanged.",
)
def map_error_v1(ctx: CallContext, result: Variant, fn: Any) -> Variant:
    r = _arg_result(result, "result")
    if r.name == "Ok":
        return r
    return error(ctx.apply(fn, (r.args[0],)))


@register(
    "Result", "andThen", 1,
    [("result", TResult(A, E)), ("fn", TFn((A,), TResult(B, E)))], TResult(B, E),
    "If result is Ok x, returns fn x (itself a Result); an Error is returned unchanged.",
)
def and_then_v1(ctx: CallContext, result: Variant, fn: Any) -> Variant:
    r = _arg_result(result, "result")
    if r.name == "Error":
        return r
    return expect_result(ctx.apply(fn, (r.args[0],)), "the function passed to Result::andThen_v1")


@register(
    "Result", "map2", 0,
    [("result1", TResult(A, E)), ("result2", TResult(B, E)), ("fn", TFn((A, B), C))],
    TResult(C, E),
    "If both results are Ok, returns Ok (fn x y); otherwise the first Error.",
)
def map2_v0(ctx: CallContext, result1: Variant, result2: Variant, fn: Any) -> Variant:
    r1 = _arg_result(result1, "result1")
    r2 = _arg_result(result2, "result2")
    if r1.name == "Error":
        return r1
    if r2.name == "Error":
        return r2
    return ok(ctx.apply(fn, (r1.args[0], r2.args[0])))


@register(
    "Result", "withDefault", 0,
    [("result", TResult(A, E)), ("default", A)], A,
    "If result is Ok x, returns x; if it is an Error, returns default.",
)
def with_default_v0(ctx: CallContext, result: Variant, default: Any) -> Any:
    r = _arg_result(result, "result")
    return r.args[0] if r.name == "Ok" else default


@register(
    "Result", "toOption", 1,
    [("result", TResult(A, E))], TOption(A),
    "Turns Ok x into Just x, and any Error into Nothing.",
)
def to_option_v1(ctx: CallContext, result: Variant) -> Variant:
    r = _arg_result(result, "result")
    return just(r.args[0]) if r.name == "Ok" else NOTHING


@register(
    "Result", "fromOption", 2,
    [("option", TOption(A)), ("error", E)], TResult(A, E),
    "Turns Just x into Ok x, and Nothing into Error error.",
)
def from_option_v2(ctx: CallContext, option: Variant, error_value: Any) -> Variant:
    if not is_option(option):
        raise LibError(
            f"Expected option to be an Option (Just or Nothing), but it was {describe(option)}"
        )
    return ok(option.args[0]) if option.name == "Just" else error(error_value)
