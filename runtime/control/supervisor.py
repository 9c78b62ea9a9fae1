"""The control process's traffic workers: start them, deploy to them, replace them.

Each worker (`runtime.traffic.worker`) is a process of its own with the
traffic port's listening socket and a `Channel` to this one. The supervisor:

- starts `config.workers` of them and lets each serve once it has loaded;
- `fanout`s every deploy: the control process acks an editor only when every
  serving worker has answered `done`, so a request that starts after the ack
  runs the new code whichever worker takes it. A worker that starts while
  deploys happen cannot miss one: deploys sent before its `serve` reach it
  before `serve` (the channel keeps order), those after are waited for;
- replaces a worker that exits or stops reporting for `stall_seconds` (it is
  killed; the kernel keeps queueing new connections on the shared listening
  socket meanwhile, and the other workers keep taking them). Workers that
  keep dying are restarted with a growing delay, with the reason in the log;
- counts, per worker, requests served and restarts for `gloam runtime status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from runtime.channel import Channel
from runtime.config import RuntimeConfig, config_to_json
from runtime.inflight import Keeper

log = logging.getLogger("gloam.supervisor")

ROOT = Path(__file__).resolve().parent.parent.parent

#: How long a new worker may take to load before it is counted as failed.
LOAD_SECONDS = 120.0
#: A worker that dies sooner than this after it started is restarted after a delay,
#: doubling up to MAX_RESTART_DELAY, so a crash loop does not eat the machine.
QUICK_DEATH_SECONDS = 5.0
MAX_RESTART_DELAY = 30.0
#: How long a deploy waits for a worker's `done` before the worker counts as stuck.
SWAP_SECONDS = 10.0


class WorkersUnavailable(Exception):
    """No worker could be started; the message says why."""


@attrs.define(eq=False)
class WorkerSlot:
    index: int
    proc: asyncio.subprocess.Process | None = None
    channel: Channel | None = None
    started_at: float = 0.0
    last_beat: float = 0.0
    #: Requests served by the current process, and by the ones it replaced.
    served: int = 0
    served_before: int = 0
    restarts: int = 0
    #: The worker's traffic connections: open, refused (over the cap), timed out
    #: (headers too slow), malformed requests (see `runtime.traffic.connections`).
    connections: dict[str, int] = attrs.field(factory=dict)
    #: Runs that did not finish on the compiled path, per reason
    #: (`shared_ast.compiler.FALLBACKS`); "bug: ..." ones are the compiler's bugs.
    compiler_fallbacks: dict[str, int] = attrs.field(factory=dict)
    serving: bool = False
    delay: float = 0.0
    loaded: asyncio.Future[None] | None = None
    reader: asyncio.Task[None] | None = None
    #: The control's handles on the worker's connections (see `runtime.inflight`).
    keeper: Keeper | None = None
    #: Deploy ids sent to this worker whose `done` has not come back.
    waiting: dict[int, asyncio.Future[None]] = attrs.field(factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"index": self.index, "pid": self.proc.pid if self.proc else None,
                "serving": self.serving, "requests": self.served_before + self.served,
                "restarts": self.restarts, "connections": self.connections,
                "compiler_fallbacks": self.compiler_fallbacks,
                "up_seconds": round(time.time() - self.started_at, 1) if self.proc else None}


class Supervisor:
    def __init__(self, config: RuntimeConfig, listen_sock: socket.socket,
                 on_report: Callable[[dict[str, Any]], None]) -> None:
        self.config = config
        self.listen_sock = listen_sock
        self.on_report = on_report
        self.slots = [WorkerSlot(i) for i in range(max(1, config.workers))]
        self._ids = itertools.count(1)
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn(slot) for slot in self.slots))
        results = await asyncio.gather(*(self._wait_loaded(s) for s in self.slots),
                                       return_exceptions=True)
        if not any(s.serving for s in self.slots):
            raise WorkersUnavailable(f"no traffic worker started: {results[0]}")
        self._watch = asyncio.create_task(self._watch_loop(), name="gloam-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for slot in self.slots:
            if slot.channel is not None:
                slot.channel.send({"t": "stop"})
        for slot in self.slots:
            await self._reap(slot, graceful=True)

    async def _spawn(self, slot: WorkerSlot) -> None:
        parent, child = socket.socketpair()
        listen_fd = self.listen_sock.fileno()
        keeper = Keeper()
        keeper_fd, inflight_fd = keeper.child_fds()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "runtime.traffic.worker", "--index", str(slot.index),
                "--channel-fd", str(child.fileno()), "--listen-fd", str(listen_fd),
                "--keeper-fd", str(keeper_fd), "--inflight-fd", str(inflight_fd),
                "--config", config_to_json(self.config),
                pass_fds=(child.fileno(), listen_fd, keeper_fd, inflight_fd), cwd=str(ROOT),
                stdin=asyncio.subprocess.DEVNULL,
            )
        except BaseException:
            keeper.close()
            raise
        finally:
            child.close()
        keeper.started(asyncio.get_running_loop())
        slot.keeper = keeper
        slot.proc = proc
        slot.channel = await Channel.open(parent)
        slot.started_at = slot.last_beat = time.time()
        slot.served_before += slot.served
        slot.served = 0
        slot.serving = False
        slot.loaded = asyncio.get_running_loop().create_future()
        slot.reader = asyncio.create_task(self._read(slot, slot.channel, slot.loaded))

    async def _wait_loaded(self, slot: WorkerSlot) -> None:
        assert slot.loaded is not None and slot.channel is not None
        await asyncio.wait_for(asyncio.shield(slot.loaded), LOAD_SECONDS)
        # Deploys sent before this reach the worker before `serve` does.
        slot.channel.send({"t": "serve"})
        slot.serving = True

    async def _read(self, slot: WorkerSlot, channel: Channel,
                    loaded: asyncio.Future[None]) -> None:
        while True:
            message = await channel.receive()
            if message is None:
                break
            slot.last_beat = time.time()
            kind = message.get("t")
            if kind == "done":
                ident = message.get("id")
                fut = slot.waiting.pop(ident, None) if isinstance(ident, int) else None
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif kind == "beat":
                slot.served = int(message.get("served", slot.served))
                if isinstance(message.get("connections"), dict):
                    slot.connections = message["connections"]
                if isinstance(message.get("compiler_fallbacks"), dict):
                    slot.compiler_fallbacks = message["compiler_fallbacks"]
                self.on_report(message)
            elif kind == "loaded" and not loaded.done():
                loaded.set_result(None)
        if not loaded.done():
            loaded.set_exception(WorkersUnavailable(
                f"traffic worker {slot.index} exited while loading; see the log"))
        # The worker is gone: nothing it was sent will be answered.
        for fut in slot.waiting.values():
            if not fut.done():
                fut.set_result(None)
        slot.waiting.clear()

    async def _reap(self, slot: WorkerSlot, graceful: bool, why: str = "stopped") -> None:
        proc = slot.proc
        slot.serving = False
        if proc is None:
            return
        if not graceful and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
        try:
            await asyncio.wait_for(proc.wait(), 30 if graceful else 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if slot.keeper is not None:
            # Its connections are ours alone now: what it had not answered gets a 503.
            slot.keeper.answer_in_flight(why)
            slot.keeper.close()
            slot.keeper = None
        if slot.channel is not None:
            slot.channel.close()
        if slot.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await slot.reader

    async def _replace(self, slot: WorkerSlot, why: str) -> None:
        log.warning("traffic worker %s (pid %s) %s; replacing it", slot.index,
                    slot.proc.pid if slot.proc else None, why)
        quick = time.time() - slot.started_at < QUICK_DEATH_SECONDS
        await self._reap(slot, graceful=False, why=why)
        slot.restarts += 1
        if quick:
            slot.delay = min(MAX_RESTART_DELAY, max(0.5, slot.delay * 2))
            log.warning("traffic worker %s died %.1f s after it started; next start in %.1f s",
                        slot.index, time.time() - slot.started_at, slot.delay)
            await asyncio.sleep(slot.delay)
        if self._stopping:
            return
        await self._spawn(slot)
        try:
            await self._wait_loaded(slot)
        except (WorkersUnavailable, TimeoutError) as e:
            log.error("traffic worker %s did not start: %s", slot.index, e)

    async def _watch_loop(self) -> None:
        replacing: dict[int, asyncio.Task[None]] = {}
        while True:
            await asyncio.sleep(0.1)
            now = time.time()
            for slot in self.slots:
                if slot.index in replacing:
                    if not replacing[slot.index].done():
                        continue
                    del replacing[slot.index]
                proc = slot.proc
                if proc is None:
                    continue
                if slot.delay and slot.serving and now - slot.started_at > QUICK_DEATH_SECONDS:
                    slot.delay = 0.0  # up long enough: its next death is not a crash loop
                why = None
                if proc.returncode is not None:
                    why = f"exited with code {proc.returncode}"
                elif slot.serving and now - slot.last_beat > self.config.stall_seconds:
                    why = f"stopped answering for {now - slot.last_beat:.1f} s"
                if why is not None:
                    replacing[slot.index] = asyncio.create_task(self._replace(slot, why))

    # --------------------------------------------------------------- deploys

    async def fanout(self, message: dict[str, Any]) -> None:
        """Send a deploy or reload to every worker; return when every serving worker
        has swapped it in (a stuck one is replaced, and its replacement loads it)."""
        waits = []
        for slot in self.slots:
            if slot.channel is None or slot.channel.closed:
                continue
            ident = next(self._ids)
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            slot.waiting[ident] = fut
            slot.channel.send({**message, "id": ident})
            if slot.serving:
                waits.append((slot, fut))
        for slot, fut in waits:
            try:
                await asyncio.wait_for(fut, SWAP_SECONDS)
            except TimeoutError:
                # A worker that cannot swap in time is killed before the ack, so it never
                # serves the old code after it; the watch loop starts its replacement,
                # which loads the store, which has the deploy.
                log.warning("traffic worker %s did not swap in %s s", slot.index, SWAP_SECONDS)
                await self._reap(slot, graceful=False,
                                 why=f"did not take a deploy within {SWAP_SECONDS:.0f} s")

    def status(self) -> list[dict[str, Any]]:
        return [slot.describe() for slot in self.slots]
