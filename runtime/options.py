"""The runtime's command-line options, shared by `gloam runtime|canvas|up` (the
`gloam` package) and `python -m runtime serve` (what the daemon starts).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.config import (
    DEFAULT_EDITOR_PORT,
    DEFAULT_HOST,
    DEFAULT_PORT,
    RuntimeConfig,
    default_data_dir,
)


def config_from_args(args: argparse.Namespace) -> RuntimeConfig:
    return RuntimeConfig(
        data_dir=Path(args.data_dir).expanduser() if args.data_dir else default_data_dir(),
        host=args.host,
        port=args.port,
        editor_host=args.editor_host,
        editor_port=args.editor_port,
        demo=not args.no_demo,
        worker_backoff_seconds=args.worker_backoff,
        lock_window_seconds=args.lock_window,
        time_limit_seconds=args.time_limit,
        alloc_limit_mb=args.alloc_limit,
        stall_seconds=args.stall_seconds,
        editor_backlog_mb=args.editor_backlog,
        header_timeout_seconds=args.header_timeout,
        body_timeout_seconds=args.body_timeout,
        max_connections=args.max_connections,
        store_url=args.store,
        **({"workers": args.workers} if args.workers else {}),
    )


def serve_args(args: argparse.Namespace) -> list[str]:
    out = [
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--editor-host",
        args.editor_host,
        "--editor-port",
        str(args.editor_port),
    ]
    if args.data_dir:
        out += ["--data-dir", str(Path(args.data_dir).expanduser().resolve())]
    if args.no_demo:
        out.append("--no-demo")
    out += ["--worker-backoff", str(args.worker_backoff)]
    out += ["--lock-window", str(args.lock_window)]
    out += ["--time-limit", str(args.time_limit)]
    out += ["--alloc-limit", str(args.alloc_limit)]
    out += ["--stall-seconds", str(args.stall_seconds)]
    out += ["--editor-backlog", str(args.editor_backlog)]
    out += ["--header-timeout", str(args.header_timeout)]
    out += ["--body-timeout", str(args.body_timeout)]
    out += ["--max-connections", str(args.max_connections)]
    if args.workers:
        out += ["--workers", str(args.workers)]
    if args.store:
        out += ["--store", args.store]
    return out


def add_runtime_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", help="data folder (default: the user data folder, or $GLOAM_DATA_DIR)"
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="address for user traffic")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port for user traffic")
    p.add_argument("--editor-host", default=DEFAULT_HOST, help="address for the editor API")
    p.add_argument(
        "--editor-port", type=int, default=DEFAULT_EDITOR_PORT, help="port for the editor API"
    )
    p.add_argument("--no-demo", action="store_true", help="do not create the demo canvas")
    p.add_argument("--lock-window", type=float, default=7 * 24 * 3600, metavar="SECONDS",
                   help="code traffic reached this recently is locked (default 7 days; 0: off)")
    p.add_argument("--worker-backoff", type=float, default=1.0, metavar="SECONDS",
                   help="first retry delay of a failed worker run; doubles each attempt")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="traffic worker processes (default: one per core, at least 2)")
    p.add_argument("--time-limit", type=_seconds, default=1.0, metavar="SECONDS",
                   help="wall-clock limit of one run of user code (default 1 s)")
    p.add_argument("--alloc-limit", type=_megabytes, default=64.0, metavar="MB",
                   help="what one run may build in all, in MiB (default 64)")
    p.add_argument("--stall-seconds", type=_seconds, default=5.0, metavar="SECONDS",
                   help="a traffic worker silent this long is replaced (default 5 s)")
    p.add_argument("--editor-backlog", type=_megabytes, default=64.0, metavar="MB",
                   help="what may wait for an editor that stops reading before it is "
                        "disconnected (it reconnects and resumes; default 64 MiB)")
    p.add_argument("--header-timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="time a traffic connection has to send a request's headers, and to "
                        "stay idle between requests (default 10 s)")
    p.add_argument("--body-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="time a request has to send its body (default 30 s)")
    p.add_argument("--max-connections", type=_non_negative_int, default=0, metavar="N",
                   help="open traffic connections per worker; more are answered 503 "
                        "(default 0: from the open-file limit)")
    p.add_argument("--store", default=None, metavar="URL",
                   help="postgresql://USER@HOST/DB to share state between runtime nodes "
                        "(default: a SQLite file in the data folder)")


def _bounded(convert: Callable[[str], float], what: str, low: float, high: float,
             low_allowed: bool) -> Callable[[str], Any]:
    """An argparse type: `text` as `convert` makes it, within (or from) `low` to `high`."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not (value >= low if low_allowed else value > low) or not value < high:
            least = f"at least {low:g}" if low_allowed else f"more than {low:g}"
            raise argparse.ArgumentTypeError(f"{text!r}: {least} and less than {high:g}")
        return value
    return parse


_non_negative_int = _bounded(int, "a whole number", 0, 1e9, low_allowed=True)
_positive_int = _bounded(int, "a whole number", 1, 1e9, low_allowed=True)
#: Seconds: more than none, less than a day.
_seconds = _bounded(float, "a number of seconds", 0, 86400, low_allowed=False)
#: MiB: more than none, less than a TiB.
_megabytes = _bounded(float, "a number of MiB", 0, 1024 * 1024, low_allowed=False)
