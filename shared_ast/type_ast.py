"""Types of the Gloam language, as data.

Types appear in programs (function parameters, return types, fields of user
types, datastore schemas) and in the checker's answers. `TUnknown` is the
gradual type `?`: the type of a hole, and the `Any` of old library versions.
It is consistent with every type, so unfinished code still checks.

`TVar` appears only in library signatures (`List::map_v0 : List<a>, (a -> b) -> List<b>`);
the checker instantiates it afresh at each call.
"""

from __future__ import annotations

from typing import ClassVar

import attrs


@attrs.frozen
class Type:
    KIND: ClassVar[str] = ""


@attrs.frozen
class TUnknown(Type):
    """`?`: consistent with every type."""

    KIND: ClassVar[str] = "t_unknown"


@attrs.frozen
class TInt(Type):
    KIND: ClassVar[str] = "t_int"


@attrs.frozen
class TFloat(Type):
    KIND: ClassVar[str] = "t_float"


@attrs.frozen
class TBool(Type):
    KIND: ClassVar[str] = "t_bool"


@attrs.frozen
class TString(Type):
    KIND: ClassVar[str] = "t_string"


@attrs.frozen
class TChar(Type):
    """One extended grapheme cluster, as `String::toList_v1` yields."""

    KIND: ClassVar[str] = "t_char"


@attrs.frozen
class TNull(Type):
    KIND: ClassVar[str] = "t_null"


@attrs.frozen
class TDate(Type):
    KIND: ClassVar[str] = "t_date"


@attrs.frozen
class TUuid(Type):
    KIND: ClassVar[str] = "t_uuid"


@attrs.frozen
class TResponse(Type):
    """An HTTP response built by `Http::response_v0` and friends."""

    KIND: ClassVar[str] = "t_response"


@attrs.frozen
class TList(Type):
    KIND: ClassVar[str] = "t_list"
    elem: Type


@attrs.frozen
class TDict(Type):
    """A dictionary from String keys to values of one type."""

    KIND: ClassVar[str] = "t_dict"
    value: Type


@attrs.frozen
class TOption(Type):
    KIND: ClassVar[str] = "t_option"
    inner: Type


@attrs.frozen
class TResult(Type):
    KIND: ClassVar[str] = "t_result"
    ok: Type
    error: Type


@attrs.frozen
class TRecordField:
    name: str
    type: Type


@attrs.frozen
class TRecord(Type):
    """An anonymous record type, the type of a record literal."""

    KIND: ClassVar[str] = "t_record"
    fields: tuple[TRecordField, ...] = ()

    def field(self, name: str) -> Type | None:
        for f in self.fields:
            if f.name == name:
                return f.type
        return None


@attrs.frozen
class TUser(Type):
    """A user type (record or enum) by family id and version."""

    KIND: ClassVar[str] = "t_user"
    type_id: int
    version: int


@attrs.frozen
class TFn(Type):
    KIND: ClassVar[str] = "t_fn"
    params: tuple[Type, ...]
    ret: Type


@attrs.frozen
class TDatastore(Type):
    """The type of a datastore variable (`Users_v0`), whose rows have type `schema`."""

    KIND: ClassVar[str] = "t_datastore"
    schema: Type


@attrs.frozen
class TVar(Type):
    """A type variable of a library signature, named `a`, `b`, ..."""

    KIND: ClassVar[str] = "t_var"
    name: str


TYPE_KINDS: tuple[type[Type], ...] = (
    TUnknown,
    TInt,
    TFloat,
    TBool,
    TString,
    TChar,
    TNull,
    TDate,
    TUuid,
    TResponse,
    TList,
    TDict,
    TOption,
    TResult,
    TRecord,
    TUser,
    TFn,
    TDatastore,
    TVar,
)

UNKNOWN = TUnknown()
INT = TInt()
FLOAT = TFloat()
BOOL = TBool()
STRING = TString()
CHAR = TChar()
NULL = TNull()
DATE = TDate()
UUID = TUuid()
RESPONSE = TResponse()


def show_type(t: Type, user_names: dict[tuple[int, int], str] | None = None) -> str:
    """The type as a person reads it: `List<Int>`, `(Int, String) -> Bool`, `?`."""
    match t:
        case TUnknown():
            return "?"
        case TInt():
            return "Int"
        case TFloat():
            return "Float"
        case TBool():
            return "Bool"
        case TString():
            return "String"
        case TChar():
            return "Char"
        case TNull():
            return "Null"
        case TDate():
            return "Date"
        case TUuid():
            return "UUID"
        case TResponse():
            return "Response"
        case TList(elem):
            return f"List<{show_type(elem, user_names)}>"
        case TDict(value):
            return f"Dict<{show_type(value, user_names)}>"
        case TOption(inner):
            return f"Option<{show_type(inner, user_names)}>"
        case TResult(ok, err):
            return f"Result<{show_type(ok, user_names)}, {show_type(err, user_names)}>"
        case TRecord(fields):
            shown = ", ".join(f"{f.name}: {show_type(f.type, user_names)}" for f in fields)
            return "{" + shown + "}"
        case TUser(type_id, version):
            name = (user_names or {}).get((type_id, version))
            return f"{name}_v{version}" if name else f"type#{type_id}_v{version}"
        case TFn(params, ret):
            ps = ", ".join(show_type(p, user_names) for p in params)
            return f"({ps}) -> {show_type(ret, user_names)}"
        case TDatastore(schema):
            return f"Datastore<{show_type(schema, user_names)}>"
        case TVar(name):
            return name
    return "?"
