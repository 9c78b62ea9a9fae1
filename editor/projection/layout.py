"""Layout: a toplevel's code as lines of tokens, parentheses computed from the tree.

Blocks (`let`, `if`, `match`, pipes, flags) take several lines and indent what
they contain; everything else is laid out inline. A block's own lines line up
with its first keyword wherever it starts (Dark's fluid editor), so `then` and
`else` sit at their `if`'s column:

    let size = if x > 3
               then
                 "big"
               else
                 "small"

A call's first argument that is the piped value is not shown (`xs |> List::map
f`); versions show as `_vN` only when not 0 (`versioned`). An inline construct whose
child is a block keeps going after the child's last line, so any tree has a
layout. Parentheses are never stored: `needs_parens` decides from operator
precedence and position, and the parentheses it adds belong to the child they
enclose.
"""

from __future__ import annotations

from collections.abc import Iterable

from editor.projection.fragments import LayoutMemo, LineWriter
from editor.projection.tokens import BLANK_NAME_TEXT, HOLE_TEXT, Line, Token
from shared_ast.nodes import (
    EBool,
    ECall,
    EConstructor,
    EField,
    EFlag,
    EFloat,
    EHole,
    EIf,
    EInfix,
    EInt,
    ELambda,
    ELet,
    EList,
    EMatch,
    ENull,
    EPartial,
    EPipe,
    EPipeTarget,
    ERecord,
    ERightPartial,
    EString,
    EVariable,
    Expr,
    LibFnRef,
    Node,
    Pattern,
    PBool,
    PConstructor,
    PFloat,
    PHole,
    PInt,
    PNull,
    PString,
    PVariable,
    PWildcard,
    UserFnRef,
)
from shared_ast.operators import OPERATORS
from shared_ast.toplevels import Handler, Test, Toplevel, UserFunction

BLOCKS = (ELet, EIf, EMatch, EPipe, EFlag)
#: Expressions that are one token or three: cheaper to lay out again than to reuse.
_LEAVES = (EHole, EInt, EFloat, EString, EBool, ENull, EVariable, EPipeTarget)
#: Tightest binding: application (a call's arguments) sits above every infix.
_APPLICATION = 100


#: What a piped value shows where it is not implicit (see `Layout`).
PIPED_TEXT = "piped"


def versioned(name: str, version: int) -> str:
    """How a function is named in code and in completion, for library and user functions
    alike: `_vN` only when the version is not 0, as Dark showed it (`List::head_v1`)."""
    return name if version == 0 else f"{name}_v{version}"


def show_float(value: float) -> str:
    text = repr(value)
    return text if any(c in text for c in ".einf") else text + ".0"


#: How a string's special characters are shown: escaped, so a string stays on one line.
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", '"': '\\"'}


def show_string(value: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in value)


def string_index(value: str, shown: int) -> int:
    """The index into `value` of the character shown at `shown` in `show_string(value)`.

    Carets count shown characters; edits need the string's own. A caret inside
    an escape (between `\\` and `n`) counts as after it.
    """
    column = 0
    for i, c in enumerate(value):
        if column >= shown:
            return i
        column += len(_ESCAPES.get(c, c))
    return len(value)


class Layout:
    """Lays out one expression tree; `fn_names` names user functions by family id.

    With a `memo`, subtrees unchanged since the memo's last layouts are spliced
    in from it rather than laid out again (`editor.projection.fragments`).
    """

    def __init__(self, fn_names: dict[int, str] | None = None,
                 memo: LayoutMemo | None = None) -> None:
        self.out = LineWriter()
        self.fn_names = fn_names or {}
        self.memo = memo

    # ------------------------------------------------------------ tokens

    def tok(self, node: Node, text: str, role: str, **kw: object) -> None:
        self.out.emit(Token(text, node.id, role, **kw))  # type: ignore[arg-type]

    def space(self, node: Node) -> None:
        self.tok(node, " ", "space")

    def name(self, node: Node, name: str, role: str = "binder", slot: str = "name") -> None:
        if name:
            self.tok(node, name, role, editable=True, slot=slot)
        else:
            self.tok(node, BLANK_NAME_TEXT, "placeholder", editable=True, blank=True, slot=slot)

    # ------------------------------------------------------------ dispatch

    def expr(self, e: Expr, parens: bool = False) -> None:
        if parens:
            self.tok(e, "(", "punct")
        self._expr(e)
        if parens:
            self.tok(e, ")", "punct")

    def _expr(self, e: Expr) -> None:
        memo = self.memo
        if memo is None or isinstance(e, _LEAVES):
            self._lay(e)
            return
        out = self.out
        fragment = memo.reusable(e, out.indent, out.column())
        if fragment is not None:
            out.splice(fragment)
            return
        mark = out.mark()
        self._lay(e)
        memo.remember(out.fragment(e, mark))

    def _lay(self, e: Expr) -> None:
        match e:
            case EHole():
                self.tok(e, HOLE_TEXT, "hole", blank=True)
            case EInt():
                self.tok(e, str(e.value), "int", editable=True)
            case EFloat():
                self.tok(e, show_float(e.value), "float", editable=True)
            case EString():
                self.tok(e, '"', "punct")
                if e.value:
                    self.tok(e, show_string(e.value), "string", editable=True)
                else:
                    self.tok(e, "", "string", editable=True)
                self.tok(e, '"', "punct")
            case EBool():
                self.tok(e, "true" if e.value else "false", "bool", editable=True)
            case ENull():
                self.tok(e, "null", "null", editable=True)
            case EVariable():
                self.tok(e, e.name, "variable", editable=True, slot="name")
            case EList():
                self.tok(e, "[", "punct")
                for i, item in enumerate(e.items):
                    if i:
                        self.tok(e, ", ", "punct")
                    self.expr(item)
                self.tok(e, "]", "punct")
            case ERecord():
                self.tok(e, "{", "punct")
                for i, f in enumerate(e.fields):
                    self.tok(e, ", " if i else " ", "punct")
                    self.name(f, f.name, "field")
                    self.tok(f, ": ", "punct")
                    self.expr(f.value)
                self.tok(e, " }" if e.fields else "}", "punct")
            case ELet():
                with self.out.aligned():
                    self.tok(e, "let", "keyword")
                    self.space(e)
                    self.name(e, e.name)
                    self.tok(e, " = ", "op")
                    self.expr(e.rhs, parens=isinstance(e.rhs, ELet))
                    self.out.newline()
                    self.expr(e.body)
            case EIf():
                with self.out.aligned():
                    self.tok(e, "if", "keyword")
                    self.space(e)
                    self.expr(e.cond)
                    self.out.newline()
                    self.tok(e, "then", "keyword")
                    with self.out.indented():
                        self.out.newline()
                        self.expr(e.then)
                    self.out.newline()
                    self.tok(e, "else", "keyword")
                    with self.out.indented():
                        self.out.newline()
                        self.expr(e.else_)
            case ELambda():
                self.tok(e, "\\", "keyword")
                for i, p in enumerate(e.params):
                    if i:
                        self.tok(e, ", ", "punct")
                    self.name(p, p.name)
                self.tok(e, " -> ", "op")
                self.expr(e.body)
            case ECall():
                self.tok(e, self.fn_label(e), "fn", editable=True, slot="fn")
                # The piped value as first argument is implicit, as in Dark: `|> List::map f`.
                shown = e.args[1:] if e.args and isinstance(e.args[0], EPipeTarget) else e.args
                for a in shown:
                    self.space(e)
                    self.expr(a, parens=needs_parens_as_arg(a))
            case EConstructor():
                self.tok(e, e.name, "constructor", editable=True, slot="name")
                for a in e.args:
                    self.space(e)
                    self.expr(a, parens=needs_parens_as_arg(a))
            case EInfix():
                if isinstance(e.left, EPipeTarget):
                    # Implicit too: a step `|> + 1` adds one to the piped value.
                    self.tok(e, f"{e.op} ", "op")
                else:
                    self.expr(e.left, parens=needs_parens_in_infix(e, e.left, left=True))
                    self.tok(e, f" {e.op} ", "op")
                self.expr(e.right, parens=needs_parens_in_infix(e, e.right, left=False))
            case EPipeTarget():
                # Where it is not implicit (not a call's first argument, nor an operator's
                # left side), the piped value is named in words.
                self.tok(e, PIPED_TEXT, "keyword")
            case EPipe():
                self.expr(e.head, parens=isinstance(e.head, BLOCKS))
                with self.out.indented():
                    for step in e.steps:
                        self.out.newline()
                        self.tok(e, "|> ", "op")
                        self.expr(step, parens=isinstance(step, BLOCKS))
            case EField():
                self.expr(e.record, parens=needs_parens_as_arg(e.record))
                self.tok(e, ".", "punct")
                self.name(e, e.field, "field", slot="field")
            case EMatch():
                with self.out.aligned():
                    self.tok(e, "match", "keyword")
                    self.space(e)
                    self.expr(e.scrutinee)
                    with self.out.indented():
                        for arm in e.arms:
                            self.out.newline()
                            self.pattern(arm.pattern)
                            self.tok(arm, " -> ", "op")
                            if isinstance(arm.body, BLOCKS):
                                with self.out.indented():
                                    self.out.newline()
                                    self.expr(arm.body)
                            else:
                                self.expr(arm.body)
            case EFlag():
                with self.out.aligned():
                    self.tok(e, "flag", "flag")
                    self.space(e)
                    self.name(e, e.name, "flag")
                    self.tok(e, " when ", "flag")
                    self.expr(e.cond)
                    with self.out.indented():
                        self.out.newline()
                        self.tok(e, "old ", "flag")
                        self.branch(e.old)
                        self.out.newline()
                        self.tok(e, "new ", "flag")
                        self.branch(e.new)
            case EPartial():
                self.tok(e, e.text, "partial", editable=True, slot="text")
                if not isinstance(e.old, EHole):
                    self.tok(e, "  ", "space")
                    self.ghost(e.old)
            case ERightPartial():
                if not isinstance(e.left, EPipeTarget):
                    self.expr(e.left, parens=isinstance(e.left, (*BLOCKS, EInfix)))
                    self.space(e)
                self.tok(e, e.text, "partial", editable=True, slot="text")
            case _:
                self.tok(e, f"<{type(e).__name__}>", "punct")

    def branch(self, e: Expr) -> None:
        if isinstance(e, BLOCKS):
            with self.out.indented():
                self.out.newline()
                self.expr(e)
        else:
            self.expr(e)

    def ghost(self, e: Expr) -> None:
        """The old expression a partial keeps, greyed: shown, not editable."""
        sub = Layout(self.fn_names)
        sub.expr(e)
        lines = sub.out.finish()
        text = " ".join(ln.text.strip() for ln in lines)
        if len(text) > 40:
            text = text[:39] + "…"
        self.tok(e, text, "partial_old")

    def fn_label(self, e: ECall) -> str:
        match e.fn:
            case LibFnRef():
                return versioned(f"{e.fn.module}::{e.fn.name}", e.fn.version)
            case UserFnRef():
                return versioned(self.fn_names.get(e.fn.fn_id, f"fn{e.fn.fn_id}"), e.fn.version)
        return "?"

    # ----------------------------------------------------------- patterns

    def pattern(self, p: Pattern, parens: bool = False) -> None:
        if parens:
            self.tok(p, "(", "punct")
        match p:
            case PHole():
                self.tok(p, HOLE_TEXT, "hole", blank=True)
            case PVariable():
                self.tok(p, p.name, "binder", editable=True, slot="name")
            case PInt():
                self.tok(p, str(p.value), "int", editable=True)
            case PFloat():
                self.tok(p, show_float(p.value), "float", editable=True)
            case PString():
                self.tok(p, '"', "punct")
                self.tok(p, show_string(p.value), "string", editable=True)
                self.tok(p, '"', "punct")
            case PBool():
                self.tok(p, "true" if p.value else "false", "bool", editable=True)
            case PNull():
                self.tok(p, "null", "null", editable=True)
            case PWildcard():
                self.tok(p, "_", "punct", editable=True)
            case PConstructor():
                self.tok(p, p.name, "constructor", editable=True, slot="name")
                for a in p.args:
                    self.space(p)
                    self.pattern(a, parens=isinstance(a, PConstructor) and bool(a.args))
            case _:
                self.tok(p, f"<{type(p).__name__}>", "punct")
        if parens:
            self.tok(p, ")", "punct")


def needs_parens_as_arg(e: Expr) -> bool:
    """An argument of a call or constructor (or a field's record) needs parentheses."""
    if isinstance(e, (ECall, EConstructor)):
        return bool(e.args)
    return isinstance(e, (EInfix, ELambda, ERightPartial, *BLOCKS))


def needs_parens_in_infix(parent: EInfix, child: Expr, *, left: bool) -> bool:
    if isinstance(child, ERightPartial):
        # On the right it reads as typed (`1 + 2 *`); committing places it by precedence.
        return left
    if isinstance(child, (ELambda, *BLOCKS)):
        return True
    if not isinstance(child, EInfix):
        return False
    outer = OPERATORS.get(parent.op)
    inner = OPERATORS.get(child.op)
    if outer is None or inner is None:
        return True
    if inner.precedence != outer.precedence:
        return inner.precedence < outer.precedence
    # Same precedence: the tree's shape must match the associativity to go bare.
    return left == outer.right_assoc


def fn_names(toplevels: Iterable[Toplevel]) -> dict[int, str]:
    """User function names by family id, for showing calls."""
    return {tl.fn_id: tl.name for tl in toplevels if isinstance(tl, UserFunction)}


def layout_expr(e: Expr, names: dict[int, str] | None = None,
                memo: LayoutMemo | None = None) -> list[Line]:
    """The lines of `e`; a `memo` (made for the same `names`) lets unchanged subtrees be reused."""
    if memo is not None:
        assert memo.names == (names or {}), "a layout memo serves one set of function names"
        memo.begin()
    lay = Layout(names, memo)
    lay.expr(e)
    lines = lay.out.finish()
    if memo is not None:
        memo.end()
    return lines


def body_of(tl: Toplevel) -> Expr | None:
    """The expression a toplevel's code view edits, if it has one."""
    if isinstance(tl, (Handler, UserFunction, Test)):
        return tl.body
    return None


def layout_toplevel(tl: Toplevel, names: dict[int, str] | None = None) -> list[Line]:
    body = body_of(tl)
    return [] if body is None else layout_expr(body, names)
