"""`gloam canvas export` and `gloam canvas import`: a user is never locked in.

An export is one JSON document in the wire format:

    {"schema": 1, "export": {"canvas": "demo", "toplevels": [...],
                             "datastore_rows": {"Notes_v0": {"key": <value>, ...}},
                             "datastore_versions": {"Notes_v0": {"key": 0, ...}}}}

`datastore_rows` and `datastore_versions` are there only with `--rows`. Rows are
keyed by storage name (`shared_ast.migration.storage_name`: the versions of a
migration chain share one), and `datastore_versions` gives the version each row
was written in. An export from before per-row versions has no
`datastore_versions`: its rows take their storage's own version (`_vN`), the
version they were written in then. Import writes the toplevels
through the store as one op batch (`create_toplevel` for each), exactly as an
editor would, into a new canvas (or the one named with `--as`, which must not
hold toplevels with the same ids); a running daemon is told to reload that
canvas, so it serves the imported code at once.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from runtime.config import RuntimeConfig, canvas_name_problem, read_state
from runtime.control.deploy import first_batch
from runtime.store import open_store
from runtime.store.protocol import UnknownCanvas, storage_version
from runtime.tokens import create_canvas, read_admin_token
from shared_ast import wire
from shared_ast.migration import storage_name
from shared_ast.toplevels import Datastore, Toplevel

#: Rows of an export: storage name → row key → (version, value as wire JSON).
Rows = dict[str, dict[str, tuple[int, Any]]]


class TransferError(Exception):
    """An export or import that cannot be done; the message says why and what to do."""


def export_canvas(config: RuntimeConfig, name: str, with_rows: bool = False) -> str:
    if config.store_url is None and not config.db_path.exists():
        raise TransferError(f"there is no Gloam data in {config.data_dir}; nothing to export")
    store = open_store(config.store_spec)
    try:
        try:
            snap = store.snapshot(name)
        except UnknownCanvas:
            names = ", ".join(c.name for c in store.canvases()) or "none"
            raise TransferError(f"there is no canvas named {name!r} (canvases: {names})") from None
        payload: dict[str, Any] = {
            "canvas": name,
            "toplevels": [wire.json_load(text) for text in snap.toplevels.values()],
        }
        if with_rows:
            rows: dict[str, dict[str, Any]] = {}
            versions: dict[str, dict[str, int]] = {}
            for storage in _storage_names(snap.toplevels.values()):
                items = store.ds_items(name, storage)
                rows[storage] = {k: wire.json_load(text) for k, _, text in items}
                versions[storage] = {k: version for k, version, _ in items}
            payload["datastore_rows"] = rows
            payload["datastore_versions"] = versions
    finally:
        store.close()
    return wire.json_text({"schema": wire.SCHEMA_VERSION, "export": payload}, indent=2,
                          ensure_ascii=False)


def _storage_names(texts: Any) -> list[str]:
    """Where the canvas's datastores keep their rows, each storage once."""
    names = set()
    for text in texts:
        data = wire.json_load(text)
        if data.get("kind") == "datastore":
            tl = wire.decode_toplevel(data)
            if isinstance(tl, Datastore):
                names.add(storage_name(tl))
    return sorted(names)


def parse_export(text: str) -> tuple[str, list[Toplevel], Rows]:
    try:
        doc = wire.parse_json(text)
    except wire.WireError as e:
        raise TransferError(f"the file is not JSON the wire format reads: {e}") from None
    if not isinstance(doc, dict) or doc.get("schema") != wire.SCHEMA_VERSION:
        raise TransferError(
            f"not a Gloam export: expected {{\"schema\": {wire.SCHEMA_VERSION}, \"export\": ...}}"
        )
    body = doc.get("export")
    if not isinstance(body, dict) or not isinstance(body.get("canvas"), str):
        raise TransferError("not a Gloam export: $.export.canvas (the canvas name) is missing")
    raw = body.get("toplevels")
    if not isinstance(raw, list):
        raise TransferError("not a Gloam export: $.export.toplevels must be a list")
    toplevels = []
    for i, item in enumerate(raw):
        try:
            toplevels.append(wire.decode_toplevel(item))
        except wire.WireError as e:
            raise TransferError(f"$.export.toplevels[{i}] does not decode: {e}") from None
    return body["canvas"], toplevels, _parse_rows(body)


def _parse_rows(body: dict[str, Any]) -> Rows:
    """Every row with its version, checked before anything is written: a bad row is
    named, and the import stops before it has written anything."""
    rows = body.get("datastore_rows")
    rows = {} if rows is None else rows
    versions = body.get("datastore_versions")
    versions = {} if versions is None else versions
    for field, found in (("datastore_rows", rows), ("datastore_versions", versions)):
        if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
            raise TransferError(f"$.export.{field} must be an object of objects "
                                "(storage name → row key → ...)")
    parsed: Rows = {}
    for storage, items in rows.items():
        given = versions.get(storage, {})
        parsed[storage] = {}
        for key, value in items.items():
            where = f"$.export.datastore_rows.{storage}[{key!r}]"
            try:
                wire.decode_value(value)
            except wire.WireError as e:
                raise TransferError(f"{where} does not decode: {e}; nothing was "
                                    "imported") from None
            version = given.get(key, storage_version(storage))
            if isinstance(version, bool) or not isinstance(version, int) or version < 0:
                raise TransferError(
                    f"$.export.datastore_versions.{storage}[{key!r}] must be the version "
                    f"the row was written in (a whole number from 0), not {version!r}; "
                    "nothing was imported")
            parsed[storage][key] = (version, value)
    for storage, given in versions.items():
        extra = sorted(set(given) - set(rows.get(storage, {})))
        if extra:
            raise TransferError(
                f"$.export.datastore_versions.{storage} gives versions of rows that "
                f"$.export.datastore_rows.{storage} does not hold: {extra[:5]}; nothing "
                "was imported")
    return parsed


def import_canvas(config: RuntimeConfig, text: str, rename: str | None = None) -> str:
    name, toplevels, rows = parse_export(text)
    name = rename or name
    problem = canvas_name_problem(name)
    if problem is not None:
        raise TransferError(problem + ("" if rename else "; import it under another name "
                                                            "with --as NEW_NAME"))
    store = open_store(config.store_spec)
    token = None
    try:
        existing = {c.name for c in store.canvases()}
        if name not in existing:
            # The canvas, its token and its code in one transaction.
            token = create_canvas(store, config.data_dir, name,
                                  first_batch("gloam-import", toplevels) if toplevels else None)
        else:
            clash = set(store.snapshot(name).toplevels) & {t.tlid for t in toplevels}
            if clash:
                raise TransferError(
                    f"canvas {name!r} already holds toplevels with these ids: "
                    f"{sorted(clash)[:5]}; import under another name with --as NEW_NAME"
                )
            if toplevels:
                batch = first_batch("gloam-import", toplevels)
                store.commit_ops(name, batch.author, batch.ops_json, batch.changed)
        for storage, items in rows.items():
            for key, (version, value) in items.items():
                store.ds_set(name, storage, key, wire.json_text(value), version)
    finally:
        store.close()
    reloaded = tell_daemon(config, name)
    lines = [f"imported {len(toplevels)} toplevel(s) into canvas {name!r}"]
    if token:
        lines.append(f"editor token for {name}: {token}")
    lines.append("the running runtime serves it now" if reloaded else
                 "the runtime is not running; `gloam runtime start` serves it")
    return "\n".join(lines)


def tell_daemon(config: RuntimeConfig, canvas: str) -> bool:
    state = read_state(config.data_dir)
    admin = read_admin_token(config.data_dir)
    if not state or not admin:
        return False
    url = (f"http://{state.get('editor_host')}:{state.get('editor_port')}"
           f"/api/admin/canvas/{canvas}/reload")
    req = urllib.request.Request(url, method="POST",
                                 headers={"Authorization": f"Bearer {admin}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False
