"""The background conversion's parts on a real SQLite store: which versions are in use,
one batch (`convert_batch`, what the property test and the benchmark call), passes over a
storage by cursor, and the deploy path's rule that rows are never stranded."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.config import RuntimeConfig
from runtime.control.migrations import (
    FAILURES_LISTED,
    Chain,
    MigrationRunner,
    chains,
    convert_batch,
    datastore_change_problem,
    named_datastores,
    status_line,
    touches_datastores,
    versions_in_use,
)
from runtime.services import RuntimeServices
from runtime.store import open_store
from runtime.store.protocol import Store
from runtime.traffic.live import CanvasState, LiveTable
from shared_ast import build as b
from shared_ast import wire
from shared_ast.limits import Budget
from shared_ast.nodes import TypeField
from shared_ast.ops import CreateToplevel, DeleteToplevel, SetType
from shared_ast.program import Program
from shared_ast.toplevels import RecordDef
from shared_ast.type_ast import INT, STRING, TList, TRecord, TRecordField, TUser, Type
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


def test_a_datastore_made_again_or_twice_with_another_schema_is_refused_while_rows_are_stored(
        tmp_path: Path) -> None:
    # set_type is refused on a version with rows; deleting it and making it again with
    # another schema in one batch, or making a second Items_v0, is the same change.
    other = b.datastore("Items", rec(x=INT))
    toplevels = {t.tlid: t for t in (V0, V1, FORWARD, BACK)}
    remade = {t: tl for t, tl in toplevels.items() if t != V0.tlid} | {other.tlid: other}
    twice = toplevels | {other.tlid: other}
    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        store.ds_set("c", "Items_v0", "a", text("a", 1), 0)
        problem = datastore_change_problem(store, "c", toplevels, remade,
                                           [DeleteToplevel(V0), CreateToplevel(other)])
        assert problem is not None and problem[0] == 0, problem
        assert "Items_v0 has 1 row(s)" in problem[1] and "New datastore version" in problem[1]
        problem = datastore_change_problem(store, "c", toplevels, twice,
                                           [CreateToplevel(other)])
        assert problem is not None and problem[0] == 0, problem
        assert problem[1].startswith("create_toplevel: datastore Items_v0 has 1 row(s)")
        # The same schema made again, or another schema once no row is stored in it: fine.
        same = attrs.evolve(other, schema=ROW)
        assert datastore_change_problem(store, "c", toplevels, twice | {other.tlid: same},
                                        [CreateToplevel(same)]) is None
        store.ds_convert("c", "Items_v0", 1, [("a", 0, text("a", 1), text("a", 2))])
        assert datastore_change_problem(store, "c", toplevels, remade,
                                        [DeleteToplevel(V0), CreateToplevel(other)]) is None
    finally:
        store.close()


def test_a_type_in_the_schema_of_a_version_with_rows_stays_as_it_is(tmp_path: Path) -> None:
    # Person_v0 is inside Items_v0's schema (through a list of Tag_v0 too): changing
    # either type would change the schema the stored rows were written in.
    tag = b.record_type("Tag", [("label", STRING)])
    person = b.record_type("Person", [("name", STRING),
                                      ("tags", TList(TUser(tag.type_id, 0)))])
    ds = b.datastore("People", TUser(person.type_id, 0))
    other = b.record_type("Other", [("x", INT)])
    toplevels = {t.tlid: t for t in (tag, person, ds, other)}
    label = tag.definition.fields[0]
    assert isinstance(label, TypeField)
    retyped = attrs.evolve(tag, definition=RecordDef((attrs.evolve(label, type=INT),)))
    op = SetType(tag.tlid, label.id, STRING, INT)
    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        # No row yet: the type may change.
        assert datastore_change_problem(store, "c", toplevels,
                                        toplevels | {tag.tlid: retyped}, [op]) is None
        store.ds_set("c", "People_v0", "a", wire.json_text(wire.encode_value(FrozenDict(
            {"name": "a", "tags": ()}))), 0)
        assert touches_datastores(toplevels, [op])
        problem = datastore_change_problem(store, "c", toplevels,
                                           toplevels | {tag.tlid: retyped}, [op])
        assert problem is not None and problem[0] == 0, problem
        assert "type Tag_v0 is part of the schema of datastore People_v0" in problem[1]
        gone = {t: tl for t, tl in toplevels.items() if t != tag.tlid}
        assert datastore_change_problem(store, "c", toplevels, gone,
                                        [DeleteToplevel(tag)]) is not None
        # A type no schema names changes freely.
        field = other.definition.fields[0]
        assert isinstance(field, TypeField)
        freely = attrs.evolve(other, definition=RecordDef((attrs.evolve(field, type=STRING),)))
        assert datastore_change_problem(store, "c", toplevels, toplevels | {other.tlid: freely},
                                        [SetType(other.tlid, field.id, INT, STRING)]) is None
    finally:
        store.close()


def test_a_conversion_function_stays_while_rows_are_read_through_it(tmp_path: Path) -> None:
    toplevels = {t.tlid: t for t in (V0, V1, FORWARD, BACK)}

    def without(*gone: Any) -> dict[int, Any]:
        return {t: tl for t, tl in toplevels.items() if t not in {g.tlid for g in gone}}

    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        store.ds_set("c", "Items_v0", "a", text("a", 1), 0)
        # A row at v0 is read through v1 with the rollforward: it stays.
        problem = datastore_change_problem(store, "c", toplevels, without(FORWARD),
                                           [DeleteToplevel(FORWARD)])
        assert problem is not None and problem[0] == 0, problem
        assert "Items_v1's rollforward" in problem[1] and "1 row(s)" in problem[1], problem
        # Nothing is read back through v0 yet: the rollback may go (and come back).
        assert datastore_change_problem(store, "c", toplevels, without(BACK),
                                        [DeleteToplevel(BACK)]) is None
        # Deleted with the version it converts to (the undo of New datastore version): fine.
        assert datastore_change_problem(
            store, "c", toplevels, without(V1, FORWARD, BACK),
            [DeleteToplevel(V1), DeleteToplevel(FORWARD), DeleteToplevel(BACK)]) is None
        store.ds_set("c", "Items_v0", "b", text("b", 1), 1)
        problem = datastore_change_problem(store, "c", toplevels, without(BACK),
                                           [DeleteToplevel(BACK)])
        assert problem is not None and "Items_v1's rollback" in problem[1], problem
    finally:
        store.close()


def test_the_status_line_of_a_chain() -> None:
    line = status_line("demo", {"name": "Users", "storage": "Users_v0", "target": 1,
                                "state": "converting", "done": 1200, "left": 800,
                                "rate": 20123.4, "failed": 2, "holder": "node-a"})
    assert line == ("  migration demo/Users (Users_v0): converting to v1, 1200 rows done, "
                    "800 left, 20123 rows/s, 2 failed (on node-a)")


# ------------------------------------------------------------ the converter


def test_the_converter_lists_the_first_thousand_failures_and_counts_them_all(
        tmp_path: Path) -> None:
    reader = b.http("GET", "/items", b.call("DB::count_v0", b.var("Items_v1")))
    toplevels = {t.tlid: t for t in (V0, V1, FORWARD, BACK, reader)}
    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        failing = FAILURES_LISTED + 100
        for i in range(failing + 50):
            store.ds_set("c", STORAGE, f"k{i:05d}", text("bad" if i < failing else "ok", i), 0)
        live = LiveTable()
        live.swap(CanvasState.build("c", 1, toplevels, compile_now=()))
        config = RuntimeConfig(data_dir=tmp_path, lock_window_seconds=0)
        changed: list[str] = []
        runner = MigrationRunner(RuntimeServices(config, store, live),
                                 on_change=changed.append)
        while runner.tick():
            pass
        state = store.migration_state("c", STORAGE)
        assert state is not None
        assert (state["state"], state["target"], state["failed"]) == ("blocked", 1, failing)
        assert len(state["failures"]) == FAILURES_LISTED
        assert [f["key"] for f in state["failures"]] == [f"k{i:05d}"
                                                         for i in range(FAILURES_LISTED)]
        assert state["versions"] == {"0": failing, "1": 50} and state["left"] == failing
        assert changed and set(changed) == {"c"}
        assert runner.states("c")[0]["state"] == "blocked" and "cursor" not in runner.states(
            "c")[0]
        # Blocked: looking again converts nothing and changes nothing until something does.
        assert runner.tick() is False
        assert store.ds_version_counts("c", STORAGE) == {0: failing, 1: 50}
    finally:
        store.close()


def test_rows_written_behind_the_cursor_of_a_pass_that_blocks_still_convert(
        tmp_path: Path) -> None:
    """A pass ends with failures, but a row written behind its cursor meanwhile was never
    tried: the converter goes round again for it before it calls the migration blocked."""
    reader = b.http("GET", "/items", b.call("DB::count_v0", b.var("Items_v1")))
    toplevels = {t.tlid: t for t in (V0, V1, FORWARD, BACK, reader)}
    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        for i in range(1200):  # two batches: the first ends at k00999
            store.ds_set("c", STORAGE, f"k{i:05d}", text("bad" if i < 3 else "ok", i), 0)
        live = LiveTable()
        live.swap(CanvasState.build("c", 1, toplevels, compile_now=()))
        config = RuntimeConfig(data_dir=tmp_path, lock_window_seconds=0)
        runner = MigrationRunner(RuntimeServices(config, store, live))
        while (store.migration_state("c", STORAGE) or {}).get("cursor") is None:
            assert runner.tick()
        # The first batch is done; a row lands behind the cursor.
        store.ds_set("c", STORAGE, "a-late", text("late", 7), 0)
        while runner.tick():
            pass
        state = store.migration_state("c", STORAGE)
        assert state is not None and state["state"] == "blocked"
        assert state["versions"] == {"0": 3, "1": 1198} and state["left"] == 3
        late = store.ds_get("c", STORAGE, "a-late")
        assert late is not None and late[0] == 1 and '"value": 8' in late[1]
    finally:
        store.close()


def test_a_waiting_migration_says_when_it_starts_as_people_read_it() -> None:
    for wait, shown in ((30, "30 s"), (600, "10 min"), (5 * 3600, "5 h"),
                        (7 * 86400, "7 days"), (86400, "1 day")):
        line = status_line("demo", {"name": "Users", "storage": "Users_v0", "target": 1,
                                    "state": "waiting", "waiting_until": time.time() + wait})
        assert line.endswith(f"starts in {shown}"), line


def test_a_version_that_would_not_share_its_sources_rows_is_refused(tmp_path: Path) -> None:
    """A hostile client's version: it migrates from Items_v1 (which keeps its rows in
    Items_v0) but says its own rows are kept with version 1."""
    assert V1.migration is not None
    stray = attrs.evolve(b.datastore_version(V1, ROW, r("n"), r("n"))[0], migration=attrs.evolve(
        V1.migration, from_version=1, table=1))
    toplevels = {t.tlid: t for t in (V0, V1, FORWARD, BACK)}
    store = open_store(str(tmp_path / "gloam.sqlite3"))
    try:
        problem = datastore_change_problem(store, "c", toplevels, toplevels | {stray.tlid: stray},
                                           [CreateToplevel(stray)])
        assert problem is not None and problem[0] == 0, problem
        assert "would not share rows" in problem[1] and "Items_v0" in problem[1]
        made = b.datastore_version(V1, ROW, r("n"), r("n"))[0]
        assert datastore_change_problem(store, "c", toplevels, toplevels | {made.tlid: made},
                                        [CreateToplevel(made)]) is None
    finally:
        store.close()
