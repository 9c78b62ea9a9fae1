"""The JSON wire format: how nodes, toplevels, ops and values travel and rest.

Everything that leaves a process (ops on the websocket, snapshots in the
store, traces, expression documents on disk) is this JSON. `docs/protocol.md`
documents every kind with an example; `tests/test_protocol_doc.py` keeps the
two in step.

Trees are converted by one `cattrs.Converter`, not by hand-written walkers:
each class hierarchy (nodes, types, handler specs, toplevels, ops) is a tagged
union whose tag `"kind"` is the class's `KIND`. Decoding is strict, because
the runtime must refuse a bad op before it touches anything: unknown kinds,
wrong JSON types (`true` is not an Int, `1` is not a Bool, `"1"` is not an
Int), missing and extra fields and duplicate node ids are all a `WireError`
that names the path to the bad field, such as `$.body.args[0].value`.
A decoder raises `WireError` and nothing else, whatever it is given.

Runtime values are plain Python objects, not a class hierarchy, so they get
a small codec of their own (`shared_ast.wire_values`, which also holds
`WireError` and the strict scalar readers); it is re-exported here.

Every document has a schema version: `{"schema": 1, "expr": {...}}`.

cattrs recurses, a few Python frames per level of JSON, so a long chain of
lets would overflow Python's default stack after ~100 levels. Every call here
runs with the recursion limit raised (`wire_values.stack_room`) and refuses
payloads nested deeper than `MAX_NESTING` before walking them; encoders refuse
to write what decoders would refuse. Encoders, too, raise only `WireError`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.strategies import configure_tagged_union, include_subclasses

from shared_ast import nodes as n
from shared_ast import ops as o
from shared_ast import toplevels as t
from shared_ast import type_ast as ty
from shared_ast.live import LiveValues
from shared_ast.traverse import duplicate_ids
from shared_ast.values import ImpureCall
from shared_ast.wire_values import (
    MAX_NESTING,
    VALUE_KINDS,
    Json,
    LiveValuesLike,
    Problem,
    ValueCodec,
    WireError,
    bool_in,
    expect,
    float_in,
    float_out,
    found,
    int_in,
    json_problem,
    nested_decode,
    nested_encode,
    stack_room,
    str_in,
    unexpected_fields,
)

__all__ = [
    "DOCUMENT_KINDS",
    "MAX_NESTING",
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "VALUE_KINDS",
    "WireError",
    "decode_expr",
    "decode_live_iterations",
    "decode_live_values",
    "decode_node",
    "decode_op",
    "decode_ops",
    "decode_pattern",
    "decode_toplevel",
    "decode_type",
    "decode_value",
    "dumps_document",
    "encode_expr",
    "encode_live_values",
    "encode_node",
    "encode_op",
    "encode_ops",
    "encode_pattern",
    "encode_toplevel",
    "encode_type",
    "encode_value",
    "json_load",
    "json_text",
    "loads_document",
    "parse_json",
    "stack_room",
    "value_text",
]

#: The version of this format. A change that an old reader would misread bumps it.
SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)

# ------------------------------------------------------------ the converter

#: JSON names of attrs fields whose Python name dodges a keyword.
_RENAMES = {"else_": "else"}

#: Fields added to a class after data was first stored with it: left out of the JSON
#: while they hold their default, and read as the default when absent, so what was
#: stored before (and what is written without them) reads the same.
_ADDED_LATER: dict[type, tuple[str, ...]] = {t.Datastore: ("migration",)}
_FN_REF_TAGS: dict[type, str] = {n.LibFnRef: "lib_fn", n.UserFnRef: "user_fn"}
#: Each family is a tagged union: a class hierarchy (root, its kinds) or a plain union.
#: Ordered so that every family comes after the families its fields refer to,
#: because cattrs fixes a field's hook when it generates the class's hook.
_FAMILIES: tuple[tuple[Any, tuple[type, ...]], ...] = (
    (ty.Type, ty.TYPE_KINDS),
    (n.FnRef, n.FnRef.__args__),
    (n.Node, n.ALL_NODE_KINDS),
    (t.TypeDefinition, t.TypeDefinition.__args__),
    (t.HandlerSpec, t.SPEC_KINDS),
    (t.Toplevel, t.TOPLEVEL_KINDS),
    (o.Op, o.OP_KINDS),
)


def _tag(cl: type) -> str:
    if cl in _FN_REF_TAGS:
        return _FN_REF_TAGS[cl]
    kind: str = getattr(cl, "KIND", "")
    # Abstract bases share the empty KIND; they get a tag no input can name.
    return kind or f"<abstract {cl.__name__}>"


def _wire_fields(cl: type) -> tuple[str, ...]:
    return tuple(_RENAMES.get(a.name, a.name) for a in attrs.fields(cl))


def _renames(cl: type) -> dict[str, Any]:
    return {a.name: override(rename=_RENAMES[a.name])
            for a in attrs.fields(cl) if a.name in _RENAMES}


def _shape_errors(cl: Any, missing: list[str], unexpected: list[object]) -> ClassValidationError:
    """A cattrs error for missing fields (each at its own path) and unexpected ones."""
    excs: list[Exception] = []
    for field in missing:
        exc = Problem("missing field")
        exc.__notes__ = [AttributeValidationNote("missing field", field, None)]
        excs.append(exc)
    if unexpected:
        # Named in the message, not the path: a key may be any string at all.
        excs.append(Problem(unexpected_fields(unexpected)))
    return ClassValidationError(f"While structuring {getattr(cl, '__name__', cl)}", excs, cl)


def _object_hook(cl: type, conv: cattrs.Converter) -> Callable[[Json, Any], Any]:
    """Structure an attrs class from a JSON object that has exactly its fields."""
    attrs.resolve_types(cl)
    inner: Callable[[Json, Any], Any] = make_dict_structure_fn(cl, conv, **_renames(cl))
    later = set(_ADDED_LATER.get(cl, ()))
    fields = tuple(f for f in _wire_fields(cl) if f not in later)
    allowed = set(fields) | later  # "kind" is gone: the tagged union took it

    def structure(raw: Json, _: Any) -> Any:
        if not isinstance(raw, dict):
            expect("an object", raw)
        missing = [f for f in fields if f not in raw]
        unexpected = [k for k in raw if k not in allowed]
        if missing or unexpected:
            raise _shape_errors(cl, missing, unexpected)
        return inner(raw, cl)

    return structure


def _unstructure_hook(cl: type, conv: cattrs.Converter) -> Callable[[Any], Json]:
    attrs.resolve_types(cl)
    overrides: dict[str, Any] = _renames(cl)
    overrides.update({a.name: override(omit_if_default=True)
                      for a in attrs.fields(cl) if a.name in _ADDED_LATER.get(cl, ())})
    return make_dict_unstructure_fn(cl, conv, **overrides)


def _is_tuple_of(tp: Any) -> bool:
    return getattr(tp, "__origin__", None) is tuple and len(tp.__args__) == 2 \
        and tp.__args__[1] is Ellipsis


def _tuple_hook(tp: Any, conv: cattrs.Converter) -> Callable[[Json, Any], tuple[Any, ...]]:
    elem = tp.__args__[0]
    # cattrs' own list hook, for its per-index error paths ("args[0]").
    items = cattrs.cols.list_structure_factory(list[elem], conv)  # type: ignore[valid-type]

    def structure(raw: Json, _: Any) -> tuple[Any, ...]:
        # Without this, a string would structure as a tuple of its characters.
        if not isinstance(raw, list):
            expect("an array", raw)
        return tuple(items(raw, tp))

    return structure


def _kind_check(cl: Any, allowed: tuple[str, ...],
                union_hook: Callable[[Json, Any], Any], union: Any) -> Callable[[Json, Any], Any]:
    """Check the `"kind"` of an object before the tagged union dispatches on it."""
    expected = ", ".join(allowed)

    def structure(raw: Json, _: Any) -> Any:
        if not isinstance(raw, dict):
            expect("an object", raw)
        if "kind" not in raw:
            raise _shape_errors(cl, ["kind"], [])
        kind = raw["kind"]
        if type(kind) is not str:
            raise Problem(f"expected the kind as a string, got {found(kind)}")
        if kind not in allowed:
            raise Problem(f"unknown kind {kind!r} (expected one of: {expected})")
        return union_hook(raw, union)

    return structure


def _kind_first(hook: Callable[[Any], Json]) -> Callable[[Any], Json]:
    # Readers (people and docs) see what an object is before what it holds.
    def unstructure(value: Any) -> Json:
        raw = hook(value)
        return {"kind": raw.pop("kind"), **raw}

    return unstructure


def _is_exactly(cl: Any) -> Callable[[Any], bool]:
    # Not issubclass: each class and union gets its own hook, with its own kinds.
    return lambda tp: bool(tp == cl)


def _hierarchy(root: type, kinds: tuple[type, ...]) -> tuple[type, ...]:
    """The concrete kinds and the abstract classes between them and `root`."""
    between = {b for k in kinds for b in k.__mro__[1:] if issubclass(b, root) and b is not root}
    return (*sorted(between, key=lambda c: c.__name__), *kinds)


def _impure_call_out(call: ImpureCall) -> Json:
    return {"fn": call.name, "args": [encode_value(a) for a in call.args],
            "result": encode_value(call.result)}


def _impure_call_in(raw: Json, _: Any) -> ImpureCall:
    if not isinstance(raw, dict):
        expect("an object", raw)
    missing = [f for f in ("fn", "args", "result") if f not in raw]
    unexpected = [k for k in raw if k not in ("fn", "args", "result")]
    if missing or unexpected:
        raise _shape_errors(ImpureCall, missing, unexpected)
    name, args = raw["fn"], raw["args"]
    if type(name) is not str:
        raise Problem(f"expected the recorded call's function name as a string, got {found(name)}")
    if not isinstance(args, list):
        raise Problem(f"expected the recorded call's arguments as an array, got {found(args)}")
    try:
        return ImpureCall(name, tuple(decode_value(a, "args") for a in args),
                          decode_value(raw["result"], "result"))
    except WireError as e:
        raise Problem(f"a recorded call of {name} holds a bad value: {e}") from None


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    scalars: dict[type, Callable[[Json, Any], Any]] = {
        int: int_in, bool: bool_in, str: str_in, float: float_in}
    for tp, hook in scalars.items():
        conv.register_structure_hook(tp, hook)
    conv.register_unstructure_hook(float, float_out)
    conv.register_structure_hook_factory(_is_tuple_of, _tuple_hook)
    # A test's recorded impure calls: values in the value format, as a trace keeps them.
    conv.register_structure_hook(ImpureCall, _impure_call_in)
    conv.register_unstructure_hook(ImpureCall, _impure_call_out)
    conv.register_structure_hook_factory(attrs.has, _object_hook)
    conv.register_unstructure_hook_factory(attrs.has, _unstructure_hook)
    tagged = functools.partial(configure_tagged_union, tag_generator=_tag, tag_name="kind")

    for family, kinds in _FAMILIES:
        if isinstance(family, type):
            classes = _hierarchy(family, kinds)
            include_subclasses(family, conv, subclasses=classes, union_strategy=tagged)
            members: tuple[Any, ...] = (family, *classes)
        else:
            tagged(family, conv)
            members = (family,)
        union_hook = conv.get_structure_hook(family)
        unstructure = _kind_first(conv.get_unstructure_hook(family))
        for cl in members:
            allowed = tuple(_tag(k) for k in kinds if cl is family or issubclass(k, cl))
            check = _kind_check(cl, allowed, union_hook, family)
            conv.register_structure_hook_func(_is_exactly(cl), check)
            conv.register_unstructure_hook_func(_is_exactly(cl), unstructure)
    return conv


_CONVERTER = _make_converter()
#: The classes that can be encoded at the top: those with a kind of their own.
_CONCRETE = frozenset(k for _, kinds in _FAMILIES for k in kinds)


# ------------------------------------------------------------ error paths


def _describe(exc: BaseException, _type: Any) -> str:
    match exc:
        case Problem():
            return exc.message
        case RecursionError():
            return "nested too deeply"
        case ForbiddenExtraKeysError():
            return unexpected_fields(sorted(exc.extra_fields))
        case KeyError():
            return "missing field"
    return f"invalid value ({exc})"


_RENAMED_SEGMENT = re.compile(r"\.(" + "|".join(map(re.escape, _RENAMES)) + r")(?=[.\[]|$)")


def _from_cattrs(exc: BaseException, path: str) -> WireError:
    # transform_error writes "<message> @ <path>"; a message may hold any text,
    # so it writes a numbered token instead and the messages are kept here.
    messages: list[str] = []

    def describe(exc: BaseException, tp: Any) -> str:
        messages.append(_describe(exc, tp))
        return str(len(messages) - 1)

    found: list[tuple[str, str]] = []
    for line in cattrs.transform_error(exc, path, describe):
        token, _, at = line.partition(" @ ")
        at = _RENAMED_SEGMENT.sub(lambda m: "." + _RENAMES[m.group(1)], at)
        found.append((at, messages[int(token)]))
    first_path, first_message = found[0]
    return WireError(first_message, first_path, tuple(found))


def _structure(raw: Json, tp: Any, path: str) -> Any:
    return nested_decode(raw, path, lambda raw, path: _structure_here(raw, tp, path))


def _structure_here(raw: Json, tp: Any, path: str) -> Any:
    try:
        return _CONVERTER.structure(raw, tp)
    except (ClassValidationError, IterableValidationError) as exc:
        raise _from_cattrs(exc, path) from None
    except Problem as exc:
        raise WireError(exc.message, path) from None


def _unstructure(obj: object, tp: type) -> Json:
    if not isinstance(obj, tp) or type(obj) not in _CONCRETE:
        raise WireError(f"cannot encode a {type(obj).__name__} as {tp.__name__}")
    return nested_encode(obj, lambda obj: _unstructure_here(obj, tp))


def _unstructure_here(obj: object, tp: Any) -> Json:
    try:
        return _CONVERTER.unstructure(obj, tp)
    except (KeyError, AttributeError, TypeError) as exc:
        # A class outside the data model (a test's subclass, a bare `Expr`) has no tag.
        raise WireError(f"cannot encode {type(obj).__name__} as {tp.__name__} ({exc})") \
            from None


# ------------------------------------------------------- duplicate node ids


def _id_paths(raw: Json, path: str, key: str) -> Iterator[tuple[Json, str]]:
    """Every `key` of every object in a JSON tree with its path, in document order."""
    stack: list[tuple[Json, str]] = [(raw, path)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            if key in node:
                yield node[key], f"{at}.{key}"
            stack.extend(reversed([(val, f"{at}.{k}") for k, val in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(val, f"{at}[{i}]") for i, val in enumerate(node)]))


def _reject_duplicate_ids(tree: n.Node | t.Toplevel, raw: Json, path: str) -> None:
    dupes = duplicate_ids(tree)
    if not dupes:
        return
    seen: dict[Json, str] = {}
    paths = _id_paths(raw, path, "tlid") if isinstance(tree, t.Toplevel) else iter(())
    for node_id, at in [*paths, *_id_paths(raw, path, "id")]:
        if node_id in dupes and node_id in seen:
            raise WireError(f"duplicate node id {node_id} (also at {seen[node_id]})", at)
        seen.setdefault(node_id, at)
    raise WireError(f"duplicate node ids: {sorted(dupes)}", path)


def _decode_tree(raw: Json, tp: type, path: str) -> Any:
    tree = _structure(raw, tp, path)
    _reject_duplicate_ids(tree, raw, path)
    return tree


# ------------------------------------------------ nodes, types, toplevels


def encode_node(node: n.Node) -> Json:
    return _unstructure(node, n.Node)


def decode_node(raw: Json, path: str = "$") -> n.Node:
    """Any node: expression, pattern or element (record field, match arm, parameter, ...)."""
    node: n.Node = _decode_tree(raw, n.Node, path)
    return node


def encode_expr(expr: n.Expr) -> Json:
    return _unstructure(expr, n.Expr)


def decode_expr(raw: Json, path: str = "$") -> n.Expr:
    expr: n.Expr = _decode_tree(raw, n.Expr, path)
    return expr


def encode_pattern(pattern: n.Pattern) -> Json:
    return _unstructure(pattern, n.Pattern)


def decode_pattern(raw: Json, path: str = "$") -> n.Pattern:
    pattern: n.Pattern = _decode_tree(raw, n.Pattern, path)
    return pattern


def encode_type(tp: ty.Type) -> Json:
    return _unstructure(tp, ty.Type)


def decode_type(raw: Json, path: str = "$") -> ty.Type:
    decoded: ty.Type = _structure(raw, ty.Type, path)
    return decoded


def encode_toplevel(toplevel: t.Toplevel) -> Json:
    return _unstructure(toplevel, t.Toplevel)


def decode_toplevel(raw: Json, path: str = "$") -> t.Toplevel:
    toplevel: t.Toplevel = _decode_tree(raw, t.Toplevel, path)
    return toplevel


def _encode_canvas(toplevels: list[t.Toplevel] | tuple[t.Toplevel, ...]) -> Json:
    return [encode_toplevel(tl) for tl in toplevels]


def _decode_canvas(raw: Json, path: str = "$") -> list[t.Toplevel]:
    toplevels: tuple[t.Toplevel, ...] = _structure(raw, tuple[t.Toplevel, ...], path)
    seen: dict[int, int] = {}
    for i, tl in enumerate(toplevels):
        _reject_duplicate_ids(tl, raw[i], f"{path}[{i}]")
        if tl.tlid in seen:
            raise WireError(f"duplicate tlid {tl.tlid} (also at {path}[{seen[tl.tlid]}].tlid)",
                            f"{path}[{i}].tlid")
        seen[tl.tlid] = i
    return list(toplevels)


# --------------------------------------------------------------------- ops


def _op_trees(op: o.Op) -> Iterator[tuple[n.Node | t.Toplevel, str]]:
    """The trees an op carries, by field name: each must have unique ids by itself."""
    match op:
        case o.CreateToplevel() | o.DeleteToplevel():
            yield op.toplevel, "toplevel"
        case o.ReplaceNode():
            yield op.old, "old"
            yield op.new, "new"
        case o.InsertElement() | o.RemoveElement():
            yield op.element, "element"


def encode_op(op: o.Op) -> Json:
    return _unstructure(op, o.Op)


def decode_op(raw: Json, path: str = "$") -> o.Op:
    op: o.Op = _structure(raw, o.Op, path)
    for tree, field in _op_trees(op):
        _reject_duplicate_ids(tree, raw[field], f"{path}.{field}")
    return op


def encode_ops(ops: list[o.Op] | tuple[o.Op, ...]) -> Json:
    return [encode_op(op) for op in ops]


def decode_ops(raw: Json, path: str = "$") -> list[o.Op]:
    ops: tuple[o.Op, ...] = _structure(raw, tuple[o.Op, ...], path)
    for i, op in enumerate(ops):
        for tree, field in _op_trees(op):
            _reject_duplicate_ids(tree, raw[i][field], f"{path}[{i}].{field}")
    return list(ops)


# ------------------------------------------------------------------ values

_VALUES = ValueCodec(encode_expr, decode_expr)


def encode_value(value: Any) -> Json:
    """A runtime value (see `shared_ast.values`) as a tagged JSON object."""
    return _VALUES.encode(value)


def value_text(value: Any) -> str:
    """`json_text(encode_value(value))`, the same text, written faster (a datastore row)."""
    return _VALUES.encode_text(value)


def decode_value(raw: Json, path: str = "$") -> Any:
    return _VALUES.decode(raw, path)


def encode_live_values(live: LiveValuesLike) -> Json:
    """Live values, version 2: every value of every node, per iteration of its lambdas.

    `{"version": 2, "max_iterations": 100, "nodes": {"<id>": [{"at": [i, ...], "value": ...,
    "taken": ...}, ...]}, "lambdas": {"<id>": [{"at": [...], "calls": n, "kept": k}, ...]}}`:
    JSON keys are strings, so ids are written in decimal; `at` is the iteration path (see
    `shared_ast.live`); `taken` is false for a node on a branch that did not run, whose
    value is a preview; `calls` counts every call of a lambda, of which only the first
    `kept` (at most `max_iterations`) have values. A mapping of (value, taken) pairs is
    written at path [].
    """
    return _VALUES.encode_live(live)


def decode_live_values(raw: Json, path: str = "$") -> dict[int, tuple[Any, bool]]:
    """Node id → (value, taken) of its first recorded value, from version 2 or version 1
    (`{"<id>": {"value": ..., "taken": ...}}`, what runtimes wrote before iterations)."""
    return _VALUES.decode_live(raw, path)


def decode_live_iterations(raw: Json, path: str = "$") -> LiveValues:
    """Every recorded value per iteration (version 1 decodes to one value per node at [])."""
    return _VALUES.decode_live_iterations(raw, path)


# --------------------------------------------------------------- documents

_CODECS: dict[str, tuple[Callable[[Any], Json], Callable[[Json, str], Any]]] = {
    "expr": (encode_expr, decode_expr),
    "toplevel": (encode_toplevel, decode_toplevel),
    "op": (encode_op, decode_op),
    "ops": (encode_ops, decode_ops),
    "value": (encode_value, decode_value),
    "canvas": (_encode_canvas, _decode_canvas),
    "live_values": (encode_live_values, decode_live_values),
}
#: What a document can hold: `{"schema": 1, "<kind>": <payload>}`.
DOCUMENT_KINDS: tuple[str, ...] = tuple(_CODECS)


def _codec(kind: str) -> tuple[Callable[[Any], Json], Callable[[Json, str], Any]]:
    if kind not in _CODECS:
        raise ValueError(f"no document kind {kind!r}; the kinds are {', '.join(DOCUMENT_KINDS)}")
    return _CODECS[kind]


def dumps_document(kind: str, payload: Any) -> str:
    """`payload` as the JSON text `{"schema": 1, "<kind>": ...}`; `kind` from `DOCUMENT_KINDS`.

    A canvas is a list of toplevels; ops a list of ops; live values a mapping.
    """
    encode, _ = _codec(kind)
    doc = {"schema": SCHEMA_VERSION, kind: encode(payload)}
    with stack_room:
        return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def _no_constant(name: str) -> NoReturn:
    raise WireError(f"invalid JSON: {name} is not a JSON value (write it as the string {name!r})")


def _unique_keys(pairs: list[tuple[str, Json]]) -> dict[str, Json]:
    # The json module keeps the last of repeated keys; a reader must not guess.
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise WireError(f"invalid JSON: an object repeats the key {key!r}")
        seen.add(key)
    return dict(pairs)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise WireError(f"invalid JSON: {text} is too large for a number")
    return value


def json_text(raw: Json, **options: Any) -> str:
    """JSON text of a payload (`json.dumps`, `allow_nan=False` unless said), with room
    to recurse through anything `MAX_NESTING` deep, whatever the caller's stack."""
    options.setdefault("allow_nan", False)
    # Most payloads are shallow: written without raising the recursion limit first
    # (`stack_room` takes a lock), and written again with room if they were not.
    # json.dumps is pure, so a RecursionError part way loses nothing.
    try:
        if options == _STRICT_OPTIONS:
            return _STRICT.encode(raw)
        return json.dumps(raw, **options)
    except RecursionError:
        pass
    with stack_room:
        return json.dumps(raw, **options)


#: `json.dumps(..., allow_nan=False)` makes an encoder per call; this one is made once.
_STRICT_OPTIONS = {"allow_nan": False}
_STRICT = json.JSONEncoder(allow_nan=False)


def json_load(text: str | bytes) -> Json:
    """`json.loads` of text this program wrote (a stored op, toplevel or value), with
    room to recurse through anything `MAX_NESTING` deep. Text from outside is read
    with `parse_json`, which also refuses what the wire format does not allow."""
    try:  # as in json_text: with room only when the text needs it
        return json.loads(text)
    except RecursionError:
        pass
    with stack_room:
        return json.loads(text)


def parse_json(text: str) -> Json:
    """JSON text as the wire format reads it, or a `WireError` saying why not: no
    NaN or Infinity, no number too large to be finite, no object repeating a key."""
    try:
        with stack_room:
            return json.loads(text, parse_constant=_no_constant, parse_float=_finite,
                              object_pairs_hook=_unique_keys)
    except WireError:
        raise
    except json.JSONDecodeError as exc:
        where = json_problem(text, exc)
        raise WireError(f"invalid JSON (line {where.line}, column {where.column}): "
                        f"{where.message}") from None
    except RecursionError:
        raise WireError("invalid JSON: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        # Integers longer than Python's digit limit land here, as does non-text input.
        raise WireError(f"invalid JSON: {exc}") from None


def loads_document(text: str, kind: str) -> Any:
    """The payload of a document that `dumps_document(kind, ...)` wrote, or a `WireError`."""
    _, decode = _codec(kind)
    doc = parse_json(text)
    if not isinstance(doc, dict):
        raise WireError(f"expected a document object {{\"schema\": ..., \"{kind}\": ...}}, "
                        f"got {found(doc)}")
    supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
    if "schema" not in doc:
        raise WireError(f"missing field (this build reads schema version {supported})",
                        "$.schema")
    schema = doc["schema"]
    if type(schema) is not int or schema not in SUPPORTED_SCHEMA_VERSIONS:
        raise WireError(f"unsupported schema version {json.dumps(schema)[:40]} "
                        f"(this build reads schema version {supported})", "$.schema")
    if kind not in doc:
        raise WireError(f"missing field (the payload of a {kind!r} document)",
                        f"$.{kind}")
    unexpected = [key for key in doc if key not in ("schema", kind)]
    if unexpected:
        raise WireError(unexpected_fields(unexpected))
    return decode(doc[kind], f"$.{kind}")
