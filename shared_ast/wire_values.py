"""Runtime values on the wire, and the JSON checks the whole wire format shares.

`shared_ast.wire` is the public face of the wire format; this module is the
layer under it. It holds:

- `WireError`, the one error every decoder raises, with the path to the bad field;
- the strict readers of JSON scalars (`true` is not an Int, `1` is not a Bool,
  `"1"` is not an Int) that the node converter in `wire` uses as cattrs hooks;
- `ValueCodec`, which encodes runtime values (`shared_ast.values`).

Values are plain Python objects (an Int is an `int`, a List a `tuple`), not a
class hierarchy cattrs could walk, so they get a codec of their own: each value
is an object tagged by `"kind"` (the keys of `VALUE_KINDS`). A closure carries
its body as an expression node, so the codec is built with the expression
codec of `wire`, which keeps this module free of the converter.

Floats that JSON cannot spell (NaN, ±Infinity) travel as the strings "NaN",
"Infinity" and "-Infinity", so every document is standard JSON.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import sys
import threading
import uuid as _uuid
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, NoReturn, Protocol, TypeVar

import attrs
import regex  # type: ignore[import-untyped]

from shared_ast import values as v
from shared_ast.live import MAX_ITERATIONS, LiveValues
from shared_ast.nodes import Expr

__all__ = [
    "LIVE_VERSION",
    "MAX_NESTING",
    "VALUE_KINDS",
    "Json",
    "JsonProblem",
    "LiveValuesLike",
    "Problem",
    "ValueCodec",
    "WireError",
    "bool_in",
    "check_nesting",
    "expect",
    "float_in",
    "float_out",
    "found",
    "int_in",
    "json_problem",
    "json_type",
    "nested_decode",
    "nested_encode",
    "stack_room",
    "str_in",
    "unexpected_fields",
]

Json = Any
"""What `json.loads` returns: dict, list, str, int, float, bool or None, nested."""


class WireError(ValueError):
    """JSON that is not a valid encoding, with the path to the (first) bad field.

    `errors` holds every (path, message) found; `path` and `message` are the first.
    """

    def __init__(self, message: str, path: str = "$",
                 errors: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message, path)
        self.message = message
        self.path = path
        self.errors = errors or ((path, message),)

    def __str__(self) -> str:
        more = len(self.errors) - 1
        extra = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        return f"at {self.path}: {self.message}{extra}"


class Problem(Exception):
    """What is wrong with one JSON scalar; the caller knows where it is and adds the path."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def json_type(raw: object) -> str:
    """The JSON name of what was found, for "expected X, got Y"."""
    match raw:
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case None:
            return "null"
        case list():
            return "array"
        case dict():
            return "object"
    return type(raw).__name__


def found(raw: object) -> str:
    """What was found, for "expected X, got Y": the JSON type, and a short scalar's text."""
    kind = json_type(raw)
    match raw:
        case str() if len(raw) <= 40:
            return f"{kind} {json.dumps(raw, ensure_ascii=False)}"
        case bool() | float():
            return f"{kind} {json.dumps(raw)}"
        case int() if abs(raw) < 10**40:  # str() of a huge int may be refused
            return f"{kind} {raw}"
    return kind


def expect(description: str, raw: object) -> NoReturn:
    raise Problem(f"expected {description}, got {found(raw)}")


def unexpected_fields(keys: list[Any]) -> str:
    """The message for keys an object must not have; reported at the object's path."""
    return f"unexpected field{'s' if len(keys) > 1 else ''} " + ", ".join(map(repr, keys))


# ------------------------------------------------------- what is wrong with JSON text

#: The standard `json` module's messages, in our words. Its wording and, for a
#: trailing comma, its position change between Python versions (3.13 reports the
#: comma, 3.11 the bracket after it); what Gloam says must not change with them.
_JSON_MESSAGES = (
    ("Expecting value", "a value was expected"),
    ("Expecting property name", "a key in double quotes was expected"),
    ("Expecting ',' delimiter", "a comma was expected"),
    ("Expecting ':' delimiter", "a colon was expected"),
    ("Unterminated string", "a string is not closed"),
    ("Invalid control character", "a control character is inside a string (escape it)"),
    ("Invalid \\uXXXX escape", "a \\u escape is not four hex digits"),
    ("Invalid \\escape", "a backslash escape is not one JSON knows"),
    ("Extra data", "more text follows the JSON value"),
)


@attrs.frozen
class JsonProblem:
    """Where JSON text stops being JSON (1-based line and column, 0-based offset), and
    why, in words that do not depend on the Python version."""

    line: int
    column: int
    offset: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


def json_problem(text: str, error: json.JSONDecodeError) -> JsonProblem:
    """`error` (from `json.loads(text)`) described the same on every Python version."""
    pos, msg = error.pos, error.msg
    if msg.startswith("Illegal trailing comma"):
        # 3.13 points at the comma; the text stops being JSON at what follows it.
        pos += 1
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        msg = ("Expecting property name" if msg.endswith("object") else "Expecting value")
    words = next((ours for theirs, ours in _JSON_MESSAGES if msg.startswith(theirs)),
                 "this is not valid JSON")
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return JsonProblem(line, column, pos, words)


# ----------------------------------------------------------------- nesting

#: How many arrays and objects deep a payload may be. Every encoder refuses to
#: write deeper, so whatever was written can be read back.
MAX_NESTING = 1000
# The converter spends up to ~9 Python frames per level of JSON; Python's
# default limit of 1000 frames would stop at ~100 nested lets.
_FRAMES_NEEDED = 20 * MAX_NESTING

T = TypeVar("T")


class _StackRoom:
    """Raises the recursion limit while any wire call runs, restoring it after the last.

    Counted, so that overlapping calls from several threads restore the limit
    only once, and only if nobody else changed it meanwhile.
    """

    def __init__(self, frames: int) -> None:
        self._frames = frames
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getrecursionlimit()
                if self._saved < self._frames:
                    sys.setrecursionlimit(self._frames)
            self._users += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and sys.getrecursionlimit() == self._frames:
                sys.setrecursionlimit(self._saved)


#: `with stack_room:` gives a call room to recurse through `MAX_NESTING` levels.
stack_room = _StackRoom(_FRAMES_NEEDED)


def check_nesting(raw: Json, path: str) -> None:
    """Refuse JSON nested deeper than `MAX_NESTING`, before anything recurses into it."""
    # Entries are (value, depth, parent entry, key): the path is built only on failure.
    stack: list[tuple[Json, int, Any, object]] = [(raw, 0, None, None)]
    while stack:
        entry = stack.pop()
        value, depth = entry[0], entry[1]
        if isinstance(value, dict | list):
            if depth >= MAX_NESTING:
                raise WireError(f"nested more than {MAX_NESTING} levels deep",
                                _path_of(entry, path))
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((child, depth + 1, entry, key) for key, child in pairs)


def _path_of(entry: tuple[Json, int, Any, object], root: str) -> str:
    keys = []
    while entry[2] is not None:
        keys.append(entry[3])
        entry = entry[2]
    return root + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in reversed(keys))


def nested_decode(raw: Json, path: str, decode: Callable[[Json, str], T]) -> T:
    """Run a decoder with room to recurse through anything `MAX_NESTING` deep."""
    check_nesting(raw, path)
    with stack_room:
        try:
            return decode(raw, path)
        except WireError:
            raise
        except RecursionError:
            raise WireError("nested too deeply", path) from None
        except Exception as exc:
            # The contract of every decoder: WireError and nothing else, whatever the input.
            raise WireError(f"cannot decode ({type(exc).__name__}: {exc})", path) from None


def nested_encode(obj: T, encode: Callable[[T], Json]) -> Json:
    """Run an encoder with room to recurse, refusing output too deep to decode."""
    with stack_room:
        try:
            raw = encode(obj)
        except RecursionError:
            raise WireError(f"cannot encode: nested more than {MAX_NESTING} levels deep") \
                from None
    try:
        check_nesting(raw, "$")
    except WireError as exc:
        raise WireError(f"cannot encode: {exc.message}", exc.path) from None
    return raw


# ----------------------------------------------------------------- scalars
# Each reader takes an ignored second argument so that it is a cattrs hook too.

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def int_in(raw: object, _: object = None) -> int:
    # bool is a subclass of int in Python, but `true` is not an Int.
    if type(raw) is not int:
        expect("an integer", raw)
    return raw


def bool_in(raw: object, _: object = None) -> bool:
    if type(raw) is not bool:
        expect("a boolean", raw)
    return raw


def str_in(raw: object, _: object = None) -> str:
    if type(raw) is not str:
        expect("a string", raw)
    return raw


def float_in(raw: object, _: object = None) -> float:
    # JSON does not tell 1 from 1.0, so an integer is a fine Float.
    if type(raw) is float:
        return raw
    if type(raw) is int:
        try:
            return float(raw)
        except OverflowError:
            raise Problem("number too large for a float") from None
    if type(raw) is str and raw in _NON_FINITE:
        return _NON_FINITE[raw]
    expect('a number (or "NaN", "Infinity", "-Infinity")', raw)


def float_out(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _optional_int_in(raw: Json) -> int | None:
    return None if raw is None else int_in(raw)


def _optional_str_in(raw: Json) -> str | None:
    return None if raw is None else str_in(raw)


def _grapheme_in(raw: Json) -> str:
    if regex.fullmatch(r"\X", str_in(raw)) is None:
        raise Problem(f"expected one character (grapheme cluster), got {raw!r}")
    return str(raw)


_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_NODE_ID_KEY = re.compile(r"-?(0|[1-9][0-9]*)", re.ASCII)


def _date_out(d: _dt.datetime) -> str:
    # A naive datetime is taken to be UTC already; an aware one is converted.
    if d.tzinfo is not None:
        d = d.astimezone(_dt.UTC)
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    return f"{text}.{d.microsecond:06d}Z" if d.microsecond else text + "Z"


def _date_in(raw: Json) -> _dt.datetime:
    m = _DATE.fullmatch(str_in(raw))
    if m is None:
        raise Problem(f'expected a UTC date like "2019-07-28T22:42:36Z", got {raw!r}')
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "0").ljust(6, "0"))
    try:
        return _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=_dt.UTC)
    except ValueError as exc:
        raise Problem(f"not a valid date: {raw!r} ({exc})") from None


def _uuid_in(raw: Json) -> _uuid.UUID:
    if _UUID.fullmatch(str_in(raw)) is None:
        raise Problem(f"expected a lowercase hyphenated UUID, got {raw!r}")
    return _uuid.UUID(raw)


# ------------------------------------------------------------------ values

#: Every value kind and its fields, in the order they are written. All are required.
VALUE_KINDS: dict[str, tuple[str, ...]] = {
    "int": ("value",),
    "float": ("value",),
    "bool": ("value",),
    "string": ("value",),
    "null": (),
    "list": ("items",),
    "dict": ("entries",),
    "char": ("text",),
    "variant": ("name", "args", "type_name"),
    "closure": ("params", "body", "env", "language_version"),
    "date": ("value",),
    "uuid": ("value",),
    "response": ("status", "body", "headers"),
    "datastore": ("name", "version"),
    "incomplete": ("node_id",),
    "error": ("message", "node_id"),
    "error_rail": ("value", "node_id"),
}


def _at(path: str, read: Callable[[Json], Any], raw: Json) -> Any:
    try:
        return read(raw)
    except Problem as exc:
        raise WireError(exc.message, path) from None


def _list_in(raw: Json, path: str) -> list[Json]:
    if not isinstance(raw, list):
        raise WireError(f"expected an array, got {found(raw)}", path)
    return raw


def _object_in(raw: Json, path: str, fields: tuple[str, ...] | None = None) -> dict[str, Json]:
    """A JSON object; with `fields`, one that has exactly those (besides "kind")."""
    if not isinstance(raw, dict):
        raise WireError(f"expected an object, got {found(raw)}", path)
    if fields is not None:
        for name in fields:
            if name not in raw:
                raise WireError("missing field", f"{path}.{name}")
        unexpected = [key for key in raw if key != "kind" and key not in fields]
        if unexpected:
            raise WireError(unexpected_fields(unexpected), path)
    return raw


def _strs_in(raw: Json, path: str) -> tuple[str, ...]:
    return tuple(_at(f"{path}[{i}]", str_in, x) for i, x in enumerate(_list_in(raw, path)))


def _headers_in(raw: Json, path: str) -> tuple[tuple[str, str], ...]:
    headers = []
    for i, pair in enumerate(_list_in(raw, path)):
        strs = _strs_in(pair, f"{path}[{i}]")
        if len(strs) != 2:
            raise WireError(f"expected a [name, value] pair, got {len(strs)} items",
                            f"{path}[{i}]")
        headers.append((strs[0], strs[1]))
    return tuple(headers)


def _node_id_key(key: Json, path: str) -> int:
    if not isinstance(key, str) or _NODE_ID_KEY.fullmatch(key) is None:
        raise WireError(f"expected a node id in decimal, got {key!r}", path)
    return int(key)


def _iteration_path(raw: Json, path: str) -> tuple[int, ...]:
    at = tuple(_at(f"{path}[{i}]", int_in, x) for i, x in enumerate(_list_in(raw, path)))
    if any(i < 0 for i in at):
        raise WireError("an iteration path holds call indices from 0 up", path)
    return at


class LiveValuesLike(Protocol):
    """Node id → (value, taken): a mapping of pairs, or an object whose entries have
    `.value` and `.taken`; the evaluator's `LiveValues` also gives its iterations."""

    def items(self) -> Iterable[tuple[int, Any]]: ...


#: The version of the live-values encoding with iterations (an object without it is version 1).
LIVE_VERSION = 2


@attrs.frozen
class ValueCodec:
    """Runtime values to and from tagged JSON objects.

    A closure's body is an expression node, so the codec is given the
    expression codec (`shared_ast.wire` builds the one it uses).
    """

    encode_expr: Callable[[Expr], Json]
    decode_expr: Callable[[Json, str], Expr]

    def encode(self, value: Any) -> Json:
        try:
            return _quick_encode(value, 0)
        except (_NotQuick, RecursionError):
            return self.full_encode(value)

    def decode(self, raw: Json, path: str = "$") -> Any:
        try:
            return _quick_decode(raw, 0)
        except (_NotQuick, RecursionError):
            return self.full_decode(raw, path)

    def encode_text(self, value: Any) -> str:
        """`json.dumps(self.encode(value), allow_nan=False)`, the same text, written
        straight from the value where the quick path can (see the end of this module)."""
        try:
            return _quick_text(value, 0)
        except (_NotQuick, RecursionError):
            pass
        raw = self.encode(value)
        try:
            return json.dumps(raw, allow_nan=False)
        except RecursionError:
            with stack_room:
                return json.dumps(raw, allow_nan=False)

    def full_encode(self, value: Any) -> Json:
        """`encode` without the quick path (see the end of this module), which must
        agree with it wherever it answers: tests compare the two."""
        return nested_encode(value, self._encode)

    def full_decode(self, raw: Json, path: str = "$") -> Any:
        """`decode` without the quick path (as `full_encode`)."""
        return nested_decode(raw, path, self._decode)

    def encode_live(self, live: LiveValuesLike) -> Json:
        return nested_encode(live, self._encode_live)

    def decode_live(self, raw: Json, path: str = "$") -> dict[int, tuple[Any, bool]]:
        """The flat view: each node's first value (its lambdas' first calls)."""
        return {node_id: (entry.value, entry.taken)
                for node_id, entry in self.decode_live_iterations(raw, path).items()}

    def decode_live_iterations(self, raw: Json, path: str = "$") -> LiveValues:
        """Every value per iteration (version 2), or version 1's one value per node."""
        return nested_decode(raw, path, self._decode_live)

    def _encode_live(self, live: LiveValuesLike) -> Json:
        nodes: dict[str, list[Json]] = {}
        lambdas: dict[str, list[Json]] = {}
        if isinstance(live, LiveValues):
            for node_id, at, entry in live.entries():
                nodes.setdefault(str(node_id), []).append(
                    {"at": list(at), "value": self._encode(entry.value), "taken": entry.taken})
            for lambda_id, at, calls, kept in live.call_counts():
                lambdas.setdefault(str(lambda_id), []).append(
                    {"at": list(at), "calls": calls, "kept": kept})
            most = live.max_iterations
        else:
            for node_id, entry in live.items():
                value, taken = entry if isinstance(entry, tuple) else (entry.value, entry.taken)
                nodes[str(node_id)] = [{"at": [], "value": self._encode(value), "taken": taken}]
            most = MAX_ITERATIONS
        return {"version": LIVE_VERSION, "max_iterations": most, "nodes": nodes,
                "lambdas": lambdas}

    def _decode_live(self, raw: Json, path: str) -> LiveValues:
        obj = _object_in(raw, path)
        if "version" not in obj:
            return self._decode_live_v1(obj, path)
        fields = _object_in(raw, path, ("version", "max_iterations", "nodes", "lambdas"))
        if "kind" in fields:
            raise WireError(unexpected_fields(["kind"]), path)
        if fields["version"] != LIVE_VERSION:
            raise WireError(f"unknown live-values version {fields['version']!r}; this reader "
                            f"knows {LIVE_VERSION} (and 1, without \"version\")",
                            f"{path}.version")
        most = _at(f"{path}.max_iterations", int_in, fields["max_iterations"])
        if most < 1:
            raise WireError("expected a whole number of at least 1", f"{path}.max_iterations")
        live = LiveValues(max_iterations=most)
        for node_id, item, at in self._live_rows(fields["nodes"], f"{path}.nodes"):
            row = _object_in(item, at, ("at", "value", "taken"))
            if "kind" in row:
                raise WireError(unexpected_fields(["kind"]), at)
            live.record(node_id, self._decode(row["value"], f"{at}.value"),
                        _at(f"{at}.taken", bool_in, row["taken"]),
                        _iteration_path(row["at"], f"{at}.at"))
        for lambda_id, item, at in self._live_rows(fields["lambdas"], f"{path}.lambdas"):
            row = _object_in(item, at, ("at", "calls", "kept"))
            if "kind" in row:
                raise WireError(unexpected_fields(["kind"]), at)
            calls = _at(f"{at}.calls", int_in, row["calls"])
            kept = _at(f"{at}.kept", int_in, row["kept"])
            if not 0 <= kept <= calls:
                raise WireError(f"expected 0 <= kept <= calls, got {kept} of {calls}", at)
            live.set_calls(lambda_id, _iteration_path(row["at"], f"{at}.at"), calls, kept)
        return live

    @staticmethod
    def _live_rows(raw: Json, path: str) -> Iterable[tuple[int, Json, str]]:
        for key, rows in _object_in(raw, path).items():
            node_id = _node_id_key(key, f"{path}.{key}")
            for i, item in enumerate(_list_in(rows, f"{path}.{key}")):
                yield node_id, item, f"{path}.{key}[{i}]"

    def _decode_live_v1(self, raw: dict[str, Json], path: str) -> LiveValues:
        live = LiveValues()
        for key, entry in raw.items():
            at = f"{path}.{key}"
            node_id = _node_id_key(key, at)
            fields = _object_in(entry, at, ("value", "taken"))
            if "kind" in fields:
                raise WireError(unexpected_fields(["kind"]), at)
            live.record(node_id, self._decode(fields["value"], f"{at}.value"),
                        _at(f"{at}.taken", bool_in, fields["taken"]))
        return live

    def _encode(self, value: Any) -> Json:
        enc = self._encode
        match value:
            case bool():
                return {"kind": "bool", "value": value}
            case int():
                return {"kind": "int", "value": int(value)}
            case float():
                return {"kind": "float", "value": float_out(value)}
            case str():
                return {"kind": "string", "value": value}
            case None:
                return {"kind": "null"}
            case tuple():
                return {"kind": "list", "items": [enc(x) for x in value]}
            case v.FrozenDict():
                return {"kind": "dict", "entries": {k: enc(x) for k, x in value.items()}}
            case v.Char():
                return {"kind": "char", "text": value.text}
            case v.Variant():
                return {"kind": "variant", "name": value.name,
                        "args": [enc(x) for x in value.args], "type_name": value.type_name}
            case v.Closure():
                return {"kind": "closure", "params": list(value.params),
                        "body": self.encode_expr(value.body),
                        "env": {k: enc(x) for k, x in value.env.items()},
                        "language_version": value.language_version}
            case _dt.datetime():
                return {"kind": "date", "value": _date_out(value)}
            case _uuid.UUID():
                return {"kind": "uuid", "value": str(value)}
            case v.Response():
                return {"kind": "response", "status": value.status, "body": enc(value.body),
                        "headers": [[k, x] for k, x in value.headers]}
            case v.DatastoreRef():
                return {"kind": "datastore", "name": value.name, "version": value.version}
            case v.Incomplete():
                return {"kind": "incomplete", "node_id": value.node_id}
            case v.ErrorValue():
                return {"kind": "error", "message": value.message, "node_id": value.node_id}
            case v.ErrorRail():
                return {"kind": "error_rail", "value": enc(value.value),
                        "node_id": value.node_id}
        raise WireError(f"cannot encode a {type(value).__name__} as a value")

    def _items(self, raw: Json, path: str) -> tuple[Any, ...]:
        return tuple(self._decode(x, f"{path}[{i}]") for i, x in enumerate(_list_in(raw, path)))

    def _entries(self, raw: Json, path: str) -> v.FrozenDict:
        entries = _object_in(raw, path)
        for key in entries:
            if type(key) is not str:
                raise WireError(f"expected string keys, got {key!r}", path)
        return v.FrozenDict({k: self._decode(x, f"{path}.{k}") for k, x in entries.items()})

    def _decode(self, raw: Json, path: str) -> Any:
        if not isinstance(raw, dict):
            raise WireError(f"expected an object, got {found(raw)}", path)
        if "kind" not in raw:
            raise WireError("missing field", f"{path}.kind")
        kind = raw["kind"]
        if type(kind) is not str:
            raise WireError(f"expected the kind as a string, got {found(kind)}", path)
        if kind not in VALUE_KINDS:
            raise WireError(
                f"unknown kind {kind!r} (expected one of: {', '.join(VALUE_KINDS)})", path)
        obj = _object_in(raw, path, VALUE_KINDS[kind])

        def get(name: str, read: Callable[[Json], Any]) -> Any:
            return _at(f"{path}.{name}", read, obj[name])

        match kind:
            case "int":
                return get("value", int_in)
            case "float":
                return get("value", float_in)
            case "bool":
                return get("value", bool_in)
            case "string":
                return get("value", str_in)
            case "null":
                return None
            case "list":
                return self._items(obj["items"], f"{path}.items")
            case "dict":
                return self._entries(obj["entries"], f"{path}.entries")
            case "char":
                return v.Char(get("text", _grapheme_in))
            case "variant":
                return v.Variant(get("name", str_in), self._items(obj["args"], f"{path}.args"),
                                 get("type_name", _optional_str_in))
            case "closure":
                return v.Closure(_strs_in(obj["params"], f"{path}.params"),
                                 self.decode_expr(obj["body"], f"{path}.body"),
                                 self._entries(obj["env"], f"{path}.env"),
                                 get("language_version", int_in))
            case "date":
                return get("value", _date_in)
            case "uuid":
                return get("value", _uuid_in)
            case "response":
                return v.Response(get("status", int_in), self._decode(obj["body"], f"{path}.body"),
                                  _headers_in(obj["headers"], f"{path}.headers"))
            case "datastore":
                return v.DatastoreRef(get("name", str_in), get("version", int_in))
            case "incomplete":
                return v.Incomplete(get("node_id", _optional_int_in))
            case "error":
                return v.ErrorValue(get("message", str_in), get("node_id", _optional_int_in))
            case "error_rail":
                rail = self._decode(obj["value"], f"{path}.value")
                if not isinstance(rail, v.Variant):
                    raise WireError(f"expected a variant, got {v.type_name_of(rail)}",
                                    f"{path}.value")
                return v.ErrorRail(rail, get("node_id", _optional_int_in))
        raise AssertionError(f"VALUE_KINDS lists {kind!r} but ValueCodec does not read it")


# ------------------------------------------------------------ the quick path
# Most values are records, lists and variants of scalars a few levels deep: a datastore
# row, a handler's answer. `_quick_encode` and `_quick_decode` handle those, and give up
# (`_NotQuick`) on anything else, so that `ValueCodec` runs the full codec above from the
# start, which then gives its own answer or error.
#
# Why they are safe for ANY input, not only values this program wrote:
# - They accept a subset of what the full codec accepts, and give what it gives there:
#   each test is as narrow as the full one's or narrower (an exact `type(x) is dict`
#   where the full one says isinstance; exactly the fields of the kind, counted with
#   `len`, where it checks them by name), and everything else is `_NotQuick`. So every
#   error, with its message and path, still comes from the full codec.
# - They never go more than `_QUICK_DEPTH` values deep: deeper is `_NotQuick`. So they
#   need no `check_nesting` (the output is at most 2 * _QUICK_DEPTH + 1 JSON levels,
#   far below MAX_NESTING, and the input they read is cut off at that depth) and no
#   `stack_room`; a RecursionError (a caller already deep in its stack) is a give-up too.

_QUICK_DEPTH = 48


class _NotQuick(Exception):
    """Not a value for the quick path: the full codec reads or writes it."""


def _quick_encode(value: Any, depth: int) -> Json:
    t = type(value)
    if t is str:
        return {"kind": "string", "value": value}
    if t is int:
        return {"kind": "int", "value": value}
    if depth > _QUICK_DEPTH:
        raise _NotQuick
    if t is v.FrozenDict:
        return {"kind": "dict", "entries": {k: _quick_encode(x, depth + 1)
                                            for k, x in value._d.items()}}
    if t is bool:
        return {"kind": "bool", "value": value}
    if t is float:
        return {"kind": "float", "value": float_out(value)}
    if value is None:
        return {"kind": "null"}
    if t is tuple:
        return {"kind": "list", "items": [_quick_encode(x, depth + 1) for x in value]}
    if t is v.Variant:
        return {"kind": "variant", "name": value.name,
                "args": [_quick_encode(x, depth + 1) for x in value.args],
                "type_name": value.type_name}
    if t is _dt.datetime:
        return {"kind": "date", "value": _date_out(value)}
    if t is _uuid.UUID:
        return {"kind": "uuid", "value": str(value)}
    raise _NotQuick


_esc = json.encoder.encode_basestring_ascii  # what json.dumps writes a str as


def _quick_text(value: Any, depth: int) -> str:
    """`json.dumps(_quick_encode(value, depth))` (its separators, ASCII escapes and
    number spelling: `int.__repr__`, `float.__repr__`), without the objects between."""
    t = type(value)
    if t is str:
        return '{"kind": "string", "value": ' + _esc(value) + "}"
    if t is int:
        return '{"kind": "int", "value": ' + int.__repr__(value) + "}"
    if depth > _QUICK_DEPTH:
        raise _NotQuick
    if t is v.FrozenDict:
        parts = []
        for key, item in value._d.items():
            if type(key) is not str:
                raise _NotQuick
            parts.append(_esc(key) + ": " + _quick_text(item, depth + 1))
        return '{"kind": "dict", "entries": {' + ", ".join(parts) + "}}"
    if t is bool:
        return '{"kind": "bool", "value": ' + ("true" if value else "false") + "}"
    if t is float:
        out = float_out(value)
        return '{"kind": "float", "value": ' + (
            float.__repr__(out) if isinstance(out, float) else _esc(out)) + "}"
    if value is None:
        return '{"kind": "null"}'
    if t is tuple:
        return ('{"kind": "list", "items": ['
                + ", ".join([_quick_text(x, depth + 1) for x in value]) + "]}")
    if t is v.Variant:
        name, type_name = value.name, value.type_name
        if type(name) is not str or not (type_name is None or type(type_name) is str):
            raise _NotQuick
        return ('{"kind": "variant", "name": ' + _esc(name) + ', "args": ['
                + ", ".join([_quick_text(x, depth + 1) for x in value.args])
                + '], "type_name": ' + ("null" if type_name is None else _esc(type_name))
                + "}")
    if t is _dt.datetime:
        return '{"kind": "date", "value": ' + _esc(_date_out(value)) + "}"
    if t is _uuid.UUID:
        return '{"kind": "uuid", "value": ' + _esc(str(value)) + "}"
    raise _NotQuick


def _quick_decode(raw: Json, depth: int) -> Any:
    if type(raw) is not dict:
        raise _NotQuick
    kind = raw.get("kind")
    if type(kind) is not str:
        raise _NotQuick
    size = len(raw)
    if size == 2:
        if kind == "string":
            found_ = raw.get("value")
            if type(found_) is str:
                return found_
        elif kind == "int":
            found_ = raw.get("value")
            if type(found_) is int:
                return found_
        elif depth > _QUICK_DEPTH:
            raise _NotQuick
        elif kind == "dict":
            entries = raw.get("entries")
            if type(entries) is dict:
                d = {}
                for key, item in entries.items():
                    if type(key) is not str:
                        raise _NotQuick
                    d[key] = _quick_decode(item, depth + 1)
                return v.FrozenDict.owning(d)
        elif kind == "list":
            items = raw.get("items")
            if type(items) is list:
                return tuple([_quick_decode(x, depth + 1) for x in items])
        elif kind == "bool":
            found_ = raw.get("value")
            if type(found_) is bool:
                return found_
        elif kind == "float":
            found_ = raw.get("value")
            if type(found_) is float:
                return found_
    elif size == 1:
        if kind == "null":
            return None
    elif size == 4 and kind == "variant" and depth <= _QUICK_DEPTH:
        name, args, type_name = raw.get("name"), raw.get("args"), raw.get("type_name", 0)
        if type(name) is str and type(args) is list and (type_name is None
                                                         or type(type_name) is str):
            return v.Variant(name, tuple([_quick_decode(x, depth + 1) for x in args]),
                             type_name)
    raise _NotQuick
