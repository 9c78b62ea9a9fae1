"""The background conversion's parts on a real SQLite store: which versions are in use,
one batch (`convert_batch`, what the property test and the benchmark call), passes over a
storage by cursor, and the deploy path's rule that rows are never stranded."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.control.migrations import (
    Chain,
    chains,
    convert_batch,
    datastore_change_problem,
    named_datastores,
    status_line,
    versions_in_use,
)
from runtime.store import open_store
from runtime.store.protocol import Store
from shared_ast import build as b
from shared_ast import wire
from shared_ast.limits import Budget
from shared_ast.ops import DeleteToplevel
from shared_ast.program import Program
from shared_ast.type_ast import INT, STRING, TRecord, TRecordField, Type
from shared_ast.values import FrozenDict


def rec(**fields: Type) -> TRecord:
    return TRecord(tuple(TRecordField(k, v) for k, v in fields.items()))


def r(name: str) -> Any:
    return b.field(b.var("row"), name)


ROW = rec(name=STRING, n=INT)
V0 = b.datastore("Items", ROW)
#: Rolls `n` forward by one, except that a row whose name is "bad" fails (an error).
V1, FORWARD, BACK = b.datastore_version(
    V0, ROW,
    b.record(name=r("name"), n=b.if_(b.infix("==", r("name"), "bad"),
                                     b.call("Int::divide_v0", 1, 0), b.infix("+", r("n"), 1))),
    b.record(name=r("name"), n=b.infix("-", r("n"), 1)))
PROGRAM = Program.from_toplevels([V0, V1, FORWARD, BACK])


def text(name: str, n: int) -> str:
    return wire.json_text(wire.encode_value(FrozenDict({"name": name, "n": n})))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = open_store(str(tmp_path_factory.mktemp("conv") / "gloam.sqlite3"))
    try:
        yield opened
    finally:
        opened.close()


_canvases = itertools.count()
STORAGE = "Items_v0"


def fresh_canvas() -> str:
    """Each example its own canvas, so its rows start from none."""
    return f"c{next(_canvases)}"


# ------------------------------------------------------------ versions in use


@given(versions=st.sets(st.integers(0, 5), min_size=1, max_size=6),
       named=st.sets(st.integers(0, 5)),
       ages=st.dictionaries(st.integers(0, 5), st.floats(0, 100)),
       window=st.floats(0, 50))
def test_versions_in_use_are_those_named_and_those_unnamed_within_the_window(
        versions: set[int], named: set[int], ages: dict[int, float], window: float) -> None:
    now = 1000.0
    chain = Chain("Items", "Items_v0", tuple(sorted(versions)))
    since = {str(v): now - age for v, age in ages.items()}
    use = versions_in_use(chain, frozenset(f"Items_v{v}" for v in named), since, window, now)
    named_here = named & versions
    # A version first seen unnamed starts its clock now (age 0).
    recent = {v for v in versions - named_here if now - since.get(str(v), now) < window}
    assert set(use.in_use) == named_here | recent
    # The clock of a version keeps running while it stays unnamed, starts when first
    # seen unnamed, and is forgotten when code names it again.
    assert use.unnamed_since == {str(v): since.get(str(v), now)
                                 for v in versions - named_here}
    assert use.target == (use.in_use[0] if len(use.in_use) == 1 else None)
    if use.waiting_until is not None:
        assert use.target is None and len(named_here) == 1 and recent
        assert use.waiting_for in named_here
        assert use.waiting_until == max(since.get(str(v), now) + window for v in recent)


def test_versions_named_by_handlers_and_functions_both_branches_of_a_flag_included() -> None:
    other = b.datastore("Other", INT)
    flagged = b.http("GET", "/x", b.flag("move", b.bool_(True), b.var("Items_v0"),
                                         b.var("Items_v1")))
    program = Program.from_toplevels([V0, V1, FORWARD, BACK, other, flagged])
    assert named_datastores([flagged, V0, V1, FORWARD, BACK], program) == {"Items_v0",
                                                                          "Items_v1"}
    assert named_datastores([V0, V1, FORWARD, BACK], program) == frozenset()
    # Only storages shared by a migration are chains.
    assert chains(program) == [Chain("Items", "Items_v0", (0, 1))]


# ------------------------------------------------------------------ batches


@settings(max_examples=30)
@given(rows=st.lists(st.tuples(st.sampled_from(["ok", "bad"]), st.integers(-50, 50),
                               st.sampled_from([0, 1])), max_size=40),
       limit=st.integers(1, 7), target=st.sampled_from([0, 1]))
def test_passes_of_batches_convert_every_row_once_and_leave_failing_rows_as_they_were(
        store: Store, rows: list[tuple[str, int, int]], limit: int, target: int) -> None:
    canvas, storage = fresh_canvas(), STORAGE
    before = {}
    for i, (name, n, version) in enumerate(rows):
        key = f"k{i:03d}"
        store.ds_set(canvas, storage, key, text(name, n), version)
        before[key] = (version, name, n)
    cursor, failures, converted, finished = None, [], 0, False
    while not finished:
        result = convert_batch(store, canvas, PROGRAM, storage, target, cursor, limit, Budget)
        assert result.read <= limit
        cursor, finished = result.cursor, result.finished
        failures += result.failures
        converted += result.converted
    after = {key: (version, wire.decode_value(wire.json_load(t)))
             for key, version, t in store.ds_items(canvas, storage)}
    assert set(after) == set(before)  # no row lost, none made up
    failing = set()
    for key, (version, name, n) in before.items():
        if version == target:
            assert after[key] == (version, FrozenDict({"name": name, "n": n}))
        elif target == 1 and name == "bad":
            failing.add(key)
            assert after[key] == (version, FrozenDict({"name": name, "n": n}))
        else:
            assert after[key] == (target, FrozenDict({"name": name,
                                                      "n": n + (1 if target else -1)}))
    assert sorted(f["key"] for f in failures) == sorted(failing)
    assert all(f["kind"] == "error" and "Items_v1_rollforward" in f["reason"]
               for f in failures)
    assert converted == sum(1 for v, _, _ in before.values() if v != target) - len(failing)
    # A second pass finds only the failing rows, and converts nothing again.
    again = convert_batch(store, canvas, PROGRAM, storage, target, None, 1000, Budget)
    assert again.converted == 0 and again.read == len(failing) and again.finished


def test_a_row_written_while_its_batch_converts_stays_as_written(store: Store) -> None:
    canvas, storage = fresh_canvas(), STORAGE
    for key in ("a", "b", "c"):
        store.ds_set(canvas, storage, key, text(key, 1), 0)
    written = iter([None, ("b", text("b", 100), 1)])

    def budget() -> Budget:
        # Between reading the batch and rewriting it, traffic writes row b through v1.
        meanwhile = next(written, None)
        if meanwhile is not None:
            store.ds_set(canvas, storage, meanwhile[0], meanwhile[1], meanwhile[2])
        return Budget()

    result = convert_batch(store, canvas, PROGRAM, storage, 1, None, 10, budget)
    assert result.converted == 2 and result.changed_meanwhile == 1 and result.finished
    assert store.ds_get(canvas, storage, "b") == (1, text("b", 100))
    assert store.ds_get(canvas, storage, "a") == (1, text("a", 2))


def test_a_batch_past_its_deadline_commits_what_it_converted(store: Store) -> None:
    canvas, storage = fresh_canvas(), STORAGE
    for i in range(5):
        store.ds_set(canvas, storage, f"k{i}", text("ok", i), 0)
    result = convert_batch(store, canvas, PROGRAM, storage, 1, None, 10, Budget,
                           deadline=time.monotonic() - 1)
    assert (result.read, result.converted, result.cursor, result.finished) == (5, 1, "k0",
                                                                              False)
    rest = convert_batch(store, canvas, PROGRAM, storage, 1, result.cursor, 10, Budget)
    assert rest.converted == 4 and rest.finished
    assert store.ds_version_counts(canvas, storage) == {1: 5}


def test_a_batch_for_a_storage_no_chain_has_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="Nope_v0"):
        convert_batch(store, "c", PROGRAM, "Nope_v0", 1, None, 10, Budget)


# ---------------------------------------------------------- deploy refusals


def test_a_version_the_chain_of_conversions_goes_through_stays_while_rows_need_it(
        tmp_path: Path) -> None:
    v2, f2, b2 = b.datastore_version(V1, ROW, b.var("row"), b.var("row"))
    toplevels = {t.tlid: t for t in (V0, V1, FORWARD, BACK, v2, f2, b2)}
    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        store.ds_set("c", "Items_v0", "a", text("a", 1), 0)
        after = {t: tl for t, tl in toplevels.items() if t != V1.tlid}
        problem = datastore_change_problem(store, "c", toplevels, after, [DeleteToplevel(V1)])
        assert problem is not None and problem[0] == 0
        assert "goes through it" in problem[1] and "Items_v2" in problem[1], problem
        # Rows past it still need it while v0 stays (read through v0, they go back through
        # v1); with v0 gone too, nothing needs it.
        store.ds_set("c", "Items_v0", "a", text("a", 1), 2)
        assert datastore_change_problem(store, "c", toplevels, after,
                                        [DeleteToplevel(V1)]) is not None
        both = {t: tl for t, tl in after.items() if t != V0.tlid}
        assert datastore_change_problem(store, "c", toplevels, both,
                                        [DeleteToplevel(V0), DeleteToplevel(V1)]) is None
    finally:
        store.close()


def test_the_status_line_of_a_chain() -> None:
    line = status_line("demo", {"name": "Users", "storage": "Users_v0", "target": 1,
                                "state": "converting", "done": 1200, "left": 800,
                                "rate": 20123.4, "failed": 2, "holder": "node-a"})
    assert line == ("  migration demo/Users (Users_v0): converting to v1, 1200 rows done, "
                    "800 left, 20123 rows/s, 2 failed (on node-a)")
