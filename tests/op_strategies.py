"""Hypothesis strategies for ops: valid ops for a given toplevel, and junk.

`valid_ops(tl)` draws an op of any kind that `shared_ast.apply` must accept
against `tl`: it picks a real node, name, list or trigger of `tl`, carries
its current value as `old`, and brings new subtrees whose ids start above
every id in `tl`, so they never collide. `junk_ops()` draws anything at all
shaped like an op, from plausible-but-wrong (a stale old value, an index one
past the end, an id that is taken) to nonsense (a string where a node goes),
so validation can be shown never to crash.

Toplevels from `strategies.toplevels()` may use an operator the runtime does
not know (`??`, so the checker sees wrong programs) or a language version
newer than this runtime's; `canvas_toplevels()` maps those to what a canvas
can hold, since creating such a toplevel is refused.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
from hypothesis import reject
from hypothesis import strategies as st
from strategies import (
    patterns,
    positions,
    raw_exprs,
    renumber,
    toplevels,
    types,
)

from shared_ast import nodes as n
from shared_ast import ops as o
from shared_ast import toplevels as t
from shared_ast import traverse
from shared_ast.apply import LATEST_LANGUAGE_VERSION
from shared_ast.names import (
    ELEMENT_CLASS,
    NAMED_NODES,
    NAMED_TOPLEVELS,
    binder_problem,
    flag_name_problem,
    identifier_problem,
    operator_problem,
    typed_text_problem,
    upper_name_problem,
)
from shared_ast.operators import OPERATORS

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
upper_names = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,8}", fullmatch=True)
NAME_STRATEGIES: dict[Any, st.SearchStrategy[str]] = {
    identifier_problem: identifiers,
    binder_problem: st.one_of(st.just(""), identifiers),
    upper_name_problem: upper_names,
    flag_name_problem: st.text(min_size=1, max_size=10),
    operator_problem: st.sampled_from(sorted(OPERATORS)),
    typed_text_problem: st.text(max_size=200),
}


# ------------------------------------------------------------ canvas-ready


def canvas_ready(tree: Any) -> Any:
    """`tree` with unknown infix operators made `+` and language versions the runtime knows."""
    if isinstance(tree, tuple):
        return tuple(canvas_ready(x) for x in tree)
    if not attrs.has(type(tree)):
        return tree
    changes = {a.name: canvas_ready(getattr(tree, a.name)) for a in attrs.fields(type(tree))}
    if isinstance(tree, n.EInfix) and tree.op not in OPERATORS:
        changes["op"] = "+"
    if isinstance(tree, t.Toplevel):
        changes["language_version"] = min(tree.language_version, LATEST_LANGUAGE_VERSION)
    return attrs.evolve(tree, **changes)


@functools.cache
def _canvas_ready_toplevels(max_leaves: int) -> st.SearchStrategy[t.Toplevel]:
    return toplevels(max_leaves).map(canvas_ready)


@functools.cache
def canvas_toplevels(max_leaves: int = 12, tlid_start: int = 1) -> st.SearchStrategy[t.Toplevel]:
    """Toplevels a canvas can hold (see the module docstring), ids from `tlid_start`.

    Cached: hypothesis validates every new strategy object, which costs far
    more than drawing from one it has seen.
    """
    return _canvas_ready_toplevels(max_leaves).map(lambda tl: renumber(tl, tlid_start))


def first_free_id(tl: t.Toplevel) -> int:
    return max(traverse.node_ids(tl)) + 1


# ------------------------------------------------------------ fresh subtrees

_ID = st.just(0)  # `renumber` gives real ids


_TYPES = types()
_PATTERNS = patterns()
_SMALL_EXPRS = raw_exprs(4)
_TYPE_FIELDS = st.lists(st.builds(n.TypeField, _ID, identifiers, _TYPES), max_size=2)
#: Elements of each class (of its category, for Expr and Pattern), ids still 0.
_RAW: dict[type[n.Node], st.SearchStrategy[Any]] = {
    n.Expr: raw_exprs(6),
    n.Pattern: _PATTERNS,
    n.RecordField: st.builds(n.RecordField, _ID, identifiers, _SMALL_EXPRS),
    n.MatchArm: st.builds(n.MatchArm, _ID, _PATTERNS, _SMALL_EXPRS),
    n.LambdaParam: st.builds(n.LambdaParam, _ID, identifiers),
    n.Param: st.builds(n.Param, _ID, identifiers, _TYPES),
    n.TypeField: st.builds(n.TypeField, _ID, identifiers, _TYPES),
    n.EnumCase: st.builds(n.EnumCase, _ID, upper_names, _TYPE_FIELDS.map(tuple)),
}
_READY = {cls: raw.map(canvas_ready) for cls, raw in _RAW.items()}


def fresh(cls: type[n.Node], start: int) -> st.SearchStrategy[n.Node]:
    """A new, well-formed `cls` (any expression for Expr) whose ids start at `start`."""
    return _READY[cls].map(lambda node: renumber(node, start))


def _category(node: n.Node) -> type[n.Node]:
    if isinstance(node, n.Expr):
        return n.Expr
    if isinstance(node, n.Pattern):
        return n.Pattern
    return type(node)


@st.composite
def _replacement(draw: st.DrawFn, node: n.Node, start: int) -> n.Node:
    category = _category(node)
    choice = draw(st.integers(0, 3))
    if category is n.Expr and choice == 1:
        # Wrap the old expression: its ids stay, only the wrapper is new.
        return draw(st.sampled_from([
            n.ELet(start, "wrapped", node, n.EHole(start + 1)),
            n.EPartial(start, "typing", node),
            n.EList(start, (node,)),
            n.EFlag(start, "flag", n.EHole(start + 1), node, n.EHole(start + 2)),
        ]))
    new = draw(fresh(category, start))
    if choice == 2:
        # The replacement may keep the replaced root's id.
        new = attrs.evolve(new, id=node.id)
    return new


# ---------------------------------------------------------------- valid ops


def _nodes(tl: t.Toplevel) -> list[n.Node]:
    return list(traverse.walk(tl))


def _lists(tl: t.Toplevel) -> list[tuple[traverse.Parent, str]]:
    found: list[tuple[traverse.Parent, str]] = []
    for parent in [tl, *_nodes(tl)]:
        for field in traverse.LIST_FIELDS.get(type(parent), ()):
            if isinstance(parent, t.UserType):
                is_record = isinstance(parent.definition, t.RecordDef)
                if is_record != (field == "fields"):
                    continue
            found.append((parent, field))
    return found


def _id_of(parent: traverse.Parent) -> int:
    return parent.tlid if isinstance(parent, t.Toplevel) else parent.id


def _move(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    return o.MoveToplevel(tl.tlid, tl.pos, draw(positions))


def _delete(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    return o.DeleteToplevel(tl)


def _replace(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    nodes = _nodes(tl)
    if not nodes:
        return None
    node = draw(st.sampled_from(nodes))
    return o.ReplaceNode(tl.tlid, node.id, node, draw(_replacement(node, start)))


def _set_name(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    targets: list[traverse.Parent] = [x for x in _nodes(tl) if type(x) in NAMED_NODES]
    if type(tl) in NAMED_TOPLEVELS:
        targets.append(tl)
    if not targets:
        return None
    target = draw(st.sampled_from(targets))
    if isinstance(target, t.Toplevel):
        attribute, rule = "name", NAMED_TOPLEVELS[type(target)]
    else:
        attribute, rule = NAMED_NODES[type(target)]
    new = draw(NAME_STRATEGIES[rule])
    return o.SetName(tl.tlid, _id_of(target), getattr(target, attribute), new)


@functools.cache
def http_specs() -> st.SearchStrategy[t.HttpSpec]:
    segment = st.one_of(identifiers, identifiers.map(lambda s: ":" + s), st.just(""))

    def route(segments: list[str]) -> str:
        seen: set[str] = set()
        kept = []
        for s in segments:
            if s.startswith(":") and s in seen:
                continue
            seen.add(s)
            kept.append(s)
        return "/" + "/".join(kept)

    return st.builds(t.HttpSpec, st.sampled_from(t.HTTP_METHODS),
                     st.lists(segment, max_size=4).map(route))


@functools.cache
def valid_specs() -> st.SearchStrategy[t.HandlerSpec]:
    name = st.text(min_size=1, max_size=10)
    return st.one_of(
        http_specs(),
        st.builds(t.WorkerSpec, name),
        st.builds(t.CronSpec, name, st.integers(1, 10**6)),
        st.builds(t.ReplSpec, name),
    )


def _set_spec(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    if not isinstance(tl, t.Handler):
        return None
    return o.SetHandlerSpec(tl.tlid, tl.spec, draw(valid_specs()))


def _set_type(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    targets: list[tuple[int, Any]] = [
        (x.id, x.type) for x in _nodes(tl) if isinstance(x, n.Param | n.TypeField)
    ]
    if isinstance(tl, t.UserFunction):
        targets.append((tl.tlid, tl.return_type))
    if isinstance(tl, t.Datastore):
        targets.append((tl.tlid, tl.schema))
    if not targets:
        return None
    node_id, old = draw(st.sampled_from(targets))
    return o.SetType(tl.tlid, node_id, old, draw(_TYPES))


def _set_description(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    if not isinstance(tl, t.UserFunction):
        return None
    return o.SetDescription(tl.tlid, tl.description, draw(st.text(max_size=40)))


def _set_language_version(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    new = draw(st.integers(0, LATEST_LANGUAGE_VERSION))
    return o.SetLanguageVersion(tl.tlid, tl.language_version, new)


def _insert(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    lists = _lists(tl)
    if not lists:
        return None
    parent, field = draw(st.sampled_from(lists))
    items = traverse.list_field(parent, field)
    index = draw(st.integers(0, len(items)))
    element = draw(fresh(ELEMENT_CLASS[(type(parent), field)], start))
    return o.InsertElement(tl.tlid, _id_of(parent), field, index, element)


def _remove(draw: st.DrawFn, tl: t.Toplevel, start: int) -> o.Op | None:
    lists = [(p, f) for p, f in _lists(tl) if traverse.list_field(p, f)]
    if not lists:
        return None
    parent, field = draw(st.sampled_from(lists))
    items = traverse.list_field(parent, field)
    index = draw(st.integers(0, len(items) - 1))
    return o.RemoveElement(tl.tlid, _id_of(parent), field, index, items[index])


_MAKERS = {
    o.MoveToplevel: _move,
    o.DeleteToplevel: _delete,
    o.ReplaceNode: _replace,
    o.SetName: _set_name,
    o.SetHandlerSpec: _set_spec,
    o.SetType: _set_type,
    o.SetDescription: _set_description,
    o.SetLanguageVersion: _set_language_version,
    o.InsertElement: _insert,
    o.RemoveElement: _remove,
}
assert set(_MAKERS) | {o.CreateToplevel} == set(o.OP_KINDS), "every op kind needs a maker"


@st.composite
def valid_ops(draw: st.DrawFn, tl: t.Toplevel | None, kind: type[o.Op] | None = None,
              new_tlid: int = 1) -> o.Op:
    """An op of any kind (or of `kind`) that applies to `tl`; None means the tlid is free.

    For a free tlid the op creates a toplevel with tlid `new_tlid`. A kind that
    cannot apply to `tl` (a spec change on a function, a removal from a toplevel
    without lists) makes hypothesis reject the example.
    """
    if tl is None:
        if kind not in (None, o.CreateToplevel):
            return reject()
        return o.CreateToplevel(draw(canvas_toplevels(tlid_start=new_tlid)))
    kinds = [kind] if kind is not None else draw(st.permutations(list(_MAKERS)))
    for k in kinds:
        maker = _MAKERS.get(k)
        op = maker(draw, tl, first_free_id(tl)) if maker is not None else None
        if op is not None:
            return op
    return reject()


# ---------------------------------------------------------------------- junk


class Alien(n.Expr):
    """A node class that is not part of the language (as a buggy or hostile client might send)."""

    KIND = "alien"


_small_ids = st.integers(-2, 40)
_any_ids = st.one_of(_small_ids, st.integers(-(2**64), 2**64))
_junk_names = st.one_of(st.text(max_size=6), identifiers, upper_names,
                        st.sampled_from(["??", "+", "", "1x", "a b"]))
_any_nodes = st.one_of(
    _SMALL_EXPRS.map(lambda e: renumber(e, 1)),
    _SMALL_EXPRS.map(lambda e: renumber(e, 20)),
    _SMALL_EXPRS,  # every id 0: repeated ids, and out of range
    _PATTERNS.map(lambda p: renumber(p, 5)),
    *(fresh(cls, 3) for cls in (n.RecordField, n.MatchArm, n.LambdaParam, n.Param, n.TypeField,
                                n.EnumCase)),
    st.builds(Alien, _small_ids),
    st.builds(n.Expr, _small_ids),
    st.builds(n.Node, _small_ids),
)
_junk_specs = st.one_of(
    st.builds(t.HttpSpec, st.one_of(st.sampled_from(t.HTTP_METHODS), st.text(max_size=5)),
              st.one_of(st.sampled_from(["/", "/a/:x", "/:x/:x", "/:1", "nope", "/:"]),
                        st.text(max_size=8))),
    st.builds(t.WorkerSpec, st.text(max_size=3)),
    st.builds(t.CronSpec, st.text(max_size=3), st.integers(-5, 100)),
    st.builds(t.ReplSpec, st.text(max_size=3)),
    st.builds(t.HandlerSpec),
)
_SMALL_TOPLEVELS = toplevels(6)
_junk_toplevels = st.one_of(
    _SMALL_TOPLEVELS,
    _SMALL_TOPLEVELS.map(lambda tl: renumber(tl, 7)),
    _SMALL_TOPLEVELS.map(lambda tl: attrs.evolve(tl, tlid=1)),  # tlid repeats a node id
    st.builds(t.Toplevel, _small_ids, positions, st.integers(-1, 3)),
)
_fields = st.sampled_from(sorted({f for fs in traverse.LIST_FIELDS.values() for f in fs}
                                 | {"body", "nope", ""}))
#: Anything at all, for fields that should not hold it.
_wild = st.one_of(st.none(), st.integers(), st.text(max_size=4), st.floats(), st.booleans(),
                  _any_nodes, _TYPES, positions, _junk_specs, st.tuples())

_WELL_TYPED_JUNK: dict[type[o.Op], st.SearchStrategy[o.Op]] = {
    o.CreateToplevel: st.builds(o.CreateToplevel, _junk_toplevels),
    o.DeleteToplevel: st.builds(o.DeleteToplevel, _junk_toplevels),
    o.MoveToplevel: st.builds(o.MoveToplevel, _small_ids, positions, positions),
    o.ReplaceNode: st.builds(o.ReplaceNode, _small_ids, _any_ids, _any_nodes, _any_nodes),
    o.SetName: st.builds(o.SetName, _small_ids, _small_ids, _junk_names, _junk_names),
    o.SetHandlerSpec: st.builds(o.SetHandlerSpec, _small_ids, _junk_specs, _junk_specs),
    o.SetType: st.builds(o.SetType, _small_ids, _small_ids, _TYPES, _TYPES),
    o.SetDescription: st.builds(o.SetDescription, _small_ids, st.text(max_size=4),
                                st.text(max_size=4)),
    o.SetLanguageVersion: st.builds(o.SetLanguageVersion, _small_ids, st.integers(-2, 3),
                                    st.integers(-2, 3)),
    o.InsertElement: st.builds(o.InsertElement, _small_ids, _small_ids, _fields,
                               st.integers(-3, 8), _any_nodes),
    o.RemoveElement: st.builds(o.RemoveElement, _small_ids, _small_ids, _fields,
                               st.integers(-3, 8), _any_nodes),
}


def _ill_typed(kind: type[o.Op]) -> st.SearchStrategy[o.Op]:
    """`kind` with every field drawn from anything: strings for ids, None for nodes, ..."""
    fields = attrs.fields(kind)
    return st.builds(kind, *[st.one_of(_wild, _small_ids) for _ in fields])


@st.composite
def _near_miss(draw: st.DrawFn, tl: t.Toplevel | None) -> o.Op:
    """A valid op for `tl` with one field swapped for junk: mostly stale, taken or out of range."""
    op = draw(valid_ops(tl))
    field = draw(st.sampled_from(attrs.fields(type(op))))
    junk_by_field: dict[str, st.SearchStrategy[Any]] = {
        "index": st.integers(-2, 12),
        "node_id": _small_ids,
        "parent_id": _small_ids,
        "tlid": _small_ids,
        "field": _fields,
    }
    value = draw(st.one_of(junk_by_field.get(field.name, st.nothing()), _wild))
    return attrs.evolve(op, **{field.name: value})


_JUNK = st.one_of(
    *_WELL_TYPED_JUNK.values(),
    *(_ill_typed(k) for k in o.OP_KINDS),
    _wild,
    st.builds(o.Op),
)


def junk_ops(tl: t.Toplevel | None = None) -> st.SearchStrategy[Any]:
    """Arbitrary ops (and a few things that are not ops at all); near misses when `tl` is given."""
    if tl is None:
        return _JUNK
    near = _near_miss(tl)
    return st.one_of(_JUNK, near, near)
