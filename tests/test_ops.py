"""Unit tests of `shared_ast.apply`: each op kind applies, inverts, and is refused for each reason.

Refusals are checked by what their message says: the op kind, the toplevel,
the node, and the problem, since that message is what a user reads.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from shared_ast import build as b
from shared_ast import nodes as n
from shared_ast import ops as o
from shared_ast import toplevels as t
from shared_ast import type_ast as ty
from shared_ast.apply import (
    LATEST_LANGUAGE_VERSION,
    OpError,
    apply,
    apply_to_canvas,
    invert,
    same_tree,
    validate,
)


def handler() -> t.Handler:
    """`GET /users/:id` → `let x = 1 in [x + 2, {a: 3}, match x { 1 -> 4 }]`."""
    return b.http("GET", "/users/:id", b.let(
        "x", 1,
        b.list_(b.infix("+", b.var("x"), 2), b.record(a=3), b.match(b.var("x"), (b.pint(1), 4))),
    ))


def function() -> t.UserFunction:
    return b.function("area", [("w", ty.INT), ("h", ty.INT)], ty.INT,
                      b.infix("*", b.var("w"), b.var("h")), description="w times h")


def record_type() -> t.UserType:
    return b.record_type("Point", [("x", ty.INT), ("y", ty.INT)])


def enum_type() -> t.UserType:
    return b.enum_type("Shape", [("Circle", [("r", ty.FLOAT)]), ("Dot", [])])


def datastore() -> t.Datastore:
    return b.datastore("users", ty.TDict(ty.STRING))


def parts(h: t.Handler) -> tuple[n.ELet, n.EList]:
    let = h.body
    assert isinstance(let, n.ELet) and isinstance(let.body, n.EList)
    return let, let.body


def roundtrip(op: o.Op, tl: t.Toplevel | None) -> t.Toplevel | None:
    """Apply `op`, check that its inverse restores `tl`, and return the result."""
    assert validate(op, tl) is None
    after = apply(op, tl)
    assert apply(invert(op), after) == tl
    assert invert(invert(op)) == op
    return after


def refused(op: object, tl: t.Toplevel | None, *fragments: str) -> str:
    """Check that `op` is refused with a message naming its kind and `fragments`."""
    with pytest.raises(OpError) as raised:
        apply(op, tl)  # type: ignore[arg-type]
    message = raised.value.message
    assert validate(op, tl) == message  # type: ignore[arg-type]
    kind = getattr(op, "KIND", "")
    if kind:
        assert message.startswith(kind + ":"), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# ------------------------------------------------------------ toplevel ops


def test_create_puts_a_toplevel_on_a_free_tlid_and_delete_undoes_it() -> None:
    h = handler()
    assert roundtrip(o.CreateToplevel(h), None) == h


def test_create_refuses_an_existing_tlid() -> None:
    h = handler()
    refused(o.CreateToplevel(h), h, f"toplevel {h.tlid} already exists", "fresh tlid")


def test_create_refuses_duplicate_ids() -> None:
    h = handler()
    let, _ = parts(h)
    clone = attrs.evolve(h, body=attrs.evolve(let, rhs=n.EInt(let.id, 1)))
    refused(o.CreateToplevel(clone), None, str(h.tlid), f"id(s) {let.id}", "more than once")


def test_create_refuses_a_node_with_the_tlids_id() -> None:
    h = handler()
    clone = attrs.evolve(h, body=n.EInt(h.tlid, 1))
    refused(o.CreateToplevel(clone), None, f"id(s) {h.tlid}", "more than once")


@pytest.mark.parametrize(("tl", "fragment"), [
    (b.function("1st", [], ty.INT, 1), "'1st' is not a valid name"),
    (b.function("f", [("a b", ty.INT)], ty.INT, 1), "'a b' is not a valid name"),
    (b.record_type("point", []), "must start with an uppercase letter"),
    (b.datastore("my store", ty.INT), "'my store' is not a valid name"),
    (b.http("GET", "users", 1), "must start with /"),
    (b.http("FETCH", "/", 1), "'FETCH' is not an HTTP method"),
    (b.http("GET", "/", b.infix("??", 1, 2)), "'??' is not an operator"),
    (b.http("GET", "/", 1, language_version=LATEST_LANGUAGE_VERSION + 1), "language version"),
    (b.cron("nightly", 0, 1), "at least 1"),
])
def test_create_refuses_bad_names_specs_and_versions(tl: t.Toplevel, fragment: str) -> None:
    refused(o.CreateToplevel(tl), None, str(tl.tlid), fragment)


def test_create_refuses_a_malformed_toplevel() -> None:
    bad = attrs.evolve(handler(), body=b.pint(3))  # a pattern where the body goes
    refused(o.CreateToplevel(bad), None, "body", "must be Expr", "p_int")


def test_delete_refuses_a_toplevel_that_changed_or_is_gone() -> None:
    h = handler()
    moved = attrs.evolve(h, pos=t.Pos(5, 5))
    assert roundtrip(o.DeleteToplevel(h), h) is None
    refused(o.DeleteToplevel(h), moved, f"toplevel {h.tlid}", "not the handler the op expected",
            "reload")
    refused(o.DeleteToplevel(h), None, f"toplevel {h.tlid} does not exist")


def test_move_changes_the_position_and_refuses_a_stale_one() -> None:
    h = b.http("GET", "/", 1, pos=(1, 2))
    after = roundtrip(o.MoveToplevel(h.tlid, t.Pos(1, 2), t.Pos(30, 40)), h)
    assert after is not None and after.pos == t.Pos(30, 40)
    refused(o.MoveToplevel(h.tlid, t.Pos(0, 0), t.Pos(3, 4)), h, "is at (1, 2)",
            "not at (0, 0)", str(h.tlid))


def test_an_op_for_another_toplevel_is_refused() -> None:
    h, other = handler(), handler()
    refused(o.MoveToplevel(other.tlid, h.pos, t.Pos(1, 1)), h, f"for toplevel {other.tlid}",
            f"given toplevel {h.tlid}")


# ---------------------------------------------------------------- replace


def test_replace_swaps_a_subtree_and_shares_the_rest() -> None:
    h = handler()
    let, items = parts(h)
    new = b.str_("hi")
    after = roundtrip(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, new), h)
    assert isinstance(after, t.Handler)
    after_let, after_items = parts(after)
    assert after_let.rhs == new
    assert after_items is items  # untouched subtrees are shared, not copied


def test_replace_may_wrap_the_old_node_keeping_its_ids() -> None:
    h = handler()
    let, _ = parts(h)
    wrapped = n.ELet(n.NodeId(9), "y", let.rhs, n.EVariable(n.NodeId(10), "y"))
    after = roundtrip(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, wrapped), h)
    assert isinstance(after, t.Handler) and parts(after)[0].rhs == wrapped


def test_replace_may_keep_the_root_id() -> None:
    h = handler()
    let, _ = parts(h)
    roundtrip(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, n.EHole(let.rhs.id)), h)


def test_replace_refuses_a_stale_old_value() -> None:
    h = handler()
    let, _items = parts(h)
    refused(o.ReplaceNode(h.tlid, let.id, b.if_(True, 1, 2), b.int_(1)), h,
            f"node {let.id} in toplevel {h.tlid} is a let, not the if the op expected",
            "toplevel changed since the op was made")
    changed = attrs.evolve(let.rhs, value=99)
    refused(o.ReplaceNode(h.tlid, let.rhs.id, changed, b.int_(1)), h, "its contents differ")


def test_replace_refuses_a_missing_node_and_the_toplevel_itself() -> None:
    h = handler()
    gone = b.int_(1)
    refused(o.ReplaceNode(h.tlid, gone.id, gone, b.int_(2)), h,
            f"node {gone.id} does not exist in toplevel {h.tlid}")
    refused(o.ReplaceNode(h.tlid, h.tlid, h.body, b.int_(2)), h, "toplevel", "itself")


def test_replace_refuses_the_wrong_category() -> None:
    h = handler()
    let, items = parts(h)
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, b.pint(1)), h,
            f"node {let.rhs.id}", "only an expression can replace", "not a p_int")
    match_ = items.items[2]
    assert isinstance(match_, n.EMatch)
    arm = match_.arms[0]
    refused(o.ReplaceNode(h.tlid, arm.pattern.id, arm.pattern, b.int_(1)), h,
            "only a pattern can replace", "not an int")
    field = items.items[1]
    assert isinstance(field, n.ERecord)
    refused(o.ReplaceNode(h.tlid, arm.id, arm, n.RecordField(n.NodeId(77), "a", b.int_(1))), h,
            "a match_arm", "only a match_arm can replace", "not a record_field")


def test_replace_refuses_ids_used_elsewhere_or_twice() -> None:
    h = handler()
    let, items = parts(h)
    taken = items.items[0].id
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, n.EInt(taken, 5)), h,
            f"reuses id(s) {taken}", "fresh ids")
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, n.EInt(h.tlid, 5)), h,
            f"reuses id(s) {h.tlid}")
    twice = n.EList(n.NodeId(50), (n.EInt(n.NodeId(51), 1), n.EInt(n.NodeId(51), 2)))
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, twice), h, "id(s) 51 more than once")


def test_replace_refuses_a_bad_name_or_malformed_node_inside_the_new_subtree() -> None:
    h = handler()
    let, _ = parts(h)
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, n.EVariable(n.NodeId(60), "two words")),
            h, "'two words' is not a valid name")
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs,
                          n.EList(n.NodeId(61), (n.PInt(n.NodeId(62), 1),))),
            h, "items", "item 0 is a p_int")
    refused(o.ReplaceNode(h.tlid, let.rhs.id, let.rhs, n.EInt(n.NodeId(0), 1)), h,
            "between 1 and")


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(("node", "attribute", "new"), [
    (b.let("x", 1, 2), "name", "total"),
    (b.var("x"), "name", "_y2"),
    (b.field(b.var("r"), "a"), "field", "name"),
    (b.infix("+", 1, 2), "op", "*"),
    (b.partial("le", b.hole()), "text", "let it be!"),
    (b.rpartial("+", 1), "text", "|>"),
    (b.flag("new-checkout", True, 1, 2), "name", "old checkout"),
    (b.ctor("Just", 1), "name", "Nothing"),
])
def test_set_name_sets_the_name_like_attribute(node: n.Expr, attribute: str, new: str) -> None:
    h = b.http("GET", "/", node)
    op = o.SetName(h.tlid, node.id, getattr(node, attribute), new)
    after = roundtrip(op, h)
    assert isinstance(after, t.Handler) and getattr(after.body, attribute) == new


def test_set_name_on_the_tlid_names_functions_types_and_datastores() -> None:
    for tl, new in ((function(), "surface"), (record_type(), "Point2"), (datastore(), "people")):
        after = roundtrip(o.SetName(tl.tlid, tl.tlid, tl.name, new), tl)
        assert getattr(after, "name", None) == new


def test_set_name_renames_params_fields_and_cases() -> None:
    fn, rec, enum = function(), record_type(), enum_type()
    assert isinstance(rec.definition, t.RecordDef) and isinstance(enum.definition, t.EnumDef)
    roundtrip(o.SetName(fn.tlid, fn.params[0].id, "w", "width"), fn)
    roundtrip(o.SetName(rec.tlid, rec.definition.fields[1].id, "y", "z"), rec)
    case = enum.definition.cases[0]
    roundtrip(o.SetName(enum.tlid, case.id, "Circle", "Disc"), enum)
    roundtrip(o.SetName(enum.tlid, case.fields[0].id, "r", "radius"), enum)


def test_a_let_name_may_be_blank_while_it_is_typed() -> None:
    h = b.http("GET", "/", b.let("x", 1, 2))
    let = h.body
    assert isinstance(let, n.ELet)
    roundtrip(o.SetName(h.tlid, let.id, "x", ""), h)


@pytest.mark.parametrize(("node", "new", "fragment"), [
    (b.let("x", 1, 2), "9lives", "'9lives' is not a valid name"),
    (b.var("x"), "", "'' is not a valid name"),
    (b.var("x"), "x-y", "not a valid name"),
    (b.infix("+", 1, 2), "??", "'??' is not an operator"),
    (b.partial("", b.hole()), "z" * 201, "too long"),
    (b.flag("f", True, 1, 2), "", "must not be empty"),
    (b.ctor("Just", 1), "just", "must start with an uppercase letter"),
])
def test_set_name_refuses_bad_names(node: n.Expr, new: str, fragment: str) -> None:
    h = b.http("GET", "/", node)
    attribute, old = next((a, getattr(node, a)) for a in ("name", "op", "text", "field")
                          if hasattr(node, a))
    refused(o.SetName(h.tlid, node.id, old, new), h, f"node {node.id} in toplevel {h.tlid}",
            fragment)
    assert attribute


def test_set_name_refuses_a_stale_name_and_a_node_without_a_name() -> None:
    h = handler()
    let, _items = parts(h)
    refused(o.SetName(h.tlid, let.id, "y", "z"), h, "is 'x', not 'y'", "reload")
    refused(o.SetName(h.tlid, let.rhs.id, "1", "z"), h, "is an int, which has no name")
    refused(o.SetName(h.tlid, h.tlid, "", "z"), h, "handler, which has no name",
            "set_handler_spec")
    rec = record_type()
    refused(o.SetName(rec.tlid, rec.tlid, "Point", "point"), rec, "uppercase")


# ------------------------------------------------------------------- specs


def test_set_spec_changes_the_trigger_even_its_kind() -> None:
    h = handler()
    for new in (t.HttpSpec("POST", "/users/:id/:field"), t.WorkerSpec("emails"),
                t.CronSpec("hourly", 3600), t.ReplSpec("scratch")):
        after = roundtrip(o.SetHandlerSpec(h.tlid, h.spec, new), h)
        assert isinstance(after, t.Handler) and after.spec == new


@pytest.mark.parametrize(("new", "fragment"), [
    (t.HttpSpec("GET", "users"), "must start with /"),
    (t.HttpSpec("GET", "/a/:x/:x"), "binds :x twice"),
    (t.HttpSpec("GET", "/a/:1x"), "':1x'"),
    (t.HttpSpec("GET", "/a/:"), "':'"),
    (t.HttpSpec("get", "/"), "'get' is not an HTTP method"),
    (t.WorkerSpec(""), "queue name must not be empty"),
    (t.CronSpec("", 60), "name must not be empty"),
    (t.CronSpec("c", 0), "at least 1"),
    (t.ReplSpec(""), "must not be empty"),
])
def test_set_spec_refuses_a_bad_trigger(new: t.HandlerSpec, fragment: str) -> None:
    h = handler()
    refused(o.SetHandlerSpec(h.tlid, h.spec, new), h, f"toplevel {h.tlid}", fragment)


def test_set_spec_refuses_a_stale_spec_or_a_non_handler() -> None:
    h = handler()
    refused(o.SetHandlerSpec(h.tlid, t.HttpSpec("GET", "/"), t.WorkerSpec("q")), h,
            "triggered by HTTP GET /users/:id, not by HTTP GET /", "reload")
    fn = function()
    refused(o.SetHandlerSpec(fn.tlid, t.ReplSpec("r"), t.WorkerSpec("q")), fn,
            "is a function, not a handler")


# ------------------------------------------------------------------- types


def test_set_type_on_params_fields_return_types_and_schemas() -> None:
    fn, rec, store = function(), record_type(), datastore()
    assert isinstance(rec.definition, t.RecordDef)
    after = roundtrip(o.SetType(fn.tlid, fn.params[0].id, ty.INT, ty.FLOAT), fn)
    assert isinstance(after, t.UserFunction) and after.params[0].type == ty.FLOAT
    after = roundtrip(o.SetType(fn.tlid, fn.tlid, ty.INT, ty.TOption(ty.INT)), fn)
    assert isinstance(after, t.UserFunction) and after.return_type == ty.TOption(ty.INT)
    roundtrip(o.SetType(rec.tlid, rec.definition.fields[0].id, ty.INT, ty.STRING), rec)
    roundtrip(o.SetType(store.tlid, store.tlid, store.schema, ty.UNKNOWN), store)


def test_set_type_refuses_stale_types_untyped_nodes_and_malformed_types() -> None:
    fn, h = function(), handler()
    refused(o.SetType(fn.tlid, fn.tlid, ty.STRING, ty.INT), fn,
            "return_type of toplevel", "is Int, not String")
    refused(o.SetType(h.tlid, h.tlid, ty.INT, ty.STRING), h, "handler, which has no type")
    let, _ = parts(h)
    refused(o.SetType(h.tlid, let.id, ty.INT, ty.STRING), h, f"node {let.id}", "a let")
    refused(o.SetType(fn.tlid, fn.tlid, ty.INT, ty.TList("Int")),  # type: ignore[arg-type]
            fn, "malformed", "elem")


def test_set_description_and_language_version() -> None:
    # Pinned to version 0: new toplevels are written in the newest version.
    fn, h = function(), attrs.evolve(handler(), language_version=0)
    after = roundtrip(o.SetDescription(fn.tlid, "w times h", "the area"), fn)
    assert isinstance(after, t.UserFunction) and after.description == "the area"
    refused(o.SetDescription(fn.tlid, "old words", "x"), fn, "not 'old words'")
    refused(o.SetDescription(h.tlid, "", "x"), h, "only functions have a description")
    roundtrip(o.SetLanguageVersion(h.tlid, 0, LATEST_LANGUAGE_VERSION), h)
    refused(o.SetLanguageVersion(h.tlid, 0, LATEST_LANGUAGE_VERSION + 1), h,
            f"version {LATEST_LANGUAGE_VERSION + 1}", f"0 to {LATEST_LANGUAGE_VERSION}")
    refused(o.SetLanguageVersion(h.tlid, 0, -1), h, "version -1")
    refused(o.SetLanguageVersion(h.tlid, 3, 0), h, "language version 0, not 3")


# ------------------------------------------------------------------- lists


def test_insert_and_remove_list_items_at_both_ends() -> None:
    h = handler()
    _, items = parts(h)
    for index in (0, len(items.items)):
        new = b.int_(7)
        after = roundtrip(o.InsertElement(h.tlid, items.id, "items", index, new), h)
        assert isinstance(after, t.Handler)
        assert parts(after)[1].items[index] == new
    last = len(items.items) - 1
    after = roundtrip(o.RemoveElement(h.tlid, items.id, "items", last, items.items[last]), h)
    assert isinstance(after, t.Handler) and parts(after)[1].items == items.items[:last]


def test_insert_and_remove_on_toplevel_lists() -> None:
    fn, rec, enum = function(), record_type(), enum_type()
    roundtrip(o.InsertElement(fn.tlid, fn.tlid, "params", 2, n.Param(n.NodeId(5), "d", ty.INT)),
              fn)
    roundtrip(o.InsertElement(rec.tlid, rec.tlid, "fields", 1, n.TypeField(n.NodeId(6), "z",
                                                                          ty.INT)), rec)
    case = n.EnumCase(n.NodeId(7), "Square", (n.TypeField(n.NodeId(8), "side", ty.FLOAT),))
    roundtrip(o.InsertElement(enum.tlid, enum.tlid, "cases", 0, case), enum)
    assert isinstance(enum.definition, t.EnumDef)
    circle = enum.definition.cases[0]
    roundtrip(o.RemoveElement(enum.tlid, circle.id, "fields", 0, circle.fields[0]), enum)
    roundtrip(o.RemoveElement(enum.tlid, enum.tlid, "cases", 1, enum.definition.cases[1]), enum)


def test_insert_refuses_an_index_out_of_range() -> None:
    h = handler()
    _, items = parts(h)
    size = len(items.items)
    for index in (size + 1, -1):
        refused(o.InsertElement(h.tlid, items.id, "items", index, b.int_(1)), h,
                f"index {index} is out of range", f"node {items.id} in toplevel {h.tlid}",
                f"insert at 0 to {size}")


def test_insert_refuses_the_wrong_element_class() -> None:
    h, fn = handler(), function()
    _let, items = parts(h)
    refused(o.InsertElement(h.tlid, items.id, "items", 0, b.pint(1)), h,
            "'items' of node", "holds an expression, not a p_int")
    record = items.items[1]
    refused(o.InsertElement(h.tlid, record.id, "fields", 0, b.int_(1)), h,
            "holds a record_field, not an int")
    refused(o.InsertElement(fn.tlid, fn.tlid, "params", 0, n.TypeField(n.NodeId(9), "a",
                                                                       ty.INT)), fn,
            "holds a param, not a type_field")


def test_insert_refuses_a_field_that_is_not_a_list() -> None:
    h, rec, enum = handler(), record_type(), enum_type()
    let, _ = parts(h)
    refused(o.InsertElement(h.tlid, let.id, "items", 0, b.int_(1)), h,
            f"node {let.id} in toplevel {h.tlid} is a let, which has no list 'items'")
    refused(o.InsertElement(h.tlid, h.tlid, "params", 0, n.Param(n.NodeId(3), "a", ty.INT)), h,
            "handler, which has no list 'params'")
    refused(o.InsertElement(enum.tlid, enum.tlid, "fields", 0, n.TypeField(n.NodeId(3), "a",
                                                                           ty.INT)), enum,
            "is an enum type: it has cases, not fields")
    refused(o.InsertElement(rec.tlid, rec.tlid, "cases", 0, n.EnumCase(n.NodeId(3), "A")), rec,
            "is a record type: it has fields, not cases")


def test_insert_refuses_ids_already_in_the_toplevel() -> None:
    h = handler()
    let, items = parts(h)
    refused(o.InsertElement(h.tlid, items.id, "items", 0, n.EInt(let.id, 1)), h,
            f"reuses id(s) {let.id}")


def test_remove_refuses_a_stale_element_a_bad_index_and_an_empty_list() -> None:
    h = handler()
    _, items = parts(h)
    refused(o.RemoveElement(h.tlid, items.id, "items", 0, items.items[1]), h,
            "element 0 of 'items'", "is an infix", "not the record", "reload")
    refused(o.RemoveElement(h.tlid, items.id, "items", 3, items.items[0]), h,
            "index 3 is out of range", "remove at 0 to 2")
    empty = b.http("GET", "/", b.list_())
    refused(o.RemoveElement(empty.tlid, empty.body.id, "items", 0, b.int_(1)), empty,
            "is empty")
    gone = b.list_()
    refused(o.RemoveElement(h.tlid, gone.id, "items", 0, b.int_(1)), h,
            f"node {gone.id} does not exist")


# ---------------------------------------------------------------- batches


def test_a_batch_applies_in_order_and_returns_a_new_canvas() -> None:
    h, fn = handler(), function()
    canvas = {h.tlid: h}
    let, _ = parts(h)
    rename = o.SetName(h.tlid, let.id, "x", "y")
    renamed = apply(rename, h)
    assert renamed is not None
    # A delete carries the toplevel as it is by then: the renamed one.
    result = apply_to_canvas([o.CreateToplevel(fn), rename, o.DeleteToplevel(renamed)], canvas)
    assert result == {fn.tlid: fn}
    assert canvas == {h.tlid: h}
    with pytest.raises(OpError, match="op 2 of the batch of 3"):
        apply_to_canvas([o.CreateToplevel(fn), rename, o.DeleteToplevel(h)], canvas)


def test_a_batch_whose_third_op_fails_changes_nothing_and_names_index_2() -> None:
    h, fn = handler(), function()
    canvas = {h.tlid: h, fn.tlid: fn}
    before = dict(canvas)
    let, _ = parts(h)
    batch = [
        o.SetName(h.tlid, let.id, "x", "y"),
        o.MoveToplevel(fn.tlid, fn.pos, t.Pos(9, 9)),
        o.SetName(h.tlid, let.id, "x", "z"),  # stale: the first op renamed it to y
        o.DeleteToplevel(fn),
    ]
    with pytest.raises(OpError) as raised:
        apply_to_canvas(batch, canvas)
    assert raised.value.op_index == 2
    assert "op 2 of the batch of 4" in raised.value.message
    assert raised.value.reason.startswith("set_name:") and "is 'y', not 'x'" in raised.value.reason
    assert canvas == before and all(canvas[k] is before[k] for k in before)


def test_a_batch_refuses_what_is_not_an_op() -> None:
    with pytest.raises(OpError) as raised:
        apply_to_canvas([o.CreateToplevel(handler()), "drop table"], {})  # type: ignore[list-item]
    assert raised.value.op_index == 1 and "is not an op" in raised.value.message


# ------------------------------------------------------------ robustness


@pytest.mark.parametrize("make", [
    lambda h: "not an op",
    lambda h: o.Op(),
    lambda h: o.ReplaceNode("1", 2, b.int_(1), b.int_(2)),  # type: ignore[arg-type]
    lambda h: o.ReplaceNode(h.tlid, h.body.id, h.body, None),  # type: ignore[arg-type]
    lambda h: o.SetName(h.tlid, h.body.id, "x", 5),  # type: ignore[arg-type]
    lambda h: o.InsertElement(h.tlid, h.body.id, "items", "0", b.int_(1)),  # type: ignore[arg-type]
    lambda h: o.MoveToplevel(h.tlid, h.pos, t.Pos("a", 1)),  # type: ignore[arg-type]
    lambda h: o.CreateToplevel(t.Toplevel(h.tlid, t.Pos(), 0)),
    lambda h: o.SetType(h.tlid, h.tlid, ty.INT, ty.Type()),
])
def test_malformed_ops_are_refused_not_crashed_on(make: Callable[[t.Handler], object]) -> None:
    h = handler()
    reason = validate(make(h), h)  # type: ignore[arg-type]
    assert reason is not None
    refused(make(h), h)


def test_a_very_deep_program_is_data_not_a_recursion_error() -> None:
    depth = 5000
    innermost = b.int_(0)
    body: n.Expr = innermost
    for _ in range(depth):
        body = n.ELet(b.hole().id, "x", body, n.EVariable(b.hole().id, "x"))
    h = b.http("GET", "/", body)
    assert apply(o.CreateToplevel(h), None) is h
    op = o.ReplaceNode(h.tlid, innermost.id, innermost, b.int_(1))
    after = apply(op, h)
    assert after is not None and not same_tree(after, h)
    assert same_tree(apply(invert(op), after), h)
    assert validate(o.DeleteToplevel(h), after) is not None


def test_same_tree_is_structural_equality() -> None:
    assert same_tree(b.list_(1, 2), b.list_(1, 2)) is False  # fresh ids differ
    node = b.list_(1, "a")
    assert same_tree(node, attrs.evolve(node)) is True
    assert same_tree(n.EInt(1, 1), n.EFloat(1, 1.0)) is False
    assert same_tree((n.EHole(1),), (n.EHole(1), n.EHole(2))) is False
