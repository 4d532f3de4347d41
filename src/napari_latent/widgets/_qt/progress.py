"""Progress bars that repaint with the next frame instead of at once."""

from __future__ import annotations

from qtpy.QtWidgets import QProgressBar

__all__ = ["set_progress"]


def set_progress(bar: QProgressBar, done: int, total: int) -> None:
    """Show ``done`` of ``total`` (``total`` <= 0: busy) on ``bar``, repainting lazily.

    ``QProgressBar.setValue`` repaints synchronously, and in a window holding OpenGL canvases
    every repaint composes the whole window; with updates held off, the value lands with the
    next scheduled paint, coalesced with whatever else redraws (a streamed t-SNE layout).
    """
    bar.setUpdatesEnabled(False)
    try:
        if total <= 0:
            bar.setRange(0, 0)
        else:
            bar.setRange(0, int(total))
            bar.setValue(min(int(done), int(total)))
    finally:
        bar.setUpdatesEnabled(True)
    bar.update()
