"""A projected toplevel: its lines, where every token sits, and caret arithmetic.

`Projection` turns carets, which are (node id, offset) pairs, into (line,
column) positions and back. Moving the caret is done in (line, column) space,
so left, right, up and down feel like a text editor's, while the model keeps
the caret attached to a node.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from editor.projection.fragments import LayoutMemo
from editor.projection.layout import body_of, layout_expr
from editor.projection.tokens import Line, Placed
from shared_ast.nodes import Expr
from shared_ast.toplevels import Toplevel


@attrs.frozen
class Caret:
    """Where typing goes: a node of a toplevel and an offset into that node's own text."""

    tlid: int
    node_id: int
    offset: int = 0


_NamesKey = tuple[tuple[int, str], ...]
#: The latest projections of each toplevel, newest last, with the tree and function
#: names each was made from. Only the last few trees of a toplevel are asked for
#: again (the one before an edit and the one after); keeping more would keep every
#: keystroke's tokens alive and make each full collection of the GC slower.
_CACHE: dict[int, list[tuple[Toplevel, _NamesKey, Projection]]] = {}
_PER_TOPLEVEL = 3
#: Each toplevel's layout memo (`editor.projection.fragments`), for its last names.
_MEMOS: dict[int, LayoutMemo] = {}
#: Toplevels remembered at most (the oldest are forgotten first).
_TOPLEVELS = 1024


class Projection:
    """The layout of one expression tree with lookup tables for the caret."""

    def __init__(self, lines: list[Line], tlid: int) -> None:
        self.tlid = tlid
        self.lines = lines
        self.placed: list[Placed] = []
        self.by_line: list[list[Placed]] = []
        self._own: dict[int, list[Placed]] = {}
        for n, line in enumerate(lines):
            column = line.indent
            row: list[Placed] = []
            for token in line.tokens:
                own = self._own.setdefault(token.node_id, [])
                offset = 0
                if own:
                    offset = own[-1].own_offset + len(own[-1].token.text)
                    # Own tokens apart on screen (children or a line break between)
                    # are one offset apart too, so that every offset has one place:
                    # the end of `flag f when ` is not the start of `old `.
                    if own[-1].line != n or own[-1].end != column:
                        offset += 1
                p = Placed(token, n, column, offset)
                own.append(p)
                row.append(p)
                self.placed.append(p)
                column += len(token.text)
            self.by_line.append(row)

    @classmethod
    def of_expr(cls, e: Expr, tlid: int, names: dict[int, str] | None = None,
                memo: LayoutMemo | None = None) -> Projection:
        return cls(layout_expr(e, names, memo), tlid)

    @classmethod
    def of_toplevel(cls, tl: Toplevel, names: dict[int, str] | None = None) -> Projection | None:
        """The projection of a toplevel's code; the same tree (by identity) and names give
        the same object, so one keystroke lays the code out once, not once per reader.
        A new tree of the same toplevel is laid out incrementally: only its subtrees that
        are not the objects of the toplevel's earlier layouts are walked."""
        body = body_of(tl)
        if body is None:
            return None
        names = names or {}
        key = tuple(sorted(names.items()))
        recent = _CACHE.get(tl.tlid)
        if recent is None:
            recent = _CACHE[tl.tlid] = []
            _forget_oldest(_CACHE)
        for tree, names_key, proj in recent:
            if tree is tl and names_key == key:
                return proj
        memo = _MEMOS.get(tl.tlid)
        if memo is None or memo.names != names:
            memo = _MEMOS[tl.tlid] = LayoutMemo(names)
            _forget_oldest(_MEMOS)
        proj = cls.of_expr(body, tl.tlid, names, memo)
        recent.append((tl, key, proj))
        del recent[:-_PER_TOPLEVEL]
        return proj

    # ---------------------------------------------------------- queries

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def own_tokens(self, node_id: int) -> list[Placed]:
        return self._own.get(node_id, [])

    def own_length(self, node_id: int) -> int:
        own = self.own_tokens(node_id)
        return own[-1].own_offset + len(own[-1].token.text) if own else 0

    def has(self, node_id: int) -> bool:
        return node_id in self._own

    def line_end(self, line: int) -> int:
        """The last column the caret can reach on the line (a partial's ghost is not one)."""
        row = self.by_line[line]
        if not row:
            return self.lines[line].indent
        end = row[-1].end
        for ghost in row:
            if ghost.token.role == "partial_old" and ghost.column - 2 <= end <= ghost.end:
                end = ghost.column - 2
        return end

    def line_start(self, line: int) -> int:
        return self.lines[line].indent

    # ------------------------------------------------------------ caret

    def placed_at(self, caret: Caret) -> tuple[Placed, int] | None:
        """The token the caret is in and the offset within it.

        At a boundary between two of the node's own tokens the caret belongs to
        the editable one, else to the earlier one, so that typing after a name
        extends it.
        """
        own = self.own_tokens(caret.node_id)
        if not own:
            return None
        offset = max(0, min(caret.offset, self.own_length(caret.node_id)))
        candidates = [p for p in own
                      if p.own_offset <= offset <= p.own_offset + len(p.token.text)]
        for p in candidates:
            if p.token.editable:
                return p, offset - p.own_offset
        p = candidates[0] if candidates else own[-1]
        return p, offset - p.own_offset

    def position(self, caret: Caret) -> tuple[int, int] | None:
        found = self.placed_at(caret)
        if found is None:
            return None
        p, k = found
        return p.line, p.column + min(k, len(p.token.text))

    def caret_at(self, line: int, column: int) -> Caret:
        """The caret for a (line, column), clamped to the code; prefers editable tokens."""
        line = max(0, min(line, len(self.by_line) - 1))
        row = self.by_line[line] if self.by_line else []
        if not row:
            # An empty line cannot happen for a laid-out expression; fall back to the first token.
            p = self.placed[0]
            return Caret(self.tlid, p.token.node_id, p.own_offset)
        column = max(row[0].column, min(column, row[-1].end))
        for ghost in row:
            # A partial's old expression is shown, not edited: the caret stops at the
            # end of the partial's text instead (the ghost follows a two-space gap).
            last = ghost is row[-1]
            if ghost.token.role == "partial_old" and ghost.column - 2 <= column and (
                    column < ghost.end or (last and column == ghost.end)):
                column = ghost.column - 2
        row = [p for p in row if p.token.role != "partial_old"]
        column = max(row[0].column, min(column, row[-1].end))
        touching = [p for p in row if p.column <= column <= p.end]
        inside = [p for p in touching if p.column < column < p.end]
        pick = self._prefer(inside or touching, column)
        return Caret(self.tlid, pick.token.node_id, pick.own_offset + column - pick.column)

    @staticmethod
    def _prefer(options: list[Placed], column: int) -> Placed:
        def rank(p: Placed) -> tuple[int, int, int]:
            blank = 0 if p.token.blank else 1
            editable = 0 if p.token.editable and p.token.role != "space" else 1
            # Among equals, the token that ends here (typing continues it) wins.
            ends_here = 0 if p.end == column else 1
            return (blank, editable, ends_here)
        return min(options, key=rank)

    def caret_start(self, node_id: int) -> Caret | None:
        """The caret at the first character of a node's subtree as displayed."""
        first = self._subtree_first(node_id)
        if first is None:
            return None
        return self.caret_at(first.line, first.column)

    def _subtree_first(self, node_id: int) -> Placed | None:
        own = self.own_tokens(node_id)
        return own[0] if own else None

    def tokens_of(self, node_ids: Iterable[int]) -> list[Placed]:
        wanted = set(node_ids)
        return [p for p in self.placed if p.token.node_id in wanted]

    def holes(self) -> list[Placed]:
        """Every blank token (holes and blank names) in reading order: Tab stops."""
        return [p for p in self.placed if p.token.blank]


def _forget_oldest(table: dict[int, Any]) -> None:
    if len(table) > _TOPLEVELS:
        table.pop(next(iter(table)))
