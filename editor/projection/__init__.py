"""Projection: typed-hole ASTs as lines of tokens that know their nodes; no Qt."""

from editor.projection.layout import fn_names, layout_expr, layout_toplevel
from editor.projection.tokens import TOKEN_ROLES, Line, Placed, Token
from editor.projection.view import Caret, Projection

__all__ = [
    "TOKEN_ROLES", "Caret", "Line", "Placed", "Projection", "Token", "fn_names",
    "layout_expr", "layout_toplevel",
]
