"""The wire format: what it writes, what it refuses, and the paths its errors name.

Round trips over generated programs live in `test_wire_properties.py`; the
documented examples are checked by `test_protocol_doc.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import threading
import uuid
from typing import Any

import attrs
import pytest
from strategies import renumber

from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast import ops as o
from shared_ast import toplevels as t
from shared_ast import traverse, wire
from shared_ast import type_ast as ty
from shared_ast import values as v
from shared_ast.live import LiveValue, LiveValues
from shared_ast.wire import WireError


def roundtrip_json(raw: Any) -> Any:
    """What the other end of a socket gets."""
    return json.loads(json.dumps(raw, allow_nan=False))


def error_of(decode: Any, raw: Any) -> WireError:
    with pytest.raises(WireError) as info:
        decode(raw)
    return info.value


def sample_expr() -> n.Expr:
    """`let x = Int::add_v0(1, 2) in if true then [x] else 0`, ids 1..9 in pre-order."""
    expr: n.Expr = renumber(b.let(
        "x", b.call("Int::add_v0", 1, 2),
        b.if_(True, b.list_(b.var("x")), 0)))
    return expr


# ------------------------------------------------------------ what it writes


def test_an_expression_is_a_tagged_object_with_kind_first() -> None:
    raw = wire.encode_expr(sample_expr())
    assert list(raw) == ["kind", "id", "name", "rhs", "body"]
    assert raw["kind"] == "let"
    assert raw["rhs"]["fn"] == {"kind": "lib_fn", "module": "Int", "name": "add", "version": 0}
    assert raw["rhs"]["args"] == [{"kind": "int", "id": 3, "value": 1},
                                  {"kind": "int", "id": 4, "value": 2}]


def test_the_else_branch_is_called_else_on_the_wire() -> None:
    raw = wire.encode_expr(b.if_(True, 1, 2))
    assert "else" in raw and "else_" not in raw
    assert wire.decode_expr(raw) == b.if_(True, 1, 2) or isinstance(wire.decode_expr(raw), n.EIf)
    decoded = wire.decode_expr(raw)
    assert isinstance(decoded, n.EIf) and decoded.else_ == wire.decode_expr(raw["else"])


def test_a_user_function_reference_has_its_own_tag() -> None:
    call = n.ECall(1, n.UserFnRef(7, 2), (), on_rail=True)
    raw = wire.encode_expr(call)
    assert raw["fn"] == {"kind": "user_fn", "fn_id": 7, "version": 2}
    assert wire.decode_expr(raw) == call


def test_elements_carry_their_kind_wherever_they_appear() -> None:
    tl = renumber(b.enum_type("Color", [("Red", []), ("Rgb", [("r", ty.INT)])]))
    raw = wire.encode_toplevel(tl)
    case = raw["definition"]["cases"][1]
    assert raw["definition"]["kind"] == "enum_def"
    assert case["kind"] == "enum_case" and case["fields"][0]["kind"] == "type_field"
    assert case["fields"][0]["type"] == {"kind": "t_int"}
    assert wire.decode_toplevel(roundtrip_json(raw)) == tl


@pytest.mark.parametrize("value,written", [
    (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"), (1.5, 1.5), (-0.0, -0.0)])
def test_floats_json_cannot_spell_are_strings(value: float, written: Any) -> None:
    for raw, field in ((wire.encode_expr(n.EFloat(1, value)), "value"),
                       (wire.encode_pattern(n.PFloat(1, value)), "value"),
                       (wire.encode_value(value), "value")):
        assert raw[field] == written
        json.dumps(raw, allow_nan=False)
    back = wire.decode_value(wire.encode_value(value))
    assert (math.isnan(back) and math.isnan(value)) or (
        back == value and math.copysign(1, back) == math.copysign(1, value))


def test_every_toplevel_kind_round_trips() -> None:
    tls = [
        b.http("GET", "/users/:id", b.var("id")),
        b.worker("emails", b.field(b.var("event"), "to")),
        b.cron("daily", 86400, b.hole()),
        b.repl("scratch", b.infix("+", 1, 2)),
        b.function("double", [("n", ty.INT)], ty.INT, b.infix("*", b.var("n"), 2)),
        b.record_type("User", [("name", ty.STRING), ("age", ty.INT)]),
        b.enum_type("Color", [("Red", []), ("Rgb", [("r", ty.INT)])]),
        b.datastore("Users", ty.TUser(3, 0)),
        b.test("a user's name", b.expect(b.call("Test::http_v0", "GET", "/users/7", None), 7),
               recording=[v.ImpureCall("DB::get_v2", ("7", v.DatastoreRef("Users", 0)),
                                       v.Variant("Just", (v.FrozenDict(name="Ann"),)))]),
    ]
    assert {type(tl) for tl in tls} == set(t.TOPLEVEL_KINDS)
    for tl in tls:
        assert wire.decode_toplevel(roundtrip_json(wire.encode_toplevel(tl))) == tl


def test_every_op_kind_round_trips() -> None:
    tl = renumber(b.http("GET", "/", b.list_(1, 2)))
    ops = [
        o.CreateToplevel(tl), o.DeleteToplevel(tl),
        o.MoveToplevel(tl.tlid, t.Pos(0, 0), t.Pos(10, -20)),
        o.ReplaceNode(1, 2, n.EVariable(2, "x"), n.EInt(2, 3)),
        o.SetName(1, 2, "x", "y"),
        o.SetHandlerSpec(1, t.HttpSpec("GET", "/"), t.CronSpec("c", 60)),
        o.SetType(1, 2, ty.INT, ty.TList(ty.UNKNOWN)),
        o.SetDescription(1, "a", "b"), o.SetLanguageVersion(1, 0, 1),
        o.InsertElement(1, 2, "items", 0, n.EHole(9)),
        o.RemoveElement(1, 2, "items", 1, n.MatchArm(9, n.PHole(10), n.EHole(11))),
    ]
    assert {type(op) for op in ops} == set(o.OP_KINDS)
    for op in ops:
        assert wire.decode_op(roundtrip_json(wire.encode_op(op))) == op
    assert wire.decode_ops(roundtrip_json(wire.encode_ops(ops))) == ops


def test_every_value_kind_round_trips() -> None:
    closure = v.Closure(("x",), renumber(b.infix("+", b.var("x"), b.var("y"))),
                        v.FrozenDict(y=1), 0)
    values = [
        3, 2.5, True, "s", None, (1, "a"), v.FrozenDict(a=1, b=(2,)), v.Char("🇵🇹"),
        v.just(1), v.Variant("Red", (), "Color_v0"), closure,
        dt.datetime(2019, 7, 28, 22, 42, 36, tzinfo=dt.UTC),
        uuid.UUID("0b8b0f4e-6d0a-4c53-9a34-5cf4ad7d6b3a"),
        v.Response(404, "no", (("A", "b"),)), v.DatastoreRef("Notes", 0),
        v.Incomplete(3), v.Incomplete(None),
        v.ErrorValue("boom", 4), v.ErrorRail(v.error("e"), 5),
    ]
    kinds = {wire.encode_value(x)["kind"] for x in values}
    assert kinds == set(wire.VALUE_KINDS)
    for x in values:
        back = wire.decode_value(roundtrip_json(wire.encode_value(x)))
        assert type(back) is type(x) and back == x


def test_a_date_is_utc_to_the_second_with_a_fraction_only_when_there_is_one() -> None:
    plain = dt.datetime(2019, 7, 28, 22, 42, 36, tzinfo=dt.UTC)
    assert wire.encode_value(plain)["value"] == "2019-07-28T22:42:36Z"
    fine = plain.replace(microsecond=120)
    assert wire.encode_value(fine)["value"] == "2019-07-28T22:42:36.000120Z"
    assert wire.decode_value(wire.encode_value(fine)) == fine
    lisbon = dt.datetime(2019, 7, 28, 23, 42, 36, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert wire.encode_value(lisbon)["value"] == "2019-07-28T22:42:36Z"


def test_bools_are_not_ints_and_ints_are_not_floats() -> None:
    assert wire.encode_value(True) == {"kind": "bool", "value": True}
    assert wire.encode_value(1) == {"kind": "int", "value": 1}
    assert wire.encode_value(1.0) == {"kind": "float", "value": 1.0}
    assert type(wire.decode_value({"kind": "float", "value": 1})) is float
    assert type(wire.decode_value({"kind": "int", "value": 1})) is int


def test_live_values_are_keyed_by_decimal_node_ids() -> None:
    live = {12: (3, True), 7: (v.Incomplete(7), False)}
    raw = wire.encode_live_values(live)
    assert raw == {"version": 2, "max_iterations": 100, "lambdas": {}, "nodes": {
        "12": [{"at": [], "value": {"kind": "int", "value": 3}, "taken": True}],
        "7": [{"at": [], "value": {"kind": "incomplete", "node_id": 7}, "taken": False}]}}
    assert wire.decode_live_values(roundtrip_json(raw)) == live


def test_version_1_live_values_still_decode() -> None:
    """What runtimes wrote before iterations: one value per node, no "version"."""
    old = {"12": {"value": {"kind": "int", "value": 3}, "taken": True},
           "7": {"value": {"kind": "incomplete", "node_id": 7}, "taken": False}}
    assert wire.decode_live_values(old) == {12: (3, True), 7: (v.Incomplete(7), False)}
    live = wire.decode_live_iterations(old)
    assert live.get(12, ()) == LiveValue(3, True) and live.calls(12) == 0


def test_live_values_carry_every_iteration() -> None:
    live = LiveValues(max_iterations=2)
    live.record(5, "outside", True)
    for i in range(3):
        index = live.called(9, ())
        if index is not None:
            live.record(10, i * 10, True, (index,))
    raw = roundtrip_json(wire.encode_live_values(live))
    assert raw["nodes"]["10"] == [{"at": [0], "value": {"kind": "int", "value": 0}, "taken": True},
                                  {"at": [1], "value": {"kind": "int", "value": 10},
                                   "taken": True}]
    assert raw["lambdas"] == {"9": [{"at": [], "calls": 3, "kept": 2}]}
    back = wire.decode_live_iterations(raw)
    assert back == live and back.max_iterations == 2
    assert wire.decode_live_values(raw) == {5: ("outside", True), 10: (0, True)}


def test_live_values_version_2_errors_name_the_path() -> None:
    good = wire.encode_live_values({1: (2, True)})
    assert error_of(wire.decode_live_iterations, {**good, "version": 3}).path == "$.version"
    assert error_of(wire.decode_live_iterations, {**good, "nodes": {"1": [
        {"at": [-1], "value": {"kind": "null"}, "taken": True}]}}).path == "$.nodes.1[0].at"
    assert error_of(wire.decode_live_iterations, {**good, "lambdas": {"1": [
        {"at": [], "calls": "2", "kept": 0}]}}).path == "$.lambdas.1[0].calls"
    assert error_of(wire.decode_live_iterations, {**good, "lambdas": {"1": [
        {"at": [], "calls": 2, "kept": 3}]}}).message == "expected 0 <= kept <= calls, got 3 of 2"
    assert error_of(wire.decode_live_iterations, {**good, "max_iterations": 0}
                    ).path == "$.max_iterations"
    assert error_of(wire.decode_live_iterations, {"version": 2}).path == "$.max_iterations"


def test_live_values_may_be_entries_with_value_and_taken() -> None:
    @attrs.frozen
    class Entry:  # the shape of the evaluator's LiveValue
        value: Any
        taken: bool

    class Recorded:
        def items(self) -> Any:
            return iter([(3, Entry("a", True)), (4, Entry(None, False))])

    assert wire.decode_live_values(wire.encode_live_values(Recorded())) == {
        3: ("a", True), 4: (None, False)}


# ---------------------------------------------------------------- documents


def test_a_document_carries_the_schema_version() -> None:
    text = wire.dumps_document("expr", sample_expr())
    assert json.loads(text)["schema"] == wire.SCHEMA_VERSION == 1
    assert wire.loads_document(text, "expr") == sample_expr()


@pytest.mark.parametrize("kind,payload", [
    ("toplevel", b.repl("r", 1)),
    ("op", o.SetName(1, 2, "a", "b")),
    ("ops", [o.SetName(1, 2, "a", "b"), o.SetDescription(1, "", "d")]),
    ("value", (1, math.nan)),
    ("canvas", [renumber(b.repl("r", 1)), renumber(b.repl("s", 2), 10)]),
    ("live_values", {1: (2, True)}),
])
def test_every_document_kind_round_trips(kind: str, payload: Any) -> None:
    text = wire.dumps_document(kind, payload)
    assert wire.dumps_document(kind, wire.loads_document(text, kind)) == text


def test_an_unknown_document_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="canvas"):
        wire.dumps_document("canvass", [])
    with pytest.raises(ValueError, match="no document kind"):
        wire.loads_document("{}", "nodes")


@pytest.mark.parametrize("text,path,words", [
    ('{"expr": {"kind": "hole", "id": 1}}', "$.schema", "missing field"),
    ('{"schema": 2, "expr": {"kind": "hole", "id": 1}}', "$.schema", "schema version 2"),
    ('{"schema": "1", "expr": {"kind": "hole", "id": 1}}', "$.schema", 'version "1"'),
    ('{"schema": true, "expr": {"kind": "hole", "id": 1}}', "$.schema", "version true"),
    ('{"schema": 1.0, "expr": {"kind": "hole", "id": 1}}', "$.schema", "version 1.0"),
])
def test_a_bad_schema_version_names_the_versions_this_build_reads(
        text: str, path: str, words: str) -> None:
    e = error_of(lambda s: wire.loads_document(s, "expr"), text)
    assert e.path == path and words in e.message
    assert "this build reads schema version 1" in str(e)


@pytest.mark.parametrize("text,words", [
    # Our words and positions, the same on every Python version (3.13's json module
    # reports a trailing comma at the comma, with words of its own).
    ('{"schema": 1, "expr": {"kind": "hole", "id": 1,}}',
     "line 1, column 48): a key in double quotes was expected"),
    ('{"schema": 1,\n "expr": \n  {"kind": "hole" "id": 1}}',
     "line 3, column 19): a comma was expected"),
    ('{"schema": 1, "expr": [1, 2,]}', "line 1, column 29): a value was expected"),
    ("", "line 1, column 1): a value was expected"),
    ('{"schema": 1, "expr": {"kind": "float", "id": 1, "value": NaN}}', "NaN is not a JSON value"),
    ('{"schema": 1, "expr": {"kind": "hole", "id": 1, "id": 2}}', "repeats the key 'id'"),
    ('{"schema": 1, "expr": ' + "1" * 5000 + "}", "invalid JSON"),
])
def test_text_that_is_not_json_names_where(text: str, words: str) -> None:
    e = error_of(lambda s: wire.loads_document(s, "expr"), text)
    assert words in str(e)
    assert str(e).startswith("at $: invalid JSON")


def test_a_document_with_the_wrong_payload_key_or_an_extra_key_is_refused() -> None:
    op_doc = wire.dumps_document("op", o.SetName(1, 2, "a", "b"))
    e = error_of(lambda s: wire.loads_document(s, "expr"), op_doc)
    assert str(e) == "at $.expr: missing field (the payload of a 'expr' document)"
    extra = '{"schema": 1, "expr": {"kind": "hole", "id": 1}, "note": "hi"}'
    assert str(error_of(lambda s: wire.loads_document(s, "expr"), extra)) == \
        "at $: unexpected field 'note'"
    assert "got array" in str(error_of(lambda s: wire.loads_document(s, "expr"), "[]"))


def test_errors_inside_a_document_have_paths_from_the_document_root() -> None:
    doc = json.loads(wire.dumps_document("expr", sample_expr()))
    doc["expr"]["rhs"]["args"][1]["value"] = "2"
    e = error_of(lambda s: wire.loads_document(s, "expr"), json.dumps(doc))
    assert str(e) == 'at $.expr.rhs.args[1].value: expected an integer, got string "2"'


# ----------------------------------------------------------- what it refuses


def test_an_unknown_kind_names_its_path_and_the_kinds_that_fit() -> None:
    raw = wire.encode_expr(sample_expr())
    raw["rhs"]["args"][0]["kind"] = "foo"
    e = error_of(wire.decode_expr, raw)
    assert e.path == "$.rhs.args[0]"
    assert str(e).startswith("at $.rhs.args[0]: unknown kind 'foo' (expected one of: hole, int,")
    assert all(k.KIND in e.message for k in n.EXPR_KINDS)


def test_a_kind_from_another_family_is_unknown_where_it_appears() -> None:
    raw = wire.encode_expr(b.match(b.var("x"), (b.pint(1), 2)))
    raw["arms"][0]["pattern"]["kind"] = "int"
    e = error_of(wire.decode_expr, raw)
    assert e.path == "$.arms[0].pattern" and "unknown kind 'int'" in e.message
    assert "p_int" in e.message and " hole," not in e.message
    assert "unknown kind 'p_hole'" in str(error_of(wire.decode_expr, {"kind": "p_hole", "id": 1}))
    assert "unknown kind 'hole'" in str(error_of(wire.decode_value, {"kind": "hole", "id": 1}))
    assert "unknown kind 'int'" in str(error_of(wire.decode_type, {"kind": "int"}))


def test_abstract_classes_have_no_kind_that_decodes() -> None:
    for raw in ({"kind": "", "id": 1}, {"kind": "<abstract Expr>", "id": 1}):
        assert "unknown kind" in error_of(wire.decode_expr, raw).message
        assert "unknown kind" in error_of(wire.decode_node, raw).message


def test_a_missing_or_malformed_kind_is_named() -> None:
    assert str(error_of(wire.decode_expr, {"id": 1})) == "at $.kind: missing field"
    assert str(error_of(wire.decode_expr, {"kind": 3, "id": 1})) == \
        "at $: expected the kind as a string, got integer 3"
    assert str(error_of(wire.decode_value, {"value": 1})) == "at $.kind: missing field"


@pytest.mark.parametrize("bad,found", [
    ("7", 'string "7"'), (7.0, "number 7.0"), (True, "boolean true"), (None, "null"),
    ([7], "array"), ({"id": 7}, "object")])
def test_a_wrong_type_names_the_field_and_what_was_found(bad: Any, found: str) -> None:
    raw = wire.encode_expr(sample_expr())
    raw["body"]["id"] = bad
    assert str(error_of(wire.decode_expr, raw)) == \
        f"at $.body.id: expected an integer, got {found}"


def test_a_bool_is_not_an_int_and_an_int_is_not_a_bool() -> None:
    assert str(error_of(wire.decode_expr, {"kind": "int", "id": 1, "value": True})) == \
        "at $.value: expected an integer, got boolean true"
    assert str(error_of(wire.decode_expr, {"kind": "bool", "id": 1, "value": 1})) == \
        "at $.value: expected a boolean, got integer 1"
    assert str(error_of(wire.decode_value, {"kind": "int", "value": False})) == \
        "at $.value: expected an integer, got boolean false"
    assert str(error_of(wire.decode_value, {"kind": "bool", "value": 0})) == \
        "at $.value: expected a boolean, got integer 0"


def test_a_float_is_not_an_int_even_when_whole() -> None:
    assert str(error_of(wire.decode_expr, {"kind": "int", "id": 1, "value": 1.0})) == \
        "at $.value: expected an integer, got number 1.0"
    assert str(error_of(wire.decode_value, {"kind": "int", "value": 1.0})) == \
        "at $.value: expected an integer, got number 1.0"
    e = error_of(wire.decode_toplevel, {**wire.encode_toplevel(b.repl("r", 1)), "tlid": 2.0})
    assert e.path == "$.tlid"


def test_a_float_field_takes_numbers_and_the_three_spelled_floats_only() -> None:
    assert wire.decode_expr({"kind": "float", "id": 1, "value": 2}) == n.EFloat(1, 2.0)
    assert math.isinf(wire.decode_expr({"kind": "float", "id": 1, "value": "-Infinity"}).value)  # type: ignore[attr-defined]
    for bad in ("nan", "1.5", True, None):
        e = error_of(wire.decode_expr, {"kind": "float", "id": 1, "value": bad})
        assert e.path == "$.value" and "expected a number" in e.message
    too_big = error_of(wire.decode_expr, {"kind": "float", "id": 1, "value": 10**400})
    assert too_big.message == "number too large for a float"


def test_a_string_is_not_a_list() -> None:
    e = error_of(wire.decode_expr, {"kind": "list", "id": 1, "items": "ab"})
    assert str(e) == 'at $.items: expected an array, got string "ab"'
    e = error_of(wire.decode_value, {"kind": "list", "items": "ab"})
    assert str(e) == 'at $.items: expected an array, got string "ab"'



def test_a_missing_field_is_named_by_its_path() -> None:
    raw = wire.encode_expr(sample_expr())
    del raw["body"]["else"]
    assert str(error_of(wire.decode_expr, raw)) == "at $.body.else: missing field"
    raw = wire.encode_expr(sample_expr())
    del raw["rhs"]["on_rail"]  # a field with a default in Python is still required
    assert str(error_of(wire.decode_expr, raw)) == "at $.rhs.on_rail: missing field"
    raw = wire.encode_toplevel(b.repl("r", 1))
    del raw["pos"]["y"]
    assert str(error_of(wire.decode_toplevel, raw)) == "at $.pos.y: missing field"
    raw = wire.encode_value(v.ErrorValue("x", 1))
    del raw["node_id"]
    assert str(error_of(wire.decode_value, raw)) == "at $.node_id: missing field"


def test_an_extra_field_is_named_at_its_object() -> None:
    raw = wire.encode_expr(sample_expr())
    raw["body"]["cond"]["colour"] = "red"
    assert str(error_of(wire.decode_expr, raw)) == "at $.body.cond: unexpected field 'colour'"
    raw["body"]["cond"]["else_"] = 1
    assert error_of(wire.decode_expr, raw).message == "unexpected fields 'colour', 'else_'"
    raw = {"kind": "if", "id": 1, "cond": {"kind": "hole", "id": 2},
           "then": {"kind": "hole", "id": 3}, "else_": {"kind": "hole", "id": 4}}
    e = error_of(wire.decode_expr, raw)
    assert ("$.else", "missing field") in e.errors and ("$", "unexpected field 'else_'") in e.errors
    value = {"kind": "null", "value": None}
    assert str(error_of(wire.decode_value, value)) == "at $: unexpected field 'value'"


def test_every_problem_is_listed_and_the_first_one_leads() -> None:
    raw = wire.encode_expr(sample_expr())
    raw["rhs"]["args"][0]["value"] = True
    raw["body"]["cond"]["value"] = 1
    e = error_of(wire.decode_expr, raw)
    assert e.errors == (("$.rhs.args[0].value", "expected an integer, got boolean true"),
                        ("$.body.cond.value", "expected a boolean, got integer 1"))
    assert str(e) == "at $.rhs.args[0].value: expected an integer, got boolean true " \
                     "(and 1 more error)"


def test_duplicate_node_ids_are_named_with_both_places() -> None:
    raw = wire.encode_expr(sample_expr())
    raw["body"]["then"]["items"][0]["id"] = 2  # the call's id
    e = error_of(wire.decode_expr, raw)
    assert str(e) == "at $.body.then.items[0].id: duplicate node id 2 (also at $.rhs.id)"


def test_a_node_id_equal_to_the_tlid_is_a_duplicate() -> None:
    raw = wire.encode_toplevel(renumber(b.repl("r", b.list_(1))))
    raw["body"]["items"][0]["id"] = raw["tlid"]
    e = error_of(wire.decode_toplevel, raw)
    assert e.path == "$.body.items[0].id" and e.message.endswith("(also at $.tlid)")


def test_duplicate_ids_inside_an_op_are_refused_per_tree() -> None:
    old, new = n.EVariable(2, "x"), renumber(b.list_(1, 2), 2)
    fine = wire.encode_op(o.ReplaceNode(1, 2, old, new))  # old and new may share ids
    assert wire.decode_op(fine) == o.ReplaceNode(1, 2, old, new)
    fine["new"]["items"][1]["id"] = 3
    e = error_of(wire.decode_op, fine)
    assert str(e) == "at $.new.items[1].id: duplicate node id 3 (also at $.new.items[0].id)"
    ops = [wire.encode_op(o.SetName(1, 2, "a", "b")), fine]
    assert error_of(wire.decode_ops, ops).path == "$[1].new.items[1].id"
    created = wire.encode_op(o.CreateToplevel(renumber(b.repl("r", b.list_(1)))))
    created["toplevel"]["body"]["items"][0]["id"] = created["toplevel"]["body"]["id"]
    assert error_of(wire.decode_op, created).path == "$.toplevel.body.items[0].id"


def test_a_canvas_refuses_two_toplevels_with_one_tlid() -> None:
    tls = [renumber(b.repl("a", 1)), renumber(b.repl("b", 2))]
    text = wire.dumps_document("canvas", tls)
    e = error_of(lambda s: wire.loads_document(s, "canvas"), text)
    assert str(e) == "at $.canvas[1].tlid: duplicate tlid 1 (also at $.canvas[0].tlid)"


def test_op_errors_name_the_field_inside_the_op() -> None:
    raw = wire.encode_op(o.SetHandlerSpec(1, t.HttpSpec("GET", "/"), t.CronSpec("c", 60)))
    raw["new"]["interval_seconds"] = "60"
    assert error_of(wire.decode_op, raw).path == "$.new.interval_seconds"
    raw["new"]["kind"] = "daily"
    assert "expected one of: http, worker, cron, repl" in error_of(wire.decode_op, raw).message
    raw = wire.encode_op(o.MoveToplevel(1, t.Pos(0, 0), t.Pos(1, 1)))
    raw["new"] = [1, 1]
    assert str(error_of(wire.decode_op, raw)) == "at $.new: expected an object, got array"


# ------------------------------------------------------------ value errors


@pytest.mark.parametrize("raw,path,words", [
    ({"kind": "date", "value": "2019-07-28 22:42:36"}, "$.value", "UTC date"),
    ({"kind": "date", "value": "2019-02-30T00:00:00Z"}, "$.value", "not a valid date"),
    ({"kind": "uuid", "value": "not-a-uuid"}, "$.value", "UUID"),
    ({"kind": "uuid", "value": "0B8B0F4E-6D0A-4C53-9A34-5CF4AD7D6B3A"}, "$.value", "lowercase"),
    ({"kind": "char", "text": "a", "value": "ab"}, "$", "unexpected field 'value'"),
    ({"kind": "char", "text": "ab"}, "$.text", "one character"),
    ({"kind": "char", "text": ""}, "$.text", "one character"),
    ({"kind": "error_rail", "value": {"kind": "int", "value": 1}, "node_id": 3},
     "$.value", "expected a variant, got Int"),
    ({"kind": "response", "status": 200, "body": {"kind": "null"}, "headers": [["a"]]},
     "$.headers[0]", "[name, value] pair"),
    ({"kind": "response", "status": 200, "body": {"kind": "null"}, "headers": [["a", 1]]},
     "$.headers[0][1]", "expected a string"),
    ({"kind": "dict", "entries": {"a": {"kind": "int", "value": "1"}}},
     "$.entries.a.value", "expected an integer"),
    ({"kind": "list", "items": [{"kind": "null"}, {"kind": "nope"}]}, "$.items[1]",
     "unknown kind 'nope'"),
    ({"kind": "variant", "name": "Just", "args": [{"kind": "int"}], "type_name": None},
     "$.args[0].value", "missing field"),
    ({"kind": "incomplete", "node_id": "3"}, "$.node_id", "expected an integer"),
    ({"kind": "closure", "params": ["x", 1], "body": {"kind": "hole", "id": 1}, "env": {},
      "language_version": 0}, "$.params[1]", "expected a string"),
    ({"kind": "closure", "params": [], "body": {"kind": "hole"}, "env": {},
      "language_version": 0}, "$.body.id", "missing field"),
    ({"kind": "closure", "params": [], "body": {"kind": "hole", "id": 1}, "env": [],
      "language_version": 0}, "$.env", "expected an object"),
])
def test_value_errors_name_the_path(raw: Any, path: str, words: str) -> None:
    e = error_of(wire.decode_value, raw)
    assert e.path == path and words in e.message, str(e)


def test_live_value_errors_name_the_node() -> None:
    assert error_of(wire.decode_live_values, {"x1": {"value": {"kind": "null"}, "taken": True}}
                    ).message == "expected a node id in decimal, got 'x1'"
    assert error_of(wire.decode_live_values, {"01": {"value": {"kind": "null"}, "taken": True}}
                    ).path == "$.01"
    assert str(error_of(wire.decode_live_values, {"4": {"value": {"kind": "null"}}})) == \
        "at $.4.taken: missing field"
    assert str(error_of(wire.decode_live_values, {"4": {"value": {"kind": "null"},
                                                        "taken": 1}})) == \
        "at $.4.taken: expected a boolean, got integer 1"
    assert error_of(wire.decode_live_values, {"4": {"value": {"kind": "int", "value": "1"},
                                                    "taken": True}}).path == "$.4.value.value"


# ------------------------------------------------------------------ nesting


def nested_lists(depth: int) -> n.Expr:
    expr: n.Expr = n.EHole(0)
    for i in range(1, depth):
        expr = n.EList(i, (expr,))
    return expr


def nested_lets(depth: int) -> n.Expr:
    expr: n.Expr = n.EHole(0)
    for i in range(1, depth):
        expr = n.ELet(i, "x", n.EHole(10**6 + i), expr)
    return expr


def shape(tree: n.Node) -> list[tuple[str, int]]:
    """Kinds and ids in pre-order: compares deep trees without attrs' recursive `==`."""
    return [(node.KIND, node.id) for node in traverse.walk(tree)]


def test_a_long_chain_of_lets_round_trips_far_past_pythons_default_stack() -> None:
    limit = sys.getrecursionlimit()
    deep = nested_lets(900)
    text = wire.dumps_document("expr", deep)
    assert shape(wire.loads_document(text, "expr")) == shape(deep)
    assert sys.getrecursionlimit() == limit


def test_input_nested_past_the_limit_is_refused_before_it_is_walked() -> None:
    raw: Any = {"kind": "hole", "id": 0}
    for i in range(1, 5000):
        raw = {"kind": "list", "id": i, "items": [raw]}
    e = error_of(wire.decode_expr, raw)
    assert e.message == f"nested more than {wire.MAX_NESTING} levels deep"
    assert e.path.startswith("$.items[0].items[0].")
    junk: Any = []
    for _ in range(100_000):
        junk = [junk]
    for decode in (wire.decode_expr, wire.decode_value, wire.decode_ops, wire.decode_live_values):
        assert "nested" in error_of(decode, junk).message or "expected" in str(
            error_of(decode, junk))
    text = "[" * 100_000 + "]" * 100_000
    assert "nested" in str(error_of(lambda s: wire.loads_document(s, "expr"), text))


def test_deep_values_are_refused_with_a_wire_error_too() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = (deep,)
    with pytest.raises(WireError, match="cannot encode"):
        wire.encode_value(deep)
    raw: Any = {"kind": "null"}
    for _ in range(5000):
        raw = {"kind": "list", "items": [raw]}
    assert "nested more than" in error_of(wire.decode_value, raw).message


def test_the_encoder_refuses_what_the_decoder_would() -> None:
    with pytest.raises(WireError, match="cannot encode: nested more than 1000 levels deep"):
        wire.encode_expr(nested_lists(600))  # two JSON levels per list
    assert shape(wire.decode_expr(wire.encode_expr(nested_lists(450)))) == shape(nested_lists(450))


def test_the_recursion_limit_is_restored_after_concurrent_calls() -> None:
    before = sys.getrecursionlimit()
    deep = wire.encode_expr(nested_lets(500))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                wire.decode_expr(deep)
        except BaseException as e:  # reported below, on the main thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sys.getrecursionlimit() == before


# -------------------------------------------------- only WireError, always


@pytest.mark.parametrize("junk", [
    None, 0, "", [], {}, set(), object(), b"{}", (1, 2), {1: 2}, {"kind": None},
    {"kind": ["hole"]}, {"kind": {"a": 1}}, {"kind": "hole", "id": 1, 2: 3},
    {"kind": "dict", "entries": {1: {"kind": "null"}}}, float("nan"),
    {"kind": "list", "id": 1, "items": ({"kind": "hole", "id": 2},)},
])
def test_decoders_raise_wire_errors_and_nothing_else(junk: Any) -> None:
    decoders = (wire.decode_expr, wire.decode_pattern, wire.decode_node, wire.decode_type,
                wire.decode_toplevel, wire.decode_op, wire.decode_ops, wire.decode_value,
                wire.decode_live_values)
    for decode in decoders:
        if (decode, junk) in ((wire.decode_ops, []), (wire.decode_live_values, {})):
            assert not decode(junk)  # no ops, no live values: fine
            continue
        with pytest.raises(WireError) as info:
            decode(junk)
        assert str(info.value).startswith("at $")


def test_loads_document_refuses_non_text_with_a_wire_error() -> None:
    with pytest.raises(WireError):
        wire.loads_document(None, "expr")  # type: ignore[arg-type]


def test_encoders_refuse_what_is_not_part_of_the_model() -> None:
    with pytest.raises(WireError, match="cannot encode a PInt as Expr"):
        wire.encode_expr(n.PInt(1, 1))  # type: ignore[arg-type]
    with pytest.raises(WireError, match="cannot encode"):
        wire.encode_expr(n.Expr(1))
    with pytest.raises(WireError, match="cannot encode a list as a value"):
        wire.encode_value([1, 2])
    with pytest.raises(WireError, match="cannot encode a set"):
        wire.encode_value({1})


def test_a_wire_error_is_a_value_error_with_its_parts() -> None:
    e = WireError("expected an integer, got string", "$.body.id")
    assert isinstance(e, ValueError)
    assert (e.path, e.message, e.errors) == (
        "$.body.id", "expected an integer, got string",
        (("$.body.id", "expected an integer, got string"),))
    assert str(e) == "at $.body.id: expected an integer, got string"
    several = WireError("a", "$.x", (("$.x", "a"), ("$.y", "b"), ("$.z", "c")))
    assert str(several) == "at $.x: a (and 2 more errors)"
