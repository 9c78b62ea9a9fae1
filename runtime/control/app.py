"""The control process: store, deploys, the editor API, and the traffic workers.

Start-up, top to bottom:

1. open the store (SQLite in the data folder, or PostgreSQL) and create the
   demo canvas in a fresh one;
2. build the live table the deploy path validates against (nothing compiled:
   the control process runs no user traffic) and seed the locking counts;
3. bind the traffic port once, and start the traffic workers
   (`runtime.control.supervisor`), which inherit it and serve from it;
4. serve the editor API on its own port, so user traffic never reaches it.

Every durable write of the deploy path happens here, and every deploy is
swapped into each worker before it is acked. Shutdown is graceful: the editor
API closes, workers finish the requests in flight, the store drains.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import time
from typing import IO, Any

from aiohttp import web

from runtime.config import RuntimeConfig, make_private, read_state, write_state
from runtime.control.demo import install_demo
from runtime.control.deploy import Deployer
from runtime.control.editor_api import EditorApi
from runtime.control.migrations import MigrationRunner
from runtime.control.supervisor import Supervisor
from runtime.control.sync import NodeSync
from runtime.control.usage import FlagCounts, Usage
from runtime.daemon import hold_pid_file
from runtime.services import RuntimeServices
from runtime.store import open_store
from runtime.store.protocol import Store
from runtime.tokens import ensure_admin_token
from runtime.traffic.connections import raise_open_file_limit
from runtime.traffic.live import LiveTable, load_canvas

log = logging.getLogger("gloam.runtime")


class Runtime:
    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self.store: Store | None = None
        self.services: RuntimeServices | None = None
        self.supervisor: Supervisor | None = None
        self.runners: list[web.BaseRunner] = []
        self.ports: dict[str, int] = {}
        self.listen_sock: socket.socket | None = None
        self.sync: NodeSync | None = None
        self.pid_file: IO[str] | None = None
        self.migrations: MigrationRunner | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # Whatever got started (workers, the store) is stopped, not left behind.
            await self.stop()
            raise

    async def _start(self) -> None:
        config = self.config
        make_private(config.data_dir)
        self.pid_file = hold_pid_file(config)
        store = self.store = await asyncio.to_thread(open_store, config.store_spec)
        ensure_admin_token(config.data_dir)
        if not store.canvases() and config.demo:
            install_demo(store, config.data_dir)
        live = LiveTable()
        for info in store.canvases():
            live.swap(load_canvas(store, info.name, compile_all=False))
        usage = Usage(config.lock_window_seconds)
        for info in store.canvases():
            usage.seed(store, info.name)
        flags = FlagCounts()
        services = self.services = RuntimeServices(config, store, live, usage=usage, flags=flags)
        services.settings = {info.name: store.canvas_settings(info.name)
                             for info in store.canvases()}

        def on_report(report: dict[str, Any]) -> None:
            for canvas, tlid, at in report.get("traffic", ()):
                usage.saw(canvas, tlid, at)
            for canvas, tlid, flag_id, name, took_new in report.get("flags", ()):
                flags.saw(canvas, tlid, flag_id, name, took_new)

        # This process holds a copy of every traffic connection (runtime.inflight).
        raise_open_file_limit()
        sock = self.listen_sock = await bind_traffic_port(
            config.host, config.port, wait=killed_before(config))
        self.ports["http"] = int(sock.getsockname()[1])
        supervisor = self.supervisor = Supervisor(config, sock, on_report)
        await supervisor.start()
        deployer = Deployer(store, live, usage, fanout=supervisor.fanout)
        migrations = self.migrations = MigrationRunner(services)
        editor = EditorApi(services, deployer, supervisor, migrations=migrations)
        migrations.on_change = editor.migrations.changed_threadsafe
        deployer.deployed = migrations.wake
        sync = self.sync = NodeSync(store, live, usage, deployer.lock, supervisor.fanout,
                                    editor.broadcast, services.settings)
        deployer.catch_up = sync.catch_up_locked
        editor.sync = sync
        sync.start()
        migrations.start()
        editor.traffic_port = self.ports["http"]
        self.ports["editor"] = await self._listen(
            web.AppRunner(editor.app(), shutdown_timeout=30, access_log=None),
            config.editor_host, config.editor_port,
        )
        write_state(
            config,
            {
                "pid": os.getpid(),
                "host": config.host,
                "http_port": self.ports["http"],
                "editor_host": config.editor_host,
                "editor_port": self.ports["editor"],
                "data_dir": str(config.data_dir),
                "store": store.describe(),
                "workers": config.workers,
                "started_at": services.started_at,
            },
        )
        log.info(
            "listening: traffic on http://%s:%s (%d workers), editor API on http://%s:%s; "
            "store: %s",
            config.host, self.ports["http"], len(supervisor.slots), config.editor_host,
            self.ports["editor"], store.describe(),
        )

    async def _listen(self, runner: web.BaseRunner, host: str, port: int) -> int:
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        self.runners.append(runner)
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        if self.migrations is not None:
            await asyncio.to_thread(self.migrations.stop)
        if self.sync is not None:
            await self.sync.stop()
        for runner in self.runners:
            await runner.cleanup()
        if self.supervisor is not None:
            await self.supervisor.stop()
        if self.listen_sock is not None:
            self.listen_sock.close()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
        if self.pid_file is not None:  # this data folder was ours: let it go
            self.config.state_path.unlink(missing_ok=True)
            self.config.pid_path.unlink(missing_ok=True)
            self.pid_file.close()
            self.pid_file = None


#: How long start-up waits for the traffic port to be free: the workers of a runtime
#: killed with -9 notice their control process is gone and close it within moments.
BIND_WAIT_SECONDS = 10.0


def killed_before(config: RuntimeConfig) -> bool:
    """Whether the last runtime of this data folder died without stopping (its
    `runtime.json` is still there, its process gone): its workers may still be
    letting go of the traffic port."""
    state = read_state(config.data_dir)
    pid = state.get("pid") if state else None
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def bind_traffic_port(host: str, port: int, *, wait: bool) -> socket.socket:
    """The traffic port's listening socket, which every traffic worker inherits. With
    `wait`, a port in use is tried again for BIND_WAIT_SECONDS."""
    deadline = time.monotonic() + (BIND_WAIT_SECONDS if wait else 0.0)
    while True:
        try:
            return socket.create_server((host, port), backlog=1024)
        except OSError as e:
            if e.errno != errno.EADDRINUSE or port == 0 or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def serve(config: RuntimeConfig) -> None:
    """Run in the foreground until SIGTERM or SIGINT."""
    runtime = Runtime(config)
    await runtime.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started = time.time()
    await stop.wait()
    log.info("stopping after %.0f s: finishing requests in flight", time.time() - started)
    await runtime.stop()
    log.info("stopped")


__all__ = ["Runtime", "load_canvas", "serve"]
