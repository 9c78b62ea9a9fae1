"""Generic walking and rebuilding of trees, driven by the attrs field lists.

Every node class is a frozen attrs class whose children are the fields holding
a `Node` or a tuple of `Node`s, so one walker serves every kind and a new kind
needs no new traversal code. Walks use an explicit stack: a very deep tree is
data, not a reason to overflow Python's stack.

Toplevels are walked too: their direct children are the body, the parameters,
the fields or cases of a type definition. The toplevel itself is addressed by
its `tlid` wherever an op needs a parent id (a function's parameter list, a
type's fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import attrs

from shared_ast.nodes import (
    ECall,
    EConstructor,
    ELambda,
    EList,
    EMatch,
    EnumCase,
    EPipe,
    ERecord,
    Node,
    NodeId,
    PConstructor,
    TypeField,
)
from shared_ast.toplevels import EnumDef, RecordDef, Toplevel, UserFunction, UserType

Parent = Node | Toplevel

#: The list-like children an op may insert into or remove from: class → field names.
LIST_FIELDS: dict[type, tuple[str, ...]] = {
    EList: ("items",),
    ERecord: ("fields",),
    EMatch: ("arms",),
    EPipe: ("steps",),
    ELambda: ("params",),
    ECall: ("args",),
    EConstructor: ("args",),
    PConstructor: ("args",),
    EnumCase: ("fields",),
    UserFunction: ("params",),
    UserType: ("fields", "cases"),
}


def _field_names(obj: Node | Toplevel) -> tuple[str, ...]:
    return tuple(a.name for a in attrs.fields(type(obj)))


def _evolve(obj: Parent, changes: dict[str, Any]) -> Parent:
    # attrs.evolve's typing cannot see through the Node | Toplevel union.
    return attrs.evolve(obj, **changes)


def children(parent: Parent) -> Iterator[Node]:
    """The direct child nodes, in field order."""
    if isinstance(parent, UserType):
        yield from list_field(
            parent, "cases" if isinstance(parent.definition, EnumDef) else "fields"
        )
        return
    for name in _field_names(parent):
        value = getattr(parent, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(root: Parent) -> Iterator[Node]:
    """Every node below `root` (and `root` itself when it is a node), pre-order."""
    stack: list[Parent] = [root]
    while stack:
        current = stack.pop()
        if isinstance(current, Node):
            yield current
        kids = list(children(current))
        kids.reverse()
        stack.extend(kids)


def node_ids(root: Parent) -> list[NodeId]:
    """All node ids below `root`, the tlid first for a toplevel; duplicates kept."""
    ids = [root.tlid] if isinstance(root, Toplevel) else []
    ids.extend(n.id for n in walk(root))
    return ids


def duplicate_ids(root: Parent) -> set[NodeId]:
    seen: set[NodeId] = set()
    dupes: set[NodeId] = set()
    for i in node_ids(root):
        if i in seen:
            dupes.add(i)
        seen.add(i)
    return dupes


def index(root: Parent) -> dict[NodeId, Node]:
    return {n.id: n for n in walk(root)}


def find(root: Parent, node_id: NodeId) -> Node | None:
    for n in walk(root):
        if n.id == node_id:
            return n
    return None


def path_to(root: Parent, node_id: NodeId) -> list[Parent] | None:
    """The chain of parents from `root` down to the node with `node_id` (inclusive)."""
    if isinstance(root, Toplevel) and root.tlid == node_id:
        return [root]
    if isinstance(root, Node) and root.id == node_id:
        return [root]
    # Depth-first search that keeps the current path, without recursion.
    path: list[Parent] = [root]
    iters: list[Iterator[Node]] = [children(root)]
    while iters:
        nxt = next(iters[-1], None)
        if nxt is None:
            iters.pop()
            path.pop()
            continue
        path.append(nxt)
        if nxt.id == node_id:
            return path
        iters.append(children(nxt))
    return None


def parent_of(root: Parent, node_id: NodeId) -> Parent | None:
    path = path_to(root, node_id)
    if path is None or len(path) < 2:
        return None
    return path[-2]


def list_field(parent: Parent, field: str) -> tuple[Node, ...]:
    """The elements of a list-like child (see `LIST_FIELDS`)."""
    if isinstance(parent, UserType):
        d = parent.definition
        if field == "fields" and isinstance(d, RecordDef):
            return d.fields
        if field == "cases" and isinstance(d, EnumDef):
            return d.cases
        return ()
    value = getattr(parent, field, ())
    return tuple(value) if isinstance(value, tuple) else ()


def with_list_field(parent: Parent, field: str, items: tuple[Node, ...]) -> Parent:
    """`parent` with its list-like child `field` set to `items`."""
    if isinstance(parent, UserType):
        d = parent.definition
        if field == "fields" and isinstance(d, RecordDef):
            fields = cast(tuple[TypeField, ...], items)
            return attrs.evolve(parent, definition=attrs.evolve(d, fields=fields))
        if field == "cases" and isinstance(d, EnumDef):
            cases = cast(tuple[EnumCase, ...], items)
            return attrs.evolve(parent, definition=attrs.evolve(d, cases=cases))
        raise ValueError(f"type {parent.name} has no list {field!r}")
    return _evolve(parent, {field: items})


def _replace_child(parent: Parent, old: Node, new: Node) -> Parent:
    if isinstance(parent, UserType):
        field = "cases" if isinstance(parent.definition, EnumDef) else "fields"
        items = tuple(new if item is old else item for item in list_field(parent, field))
        return with_list_field(parent, field, items)
    changes: dict[str, object] = {}
    for name in _field_names(parent):
        value = getattr(parent, name)
        if value is old:
            changes[name] = new
            break
        if isinstance(value, tuple) and any(item is old for item in value):
            changes[name] = tuple(new if item is old else item for item in value)
            break
    return _evolve(parent, changes)


def rebuild_path(path: list[Parent], new_leaf: Parent) -> Parent:
    """Given a path from a root to a node, the root with that node replaced by `new_leaf`."""
    current = new_leaf
    for depth in range(len(path) - 2, -1, -1):
        old_child = path[depth + 1]
        assert isinstance(old_child, Node)
        assert isinstance(current, Node)
        current = _replace_child(path[depth], old_child, current)
    return current


def replace(root: Parent, node_id: NodeId, new: Node) -> Parent:
    """`root` with the node `node_id` replaced by `new`; `root` unchanged when absent."""
    path = path_to(root, node_id)
    if path is None:
        return root
    return rebuild_path(path, new)
