"""One suite for every `Store` backend: SQLite and PostgreSQL behave the same.

Each test runs twice, on a fresh SQLite file and on a fresh database of a
real PostgreSQL server that the test run starts itself (`pg_cluster`, see
`tests/pg_cluster.py`). "Two instances" means two store objects on the same
file or database, as two processes or two nodes would hold them: what one
commits, claims or notifies, the other must see.

A few tests are PostgreSQL's alone (notifications across instances, a lost
server, concurrent migrations); they say so in their name.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_cluster import PgCluster

from runtime.store import (
    StaleCanvas,
    Store,
    StoreError,
    StoreUnavailable,
    TraceRecord,
    UnknownCanvas,
    open_store,
    pg_schema,
)
from runtime.store.postgres import PostgresStore
from runtime.store.sqlite import SQLiteStore

FIXTURES_PER_EXAMPLE = settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Backend:
    """Where one test's data lives, and every store opened on it (closed at the end)."""

    def __init__(self, kind: str, spec: str, cluster: PgCluster | None) -> None:
        self.kind = kind
        self.spec = spec
        self.cluster = cluster
        self.opened: list[Store] = []

    def open(self) -> Store:
        store = open_store(self.spec)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        b = Backend("sqlite", str(tmp_path / "gloam.sqlite3"), None)
    else:
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        b = Backend("postgres", cluster.create_database(), cluster)
    yield b
    b.close_all()


@pytest.fixture
def pg_backend(pg_cluster: PgCluster) -> Iterator[Backend]:
    b = Backend("postgres", pg_cluster.create_database(), pg_cluster)
    yield b
    b.close_all()


@pytest.fixture
def store(backend: Backend) -> Store:
    s = backend.open()
    s.create_canvas("c", "hash")
    return s


@pytest.fixture
def other(backend: Backend, store: Store) -> Store:
    """A second instance on the same data, as another process or node holds it."""
    return backend.open()


def trace(i: int, tlid: int | None, at: float, canvas: str = "c") -> TraceRecord:
    return TraceRecord(f"t{i}-{canvas}", canvas, tlid, "GET /x", at, 0.1, "{}", "{}", "[]")


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


# ---------------------------------------------------------------- deploys


def test_canvas_settings_are_shared_by_every_instance_and_replaced_whole(
    store: Store, other: Store,
) -> None:
    assert store.canvas_settings("c") == {}
    store.set_canvas_settings("c", {"time_limit_seconds": 2.5})
    assert other.canvas_settings("c") == {"time_limit_seconds": 2.5}
    other.set_canvas_settings("c", {})
    assert store.canvas_settings("c") == {}
    with pytest.raises(UnknownCanvas):
        store.set_canvas_settings("nope", {"time_limit_seconds": 1})
    assert store.canvas_settings("nope") == {}


@pytest.mark.parametrize("backend_class", [SQLiteStore, PostgresStore])
def test_each_backend_has_every_method_of_the_protocol(backend_class: type) -> None:
    names = [n for n, v in vars(Store).items() if callable(v) and not n.startswith("_")]
    assert len(names) > 30
    for name in names:
        want = inspect.signature(getattr(Store, name))
        got = inspect.signature(getattr(backend_class, name))
        assert list(got.parameters) == list(want.parameters), name
        assert [p.default for p in got.parameters.values()] == [
            p.default for p in want.parameters.values()], name


def test_the_backend_follows_the_spec(backend: Backend, store: Store) -> None:
    if backend.kind == "sqlite":
        assert isinstance(store, SQLiteStore)
        assert store.describe() == f"SQLite {backend.spec}"
    else:
        assert isinstance(store, PostgresStore)
        assert backend.spec.startswith("postgresql://")
        assert store.describe() == "PostgreSQL " + backend.spec.removeprefix("postgresql://")
        assert isinstance(open_store(backend.spec.replace("postgresql", "postgres", 1)),
                          PostgresStore)
    assert store.available()


def test_commits_number_batches_and_survive_reopening(backend: Backend) -> None:
    s = backend.open()
    s.create_canvas("c", "hash")
    assert s.commit_ops("c", "me", "[1]", {7: '{"a": 1}'}) == 1
    assert s.submit_ops("c", "me", "[2]", {7: None, 8: '{"b": 2}'}).result() == 2
    s.close()
    again = backend.open()
    snap = again.snapshot("c")
    assert snap.seq == 2 == again.canvas_seq("c")
    assert snap.toplevels == {8: '{"b": 2}'}
    assert [(b.seq, b.author, b.ops_json) for b in again.ops_since("c", 0)] == [
        (1, "me", "[1]"), (2, "me", "[2]")]
    assert [b.seq for b in again.ops_since("c", 1)] == [2]
    assert [(c.name, c.seq) for c in again.canvases()] == [("c", 2)]
    assert again.token_hashes("c") == ["hash"]


def test_a_stale_base_seq_is_refused_and_nothing_is_written(store: Store) -> None:
    assert store.commit_ops("c", "a", "[1]", {1: "one"}, base_seq=0) == 1
    with pytest.raises(StaleCanvas) as refused:
        store.commit_ops("c", "b", "[2]", {1: "two", 2: "new"}, base_seq=0)
    assert refused.value.seq == 1
    assert "another node" in str(refused.value) and "Catch up" in str(refused.value)
    with pytest.raises(StaleCanvas):
        store.submit_ops("c", "b", "[2]", {1: "two"}, base_seq=5).result()
    assert [b.ops_json for b in store.ops_since("c", 0)] == ["[1]"]
    assert store.snapshot("c").toplevels == {1: "one"}
    assert store.commit_ops("c", "b", "[2]", {1: "two"}, base_seq=1) == 2


def test_a_missing_canvas_is_named_and_nothing_is_written(store: Store) -> None:
    with pytest.raises(UnknownCanvas, match="nope"):
        store.commit_ops("nope", "me", "[]", {1: "{}"})
    with pytest.raises(UnknownCanvas):
        store.canvas_seq("nope")
    with pytest.raises(UnknownCanvas):
        store.snapshot("nope")
    with pytest.raises(UnknownCanvas):
        store.add_token("nope", "h")
    assert store.ops_since("c", 0) == [] and store.ops_since("nope", 0) == []
    with pytest.raises(StoreError):
        store.create_canvas("c", "again")


def test_concurrent_commits_from_two_instances_get_consecutive_seqs(
        store: Store, other: Store) -> None:
    per_thread = 15

    def commit_many(s: Store, who: str) -> list[int]:
        return [s.commit_ops("c", who, json.dumps([who, i]), {i % 3: json.dumps([who, i])})
                for i in range(per_thread)]

    with ThreadPoolExecutor(4) as pool:
        runs = [pool.submit(commit_many, s, f"{name}{t}")
                for name, s in (("a", store), ("b", other)) for t in range(2)]
        seqs = [seq for run in runs for seq in run.result()]
    n = 4 * per_thread
    assert sorted(seqs) == list(range(1, n + 1))
    batches = store.ops_since("c", 0)
    assert [b.seq for b in batches] == list(range(1, n + 1))
    # Each thread's own batches are in the log in the order it committed them.
    for who in ("a0", "a1", "b0", "b1"):
        assert [json.loads(b.ops_json)[1] for b in batches if b.author == who] == list(
            range(per_thread))
    assert other.snapshot("c").seq == n == other.canvas_seq("c")


@FIXTURES_PER_EXAMPLE
@given(steps=st.lists(st.tuples(st.integers(0, 1), st.booleans()), min_size=1, max_size=10))
def test_any_interleaving_of_two_instances_numbers_each_batch_once(
        store: Store, other: Store, steps: list[tuple[int, bool]]) -> None:
    """Each instance deploys against the seq it last knew (or without one): a stale one is
    refused and catches up, and the log holds every accepted batch once, numbered 1..n."""
    canvas = f"h{time.monotonic_ns()}"
    store.create_canvas(canvas, "hash")
    instances = (store, other)
    known = [0, 0]
    accepted: list[str] = []
    for step, (who, with_base) in enumerate(steps):
        ops = json.dumps([who, step])
        try:
            seq = instances[who].commit_ops(canvas, str(who), ops, {step: ops},
                                            base_seq=known[who] if with_base else None)
        except StaleCanvas as e:
            assert with_base and known[who] != len(accepted)
            assert e.seq == len(accepted)
            known[who] = e.seq
            continue
        assert not with_base or known[who] == len(accepted)
        accepted.append(ops)
        assert seq == len(accepted)
        known[who] = seq
    log = other.ops_since(canvas, 0)
    assert [b.seq for b in log] == list(range(1, len(accepted) + 1))
    assert [b.ops_json for b in log] == accepted
    assert store.canvas_seq(canvas) == len(accepted)


def test_a_snapshot_agrees_with_its_seq_while_commits_go_on(store: Store, other: Store) -> None:
    stop = threading.Event()

    def deploy() -> None:
        seq = 0
        while not stop.is_set() and seq < 200:
            seq = other.commit_ops("c", "w", "[]", {1: f"v{seq + 1}", 2: f"w{seq + 1}"})

    writer = threading.Thread(target=deploy)
    writer.start()
    try:
        seen = set()
        while writer.is_alive() and len(seen) < 30:
            snap = store.snapshot("c")
            if snap.seq:
                assert snap.toplevels == {1: f"v{snap.seq}", 2: f"w{snap.seq}"}
            seen.add(snap.seq)
    finally:
        stop.set()
        writer.join()
    assert len(seen) > 1


# ----------------------------------------------------------------- traces


def test_traces_keep_the_last_n_per_handler(store: Store) -> None:
    now = time.time()
    for i in range(12):
        store.add_trace(trace(i, 5, now + i), keep_last=10, keep_seconds=3600)
    store.add_trace(trace(99, None, now), keep_last=10, keep_seconds=3600)
    kept = store.traces("c", 5, limit=100)
    assert [t.trace_id for t in kept] == [f"t{i}-c" for i in range(11, 1, -1)]
    assert [t.trace_id for t in store.traces("c", 5, limit=3)] == ["t11-c", "t10-c", "t9-c"]
    assert [t.trace_id for t in store.traces("c", None)] == ["t99-c"]
    assert kept[0] == trace(11, 5, now + 11)


def test_traces_older_than_the_window_go(store: Store) -> None:
    now = time.time()
    store.add_trace(trace(1, 5, now - 7200), keep_last=100, keep_seconds=3600)
    store.add_trace(trace(2, 5, now), keep_last=100, keep_seconds=3600)
    assert [t.trace_id for t in store.traces("c", 5)] == ["t2-c"]


def test_buffered_traces_are_written_together_and_pruned_as_one_by_one(
        store: Store, other: Store) -> None:
    now = time.time()
    for i in range(25):
        assert store.buffer_trace(trace(i, 5, now + i), keep_last=10, keep_seconds=3600) == i + 1
    store.buffer_trace(trace(90, 6, now - 7200), keep_last=10, keep_seconds=3600)
    store.buffer_trace(trace(91, 6, now), keep_last=10, keep_seconds=3600)
    assert other.traces("c", 5) == []  # buffered, not yet written
    assert store.write_traces() == 27
    assert store.write_traces() == 0
    assert [t.trace_id for t in other.traces("c", 5)] == [f"t{i}-c" for i in range(24, 14, -1)]
    assert [t.trace_id for t in other.traces("c", 6)] == ["t91-c"]


def test_traffic_is_counted_per_handler(store: Store) -> None:
    now = time.time()
    for i, (tlid, at) in enumerate([(5, now - 100), (5, now - 10), (5, now - 5), (6, now - 50),
                                    (None, now)]):
        store.buffer_trace(trace(i, tlid, at), keep_last=100, keep_seconds=3600)
    store.buffer_trace(trace(9, 5, now, canvas="elsewhere"), keep_last=100, keep_seconds=3600)
    store.write_traces()
    assert store.last_traffic("c") == {5: pytest.approx(now - 5), 6: pytest.approx(now - 50)}
    assert store.traffic_since("c", now - 20) == {5: (2, pytest.approx(now - 5))}
    assert store.traffic_since("c", now + 1) == {}


# ------------------------------------------------------------- datastores

# PostgreSQL's jsonb holds no U+0000 (refused clearly, see the PostgreSQL tests below).
texts = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False, width=64) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: PostgreSQL's jsonb writes 1e20 as 100000000000000000000."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@FIXTURES_PER_EXAMPLE
@given(key=texts, value=json_values, version=st.integers(0, 2**31 - 1))
def test_datastore_values_round_trip_as_json(store: Store, key: str, value: Any,
                                             version: int) -> None:
    store.ds_set("c", "people", key, json.dumps(value), version)
    got = store.ds_get("c", "people", key)
    assert got is not None and got[0] == version
    assert same_json(json.loads(got[1]), value), (got, value)


def value_of(row: tuple[int, str] | None) -> Any:
    assert row is not None
    return json.loads(row[1])


def test_datastore_rows_set_get_list_delete_count(store: Store, other: Store) -> None:
    nested = {"name": "Zoë 🌙", "tags": ["a", {"deep": [1, 2.5, None, True]}], "n": -7}
    store.ds_set("c", "people", "zoë", json.dumps(nested), 0)
    store.ds_set("c", "people", "Bob", json.dumps({"name": "Bob"}), 0)
    store.ds_set("c", "people", "ann", json.dumps("plain"), 0)
    store.ds_set("c", "other", "x", "1", 0)
    store.ds_set("elsewhere", "people", "y", "2", 0)
    assert value_of(other.ds_get("c", "people", "zoë")) == nested
    assert other.ds_get("c", "people", "nobody") is None
    assert other.ds_count("c", "people") == 3
    # Keys sort by code point, as SQLite sorts them, whatever the server's locale.
    assert [k for k, _, _ in other.ds_items("c", "people")] == ["Bob", "ann", "zoë"]
    store.ds_set("c", "people", "Bob", json.dumps({"name": "Robert"}), 0)
    assert value_of(other.ds_get("c", "people", "Bob")) == {"name": "Robert"}
    store.ds_delete("c", "people", "Bob")
    store.ds_delete("c", "people", "nobody")
    assert other.ds_count("c", "people") == 2 and other.ds_get("c", "people", "Bob") is None
    assert other.ds_items("c", "empty") == [] and other.ds_count("c", "empty") == 0


def test_each_row_keeps_the_version_it_was_written_in(store: Store, other: Store) -> None:
    store.ds_set("c", "Users_v0", "ann", json.dumps({"name": "Ann"}), 0)
    store.ds_set("c", "Users_v0", "bob", json.dumps({"first": "Bob", "last": "B"}), 1)
    store.ds_set("c", "Users_v0", "cy", json.dumps({"first": "Cy", "last": "C"}), 2)
    store.ds_set("c", "Other_v1", "ann", "1", 1)
    ann = other.ds_get("c", "Users_v0", "ann")
    assert ann is not None and ann[0] == 0 and json.loads(ann[1]) == {"name": "Ann"}
    assert [(k, v) for k, v, _ in other.ds_items("c", "Users_v0")] == [
        ("ann", 0), ("bob", 1), ("cy", 2)]
    assert other.ds_version_counts("c", "Users_v0") == {0: 1, 1: 1, 2: 1}
    # Writing a row again writes it in the writer's version.
    store.ds_set("c", "Users_v0", "bob", json.dumps({"name": "Bob B"}), 0)
    bob = other.ds_get("c", "Users_v0", "bob")
    assert bob is not None and bob[0] == 0 and json.loads(bob[1]) == {"name": "Bob B"}
    assert other.ds_version_counts("c", "Users_v0") == {0: 2, 2: 1}
    store.ds_delete("c", "Users_v0", "cy")
    assert other.ds_version_counts("c", "Users_v0") == {0: 2}
    assert other.ds_version_counts("c", "Other_v1") == {1: 1}
    assert other.ds_version_counts("c", "Nothing_v0") == {}
    assert other.ds_version_counts("elsewhere", "Users_v0") == {}


def test_rows_not_at_a_version_come_by_key_after_the_cursor(store: Store, other: Store) -> None:
    keys = ["Bob", "ann", "zoë", "a", "b", "é", "ab"]
    for i, key in enumerate(keys):
        store.ds_set("c", "Users_v0", key, json.dumps(i), i % 3)
    store.ds_set("c", "Other_v0", "aa", "1", 0)
    store.ds_set("elsewhere", "Users_v0", "aa", "1", 0)
    not_at_1 = sorted((k, i % 3) for i, k in enumerate(keys) if i % 3 != 1)
    got = other.ds_rows_not_at("c", "Users_v0", 1, None, 100)
    assert [(k, v) for k, v, _ in got] == not_at_1
    assert all(json.loads(text) == keys.index(k) for k, _, text in got)
    # Page by page, each after the last key seen: every row once, in order.
    paged: list[tuple[str, int]] = []
    cursor = None
    while page := other.ds_rows_not_at("c", "Users_v0", 1, cursor, 2):
        assert len(page) <= 2
        paged += [(k, v) for k, v, _ in page]
        cursor = page[-1][0]
    assert paged == not_at_1
    # A cursor need not be a stored key.
    assert [k for k, _, _ in other.ds_rows_not_at("c", "Users_v0", 1, "b", 100)] == [
        k for k, _ in not_at_1 if k > "b"]
    assert other.ds_rows_not_at("c", "Users_v0", 1, "\U0010ffff", 100) == []
    assert other.ds_rows_not_at("c", "Nothing_v0", 1, None, 100) == []


def test_converting_rewrites_rows_read_and_leaves_rows_changed_since(
        store: Store, other: Store) -> None:
    for key in ["a", "b", "c", "d", "e", "g"]:
        store.ds_set("c", "Users_v0", key, json.dumps({"name": key}), 0)
    store.ds_set("c", "Users_v0", "f", json.dumps({"first": "f"}), 1)
    read = other.ds_rows_not_at("c", "Users_v0", 1, None, 100)
    assert [k for k, _, _ in read] == ["a", "b", "c", "d", "e", "g"]
    # Meanwhile: b is set again in v0, c written through v1, d deleted, and g written
    # again with the same value through v2 (a v2 row, not the v0 row that was read).
    store.ds_set("c", "Users_v0", "b", json.dumps({"name": "B!"}), 0)
    store.ds_set("c", "Users_v0", "c", json.dumps({"first": "written"}), 1)
    store.ds_delete("c", "Users_v0", "d")
    store.ds_set("c", "Users_v0", "g", json.dumps({"name": "g"}), 2)
    converted = [(k, v, text, json.dumps({"first": json.loads(text)["name"]}))
                 for k, v, text in read]
    assert other.ds_convert("c", "Users_v0", 1, converted) == 2  # a and e
    assert {k: (v, json.loads(t)) for k, v, t in store.ds_items("c", "Users_v0")} == {
        "a": (1, {"first": "a"}), "b": (0, {"name": "B!"}), "c": (1, {"first": "written"}),
        "e": (1, {"first": "e"}), "f": (1, {"first": "f"}), "g": (2, {"name": "g"})}
    # The same batch again converts nothing: each row converts once.
    assert other.ds_convert("c", "Users_v0", 1, converted) == 0
    assert other.ds_convert("c", "Users_v0", 1, []) == 0
    assert store.ds_version_counts("c", "Users_v0") == {0: 1, 1: 4, 2: 1}
    store.ds_delete("c", "Users_v0", "g")
    # Back to v0 (an abandoned migration rolls rows back), and only where read.
    back = [(k, v, t, json.dumps({"name": json.loads(t)["first"]}))
            for k, v, t in store.ds_rows_not_at("c", "Users_v0", 0, None, 100)]
    assert store.ds_convert("c", "Users_v0", 0, back) == 4
    assert store.ds_version_counts("c", "Users_v0") == {0: 5}
    assert store.ds_count("c", "Users_v0") == 5


# Few keys, values and versions, so writes often land between a read and its convert.
ds_writes = st.lists(
    st.tuples(st.sampled_from("abc"), st.integers(0, 2), st.integers(0, 1))
    | st.sampled_from("abc"),  # a key alone: delete it
    max_size=3)
ds_rounds = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from([None, None, "a"]), st.integers(1, 3),
              ds_writes, st.booleans(), st.booleans()),
    min_size=1, max_size=8,
)


def _converted(version: int, value: Any) -> Any:
    return {"from": version, "was": value}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=ds_rounds)
def test_any_interleaving_of_writes_and_conversions_loses_no_row_nor_converts_one_twice(
        store: Store, other: Store, rounds: list[tuple[Any, ...]]) -> None:
    """A converter on one instance reads a batch of rows not at its target; writes from
    another instance (sets in any version, deletes) land before it converts the batch,
    now or rounds later. The storage always holds exactly what a model says: a converted
    row is the conversion of the row as it was read, a row written since its read stays
    as written, and none is lost, gained or converted twice."""
    canvas = f"m{time.monotonic_ns()}"
    model: dict[str, tuple[int, Any]] = {}
    pending: list[tuple[int, list[tuple[str, int, str]]]] = []

    def convert(target: int, rows: list[tuple[str, int, str]]) -> None:
        batch = [(k, v, text, json.dumps(_converted(v, json.loads(text))))
                 for k, v, text in rows]
        expected = 0
        for k, v, text in rows:
            if model.get(k) == (v, json.loads(text)):
                model[k] = (target, _converted(v, json.loads(text)))
                expected += 1
        assert other.ds_convert(canvas, "T_v0", target, batch) == expected

    for target, after, limit, writes, now, older in rounds:
        rows = other.ds_rows_not_at(canvas, "T_v0", target, after, limit)
        assert [(k, v) for k, v, _ in rows] == sorted(
            (k, v) for k, (v, _) in model.items()
            if v != target and (after is None or k > after))[:limit]
        pending.append((target, rows))
        for write in writes:
            if isinstance(write, str):
                store.ds_delete(canvas, "T_v0", write)
                model.pop(write, None)
            else:
                key, version, n = write
                # The same value in two versions: both the version and the value count.
                store.ds_set(canvas, "T_v0", key, json.dumps({"n": n}), version)
                model[key] = (version, {"n": n})
        if now:
            convert(*pending.pop())
        if older and pending:
            convert(*pending.pop(0))
        stored = {k: (v, json.loads(t)) for k, v, t in store.ds_items(canvas, "T_v0")}
        assert stored == model
    counts: dict[int, int] = {}
    for v, _ in model.values():
        counts[v] = counts.get(v, 0) + 1
    assert other.ds_version_counts(canvas, "T_v0") == counts


# ------------------------------------------------------------- migrations


def test_migration_state_round_trips_and_is_shared(store: Store, other: Store) -> None:
    assert store.migration_state("c", "Users_v0") is None
    state = {"name": "Users", "storage": "Users_v0", "target": 1, "state": "converting",
             "waiting_until": None, "unnamed_since": {"0": 1765000000.5}, "done": 10,
             "left": 90, "rate": 1234.5, "failures": [
                 {"key": "zoë", "version": 0, "kind": "error", "reason": "boom 🌙"}],
             "failed": 1, "holder": "node-a", "updated_at": 1765000001.25}
    store.set_migration_state("c", "Users_v0", state)
    assert other.migration_state("c", "Users_v0") == state
    # A record without a lease is free to claim, and claiming leaves the record alone.
    assert other.claim_migration("c", "Users_v0", "node-b", time.time(), 30)
    assert store.migration_state("c", "Users_v0") == state
    assert other.migration_state("c", "Other_v0") is None
    assert other.migration_state("elsewhere", "Users_v0") is None
    other.set_migration_state("c", "Users_v0", {"state": "done", "target": None})
    assert store.migration_state("c", "Users_v0") == {"state": "done", "target": None}
    store.set_migration_state("c", "Users_v0", None)
    assert other.migration_state("c", "Users_v0") is None
    store.set_migration_state("c", "Other_v0", None)  # removing none is fine
    assert other.migration_state("c", "Other_v0") is None


def test_a_migration_lease_is_held_by_one_holder_until_it_expires(
        store: Store, other: Store) -> None:
    now = time.time()
    assert store.claim_migration("c", "Users_v0", "a", now, 30)
    assert not other.claim_migration("c", "Users_v0", "b", now + 10, 30)
    assert store.claim_migration("c", "Users_v0", "a", now + 20, 30)  # renewed to now + 50
    assert not other.claim_migration("c", "Users_v0", "b", now + 40, 30)
    # Each storage has its own lease.
    assert other.claim_migration("c", "Other_v0", "b", now + 40, 30)
    assert other.claim_migration("elsewhere", "Users_v0", "b", now + 40, 30)
    # The state is written apart from the lease: neither disturbs the other.
    store.set_migration_state("c", "Users_v0", {"state": "converting"})
    assert not other.claim_migration("c", "Users_v0", "b", now + 45, 30)
    # a stopped renewing (it died): once its lease runs out b takes over.
    assert other.claim_migration("c", "Users_v0", "b", now + 50, 30)
    assert not store.claim_migration("c", "Users_v0", "a", now + 55, 30)
    assert store.migration_state("c", "Users_v0") == {"state": "converting"}
    store.set_migration_state("c", "Users_v0", None)
    assert not store.claim_migration("c", "Users_v0", "a", now + 60, 30)


def test_a_migration_lease_is_won_once_by_racing_instances(store: Store, other: Store) -> None:
    now = time.time()
    barrier = threading.Barrier(6)

    def claim(who: tuple[int, Store]) -> bool:
        barrier.wait()
        return who[1].claim_migration("c", "Users_v0", f"holder{who[0]}", now, 30)

    with ThreadPoolExecutor(6) as pool:
        won = list(pool.map(claim, enumerate([store, other] * 3)))
    assert won.count(True) == 1
    winner = won.index(True)
    for i in range(6):
        assert store.claim_migration("c", "Users_v0", f"holder{i}", now + 1, 30) == (
            i == winner)


# ----------------------------------------------------------------- queues


def test_claims_are_exclusive_across_instances(store: Store, other: Store) -> None:
    ids = {store.enqueue("c", "jobs", json.dumps({"n": i})) for i in range(60)}
    now = time.time() + 1
    assert other.has_due_events(now)
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(s: Store) -> None:
        while batch := s.claim_events(now, 3):
            with lock:
                claimed.extend(e.event_id for e in batch)

    threads = [threading.Thread(target=drain, args=(s,)) for s in (store, other, store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # every event claimed exactly once
    assert not store.has_due_events(now)
    for event_id in claimed:
        other.finish_event(event_id)
    assert store.claim_events(now + 3600, 100) == []


def test_claims_come_oldest_first(store: Store) -> None:
    now = time.time()
    first, second, _, fourth = (store.enqueue("c", "jobs", str(i)) for i in range(4))
    (claimed,) = store.claim_events(now + 1, 1)
    assert claimed.event_id == first
    store.retry_event(fourth, "again", now - 100, dead=False)  # now the oldest by far
    assert [e.event_id for e in store.claim_events(now + 1, 2)] == [fourth, second]


def test_an_expired_lease_is_claimed_again(store: Store, other: Store) -> None:
    now = time.time()
    event_id = store.enqueue("c", "jobs", '{"n": 1}')
    (first,) = store.claim_events(now + 1, 10, lease_seconds=30)
    assert first.event_id == event_id and first.payload_json == '{"n": 1}'
    assert other.claim_events(now + 20, 10) == [] and not other.has_due_events(now + 20)
    # The first claimer died: once its lease runs out another takes the event over.
    assert other.has_due_events(now + 31)
    (again,) = other.claim_events(now + 31, 10, lease_seconds=30)
    assert again.event_id == event_id and again.attempts == 0
    assert store.claim_events(now + 40, 10) == []


def test_failed_events_retry_later_and_die_at_last(store: Store, other: Store) -> None:
    now = time.time()
    event_id = store.enqueue("c", "jobs", '{"n": 1}')
    (claimed,) = store.claim_events(now + 1, 10)
    store.retry_event(claimed.event_id, "boom", now + 60, dead=False)
    assert not other.has_due_events(now + 1) and other.has_due_events(now + 61)
    assert other.claim_events(now + 30, 10) == []
    (again,) = other.claim_events(now + 61, 10)
    assert (again.attempts, again.last_error) == (1, "boom")
    other.retry_event(event_id, "boom again", now + 120, dead=True)
    assert store.claim_events(now + 10_000, 10) == []
    (dead,) = store.dead_letters("c")
    assert (dead.event_id, dead.attempts, dead.last_error) == (event_id, 2, "boom again")
    assert store.dead_letters("elsewhere") == []


# ------------------------------------------------------------------ crons


def test_a_cron_tick_is_claimed_once_across_instances(store: Store, other: Store) -> None:
    now = time.time()
    barrier = threading.Barrier(6)

    def claim(s: Store) -> bool:
        barrier.wait()
        return s.claim_cron("c", 7, now, 60)

    with ThreadPoolExecutor(6) as pool:
        won = list(pool.map(claim, [store, other] * 3))
    assert won.count(True) == 1
    assert store.cron_state("c", 7) == (pytest.approx(now), False)
    assert not other.claim_cron("c", 7, now + 30, 60)
    assert other.claim_cron("c", 7, now + 60, 60)
    assert not store.claim_cron("c", 7, now + 60, 60)
    store.set_cron_state("c", 7, now + 60, paused=True)
    assert not other.claim_cron("c", 7, now + 1000, 60)
    assert other.cron_state("c", 7) == (pytest.approx(now + 60), True)
    assert store.cron_state("c", 8) == (None, False)


CLAIM_IN_A_PROCESS = """
import sys
from runtime.store import open_store
store = open_store(sys.argv[1])
print(store.claim_migration("c", "Users_v0", sys.argv[2], float(sys.argv[3]), 30))
store.close()
"""


def test_a_migration_lease_is_won_once_by_racing_processes(backend: Backend,
                                                           store: Store) -> None:
    now = time.time()

    def claimers(holders: list[str], at: float) -> list[bool]:
        procs = [subprocess.Popen([sys.executable, "-c", CLAIM_IN_A_PROCESS, backend.spec,
                                   holder, repr(at)], stdout=subprocess.PIPE, text=True)
                 for holder in holders]
        outs = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        return [out == "True" for out in outs]

    won = claimers([f"p{i}" for i in range(4)], now)
    assert won.count(True) == 1
    winner = f"p{won.index(True)}"
    # The holder renews from another process of its own; the others still cannot claim.
    assert claimers([winner, "p9"], now + 20) == [True, False]
    assert not store.claim_migration("c", "Users_v0", "here", now + 49, 30)
    assert claimers(["p9"], now + 50) == [True]

# ---------------------------------------------------------- notifications


def test_subscribers_hear_of_commits_from_other_instances(
        backend: Backend, store: Store, other: Store) -> None:
    heard: list[tuple[str, int]] = []
    other.subscribe(lambda canvas, seq: heard.append((canvas, seq)))
    store.commit_ops("c", "me", "[]", {1: "x"})
    store.commit_ops("c", "me", "[]", {1: "y"})
    with pytest.raises(StaleCanvas):
        store.commit_ops("c", "me", "[]", {1: "z"}, base_seq=0)
    if backend.kind == "sqlite":
        # Documented: one SQLite file is one node; there is no one else to tell.
        time.sleep(0.2)
        assert heard == []
        return
    assert eventually(lambda: len(heard) >= 2)
    time.sleep(0.2)  # a refused commit notifies no one
    assert heard == [("c", 1), ("c", 2)]


# ------------------------------------------------------- PostgreSQL alone


def test_postgres_a_lost_server_is_reported_and_reconnected_by_itself(
        pg_backend: Backend) -> None:
    cluster = pg_backend.cluster
    assert cluster is not None
    store = pg_backend.open()
    store.create_canvas("c", "hash")
    listener = pg_backend.open()
    heard: list[tuple[str, int]] = []
    listener.subscribe(lambda canvas, seq: heard.append((canvas, seq)))
    store.commit_ops("c", "me", "[]", {1: "x"})
    assert eventually(lambda: heard == [("c", 1)])
    calls: list[Callable[[], object]] = [
        lambda: store.commit_ops("c", "me", "[]", {1: "y"}),
        lambda: store.submit_ops("c", "me", "[]", {1: "y"}).result(),
        store.canvases, lambda: store.canvas_seq("c"), lambda: store.snapshot("c"),
        lambda: store.ops_since("c", 0), lambda: store.ds_get("c", "d", "k"),
        lambda: store.ds_set("c", "d", "k", "1", 0), lambda: store.enqueue("c", "q", "{}"),
        lambda: store.ds_rows_not_at("c", "d", 1, None, 10),
        lambda: store.ds_convert("c", "d", 1, [("k", 0, "1", "2")]),
        lambda: store.claim_migration("c", "d", "me", time.time(), 30),
        lambda: store.set_migration_state("c", "d", {"state": "idle"}),
        lambda: store.claim_events(time.time(), 5), lambda: store.has_due_events(time.time()),
        lambda: store.claim_cron("c", 1, time.time(), 60), lambda: store.traces("c", 1),
        lambda: store.add_token("c", "h2"),
    ]
    cluster.block()
    try:
        for call in calls:
            with pytest.raises(StoreUnavailable) as lost:
                call()
            message = str(lost.value)
            assert f"127.0.0.1:{cluster.port}" in message and "unreachable" in message
            assert "nothing was changed" in message
            assert not store.available()
        store.buffer_trace(trace(1, 5, time.time()), keep_last=10, keep_seconds=3600)
        assert store.write_traces() == 0  # logged, never raised: traces are not acks
    finally:
        cluster.unblock()
    assert store.canvas_seq("c") == 1
    assert store.available()
    # The listener was cut too: it says "catch up" (what was committed meanwhile is in
    # the ops log), then hears commits again.
    assert eventually(lambda: ("", -1) in heard), heard
    assert store.commit_ops("c", "me", "[]", {1: "z"}) == 2
    assert eventually(lambda: ("c", 2) in heard), heard
    assert heard[0] == ("c", 1) and heard.count(("", -1)) == 1
    assert listener.available()


def test_postgres_a_restart_between_calls_goes_unnoticed(pg_backend: Backend) -> None:
    cluster = pg_backend.cluster
    assert cluster is not None
    store = pg_backend.open()
    store.create_canvas("c", "hash")
    cluster.restart()  # the pooled connection is dead now
    assert store.commit_ops("c", "me", "[]", {1: "x"}) == 1
    assert store.available()


def test_postgres_nodes_opening_a_new_database_at_once_migrate_it_once(
        pg_cluster: PgCluster) -> None:
    url = pg_cluster.create_database()
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(url), range(4)))
    try:
        stores[0].create_canvas("c", "hash")
        assert [c.name for c in stores[3].canvases()] == ["c"]
    finally:
        for s in stores:
            s.close()
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM gloam_schema")]
    assert sorted(names) == [name for name, _ in pg_schema.MIGRATIONS]  # each once


def test_postgres_rows_stored_before_per_row_versions_read_as_their_storage_version(
        pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_cluster.create_database()
    with monkeypatch.context() as before:  # a database from before per-row versions
        before.setattr(pg_schema, "MIGRATIONS", [
            m for m in pg_schema.MIGRATIONS if m[0] != "m003_datastore_versions"])
        with psycopg.connect(url, autocommit=True) as conn:
            pg_schema.migrate(conn)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO datastore_rows (canvas, datastore, key, value) "
                    "VALUES (%s, %s, %s, %s::jsonb)",
                    [("c", "Users_v0", "ann", '{"name": "Ann"}'), ("c", "Users_v0", "bob", "2"),
                     ("c", "Users_v3", "ann", "3"), ("d", "My_vault_v12", "k", "12"),
                     ("c", "Odd", "k", "0")])
    store = PostgresStore(url)
    try:
        assert store.ds_items("c", "Users_v0") == [("ann", 0, '{"name": "Ann"}'),
                                                   ("bob", 0, "2")]
        assert store.ds_get("c", "Users_v3", "ann") == (3, "3")
        assert store.ds_get("d", "My_vault_v12", "k") == (12, "12")
        assert store.ds_get("c", "Odd", "k") == (0, "0")
        assert store.ds_version_counts("c", "Users_v3") == {3: 1}
        assert store.ds_rows_not_at("c", "Users_v3", 4, None, 10) == [("ann", 3, "3")]
        store.ds_set("c", "Users_v0", "cy", "5", 1)
        assert store.ds_version_counts("c", "Users_v0") == {0: 2, 1: 1}
        assert store.claim_migration("c", "Users_v0", "me", time.time(), 30)
    finally:
        store.close()

def test_postgres_describes_itself_without_the_password(pg_cluster: PgCluster) -> None:
    url = pg_cluster.create_database()
    with_password = url.replace("gloam@", "gloam:s3cret@")
    store = PostgresStore(with_password)  # trust authentication ignores the password
    try:
        assert "s3cret" not in store.describe()
        assert store.describe() == "PostgreSQL " + url.removeprefix("postgresql://")
    finally:
        store.close()


def test_postgres_an_unreachable_database_says_so_at_open(pg_cluster: PgCluster) -> None:
    with pytest.raises(StoreUnavailable, match=r"does not exist.*createdb"):
        PostgresStore(pg_cluster.url("no_such_database"))


def test_postgres_values_it_cannot_hold_are_refused_clearly(pg_backend: Backend) -> None:
    store = pg_backend.open()
    with pytest.raises(StoreError, match="U\\+0000"):
        store.ds_set("c", "d", "k", json.dumps("nul \x00 inside"), 0)
    with pytest.raises(StoreError, match="refused"):
        store.ds_set("c", "d", "k", "not json", 0)
    with pytest.raises(StoreError, match="U\\+0000"):
        store.ds_set("c", "d", "nul \x00 key", "1", 0)
    assert store.ds_count("c", "d") == 0 and store.available()
