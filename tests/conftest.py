"""Shared pytest setup: Qt runs offscreen, hypothesis has one profile per test tier."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Strategies and helpers live next to the tests and are imported as plain modules.
sys.path.insert(0, str(Path(__file__).parent))

# The session fixture `pg_cluster`: a throwaway PostgreSQL server, started on first use.
from pg_cluster import pg_cluster  # noqa: F401

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# `make test-slow` runs the fuzz tests marked slow; their own settings raise the counts.
settings.register_profile("slow", parent=settings.get_profile("default"), max_examples=20_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="module")
def loop(qapp: Any) -> Iterator[Any]:
    """The editor's qasync loop (`editor.event_loop.EditorLoop`), for tests of the editor
    with a session: its requests run on Qt's event loop, as in the app."""
    # One qasync loop for the module: a closed qasync loop can leave socket notifiers
    # behind, and a new loop reusing their file descriptors crashed once.
    from editor.event_loop import EditorLoop

    loop = EditorLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        loop.close()
        asyncio.set_event_loop(None)
