"""A traffic worker: one process that holds the live table and runs user code.

The control process (`runtime.control.supervisor`) starts N of these with
`python -m runtime.traffic.worker`, handing each the traffic port's listening
socket and one end of a `Channel`. A worker:

1. opens the store and builds its live table from it (handlers compiled);
2. says `loaded`, then applies every deploy the control process sends, in
   order, answering each with `done` once the new code is swapped in: the
   control process acks an editor only when every worker has said `done`;
3. on `serve`, accepts connections from the shared listening socket (the
   kernel hands each connection to one worker) and runs worker events and
   crons through claims in the store, so each runs once across all workers;
4. reports every `BEAT_SECONDS` (requests served, traffic and flag decisions
   seen), so the supervisor can tell a stuck worker from a busy one;
5. exits when told to stop, on SIGTERM, or when the control process is gone
   (its end of the channel closes): a worker never serves code nobody deploys to.

User code runs here and nowhere near the editor API or the deploy path: a
runaway costs this worker's requests until its run limits stop it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from aiohttp import web

from runtime.background.events import start_background
from runtime.channel import BEAT_SECONDS, Channel
from runtime.config import RuntimeConfig, config_from_json
from runtime.inflight import Ledger
from runtime.services import RuntimeServices
from runtime.store import open_store
from runtime.traffic.live import CanvasState, LiveTable, apply_batch, load_canvas
from runtime.traffic.server import TrafficServer
from shared_ast.compiler import fallback_counts
from shared_ast.toplevels import Handler

log = logging.getLogger("gloam.worker")

#: How long a stopping worker lets requests in flight finish.
SHUTDOWN_SECONDS = 10.0


class Reporter:
    """Traffic and flag decisions seen since the last beat, for the control process.

    The first request a handler gets in this worker is reported at once, before
    its answer is sent, rather than with the next beat: from that request on the
    handler is in use, and an edit its client sends right after the answer must
    find it locked (the deploy path lets the control process read what the
    channel holds before it checks).
    """

    def __init__(self) -> None:
        self.traffic: list[list[Any]] = []
        self.flags: list[list[Any]] = []
        self.channel: Channel | None = None
        self._announced: set[tuple[str, int]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = threading.get_ident()

    def saw(self, canvas: str, tlid: int, *rest: Any) -> None:
        loop = self.loop
        if loop is not None and threading.get_ident() != self.loop_thread:
            # From a slow run's thread: the lists belong to the event loop.
            loop.call_soon_threadsafe(self.saw, canvas, tlid, *rest)
            return
        if len(rest) != 1:
            self.flags.append([canvas, tlid, *rest])
            return
        entry = [canvas, tlid, rest[0]]
        if (canvas, tlid) not in self._announced and self.channel is not None:
            self._announced.add((canvas, tlid))
            self.channel.send({"t": "beat", "traffic": [entry], "flags": []})
            return
        self.traffic.append(entry)

    def take(self) -> tuple[list[list[Any]], list[list[Any]]]:
        taken = self.traffic, self.flags
        self.traffic, self.flags = [], []
        return taken


def warm(state: CanvasState, loop: asyncio.AbstractEventLoop) -> None:
    """Compile the state's handlers not compiled yet, one per turn of the event loop,
    so requests keep flowing between them."""
    for tl in state.toplevels.values():
        if isinstance(tl, Handler) and tl.tlid not in state.compiled:
            state.compiled_for(tl)
            loop.call_soon(warm, state, loop)
            return


class TrafficWorker:
    def __init__(self, config: RuntimeConfig, index: int, channel_sock: socket.socket,
                 listen_sock: socket.socket, ledger: Ledger | None = None) -> None:
        self.config = config
        self.index = index
        self.channel_sock = channel_sock
        self.listen_sock = listen_sock
        self.ledger = ledger
        self.traffic: TrafficServer | None = None
        self.reporter = Reporter()
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        config = self.config
        store = await asyncio.to_thread(open_store, config.store_spec)
        live = LiveTable()
        for info in store.canvases():
            live.swap(load_canvas(store, info.name))
        services = RuntimeServices(config, store, live, usage=self.reporter, flags=self.reporter,
                                   loop=asyncio.get_running_loop())
        services.settings = {info.name: store.canvas_settings(info.name)
                             for info in store.canvases()}
        traffic = self.traffic = TrafficServer(live, services, self.ledger)
        channel = self.reporter.channel = await Channel.open(self.channel_sock)
        self.reporter.loop = asyncio.get_running_loop()
        self.reporter.loop_thread = threading.get_ident()
        channel.send({"t": "loaded", "pid": os.getpid(),
                      "seqs": {s.name: s.seq for s in live.states()}})
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        beat = asyncio.create_task(self.beat(channel, services))
        server: web.Server | None = None
        listener: asyncio.base_events.Server | None = None
        background: list[asyncio.Task[None]] = []
        stop_wait = asyncio.create_task(self.stopping.wait())
        try:
            while True:
                receive = asyncio.create_task(channel.receive())
                done, _ = await asyncio.wait({receive, stop_wait},
                                             return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    break
                message = receive.result()
                if message is None:
                    log.info("worker %s: the control process is gone; stopping", self.index)
                    break
                kind = message.get("t")
                if kind == "deploy":
                    name, seq = message["canvas"], message["seq"]
                    # Swapped uncompiled and acked at once; compiled right after, off the
                    # ack's path (a request meanwhile compiles what it needs itself).
                    state = apply_batch(live.get(name), seq, message["ops"],
                                        functools.partial(load_canvas, store, name,
                                                          compile_all=False),
                                        compile_changed=False)
                    live.swap(state)
                    channel.send({"t": "done", "id": message["id"]})
                    loop.call_soon(warm, state, loop)
                elif kind == "flush":
                    services.write_traces()
                    self.send_beat(channel, services)
                    channel.send({"t": "done", "id": message["id"]})
                elif kind == "reload":
                    live.swap(load_canvas(store, message["canvas"]))
                    services.settings[message["canvas"]] = store.canvas_settings(
                        message["canvas"])
                    channel.send({"t": "done", "id": message["id"]})
                elif kind == "settings":
                    services.settings[message["canvas"]] = message["settings"]
                    channel.send({"t": "done", "id": message["id"]})
                elif kind == "serve" and listener is None:
                    server = traffic.server()
                    listener = await loop.create_server(server, sock=self.listen_sock,
                                                        backlog=traffic.accept_batch)
                    background = start_background(services)
                    log.info("worker %s (pid %s) serving", self.index, os.getpid())
                elif kind == "stop":
                    break
        finally:
            stop_wait.cancel()
            beat.cancel()
            if listener is not None:
                listener.close()
            for task in background:
                task.cancel()
            if server is not None:
                await server.shutdown(SHUTDOWN_SECONDS)
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            traffic.slow_lane.close()
            services.write_traces()
            await asyncio.to_thread(store.close)
            channel.close()

    def send_beat(self, channel: Channel, services: RuntimeServices) -> None:
        traffic, flags = self.reporter.take()
        http = self.traffic.http if self.traffic is not None else None
        channel.send({"t": "beat", "served": services.traced, "traffic": traffic,
                      "flags": flags, "connections": http.counters() if http else {},
                      "compiler_fallbacks": fallback_counts()})

    async def beat(self, channel: Channel, services: RuntimeServices) -> None:
        while True:
            self.send_beat(channel, services)
            await channel.drain()
            await asyncio.sleep(BEAT_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gloam traffic worker")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--channel-fd", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--keeper-fd", type=int, help="where accepted connections are handed "
                        "to the control process (runtime.inflight)")
    parser.add_argument("--inflight-fd", type=int, help="the memory marking busy connections")
    parser.add_argument("--config", required=True, help="the runtime's config as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format=f"%(asctime)s %(levelname)s %(name)s[w{args.index}]: %(message)s")
    config = config_from_json(args.config)
    # A slow run in a thread (see `SlowLane`) hands the interpreter back to the event
    # loop every millisecond rather than every five, so quick requests wait less.
    sys.setswitchinterval(0.001)
    channel_sock = socket.socket(fileno=args.channel_fd)
    listen_sock = socket.socket(fileno=args.listen_fd)
    ledger = (Ledger(args.keeper_fd, args.inflight_fd)
              if args.keeper_fd is not None and args.inflight_fd is not None else None)
    worker = TrafficWorker(config, args.index, channel_sock, listen_sock, ledger)
    asyncio.run(worker.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
