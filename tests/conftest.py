"""Shared pytest setup: Qt runs offscreen, hypothesis has one profile per test tier."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
