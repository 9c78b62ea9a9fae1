"""Ops: the small AST diffs that travel from the editor to the runtime.

An op names a toplevel (and usually a node inside it) and says what changes
there. Every op carries the old value next to the new one, which buys two
things: each op is its own inverse's recipe (`shared_ast.apply.invert` swaps
them, so undo is just another op), and a stale op, made against a version of
the toplevel that has since changed, is refused instead of clobbering
someone else's edit.

This module holds the ops as data. `shared_ast.apply` validates, applies and
inverts them; `shared_ast.wire` encodes them.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from shared_ast.nodes import Node, NodeId
from shared_ast.toplevels import HandlerSpec, Pos, Toplevel
from shared_ast.type_ast import Type


@attrs.frozen
class Op:
    KIND: ClassVar[str] = ""

    @property
    def target_tlid(self) -> int:
        raise NotImplementedError


@attrs.frozen
class CreateToplevel(Op):
    KIND: ClassVar[str] = "create_toplevel"
    toplevel: Toplevel

    @property
    def target_tlid(self) -> int:
        return self.toplevel.tlid


@attrs.frozen
class DeleteToplevel(Op):
    """Carries the whole toplevel it deletes, so the inverse can recreate it."""

    KIND: ClassVar[str] = "delete_toplevel"
    toplevel: Toplevel

    @property
    def target_tlid(self) -> int:
        return self.toplevel.tlid


@attrs.frozen
class _OnToplevel(Op):
    tlid: int

    @property
    def target_tlid(self) -> int:
        return self.tlid


@attrs.frozen
class MoveToplevel(_OnToplevel):
    KIND: ClassVar[str] = "move_toplevel"
    old: Pos
    new: Pos


@attrs.frozen
class ReplaceNode(_OnToplevel):
    """Replace the subtree rooted at `node_id` (which must equal `old`) by `new`."""

    KIND: ClassVar[str] = "replace_node"
    node_id: NodeId
    old: Node
    new: Node


@attrs.frozen
class SetName(_OnToplevel):
    """Set the name-like text of a node.

    That is `name` for lets, variables, parameters, record and type fields,
    flags, constructors, enum cases, pattern variables and (with `node_id` the
    tlid) functions, types and datastores; `field` for a field access; `op`
    for an infix; `text` for a partial or right-partial.
    """

    KIND: ClassVar[str] = "set_name"
    node_id: NodeId
    old: str
    new: str


@attrs.frozen
class SetHandlerSpec(_OnToplevel):
    """Change what triggers a handler: method and route, worker queue, cron name and interval."""

    KIND: ClassVar[str] = "set_handler_spec"
    old: HandlerSpec
    new: HandlerSpec


@attrs.frozen
class SetType(_OnToplevel):
    """Set a type: of a parameter or type field (`node_id` its id), or, with `node_id` the
    tlid, a function's return type or a datastore's schema."""

    KIND: ClassVar[str] = "set_type"
    node_id: NodeId
    old: Type
    new: Type


@attrs.frozen
class SetDescription(_OnToplevel):
    """Set a user function's description (its doc line)."""

    KIND: ClassVar[str] = "set_description"
    old: str
    new: str


@attrs.frozen
class SetLanguageVersion(_OnToplevel):
    KIND: ClassVar[str] = "set_language_version"
    old: int
    new: int


@attrs.frozen
class InsertElement(_OnToplevel):
    """Insert `element` at `index` into the list-like child `field` of node `parent_id`.

    List-like children are listed in `shared_ast.traverse.LIST_FIELDS`: list
    items, record fields, match arms, pipe steps, call and constructor
    arguments, lambda and function parameters, type fields and enum cases.
    """

    KIND: ClassVar[str] = "insert_element"
    parent_id: NodeId
    field: str
    index: int
    element: Node


@attrs.frozen
class RemoveElement(_OnToplevel):
    """Remove `element` (which must be there) from `index` of `field` of node `parent_id`."""

    KIND: ClassVar[str] = "remove_element"
    parent_id: NodeId
    field: str
    index: int
    element: Node


OP_KINDS: tuple[type[Op], ...] = (
    CreateToplevel,
    DeleteToplevel,
    MoveToplevel,
    ReplaceNode,
    SetName,
    SetHandlerSpec,
    SetType,
    SetDescription,
    SetLanguageVersion,
    InsertElement,
    RemoveElement,
)
