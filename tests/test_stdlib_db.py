"""DB:: and Emit:: outside the runtime stop with a clear error; inside, they use the host."""

from __future__ import annotations

from typing import Any

from shared_ast import build as b
from shared_ast.evaluator import evaluate
from shared_ast.program import Program
from shared_ast.type_ast import INT
from shared_ast.values import NOTHING, DatastoreRef, ErrorValue, just


class DictHost:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.emitted: list[tuple[str, Any]] = []

    def ds_set(self, ds: DatastoreRef, key: str, value: Any) -> None:
        self.rows.setdefault(ds.qualified, {})[key] = value

    def ds_get(self, ds: DatastoreRef, key: str) -> Any | None:
        return self.rows.get(ds.qualified, {}).get(key)

    def ds_items(self, ds: DatastoreRef) -> list[tuple[str, Any]]:
        return sorted(self.rows.get(ds.qualified, {}).items())

    def ds_delete(self, ds: DatastoreRef, key: str) -> None:
        self.rows.get(ds.qualified, {}).pop(key, None)

    def ds_count(self, ds: DatastoreRef) -> int:
        return len(self.rows.get(ds.qualified, {}))

    def emit(self, queue: str, value: Any) -> None:
        self.emitted.append((queue, value))


PROGRAM = Program.from_toplevels([b.datastore("Counts", INT)])


def test_without_a_runtime_db_calls_say_so() -> None:
    result = evaluate(b.call("DB::count_v0", b.var("Counts_v0")), program=PROGRAM)
    assert isinstance(result, ErrorValue) and "only inside the Gloam runtime" in result.message


def test_with_a_host_db_calls_read_and_write_it() -> None:
    host = DictHost()
    table = b.var("Counts_v0")
    program = b.let("_a", b.call("DB::set_v1", 1, "a", table),
                    b.let("_b", b.call("DB::set_v1", 5, "b", b.var("Counts_v0")),
                          b.list_(b.call("DB::get_v2", "a", b.var("Counts_v0")),
                                  b.call("DB::get_v2", "zz", b.var("Counts_v0")),
                                  b.call("DB::count_v0", b.var("Counts_v0")),
                                  b.call("DB::keys_v1", b.var("Counts_v0")),
                                  b.call("DB::query_v4", b.var("Counts_v0"),
                                         b.lam(["n"], b.infix(">", b.var("n"), 2))))))
    assert evaluate(program, program=PROGRAM, host=host) == (
        just(1), NOTHING, 2, ("a", "b"), (5,))


def test_emit_queues_the_value() -> None:
    host = DictHost()
    assert evaluate(b.call("Emit::emit_v0", 7, "jobs"), host=host) == 7
    assert host.emitted == [("jobs", 7)]
    refused = evaluate(b.call("Emit::emit_v0", 7, ""), host=host)
    assert isinstance(refused, ErrorValue) and "queue name" in refused.message
