"""The editor in a real X server: the window opens through Qt's xcb plugin, as on a desktop.

Every other editor test draws offscreen, which needs none of the system
libraries a window does, so a desktop where the window cannot open would pass
them all. Here `gloam editor` runs as a user starts it, under Xvfb (started on
a free display), and real X key events (xdotool, through the XTEST extension)
create a handler and type its code; the runtime's answer shows they arrived.

`make test` installs Xvfb and xdotool first (`python -m editor.platform_check
--install --xvfb`); without them these tests fail with that command, they are
never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from editor import platform_check
from tests.runtime_harness import ROOT, RuntimeProcess, running

WAIT = 30.0


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `.venv/bin/python -m editor.platform_check "
                    "--install --xvfb` (what `make test` does first)")
    return path


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb server on a display number it picks itself."""
    xvfb = _tool("Xvfb")
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1280x900x24",
                             "-nolisten", "tcp"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        assert number, f"Xvfb did not start: {proc.stderr.read() if proc.stderr else ''}"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _desktop_env(display: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, GLOAM_EDITOR_CONFIG_DIR=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(home / "run"))
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    return env


def _xdotool(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([_tool("xdotool"), *args], env=env, capture_output=True, text=True,
                          timeout=WAIT, check=False)
    assert done.returncode == 0, f"xdotool {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def _wait_answer(rt: RuntimeProcess, path: str, want: object, editor: subprocess.Popen[str]
                 ) -> None:
    deadline = time.monotonic() + WAIT
    got: object = None
    while time.monotonic() < deadline:
        assert editor.poll() is None, f"the editor exited: {editor.communicate()[1][-2000:]}"
        got = rt.get(path)
        if got == want:
            return
        time.sleep(0.1)
    raise AssertionError(f"GET {path} answered {got!r}, not {want!r}")


def test_the_editor_opens_a_window_and_takes_real_keys(tmp_path: Path, display: str) -> None:
    env = _desktop_env(display, tmp_path)
    assert platform_check.problem(env) is None
    with running(tmp_path / "rt") as rt:
        editor = subprocess.Popen(
            [sys.executable, "-m", "gloam.cli", "editor", "--url", rt.editor, "--token",
             rt.token(), "--canvas", "demo"], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            window = _xdotool(env, "search", "--sync", "--name", "^Gloam")
            _xdotool(env, "windowfocus", "--sync", window.splitlines()[0])
            time.sleep(0.5)  # the session connects and loads the canvas
            # As the README's walkthrough: Ctrl+N, the route typed over `/new`, Enter, the body.
            _xdotool(env, "key", "--delay", "40", "ctrl+n")
            _xdotool(env, "type", "--delay", "40", "/hi")
            _xdotool(env, "key", "--delay", "40", "Return")
            _xdotool(env, "type", "--delay", "40", '"hi from X"')
            _wait_answer(rt, "/hi", (200, "hi from X"), editor)
        finally:
            editor.terminate()
            editor.communicate(timeout=WAIT)


def test_a_window_that_cannot_open_is_a_message_not_an_abort(tmp_path: Path) -> None:
    """No X server at the display: Qt would abort; the editor says what is wrong."""
    env = _desktop_env(f":{_free_display()}", tmp_path)
    done = subprocess.run([sys.executable, "-m", "gloam.cli", "editor", "--url",
                           "http://127.0.0.1:9", "--token", "t", "--canvas", "demo"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT,
                          check=False)
    assert done.returncode == 2, done
    assert "could not open a window with the 'xcb' platform plugin" in done.stderr
    assert "QT_QPA_PLATFORM=offscreen" in done.stderr


def _free_display() -> int:
    return next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                and not Path(f"/tmp/.X{n}-lock").exists())
