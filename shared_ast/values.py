"""Runtime values of the Gloam language.

Plain Python values where they fit, so library functions and compiled code are
fast: Int is `int`, Float `float`, Bool `bool`, String `str`, Null `None`,
List `tuple`, Date an aware UTC `datetime`, UUID `uuid.UUID`. Records and
dicts are `FrozenDict`. The rest are small frozen classes.

Three values are not ordinary data, and every consumer must handle them:

- `Incomplete`: what a hole (or anything that needs one) evaluates to;
- `ErrorValue`: a runtime error, with the id of the node that raised it;
- `ErrorRail`: a `Nothing`/`Error` sent to the error rail, on its way out of the handler.

`is_special(v)` tells whether a value is one of them. Note that `bool` is a
subclass of `int` in Python: always test for `bool` before `int`.
"""

from __future__ import annotations

import datetime as _dt
import math
import uuid as _uuid
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from shared_ast.nodes import Expr, NodeId


class FrozenDict(Mapping[str, Any]):
    """An immutable mapping from String to Value: records and dicts."""

    __slots__ = ("_d", "_hash")

    def __init__(self, items: Mapping[str, Any] | None = None, /, **kw: Any) -> None:
        d = dict(items or {})
        d.update(kw)
        self._d = d
        self._hash: int | None = None

    @classmethod
    def owning(cls, d: dict[str, Any]) -> FrozenDict:
        """A FrozenDict of `d` itself, not a copy: for a dict the caller has just built
        and never touches again (a decoder's, a record literal's)."""
        made = cls.__new__(cls)
        made._d = d
        made._hash = None
        return made

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"FrozenDict({self._d!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._d == other._d
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset((k, _hashable(v)) for k, v in self._d.items()))
        return self._hash

    def set(self, key: str, value: Any) -> FrozenDict:
        d = dict(self._d)
        d[key] = value
        return FrozenDict(d)

    def remove(self, key: str) -> FrozenDict:
        d = dict(self._d)
        d.pop(key, None)
        return FrozenDict(d)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._d)


def _hashable(v: Any) -> Any:
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


@attrs.frozen
class Char:
    """One extended grapheme cluster."""

    text: str


@attrs.frozen
class Variant:
    """A constructed value: `Just x`, `Nothing`, `Ok x`, `Error e`, or a user enum case.

    `type_name` is set for user enum cases (`Color_v0`), None for the built-in ones.
    """

    name: str
    args: tuple[Any, ...] = ()
    type_name: str | None = None


NOTHING = Variant("Nothing")


def just(v: Any) -> Variant:
    return Variant("Just", (v,))


def ok(v: Any) -> Variant:
    return Variant("Ok", (v,))


def error(v: Any) -> Variant:
    return Variant("Error", (v,))


@attrs.frozen
class Closure:
    """A lambda value: its parameter names, its body and the variables it captured."""

    params: tuple[str, ...]
    body: Expr
    env: FrozenDict = attrs.field(factory=FrozenDict)
    language_version: int = 0


@attrs.frozen
class Response:
    """An HTTP response, as `Http::response_v0` and friends build it."""

    status: int
    body: Any
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class DatastoreRef:
    """The value of a datastore variable: which datastore (`Users_v0`) a DB call reads or writes."""

    name: str
    version: int

    @property
    def qualified(self) -> str:
        return f"{self.name}_v{self.version}"


@attrs.frozen
class ImpureCall:
    """One call of an impure library function: its qualified name, arguments and result
    (kept in a trace, and in a test made from one, to be replayed)."""

    name: str
    args: tuple[Any, ...]
    result: Any


@attrs.frozen
class Incomplete:
    """The value of a hole, and of anything that needed one."""

    node_id: NodeId | None = None


@attrs.frozen
class ErrorValue:
    """A runtime error raised by the node `node_id`."""

    message: str
    node_id: NodeId | None = None


@attrs.frozen
class ErrorRail:
    """A `Nothing` or `Error e` sent to the error rail by the call `node_id`."""

    value: Variant
    node_id: NodeId | None = None


Special = Incomplete | ErrorValue | ErrorRail
SPECIAL_TYPES = (Incomplete, ErrorValue, ErrorRail)


def is_special(v: Any) -> bool:
    return isinstance(v, SPECIAL_TYPES)


def first_special(values: tuple[Any, ...] | list[Any]) -> Any:
    """The value a call with these arguments yields instead of running, or None.

    An error-rail exit wins over everything (it is control flow), then an
    incomplete argument (the call is incomplete), then the first error.
    """
    found_incomplete = None
    found_error = None
    for v in values:
        if isinstance(v, ErrorRail):
            return v
        if isinstance(v, Incomplete):
            if found_incomplete is None:
                found_incomplete = v
        elif isinstance(v, ErrorValue) and found_error is None:
            found_error = v
    return found_incomplete if found_incomplete is not None else found_error


def values_equal(a: Any, b: Any) -> bool:
    """Structural equality that respects types: `1 == 1.0` is false, `true == 1` is false.

    Values share parts (`let x = [y, y]`): a List nested 40 deep that doubles each
    time is 40 Lists in memory but 2^40 elements as a tree. Each pair of parts is
    compared once, so the time follows the memory, not the tree."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (tuple, FrozenDict, Variant, Response)):
        return _equal_parts(a, b, set())
    return bool(a == b)


def _equal_parts(a: Any, b: Any, equal: set[tuple[int, int]]) -> bool:
    """`values_equal`, remembering the pairs of containers found equal (both stay alive
    for the whole comparison, so their ids are theirs)."""
    if type(a) is not type(b):
        return False
    if a is b:
        return True  # NaN equals NaN here, so a value equals itself
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if not isinstance(a, (tuple, FrozenDict, Variant, Response)):
        return bool(a == b)
    key = (id(a), id(b))
    if key in equal:
        return True
    if isinstance(a, tuple):
        same = len(a) == len(b) and all(_equal_parts(x, y, equal)
                                        for x, y in zip(a, b, strict=True))
    elif isinstance(a, FrozenDict):
        same = a.keys() == b.keys() and all(_equal_parts(a[k], b[k], equal) for k in a)
    elif isinstance(a, Variant):
        same = (a.name == b.name and a.type_name == b.type_name
                and _equal_parts(a.args, b.args, equal))
    else:
        same = (a.status == b.status and a.headers == b.headers
                and _equal_parts(a.body, b.body, equal))
    if same:
        equal.add(key)
    return same


def type_name_of(v: Any) -> str:
    """The name of a value's type, for error messages."""
    if isinstance(v, bool):
        return "Bool"
    if isinstance(v, int):
        return "Int"
    if isinstance(v, float):
        return "Float"
    if isinstance(v, str):
        return "String"
    if v is None:
        return "Null"
    if isinstance(v, tuple):
        return "List"
    if isinstance(v, FrozenDict):
        return "Dict"
    if isinstance(v, Char):
        return "Char"
    if isinstance(v, Variant):
        if v.type_name:
            return v.type_name
        return "Option" if v.name in ("Just", "Nothing") else "Result"
    if isinstance(v, Closure):
        return "Function"
    if isinstance(v, _dt.datetime):
        return "Date"
    if isinstance(v, _uuid.UUID):
        return "UUID"
    if isinstance(v, Response):
        return "Response"
    if isinstance(v, DatastoreRef):
        return "Datastore"
    if isinstance(v, Incomplete):
        return "Incomplete"
    if isinstance(v, ErrorValue):
        return "Error"
    if isinstance(v, ErrorRail):
        return "ErrorRail"
    return type(v).__name__


#: Parts nested deeper than this show as "…" (a value can be nested deeper than Python's
#: stack: a test's check of one once crashed the whole run).
SHOW_DEPTH = 100


def show(v: Any, limit: int = 2000) -> str:
    """A short human-readable rendering, as the editor shows a live value."""
    text = _show(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(v: Any, depth: int = 0) -> str:
    if depth > SHOW_DEPTH:
        return "…"
    d = depth + 1
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if v is None:
        return "null"
    if isinstance(v, tuple):
        return "[" + ", ".join(_show(x, d) for x in v) + "]"
    if isinstance(v, FrozenDict):
        return "{" + ", ".join(f"{k}: {_show(x, d)}" for k, x in v.items()) + "}"
    if isinstance(v, Char):
        return "'" + v.text + "'"
    if isinstance(v, Variant):
        if not v.args:
            return v.name
        return v.name + " " + " ".join(_show(a, d) for a in v.args)
    if isinstance(v, Closure):
        return "\\" + ", ".join(v.params) + " -> …"
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, _uuid.UUID):
        return str(v)
    if isinstance(v, Response):
        return f"Response {v.status} {_show(v.body, d)}"
    if isinstance(v, DatastoreRef):
        return v.qualified
    if isinstance(v, Incomplete):
        return "<incomplete>"
    if isinstance(v, ErrorValue):
        return f"<error: {v.message}>"
    if isinstance(v, ErrorRail):
        return f"<error rail: {_show(v.value, d)}>"
    return repr(v)
