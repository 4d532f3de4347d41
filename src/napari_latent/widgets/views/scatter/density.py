"""Density under the points: a smoothed 2-D histogram drawn as an image, for heavy overplotting.

Where 100,000 points pile up, the top points hide how many lie beneath and the picture
depends on drawing order. The density layer counts the points per cell (independent of
order), smooths the counts with a small Gaussian and shows ``log(1 + count)`` in a
colour map under the points, with iso-density contour lines; the points are then drawn
fainter on top (:meth:`ScatterArtist.set_density`).
"""

from __future__ import annotations

import numpy as np
from vispy import scene
from vispy.visuals.transforms import STTransform

__all__ = ["DensityLayer", "density_grid"]

GRID = 256


#: Inferno-like, transparent where nothing is: the background shows through empty cells.
COLOURS = [
    (0.0, 0.0, 0.0, 0.0), (0.26, 0.04, 0.41, 0.55), (0.58, 0.15, 0.40, 0.7),
    (0.87, 0.32, 0.23, 0.8), (0.99, 0.65, 0.04, 0.88), (0.99, 0.99, 0.75, 0.95),
]  # fmt: skip


def density_grid(coords: np.ndarray, bins: int = GRID, sigma: float | None = None):
    """``(density, (x0, x1), (y0, y1))``: smoothed counts on a ``bins`` x ``bins`` grid, rows = y.

    Non-finite points are ignored; the density is ``log1p`` of the smoothed counts scaled
    to 0..1. ``sigma`` (grid cells) defaults to wider for fewer points. None when there are
    no finite points.
    """
    from scipy.ndimage import gaussian_filter

    finite = np.isfinite(coords).all(axis=1)
    xy = coords[finite]
    if len(xy) == 0:
        return None
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = 0.03 * np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    if sigma is None:
        sigma = float(np.clip(0.6 * bins / np.sqrt(len(xy)), 1.5, 8.0))
    counts, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=bins, range=[[lo[1], hi[1]], [lo[0], hi[0]]])
    density = np.log1p(gaussian_filter(counts, sigma))
    top = density.max()
    return (density / top if top > 0 else density).astype(np.float32), (lo[0], hi[0]), (lo[1], hi[1])


class DensityLayer:
    """The density image and its contour lines inside a vispy ViewBox (hidden until shown)."""

    def __init__(self, parent, order: int = 0):
        from vispy.color import Colormap

        self.image = scene.visuals.Image(
            np.zeros((2, 2), np.float32), cmap=Colormap(COLOURS), clim=(0.0, 1.0), parent=parent,
            interpolation="linear",
        )  # fmt: skip
        self.contours = scene.visuals.Isocurve(
            np.zeros((2, 2), np.float32), levels=[0.25, 0.5, 0.75], color=(1, 1, 1, 0.35), parent=parent
        )
        for visual in (self.image, self.contours):
            visual.order = order
            visual.set_gl_state("translucent", depth_test=False)
            visual.visible = False
        self.grid: np.ndarray | None = None

    @property
    def visible(self) -> bool:
        return bool(self.image.visible)

    def set_coords(self, coords: np.ndarray) -> None:
        """Recount the density of ``coords`` ((N, 2) data coordinates)."""
        result = density_grid(coords)
        if result is None:
            self.grid = None
            return
        grid, (x0, x1), (y0, y1) = result
        self.grid = grid
        self.image.set_data(grid)
        self.contours.set_data(grid)
        transform = STTransform(scale=((x1 - x0) / grid.shape[1], (y1 - y0) / grid.shape[0]), translate=(x0, y0))
        self.image.transform = transform
        self.contours.transform = transform

    def show(self, on: bool) -> None:
        """Show or hide the density (hidden while there is nothing to show)."""
        on = bool(on) and self.grid is not None
        self.image.visible = self.contours.visible = on
