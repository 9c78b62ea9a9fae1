"""The editor's state and the one way it changes: by ops.

`EditorState` is the canvas as this editor knows it (every toplevel), the
caret, the selected subtree and the undo history. It is frozen: an action is a
function from one state to an `Outcome` with the next state and the ops to send
to the runtime. The next state's canvas is always computed by *applying those
ops* (`shared_ast.apply`), so what this editor shows and what the runtime
stores cannot drift apart: an action that would emit an op the runtime refuses
is refused here first, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from editor.model.history import History
from editor.projection import Caret, Projection, fn_names
from shared_ast import traverse
from shared_ast.apply import OpError, apply_to_canvas
from shared_ast.locking import InUse, batch_lock_problem
from shared_ast.nodes import Node
from shared_ast.ops import Op, ReplaceNode, SetName
from shared_ast.toplevels import Toplevel

__all__ = ["Caret", "EditorState", "Outcome", "refuse", "replace", "set_name"]


@attrs.frozen
class EditorState:
    canvas: Mapping[int, Toplevel] = attrs.field(factory=dict)
    caret: Caret | None = None
    #: The id of the selected subtree, in the caret's toplevel.
    selection: int | None = None
    history: History = attrs.field(factory=History)
    #: The last copied or cut subtree, pasted with fresh ids.
    clipboard: Node | None = None
    #: Toplevels in use, which the runtime locks (`shared_ast.locking`), by tlid.
    locks: Mapping[int, InUse] = attrs.field(factory=dict)
    #: Groups opened by a typed `(` and not yet closed, innermost last: the id of the
    #: expression that fills the group's place (followed through the edits that replace it).
    groups: tuple[int, ...] = ()
    #: The group a typed `)` just closed: an operator typed right after it applies to it whole.
    closed_group: int | None = None

    @property
    def toplevel(self) -> Toplevel | None:
        return None if self.caret is None else self.canvas.get(self.caret.tlid)

    def node(self, node_id: int) -> Node | None:
        tl = self.toplevel
        return None if tl is None else traverse.find(tl, node_id)

    def projection(self, tlid: int | None = None) -> Projection | None:
        tlid = tlid if tlid is not None else (self.caret.tlid if self.caret else None)
        tl = self.canvas.get(tlid) if tlid is not None else None
        return None if tl is None else Projection.of_toplevel(tl, fn_names(self.canvas.values()))

    def with_canvas(self, canvas: Mapping[int, Toplevel]) -> EditorState:
        """The state on a new canvas (after remote ops), with the caret kept if its node is."""
        state = attrs.evolve(self, canvas=canvas)
        return state.fixed_caret()

    def fixed_caret(self) -> EditorState:
        caret, selection = self.caret, self.selection
        if caret is None:
            return self
        tl = self.canvas.get(caret.tlid)
        if tl is None:
            return attrs.evolve(self, caret=None, selection=None)
        proj = Projection.of_toplevel(tl, fn_names(self.canvas.values()))
        if proj is None:
            return attrs.evolve(self, selection=None)
        if not proj.has(caret.node_id):
            first = proj.placed[0]
            caret = Caret(caret.tlid, first.token.node_id, first.own_offset)
        else:
            caret = attrs.evolve(caret, offset=min(caret.offset, proj.own_length(caret.node_id)))
        if selection is not None and traverse.find(tl, selection) is None:
            selection = None
        return attrs.evolve(self, caret=caret, selection=selection)


@attrs.frozen
class Outcome:
    """What an action did: the next state, the ops to send, and a message for the status bar."""

    state: EditorState
    ops: tuple[Op, ...] = ()
    message: str = ""
    #: The action could not be done; `message` says why and what to do instead.
    refused: bool = False


def refuse(state: EditorState, message: str) -> Outcome:
    return Outcome(state, (), message, refused=True)


def commit(state: EditorState, ops: Sequence[Op], caret: Caret | None,
           message: str = "", *, record: bool = True) -> Outcome:
    """Apply `ops` to the canvas, move the caret, remember the batch for undo."""
    if not ops:
        return Outcome(attrs.evolve(state, caret=caret, selection=None), (), message)
    locked = batch_lock_problem(state.canvas, ops, state.locks)
    if locked is not None:
        return refuse(state, locked[1])
    try:
        canvas = apply_to_canvas(ops, state.canvas)
    except OpError as e:
        return refuse(state, f"That edit was not made: {e}")
    history = state.history
    if record and caret is not None:
        history = history.record(caret.tlid if state.caret is None else state.caret.tlid, ops)
    new = attrs.evolve(state, canvas=canvas, caret=caret, selection=None, history=history,
                       groups=_followed(state.groups, ops),
                       closed_group=_followed_one(state.closed_group, ops))
    return Outcome(new.fixed_caret(), tuple(ops), message)


def _followed_one(node_id: int | None, ops: Sequence[Op]) -> int | None:
    """The id of what now stands where `node_id` stood, after `ops` replaced it."""
    for op in ops:
        if isinstance(op, ReplaceNode) and op.node_id == node_id:
            node_id = op.new.id
    return node_id


def _followed(ids: tuple[int, ...], ops: Sequence[Op]) -> tuple[int, ...]:
    if not ids or not any(isinstance(op, ReplaceNode) for op in ops):
        return ids
    return tuple(i for i in (_followed_one(i, ops) for i in ids) if i is not None)


def replace(tl: Toplevel, node_id: int, new: Node) -> ReplaceNode:
    old = traverse.find(tl, node_id)
    assert old is not None, f"node {node_id} is not in toplevel {tl.tlid}"
    return ReplaceNode(tl.tlid, node_id, old, new)


def set_name(tl: Toplevel, node: Node, attribute: str, new: str) -> SetName:
    return SetName(tl.tlid, node.id, getattr(node, attribute), new)
