"""What the inspector says about the caret: the type of what it is on, and its problems.

The checker types every node, but a node's type is not always what the
programmer points at: a `let`'s own type is its body's (the value of the whole
`let … in` block), while its name stands for the bound value. So the inspector
names what the caret is on and gives the type that thing has:

- on a `let` (its name, keyword or `=`): the name and the bound value's type;
- on a variable, a lambda parameter or a pattern variable: the name and its type;
- on a call: the function and its result type, unwrapped when the call is on
  the error rail, with what the function returns before the rail unwraps it;
- on a function's parameter: its declared type;
- on anything else: what it is and its type.

Then what the context expects there, the problems on the node and on its line,
and for a call on the rail what that means.
"""

from __future__ import annotations

from collections.abc import Mapping

from editor.model import problems
from editor.model.state import EditorState
from shared_ast import traverse
from shared_ast.checker import NodeInfo
from shared_ast.nodes import ECall, ELet, EVariable, LambdaParam, Node, Param, PVariable
from shared_ast.program import Program
from shared_ast.type_ast import UNKNOWN, Type, show_type


def caret_lines(state: EditorState, infos: Mapping[int, NodeInfo] | None) -> list[str]:
    """The inspector's lines for the caret; empty when there is no caret."""
    caret, tl = state.caret, state.toplevel
    if caret is None or tl is None:
        return []
    infos = infos or {}
    node = traverse.find(tl, caret.node_id)
    if node is None:
        return []
    info = infos.get(node.id)
    program = Program.from_toplevels(state.canvas.values())
    lines = [_head(node, info, infos, program)]
    if info is not None and show_type(info.expected) != "?" and not isinstance(node, ELet):
        lines.append(f"expected here: {show_type(info.expected)}")
    proj = state.projection()
    found = problems.problems_in(tl, proj, infos)
    lines += [f"⚠ {p.message}" for p in found if p.shown_id == node.id]
    if isinstance(node, ECall) and node.on_rail:
        lines.append(problems.rail_note(node, program))
    at = proj.position(caret) if proj is not None else None
    if at is not None:
        lines += [f"⚠ on this line: {p.message}" for p in found
                  if p.line == at[0] and p.shown_id != node.id]
    return lines


def _type(infos: Mapping[int, NodeInfo], node_id: int) -> Type:
    info = infos.get(node_id)
    return info.type if info is not None else UNKNOWN


def _head(node: Node, info: NodeInfo | None, infos: Mapping[int, NodeInfo],
          program: Program) -> str:
    own = info.type if info is not None else UNKNOWN
    match node:
        case ELet():
            return f"let {node.name or '(unnamed)'}: {show_type(_type(infos, node.rhs.id))}"
        case EVariable() | LambdaParam() | PVariable():
            return f"{node.name or '(unnamed)'}: {show_type(own)}"
        case Param():
            return f"parameter {node.name}: {show_type(node.type)}"
        case ECall():
            name = problems.call_name(node, program)
            if node.on_rail:
                ret = problems.returns(node, program)
                wrapped = f" (unwrapped from {show_type(ret)} by the error rail)" if ret else ""
                return f"{name} gives {show_type(own)}{wrapped}"
            return f"{name} gives {show_type(own)}"
    return f"{node.KIND}: {show_type(own)}"
