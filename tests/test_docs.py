"""Documentation that must not drift: every module and command is described somewhere."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_is_in_the_architecture_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    modules = [
        p.relative_to(ROOT / package).as_posix()
        for package in ("shared_ast", "runtime")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py" and "stdlib" not in p.parts
    ]
    missing = sorted(m for m in modules if f"`{m}`" not in doc)
    assert missing == [], f"docs/architecture.md does not describe: {missing}"


def test_every_module_opens_with_a_docstring() -> None:
    import ast

    missing = []
    for package in ("shared_ast", "runtime", "editor"):
        for p in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(p.read_text())
            if p.stat().st_size and ast.get_docstring(tree) is None:
                missing.append(p.relative_to(ROOT).as_posix())
    assert missing == [], f"modules must open with what they are for: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:15])
    assert "make run" in head and "make test" in head


def test_every_cli_command_is_in_the_readme() -> None:
    from gloam.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    readme = (ROOT / "README.md").read_text()
    missing = sorted(c for c in sub.choices if f"gloam {c}" not in readme)
    assert missing == [], f"README.md does not show: {missing}"
