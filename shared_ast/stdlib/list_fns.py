"""The `List` module of the Gloam standard library, part 1: building and taking apart lists.

Lists are immutable and represented as Python tuples; every function here
returns a tuple. This file holds the functions that need no lambda (building,
indexing, slicing, zipping, sorting plain values); those that call one
(`map`, `filter`, `fold`, `sortBy`, ...) are in `list_lambda_fns`.

Choices worth knowing:

- Positions are 0-based. `List::getAt_v1` with a negative or too-large index
  is `Nothing`. Negative counts in `take` / `drop` count as zero.
- Functions that may find nothing return an `Option` (`head_v1`, `last_v2`,
  `getAt_v1`, `tail_v0`, `randomElement_v0`). `List::head_v0` is the old
  version that returns the head or `null` (typed `?`); it is deprecated in
  favour of `List::head_v1`.
- Gloam has no tuples, so a pair is a 2-element list: `List::zip_v0` gives
  `[[a1, b1], [a2, b2], ...]` and `List::unzip_v0` takes that shape back to
  `[[a1, a2, ...], [b1, b2, ...]]`. `zip_v0` is `Nothing` when the lengths
  differ; `zipShortest_v0` stops at the shorter list.
- `List::range_v0(lo, hi)` includes both ends (empty if lo > hi).
  `range_v0`, `repeat_v0`, `append_v0` and `flatten_v0` ask the run
  (`ctx.will_build`) before building a list longer than its limit (by default
  `MAX_BUILT_LENGTH`), so a typo cannot exhaust the server's memory.
- `List::sort_v0` sorts Ints, Floats, Strings or Chars (all of one type; NaN
  sorts last; Strings by code point). Mixing types is an error.
- Equality (`member_v0`, `contains_v0`) is Gloam's typed structural equality:
  `1` is not `1.0` and `true` is not `1`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from shared_ast.stdlib.bool_fns import describe
from shared_ast.stdlib.registry import CallContext, Deprecation, LibError, register
from shared_ast.type_ast import (
    BOOL,
    INT,
    UNKNOWN,
    TList,
    TOption,
    TVar,
)
from shared_ast.values import (
    NOTHING,
    Char,
    FrozenDict,
    Variant,
    just,
    type_name_of,
    values_equal,
)

__all__ = [
    "MAX_BUILT_LENGTH",
    "expect_list",
    "sort_key_for",
    "typed_key",
    "unique_by_keys",
]

A = TVar("a")
B = TVar("b")

#: The longest list a run builds by default (`limits.Budget.max_list`).
MAX_BUILT_LENGTH = 1_000_000

# ---------------------------------------------------------------- helpers


def expect_list(v: Any, what: str) -> tuple[Any, ...]:
    """`v` if it is a List, else a `LibError` naming `what`."""
    if isinstance(v, tuple):
        return v
    raise LibError(f"Expected {what} to be a List, but it was {describe(v)}")


def typed_key(v: Any) -> Hashable | None:
    """A hashable key such that `typed_key(a) == typed_key(b)` iff `values_equal(a, b)`.

    None for values with no such key (lambdas and other unusual values); callers
    then fall back to comparing with `values_equal`.
    """
    if isinstance(v, bool):
        return ("Bool", v)
    if isinstance(v, int):
        return ("Int", v)
    if isinstance(v, float):
        return ("Float", "NaN" if math.isnan(v) else v)
    if isinstance(v, str):
        return ("String", v)
    if v is None:
        return ("Null",)
    if isinstance(v, Char):
        return ("Char", v.text)
    if isinstance(v, dt.datetime | uuid.UUID):
        return (type_name_of(v), v)
    if isinstance(v, tuple):
        items = [typed_key(x) for x in v]
        return None if any(k is None for k in items) else ("List", tuple(items))
    if isinstance(v, FrozenDict):
        entries = [(k, typed_key(x)) for k, x in v.items()]
        if any(k is None for _, k in entries):
            return None
        return ("Dict", frozenset(entries))
    if isinstance(v, Variant):
        args = [typed_key(x) for x in v.args]
        if any(k is None for k in args):
            return None
        return ("Variant", v.type_name, v.name, tuple(args))
    return None


def unique_by_keys(values: tuple[Any, ...], keys: list[Any]) -> tuple[Any, ...]:
    """The values whose key is the first of its kind (by `values_equal`), in order."""
    seen: set[Hashable] = set()
    unhashable: list[Any] = []
    out = []
    for v, k in zip(values, keys, strict=True):
        hk = typed_key(k)
        if hk is not None:
            if hk in seen:
                continue
            seen.add(hk)
        else:
            if any(values_equal(k, u) for u in unhashable):
                continue
            unhashable.append(k)
        out.append(v)
    return tuple(out)


def _float_key(x: float) -> tuple[bool, float]:
    return (math.isnan(x), 0.0 if math.isnan(x) else x)


_SORTABLE = frozenset({"Int", "Float", "String", "Char"})


def _sort_kind(v: Any) -> str | None:
    kind = type_name_of(v)
    return kind if kind in _SORTABLE else None


def sort_key_for(values: tuple[Any, ...] | list[Any], what: str) -> Callable[[Any], Any]:
    """A Python sort key for `values`, which must all be Ints, Floats, Strings or Chars.

    `what` names the values in errors ("the list", "the keys fn returned").
    """
    kind: str | None = None
    for i, v in enumerate(values):
        k = _sort_kind(v)
        if k is None:
            raise LibError(
                f"Cannot sort {what}: element {i} is {describe(v)};"
                " expected Ints, Floats, Strings or Chars"
            )
        if kind is None:
            kind = k
        elif k != kind:
            raise LibError(
                f"Cannot sort {what}: it mixes {kind}s and {k}s (element {i} is {describe(v)});"
                " expected all elements of one type"
            )
    if kind == "Float":
        return _float_key
    if kind == "Char":
        return lambda c: c.text
    return lambda v: v


# ---------------------------------------------------------------- building


@register("List", "empty", 0, [], TList(A), "Returns an empty list.")
def empty_v0(ctx: CallContext) -> tuple[Any, ...]:
    return ()


@register("List", "singleton", 0, [("val", A)], TList(A), "Returns a list holding only val.")
def singleton_v0(ctx: CallContext, val: Any) -> tuple[Any, ...]:
    return (val,)


@register(
    "List", "push", 0, [("list", TList(A)), ("val", A)], TList(A),
    "Adds val to the front of list.",
)
def push_v0(ctx: CallContext, xs: tuple[Any, ...], val: Any) -> tuple[Any, ...]:
    return (val, *xs)


@register(
    "List", "pushBack", 0, [("list", TList(A)), ("val", A)], TList(A),
    "Adds val to the end of list.",
)
def push_back_v0(ctx: CallContext, xs: tuple[Any, ...], val: Any) -> tuple[Any, ...]:
    return (*xs, val)


@register(
    "List", "append", 0, [("as", TList(A)), ("bs", TList(A))], TList(A),
    "Returns the elements of as followed by the elements of bs.",
)
def append_v0(ctx: CallContext, xs: tuple[Any, ...], ys: tuple[Any, ...]) -> tuple[Any, ...]:
    ctx.will_build("List", len(xs) + len(ys))
    return xs + ys


@register(
    "List", "range", 0, [("lowest", INT), ("highest", INT)], TList(INT),
    "Returns the Ints from lowest to highest, both included (empty if lowest > highest).",
)
def range_v0(ctx: CallContext, lowest: int, highest: int) -> tuple[int, ...]:
    if lowest > highest:
        return ()
    ctx.will_build("List", highest - lowest + 1)
    return tuple(range(lowest, highest + 1))


@register(
    "List", "repeat", 0, [("times", INT), ("val", A)], TList(A),
    "Returns a list holding val times times; times must not be negative.",
)
def repeat_v0(ctx: CallContext, times: int, val: Any) -> tuple[Any, ...]:
    if times < 0:
        raise LibError(f"Expected times to be zero or positive, but it was {times}")
    ctx.will_build("List", times)
    return (val,) * times


@register(
    "List", "flatten", 0, [("list", TList(TList(A)))], TList(A),
    "Joins a list of lists into one list, in order.",
)
def flatten_v0(ctx: CallContext, xss: tuple[Any, ...]) -> tuple[Any, ...]:
    # The lists may be one list many times over: ask before building a list that long.
    ctx.will_build("List", sum(len(xs) for xs in xss if type(xs) is tuple))
    out: list[Any] = []
    for i, xs in enumerate(xss):
        out.extend(expect_list(xs, f"element {i} of the list"))
    return tuple(out)


@register(
    "List", "interpose", 0, [("list", TList(A)), ("sep", A)], TList(A),
    "Puts sep between each pair of adjacent elements of list.",
)
def interpose_v0(ctx: CallContext, xs: tuple[Any, ...], sep: Any) -> tuple[Any, ...]:
    out: list[Any] = []
    for i, x in enumerate(xs):
        if i:
            out.append(sep)
        out.append(x)
    return tuple(out)


@register(
    "List", "interleave", 0, [("as", TList(A)), ("bs", TList(A))], TList(A),
    "Alternates elements of as and bs, starting with as; the rest of the longer list follows.",
)
def interleave_v0(ctx: CallContext, xs: tuple[Any, ...], ys: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for x, y in zip(xs, ys, strict=False):
        out.extend((x, y))
    n = min(len(xs), len(ys))
    out.extend(xs[n:])
    out.extend(ys[n:])
    return tuple(out)


# ---------------------------------------------------------------- access


@register(
    "List", "head", 0, [("list", TList(A))], UNKNOWN,
    "Returns the first element of list, or null if it is empty.",
    deprecated=Deprecation(
        replaced_by="List::head_v1",
        reason="Returns null for an empty list and is typed ?; head_v1 returns an Option.",
    ),
)
def head_v0(ctx: CallContext, xs: tuple[Any, ...]) -> Any:
    return xs[0] if xs else None


@register(
    "List", "head", 1, [("list", TList(A))], TOption(A),
    "Returns Just the first element of list, or Nothing if it is empty.",
)
def head_v1(ctx: CallContext, xs: tuple[Any, ...]) -> Variant:
    return just(xs[0]) if xs else NOTHING


@register(
    "List", "tail", 0, [("list", TList(A))], TOption(TList(A)),
    "Returns Just every element but the first, or Nothing if list is empty.",
)
def tail_v0(ctx: CallContext, xs: tuple[Any, ...]) -> Variant:
    return just(xs[1:]) if xs else NOTHING


@register(
    "List", "last", 2, [("list", TList(A))], TOption(A),
    "Returns Just the last element of list, or Nothing if it is empty.",
)
def last_v2(ctx: CallContext, xs: tuple[Any, ...]) -> Variant:
    return just(xs[-1]) if xs else NOTHING


@register(
    "List", "getAt", 1, [("list", TList(A)), ("index", INT)], TOption(A),
    "Returns Just the element at index (0-based), or Nothing if index is negative or too large.",
)
def get_at_v1(ctx: CallContext, xs: tuple[Any, ...], index: int) -> Variant:
    return just(xs[index]) if 0 <= index < len(xs) else NOTHING


@register(
    "List", "randomElement", 0, [("list", TList(A))], TOption(A),
    "Returns Just an element of list chosen at random, or Nothing if it is empty.",
    pure=False,
)
def random_element_v0(ctx: CallContext, xs: tuple[Any, ...]) -> Variant:
    return just(random.choice(xs)) if xs else NOTHING


@register("List", "length", 0, [("list", TList(A))], INT, "Returns the number of elements in list.")
def length_v0(ctx: CallContext, xs: tuple[Any, ...]) -> int:
    return len(xs)


@register("List", "isEmpty", 0, [("list", TList(A))], BOOL, "Returns true if list has no elements.")
def is_empty_v0(ctx: CallContext, xs: tuple[Any, ...]) -> bool:
    return not xs


@register(
    "List", "member", 0, [("list", TList(A)), ("val", A)], BOOL,
    "Returns true if val is an element of list (typed equality: 1 is not 1.0).",
)
def member_v0(ctx: CallContext, xs: tuple[Any, ...], val: Any) -> bool:
    return any(values_equal(x, val) for x in xs)


@register(
    "List", "contains", 0, [("list", TList(A)), ("val", A)], BOOL,
    "Returns true if val is an element of list (the same as List::member_v0).",
)
def contains_v0(ctx: CallContext, xs: tuple[Any, ...], val: Any) -> bool:
    return any(values_equal(x, val) for x in xs)


# ---------------------------------------------------------------- slicing


@register(
    "List", "take", 0, [("list", TList(A)), ("count", INT)], TList(A),
    "Returns the first count elements of list (all if it is shorter, none if count < 1).",
)
def take_v0(ctx: CallContext, xs: tuple[Any, ...], count: int) -> tuple[Any, ...]:
    return xs[: max(count, 0)]


@register(
    "List", "drop", 0, [("list", TList(A)), ("count", INT)], TList(A),
    "Returns list without its first count elements (all of it if count < 1).",
)
def drop_v0(ctx: CallContext, xs: tuple[Any, ...], count: int) -> tuple[Any, ...]:
    return xs[max(count, 0) :]


@register("List", "reverse", 0, [("list", TList(A))], TList(A), "Returns list in reverse order.")
def reverse_v0(ctx: CallContext, xs: tuple[Any, ...]) -> tuple[Any, ...]:
    return xs[::-1]


@register(
    "List", "sort", 0, [("list", TList(A))], TList(A),
    "Sorts Ints, Floats, Strings or Chars in ascending order (NaN last); mixed types are an error.",
)
def sort_v0(ctx: CallContext, xs: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sorted(xs, key=sort_key_for(xs, "the list")))


# ---------------------------------------------------------------- pairs


@register(
    "List", "zip", 0, [("as", TList(A)), ("bs", TList(B))], TOption(TList(TList(UNKNOWN))),
    "Pairs up elements as [[a1, b1], [a2, b2], ...]; Nothing if the lists differ in length.",
)
def zip_v0(ctx: CallContext, xs: tuple[Any, ...], ys: tuple[Any, ...]) -> Variant:
    if len(xs) != len(ys):
        return NOTHING
    return just(tuple((x, y) for x, y in zip(xs, ys, strict=True)))


@register(
    "List", "zipShortest", 0, [("as", TList(A)), ("bs", TList(B))], TList(TList(UNKNOWN)),
    "Pairs up elements as [[a1, b1], [a2, b2], ...], stopping at the end of the shorter list.",
)
def zip_shortest_v0(
    ctx: CallContext, xs: tuple[Any, ...], ys: tuple[Any, ...]
) -> tuple[tuple[Any, Any], ...]:
    return tuple((x, y) for x, y in zip(xs, ys, strict=False))


@register(
    "List", "unzip", 0, [("pairs", TList(TList(UNKNOWN)))], TList(TList(UNKNOWN)),
    "Splits a list of 2-element lists [[a1, b1], ...] into [[a1, a2, ...], [b1, b2, ...]].",
)
def unzip_v0(ctx: CallContext, pairs: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    firsts: list[Any] = []
    seconds: list[Any] = []
    for i, p in enumerate(pairs):
        if not isinstance(p, tuple) or len(p) != 2:
            raise LibError(
                f"Expected every element of the list to be a 2-element list [a, b],"
                f" but element {i} is {describe(p)}"
            )
        firsts.append(p[0])
        seconds.append(p[1])
    return (tuple(firsts), tuple(seconds))
