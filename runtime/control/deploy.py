"""The deploy path: validate → apply → commit → swap everywhere → ack → broadcast.

A deploy is a database write. A batch of ops from one editor message is
validated and applied, all or nothing, to the cached toplevels of its canvas;
the op log entry and the changed snapshots are committed in one durable
transaction; only then is the new `CanvasState` swapped in, here and in
every traffic worker (`fanout`, see `runtime.control.supervisor`). The caller
acks and broadcasts after `deploy` returns, so an ack means durable *and*
live: a request that starts after it runs the new code.

Deploys to one canvas are serialized by a per-canvas lock, so two editors'
batches get consecutive sequence numbers and never interleave; requests never
take the lock, and other canvases deploy in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from runtime.control import replay
from runtime.control.migrations import datastore_change_problem, touches_datastores
from runtime.control.usage import Usage, handlers_reaching
from runtime.store.protocol import FirstBatch, StaleCanvas, Store, StoreError
from runtime.traffic.live import CanvasState, LiveTable
from runtime.traffic.responses import handler_label
from shared_ast import wire
from shared_ast.apply import OpError, apply_to_canvas
from shared_ast.locking import InUse, batch_lock_problem, describe_toplevel
from shared_ast.ops import CreateToplevel, Op, SetLanguageVersion
from shared_ast.toplevels import Handler, Toplevel, UserFunction

log = logging.getLogger("gloam.deploy")

#: How many of a handler's newest stored requests a language move replays.
LANGUAGE_REPLAY_LIMIT = 100


class DeployError(Exception):
    """A batch was refused; nothing changed. `op_index` names the op at fault, when one is."""

    def __init__(self, message: str, op_index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.op_index = op_index


@attrs.frozen
class Deployed:
    seq: int
    ops: tuple[Op, ...]
    ops_json: str
    author: str


def encode_toplevel_text(tl: Toplevel) -> str:
    return wire.json_text(wire.encode_toplevel(tl), separators=(",", ":"))


def first_batch(author: str, toplevels: Sequence[Toplevel]) -> FirstBatch:
    """The batch creating `toplevels`, as a new canvas's first code."""
    ops: list[Op] = [CreateToplevel(t) for t in toplevels]
    return FirstBatch(author, wire.json_text(wire.encode_ops(ops)),
                      {t.tlid: encode_toplevel_text(t) for t in toplevels})


#: How often a batch is prepared again after another node deployed first.
STALE_RETRIES = 5

#: Swaps a deploy into the traffic workers: `{"t": "deploy", canvas, seq, ops}`.
Fanout = Callable[[dict[str, Any]], Awaitable[None]]


class Deployer:
    def __init__(self, store: Store, live: LiveTable, usage: Usage | None = None,
                 fanout: Fanout | None = None,
                 catch_up: Callable[[str], Awaitable[int]] | None = None) -> None:
        self.store = store
        self.live = live
        self.usage = usage
        self.fanout = fanout
        #: Applies the ops log's batches this node has not seen, under the canvas lock
        #: (`runtime.control.sync.NodeSync.catch_up_locked`).
        self.catch_up = catch_up
        #: Told each canvas a deploy changed (the background conversion looks again).
        self.deployed: Callable[[str], None] | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, canvas: str) -> asyncio.Lock:
        """The lock every deploy to `canvas` holds; hold it to see a canvas between deploys."""
        lock = self._locks.get(canvas)
        if lock is None:
            lock = self._locks[canvas] = asyncio.Lock()
        return lock

    async def deploy(
        self,
        canvas: str,
        ops: Sequence[Op],
        author: str,
        on_deployed: Callable[[Deployed], None] | None = None,
    ) -> Deployed:
        """Deploy a batch; `on_deployed` runs under the canvas lock, after the swap,
        so acks and broadcasts it queues come out in sequence order."""
        if not ops:
            raise DeployError("the batch holds no ops; send at least one")
        async with self.lock(canvas):
            # Let the workers' reports already received be counted first: a handler
            # whose first request was answered before this batch came is in use.
            await asyncio.sleep(0)
            for _ in range(STALE_RETRIES):
                state = self.live.get(canvas)
                if state is None:
                    raise DeployError(f"there is no canvas named {canvas!r}")
                in_use = self.usage.in_use(canvas, state.toplevels) if self.usage else {}
                new_state, changed, ops_json = self.prepare(state, ops, in_use)
                await self.check_datastores(canvas, state, new_state, ops)
                await self.check_language_moves(canvas, state, new_state, ops, in_use)
                try:
                    future = self.store.submit_ops(canvas, author, ops_json, changed,
                                                   base_seq=state.seq)
                    seq = await asyncio.wrap_future(future)
                except StaleCanvas:
                    # Another node deployed first: take its batches in, then judge this
                    # batch again against the canvas they made, as a single node would.
                    if self.catch_up is None:
                        raise DeployError("the canvas changed in the store under this "
                                          "runtime; restart it to catch up") from None
                    await self.catch_up(canvas)
                    continue
                except StoreError as e:
                    raise DeployError(str(e)) from None
                self.live.swap(attrs.evolve(new_state, seq=seq))
                if self.fanout is not None:
                    await self.fanout({"t": "deploy", "canvas": canvas, "seq": seq,
                                       "ops": ops_json})
                done = Deployed(seq, tuple(ops), ops_json, author)
                if on_deployed is not None:
                    on_deployed(done)
                if self.deployed is not None:
                    self.deployed(canvas)
                return done
            raise DeployError(f"other nodes deployed to canvas {canvas!r} {STALE_RETRIES} "
                              "times while this batch was being prepared; send it again")

    async def flush_workers(self) -> None:
        """Every worker's buffered traces written and its traffic reported (see `flush`
        in `runtime.channel`)."""
        self.store.write_traces()
        if self.fanout is not None:
            await self.fanout({"t": "flush"})

    async def check_datastores(self, canvas: str, state: CanvasState, new_state: CanvasState,
                               ops: Sequence[Op]) -> None:
        """A datastore version is deleted (or renamed) only while no code names it and no
        row needs it, and its schema changes only while no row is stored in it
        (`runtime.control.migrations.datastore_change_problem`): rows are never stranded.
        Raises DeployError saying what to do instead."""
        if not touches_datastores(state.toplevels, ops):
            return
        try:
            problem = await asyncio.to_thread(datastore_change_problem, self.store, canvas,
                                              state.toplevels, new_state.toplevels, ops)
        except StoreError as e:
            raise DeployError(f"the datastore's rows could not be counted: {e}") from None
        if problem is not None:
            raise DeployError(problem[1], problem[0])

    async def check_language_moves(
        self, canvas: str, state: CanvasState, new_state: CanvasState, ops: Sequence[Op],
        in_use: Mapping[int, InUse],
    ) -> None:
        """Code in use moves to another language version only if every stored request
        answers the same after the move: for a handler, its own requests; for a function,
        those of every handler in use that reaches it. The runtime replays them here, so
        no editor can skip the check. Raises DeployError naming a request that would
        change."""
        for index, op in enumerate(ops):
            if not isinstance(op, SetLanguageVersion) or op.target_tlid not in in_use:
                continue
            moved = state.toplevels.get(op.tlid)
            if isinstance(moved, Handler):
                handlers = [moved]
            elif isinstance(moved, UserFunction):
                handlers = handlers_reaching(op.tlid, state.toplevels, in_use)
            else:
                continue  # a type or datastore runs no code of its own
            await self.flush_workers()
            for live in handlers:
                candidate = new_state.toplevels.get(live.tlid)
                if not isinstance(candidate, Handler):
                    continue  # the same batch deletes it; the lock check judged that
                await self._replay_for_move(canvas, index, op, moved, live, candidate,
                                            state, new_state)

    async def _replay_for_move(self, canvas: str, index: int, op: SetLanguageVersion,
                               moved: Toplevel, live: Handler, candidate: Handler,
                               state: CanvasState, new_state: CanvasState) -> None:
        traces = self.store.traces(canvas, live.tlid, LANGUAGE_REPLAY_LIMIT)
        try:
            rows = await asyncio.to_thread(replay.replay, live, candidate, state.program,
                                           new_state.program, traces)
        except Exception as e:
            log.exception("replay for a language move failed (canvas %s, tlid %s)",
                          canvas, live.tlid)
            raise DeployError(
                f"{op.KIND}: the stored requests of {handler_label(live)} could not be "
                f"replayed to check the move ({type(e).__name__}: {e}). This is a bug in "
                "Gloam; it is in the log.", index) from None
        differ = [r for r in rows if not r.same]
        if not differ:
            return
        first = differ[0]
        what = (handler_label(live) if moved is live
                else f"{describe_toplevel(moved)}, used by {handler_label(live)},")
        raise DeployError(
            f"{op.KIND}: {what} is in use, and moving it to language version {op.new} "
            f"would change the answer to {len(differ)} of the last {len(rows)} requests of "
            f"{handler_label(live)} (first: {first.description}, {first.old.get('status')} "
            f"now, {first.new.get('status')} after). Replay them to see each one (Check "
            "language upgrade), change the code until they answer the same, then move it "
            "again.",
            index,
        )

    @staticmethod
    def prepare(
        state: CanvasState, ops: Sequence[Op], in_use: Mapping[int, InUse] | None = None
    ) -> tuple[CanvasState, dict[int, str | None], str]:
        """Everything a deploy computes before touching the store; raises DeployError."""
        locked = batch_lock_problem(state.toplevels, ops, in_use or {})
        if locked is not None:
            index, problem = locked
            raise DeployError(f"{ops[index].KIND}: {problem}", index)
        try:
            toplevels = apply_to_canvas(ops, state.toplevels)
        except OpError as e:
            raise DeployError(str(e), getattr(e, "op_index", None)) from None
        touched = {op.target_tlid for op in ops}
        changed = {
            tlid: (encode_toplevel_text(toplevels[tlid]) if tlid in toplevels else None)
            for tlid in touched
        }
        ops_json = wire.json_text(wire.encode_ops(list(ops)), separators=(",", ":"))
        return (state.next(state.seq, toplevels, touched, compile_changed=False), changed,
                ops_json)
