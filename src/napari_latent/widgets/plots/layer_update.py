"""Cheap same-shaped updates of a napari image layer, for data that changes many times a second.

``layer.data = new`` re-derives the layer's dimensions, the viewer's dims, the extent, the
slice and the thumbnail: ~20 ms for a 50 x 96 x 96 cine on 2 busy cores. When the new data
has the layer's shape and dtype, :func:`replace_in_place` copies it into the layer's own
array and refreshes only the displayed slice (contrast limits stay fixed); the thumbnail
follows once the updates pause (:class:`ThumbnailDebounce`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtCore import QObject, QTimer

__all__ = ["owned_copy", "replace_in_place", "ThumbnailDebounce"]


def owned_copy(data: np.ndarray) -> np.ndarray:
    """A writable copy for a new layer, so later in-place updates never write into the caller's array."""
    return np.array(data, copy=True)


def replace_in_place(layer: Any, data: np.ndarray) -> bool:
    """Copy ``data`` into ``layer.data`` and redraw the current slice; False when it cannot.

    Only image layers whose data is a writable NumPy array of the same shape and dtype are
    updated in place (no dims, extent or thumbnail work); anything else is left alone.
    """
    from napari.layers import Image

    current = getattr(layer, "data", None)
    current = getattr(current, "__wrapped__", current)  # napari's public-API proxy hands out wrappers
    data = np.asarray(data)
    if (
        not isinstance(layer, Image)
        or getattr(layer, "multiscale", False)
        or not isinstance(current, np.ndarray)
        or not current.flags.writeable
        or current.shape != data.shape
        or current.dtype != data.dtype
    ):
        return False
    np.copyto(current, data)
    layer.refresh(thumbnail=False, highlight=False, extent=False)
    return True


class ThumbnailDebounce(QObject):
    """Refresh a layer's thumbnail once its in-place updates have paused for ``delay_ms``."""

    def __init__(self, delay_ms: int = 250, parent: QObject | None = None):
        super().__init__(parent)
        self._layers: dict[int, Any] = {}
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self._flush)

    def touch(self, layer: Any) -> None:
        """``layer`` changed; its thumbnail is refreshed after the pause."""
        self._layers[id(layer)] = layer
        self._timer.start()

    def stop(self) -> None:
        """Forget the waiting layers (their views are closing)."""
        self._timer.stop()
        self._layers = {}

    def _flush(self) -> None:
        layers, self._layers = list(self._layers.values()), {}
        for layer in layers:
            try:
                layer.refresh(data_displayed=False, highlight=False, extent=False)  # thumbnail only
            except (RuntimeError, KeyError):  # the layer or its viewer is gone
                pass
