"""Tokens: the smallest pieces of projected code, each owned by one node.

The editor shows code as lines of tokens. A token knows the node that owns it
(its `node_id`), a `role` that the theme colours it by, and whether typing
inside it edits the node's own text (`editable`). A `blank` token shows a
placeholder for something not written yet (a hole, a blank name); typing into
it replaces it rather than inserting beside the placeholder.

A caret is a (node id, offset) pair: the offset counts characters over the
node's *own* tokens in reading order (plus one between two own tokens that do
not touch on screen, so that each offset has one place), so it survives edits
elsewhere in the tree and needs no index into a text buffer.
"""

from __future__ import annotations

import attrs

#: Every role a token can have; the theme has a style for each.
TOKEN_ROLES: tuple[str, ...] = (
    "keyword", "binder", "variable", "fn", "constructor", "int", "float", "string", "bool",
    "null", "op", "punct", "hole", "placeholder", "partial", "partial_old", "field", "flag",
    "space",
)

#: What an empty hole shows.
HOLE_TEXT = "___"
#: What a blank name (a let or lambda parameter still unnamed) shows.
BLANK_NAME_TEXT = "name"


# Hashes are cached: the code view keys its painted lines by value (`Line` equality),
# and a line's hash is the hash of its tokens.
@attrs.frozen(cache_hash=True)
class Token:
    text: str
    node_id: int
    role: str
    #: Typing inside edits the owner's text (a literal, a name, a partial's text).
    editable: bool = False
    #: A placeholder: it shows `text` but the owner's text is empty.
    blank: bool = False
    #: For roles with several editable slots in one node (a record field's name vs
    #: nothing else), which attribute the token spells; "" when it is not a name.
    slot: str = ""

    def __attrs_post_init__(self) -> None:
        assert self.role in TOKEN_ROLES, self.role


@attrs.frozen(cache_hash=True)
class Line:
    indent: int
    tokens: tuple[Token, ...]

    @property
    def text(self) -> str:
        return " " * self.indent + "".join(t.text for t in self.tokens)


@attrs.frozen
class Placed:
    """A token where it sits: line number and the column of its first character."""

    token: Token
    line: int
    column: int
    #: Where this token starts within its owner's own text (see the module docstring).
    own_offset: int

    @property
    def end(self) -> int:
        return self.column + len(self.token.text)
