"""The editor's Qt widgets: they show the controller's state and send it commands."""

# Before any widget paints: see pyside_guard for the PySide6 bug it works around.
from editor.widgets import pyside_guard  # noqa: F401
