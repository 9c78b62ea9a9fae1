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

Over a list known to hold only Ints (`List::range_v0` of Ints, a map or
filter of such a list), a lambda that surely gives what the loop wants (an
Int or a Bool, no rail exit) cannot end the loop early: no test of each
element or result, and, when its body is straight code, its steps are added
once per chunk of the list.

Loops nest at most `MAX_LOOPS` deep in one function (Python limits nested blocks).
A loop runs over its list in chunks of `CHUNK` elements and tests its steps
after each, so that the run's time limit stops a long loop in time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared_ast.nodes import ECall, ELambda, LibFnRef
from shared_ast.stdlib.registry import LIBRARY
from shared_ast.type_ast import TList

if TYPE_CHECKING:
    from shared_ast.compile_gen import Body, Scope

__all__ = ["MAX_LOOPS", "inline_loop"]

MAX_LOOPS = 4
#: Elements between two tests of the steps (and the clock) in a loop: a few milliseconds.
CHUNK = 4096

# Library function → (its arity, the index of its function argument, the lambda's arity).
_LOOPS: dict[str, tuple[int, int, int]] = {
    "List::map_v0": (2, 1, 1),
    "List::filter_v2": (2, 1, 1),
    "List::fold_v0": (3, 2, 2),
}


def inline_loop(body: Body, e: ECall, scope: Scope, pipe: str | None) -> str | None:
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
    values[0] = body.named(values[0])  # the loop slices it: a literal would warn
    body.effects = True  # its slow path calls the library
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
        body.emit(f"R.rem = {body.depth}")
        body.emit(f"{out} = {call}")
    with body.block("else:"):
        _loop(body, name, lam, values, out, scope, e.id)
    body.rail_check(out)
    if e.on_rail:
        out = body.assign(f"onto_rail({out}, {body.const(name)}, {e.id})")
        body.rail_check(out)
    return out


def _loop(body: Body, name: str, lam: ELambda, values: list[str], out: str, scope: Scope,
          node_id: int) -> None:
    folding = name == "List::fold_v0"
    # A fold's accumulator is an Int if its start is one and each step gives one: try it.
    if folding and body.is_int(values[1]) and values[0] in body.int_lists:
        saved = body.snapshot()
        if _loop_over(body, name, lam, values, out, scope, node_id, int_acc=True):
            return
        body.restore(saved)
    _loop_over(body, name, lam, values, out, scope, node_id, int_acc=False)


def _loop_over(body: Body, name: str, lam: ELambda, values: list[str], out: str,
               scope: Scope, node_id: int, int_acc: bool) -> bool:
    """The loop; False if `int_acc` (the accumulator taken for an Int) proved wrong."""
    xs = values[0]
    item = body.tmp()
    acc = body.tmp()
    result = body.tmp()
    folding = name == "List::fold_v0"
    filtering = name == "List::filter_v2"
    elements = body.int_lists.get(xs)
    body.emit(f"{acc} = {values[1]}" if folding else f"{acc} = []")
    args = [acc, item] if folding else [item]
    inner = dict(scope)
    inner.update((p.name, a) for p, a in zip(lam.params, args, strict=True))
    if elements is not None:  # the list, a tuple here, holds Ints within these bounds
        body.ints.add(item)
        body.bounds[item] = elements
    if int_acc:
        body.ints.add(acc)
    body.loops += 1
    # The depth is tested once before the loop rather than at each call of the body:
    # nothing between two calls looks at it. (An all-special list is refused a call the
    # reference would not make; that only costs a fallback, never a different answer.)
    depth, outer = body.tmp(), body.depth
    body.emit(f"{depth} = {outer} - 1")
    with body.block(f"if {depth} < 0 and {xs}:"):
        body.emit("raise FB()")
    body.depth = depth
    add = body.tmp()
    if not folding:
        body.emit(f"{add} = {acc}.append")
    # In chunks, each ending with a test of the steps (and so of the clock): a loop over a
    # long list must not run for seconds past the run's time limit. A break (the body's
    # value ends the loop) leaves both loops; a list no longer than a chunk is not copied.
    chunk = body.tmp()
    body.emit(f"for {chunk} in range(0, len({xs}), {CHUNK}):")
    body.indent += 1
    with body.block(f"for {item} in {xs}[{chunk}:{chunk} + {CHUNK}]:"):
        # The accumulator is never special: init was checked, and a special result ends the loop.
        if elements is None:
            body.emit(f"if type({item}) in SPECIALS:")
            body.emit(f"    {result} = first_special(({''.join(a + ', ' for a in args)}))")
            body.emit("else:")
            body.indent += 1
        try_at = len(body.lines)
        body.emit("try:")
        body.indent += 1
        rail_before, body.may_rail = body.may_rail, False
        unchecked_before, body.unchecked = body.unchecked, False
        value = body.expr(lam.body, inner, None)
        kind = body.kind(value)
        may_rail = body.may_rail
        body.may_rail = rail_before or may_rail
        if int_acc and (kind != "int" or may_rail):
            return False
        # A body that surely gives what the loop wants never ends it early: its steps,
        # the same for each element when it is straight code, are added once per chunk.
        steady = (elements is not None and not may_rail
                  and kind == ("bool" if filtering else "int" if folding else kind) != "any")
        straight = steady and not body.unchecked and not any(
            "R.steps" in line for line in body.lines[try_at:])
        body.unchecked = body.unchecked or unchecked_before
        per_item = 0
        body.emit(f"{result} = {value}")
        if straight:
            per_item, body.pending = body.pending, 0
        else:
            body.flush(check=False)  # tested after the chunk, and before any call
        body.indent -= 1
        if may_rail:
            body.emit("except RailExit as x:")
            body.emit(f"    {result} = x.value")
        else:  # nothing to catch: no `try`
            del body.lines[try_at]
            body.lines[try_at:] = [line[4:] for line in body.lines[try_at:]]
        if elements is None:
            body.indent -= 1
        if not steady:
            with body.block(f"if type({result}) in SPECIALS:"):
                body.emit(f"{out} = {result}")
                body.emit("break")
        if folding:
            body.emit(f"{acc} = {result}")
        elif filtering and steady:
            with body.block(f"if {result}:"):
                body.emit(f"{add}({item})")
        elif filtering:
            with body.block(f"if {result} is True:"):
                body.emit(f"{add}({item})")
            with body.block(f"elif {result} is not False:"):
                what = body.const(f"the function passed to {name}")
                body.emit(f"{out} = R.not_bool({result}, {what}, {node_id})")
                body.emit("break")
        else:
            body.emit(f"{add}({result})")
    body.at = node_id
    with body.block("else:"):
        if per_item:
            body.emit(f"R.steps += {per_item} * min({CHUNK}, len({xs}) - {chunk})")
        body.check()
        body.emit("continue")
    body.emit("break")
    body.indent -= 1
    with body.block("else:"):
        body.emit(f"{out} = {acc}" if folding else f"{out} = tuple({acc})")
    body.depth = outer
    body.check()  # a break leaves without the test of its chunk
    if not folding:
        # The list the library function would have built, measured as its result would be
        # (after the steps: a budget spent in the loop stops the run before this).
        with body.block(f"if type({out}) is tuple:"):
            body.emit(f"{out} = R.built({body.const(LIBRARY[name])}, ({xs},), {out}, {node_id})")
    body.loops -= 1
    # What the result holds, if it is a tuple (it is one only when the loop made it).
    if filtering and elements is not None:
        body.int_lists[out] = elements
    elif name == "List::map_v0" and kind == "int" and steady:
        body.int_lists[out] = body.bound(value)
    return True
