"""Which variables code at a given node can name, and what type each has.

Autocomplete offers the variables in scope at the hole being filled, and
commands such as "extract variable" need to know which names are taken. The
checker computes the same scopes while it walks, but only keeps the types it
found; this module answers the question for one node without re-running a
check, by walking the path from the toplevel down to the node.

Scopes, outermost first (an inner binding shadows an outer one of the same name):

- every datastore of the program, as `Name_vN` (`checker.datastore_env`);
- a handler's bound variables (`request`, route parameters, `event`) or a
  function's parameters;
- a `let`'s name, inside its body only: the right-hand side does not see it;
- a lambda's parameters, inside its body;
- a match arm's pattern variables, inside that arm's body.

A blank binder (a let or lambda parameter named "", still being typed) binds
nothing. The piped value of a pipe step is not a variable: it is the
`EPipeTarget` node, which completion handles itself.

Types come from the binding when it declares one (parameters, handler
variables, datastores), else from the checker's `NodeInfo`s when given (a let
takes its right-hand side's type, a lambda parameter or pattern variable the
type the checker inferred for it), else `?`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import attrs

from shared_ast import nodes as n
from shared_ast.checker import NodeInfo, datastore_env, handler_env
from shared_ast.nodes import NodeId
from shared_ast.program import Program
from shared_ast.toplevels import Handler, Test, Toplevel, UserFunction
from shared_ast.traverse import Parent, path_to, walk
from shared_ast.type_ast import UNKNOWN, Type

__all__ = ["Binding", "bindings_in_scope", "variables_in_scope"]

#: What bound a variable, as autocomplete describes it.
DATASTORE = "datastore"
HANDLER = "handler variable"
PARAMETER = "parameter"
LET = "let"
LAMBDA = "lambda parameter"
PATTERN = "pattern variable"


@attrs.frozen
class Binding:
    """One visible variable: its type and what bound it (`binder` is the binding node's id,
    or the toplevel's tlid for handler variables and datastores)."""

    name: str
    type: Type
    origin: str
    binder: int


def _type_of(infos: Mapping[int, NodeInfo] | None, node_id: NodeId) -> Type:
    if infos is None:
        return UNKNOWN
    info = infos.get(node_id)
    return UNKNOWN if info is None else info.type


def _toplevel_bindings(program: Program, tl: Toplevel) -> dict[str, Binding]:
    if isinstance(tl, Test):
        return {}  # a test binds nothing: it never reads a datastore (it never touches the world)
    scope = {name: Binding(name, t, DATASTORE, tl.tlid)
             for name, t in datastore_env(program).items()}
    match tl:
        case Handler():
            scope.update((name, Binding(name, t, HANDLER, tl.tlid))
                         for name, t in handler_env(tl).items())
        case UserFunction():
            scope.update((p.name, Binding(p.name, p.type, PARAMETER, p.id))
                         for p in tl.params if p.name)
    return scope


def _bound_by(parent: Parent, child: n.Node,
              infos: Mapping[int, NodeInfo] | None) -> list[Binding]:
    """The variables `parent` binds for code inside its child `child`."""
    match parent:
        case n.ELet(name=name, rhs=rhs, body=body) if name and child.id == body.id:
            return [Binding(name, _type_of(infos, rhs.id), LET, parent.id)]
        case n.ELambda(params=params, body=body) if child.id == body.id:
            return [Binding(p.name, _type_of(infos, p.id), LAMBDA, p.id)
                    for p in params if p.name]
        case n.MatchArm(pattern=pattern, body=body) if child.id == body.id:
            return [Binding(p.name, _type_of(infos, p.id), PATTERN, p.id)
                    for p in walk(pattern) if isinstance(p, n.PVariable) and p.name]
    return []


def bindings_in_scope(
    program: Program,
    tl: Toplevel,
    node_id: NodeId,
    infos: Mapping[int, NodeInfo] | None = None,
) -> dict[str, Binding]:
    """Every variable visible at `node_id` in `tl`, by name; the innermost binding wins.

    Raises `ValueError` when `tl` has no node `node_id`.
    """
    path = path_to(tl, node_id)
    if path is None:
        raise ValueError(f"toplevel {tl.tlid} has no node {node_id}; ask for the scope of a node "
                         "of the toplevel being edited")
    scope = _toplevel_bindings(program, tl)
    for parent, child in itertools.pairwise(path):
        assert isinstance(child, n.Node)  # only the root of a path can be a toplevel
        for binding in _bound_by(parent, child, infos):
            # Re-inserted so that the dict lists inner bindings after outer ones.
            scope.pop(binding.name, None)
            scope[binding.name] = binding
    return scope


def variables_in_scope(
    program: Program,
    tl: Toplevel,
    node_id: NodeId,
    infos: Mapping[int, NodeInfo] | None = None,
) -> dict[str, Type]:
    """Name → type of every variable visible at `node_id`; the innermost binding wins.

    Raises `ValueError` when `tl` has no node `node_id`.
    """
    return {name: b.type for name, b in bindings_in_scope(program, tl, node_id, infos).items()}
