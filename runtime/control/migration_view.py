"""What the editor sees of a datastore migration: the preview on stored rows, the progress,
and explicit row deletion (the editor API messages `get_migration`, `get_migrations`,
`delete_row`, and the pushed `migrations`; docs/protocol.md has each).

The preview (`preview`) converts the first rows of a datastore's storage as the viewed
version reads them, lists every row among the first PREVIEW_SCAN whose conversion fails
(with the reason), and counts the rows a migration loses (rollback(rollforward(row)) !=
row) over the stored rows and over rows generated from the schema
(`shared_ast.migration.sample_rows`). It runs in a thread, each conversion within the
canvas's run limits and the whole within PREVIEW_SECONDS; `scanned` says how far it got.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from runtime.control.migrations import MigrationRunner, migration_states, public_state
from runtime.services import RuntimeServices
from runtime.store.protocol import Store
from shared_ast import wire
from shared_ast.limits import Budget
from shared_ast.migration import (
    ERROR,
    ConversionFailed,
    convert,
    loses_data,
    sample_rows,
    storage_name,
)
from shared_ast.program import Program
from shared_ast.toplevels import Datastore

log = logging.getLogger("gloam.migrations")

#: Rows the preview scans for failures and data loss, and how long it may take in all.
PREVIEW_SCAN = 10_000
PREVIEW_SECONDS = 10.0
#: Rows generated from the schema to look for data loss, and lossy keys listed.
GENERATED_ROWS = 200
LOSS_KEYS = 20
#: No row is ever at this version: `ds_rows_not_at(NO_VERSION, ...)` reads every row.
NO_VERSION = -1
#: Pushed `migrations` messages per canvas: at most one per this many seconds.
PUSH_SECONDS = 0.5


class MigrationRequestError(Exception):
    """A message the runtime cannot act on; the text goes back as an error reply."""


def preview(store: Store, canvas: str, program: Program, ds: Datastore, limit: int,
            budget: Callable[[], Budget], *, seconds: float = PREVIEW_SECONDS
            ) -> dict[str, Any]:
    """The body of a `migration` message for datastore version `ds` (no type or id)."""
    storage = storage_name(ds)
    counts = store.ds_version_counts(canvas, storage)
    rows = store.ds_rows_not_at(canvas, storage, NO_VERSION, None, PREVIEW_SCAN)
    deadline = time.monotonic() + seconds
    m = ds.migration
    shown: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    stored = {"checked": 0, "lost": 0, "failed": 0, "keys": []}
    scanned = 0
    for key, version, text in rows:
        if scanned and time.monotonic() > deadline:
            break
        scanned += 1
        try:
            value = wire.decode_value(wire.json_load(text))
        except (wire.WireError, ValueError) as e:
            failures.append({"key": key, "version": version, "kind": ERROR,
                             "reason": f"the stored row does not decode: {e}"})
            continue
        read, failed = _read(program, ds, value, version, ds.version, budget)
        if failed is not None:
            failures.append({"key": key, "version": version, **failed})
        if len(shown) < limit:
            shown.append({"key": key, "version": version, "value": wire.encode_value(value),
                          "read": None if failed is not None else wire.encode_value(read),
                          "failure": failed})
        if m is not None:
            older, older_failed = _read(program, ds, value, version, m.from_version, budget)
            if older_failed is None:
                _count_loss(program, ds, older, budget, stored, key)
    generated: dict[str, Any] = {"checked": 0, "lost": 0, "failed": 0, "example": None}
    if m is not None:
        source = program.datastore(ds.name, m.from_version)
        samples = sample_rows(source.schema, program, GENERATED_ROWS) if source else []
        for row in samples:
            if time.monotonic() > deadline:
                break
            _count_loss(program, ds, row, budget, generated, None)
    return {
        "datastore": ds.qualified, "storage": storage,
        "versions": {str(v): n for v, n in sorted(counts.items()) if n},
        "rows": shown, "failures": failures, "scanned": scanned,
        "total": sum(counts.values()),
        "loss": {"stored": stored, "generated": generated} if m is not None else None,
        "progress": None,
    }


def _read(program: Program, ds: Datastore, value: Any, version: int, target: int,
          budget: Callable[[], Budget]) -> tuple[Any, dict[str, str] | None]:
    if version == target:
        return value, None
    try:
        return convert(program, ds.name, value, version, target, budget()), None
    except ConversionFailed as failed:
        return None, {"kind": failed.kind, "reason": failed.reason}


def _count_loss(program: Program, ds: Datastore, row: Any, budget: Callable[[], Budget],
                into: dict[str, Any], key: str | None) -> None:
    try:
        lost = loses_data(program, ds, row, budget())
    except ConversionFailed:
        into["failed"] += 1
        return
    into["checked"] += 1
    if not lost:
        return
    into["lost"] += 1
    if key is not None and len(into["keys"]) < LOSS_KEYS:
        into["keys"].append(key)
    if key is None and into["example"] is None:
        into["example"] = wire.encode_value(row)


class _Session(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


class MigrationApi:
    """The editor API's migration messages, and the pushes of progress."""

    def __init__(self, services: RuntimeServices, runner: MigrationRunner | None,
                 sessions: Callable[[str], Iterable[_Session]]) -> None:
        self.services = services
        self.runner = runner
        self.sessions = sessions
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        self._last_push: dict[str, float] = {}
        self._pending: set[str] = set()

    # -------------------------------------------------------------- pushes

    def changed_threadsafe(self, canvas: str) -> None:
        """The converter's thread says a state of `canvas` changed."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.changed, canvas)

    def changed(self, canvas: str) -> None:
        if canvas in self._pending or self.loop is None:
            return
        self._pending.add(canvas)
        delay = max(0.0, self._last_push.get(canvas, 0.0) + PUSH_SECONDS - time.monotonic())
        self.loop.call_later(delay, self._push, canvas)

    def _push(self, canvas: str) -> None:
        self._pending.discard(canvas)
        self._last_push[canvas] = time.monotonic()
        if self.runner is None:
            return
        states = self.runner.states(canvas)
        for session in self.sessions(canvas):
            session.send({"type": "migrations", "migrations": states})

    # ------------------------------------------------------------ messages

    async def handle(self, canvas: str, author: str, msg: dict[str, Any]) -> dict[str, Any]:
        """The reply to a `get_migration`, `get_migrations` or `delete_row` message;
        raises MigrationRequestError for one it cannot act on."""
        state = self.services.live.get(canvas)
        assert state is not None
        program = state.program
        store = self.services.store
        match msg.get("type"):
            case "get_migrations":
                found = await asyncio.to_thread(migration_states, store, canvas, program)
                return {"type": "migrations", "id": msg.get("id"), "migrations": found}
            case "get_migration":
                return await self._get_migration(canvas, program, msg)
            case "delete_row":
                return await self._delete_row(canvas, author, program, msg)
        raise MigrationRequestError(f"not a migration message: {msg.get('type')!r}")

    async def _get_migration(self, canvas: str, program: Program,
                             msg: dict[str, Any]) -> dict[str, Any]:
        tlid = msg.get("tlid")
        state = self.services.live.get(canvas)
        assert state is not None
        ds = state.toplevels.get(tlid) if isinstance(tlid, int) else None
        if not isinstance(ds, Datastore):
            raise MigrationRequestError(
                f"get_migration needs \"tlid\", the id of a datastore version on this canvas; "
                f"{tlid!r} is not one")
        limit = msg.get("limit", 20)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise MigrationRequestError('"limit" is a whole number from 1 to 1000 (the rows '
                                        "shown)")
        store = self.services.store
        services = self.services

        def run() -> dict[str, Any]:
            body = preview(store, canvas, program, ds, limit, lambda: services.budget(canvas))
            progress = store.migration_state(canvas, storage_name(ds))
            body["progress"] = public_state(progress) if progress is not None else None
            return body

        body = await asyncio.to_thread(run)
        return {"type": "migration", "id": msg.get("id"), "tlid": tlid, **body}

    async def _delete_row(self, canvas: str, author: str, program: Program,
                          msg: dict[str, Any]) -> dict[str, Any]:
        name, key = msg.get("datastore"), msg.get("key")
        ds = program.datastore_variables().get(name) if isinstance(name, str) else None
        if ds is None:
            known = ", ".join(sorted(program.datastore_variables())) or "none"
            raise MigrationRequestError(
                f"delete_row needs \"datastore\", a datastore version of this canvas as code "
                f"names it (Users_v0); {name!r} is not one (there are: {known})")
        if not isinstance(key, str):
            raise MigrationRequestError('delete_row needs "key", the row\'s key (a string)')
        store = self.services.store
        storage = storage_name(ds)
        row = await asyncio.to_thread(store.ds_get, canvas, storage, key)
        if row is None:
            raise MigrationRequestError(f"{name} has no row with key {key!r}; nothing was "
                                        "deleted")
        await asyncio.to_thread(store.ds_delete, canvas, storage, key)
        log.info("row %r of %s (stored in v%d) on canvas %s deleted by %s from the editor",
                 key, name, row[0], canvas, author)
        if self.runner is not None:
            self.runner.wake(canvas, storage)
        return {"type": "row_deleted", "id": msg.get("id"), "datastore": name, "key": key}


__all__ = ["MigrationApi", "MigrationRequestError", "preview"]
