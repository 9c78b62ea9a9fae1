"""Incremental layout: the lines a subtree produced, reused while the subtree is unchanged.

An edit rebuilds only the path from the edited node to the root; every other
subtree of the new tree is the very object it was before. Laying out an
expression depends only on the expression itself, the indent and column it
starts at (a block's lines align to its first column) and the user function
names, so the layout of a subtree whose object and indent
are the same as last time is the same too: the writer splices in the tokens
and `Line` objects it produced then instead of walking the subtree again. A
keystroke in a 300-node handler then lays out the edited node and its
ancestors' own tokens and copies references for the rest, and the unchanged
`Line` objects keep their identity. Leaves (a literal, a variable, a hole) are
cheaper to lay out again than to look up, so only larger expressions are kept.

A `Fragment` is what one expression wrote: the tokens it added to the line it
started on (`head`), the lines it completed after that, and the tokens of the
line it left open (`tail`). Subtrees inside a fragment that is reused are not
visited, so their own fragments stay in the memo from the run that made them;
fragments are keyed by node id and checked by identity, so a stale one is
never used, and the memo is emptied when stale ones pile up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from editor.projection.tokens import Line, Token
from shared_ast.nodes import Node

INDENT = 2


class Fragment:
    """The tokens and lines one expression wrote from `indent` (see the module docstring)."""

    __slots__ = ("broke", "column", "end", "first", "head", "indent", "node", "source", "start",
                 "tail", "tail_indent")

    def __init__(self, node: Node, indent: int, head: tuple[Token, ...], broke: bool = False,
                 first: Line | None = None, source: list[Line] | None = None, start: int = 0,
                 end: int = 0, tail_indent: int = 0, tail: tuple[Token, ...] = (),
                 column: int = 0) -> None:
        self.node = node
        self.indent = indent
        #: The column the expression started at: blocks align their lines to it.
        self.column = column
        self.head = head
        #: Whether the expression ended a line; if not, `head` is all it wrote.
        self.broke = broke
        #: The first line as written, when the expression started an empty line (reusable whole).
        self.first = first
        #: The writer's lines `[start:end]` are the lines after the first one.
        self.source = source if source is not None else []
        self.start = start
        self.end = end
        self.tail_indent = tail_indent
        self.tail = tail


class LineWriter:
    """Collects tokens into lines; `newline` starts a line at the current indent."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.indent = 0
        self._current: list[Token] = []
        self._current_indent = 0

    def emit(self, token: Token) -> None:
        self._current.append(token)

    def newline(self) -> None:
        self.lines.append(Line(self._current_indent, tuple(self._current)))
        self._current = []
        self._current_indent = self.indent

    @contextmanager
    def indented(self) -> Iterator[None]:
        self.indent += INDENT
        try:
            yield
        finally:
            self.indent -= INDENT

    def column(self) -> int:
        """The column the next token starts at."""
        return self._current_indent + sum(len(t.text) for t in self._current)

    @contextmanager
    def aligned(self) -> Iterator[None]:
        """Lines started inside begin at the current column (Dark's indent-to-here), so a
        block's own lines (`then`, `else`, match arms) line up with its first keyword."""
        before = self.indent
        self.indent = self.column()
        try:
            yield
        finally:
            self.indent = before

    def finish(self) -> list[Line]:
        if self._current or not self.lines:
            self.newline()
        # A copy: fragments point into `self.lines`, which must never change under them.
        return list(self.lines)

    # ------------------------------------------------------- fragments

    def mark(self) -> tuple[int, int, int, int]:
        """Where the writer is, for `fragment` to cut out what is written after it."""
        return len(self.lines), len(self._current), self.indent, self.column()

    def fragment(self, node: Node, mark: tuple[int, int, int, int]) -> Fragment:
        """What was written since `mark`, as a fragment of `node`."""
        n_lines, n_current, indent, column = mark
        if len(self.lines) == n_lines:
            return Fragment(node, indent, tuple(self._current[n_current:]), column=column)
        first_line = self.lines[n_lines]
        return Fragment(node, indent, first_line.tokens[n_current:], True,
                        first_line if n_current == 0 else None, self.lines, n_lines + 1,
                        len(self.lines), self._current_indent, tuple(self._current), column)

    def splice(self, f: Fragment) -> None:
        """Write a fragment again, as if its expression were laid out here (at `f.indent`)."""
        if not f.broke:
            self._current.extend(f.head)
            return
        if not self._current and f.first is not None and f.first.indent == self._current_indent:
            self.lines.append(f.first)
        else:
            self.lines.append(Line(self._current_indent, (*self._current, *f.head)))
        self.lines.extend(f.source[f.start:f.end])
        self._current = list(f.tail)
        self._current_indent = f.tail_indent


class LayoutMemo:
    """The fragments of one toplevel's layouts, by node id, for one set of function names."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = dict(names)
        self._fragments: dict[int, Fragment] = {}
        #: Fragments written in the last layout that reused nothing: about how many are live.
        self._live = 0
        self._written = 0
        self._reused = 0

    def begin(self) -> None:
        self._written = self._reused = 0

    def reusable(self, node: Node, indent: int, column: int) -> Fragment | None:
        """The fragment `node` wrote last time from this indent and (when it took several
        lines, which may align to where it started) this column."""
        f = self._fragments.get(node.id)
        if (f is not None and f.node is node and f.indent == indent
                and (not f.broke or f.column == column)):
            self._reused += 1
            return f
        return None

    def remember(self, f: Fragment) -> None:
        self._written += 1
        self._fragments[f.node.id] = f

    def end(self) -> None:
        if not self._reused:
            self._live = self._written
        # Fragments of deleted or replaced nodes stay until overwritten; when they
        # outnumber the live ones, forget them all (the next layout is a full one).
        if len(self._fragments) > 2 * self._live + 64:
            self._fragments.clear()
            self._live = 0

    def __len__(self) -> int:
        return len(self._fragments)
