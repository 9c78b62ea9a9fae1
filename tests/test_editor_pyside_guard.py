"""The editor survives PySide6's None reference leak (see editor/widgets/pyside_guard.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.runtime_harness import ROOT

LEAKY_CALLS = """
import sys
{guard}
from PySide6.QtGui import QGuiApplication, QFont
app = QGuiApplication([])
font = QFont()
before = sys.getrefcount(None)
for _ in range(50_000):
    font.setBold(True)
print(before - sys.getrefcount(None))
"""


def run(guard: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", LEAKY_CALLS.format(guard=guard)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_fifty_thousand_leaky_qt_calls_do_not_bring_python_down() -> None:
    guarded = run("import editor.widgets")
    assert guarded.returncode == 0, guarded.stderr[-2000:]
    leaked = int(guarded.stdout.strip())
    unguarded = run("")
    if leaked > 0:
        # The binding still leaks: without the guard, Python frees None and aborts.
        assert unguarded.returncode != 0 and "dealloc" in unguarded.stderr
    else:
        assert unguarded.returncode == 0
