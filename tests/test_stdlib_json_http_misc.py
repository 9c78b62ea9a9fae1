"""Json, Http, Uuid and Date library functions."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_ast.stdlib import LibError
from shared_ast.values import (
    NOTHING,
    Char,
    Closure,
    FrozenDict,
    Response,
    Variant,
    error,
    just,
    ok,
    values_equal,
)
from tests.stdlib_ctx import call

# ---------------------------------------------------------------- Json::parse


def test_parse_scalars_and_structures() -> None:
    text = '{"a": 1, "b": [true, null, 2.5, "x"], "c": {"d": -3}, "e": 1e2, "f": 1.0}'
    v = call("Json::parse_v0", text)
    assert isinstance(v, FrozenDict)
    assert list(v) == ["a", "b", "c", "e", "f"]
    assert v["a"] == 1 and type(v["a"]) is int
    assert v["b"] == (True, None, 2.5, "x") and isinstance(v["b"], tuple)
    assert v["c"] == FrozenDict(d=-3)
    assert v["e"] == 100.0 and type(v["e"]) is float
    assert type(v["f"]) is float
    assert call("Json::parse_v0", "[]") == ()
    assert call("Json::parse_v0", "{}") == FrozenDict()
    assert call("Json::parse_v0", ' "é🇵🇹" ') == "é🇵🇹"


def test_parse_big_integers_become_floats() -> None:
    assert call("Json::parse_v0", "9223372036854775807") == 2**63 - 1
    big = call("Json::parse_v0", "9223372036854775808")
    assert type(big) is float and big == 2.0**63
    huge = call("Json::parse_v0", "1" + "0" * 5000)
    assert huge == math.inf


def test_parse_duplicate_keys_keep_last() -> None:
    assert call("Json::parse_v0", '{"a": 1, "a": 2}') == FrozenDict(a=2)


@pytest.mark.parametrize(
    ("text", "where"),
    [("", r"line 1, column 1 \(character 0\): a value was expected"),
     ("[1, 2", "line 1, column 6 .*: a comma was expected"),
     ('{"a" 1}', "line 1, column 6 .*: a colon was expected"),
     ("[1,\n 2,]", "line 2, column 4 .*: a value was expected"),
     ('{"a": 1,}', "line 1, column 9 .*: a key in double quotes was expected"),
     ('"abc', "line 1, column 1 .*: a string is not closed"),
     ("[1] x", "line 1, column 5 .*: more text follows"),
     ("tru", "line 1, column 1 .*: a value was expected")],
)
def test_parse_invalid_says_where(text: str, where: str) -> None:
    with pytest.raises(LibError, match="Invalid JSON at " + where):
        call("Json::parse_v0", text)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "-Infinity", '"\\ud800"', "[" * 100_000])
def test_parse_refuses_non_json(text: str) -> None:
    with pytest.raises(LibError, match="JSON"):
        call("Json::parse_v0", text)


# ---------------------------------------------------------------- Json::serialize


def test_serialize_scalars() -> None:
    assert call("Json::serialize_v0", 1) == "1"
    assert call("Json::serialize_v0", 1.0) == "1.0"
    assert call("Json::serialize_v0", -2.5) == "-2.5"
    assert call("Json::serialize_v0", True) == "true"
    assert call("Json::serialize_v0", None) == "null"
    assert call("Json::serialize_v0", 'a"b\né') == '"a\\"b\\né"'


def test_serialize_structures() -> None:
    v = FrozenDict(b=(1, 2), a=FrozenDict(x=None))
    assert call("Json::serialize_v0", v) == '{"b":[1,2],"a":{"x":null}}'
    assert call("Json::serialize_v0", ()) == "[]"
    assert call("Json::serialize_v0", FrozenDict()) == "{}"


def test_serialize_variants_and_special_types() -> None:
    assert call("Json::serialize_v0", just(1)) == "1"
    assert call("Json::serialize_v0", NOTHING) == "null"
    assert call("Json::serialize_v0", ok(1)) == '{"Ok":1}'
    assert call("Json::serialize_v0", error("bad")) == '{"Error":"bad"}'
    assert call("Json::serialize_v0", Variant("Red", (), "Color_v0")) == '"Red"'
    assert call("Json::serialize_v0", Variant("Rgb", (1, 2, 3), "Color_v0")) == '{"Rgb":[1,2,3]}'
    assert call("Json::serialize_v0", Char("🇵🇹")) == '"🇵🇹"'
    d = dt.datetime(2019, 7, 28, 22, 42, 36, tzinfo=dt.UTC)
    assert call("Json::serialize_v0", d) == '"2019-07-28T22:42:36Z"'
    u = uuid.UUID("3e8a1f1c-8c3b-4bb5-9f54-0a3b6a1f2c7d")
    assert call("Json::serialize_v0", u) == '"3e8a1f1c-8c3b-4bb5-9f54-0a3b6a1f2c7d"'


@pytest.mark.parametrize("bad", [math.nan, math.inf, (1.0, -math.inf), FrozenDict(x=math.nan)])
def test_serialize_refuses_nan_and_infinity(bad: Any) -> None:
    with pytest.raises(LibError, match=r"NaN|Infinity"):
        call("Json::serialize_v0", bad)


def test_serialize_refuses_values_without_json_form() -> None:
    from shared_ast.nodes import EHole

    with pytest.raises(LibError, match="no JSON form"):
        call("Json::serialize_v0", Closure(("x",), EHole(1)))
    with pytest.raises(LibError, match="no JSON form"):
        call("Json::serialize_v0", (Response(200, ""),))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4).map(FrozenDict),
    max_leaves=12,
)


@given(json_values)
def test_serialize_then_parse_round_trips(v: Any) -> None:
    try:
        text = call("Json::serialize_v0", v)
    except LibError:  # a lone surrogate from st.text is not text
        return
    json.loads(text)  # it is standard JSON
    assert values_equal(call("Json::parse_v0", text), v)


# ---------------------------------------------------------------- Http


def test_responses() -> None:
    assert call("Http::response_v0", "hi", 201) == Response(201, "hi")
    assert call("Http::response_v0", FrozenDict(a=1), 200).body == FrozenDict(a=1)
    r = call("Http::responseWithHeaders_v0", "x", FrozenDict({"Content-Type": "text/plain"}), 200)
    assert r == Response(200, "x", (("Content-Type", "text/plain"),))
    assert call("Http::redirectTo_v0", "/home") == Response(302, "", (("Location", "/home"),))
    assert call("Http::notFound_v0").status == 404
    assert call("Http::badRequest_v0", "no name") == Response(400, "no name")


@pytest.mark.parametrize("code", [0, 99, 600, -200, 2**40])
def test_status_must_be_valid(code: int) -> None:
    with pytest.raises(LibError, match="between 100 and 599"):
        call("Http::response_v0", "", code)
    with pytest.raises(LibError, match="between 100 and 599"):
        call("Http::responseWithHeaders_v0", "", FrozenDict(), code)


@pytest.mark.parametrize(
    "headers",
    [FrozenDict({"X": "a\r\nSet-Cookie: evil"}), FrozenDict({"Bad Name": "v"}),
     FrozenDict({"": "v"}), FrozenDict({"X": 1})],
)
def test_headers_are_checked(headers: FrozenDict) -> None:
    with pytest.raises(LibError, match="header"):
        call("Http::responseWithHeaders_v0", "", headers, 200)


def test_redirect_refuses_header_injection() -> None:
    with pytest.raises(LibError, match="line break"):
        call("Http::redirectTo_v0", "/a\r\nX-Evil: 1")


# ---------------------------------------------------------------- Uuid


def test_uuid_generate() -> None:
    a = call("Uuid::generate_v0")
    b = call("Uuid::generate_v0")
    assert isinstance(a, uuid.UUID) and a.version == 4
    assert a != b
    assert call("String::toUUID_v1", str(a)) == ok(a)


# ---------------------------------------------------------------- Date


def test_date_now() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    now = call("Date::now_v0")
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)
    assert now.microsecond == 0
    assert before <= now <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("2019-07-28T22:42:36Z", "2019-07-28T22:42:36Z"),
        ("2019-07-28T22:42:36+02:00", "2019-07-28T20:42:36Z"),
        ("2019-07-28T22:42:36.987Z", "2019-07-28T22:42:36Z"),
        ("2019-07-28 22:42:36", "2019-07-28T22:42:36Z"),
        ("2019-07-28", "2019-07-28T00:00:00Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ],
)
def test_date_parse_and_to_string(text: str, expect: str) -> None:
    r = call("Date::parse_v0", text)
    assert r.name == "Ok"
    d = r.args[0]
    assert d.utcoffset() == dt.timedelta(0)
    assert call("Date::toString_v0", d) == expect


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2019-13-01T00:00:00Z", "2019-02-30", "28/07/2019",
     "0001-01-01T00:00:00+01:00", "x" * 1000],
)
def test_date_parse_errors(text: str) -> None:
    r = call("Date::parse_v0", text)
    assert r.name == "Error" and r.args[0]


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31),
                    timezones=st.just(dt.UTC)))
def test_date_to_string_then_parse_round_trips(d: dt.datetime) -> None:
    d = d.replace(microsecond=0)
    assert call("Date::parse_v0", call("Date::toString_v0", d)) == ok(d)
