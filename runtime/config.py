"""Where the runtime keeps its state and how it listens.

The data folder defaults to the platform's user data folder (platformdirs),
and `--data-dir` or `GLOAM_DATA_DIR` move it. It holds the SQLite file, the
pid file, the log and `runtime.json` (the ports and the demo token a running
daemon announced), so every command finds a running daemon from the folder
alone.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import attrs
import platformdirs

DB_FILE = "gloam.sqlite3"
PID_FILE = "runtime.pid"
LOG_FILE = "runtime.log"
STATE_FILE = "runtime.json"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
DEFAULT_EDITOR_PORT = 8471


#: A canvas name is a DNS label, since user traffic reaches it as NAME.localhost.
CANVAS_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def canvas_name_problem(name: str) -> str | None:
    """Why `name` cannot name a canvas, or None: the one rule, wherever a name enters."""
    if CANVAS_NAME.fullmatch(name):
        return None
    return (f"{name[:80]!r} cannot name a canvas: use lowercase letters, digits and inner "
            "hyphens, at most 63 (it becomes the host name NAME.localhost)")


def default_workers() -> int:
    """One traffic worker per core, and at least two, so one runaway never stops traffic."""
    return max(2, os.cpu_count() or 2)


def default_data_dir() -> Path:
    env = os.environ.get("GLOAM_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("gloam", appauthor=False))


@attrs.frozen
class RuntimeConfig:
    data_dir: Path = attrs.field(factory=default_data_dir, converter=Path)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    editor_host: str = DEFAULT_HOST
    editor_port: int = DEFAULT_EDITOR_PORT
    #: Create the `demo` canvas in a fresh data folder.
    demo: bool = True
    #: Traces kept per handler: the last N, and none older than this.
    trace_keep_last: int = 100
    trace_keep_seconds: float = 7 * 24 * 3600
    #: Largest editor message accepted, in bytes.
    max_message_bytes: int = 4 * 1024 * 1024
    #: Largest HTTP request body accepted, in bytes.
    max_body_bytes: int = 8 * 1024 * 1024
    #: How often workers look for due events, in seconds.
    worker_poll_seconds: float = 0.05
    cron_poll_seconds: float = 1.0
    #: A failed worker run is retried after base * 2^(attempts - 1) seconds (capped at 5 minutes).
    worker_backoff_seconds: float = 1.0
    #: Code that traffic reached within this many seconds is locked (0: no locking).
    lock_window_seconds: float = 7 * 24 * 3600
    #: Traffic worker processes, each holding the live table and serving the traffic port.
    workers: int = attrs.field(factory=default_workers)
    #: Wall-clock limit of one run of user code (a request, a worker event, a cron, a run).
    time_limit_seconds: float = 1.0
    #: What one run may build in all (Strings, Lists, Dicts, counted as they are built).
    alloc_limit_mb: float = 64.0
    #: A worker that has not reported for this long is replaced (its requests answered 503).
    stall_seconds: float = 5.0
    #: What may wait to be sent to one editor that is not reading; past it the session
    #: is closed with a reason, and the editor reconnects and resumes.
    editor_backlog_mb: float = 64.0
    #: How long a traffic connection may take to send a request's headers (and stay
    #: idle between requests), and a request's body.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    #: Open traffic connections per worker; past it new ones are answered 503 and
    #: closed. 0: from the open-file limit (it less a reserve for the store and logs).
    max_connections: int = 0
    #: Where state lives: None for the SQLite file in the data folder, or a
    #: `postgresql://USER@HOST/DB` URL shared by several runtime nodes.
    store_url: str | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def store_spec(self) -> str:
        """What `runtime.store.open_store` opens: the PostgreSQL URL, or the SQLite file."""
        return self.store_url or str(self.db_path)

    @property
    def pid_path(self) -> Path:
        return self.data_dir / PID_FILE

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE


def make_private(data_dir: Path) -> None:
    """The data folder and everything in it readable by its owner alone (traces keep
    requests' headers and bodies, cookies included), and so is every file this
    process makes from now on."""
    os.umask(0o077)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(0o600)


def config_to_json(config: RuntimeConfig) -> str:
    """The config as JSON, for a traffic worker's command line."""
    return json.dumps(attrs.asdict(config, value_serializer=lambda _i, _a, v: (
        str(v) if isinstance(v, Path) else v)))


def config_from_json(text: str) -> RuntimeConfig:
    return RuntimeConfig(**json.loads(text))


def write_state(config: RuntimeConfig, state: dict[str, object]) -> None:
    tmp = config.state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(config.state_path)


def read_state(data_dir: Path) -> dict[str, object] | None:
    try:
        data = json.loads((data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
