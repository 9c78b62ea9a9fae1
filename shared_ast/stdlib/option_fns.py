"""The `Option` module of the Gloam standard library: values that may be absent.

An `Option<a>` is `Just x` or `Nothing` (built with `values.just` and
`values.NOTHING`). These functions transform one without taking it apart by
hand: `Option::map_v1` changes what is inside a `Just`, `Option::andThen_v0`
chains a step that may itself fail, `Option::map2_v0` combines two, and
`Option::withDefault_v0` gets a plain value out.

The module also provides `expect_option`, which other modules use to check
that a lambda returned an Option (`List::filterMap_v0`, `Dict::filterMap_v0`)
or that an argument is one (the evaluator checks arguments' shapes, but a
lambda's result is only known when it runs).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import TFn, TOption, TVar
from shared_ast.values import NOTHING, Variant, just

__all__ = ["expect_option", "is_option"]

A = TVar("a")
B = TVar("b")
C = TVar("c")

# ---------------------------------------------------------------- helpers


def is_option(v: Any) -> TypeGuard[Variant]:
    """Whether `v` is `Just x` or `Nothing`."""
    return (
        isinstance(v, Variant)
        and v.type_name is None
        and ((v.name == "Just" and len(v.args) == 1) or (v.name == "Nothing" and not v.args))
    )


def expect_option(v: Any, what: str) -> Variant:
    """`v` if it is `Just x` or `Nothing`, else a `LibError` naming `what`.

    `what` reads as a subject returning something, e.g. "the function passed
    to List::filterMap_v0".
    """
    if is_option(v):
        return v
    raise LibError(
        f"Expected {what} to return an Option (Just or Nothing), but it returned {describe(v)}"
    )


def _arg_option(v: Any, param: str) -> Variant:
    if is_option(v):
        return v
    raise LibError(f"Expected {param} to be an Option (Just or Nothing), but it was {describe(v)}")


# ---------------------------------------------------------------- functions


@register(
    "Option", "map", 1,
    [("option", TOption(A)), ("fn", TFn((A,), B))], TOption(B),
    "If option is Just x, returns Just (fn x); Nothing stays Nothing.",
)
def map_v1(ctx: CallContext, option: Variant, fn: Any) -> Variant:
    opt = _arg_option(option, "option")
    if opt.name == "Nothing":
        return NOTHING
    return just(ctx.apply(fn, (opt.args[0],)))


@register(
    "Option", "andThen", 0,
    [("option", TOption(A)), ("fn", TFn((A,), TOption(B)))], TOption(B),
    "If option is Just x, returns fn x (itself an Option); Nothing stays Nothing.",
)
def and_then_v0(ctx: CallContext, option: Variant, fn: Any) -> Variant:
    opt = _arg_option(option, "option")
    if opt.name == "Nothing":
        return NOTHING
    return expect_option(ctx.apply(fn, (opt.args[0],)), "the function passed to Option::andThen_v0")


@register(
    "Option", "map2", 0,
    [("option1", TOption(A)), ("option2", TOption(B)), ("fn", TFn((A, B), C))], TOption(C),
    "If both options are Just, returns Just (fn x y); otherwise Nothing.",
)
def map2_v0(ctx: CallContext, option1: Variant, option2: Variant, fn: Any) -> Variant:
    o1 = _arg_option(option1, "option1")
    o2 = _arg_option(option2, "option2")
    if o1.name == "Nothing" or o2.name == "Nothing":
        return NOTHING
    return just(ctx.apply(fn, (o1.args[0], o2.args[0])))


@register(
    "Option", "withDefault", 0,
    [("option", TOption(A)), ("default", A)], A,
    "If option is Just x, returns x; if it is Nothing, returns default.",
)
def with_default_v0(ctx: CallContext, option: Variant, default: Any) -> Any:
    opt = _arg_option(option, "option")
    return opt.args[0] if opt.name == "Just" else default
