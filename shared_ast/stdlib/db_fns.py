"""The `DB` module: typed key-value datastores, and `Emit` for worker queues.

A datastore is a toplevel with a name, a version and a schema type; code names
it as the variable `Name_vN` (the seed's versioned datastore names), whose
value is a `DatastoreRef` and whose type is `Datastore<schema>`. Keys are
Strings. A value that does not fit the schema is refused with an error naming
the field. All of these are impure: a trace records their results, a replay
returns the recorded results instead of touching the data, and an editor
preview never runs them.
"""

from __future__ import annotations

from typing import Any

from shared_ast.stdlib.host import host_of
from shared_ast.stdlib.registry import CallContext, LibError, register
from shared_ast.type_ast import BOOL, INT, NULL, STRING, TDatastore, TFn, TList, TOption, TVar
from shared_ast.values import NOTHING, DatastoreRef, just

__all__: list[str] = []

A = TVar("a")
TABLE = TDatastore(A)


@register("DB", "set", 1, [("value", A), ("key", STRING), ("table", TABLE)], A,
          "Stores value under key in the datastore, replacing what was there; returns value.",
          pure=False)
def set_v1(ctx: CallContext, value: Any, key: str, table: DatastoreRef) -> Any:
    host_of(ctx, "DB::set_v1").ds_set(table, key, value)
    return value


@register("DB", "get", 2, [("key", STRING), ("table", TABLE)], TOption(A),
          "Looks up key in the datastore: Just the value, or Nothing.", pure=False)
def get_v2(ctx: CallContext, key: str, table: DatastoreRef) -> Any:
    found = host_of(ctx, "DB::get_v2").ds_get(table, key)
    return NOTHING if found is None else just(found)


@register("DB", "getAll", 3, [("table", TABLE)], TList(A),
          "Every value in the datastore, ordered by key.", pure=False)
def get_all_v3(ctx: CallContext, table: DatastoreRef) -> tuple[Any, ...]:
    return tuple(v for _, v in host_of(ctx, "DB::getAll_v3").ds_items(table))


@register("DB", "delete", 1, [("key", STRING), ("table", TABLE)], NULL,
          "Removes key from the datastore (nothing happens when it is not there).", pure=False)
def delete_v1(ctx: CallContext, key: str, table: DatastoreRef) -> None:
    host_of(ctx, "DB::delete_v1").ds_delete(table, key)


@register("DB", "query", 4, [("table", TABLE), ("filter", TFn((A,), BOOL))], TList(A),
          "The values for which filter returns true, ordered by key.", pure=False)
def query_v4(ctx: CallContext, table: DatastoreRef, keep: Any) -> tuple[Any, ...]:
    out = []
    for _, value in host_of(ctx, "DB::query_v4").ds_items(table):
        verdict = ctx.apply(keep, (value,))
        if not isinstance(verdict, bool):
            raise LibError("DB::query_v4's filter must return a Bool for every value")
        if verdict:
            out.append(value)
    return tuple(out)


@register("DB", "keys", 1, [("table", TABLE)], TList(STRING),
          "Every key in the datastore, in order.", pure=False)
def keys_v1(ctx: CallContext, table: DatastoreRef) -> tuple[str, ...]:
    return tuple(k for k, _ in host_of(ctx, "DB::keys_v1").ds_items(table))


@register("DB", "count", 0, [("table", TABLE)], INT,
          "How many values the datastore holds.", pure=False)
def count_v0(ctx: CallContext, table: DatastoreRef) -> int:
    return host_of(ctx, "DB::count_v0").ds_count(table)


@register("Emit", "emit", 0, [("value", A), ("queue", STRING)], A,
          "Queues value durably for the workers of queue; returns value.", pure=False)
def emit_v0(ctx: CallContext, value: Any, queue: str) -> Any:
    if not queue:
        raise LibError("Emit::emit_v0 needs a queue name")
    host_of(ctx, "Emit::emit_v0").emit(queue, value)
    return value
