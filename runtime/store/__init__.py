"""Everything durable: the `Store` protocol, its records and errors, and `open_store`.

`open_store` is the one place that picks a backend, so a command line option
or a config file can say `postgresql://...` or a file path and nothing else
in the runtime cares which it got.
"""

from __future__ import annotations

from pathlib import Path

from runtime.store.protocol import (
    CanvasInfo,
    CanvasSnapshot,
    OpBatch,
    QueuedEvent,
    StaleCanvas,
    Store,
    StoreError,
    StoreUnavailable,
    TraceRecord,
    UnknownCanvas,
)

__all__ = [
    "CanvasInfo",
    "CanvasSnapshot",
    "OpBatch",
    "QueuedEvent",
    "StaleCanvas",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TraceRecord",
    "UnknownCanvas",
    "is_postgres_url",
    "open_store",
]

_PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(spec: str | Path) -> bool:
    return isinstance(spec, str) and spec.startswith(_PG_SCHEMES)


def open_store(spec: str | Path) -> Store:
    """A PostgreSQL store for a `postgresql://` or `postgres://` URL, else a SQLite file."""
    # Each backend is imported when chosen: a SQLite runtime never loads the driver.
    if is_postgres_url(spec):
        from runtime.store.postgres import PostgresStore  # noqa: PLC0415

        return PostgresStore(str(spec))
    from runtime.store.sqlite import SQLiteStore  # noqa: PLC0415

    return SQLiteStore(Path(spec))
