"""The quick path of the value codec agrees with the full codec, on any input.

`ValueCodec.encode` and `decode` first try a quick path for the common values
(scalars, lists, records, variants, a few dozen levels deep) and hand everything else
to the full codec (`full_encode`, `full_decode`). The quick path must give exactly
what the full codec gives where it answers, and leave every refusal, with its
message and path, to the full codec: checked here on values of every kind, on any
JSON (often shaped like values), on valid encodings with one part replaced by junk,
and on values and JSON nested past the quick path's depth and past `MAX_NESTING`.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import values
from test_wire_properties import junk, replace_at, same, scalar_paths, through_text

from shared_ast import values as v
from shared_ast import wire
from shared_ast.wire import WireError
from shared_ast.wire_values import MAX_NESTING, ValueCodec

CODEC = ValueCodec(wire.encode_expr, wire.decode_expr)
MANY = settings(max_examples=800, deadline=None)


def outcome(run: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "value", run(*args)
    except WireError as e:
        return "refused", (e.path, e.message, e.errors)


def agree_decoding(raw: Any) -> tuple[str, Any]:
    quick, full = outcome(CODEC.decode, raw, "$.x"), outcome(CODEC.full_decode, raw, "$.x")
    assert quick[0] == full[0], (raw, quick, full)
    assert same(quick[1], full[1]) if quick[0] == "value" else quick == full, (quick, full)
    return quick


@MANY
@given(values())
def test_encoding_agrees(value: Any) -> None:
    quick, full = outcome(CODEC.encode, value), outcome(CODEC.full_encode, value)
    assert quick[0] == full[0] and same(quick[1], full[1]), (quick, full)
    if quick[0] == "value":
        assert agree_decoding(through_text(quick[1]))[0] == "value"


@MANY
@given(values())
def test_value_text_is_the_text_of_the_full_encoding(value: Any) -> None:
    """`wire.value_text` writes the text straight from the value: exactly json_text's."""
    try:
        full = json.dumps(CODEC.full_encode(value), allow_nan=False)
    except WireError as e:
        try:
            wire.value_text(value)
        except WireError as again:
            assert (again.path, again.message) == (e.path, e.message)
        else:
            raise AssertionError("value_text wrote what the codec refuses") from None
        return
    assert wire.value_text(value) == full == wire.json_text(wire.encode_value(value))


def test_value_text_of_edge_values() -> None:
    import datetime as dt
    import math
    import uuid

    for value in [v.FrozenDict({"é\n\"": -0.0, "b": math.inf, "c": -math.inf, "d": math.nan}),
                  v.FrozenDict(), (), ("😀", 10**30, -(2**63), True, False, None),
                  v.Variant("Rgb", (1, 2), "Color_v0"), v.NOTHING,
                  dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
                  uuid.UUID(int=5), v.Char("é"), v.FrozenDict(c=v.Char("a"))]:
        assert wire.value_text(value) == json.dumps(CODEC.full_encode(value), allow_nan=False)


@MANY
@given(junk())
def test_decoding_any_json_agrees(raw: Any) -> None:
    agree_decoding(raw)


@MANY
@given(values(), st.data())
def test_a_valid_encoding_with_one_part_replaced_agrees(value: Any, data: st.DataObject) -> None:
    raw = through_text(CODEC.full_encode(value))
    paths = scalar_paths(raw)
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    new = data.draw(st.one_of(junk(), st.sampled_from([None, 1, 1.5, True, "s", [], {}])))
    agree_decoding(replace_at(raw, path, new))


@given(st.sampled_from(["kind", "value", "entries", "items", "name", "args", "type_name"]),
       st.sampled_from(["string", "int", "float", "bool", "null", "dict", "list", "variant"]))
def test_an_object_of_a_quick_kind_missing_or_with_an_extra_field_agrees(field: str,
                                                                         kind: str) -> None:
    examples = {"string": "s", "int": 3, "float": 1.5, "bool": True, "null": None,
                "dict": v.FrozenDict(a=1), "list": (1, "a"), "variant": v.just(2)}
    raw = CODEC.full_encode(examples[kind])
    missing = {k: x for k, x in raw.items() if k != field}
    extra = {**raw, field + "_": 0, **({} if field in raw else {field: 0})}
    for case in (raw, missing, extra, {**raw, "kind": [kind]}, {**raw, "type_name": 0}):
        agree_decoding(json.loads(json.dumps(case)))


def test_nesting_past_the_quick_depth_and_past_the_limit() -> None:
    deep: Any = "leaf"
    for i in range(150):  # past the quick depth, within what the test can compare
        deep = v.FrozenDict(k=deep) if i % 3 else (v.just(deep) if i % 2 else (deep,))
    raw = CODEC.encode(deep)
    assert same(raw, CODEC.full_encode(deep))
    assert agree_decoding(through_text(raw))[0] == "value"
    too_deep: Any = {"kind": "string", "value": "x"}
    for _ in range(MAX_NESTING):
        too_deep = {"kind": "list", "items": [too_deep]}
    refused = agree_decoding(too_deep)
    assert refused[0] == "refused" and "nested more than" in refused[1][1], refused
    value: Any = 1
    for _ in range(MAX_NESTING):
        value = (value,)
    try:
        CODEC.encode(value)
    except WireError as e:
        assert "cannot encode" in e.message
    else:
        raise AssertionError("a value too deep to decode was encoded")


def test_the_public_functions_take_the_quick_path_and_agree() -> None:
    row = v.FrozenDict(name="Ada", age=36, tags=("a",), boss=v.NOTHING, score=1.5, ok=True,
                       none=None)
    assert same(wire.encode_value(row), CODEC.full_encode(row))
    assert same(wire.decode_value(wire.encode_value(row)), row)
    assert wire.json_text(wire.encode_value(row)) == json.dumps(CODEC.full_encode(row),
                                                                allow_nan=False)
