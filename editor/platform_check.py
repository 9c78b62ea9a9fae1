"""Can a window open here? Checked before Qt is started, because Qt cannot be asked.

When Qt's platform plugin cannot load (PySide6's `xcb` plugin needs system
libraries such as `libxcb-icccm4` that a minimal system lacks) Qt prints a
riddle and aborts the process, which no Python code can catch. So the editor
and `make run` check first, without loading Qt in this process:

- `missing_libraries` lists the shared libraries the platform plugin links that
  the dynamic loader cannot find (`ldd`), and `debian_packages` names the
  Debian packages that hold them;
- `probe` starts Qt in a child process, so an abort there becomes a message here.

`python -m editor.platform_check [--install] [--xvfb]` prints the verdict; with
`--install`, as root on a system with apt, it installs the missing packages
(and with `--xvfb`, the X server and key sender the tests use: Xvfb, xdotool).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Platforms that draw without a window system: nothing to check.
HEADLESS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "minimalegl", "vkkhrdisplay")
#: Where the sonames do not follow Debian's library-package naming.
_PACKAGE_OF = {"libGL.so.1": "libgl1", "libEGL.so.1": "libegl1", "libOpenGL.so.0": "libopengl0"}
PROBE_TIMEOUT = 20.0


def platform_name(env: os._Environ[str] | dict[str, str] | None = None) -> str | None:
    """The Qt platform plugin that would load here, or None where Qt picks natively
    (macOS, Windows). A QT_QPA_PLATFORM setting wins; otherwise Wayland or X11."""
    env = os.environ if env is None else env
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if sys.platform in ("darwin", "win32"):
        return None
    return "wayland" if env.get("WAYLAND_DISPLAY") else "xcb"


def plugin_path(platform: str) -> Path | None:
    """PySide6's plugin file for a platform, or None if PySide6 has none by that name."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
    return path if path.exists() else None


def missing_libraries(plugin: Path) -> list[str]:
    """The sonames the plugin needs that the dynamic loader cannot find, in ldd's order."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True,
                             timeout=PROBE_TIMEOUT, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def debian_package(soname: str) -> str:
    """The Debian package holding a library, by the policy's naming rule:
    libxcb-icccm.so.4 → libxcb-icccm4, libxkbcommon-x11.so.0 → libxkbcommon-x11-0."""
    if soname in _PACKAGE_OF:
        return _PACKAGE_OF[soname]
    base, _, version = soname.partition(".so.")
    base = base.lower()
    version = version.split(".")[0]
    if not version:
        return base
    return f"{base}-{version}" if base[-1].isdigit() else f"{base}{version}"


def debian_packages(sonames: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(debian_package(s) for s in sonames))


def install_command(packages: Sequence[str]) -> str:
    prefix = "" if _is_root() else "sudo "
    return f"{prefix}apt-get install -y --no-install-recommends {' '.join(packages)}"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def can_install() -> bool:
    """Root on a system with apt-get: missing packages can be installed for the user."""
    return _is_root() and shutil.which("apt-get") is not None


def probe(platform: str, env: dict[str, str] | None = None) -> str | None:
    """Start Qt with this platform in a child process: None if it came up, else what Qt said."""
    code = ("import sys\nfrom PySide6.QtGui import QGuiApplication\n"
            "app = QGuiApplication(sys.argv[:1])\nprint(app.platformName())\n")
    child_env = dict(os.environ if env is None else env)
    child_env["QT_QPA_PLATFORM"] = platform
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=child_env, timeout=PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return f"Qt did not start within {PROBE_TIMEOUT:.0f} s"
    if done.returncode == 0:
        return None
    said = [line for line in done.stderr.splitlines() if line.strip()]
    how = (f"killed by signal {-done.returncode}" if done.returncode < 0
           else f"exit status {done.returncode}")
    return f"Qt stopped ({how}): " + (" / ".join(said[:3]) or "it printed nothing")


def problem(env: dict[str, str] | None = None) -> str | None:
    """Why no editor window can open here, with what to do; None if one can."""
    platform = platform_name(env)
    if platform is None or platform in HEADLESS:
        return None
    plugin = plugin_path(platform)
    if plugin is not None:
        missing = missing_libraries(plugin)
        if missing:
            packages = debian_packages(missing)
            return (f"Qt's {platform!r} platform plugin cannot load: the system libraries "
                    f"{', '.join(missing)} are missing. Install them with:\n"
                    f"    {install_command(packages)}\n"
                    "(`make run` does this itself when run as root), then start again.")
    said = probe(platform, env)
    if said is None:
        return None
    return (f"Qt could not open a window with the {platform!r} platform plugin. {said}\n"
            "Check that the display is running and reachable (DISPLAY / WAYLAND_DISPLAY), "
            "or set QT_QPA_PLATFORM=offscreen to run without a window.")


def install(packages: Sequence[str]) -> tuple[bool, str]:
    """apt-get install the packages (as root); refreshes the package lists once if needed."""
    if not packages:
        return True, "nothing to install"
    if not can_install():
        return False, f"install them with:\n    {install_command(packages)}"
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if first.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, check=False)
        first = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if first.returncode != 0:
        tail = " / ".join(first.stderr.strip().splitlines()[-3:])
        return False, (f"`{' '.join(command)}` failed: {tail}\n"
                       "Check the network and the apt sources, then run it again.")
    return True, f"installed {' '.join(packages)}"


def needed_packages(platform: str = "xcb") -> list[str]:
    plugin = plugin_path(platform)
    return [] if plugin is None else debian_packages(missing_libraries(plugin))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m editor.platform_check",
                                description="can the editor's window open here?")
    p.add_argument("--install", action="store_true",
                   help="install missing system packages (root with apt), else print the command")
    p.add_argument("--xvfb", action="store_true",
                   help="also what the end-to-end test in a real X server uses: Xvfb, xdotool")
    args = p.parse_args(argv)
    packages = needed_packages("xcb")
    if args.xvfb:
        packages += [package for tool, package in (("Xvfb", "xvfb"), ("xdotool", "xdotool"))
                     if shutil.which(tool) is None]
    if not packages:
        print("platform check: the xcb platform plugin's libraries are all here"
              + (", and Xvfb and xdotool are installed" if args.xvfb else ""))
        return 0
    if not args.install:
        print(f"platform check: missing {' '.join(packages)}; install them with:\n"
              f"    {install_command(packages)}", file=sys.stderr)
        return 1
    ok, message = install(packages)
    print(f"platform check: {message}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
