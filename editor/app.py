"""Start the editor: find the runtime, open a session, show the window on a qasync loop.

`python -m editor` (or `gloam editor`) connects to the runtime named on the
command line, else to the one it remembers, else to the local runtime that
`make run` started (its data folder holds the editor port and canvas tokens).
What it connected to is remembered for next time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from editor.client import settings as settings_mod


def _resolve(args: argparse.Namespace) -> settings_mod.Settings | str:
    remembered = None
    try:
        remembered = settings_mod.load()
    except settings_mod.SettingsError as e:
        print(f"gloam editor: ignoring remembered settings: {e}", file=sys.stderr)
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else None
    local = settings_mod.discover_local(data_dir, args.canvas)
    base = None
    if args.url and args.token:
        base = settings_mod.Settings(args.url, args.canvas or "demo", args.token,
                                     args.author or settings_mod.default_author())
    elif local is not None and (remembered is None or args.data_dir or
                                remembered.editor_url != local.editor_url or
                                (args.canvas and remembered.canvas != args.canvas)):
        base = local
    elif remembered is not None and (not args.canvas or remembered.canvas == args.canvas):
        base = remembered
    if base is None:
        return ("no runtime to connect to: start one with `make run` (or `gloam runtime start`), "
                "or pass --url URL --token TOKEN --canvas NAME (the token is printed by "
                "`gloam runtime status` and `gloam canvas new NAME`)")
    if args.author:
        base = settings_mod.Settings(base.editor_url, base.canvas, base.token, args.author)
    return base


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gloam editor", description="the Gloam structure editor")
    p.add_argument("--url", help="the runtime's editor API, e.g. http://127.0.0.1:8471")
    p.add_argument("--token", help="the canvas's editor token")
    p.add_argument("--canvas", help="the canvas to open (default: the remembered one, or demo)")
    p.add_argument("--author", help="your name as other editors see it")
    p.add_argument("--data-dir", help="a local runtime's data folder to find it by")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("darwin", "win32")):
        print("gloam editor: no display here (DISPLAY is not set), so no window can open. "
              "Run it on a desktop, or set QT_QPA_PLATFORM=offscreen to run it headless.",
              file=sys.stderr)
        return 2
    from editor import platform_check

    trouble = platform_check.problem()
    if trouble is not None:
        print(f"gloam editor: {trouble}", file=sys.stderr)
        return 2
    chosen = _resolve(args)
    if isinstance(chosen, str):
        print(f"gloam editor: {chosen}", file=sys.stderr)
        return 1
    import platformdirs
    from PySide6.QtWidgets import QApplication

    from shared_ast import fuzz

    # Fuzzing's Hypothesis caches go to the editor's cache folder, not the working folder.
    cache = Path(platformdirs.user_cache_dir("gloam", appauthor=False))
    fuzz.keep_files_in(cache / "hypothesis")

    from editor.client.session import CanvasSession, SessionError
    from editor.controller import EditorController
    from editor.event_loop import EditorLoop
    from editor.widgets.keymap import KeymapError
    from editor.widgets.main_window import MainWindow
    from editor.widgets.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)  # type: ignore[arg-type]
    loop = EditorLoop(app)
    asyncio.set_event_loop(loop)
    try:
        session = CanvasSession(chosen.editor_url, chosen.canvas, chosen.token, chosen.author,
                                queue_path=settings_mod.queue_path(chosen))
    except SessionError as e:
        print(f"gloam editor: {e}", file=sys.stderr)
        return 1
    settings_mod.save(chosen)
    controller = EditorController(session)
    try:
        window = MainWindow(controller, f"Gloam — {chosen.canvas} on {chosen.editor_url}")
    except KeymapError as e:
        print(f"gloam editor: {e}; fix assets/keymap.json (its bindings name commands "
              "by name) and start again", file=sys.stderr)
        return 1
    # What a loaded canvas allocates lives as long as the window: keep it out of the
    # garbage collector's full passes, which otherwise pause a keystroke now and then.
    session.loaded.connect(lambda _toplevels: gc.freeze())
    window.show()
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    session.start()
    controller.refresh_404s()
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(controller.close())
    return 0


if __name__ == "__main__":
    sys.exit(main())
