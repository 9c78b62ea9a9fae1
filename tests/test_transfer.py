"""`gloam canvas export --rows` and `gloam canvas import` carry datastore rows with the
version each was written in, on both stores; an export from before per-row versions
still imports. (The command line itself, with a running daemon, is in
`tests/test_runtime_daemon.py`.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import PgCluster

from runtime.config import RuntimeConfig
from runtime.control.deploy import first_batch
from runtime.control.transfer import TransferError, export_canvas, import_canvas
from runtime.store import open_store
from runtime.tokens import create_canvas
from shared_ast import build as b
from shared_ast import wire
from shared_ast.type_ast import TRecord, TRecordField, TString
from shared_ast.values import FrozenDict

STRING = TString()


def row(**fields: str) -> str:
    return wire.json_text(wire.encode_value(FrozenDict(fields)))


@pytest.fixture(params=["sqlite", "postgres"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> RuntimeConfig:
    if request.param == "sqlite":
        return RuntimeConfig(data_dir=tmp_path / "data", demo=False)
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return RuntimeConfig(data_dir=tmp_path / "data", demo=False,
                         store_url=cluster.create_database())


@pytest.fixture
def demo(config: RuntimeConfig) -> Iterator[RuntimeConfig]:
    """A canvas `demo`: Users_v0 and Users_v1 (a migration: rows shared in storage
    Users_v0, written in either version) and Notes_v2 (a datastore of its own)."""
    users0 = b.datastore("Users", TRecord((TRecordField("name", STRING),)))
    users1, forward, back = b.datastore_version(
        users0, TRecord((TRecordField("first", STRING), TRecordField("last", STRING))),
        b.record(first=b.field(b.var("row"), "name"), last=b.str_("")),
        b.record(name=b.field(b.var("row"), "first")))
    notes = b.datastore("Notes", STRING, version=2)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(config.store_spec)
    try:
        create_canvas(store, config.data_dir, "demo",
                      first_batch("me", [users0, users1, forward, back, notes]))
        store.ds_set("demo", "Users_v0", "ann", row(name="Ann"), 0)
        store.ds_set("demo", "Users_v0", "bob", row(first="Bob", last="B"), 1)
        store.ds_set("demo", "Users_v0", "zoë", row(name="Zoë"), 0)
        store.ds_set("demo", "Notes_v2", "n1", wire.json_text(wire.encode_value("hi")), 2)
    finally:
        store.close()
    yield config


def stored(config: RuntimeConfig, canvas: str, storage: str) -> list[tuple[str, int, Any]]:
    store = open_store(config.store_spec)
    try:
        return [(k, v, json.loads(text)) for k, v, text in store.ds_items(canvas, storage)]
    finally:
        store.close()


def canvases(config: RuntimeConfig) -> set[str]:
    store = open_store(config.store_spec)
    try:
        return {c.name for c in store.canvases()}
    finally:
        store.close()


def test_rows_travel_with_the_version_each_was_written_in(demo: RuntimeConfig) -> None:
    text = export_canvas(demo, "demo", with_rows=True)
    body = json.loads(text)["export"]
    # One entry per storage: Users_v1 keeps its rows in Users_v0's storage.
    assert sorted(body["datastore_rows"]) == ["Notes_v2", "Users_v0"]
    assert body["datastore_versions"] == {"Users_v0": {"ann": 0, "bob": 1, "zoë": 0},
                                          "Notes_v2": {"n1": 2}}
    kinds = sorted(t["kind"] for t in body["toplevels"])
    assert kinds == ["datastore", "datastore", "datastore", "function", "function"]
    migrating = [t for t in body["toplevels"] if t.get("migration")]
    assert [(t["name"], t["version"], t["migration"]["table"]) for t in migrating] == [
        ("Users", 1, 0)]
    out = import_canvas(demo, text, rename="copy")
    assert "imported 5 toplevel(s) into canvas 'copy'" in out
    for storage in ("Users_v0", "Notes_v2"):
        assert stored(demo, "copy", storage) == stored(demo, "demo", storage)
    assert [(k, v) for k, v, _ in stored(demo, "copy", "Users_v0")] == [
        ("ann", 0), ("bob", 1), ("zoë", 0)]


def test_an_export_from_before_row_versions_imports_in_each_storages_version(
        demo: RuntimeConfig) -> None:
    doc = json.loads(export_canvas(demo, "demo", with_rows=True))
    del doc["export"]["datastore_versions"]  # as Gloam wrote exports before issue 13
    doc["export"]["datastore_rows"]["Users_v0"].pop("bob")  # a v1 row could not exist then
    import_canvas(demo, json.dumps(doc), rename="old")
    assert stored(demo, "old", "Users_v0") == [
        ("ann", 0, json.loads(row(name="Ann"))), ("zoë", 0, json.loads(row(name="Zoë")))]
    assert [(k, v) for k, v, _ in stored(demo, "old", "Notes_v2")] == [("n1", 2)]


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e["datastore_versions"]["Users_v0"].update(bob="1"),
     r"datastore_versions.Users_v0\['bob'\] must be the version .* not '1'"),
    (lambda e: e["datastore_versions"]["Users_v0"].update(bob=-1),
     r"a whole number from 0\), not -1"),
    (lambda e: e["datastore_versions"]["Users_v0"].update(bob=True), r"not True"),
    (lambda e: e["datastore_versions"]["Users_v0"].update(gone=0),
     r"does not hold: \['gone'\]"),
    (lambda e: e["datastore_rows"]["Users_v0"].update(bob={"kind": "nope"}),
     r"datastore_rows.Users_v0\['bob'\] does not decode"),
    (lambda e: e.update(datastore_rows={"Users_v0": [1]}),
     r"datastore_rows must be an object of objects"),
    (lambda e: e.update(datastore_versions=[]),
     r"datastore_versions must be an object of objects"),
])
def test_bad_rows_are_named_and_nothing_is_imported(
        demo: RuntimeConfig, change: Any, message: str) -> None:
    doc = json.loads(export_canvas(demo, "demo", with_rows=True))
    change(doc["export"])
    with pytest.raises(TransferError, match=message):
        import_canvas(demo, json.dumps(doc), rename="copy")
    assert canvases(demo) == {"demo"}
