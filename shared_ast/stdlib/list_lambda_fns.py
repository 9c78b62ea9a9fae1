"""The `List` module of the Gloam standard library, part 2: functions that call a lambda.

`map`, `filter`, `fold`, `sortBy` and friends take a function value and call
it through `ctx.apply(fn, args)`. If a call of the lambda is incomplete, an
error or on the error rail, `ctx.apply` raises `Escape` and the whole library
call yields that value; nothing here needs to check. What *is* checked here is
the type of what the lambda returned where the function depends on it:
`filter_v2` insists on a Bool, `filterMap_v0` on an Option, and so on, with
an error that names the function and shows the offending value.

Choices worth knowing:

- Lambdas are called in list order, once per element (the sort functions
  call their key function once per element, the comparator as often as the
  sort needs).
- `List::partition_v0` returns `[matching, notMatching]` (Gloam has no tuples).
- `List::map2_v0` is `Nothing` when the lists differ in length;
  `map2shortest_v0` stops at the shorter list.
- `List::uniqueBy_v0` keeps the first element of each key, in list order.
- `List::sortByComparator_v0`'s comparator returns -1, 0 or 1; any other Int
  makes the result an `Error`. All sorts are stable.
"""

from __future__ import annotations

import functools
from typing import Any

from shared_ast.stdlib.bool_fns import describe, expect_bool
from shared_ast.stdlib.list_fns import sort_key_for, unique_by_keys
from shared_ast.stdlib.option_fns import expect_option
from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import BOOL, INT, STRING, TFn, TList, TOption, TResult, TVar
from shared_ast.values import NOTHING, Variant, error, just, ok

__all__: list[str] = []

A = TVar("a")
B = TVar("b")
C = TVar("c")


def _bool_of(ctx: CallContext, fn: Any, x: Any, name: str) -> bool:
    return expect_bool(ctx.apply(fn, (x,)), f"the function passed to {name}")


# ---------------------------------------------------------------- transforming


@register(
    "List", "map", 0, [("list", TList(A)), ("fn", TFn((A,), B))], TList(B),
    "Calls fn on each element of list and returns the list of results.",
)
def map_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    return tuple(ctx.apply(fn, (x,)) for x in xs)


@register(
    "List", "indexedMap", 0, [("list", TList(A)), ("fn", TFn((INT, A), B))], TList(B),
    "Calls fn on each element and its 0-based index (fn index elem); returns the results.",
)
def indexed_map_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    return tuple(ctx.apply(fn, (i, x)) for i, x in enumerate(xs))


@register(
    "List", "map2", 0,
    [("as", TList(A)), ("bs", TList(B)), ("fn", TFn((A, B), C))], TOption(TList(C)),
    "Calls fn on elements at the same position of as and bs; Nothing if the lengths differ.",
)
def map2_v0(ctx: CallContext, xs: tuple[Any, ...], ys: tuple[Any, ...], fn: Any) -> Variant:
    if len(xs) != len(ys):
        return NOTHING
    return just(tuple(ctx.apply(fn, (x, y)) for x, y in zip(xs, ys, strict=True)))


@register(
    "List", "map2shortest", 0,
    [("as", TList(A)), ("bs", TList(B)), ("fn", TFn((A, B), C))], TList(C),
    "Calls fn on elements at the same position of as and bs, stopping at the shorter list.",
)
def map2shortest_v0(
    ctx: CallContext, xs: tuple[Any, ...], ys: tuple[Any, ...], fn: Any
) -> tuple[Any, ...]:
    return tuple(ctx.apply(fn, (x, y)) for x, y in zip(xs, ys, strict=False))


@register(
    "List", "fold", 0,
    [("list", TList(A)), ("init", B), ("fn", TFn((B, A), B))], B,
    "Combines the elements from left to right: fn (fn init a1) a2 ...; init for an empty list.",
)
def fold_v0(ctx: CallContext, xs: tuple[Any, ...], init: Any, fn: Any) -> Any:
    acc = init
    for x in xs:
        acc = ctx.apply(fn, (acc, x))
    return acc


# ---------------------------------------------------------------- selecting


@register(
    "List", "filter", 2, [("list", TList(A)), ("fn", TFn((A,), BOOL))], TList(A),
    "Keeps the elements for which fn returns true; fn must return a Bool.",
)
def filter_v2(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    return tuple(x for x in xs if _bool_of(ctx, fn, x, "List::filter_v2"))


@register(
    "List", "filterMap", 0,
    [("list", TList(A)), ("fn", TFn((A,), TOption(B)))], TList(B),
    "Calls fn on each element, keeping x for each Just x it returns and dropping each Nothing.",
)
def filter_map_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    out = []
    for x in xs:
        r = expect_option(ctx.apply(fn, (x,)), "the function passed to List::filterMap_v0")
        if r.name == "Just":
            out.append(r.args[0])
    return tuple(out)


@register(
    "List", "partition", 0, [("list", TList(A)), ("fn", TFn((A,), BOOL))], TList(TList(A)),
    "Splits list into [elements where fn is true, elements where it is false], keeping order.",
)
def partition_v0(
    ctx: CallContext, xs: tuple[Any, ...], fn: Any
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    yes: list[Any] = []
    no: list[Any] = []
    for x in xs:
        (yes if _bool_of(ctx, fn, x, "List::partition_v0") else no).append(x)
    return (tuple(yes), tuple(no))


@register(
    "List", "findFirst", 2, [("list", TList(A)), ("fn", TFn((A,), BOOL))], TOption(A),
    "Returns Just the first element for which fn returns true, or Nothing.",
)
def find_first_v2(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> Variant:
    for x in xs:
        if _bool_of(ctx, fn, x, "List::findFirst_v2"):
            return just(x)
    return NOTHING


@register(
    "List", "all", 0, [("list", TList(A)), ("fn", TFn((A,), BOOL))], BOOL,
    "Returns true if fn returns true for every element (true for an empty list).",
)
def all_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> bool:
    return all(_bool_of(ctx, fn, x, "List::all_v0") for x in xs)


@register(
    "List", "takeWhile", 0, [("list", TList(A)), ("fn", TFn((A,), BOOL))], TList(A),
    "Returns the longest prefix of list whose elements all make fn return true.",
)
def take_while_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    for i, x in enumerate(xs):
        if not _bool_of(ctx, fn, x, "List::takeWhile_v0"):
            return xs[:i]
    return xs


@register(
    "List", "dropWhile", 0, [("list", TList(A)), ("fn", TFn((A,), BOOL))], TList(A),
    "Drops elements from the front of list while fn returns true; returns the rest.",
)
def drop_while_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    for i, x in enumerate(xs):
        if not _bool_of(ctx, fn, x, "List::dropWhile_v0"):
            return xs[i:]
    return ()


@register(
    "List", "uniqueBy", 0, [("list", TList(A)), ("fn", TFn((A,), B))], TList(A),
    "Keeps the first element for each distinct value of fn elem, in list order.",
)
def unique_by_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    keys = [ctx.apply(fn, (x,)) for x in xs]
    return unique_by_keys(xs, keys)


# ---------------------------------------------------------------- sorting


@register(
    "List", "sortBy", 0, [("list", TList(A)), ("fn", TFn((A,), B))], TList(A),
    "Sorts list by the key fn returns for each element (Ints, Floats, Strings or Chars); stable.",
)
def sort_by_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    keys = [ctx.apply(fn, (x,)) for x in xs]
    key = sort_key_for(keys, "by the keys the function returned")
    order = sorted(range(len(xs)), key=lambda i: key(keys[i]))
    return tuple(xs[i] for i in order)


class _BadComparison(Exception):
    def __init__(self, returned: int) -> None:
        super().__init__(returned)
        self.returned = returned


@register(
    "List", "sortByComparator", 0,
    [("list", TList(A)), ("fn", TFn((A, A), INT))], TResult(TList(A), STRING),
    "Sorts list by fn a b: -1 puts a first, 1 puts b first, 0 keeps order; Error on other Ints.",
)
def sort_by_comparator_v0(ctx: CallContext, xs: tuple[Any, ...], fn: Any) -> Variant:
    def compare(a: Any, b: Any) -> int:
        r = ctx.apply(fn, (a, b))
        if isinstance(r, bool) or not isinstance(r, int):
            raise LibError(
                "Expected the function passed to List::sortByComparator_v0 to return an Int"
                f" (-1, 0 or 1), but it returned {describe(r)}"
            )
        if r not in (-1, 0, 1):
            raise _BadComparison(r)
        return r

    try:
        return ok(tuple(sorted(xs, key=functools.cmp_to_key(compare))))
    except _BadComparison as e:
        return error(f"Expected the comparator to return -1, 0 or 1, but it returned {e.returned}")
