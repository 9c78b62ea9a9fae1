"""The runtime process: open the store, load canvases, listen, run until told to stop.

Two aiohttp sites on two ports: user traffic (`runtime.traffic.server`) and the
editor API (`runtime.control.editor_api`), so user traffic can never reach the editor
API. Shutdown is graceful: the listeners close, requests in flight finish,
background loops stop, the store's writer drains and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time

from aiohttp import web

from runtime.background.events import start_background
from runtime.config import RuntimeConfig, write_state
from runtime.control.demo import install_demo
from runtime.control.deploy import Deployer
from runtime.control.editor_api import EditorApi
from runtime.control.usage import Usage
from runtime.services import RuntimeServices
from runtime.store.sqlite import SQLiteStore
from runtime.tokens import ensure_admin_token
from runtime.traffic.live import LiveTable, load_canvas
from runtime.traffic.server import TrafficServer

log = logging.getLogger("gloam.runtime")

class Runtime:
    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self.store: SQLiteStore | None = None
        self.services: RuntimeServices | None = None
        self.runners: list[web.BaseRunner] = []
        self.ports: dict[str, int] = {}
        self.background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        store = self.store = SQLiteStore(config.db_path)
        ensure_admin_token(config.data_dir)
        fresh = not store.canvases()
        if fresh and config.demo:
            install_demo(store, config.data_dir)
        live = LiveTable()
        for info in store.canvases():
            live.swap(load_canvas(store, info.name))
        usage = Usage(config.lock_window_seconds)
        for info in store.canvases():
            usage.seed(store, info.name)
        services = self.services = RuntimeServices(config, store, live, usage)
        deployer = Deployer(store, live, usage)
        traffic = TrafficServer(live, services)
        editor = EditorApi(services, deployer)
        self.ports["http"] = await self._listen(
            web.ServerRunner(traffic.server(), shutdown_timeout=30), config.host, config.port
        )
        editor.traffic_port = self.ports["http"]
        self.ports["editor"] = await self._listen(
            web.AppRunner(editor.app(), shutdown_timeout=30, access_log=None),
            config.editor_host, config.editor_port,
        )
        self.background = start_background(services)
        write_state(
            config,
            {
                "pid": os.getpid(),
                "host": config.host,
                "http_port": self.ports["http"],
                "editor_host": config.editor_host,
                "editor_port": self.ports["editor"],
                "data_dir": str(config.data_dir),
                "started_at": services.started_at,
            },
        )
        log.info(
            "listening: traffic on http://%s:%s, editor API on http://%s:%s",
            config.host,
            self.ports["http"],
            config.editor_host,
            self.ports["editor"],
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
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Cleanup closes listeners first, then waits for in-flight requests.
        for runner in self.runners:
            await runner.cleanup()
        if self.store is not None:
            self.store.close()
        self.config.state_path.unlink(missing_ok=True)


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
