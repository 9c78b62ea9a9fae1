"""Print the lower bound of every dependency in pyproject.toml as an exact pin.

`.ci/minimums` installs these into a throwaway venv and runs the suite, which is
how the lower bounds are proven. The lint tools (ruff, mypy) are left out: their
bounds are the versions `make lint` is known clean with, not a compatibility claim.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

LINT_TOOLS = {"ruff", "mypy"}


def pins(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    found = []
    for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?>=([0-9][^,;\s]*)", spec.strip())
        if match is None:
            sys.exit(f"{spec!r} has no plain lower bound (NAME>=VERSION); give it one")
        name, extras, version = match.group(1), match.group(2) or "", match.group(3)
        if name.lower() not in LINT_TOOLS:
            found.append(f"{name}{extras}=={version}")
    return found


if __name__ == "__main__":
    print("\n".join(pins(Path(__file__).resolve().parent.parent / "pyproject.toml")))
