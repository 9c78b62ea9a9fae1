"""Validating, applying and inverting ops: the one way a toplevel changes.

The runtime runs every op from an editor through `apply` before it touches
anything, so the rules a stored program obeys live here:

- ops are addressed and stale-proof: the node (or list element, name, type,
  spec, position) an op changes must still be exactly the `old` value it
  carries, else the op is refused rather than clobbering someone's edit;
- every node in a toplevel has its own id (the tlid counts), ids fit in a
  JSON number (1 … 2**53-1), and a new subtree brings only fresh ids, except
  that a replacement may keep ids of the subtree it replaces (wrapping an
  expression in a `let` keeps the expression);
- every slot holds its category (an expression slot an expression, a pattern
  slot a pattern, a list of match arms match arms) and every field its
  declared type, so a malformed op from the wire is refused, not stored;
- every name obeys `shared_ast.names`, in new subtrees and toplevels too, so
  the rules hold for whole toplevels, whichever ops built them.

Refusals are `OpError`s whose message names the op kind, the toplevel and
node, what was expected and what was found. Nothing else escapes: `validate`
never raises and `apply` raises only `OpError`, whatever the input.

Applying walks the toplevel once to find the path to the node (and, when new
ids arrive, to collect the ids outside it), then rebuilds only along that
path: the untouched rest of the tree is shared with the old toplevel. All
walks use explicit stacks, so a deeply nested program is data, not a
RecursionError.
"""

from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from shared_ast import traverse
from shared_ast.ids import MAX_ID
from shared_ast.names import (
    ELEMENT_CLASS,
    NAMED_NODES,
    NAMED_TOPLEVELS,
    article,
    describe,
    kind_of,
    migration_problem,
    quote,
    shape_problem,
    show_spec,
    show_type_briefly,
    spec_problem,
    toplevel_name_problem,
    tree_problems,
)
from shared_ast.nodes import Expr, Node, NodeId, Param, Pattern, TypeField
from shared_ast.ops import (
    OP_KINDS,
    CreateToplevel,
    DeleteToplevel,
    InsertElement,
    MoveToplevel,
    Op,
    RemoveElement,
    ReplaceNode,
    SetDescription,
    SetHandlerSpec,
    SetLanguageVersion,
    SetName,
    SetType,
)
from shared_ast.toplevels import Datastore, Handler, RecordDef, Toplevel, UserFunction, UserType

__all__ = [
    "LATEST_LANGUAGE_VERSION",
    "OpError",
    "apply",
    "apply_to_canvas",
    "invert",
    "same_tree",
    "validate",
]

#: The newest language version this runtime can evaluate; toplevels may be
#: created in, or moved to, versions 0 … this. The language-version issue raises it.
LATEST_LANGUAGE_VERSION = 2

_STALE = "the toplevel changed since the op was made; reload it and try again"


class OpError(Exception):
    """An op was refused. The message says what was wrong and what to do; nothing changed.

    `op_index` is set by `apply_to_canvas`: the position in the batch of the op
    that was refused (then `reason` is that op's own message, without the batch preamble).
    """

    def __init__(self, message: str, *, op_index: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.op_index = op_index
        self.reason = message if reason is None else reason


# ------------------------------------------------------------------ public API


def validate(op: Op, tl: Toplevel | None) -> str | None:
    """Why `op` does not apply to `tl` (None: the toplevel is absent), or None when it does."""
    try:
        apply(op, tl)
    except OpError as refusal:
        return refusal.message
    return None


def apply(op: Op, tl: Toplevel | None) -> Toplevel | None:
    """The toplevel after `op` (None after a delete); raises `OpError` when the op is refused."""
    _check_op_shape(op)
    if tl is not None and not isinstance(tl, Toplevel):
        raise OpError(f"{op.KIND}: expected a toplevel or None to apply to, "
                      f"found {type(tl).__name__}")
    match op:
        case CreateToplevel():
            return _create(op, tl)
        case DeleteToplevel():
            _check_delete(op, tl)
            return None
        case MoveToplevel():
            return _move(op, tl)
        case ReplaceNode():
            return _replace(op, tl)
        case SetName():
            return _set_name(op, tl)
        case SetHandlerSpec():
            return _set_spec(op, tl)
        case SetType():
            return _set_type(op, tl)
        case SetDescription():
            return _set_description(op, tl)
        case SetLanguageVersion():
            return _set_language_version(op, tl)
        case InsertElement():
            return _insert(op, tl)
        case RemoveElement():
            return _remove(op, tl)
    raise OpError(f"{type(op).__name__} is not an op kind this runtime knows")


def invert(op: Op) -> Op:
    """The op that undoes `op`: `apply(invert(op), apply(op, tl)) == tl` if `op` applies to `tl`."""
    match op:
        case CreateToplevel(toplevel=toplevel):
            return DeleteToplevel(toplevel)
        case DeleteToplevel(toplevel=toplevel):
            return CreateToplevel(toplevel)
        case ReplaceNode(tlid=tlid, old=old, new=new) if isinstance(new, Node):
            # The new subtree's root may carry a new id: the undo addresses it there.
            return ReplaceNode(tlid, new.id, new, old)
        case ReplaceNode():
            raise OpError("replace_node: cannot invert an op whose new value is not a node")
        case MoveToplevel(tlid=tlid, old=old, new=new):
            return MoveToplevel(tlid, new, old)
        case SetName(tlid=tlid, node_id=node_id, old=old, new=new):
            return SetName(tlid, node_id, new, old)
        case SetHandlerSpec(tlid=tlid, old=old, new=new):
            return SetHandlerSpec(tlid, new, old)
        case SetType(tlid=tlid, node_id=node_id, old=old, new=new):
            return SetType(tlid, node_id, new, old)
        case SetDescription(tlid=tlid, old=old, new=new):
            return SetDescription(tlid, new, old)
        case SetLanguageVersion(tlid=tlid, old=old, new=new):
            return SetLanguageVersion(tlid, new, old)
        case InsertElement(tlid=tlid, parent_id=parent_id, field=field, index=index,
                           element=element):
            return RemoveElement(tlid, parent_id, field, index, element)
        case RemoveElement(tlid=tlid, parent_id=parent_id, field=field, index=index,
                           element=element):
            return InsertElement(tlid, parent_id, field, index, element)
    raise OpError(f"{type(op).__name__} is not an op kind this runtime knows, so it has no inverse")


def apply_to_canvas(ops: Sequence[Op], canvas: Mapping[int, Toplevel]) -> dict[int, Toplevel]:
    """The canvas (tlid → toplevel) after every op of the batch, in order; all or nothing.

    The input mapping is never mutated. When an op is refused, `OpError` names its
    index in the batch and why, and none of the batch's ops count.
    """
    result = dict(canvas)
    for index, op in enumerate(ops):
        try:
            _check_op_shape(op)
            tlid = op.target_tlid
            after = apply(op, result.get(tlid))
        except OpError as refusal:
            raise OpError(
                f"op {index} of the batch of {len(ops)} was refused, so none of them was "
                f"applied: {refusal.message}",
                op_index=index, reason=refusal.message,
            ) from None
        if after is None:
            result.pop(tlid, None)
        else:
            result[tlid] = after
    return result


def same_tree(a: object, b: object) -> bool:
    """Structural equality of two trees (nodes, types, toplevels), without recursion.

    Equal to `a == b` for well-formed trees, but safe on a tree nested deeper
    than Python's recursion limit.
    """
    stack: list[tuple[object, object]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if isinstance(x, tuple):
            if not isinstance(y, tuple) or len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif attrs.has(type(x)):
            if type(y) is not type(x):
                return False
            fields = attrs.fields(typing.cast(Any, type(x)))
            stack.extend((getattr(x, f.name), getattr(y, f.name)) for f in fields)
        elif isinstance(y, tuple) or attrs.has(type(y)) or x != y:
            return False
    return True


# ------------------------------------------------------------ toplevel ops


def _create(op: CreateToplevel, tl: Toplevel | None) -> Toplevel:
    new = op.toplevel
    if tl is not None:
        raise OpError(f"create_toplevel: toplevel {tl.tlid} already exists ({article(tl.KIND)}); "
                      "create the new one with a fresh tlid")
    ids, problem = tree_problems(new)
    if problem is None:
        problem = toplevel_name_problem(new)
    if problem is None and isinstance(new, Handler):
        problem = spec_problem(new.spec)
    if problem is None and isinstance(new, Datastore):
        problem = migration_problem(new)
    if problem is None and not 0 <= new.language_version <= LATEST_LANGUAGE_VERSION:
        problem = (f"language version {new.language_version} is unknown here: "
                   f"versions run from 0 to {LATEST_LANGUAGE_VERSION}")
    if problem is None and not 1 <= new.tlid <= MAX_ID:
        problem = f"the tlid must be between 1 and {MAX_ID}, not {new.tlid}"
    if problem is None:
        dupes = sorted(i for i, count in Counter([new.tlid, *ids]).items() if count > 1)
        if dupes:
            problem = f"id(s) {_ids(dupes)} are used more than once; every node needs its own id"
    if problem is not None:
        raise OpError(f"create_toplevel: the new {new.KIND} {new.tlid} is refused: {problem}")
    return new


def _check_delete(op: DeleteToplevel, tl: Toplevel | None) -> None:
    current = _existing(op.KIND, op.toplevel.tlid, tl)
    if not same_tree(current, op.toplevel):
        raise OpError(f"delete_toplevel: toplevel {current.tlid} ({article(current.KIND)}) is not "
                      f"the {op.toplevel.KIND} the op expected to delete: {_STALE}")


def _move(op: MoveToplevel, tl: Toplevel | None) -> Toplevel:
    current = _existing(op.KIND, op.tlid, tl)
    if current.pos != op.old:
        raise OpError(f"move_toplevel: toplevel {op.tlid} is at ({current.pos.x}, "
                      f"{current.pos.y}), not at ({op.old.x}, {op.old.y}) where the op expected "
                      f"it: {_STALE}")
    _none, problem = tree_problems(op.new)
    if problem is not None:
        raise OpError(f"move_toplevel: the new position of toplevel {op.tlid} is malformed: "
                      f"{problem}")
    return attrs.evolve(current, pos=op.new)


def _set_spec(op: SetHandlerSpec, tl: Toplevel | None) -> Toplevel:
    current = _existing(op.KIND, op.tlid, tl)
    if not isinstance(current, Handler):
        raise OpError(f"set_handler_spec: toplevel {op.tlid} is {article(current.KIND)}, not a "
                      "handler; only handlers have a trigger")
    if not same_tree(current.spec, op.old):
        raise OpError(f"set_handler_spec: toplevel {op.tlid} is triggered by "
                      f"{show_spec(current.spec)}, not by {show_spec(op.old)} as the op "
                      f"expected: {_STALE}")
    _ids_found, problem = tree_problems(op.new)
    problem = problem or spec_problem(op.new)
    if problem is not None:
        raise OpError(f"set_handler_spec: the new trigger of toplevel {op.tlid} is refused: "
                      f"{problem}")
    return attrs.evolve(current, spec=op.new)


def _set_description(op: SetDescription, tl: Toplevel | None) -> Toplevel:
    current = _existing(op.KIND, op.tlid, tl)
    if not isinstance(current, UserFunction):
        raise OpError(f"set_description: toplevel {op.tlid} is {article(current.KIND)}; only "
                      "functions have a description")
    if current.description != op.old:
        raise OpError(f"set_description: the description of function {op.tlid} is "
                      f"{quote(current.description)}, not {quote(op.old)} as the op expected: "
                      f"{_STALE}")
    return attrs.evolve(current, description=op.new)


def _set_language_version(op: SetLanguageVersion, tl: Toplevel | None) -> Toplevel:
    current = _existing(op.KIND, op.tlid, tl)
    if current.language_version != op.old:
        raise OpError(f"set_language_version: toplevel {op.tlid} is written in language version "
                      f"{current.language_version}, not {op.old} as the op expected: {_STALE}")
    if not 0 <= op.new <= LATEST_LANGUAGE_VERSION:
        raise OpError(f"set_language_version: toplevel {op.tlid} cannot move to language "
                      f"version {op.new}: versions run from 0 to {LATEST_LANGUAGE_VERSION}")
    return attrs.evolve(current, language_version=op.new)


# ---------------------------------------------------------------- node ops


def _replace(op: ReplaceNode, tl: Toplevel | None) -> Toplevel:
    current_tl = _existing(op.KIND, op.tlid, tl)
    if op.node_id == op.tlid:
        raise OpError(f"replace_node: {op.tlid} is toplevel {op.tlid} itself, not a node in it; "
                      "to replace a whole toplevel, delete it and create the new one")
    path, outside = _survey(current_tl, op.node_id, skip_target=True)
    # Not the tlid, so what `_survey` found is a node.
    current = typing.cast(Node, _found(op.KIND, op.tlid, op.node_id, path))
    where = _where(op.tlid, op.node_id)
    if not same_tree(current, op.old):
        raise OpError(_stale_node(op.KIND, where, current, op.old))
    category = _category(current)
    if not _fits_category(op.new, category):
        raise OpError(f"replace_node: {where} is {article(current.KIND)}, which only "
                      f"{_phrase(category)} can replace, not {describe(op.new)}")
    _check_fresh(op.KIND, f"the new subtree for {where}", op.new, outside)
    assert path is not None
    return _rebuild(path, op.new)


def _set_name(op: SetName, tl: Toplevel | None) -> Toplevel:
    current_tl = _existing(op.KIND, op.tlid, tl)
    path = _locate(op.KIND, current_tl, op.node_id)
    target = path[-1]
    where = _where(op.tlid, op.node_id)
    attribute = "name"
    if isinstance(target, Toplevel):
        rule = NAMED_TOPLEVELS.get(type(target))
        if rule is None:
            raise OpError(f"set_name: toplevel {op.tlid} is {article(target.KIND)}, which has "
                          "no name; change what triggers it with set_handler_spec")
    else:
        entry = NAMED_NODES.get(type(target))
        if entry is None:
            raise OpError(f"set_name: {where} is {article(target.KIND)}, which has no name to set")
        attribute, rule = entry
    current = getattr(target, attribute)
    if current != op.old:
        raise OpError(f"set_name: the {attribute} of {where} ({article(target.KIND)}) is "
                      f"{quote(current)}, not {quote(op.old)} as the op expected: {_STALE}")
    problem = rule(op.new)
    if problem is None and isinstance(target, Datastore) and target.migration is not None:
        problem = (f"{target.qualified} was made from {target.name}_v"
                   f"{target.migration.from_version} and shares its rows, so it keeps its "
                   "name; to store under another name, make a new datastore")
    if problem is not None:
        raise OpError(f"set_name: cannot set the {attribute} of {where} ({article(target.KIND)}): "
                      f"{problem}")
    return _rebuild(path, _with(target, attribute, op.new))


def _set_type(op: SetType, tl: Toplevel | None) -> Toplevel:
    current_tl = _existing(op.KIND, op.tlid, tl)
    path = _locate(op.KIND, current_tl, op.node_id)
    target = path[-1]
    where = _where(op.tlid, op.node_id)
    match target:
        case UserFunction():
            attribute = "return_type"
        case Datastore():
            attribute = "schema"
        case Param() | TypeField():
            attribute = "type"
        case _:
            raise OpError(f"set_type: {where} is {article(target.KIND)}, which has no type to set; "
                          "set the type of a param or type field, or a function's return type "
                          "or a datastore's schema (addressed by the tlid)")
    current = getattr(target, attribute)
    if not same_tree(current, op.old):
        raise OpError(f"set_type: the {attribute} of {where} is {show_type_briefly(current)}, not "
                      f"{show_type_briefly(op.old)} as the op expected: {_STALE}")
    _none, problem = tree_problems(op.new)
    if problem is not None:
        raise OpError(f"set_type: the new {attribute} of {where} is malformed: {problem}")
    return _rebuild(path, _with(target, attribute, op.new))


# ---------------------------------------------------------------- list ops

def _insert(op: InsertElement, tl: Toplevel | None) -> Toplevel:
    current_tl = _existing(op.KIND, op.tlid, tl)
    path, all_ids = _survey(current_tl, op.parent_id, skip_target=False)
    if op.parent_id == op.tlid:
        path = [current_tl]
    parent = _found(op.KIND, op.tlid, op.parent_id, path)
    items, element_class, where = _list_of(op.KIND, op.tlid, op.parent_id, parent, op.field)
    if not 0 <= op.index <= len(items):
        raise OpError(f"insert_element: index {op.index} is out of range for {where}, which "
                      f"has {len(items)} element(s): insert at 0 to {len(items)}")
    if not _fits_category(op.element, element_class):
        raise OpError(f"insert_element: {where} holds {_phrase(element_class)}, not "
                      f"{describe(op.element)}")
    _check_fresh(op.KIND, f"the element inserted into {where}", op.element, all_ids)
    new_items = (*items[:op.index], op.element, *items[op.index:])
    assert path is not None
    return _rebuild(path, traverse.with_list_field(parent, op.field, new_items))


def _remove(op: RemoveElement, tl: Toplevel | None) -> Toplevel:
    current_tl = _existing(op.KIND, op.tlid, tl)
    path = _locate(op.KIND, current_tl, op.parent_id)
    parent = path[-1]
    items, _element_class, where = _list_of(op.KIND, op.tlid, op.parent_id, parent, op.field)
    if not items:
        raise OpError(f"remove_element: {where} is empty, so there is no element {op.index} "
                      f"to remove: {_STALE}")
    if not 0 <= op.index < len(items):
        raise OpError(f"remove_element: index {op.index} is out of range for {where}, which has "
                      f"{len(items)} element(s): remove at 0 to {len(items) - 1}")
    current = items[op.index]
    if not same_tree(current, op.element):
        raise OpError(f"remove_element: element {op.index} of {where} is "
                      f"{article(current.KIND)} (node {current.id}), not the {kind_of(op.element)} "
                      f"(node {op.element.id}) the op expected: {_STALE}")
    new_items = (*items[:op.index], *items[op.index + 1:])
    return _rebuild(path, traverse.with_list_field(parent, op.field, new_items))


def _list_of(kind: str, tlid: int, parent_id: NodeId, parent: traverse.Parent,
             field: str) -> tuple[tuple[Node, ...], type[Node], str]:
    """The elements of list `field` of `parent`, the class they must be, and the list's name."""
    where = f"{field!r} of {_where(tlid, parent_id)}"
    fields = traverse.LIST_FIELDS.get(type(parent), ())
    if field not in fields:
        has = f"its lists are {', '.join(map(repr, fields))}" if fields else "it has no lists"
        raise OpError(f"{kind}: {_where(tlid, parent_id)} is {article(parent.KIND)}, which has no "
                      f"list {field!r}: {has}")
    if isinstance(parent, UserType):
        is_record = isinstance(parent.definition, RecordDef)
        if is_record != (field == "fields"):
            shape, lists = ("a record type", "fields") if is_record else ("an enum type", "cases")
            raise OpError(f"{kind}: toplevel {tlid} is {shape}: it has {lists}, not {field}")
    return traverse.list_field(parent, field), ELEMENT_CLASS[(type(parent), field)], where


# ----------------------------------------------------------------- walking


def _survey(tl: Toplevel, target: NodeId, *, skip_target: bool
            ) -> tuple[list[traverse.Parent] | None, set[NodeId]]:
    """One walk: the path to node `target`, and every id in `tl` (tlid included).

    With `skip_target` the ids inside the target's subtree are left out: they
    are the ids a replacement may reuse.
    """
    ids: set[NodeId] = {tl.tlid}
    found: list[traverse.Parent] | None = None
    path: list[traverse.Parent] = [tl]
    iters: list[Iterator[Node]] = [traverse.children(tl)]
    while iters:
        child = next(iters[-1], None)
        if child is None:
            iters.pop()
            path.pop()
            continue
        path.append(child)
        if found is None and child.id == target:
            found = list(path)
            if skip_target:
                path.pop()
                continue
        ids.add(child.id)
        iters.append(traverse.children(child))
    return found, ids


def _locate(kind: str, tl: Toplevel, node_id: NodeId) -> list[traverse.Parent]:
    path = traverse.path_to(tl, node_id)
    _found(kind, tl.tlid, node_id, path)
    assert path is not None
    return path


def _found(kind: str, tlid: int, node_id: NodeId, path: list[traverse.Parent] | None
           ) -> traverse.Parent:
    if path is None:
        raise OpError(f"{kind}: node {node_id} does not exist in toplevel {tlid}: it may have "
                      "been deleted, or the op was made for another version of the toplevel; "
                      "reload it and try again")
    return path[-1]


def _with(target: traverse.Parent, attribute: str, value: object) -> traverse.Parent:
    # The attribute comes from a table keyed by the target's class, so it exists.
    changed = attrs.evolve(typing.cast(Any, target), **{attribute: value})
    return typing.cast(traverse.Parent, changed)


def _rebuild(path: list[traverse.Parent], leaf: traverse.Parent) -> Toplevel:
    return typing.cast(Toplevel, traverse.rebuild_path(path, leaf))


def _existing(kind: str, tlid: int, tl: Toplevel | None) -> Toplevel:
    if tl is None:
        raise OpError(f"{kind}: toplevel {tlid} does not exist: it may have been deleted; "
                      "reload the canvas and try again")
    if tl.tlid != tlid:
        raise OpError(f"{kind}: the op is for toplevel {tlid}, but was given toplevel {tl.tlid}")
    return tl


def _check_fresh(kind: str, what: str, subtree: Node, taken: set[NodeId]) -> None:
    """Refuse a new subtree that is malformed, repeats an id, or takes one of `taken`."""
    ids, problem = tree_problems(subtree)
    if problem is not None:
        raise OpError(f"{kind}: {what} is malformed: {problem}")
    dupes = sorted(i for i, count in Counter(ids).items() if count > 1)
    if dupes:
        raise OpError(f"{kind}: {what} uses id(s) {_ids(dupes)} more than once; every node "
                      "needs its own id")
    clashes = sorted(taken.intersection(ids))
    if clashes:
        raise OpError(f"{kind}: {what} reuses id(s) {_ids(clashes)}, already used elsewhere in "
                      "the toplevel; give new nodes fresh ids")


def _check_op_shape(op: object) -> None:
    if type(op) not in OP_KINDS:
        kinds = ", ".join(k.KIND for k in OP_KINDS)
        raise OpError(f"{describe(op)} is not an op: expected one of {kinds}")
    problem = shape_problem(op)
    if problem is not None:
        tlid = getattr(getattr(op, "toplevel", op), "tlid", None)
        on = f" for toplevel {tlid}" if isinstance(tlid, int) else ""
        raise OpError(f"{kind_of(op)}: malformed op{on}: {problem}; the editor and runtime "
                      "disagree about the op format")


def _category(node: Node) -> type[Node]:
    """What may take `node`'s place: any expression, any pattern, or the same element class."""
    if isinstance(node, Expr):
        return Expr
    if isinstance(node, Pattern):
        return Pattern
    return type(node)


def _fits_category(node: object, category: type[Node]) -> bool:
    if category in (Expr, Pattern):
        return isinstance(node, category)
    return type(node) is category


# ------------------------------------------------------------- messages


def _phrase(category: type[Node]) -> str:
    if category is Expr:
        return "an expression"
    if category is Pattern:
        return "a pattern"
    return article(category.KIND)


def _where(tlid: int, node_id: NodeId) -> str:
    return f"toplevel {tlid}" if node_id == tlid else f"node {node_id} in toplevel {tlid}"


def _ids(ids: list[NodeId]) -> str:
    shown = ", ".join(map(str, ids[:5]))
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _stale_node(kind: str, where: str, current: Node, expected: Node) -> str:
    if type(current) is not type(expected):
        return (f"{kind}: {where} is {article(current.KIND)}, not the {kind_of(expected)} the op "
                f"expected: {_STALE}")
    return (f"{kind}: {where} is not the {current.KIND} the op expected (its contents "
            f"differ): {_STALE}")
