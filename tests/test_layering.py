"""The dependency rule of DESIGN.md: editor → shared_ast ← runtime, with the `gloam`
command above both.

`shared_ast` must import no Qt, no aiohttp, no sqlite, so that it runs anywhere
(the editor, the runtime, a test, a script); the editor speaks only the wire
protocol to the runtime and never imports its internals.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_SHARED = ("PySide6", "shiboken6", "qasync", "aiohttp", "sqlite3", "sqlite_utils")


def _imported_modules(directory: Path) -> dict[str, set[str]]:
    """Module names each Python file below `directory` imports, read from its source."""
    found: dict[str, set[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(directory))] = names
    return found


def test_shared_ast_source_imports_nothing_forbidden() -> None:
    offenders = {
        f: sorted(m for m in mods if m.split(".")[0] in FORBIDDEN_IN_SHARED)
        for f, mods in _imported_modules(ROOT / "shared_ast").items()
    }
    offenders = {f: m for f, m in offenders.items() if m}
    assert offenders == {}, f"shared_ast must not import Qt, aiohttp or sqlite: {offenders}"


def loaded_with(package: str, looked_for: tuple[str, ...]) -> list[str]:
    """The modules of `looked_for` that loading every module of `package` in a clean
    interpreter pulls in: indirect imports included."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / package).rglob("*.py")
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {looked_for!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [m for m in out.stdout.strip().split(",") if m]


def test_importing_shared_ast_loads_nothing_forbidden() -> None:
    loaded = loaded_with("shared_ast", FORBIDDEN_IN_SHARED)
    assert loaded == [], f"importing shared_ast pulled in: {loaded}"


def test_editor_does_not_import_runtime_internals() -> None:
    offenders = {
        f: sorted(m for m in mods if m.split(".")[0] == "runtime")
        for f, mods in _imported_modules(ROOT / "editor").items()
    }
    offenders = {f: m for f, m in offenders.items() if m}
    assert offenders == {}, (
        f"the editor speaks the wire protocol, never runtime internals: {offenders}"
    )


def test_runtime_imports_neither_the_editor_nor_the_gloam_command() -> None:
    offenders = {
        f: sorted(m for m in mods if m.split(".")[0] in ("editor", "gloam"))
        for f, mods in _imported_modules(ROOT / "runtime").items()
    }
    offenders = {f: m for f, m in offenders.items() if m}
    assert offenders == {}, f"the runtime must not import the editor or the command: {offenders}"


def test_the_editor_does_not_import_the_gloam_command() -> None:
    offenders = {f: sorted(m for m in mods if m.split(".")[0] == "gloam")
                 for f, mods in _imported_modules(ROOT / "editor").items()}
    assert {f: m for f, m in offenders.items() if m} == {}


def test_starting_the_runtime_loads_no_editor_and_no_qt() -> None:
    # What the daemon runs (`python -m runtime`) and every other runtime module.
    loaded = loaded_with("runtime", ("editor", "gloam", "PySide6", "qasync"))
    assert loaded == [], f"importing the runtime pulled in: {loaded}"


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    # The scanner itself must be able to fail.
    (tmp_path / "bad.py").write_text("import sqlite3\nfrom aiohttp import web\nimport attrs\n")
    mods = _imported_modules(tmp_path)["bad.py"]
    assert {m for m in mods if m.split(".")[0] in FORBIDDEN_IN_SHARED} == {"sqlite3", "aiohttp"}
