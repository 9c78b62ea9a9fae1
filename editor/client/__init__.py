"""The editor's side of the wire: a websocket session per canvas, and the remembered
connection settings. Widgets talk to the runtime only through `CanvasSession`."""

from editor.client.queue_file import PendingBatch
from editor.client.session import (
    CONNECTING,
    OFFLINE,
    ONLINE,
    CanvasSession,
    SessionError,
)
from editor.client.settings import Settings, SettingsError

__all__ = [
    "CONNECTING",
    "OFFLINE",
    "ONLINE",
    "CanvasSession",
    "PendingBatch",
    "SessionError",
    "Settings",
    "SettingsError",
]
