"""The `Dict` module of the Gloam standard library: maps from String keys to values.

A `Dict<a>` maps Strings to values of one type `a`. Dicts are immutable and
represented as `FrozenDict`; every "change" returns a new one.

Choices worth knowing:

- Order: a Dict remembers the order in which its keys were first added, and
  `keys_v0`, `values_v0`, `toList_v0`, `map_v0` and `filter_v1` follow it.
  `set_v0` on an existing key keeps its position. `merge_v0` keeps the left
  dict's order, then the right dict's new keys.
- Gloam has no tuples, so an entry is a 2-element list `[key, value]`:
  `toList_v0` returns those, `fromList_v0` and
  `fromListOverwritingDuplicates_v0` take them (a key that is not a String,
  or an element that is not a 2-element list, is an error).
- `fromList_v0` is `Nothing` if a key occurs twice;
  `fromListOverwritingDuplicates_v0` keeps the last value of each key.
- `Dict::get` has three versions: `get_v0` returns the value or `null` (typed
  `?`), `get_v1` and `get_v2` return an `Option`. Both old versions are
  deprecated in favour of `get_v2`; they keep working for code written
  against them.
- The lambdas of `map_v0`, `filter_v1` and `filterMap_v0` receive the key and
  the value: `fn key value`.
"""

from __future__ import annotations

from typing import Any

from shared_ast.stdlib.bool_fns import describe, expect_bool
from shared_ast.stdlib.option_fns import expect_option
from shared_ast.stdlib.registry import CallContext, Deprecation, LibError, register
from shared_ast.type_ast import BOOL, INT, STRING, UNKNOWN, TDict, TFn, TList, TOption, TVar
from shared_ast.values import NOTHING, FrozenDict, Variant, just

__all__: list[str] = []

A = TVar("a")
B = TVar("b")

# ---------------------------------------------------------------- helpers


def _entries(pairs: tuple[Any, ...]) -> list[tuple[str, Any]]:
    """The `[key, value]` elements of `pairs` as Python pairs, checking their shape."""
    out = []
    for i, p in enumerate(pairs):
        if not isinstance(p, tuple) or len(p) != 2:
            raise LibError(
                "Expected every element of the list to be a 2-element list [key, value],"
                f" but element {i} is {describe(p)}"
            )
        key, value = p
        if not isinstance(key, str):
            raise LibError(
                f"Expected the key of element {i} to be a String, but it was {describe(key)}"
            )
        out.append((key, value))
    return out


# ---------------------------------------------------------------- building


@register("Dict", "empty", 0, [], TDict(A), "Returns an empty dictionary.")
def empty_v0(ctx: CallContext) -> FrozenDict:
    return FrozenDict()


@register(
    "Dict", "singleton", 0, [("key", STRING), ("value", A)], TDict(A),
    "Returns a dictionary with the one entry key: value.",
)
def singleton_v0(ctx: CallContext, key: str, value: Any) -> FrozenDict:
    return FrozenDict({key: value})


@register(
    "Dict", "fromList", 0, [("entries", TList(TList(UNKNOWN)))], TOption(TDict(A)),
    "Builds a dictionary from [key, value] lists; Nothing if a key occurs more than once.",
)
def from_list_v0(ctx: CallContext, entries: tuple[Any, ...]) -> Variant:
    d: dict[str, Any] = {}
    for key, value in _entries(entries):
        if key in d:
            return NOTHING
        d[key] = value
    return just(FrozenDict(d))


@register(
    "Dict", "fromListOverwritingDuplicates", 0,
    [("entries", TList(TList(UNKNOWN)))], TDict(A),
    "Builds a dictionary from [key, value] lists; a repeated key keeps its last value.",
)
def from_list_overwriting_duplicates_v0(ctx: CallContext, entries: tuple[Any, ...]) -> FrozenDict:
    return FrozenDict(dict(_entries(entries)))


@register(
    "Dict", "set", 0, [("dict", TDict(A)), ("key", STRING), ("value", A)], TDict(A),
    "Returns dict with key set to value (added, or replaced in place).",
)
def set_v0(ctx: CallContext, d: FrozenDict, key: str, value: Any) -> FrozenDict:
    return d.set(key, value)


@register(
    "Dict", "remove", 0, [("dict", TDict(A)), ("key", STRING)], TDict(A),
    "Returns dict without the entry for key (unchanged if there is none).",
)
def remove_v0(ctx: CallContext, d: FrozenDict, key: str) -> FrozenDict:
    return d.remove(key) if key in d else d


@register(
    "Dict", "merge", 0, [("left", TDict(A)), ("right", TDict(A))], TDict(A),
    "Combines two dictionaries; where both have a key, the value from right wins.",
)
def merge_v0(ctx: CallContext, left: FrozenDict, right: FrozenDict) -> FrozenDict:
    d = left.as_dict()
    d.update(right)
    return FrozenDict(d)


# ---------------------------------------------------------------- reading


@register(
    "Dict", "get", 0, [("dict", TDict(A)), ("key", STRING)], UNKNOWN,
    "Returns the value for key, or null if dict has none.",
    deprecated=Deprecation(
        replaced_by="Dict::get_v2",
        reason="Returns null for a missing key and is typed ?; get_v2 returns an Option.",
    ),
)
def get_v0(ctx: CallContext, d: FrozenDict, key: str) -> Any:
    return d.get(key)


@register(
    "Dict", "get", 1, [("dict", TDict(A)), ("key", STRING)], TOption(A),
    "Returns Just the value for key, or Nothing if dict has none.",
    deprecated=Deprecation(
        replaced_by="Dict::get_v2",
        reason="Superseded by get_v2, which behaves the same; v1 stays for old code.",
    ),
)
def get_v1(ctx: CallContext, d: FrozenDict, key: str) -> Variant:
    return just(d[key]) if key in d else NOTHING


@register(
    "Dict", "get", 2, [("dict", TDict(A)), ("key", STRING)], TOption(A),
    "Returns Just the value for key, or Nothing if dict has none.",
)
def get_v2(ctx: CallContext, d: FrozenDict, key: str) -> Variant:
    return just(d[key]) if key in d else NOTHING


@register(
    "Dict", "member", 0, [("dict", TDict(A)), ("key", STRING)], BOOL,
    "Returns true if dict has an entry for key.",
)
def member_v0(ctx: CallContext, d: FrozenDict, key: str) -> bool:
    return key in d


@register("Dict", "size", 0, [("dict", TDict(A))], INT, "Returns the number of entries in dict.")
def size_v0(ctx: CallContext, d: FrozenDict) -> int:
    return len(d)


@register("Dict", "isEmpty", 0, [("dict", TDict(A))], BOOL, "Returns true if dict has no entries.")
def is_empty_v0(ctx: CallContext, d: FrozenDict) -> bool:
    return len(d) == 0


@register(
    "Dict", "keys", 0, [("dict", TDict(A))], TList(STRING),
    "Returns the keys of dict, in the order they were first added.",
)
def keys_v0(ctx: CallContext, d: FrozenDict) -> tuple[str, ...]:
    return tuple(d.keys())


@register(
    "Dict", "values", 0, [("dict", TDict(A))], TList(A),
    "Returns the values of dict, in the order their keys were first added.",
)
def values_v0(ctx: CallContext, d: FrozenDict) -> tuple[Any, ...]:
    return tuple(d.values())


@register(
    "Dict", "toList", 0, [("dict", TDict(A))], TList(TList(UNKNOWN)),
    "Returns the entries of dict as [key, value] lists, in the order the keys were first added.",
)
def to_list_v0(ctx: CallContext, d: FrozenDict) -> tuple[tuple[str, Any], ...]:
    return tuple((k, v) for k, v in d.items())


# ---------------------------------------------------------------- lambdas


@register(
    "Dict", "map", 0, [("dict", TDict(A)), ("fn", TFn((STRING, A), B))], TDict(B),
    "Returns dict with each value replaced by fn key value.",
)
def map_v0(ctx: CallContext, d: FrozenDict, fn: Any) -> FrozenDict:
    return FrozenDict({k: ctx.apply(fn, (k, v)) for k, v in d.items()})


@register(
    "Dict", "filter", 1, [("dict", TDict(A)), ("fn", TFn((STRING, A), BOOL))], TDict(A),
    "Keeps the entries for which fn key value returns true; fn must return a Bool.",
)
def filter_v1(ctx: CallContext, d: FrozenDict, fn: Any) -> FrozenDict:
    kept = {
        k: v
        for k, v in d.items()
        if expect_bool(ctx.apply(fn, (k, v)), "the function passed to Dict::filter_v1")
    }
    return FrozenDict(kept)


@register(
    "Dict", "filterMap", 0,
    [("dict", TDict(A)), ("fn", TFn((STRING, A), TOption(B)))], TDict(B),
    "Calls fn key value on each entry, keeping key: x for each Just x and dropping each Nothing.",
)
def filter_map_v0(ctx: CallContext, d: FrozenDict, fn: Any) -> FrozenDict:
    out: dict[str, Any] = {}
    for k, v in d.items():
        r = expect_option(ctx.apply(fn, (k, v)), "the function passed to Dict::filterMap_v0")
        if r.name == "Just":
            out[k] = r.args[0]
    return FrozenDict(out)
