"""Reading a type as a person writes it: the inverse of `show_type`.

Code is never parsed: it is typed into the tree. Declarations are different:
a parameter's type, a record field's type or a datastore's schema is picked by
name in a form (`Int`, `List<String>`, `Option<Note_v0>`, `{title: String}`),
and this module reads that name back into a `Type`, with a message naming
what it did not understand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared_ast.type_ast import (
    BOOL,
    CHAR,
    DATE,
    FLOAT,
    INT,
    NULL,
    RESPONSE,
    STRING,
    UNKNOWN,
    UUID,
    TDict,
    TList,
    TOption,
    TRecord,
    TRecordField,
    TResult,
    TUser,
    Type,
)

SIMPLE: dict[str, Type] = {
    "?": UNKNOWN, "Int": INT, "Float": FLOAT, "Bool": BOOL, "String": STRING, "Char": CHAR,
    "Null": NULL, "Date": DATE, "UUID": UUID, "Response": RESPONSE,
}
WRAPPERS = {"List": 1, "Dict": 1, "Option": 1, "Result": 2}
_TOKEN = re.compile(r"\s*(\?|[A-Za-z_][A-Za-z0-9_]*|[<>{},:])")


class TypeNameError(ValueError):
    pass


def read_type(text: str, user_types: Mapping[str, tuple[int, int]] | None = None) -> Type:
    """`text` as a type; `user_types` maps `Name_vN` (and `Name` for the newest) to ids."""
    tokens = _tokens(text)
    reader = _Reader(tokens, user_types or {}, text)
    t = reader.type()
    if reader.i != len(tokens):
        raise TypeNameError(f"{text!r}: unexpected {tokens[reader.i]!r} after the type")
    return t


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise TypeNameError(f"{text!r}: cannot read {text[pos:].strip()[:10]!r}; write a "
                                "type like Int, List<String>, Option<Int> or {name: String}")
        out.append(m.group(1))
        pos = m.end()
    if not out:
        raise TypeNameError("the type is empty: write ? for any type, or Int, String, ...")
    return out


class _Reader:
    def __init__(self, tokens: list[str], user_types: Mapping[str, tuple[int, int]],
                 text: str) -> None:
        self.tokens, self.user_types, self.text, self.i = tokens, user_types, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            want = f"{expected!r}" if expected else "a type"
            raise TypeNameError(f"{self.text!r}: expected {want}"
                                + (f", found {tok!r}" if tok else " at the end"))
        self.i += 1
        return tok

    def type(self) -> Type:
        tok = self.take()
        if tok in SIMPLE:
            return SIMPLE[tok]
        if tok in WRAPPERS:
            self.take("<")
            args = [self.type()]
            for _ in range(WRAPPERS[tok] - 1):
                self.take(",")
                args.append(self.type())
            self.take(">")
            match tok:
                case "List":
                    return TList(args[0])
                case "Dict":
                    return TDict(args[0])
                case "Option":
                    return TOption(args[0])
            return TResult(args[0], args[1])
        if tok == "{":
            fields: list[TRecordField] = []
            seen: set[str] = set()
            while self.peek() != "}":
                if fields:
                    self.take(",")
                name = self.take()
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    raise TypeNameError(f"{self.text!r}: {name!r} is not a field name")
                if name in seen:
                    raise TypeNameError(f"{self.text!r}: the field {name!r} appears twice")
                seen.add(name)
                self.take(":")
                fields.append(TRecordField(name, self.type()))
            self.take("}")
            return TRecord(tuple(fields))
        if tok in self.user_types:
            type_id, version = self.user_types[tok]
            return TUser(type_id, version)
        known = ", ".join([*SIMPLE, *(f"{w}<…>" for w in WRAPPERS), *sorted(self.user_types)])
        raise TypeNameError(f"{self.text!r}: there is no type {tok!r}; the types are {known}")
