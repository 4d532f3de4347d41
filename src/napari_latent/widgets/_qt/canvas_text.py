"""The one line of text napari draws over its canvas, for messages that belong on the canvas."""

from __future__ import annotations

from typing import Any

__all__ = ["canvas_text"]


def canvas_text(viewer: Any) -> Any:
    """``viewer``'s canvas text overlay (``viewer.canvas.overlays["text"]``; ``text_overlay`` in older napari)."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.overlays["text"] if canvas is not None else viewer.text_overlay
