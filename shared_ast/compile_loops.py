"""Compiled `List::map`, `List::filter` and `List::fold` over a lambda written in place.

A pipeline like `List::range_v0 0 10000 |> List::map (\\x -> x * 2)` spends
nearly all its time calling the lambda back through the library's `ctx.apply`.
When the function argument is a lambda literal, `shared_ast.compile_gen`
asks this module for the loop itself: the lambda's body is generated inside
a Python `for`, with what the library function and `Machine.apply_function`
would do around each call, in the same order:

- the call's checks first (an incomplete or error argument is the value; a
  list argument that is not a list takes the ordinary library call, which
  builds the closure and says what is wrong);
- per element: an incomplete/error argument is the lambda's value, the depth
  counted around the body, a rail exit from the body is its value;
- the first incomplete, error or rail value a lambda gives is the call's value
  (the library's `Escape`); `filter` needs a Bool (`expect_bool`'s error);
- the lambda node still counts its step, though no closure is built.

Loops nest at most `MAX_LOOPS` deep in one function (Python limits nested blocks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared_ast.nodes import ECall, ELambda, LibFnRef
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.type_ast import TList

if TYPE_CHECKING:
    from shared_ast.compile_gen import Scope, _Body

__all__ = ["MAX_LOOPS", "inline_loop"]

MAX_LOOPS = 4

# Library function → (its arity, the index of its function argument, the lambda's arity).
_LOOPS: dict[str, tuple[int, int, int]] = {
    "List::map_v0": (2, 1, 1),
    "List::filter_v2": (2, 1, 1),
    "List::fold_v0": (3, 2, 2),
}


def inline_loop(body: _Body, e: ECall, scope: Scope, pipe: str | None) -> str | None:
    """The value of the call `e` as a generated loop, or None when it is not one of those."""
    if not isinstance(e.fn, LibFnRef) or body.loops >= MAX_LOOPS:
        return None
    name = e.fn.qualified
    shape = _LOOPS.get(name)
    lib = LIBRARY.get(name)
    if shape is None or lib is None or not lib.pure or lib.accepts_special:
        return None
    arity, fn_index, params = shape
    lam = e.args[fn_index] if len(e.args) == arity else None
    if not isinstance(lam, ELambda) or len(lam.params) != params or fn_index != arity - 1:
        return None
    if not isinstance(lib.params[0].type, TList):
        return None
    values = [body.expr(a, scope, pipe) for a in e.args[:fn_index]]
    body.pending += 1  # the lambda node
    body.flush()
    xs = values[0]
    out = body.tmp()
    # first_special of the arguments (the closure is never special).
    specials = " or ".join(f"type({v}) in SPECIALS" for v in values)
    with body.block(f"if {specials}:"):
        body.emit(f"{out} = first_special(({''.join(v + ', ' for v in values)}))")
    with body.block(f"elif type({xs}) is not tuple:"):
        closure = body.lambda_(lam, scope)
        call = body.slow_library(lib, [*values, closure], e.id)
        body.emit(f"{out} = {call}")
    with body.block("else:"):
        _loop(body, name, lam, values, out, scope, e.id)
    body.rail_check(out)
    if e.on_rail:
        out = body.assign(f"onto_rail({out}, {body.const(name)}, {e.id})")
        body.rail_check(out)
    return out


def _loop(body: _Body, name: str, lam: ELambda, values: list[str], out: str, scope: Scope,
          node_id: int) -> None:
    xs = values[0]
    item = body.tmp()
    acc = body.tmp()
    result = body.tmp()
    folding = name == "List::fold_v0"
    body.emit(f"{acc} = {values[1]}" if folding else f"{acc} = []")
    args = [acc, item] if folding else [item]
    inner = dict(scope)
    inner.update((p.name, a) for p, a in zip(lam.params, args, strict=True))
    body.loops += 1
    # The depth is counted once around the loop rather than around each call of the body:
    # nothing between two calls looks at it. (An all-special list is refused a call the
    # reference would not make; that only costs a fallback, never a different answer.)
    with body.block(f"if {xs}:"):
        body.emit("if B.depth >= R.depth_limit:")
        body.emit("    raise FB()")
        body.emit("B.depth += 1")
    with body.block(f"for {item} in {xs}:"):
        # The accumulator is never special: init was checked, and a special result ends the loop.
        with body.block(f"if type({item}) in SPECIALS:"):
            body.emit(f"{result} = first_special(({''.join(a + ', ' for a in args)}))")
        with body.block("else:"):
            with body.block("try:"):
                body.emit(f"{result} = {body.expr(lam.body, inner, None)}")
                body.flush(check=False)  # tested after the loop, and before any call
            with body.block("except RailExit as x:"):
                body.emit(f"{result} = x.value")
        with body.block(f"if type({result}) in SPECIALS:"):
            body.emit(f"{out} = {result}")
            body.emit("break")
        if folding:
            body.emit(f"{acc} = {result}")
        elif name == "List::filter_v2":
            with body.block(f"if {result} is True:"):
                body.emit(f"{acc}.append({item})")
            with body.block(f"elif {result} is not False:"):
                what = body.const(f"the function passed to {name}")
                body.emit(f"{out} = R.not_bool({result}, {what}, {node_id})")
                body.emit("break")
        else:
            body.emit(f"{acc}.append({result})")
    with body.block("else:"):
        body.emit(f"{out} = {acc}" if folding else f"{out} = tuple({acc})")
    with body.block(f"if {xs}:"):
        body.emit("B.depth -= 1")
        body.emit("if B.steps > MS:")
        body.emit("    raise FB()")
    body.loops -= 1
