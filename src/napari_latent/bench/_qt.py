"""Qt helpers of the GUI groups (imported only when a GUI group runs)."""

from __future__ import annotations

from typing import Any


def qt_app() -> Any:
    """The running QApplication, made the way napari makes it when there is none."""
    try:
        from napari.qt import get_qapp

        return get_qapp()
    except ImportError:
        from qtpy.QtWidgets import QApplication

        return QApplication.instance() or QApplication([])


def record_renderer(machine: dict[str, Any]) -> None:
    """Add the OpenGL renderer to the machine record (once)."""
    if "opengl_renderer" not in machine:
        from .machine import opengl_renderer

        machine["opengl_renderer"] = opengl_renderer()
