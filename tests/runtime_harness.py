"""A real runtime for tests: a `gloam runtime serve` process on loopback ports 0.

Tests talk to it as users and editors do: HTTP with urllib, the editor API
over a real websocket (aiohttp's client). Nothing in-process is shared with
the server, so a crash, a restart or a `kill -9` is the real thing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from shared_ast import wire
from shared_ast.ops import CreateToplevel, Op
from shared_ast.toplevels import Toplevel

ROOT = Path(__file__).resolve().parent.parent


#: Set the open-file limit (soft and hard) to argv[1], then become `gloam` with the rest.
LIMITED_EXEC = ("import os, resource, sys\n"
                "n = int(sys.argv[1])\n"
                "resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))\n"
                "os.execv(sys.executable, [sys.executable, '-m', 'gloam.cli', *sys.argv[2:]])\n")


class RuntimeProcess:
    def __init__(self, data_dir: Path, extra: Sequence[str] = (),
                 open_files: int | None = None) -> None:
        self.data_dir = data_dir
        self.extra = list(extra)
        #: The runtime's open-file limit (soft and hard), when a test sets one.
        self.open_files = open_files
        self.proc: subprocess.Popen[bytes] | None = None
        self.state: dict[str, Any] = {}

    def start(self, timeout: float = 30.0) -> RuntimeProcess:
        (self.data_dir / "runtime.json").unlink(missing_ok=True)
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115
        # Locking is off unless a test turns it on (`extra` wins: argparse keeps the last).
        args = ["runtime", "serve", "--data-dir", str(self.data_dir), "--port", "0",
                "--editor-port", "0", "--lock-window", "0", *self.extra]
        # Under an open-file limit: set it, then exec the same command (same pid).
        start = ([sys.executable, "-m", "gloam.cli"] if self.open_files is None else
                 [sys.executable, "-c", LIMITED_EXEC, str(self.open_files)])
        self.proc = subprocess.Popen([*start, *args], cwd=ROOT, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runtime exited with {self.proc.returncode}: {self.log()}")
            try:
                state = json.loads((self.data_dir / "runtime.json").read_text())
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            if state.get("pid") == self.proc.pid:
                self.state = state
                return self
            time.sleep(0.05)
        raise RuntimeError(f"runtime did not start: {self.log()}")

    def log(self) -> str:
        try:
            return (self.data_dir.parent / f"{self.data_dir.name}.log").read_text()[-4000:]
        except OSError:
            return ""

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.state['http_port']}"

    @property
    def editor(self) -> str:
        return f"http://127.0.0.1:{self.state['editor_port']}"

    def token(self, canvas: str = "demo") -> str:
        tokens = json.loads((self.data_dir / "tokens.json").read_text())
        return str(tokens[canvas])

    def get(self, path: str, canvas: str = "demo", **kw: Any) -> tuple[int, Any]:
        return http_request("GET", f"{self.http}/c/{canvas}{path}", **kw)

    def request(self, method: str, path: str, canvas: str = "demo", **kw: Any) -> tuple[int, Any]:
        return http_request(method, f"{self.http}/c/{canvas}{path}", **kw)


def http_request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, _decode(resp.read(), resp.headers.get_content_type())
    except urllib.error.HTTPError as e:
        return e.code, _decode(e.read(), e.headers.get_content_type())


def _decode(raw: bytes, content_type: str) -> Any:
    if content_type == "application/json":
        return json.loads(raw)
    return raw.decode()


@contextmanager
def running(data_dir: Path, extra: Sequence[str] = (),
            open_files: int | None = None) -> Iterator[RuntimeProcess]:
    rt = RuntimeProcess(data_dir, extra, open_files).start()
    try:
        yield rt
    finally:
        rt.stop()


class EditorSession:
    """An editor's websocket session, for tests."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.hello: dict[str, Any] = {}
        self._next = 0

    @classmethod
    async def open(
        cls, http: aiohttp.ClientSession, rt: RuntimeProcess, canvas: str = "demo",
        token: str | None = None, since: int | None = None,
    ) -> EditorSession:
        params = {"author": "test"}
        if since is not None:
            params["since"] = str(since)
        ws = await http.ws_connect(
            f"{rt.editor}/api/canvas/{canvas}/ws", params=params,
            headers={"Authorization": f"Bearer {token or rt.token(canvas)}"},
        )
        session = cls(ws)
        session.hello = await session.receive()
        return session

    async def receive(self, timeout: float = 30.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        return data

    async def send(self, message: dict[str, Any]) -> str:
        self._next += 1
        msg_id = f"m{self._next}"
        await self.ws.send_str(json.dumps({"schema": wire.SCHEMA_VERSION, "id": msg_id, **message}))
        return msg_id

    async def reply(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send and wait for the reply to this message (skipping broadcasts)."""
        msg_id = await self.send(message)
        while True:
            got = await self.receive()
            if got.get("id") == msg_id:
                return got

    async def deploy(self, ops: Sequence[Op]) -> dict[str, Any]:
        return await self.reply({"type": "ops", "ops": wire.encode_ops(list(ops))})


def eventually(check: Any, timeout: float = 20.0) -> Any:
    """Poll until `check` returns something truthy (or the timeout); what it returned."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def admin_status(rt: RuntimeProcess) -> dict[str, Any]:
    """The control process's account of itself (`/api/admin/status`, admin token)."""
    token = (rt.data_dir / "admin.token").read_text().strip()
    status, body = http_request("GET", f"{rt.editor}/api/admin/status",
                                headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return dict(body)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def create_toplevels(rt: RuntimeProcess, toplevels: Sequence[Toplevel]) -> int:
    """Deploy toplevels as one batch, as an editor would; returns the new sequence number."""

    async def deploy() -> int:
        async with aiohttp.ClientSession() as http:
            ed = await EditorSession.open(http, rt)
            ack = await ed.deploy([CreateToplevel(t) for t in toplevels])
            assert ack["type"] == "ack", ack
            await ed.ws.close()
            return int(ack["seq"])

    return int(run(deploy()))
