"""The connection the editor remembers: runtime URL, canvas, token and author.

Kept as JSON in the user's config folder (platformdirs; `GLOAM_EDITOR_CONFIG_DIR`
moves it, which tests use), readable only by its owner since it holds a token.
`discover_local` finds the runtime that `make run` started on this machine by
reading the files that runtime leaves in its data folder (`runtime.json` for
the ports, `tokens.json` for the plain tokens of the canvases created here),
so a new user connects without pasting a token. The editor never imports the
runtime: these files are read as plain JSON.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import platformdirs

CONFIG_ENV = "GLOAM_EDITOR_CONFIG_DIR"
DATA_ENV = "GLOAM_DATA_DIR"
SETTINGS_FILE = "connection.json"
QUEUES_DIR = "queues"
#: The runtime's files in its data folder (runtime/config.py, runtime/tokens.py).
RUNTIME_STATE_FILE = "runtime.json"
RUNTIME_TOKENS_FILE = "tokens.json"
DEFAULT_EDITOR_URL = "http://127.0.0.1:8471"
PREFERRED_CANVAS = "demo"


class SettingsError(Exception):
    """The settings file exists but cannot be used; the message says how to fix it."""


@attrs.frozen
class Settings:
    editor_url: str
    canvas: str
    token: str
    author: str

    def problems(self) -> list[str]:
        """What is wrong with these settings, in words for the connection dialog."""
        found = []
        parts = urlsplit(self.editor_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            found.append(
                f"the runtime URL {self.editor_url!r} is not like {DEFAULT_EDITOR_URL}; "
                "`gloam runtime status` prints the editor port"
            )
        if not self.canvas:
            found.append("name a canvas (a fresh runtime has one called demo)")
        if not self.token:
            found.append("paste the canvas's editor token (`gloam runtime start` prints it)")
        if not self.author:
            found.append("give an author name; other editors see it next to your edits")
        return found


def config_dir() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("gloam", appauthor=False))


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def default_author() -> str:
    try:
        return getpass.getuser() or "editor"
    except (OSError, KeyError):
        return "editor"


def load() -> Settings | None:
    """The remembered settings, or None when none were saved."""
    path = settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise SettingsError(f"cannot read the editor settings {path}: {e}") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SettingsError(
            f"the editor settings {path} are not JSON ({e}); delete the file to start afresh"
        ) from None
    fields = ("editor_url", "canvas", "token", "author")
    if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in fields):
        raise SettingsError(
            f"the editor settings {path} need the text fields {', '.join(fields)}; "
            "delete the file to start afresh"
        )
    return Settings(**{f: data[f] for f in fields})


def save(settings: Settings) -> Path:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(attrs.asdict(settings), f, indent=2)
    tmp.replace(path)
    return path


def queue_path(settings: Settings) -> Path:
    """Where the unsent edits of this canvas on this runtime are kept between runs."""
    where = re.sub(r"[^A-Za-z0-9.-]+", "_", urlsplit(settings.editor_url).netloc)
    canvas = re.sub(r"[^A-Za-z0-9.-]+", "_", settings.canvas)
    return config_dir() / QUEUES_DIR / f"{canvas}@{where}.json"


def default_data_dir() -> Path:
    """The runtime's data folder, found the way the runtime finds it."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("gloam", appauthor=False))


def discover_local(data_dir: Path | None = None, canvas: str | None = None) -> Settings | None:
    """Settings for the runtime in `data_dir` (default: the runtime's own default), or None
    when that folder holds no token. Picks `canvas`, else demo, else the first by name.

    When the runtime is not running (no `runtime.json`), the default editor port is
    assumed; the session then waits for the runtime to come up.
    """
    folder = data_dir if data_dir is not None else default_data_dir()
    tokens = _read_json(folder / RUNTIME_TOKENS_FILE)
    if not isinstance(tokens, dict):
        return None
    tokens = {k: v for k, v in tokens.items() if isinstance(v, str) and v}
    if canvas is not None:
        chosen = canvas if canvas in tokens else None
    elif PREFERRED_CANVAS in tokens:
        chosen = PREFERRED_CANVAS
    else:
        chosen = min(tokens, default=None)
    if chosen is None:
        return None
    return Settings(_editor_url(folder), chosen, tokens[chosen], default_author())


def _editor_url(folder: Path) -> str:
    state = _read_json(folder / RUNTIME_STATE_FILE)
    if not isinstance(state, dict):
        return DEFAULT_EDITOR_URL
    host, port = state.get("editor_host"), state.get("editor_port")
    if not isinstance(port, int) or isinstance(port, bool):
        return DEFAULT_EDITOR_URL
    if not isinstance(host, str) or host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"  # a runtime listening everywhere is reached here on loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
