"""`gloam canvas export` and `gloam canvas import`: a user is never locked in.

An export is one JSON document in the wire format:

    {"schema": 1, "export": {"canvas": "demo", "toplevels": [...],
                             "datastore_rows": {"Notes": {"key": <value>, ...}}}}

`datastore_rows` is there only with `--rows`. Import writes the toplevels
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
from runtime.store.protocol import UnknownCanvas
from runtime.tokens import create_canvas, read_admin_token
from shared_ast import wire
from shared_ast.toplevels import Toplevel


class TransferError(Exception):
    """An export or import that cannot be done; the message says why and what to do."""


def export_canvas(config: RuntimeConfig, name: str, with_rows: bool = False) -> str:
    if not config.db_path.exists():
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
            for ds in _datastore_names(snap.toplevels.values()):
                rows[ds] = {k: wire.json_load(v) for k, v in store.ds_items(name, ds)}
            payload["datastore_rows"] = rows
    finally:
        store.close()
    return wire.json_text({"schema": wire.SCHEMA_VERSION, "export": payload}, indent=2,
                          ensure_ascii=False)


def _datastore_names(texts: Any) -> list[str]:
    names = []
    for text in texts:
        data = wire.json_load(text)
        if data.get("kind") == "datastore":
            names.append(f"{data['name']}_v{data['version']}")
    return names


def parse_export(text: str) -> tuple[str, list[Toplevel], dict[str, dict[str, Any]]]:
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
    rows = body.get("datastore_rows") or {}
    if not isinstance(rows, dict):
        raise TransferError("$.export.datastore_rows must be an object")
    return body["canvas"], toplevels, rows


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
        for ds, items in rows.items():
            for key, value in items.items():
                wire.decode_value(value)  # refuse rows that would not load
                store.ds_set(name, ds, key, wire.json_text(value))
    except wire.WireError as e:
        raise TransferError(f"a datastore row does not decode: {e}") from None
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
