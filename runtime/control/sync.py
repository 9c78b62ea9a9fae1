"""Keeping this node in step with deploys made on other nodes of the same database.

With PostgreSQL, several runtime nodes serve the same canvases. A deploy made
on another node reaches this one as a notification from the store
(`Store.subscribe`: `(canvas, seq)`, or `("", -1)` when notifications may have
been missed, e.g. after the database connection came back). Either way this
node catches up the same way, from the ops log:

    under the canvas's deploy lock: every batch after the local seq, in order,
    applied to the control process's live table, swapped into every traffic
    worker, and broadcast to this node's editors.

Catching up by the log, not by the notification's content, makes a missed,
repeated or reordered notification harmless. A canvas created on another node
is loaded whole. The deploy path uses the same `catch_up` when the store says
another node deployed first (`StaleCanvas`), then prepares its batch again.

Locking counts traffic seen on every node: the traces are in the shared
database, so `refresh_usage` merges their counts in every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from runtime.control.usage import Usage
from runtime.store.protocol import Store, StoreError
from runtime.traffic.live import LiveTable, apply_batch, load_canvas

log = logging.getLogger("gloam.sync")

#: How often the counts of traffic on other nodes are merged in, in seconds.
USAGE_REFRESH_SECONDS = 2.0


class NodeSync:
    def __init__(self, store: Store, live: LiveTable, usage: Usage,
                 lock: Callable[[str], asyncio.Lock],
                 fanout: Callable[[dict[str, Any]], Awaitable[None]] | None,
                 broadcast: Callable[[str, int, str, str], None],
                 settings: dict[str, dict[str, Any]] | None = None) -> None:
        self.store = store
        self.live = live
        self.usage = usage
        self.lock = lock
        self.fanout = fanout
        #: broadcast(canvas, seq, author, ops_json) to this node's editors of the canvas.
        self.broadcast = broadcast
        #: canvas → its settings as this node applies them (`RuntimeServices.settings`).
        self.settings = settings if settings is not None else {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wanted: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.store.subscribe(self._notified)
        self._tasks = [asyncio.create_task(self._catch_up_loop(), name="gloam-sync"),
                       asyncio.create_task(self._usage_loop(), name="gloam-usage")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _notified(self, canvas: str, seq: int) -> None:
        """From the store's listener thread: hand the work to the event loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if seq < 0:
            log.info("deploy notifications may have been missed; catching every canvas up")
        loop.call_soon_threadsafe(self._want, canvas, seq)

    def _want(self, canvas: str, seq: int) -> None:
        state = self.live.get(canvas) if canvas else None
        if state is not None and 0 <= seq <= state.seq:
            return  # this node's own deploy, or one it has already caught up with
        self._wanted.put_nowait(canvas)

    async def _catch_up_loop(self) -> None:
        while True:
            canvas = await self._wanted.get()
            try:
                if canvas:
                    await self.catch_up(canvas)
                else:
                    await self.catch_up_all()
            except StoreError as e:
                # The database is away again; the listener says ("", -1) when it is back.
                log.warning("could not catch up %s: %s", canvas or "the canvases", e)

    async def catch_up_all(self) -> None:
        infos = await asyncio.to_thread(self.store.canvases)
        for info in infos:
            await self.catch_up(info.name)

    async def catch_up(self, canvas: str) -> int:
        """Apply every batch of the ops log this node has not applied; returns the seq."""
        async with self.lock(canvas):
            return await self.catch_up_locked(canvas)

    async def catch_up_locked(self, canvas: str) -> int:
        """`catch_up`, for a caller that already holds the canvas's deploy lock."""
        state = self.live.get(canvas)
        if state is None:
            loaded = await asyncio.to_thread(load_canvas, self.store, canvas, compile_all=False)
            self.live.swap(loaded)
            if self.fanout is not None:
                await self.fanout({"t": "reload", "canvas": canvas})
            log.info("canvas %s created on another node: loaded at seq %s", canvas, loaded.seq)
            return loaded.seq
        batches = await asyncio.to_thread(self.store.ops_since, canvas, state.seq)
        for batch in batches:
            current = self.live.get(canvas)
            assert current is not None
            self.live.swap(apply_batch(
                current, batch.seq, batch.ops_json,
                lambda: load_canvas(self.store, canvas, compile_all=False),
                compile_changed=False))
            if self.fanout is not None:
                await self.fanout({"t": "deploy", "canvas": canvas, "seq": batch.seq,
                                   "ops": batch.ops_json})
            self.broadcast(canvas, batch.seq, batch.author, batch.ops_json)
        if batches:
            log.debug("canvas %s caught up to seq %s (%d batches from other nodes)", canvas,
                     batches[-1].seq, len(batches))
        final = self.live.get(canvas)
        return final.seq if final is not None else 0

    async def _usage_loop(self) -> None:
        """Every few seconds: traffic counted on other nodes, and settings changed there."""
        while True:
            await asyncio.sleep(USAGE_REFRESH_SECONDS)
            try:
                for state in self.live.states():
                    await asyncio.to_thread(self.usage.merge, self.store, state.name)
                    stored = await asyncio.to_thread(self.store.canvas_settings, state.name)
                    if stored != self.settings.get(state.name, {}):
                        await self.apply_settings(state.name, stored)
            except StoreError as e:
                log.debug("usage not refreshed: %s", e)

    async def apply_settings(self, canvas: str, settings: dict[str, Any]) -> None:
        """A canvas's settings, in force in this process and every worker."""
        self.settings[canvas] = settings
        if self.fanout is not None:
            await self.fanout({"t": "settings", "canvas": canvas, "settings": settings})

