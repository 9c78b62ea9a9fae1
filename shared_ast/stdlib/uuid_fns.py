"""The `Uuid` module of the Gloam standard library: universally unique identifiers.

A UUID value is a Python `uuid.UUID`. `Uuid::generate_v0` makes a fresh
random (version 4) UUID; it is impure, so the editor does not preview it by
re-running it and two calls never return the same value. To read a UUID from
text, use `String::toUUID_v1`; to write one, `Uuid::toString_v0` gives the usual
lower-case hyphenated form.
"""

from __future__ import annotations

import uuid

from shared_ast.stdlib.registry import CallContext, register
from shared_ast.type_ast import STRING, UUID

__all__: list[str] = []


@register(
    "Uuid", "generate", 0, [], UUID,
    "Returns a new random UUID (version 4).",
    pure=False,
)
def generate_v0(ctx: CallContext) -> uuid.UUID:
    return uuid.uuid4()


@register(
    "Uuid", "toString", 0, [("uuid", UUID)], STRING,
    "The UUID as lower-case hyphenated text, e.g. for a datastore key.",
)
def to_string_v0(ctx: CallContext, value: uuid.UUID) -> str:
    return str(value)
