"""Programs of a given size for the benchmarks, built with the same builder tests use.

A body of N nodes is a chain of lets, each doing a little arithmetic on the
one before (and, in handlers, calling a user function), so the checker and the
editor see ordinary typed code, not one giant literal list.
"""

from __future__ import annotations

from shared_ast import build as b
from shared_ast.nodes import Expr
from shared_ast.toplevels import Handler, Toplevel, UserFunction
from shared_ast.traverse import walk
from shared_ast.type_ast import INT


def size_of(tl: Toplevel | Expr) -> int:
    """Nodes in a toplevel or expression (the toplevel itself not counted)."""
    return sum(1 for _ in walk(tl))


def let_chain(nodes: int, start: str, fn: UserFunction | None = None) -> Expr:
    """An Int expression of about `nodes` nodes that starts from variable `start`."""
    # Each step is 6 nodes: let vK = (prev + K) * 2, or let vK = fn (prev + K) when given.
    steps = max(1, -(-(nodes - 7) // 6))
    names = [start] + [f"v{k}" for k in range(1, steps + 1)]
    last = names[-1]
    body: Expr = b.record(total=b.var(last), half=b.call("Int::divide_v0", b.var(last), 2))
    for k in range(steps, 0, -1):
        grown = b.infix("+", b.var(names[k - 1]), k)
        rhs = b.user_call(fn, grown) if fn is not None and k % 3 == 0 else b.infix("*", grown, 2)
        body = b.let(names[k], rhs, body)
    return body


def sized_function(nodes: int, index: int) -> UserFunction:
    """A function `fK (x: Int) : Int` of about `nodes` nodes."""
    body: Expr = b.int_(0)
    steps = max(1, -(-(nodes - 2) // 6))
    names = ["x"] + [f"w{k}" for k in range(1, steps + 1)]
    body = b.var(names[-1])
    for k in range(steps, 0, -1):
        body = b.let(names[k], b.infix("*", b.infix("+", b.var(names[k - 1]), k), 2), body)
    return b.function(f"f{index}", [("x", INT)], INT, body, pos=(40, 40 + 200 * index))


def sized_handler(nodes: int, index: int, fn: UserFunction | None = None) -> Handler:
    """`GET /hK/:n` whose body parses n and runs a let chain of about `nodes` nodes."""
    chain = let_chain(nodes + 2, "n0", fn)
    body = b.let("n0", b.call("Int::parse_v0", b.var("n"), rail=True), chain)
    return b.http("GET", f"/h{index}/:n", body, pos=(600, 40 + 200 * index))


def canvas_of(toplevels: int, nodes_each: int, functions: int) -> list[Toplevel]:
    """`functions` functions and `toplevels - functions` handlers calling them, round-robin."""
    fns = [sized_function(nodes_each, i) for i in range(functions)]
    handlers = [sized_handler(nodes_each, i, fns[i % functions] if functions else None)
                for i in range(toplevels - functions)]
    return [*fns, *handlers]
