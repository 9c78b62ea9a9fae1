"""Undo and redo, per toplevel, as batches of ops.

Undoing a batch sends its inverse (each op inverted, in reverse order) as a new
batch, so the runtime and every other editor see an ordinary edit. A batch
that no longer applies, because someone changed the code since, is refused
with the reason instead of clobbering their edit.

Typing is undone by words, as in VS Code: characters typed one after another
(each key still sends its own ops) are one undo step, which ends after a
space (the space belongs to the word before it: one Ctrl+Z after typing
`"hello world` leaves `"hello "`), at any other command (Backspace, Enter, a
completion, undo), when the caret moved between two keys, and, in the
controller, after a pause of more than a second (`sealed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from shared_ast.apply import invert
from shared_ast.ops import Op

#: How many batches each toplevel remembers.
DEPTH = 500

#: One toplevel's batches, oldest first.
Stack = tuple[tuple[Op, ...], ...]
Which = Literal["undo_stacks", "redo_stacks"]


@attrs.frozen
class Typing:
    """The group of typed keys still open: where the last key left the caret."""

    tlid: int
    caret: object
    #: The last key was a space: the next character starts a new word (a new undo step).
    after_space: bool
    #: The newest batch of `tlid`'s undo stack is this group's (a key that changed nothing,
    #: a space that only moved on, opens a group without one).
    has_batch: bool


@attrs.frozen
class History:
    undo_stacks: tuple[tuple[int, Stack], ...] = ()
    redo_stacks: tuple[tuple[int, Stack], ...] = ()
    #: The toplevels edited, most recent last: undo with no caret (after a delete) uses it.
    order: tuple[int, ...] = ()
    #: The typing group later keys may join, or None.
    typing: Typing | None = None

    def _stacks(self, which: Which) -> tuple[tuple[int, Stack], ...]:
        return self.undo_stacks if which == "undo_stacks" else self.redo_stacks

    def _get(self, which: Which, tlid: int) -> Stack:
        return dict(self._stacks(which)).get(tlid, ())

    def _put(self, which: Which, tlid: int, stack: Stack) -> History:
        table = dict(self._stacks(which))
        table[tlid] = stack[-DEPTH:]
        stacks = tuple(table.items())
        if which == "undo_stacks":
            return attrs.evolve(self, undo_stacks=stacks)
        return attrs.evolve(self, redo_stacks=stacks)

    def record(self, tlid: int, ops: Sequence[Op]) -> History:
        """A new edit: push it and forget what could be redone."""
        h = self._put("undo_stacks", tlid, (*self._get("undo_stacks", tlid), tuple(ops)))
        h = attrs.evolve(h, order=(*(t for t in self.order if t != tlid), tlid)[-DEPTH:],
                         typing=None)
        return h._put("redo_stacks", tlid, ())

    def typed(self, tlid: int, ops: Sequence[Op], caret_before: object, caret_after: object,
              ch: str) -> History:
        """A typed character's ops: joined to the open typing group when it continues it
        (same toplevel, the caret where the last key left it, not a new word), else a new
        batch; either way the group stays open for the next key."""
        t = self.typing
        continues = (t is not None and t.tlid == tlid and t.caret == caret_before
                     and not (t.after_space and not ch.isspace()))
        has_batch = continues and t is not None and t.has_batch
        if not ops:
            h = self
        elif has_batch:
            stack = self._get("undo_stacks", tlid)
            h = self._put("undo_stacks", tlid, (*stack[:-1], (*stack[-1], *ops)))
            h = h._put("redo_stacks", tlid, ())
        else:
            h = self.record(tlid, ops)
        return attrs.evolve(h, typing=Typing(tlid, caret_after, ch.isspace(),
                                             has_batch or bool(ops)))

    def sealed(self) -> History:
        """End the open typing group: the next key is a new undo step (after a pause)."""
        return self if self.typing is None else attrs.evolve(self, typing=None)

    def latest(self, which: str = "undo") -> int | None:
        """The most recently edited toplevel that has something to undo (or redo)."""
        can = self.can_undo if which == "undo" else self.can_redo
        return next((t for t in reversed(self.order) if can(t)), None)

    def can_undo(self, tlid: int) -> bool:
        return bool(self._get("undo_stacks", tlid))

    def can_redo(self, tlid: int) -> bool:
        return bool(self._get("redo_stacks", tlid))

    def undo(self, tlid: int) -> tuple[History, tuple[Op, ...]] | None:
        """The history after undoing, and the ops that undo the newest batch."""
        stack = self._get("undo_stacks", tlid)
        if not stack:
            return None
        batch = stack[-1]
        h = self._put("undo_stacks", tlid, stack[:-1])
        h = h._put("redo_stacks", tlid, (*self._get("redo_stacks", tlid), batch))
        return attrs.evolve(h, typing=None), inverse(batch)

    def redo(self, tlid: int) -> tuple[History, tuple[Op, ...]] | None:
        stack = self._get("redo_stacks", tlid)
        if not stack:
            return None
        batch = stack[-1]
        h = self._put("redo_stacks", tlid, stack[:-1])
        h = h._put("undo_stacks", tlid, (*self._get("undo_stacks", tlid), batch))
        return attrs.evolve(h, typing=None), batch


def inverse(batch: Sequence[Op]) -> tuple[Op, ...]:
    return tuple(invert(op) for op in reversed(batch))
