"""`gloam runtime start|stop|status|logs`: the runtime as a background daemon.

`start` launches `gloam runtime serve` as a detached process (its output goes
to the log file in the data folder), waits until it answers on its editor
port, and prints where it listens and the editor token. The pid file and
`runtime.json` in the data folder let every other command find it; a pid file
whose process is gone is stale and is cleaned up.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from runtime.config import RuntimeConfig, make_private, read_state
from runtime.tokens import read_admin_token, read_tokens

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 40.0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours (e.g. in tests) is not running.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def read_pid(config: RuntimeConfig) -> int | None:
    try:
        return int(config.pid_path.read_text().strip())
    except (OSError, ValueError):
        return None


class DataFolderTaken(Exception):
    """Another runtime holds this data folder; the message names its pid."""


def hold_pid_file(config: RuntimeConfig) -> IO[str]:
    """Write this process's pid to the pid file and hold a lock on it for as long as
    the process lives (the file stays open; the kernel drops the lock when the process
    dies, however it dies). The lock, not the number, says whether a runtime runs:
    after a crash the pid may belong to some other process by now."""
    f = open(config.pid_path, "a+")  # noqa: SIM115 - held open for the process's life
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise DataFolderTaken(
            f"another Gloam runtime (pid {read_pid(config)}) is running on {config.data_dir}; "
            "stop it with `gloam runtime stop`, or pick another --data-dir") from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f


def running_pid(config: RuntimeConfig) -> int | None:
    """The pid of the runtime holding this data folder's pid file, or None; a pid file
    nobody holds is stale (its runtime died) and is removed, whatever process has that
    pid now."""
    try:
        f = open(config.pid_path)  # noqa: SIM115 - closed below
    except OSError:
        return None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_pid(config)  # held: a live runtime
        fcntl.flock(f, fcntl.LOCK_UN)
    # runtime.json stays: the next start reads it to know its workers may still be
    # letting go of the traffic port (`killed_before`), and then writes its own.
    config.pid_path.unlink(missing_ok=True)
    return None


def health(state: dict[str, Any], timeout: float = 1.0) -> dict[str, Any] | None:
    url = f"http://{state.get('editor_host', '127.0.0.1')}:{state.get('editor_port')}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = json.loads(resp.read())
            return data if isinstance(data, dict) else None
    except (OSError, ValueError, urllib.error.URLError):
        return None


def admin_status(config: RuntimeConfig, state: dict[str, Any],
                 timeout: float = 2.0) -> dict[str, Any] | None:
    """The running control process's own account: store, canvases, traffic workers."""
    token = read_admin_token(config.data_dir)
    url = (f"http://{state.get('editor_host', '127.0.0.1')}:{state.get('editor_port')}"
           "/api/admin/status")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            data = json.loads(resp.read())
            return data if isinstance(data, dict) else None
    except (OSError, ValueError, urllib.error.URLError):
        return None


def start(config: RuntimeConfig, serve_args: list[str]) -> tuple[bool, str]:
    """Start the daemon; (ok, message for the user)."""
    pid = running_pid(config)
    if pid is not None:
        running = read_state(config.data_dir) or {}
        return False, (
            f"Gloam runtime is already running (pid {pid}) for {config.data_dir}: "
            f"traffic on port {running.get('http_port')}, "
            f"editor API on port {running.get('editor_port')}. "
            "Stop it with `gloam runtime stop`."
        )
    make_private(config.data_dir)
    # A runtime.json left by a runtime that was killed stays until the new one writes
    # its own (it waits for its pid there): the new one reads it to know the old
    # workers may still be letting go of the traffic port.
    log = open(config.log_path, "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "serve", *serve_args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            config.pid_path.unlink(missing_ok=True)
            return False, (
                f"the runtime exited at start (code {proc.returncode}). Its log, "
                f"{config.log_path}, says why:\n{tail(config.log_path, 15)}"
            )
        state = read_state(config.data_dir)
        if state and state.get("pid") == proc.pid and health(state):
            return True, describe(config, state, proc.pid)
        time.sleep(0.1)
    return (
        False,
        f"the runtime did not answer within {START_TIMEOUT_SECONDS:.0f} s; see {config.log_path}",
    )


def describe(config: RuntimeConfig, state: dict[str, Any], pid: int) -> str:
    host, port = state.get("host"), state.get("http_port")
    lines = [
        f"Gloam runtime is running (pid {pid}), data in {config.data_dir}",
        f"  user traffic: http://{host}:{port}/c/CANVAS/...  or  http://CANVAS.localhost:{port}/...",
        f"  editor API:   ws://{state.get('editor_host')}:{state.get('editor_port')}/api/canvas/CANVAS/ws",
    ]
    for canvas, token in sorted(read_tokens(config.data_dir).items()):
        lines.append(f"  canvas {canvas}: editor token {token}")
        lines.append(f"    try: curl http://{canvas}.localhost:{port}/hello")
    return "\n".join(lines)


def stop(config: RuntimeConfig) -> tuple[bool, str]:
    pid = running_pid(config)
    if pid is None:
        return False, f"Gloam runtime is not running for {config.data_dir}."
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            config.pid_path.unlink(missing_ok=True)
            return True, f"Gloam runtime stopped (pid {pid})."
        time.sleep(0.1)
    return False, (
        f"the runtime (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f} s; "
        f"its log is {config.log_path}. `kill -9 {pid}` stops it at once (acked edits are safe)."
    )


def status(config: RuntimeConfig) -> dict[str, Any]:
    pid = running_pid(config)
    state = read_state(config.data_dir) if pid is not None else None
    info: dict[str, Any] = {
        "running": pid is not None,
        "pid": pid,
        "http_port": state.get("http_port") if state else None,
        "editor_port": state.get("editor_port") if state else None,
        "data_dir": str(config.data_dir),
        "canvases": [],
        "uptime_seconds": None,
    }
    if state:
        answer = admin_status(config, state) or health(state)
        info["canvases"] = answer.get("canvases", []) if answer else []
        for key in ("store", "store_available", "workers", "migrations"):
            if answer and key in answer:
                info[key] = answer[key]
        started = state.get("started_at")
        if isinstance(started, int | float):
            info["uptime_seconds"] = round(time.time() - started, 1)
    return info


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log yet)"


def follow(path: Path) -> None:
    """Print the log and keep printing what is appended, until interrupted."""
    path.touch(exist_ok=True)
    with open(path, errors="replace") as f:
        sys.stdout.write(f.read())
        sys.stdout.flush()
        while True:
            line = f.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.2)
