"""The runtime's `Host`: datastores and worker queues for code running on a canvas.

Library functions reach it as `ctx.host` (see `shared_ast.stdlib.host`). Rows
are checked deeply against the datastore's schema before they are written,
and stored in the wire format, so any later version of Gloam can read them.
A datastore is addressed as `Name_vN`, the name code uses for it, and stored
under its chain's storage name (`shared_ast.migration`): each row is written in
the version that wrote it and converted when read through another.
"""

from __future__ import annotations

from typing import Any

from runtime.services import RuntimeServices
from runtime.store.protocol import StoreError
from shared_ast import wire
from shared_ast.limits import Budget
from shared_ast.migration import ConversionFailed, convert, storage_name
from shared_ast.program import Program
from shared_ast.stdlib.registry import LibError
from shared_ast.toplevels import Datastore
from shared_ast.value_types import value_fits
from shared_ast.values import DatastoreRef


def datastore_key(ds: DatastoreRef | Datastore) -> str:
    """The name code uses for a datastore version, `Name_vN`."""
    return f"{ds.name}_v{ds.version}"


class CanvasHost:
    def __init__(self, services: RuntimeServices, canvas: str, program: Program, *,
                 tlid: int | None = None, traffic: bool = False,
                 from_editor: bool = False) -> None:
        self.services = services
        self.canvas = canvas
        self.program = program
        #: The toplevel running, and whether this run is live traffic (a request, a worker
        #: or a cron run) whose flag decisions the editor is shown.
        self.tlid = tlid
        self.traffic = traffic
        #: The request came from the canvas's editor (`Flag::justMe_v0` is true for it).
        self.from_editor = from_editor

    def flag_decided(self, flag_id: int, name: str, took_new: bool) -> None:
        """The evaluator reports each flag it ran; live traffic's decisions are counted."""
        if self.traffic and self.tlid is not None:
            self.services.flags.saw(self.canvas, self.tlid, flag_id, name, took_new)

    def _datastore(self, ds: DatastoreRef) -> Datastore:
        found = self.program.datastore(ds.name, ds.version)
        if found is None:
            raise LibError(f"there is no datastore {datastore_key(ds)} on this canvas")
        return found

    def _read(self, ds: Datastore, key: str, version: int, text: str, budget: Budget) -> Any:
        """A stored row as `ds` reads it: converted when it was written in another version."""
        value = wire.decode_value(wire.json_load(text))
        if version == ds.version:
            return value
        try:
            return convert(self.program, ds.name, value, version, ds.version, budget)
        except ConversionFailed as failed:
            raise LibError(f"the row {key!r} was written through {ds.name}_v{version}, and "
                           f"reading it through {ds.qualified} failed: {failed.reason}. Fix "
                           "the conversion (the datastore's migration view lists such rows) "
                           "or read it through its own version") from None

    def ds_set(self, ds: DatastoreRef, key: str, value: Any) -> None:
        store_ds = self._datastore(ds)
        misfit = value_fits(value, store_ds.schema, self.program, deep=True)
        if misfit is not None:
            raise LibError(f"{datastore_key(ds)} refuses this value: {misfit}")
        try:
            text = wire.value_text(value)
        except ValueError as e:
            raise LibError(f"{datastore_key(ds)} cannot store this value: {e}") from None
        try:
            self.services.store.ds_set(self.canvas, storage_name(store_ds), key, text,
                                       store_ds.version)
        except StoreError as e:
            raise LibError(str(e)) from None

    def ds_get(self, ds: DatastoreRef, key: str) -> Any | None:
        found = self._datastore(ds)
        row = self.services.store.ds_get(self.canvas, storage_name(found), key)
        if row is None:
            return None
        return self._read(found, key, row[0], row[1], self.services.budget(self.canvas))

    def ds_items(self, ds: DatastoreRef) -> list[tuple[str, Any]]:
        found = self._datastore(ds)
        budget = self.services.budget(self.canvas)
        return [(k, self._read(found, k, version, text, budget))
                for k, version, text in self.services.store.ds_items(self.canvas,
                                                                     storage_name(found))]

    def ds_delete(self, ds: DatastoreRef, key: str) -> None:
        found = self._datastore(ds)
        try:
            self.services.store.ds_delete(self.canvas, storage_name(found), key)
        except StoreError as e:
            raise LibError(str(e)) from None

    def ds_count(self, ds: DatastoreRef) -> int:
        found = self._datastore(ds)
        return self.services.store.ds_count(self.canvas, storage_name(found))

    def emit(self, queue: str, value: Any) -> None:
        try:
            text = wire.value_text(value)
            self.services.store.enqueue(self.canvas, queue, text)
        except (ValueError, StoreError) as e:
            raise LibError(f"could not queue the event for {queue!r}: {e}") from None
