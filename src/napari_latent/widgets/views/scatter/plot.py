"""ScatterPlot: the vispy canvas of one scatter and everything drawn on it, with no Explorer.

It owns the canvas, the camera (aspect 1, so a pixel radius is a data radius), the points
artist, the legend and text overlays and the nearest-point index, and converts between
canvas pixels and data coordinates. :class:`EmbeddingScatter` decides what to show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from vispy import scene

from ...plots.colouring import column_colours
from .artist import ScatterArtist
from .cluster_labels import ClusterLabels
from .legend import legend_entries
from .overlays import Legend, LegendEntry, TextOverlays, font_manager
from .selectors import NearestPoint, ScatterCamera

__all__ = ["BACKGROUND", "ScatterPlot"]

BACKGROUND = "#1c1e23"
_TITLE_PX = 44.0  # room kept free for the title when fitting the view


class ScatterPlot:
    """Canvas, camera, points, legend, title and hover label of one embedding scatter."""

    def __init__(self, size: tuple[int, int] = (640, 520)):
        self.canvas = scene.SceneCanvas(keys=None, bgcolor=BACKGROUND, size=size)
        self.view = self.canvas.central_widget.add_view(bgcolor=BACKGROUND)
        self.camera = ScatterCamera(aspect=1)
        self.view.camera = self.camera
        self.artist = ScatterArtist(self.view)
        fonts = font_manager()
        self.legend = Legend(self.view, fonts)
        self.text = TextOverlays(self.view, fonts)
        self.cluster_labels = ClusterLabels(self.view, fonts)
        self._picker = NearestPoint()
        self._codes: np.ndarray | None = None  # legend row of each subject (categorical)
        self._codes1: np.ndarray | None = None  # the same + 1, for one bincount per selection
        self.view.events.resize.connect(lambda _e: self._place_overlays())

    @property
    def coords(self) -> np.ndarray:
        return self.artist.coords

    # ------------------------------------------------------------------ coordinates
    def canvas_to_data(self, px: np.ndarray) -> np.ndarray:
        """Canvas pixel positions (M, 2) -> data coordinates (M, 2)."""
        tr = self.canvas.scene.node_transform(self.view.scene)
        return tr.map(np.asarray(px, dtype=np.float64).reshape(-1, 2))[:, :2]

    def data_to_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Data coordinates (M, 2) -> canvas pixel positions (M, 2)."""
        tr = self.view.scene.node_transform(self.canvas.scene)
        return tr.map(np.asarray(xy, dtype=np.float64).reshape(-1, 2))[:, :2]

    def canvas_to_view(self, px: tuple[float, float]) -> tuple[float, float]:
        """A canvas pixel position in the view's pixel frame (where overlays live)."""
        x, y = self.canvas.scene.node_transform(self.view).map([px])[0, :2]
        return float(x), float(y)

    def pixel_scale(self) -> float:
        """Canvas pixels per data unit (the camera keeps aspect 1)."""
        a, b = self.data_to_canvas(np.array([[0.0, 0.0], [1.0, 0.0]]))
        return float(np.hypot(*(b - a))) or 1.0

    def nearest(self, x: float, y: float, radius_px: float) -> int | None:
        """The point nearest data position (x, y) within ``radius_px`` screen pixels, or None."""
        return self._picker.query(x, y, radius_px / self.pixel_scale())

    # ------------------------------------------------------------------ content
    def set_coords(self, coords: np.ndarray, *, fit: bool) -> bool:
        """Draw new coordinates; True when the number of points changed (colours reset)."""
        fresh = len(coords) != len(self.artist.coords)
        self.artist.set_coords(coords)
        self._picker.set_coords(self.artist.coords)
        self.artist.set_hover(None)
        self.text.set_hover("", None)
        if fresh:
            self._codes = self._codes1 = None
        if fit:
            self.fit()
        return fresh

    def set_colouring(self, table: pd.DataFrame, column: str | None, title: str, mask: np.ndarray | None) -> None:
        """Colour the points by ``column`` of ``table`` and rebuild the legend."""
        if len(self.artist.coords) != len(table):
            self.legend.clear()
            return
        colours = column_colours(table, column)
        self.artist.set_colours(colours.rgba)
        entries, self._codes = legend_entries(table, column, colours, None)
        self._codes1 = None
        if colours.kind == "categorical":
            self.legend.set_categorical(title, entries)
            self.update_counts(mask)
        elif colours.kind == "continuous":
            self.legend.set_continuous(title, colours.colormap, colours.limits)
        else:
            self.legend.clear()
        self.canvas.update()

    def update_counts(self, mask: np.ndarray | None) -> None:
        """Per-category ``selected / total`` counts in a categorical legend."""
        codes, entries = self._codes, self.legend.entries
        if self.legend.kind != "categorical" or codes is None:
            return
        selected = None
        if mask is not None and len(mask) == len(codes) and mask.any():
            if self._codes1 is None or len(self._codes1) != len(codes):
                self._codes1 = codes.astype(np.intp) + 1  # -1 (not in the legend) -> bin 0, dropped below
            selected = np.bincount(self._codes1[mask], minlength=len(entries) + 1)[1:]
        self.legend.update_counts(
            [LegendEntry(e.label, e.colour, e.count, None if selected is None else int(selected[i]))
             for i, e in enumerate(entries)]
        )  # fmt: skip

    def show_hover(self, index: int | None, canvas_px: tuple[float, float] | None, text: str) -> None:
        """Ring ``index`` and label it beside ``canvas_px`` (None: hide both)."""
        self.artist.set_hover(index)
        at = self.canvas_to_view(canvas_px) if index is not None and canvas_px is not None else None
        self.text.set_hover(text if at is not None else "", at)
        self.canvas.update()

    # ------------------------------------------------------------------ view
    def fit(self) -> None:
        """Fit every point, centred in the area the title (top) and legend (right) leave free."""
        bounds = self.artist.bounds()
        if bounds is None:
            return
        (x0, x1), (y0, y1) = bounds
        pad = 0.04 * max(x1 - x0, y1 - y0, 1e-6)
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        width, height = max(float(self.view.width), 1.0), max(float(self.view.height), 1.0)
        legend_w = self.legend.size[0] + 16.0 if self.legend.kind != "none" else 0.0
        free_w, free_h = max(width - legend_w, width / 2), max(height - _TITLE_PX, height / 2)
        span = max((x1 - x0) / free_w, (y1 - y0) / free_h)  # data units per pixel
        left = x0 - (free_w * span - (x1 - x0)) / 2
        bottom = y0 - (free_h * span - (y1 - y0)) / 2
        self.camera.set_range(x=(left, left + width * span), y=(bottom, bottom + height * span), z=(-1, 1), margin=0)

    def screenshot(self) -> np.ndarray:
        """The canvas rendered now, as an (H, W, 4) uint8 RGBA array."""
        return self.canvas.render()

    def _place_overlays(self) -> None:
        self.legend.place()
        self.text.place()
