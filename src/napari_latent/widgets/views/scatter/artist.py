"""The vispy drawing of an embedding scatter: every point in one Markers visual.

Positions and colours (the colour-by column, with the opacity applied) stay on the GPU in
subject order; a selection change uploads one float per point (:class:`.points.SelectionPoints`
draws the unselected points grey, then the selected ones on top, from the same buffers). The focused subject gets a ring; the hovered one a thinner ring; a drag
shows the lasso or box outline.
"""

from __future__ import annotations

import numpy as np
from vispy import scene

from ...plots.colouring import UNSELECTED
from .points import SelectionPoints

__all__ = ["ScatterArtist", "default_point_size"]

_RING_DARK = (0.0, 0.0, 0.0, 0.9)
_RING_LIGHT = (1.0, 1.0, 1.0, 1.0)
_HOVER = (1.0, 0.85, 0.25, 1.0)
_OUTLINE = (1.0, 1.0, 1.0, 0.9)
_CLEAR = (0.0, 0.0, 0.0, 0.0)


def _disc_markers():
    """A Markers node whose fragment shader only knows discs.

    vispy's Markers branch over 15 symbol shaders per fragment; with one symbol a 100,000
    point redraw in software GL (llvmpipe) takes ~35 % less time. Falls back to the stock
    Markers if vispy's internals change.
    """
    from vispy.visuals import markers

    if not (hasattr(markers.MarkersVisual, "_symbol_shader") and hasattr(markers, "disc")):
        return scene.visuals.Markers

    class DiscMarkersVisual(markers.MarkersVisual):
        _symbol_shader = "float symbol(vec2 pointcoord, float size, int symbol) {\n" + markers.disc + "\n}"

    return scene.visuals.create_visual_node(DiscMarkersVisual)


DiscMarkers = _disc_markers()
#: Antialiasing width (px) of the points: 1 px blurs small points and doubles the fragments.
POINT_ANTIALIAS = 0.7
#: Opacity factor of the points in density mode (the density underneath carries the counts).
DENSITY_FADE = 0.35


def default_point_size(n: int) -> float:
    """A marker diameter (px) that keeps dense maps readable: ~10 px at 24 points, 3 px at 100,000."""
    return float(np.clip(13.0 - 2.2 * np.log10(max(n, 1)), 2.5, 10.0))


class ScatterArtist:
    """Points, focus and hover rings and the tool outline inside one vispy ViewBox."""

    def __init__(self, view: scene.ViewBox):
        self._view = view
        self._points = SelectionPoints(view.scene, antialias=POINT_ANTIALIAS)
        self._density = None  # DensityLayer under the points, made on first use
        self._focus = DiscMarkers(parent=view.scene, antialias=1)
        self._hover = DiscMarkers(parent=view.scene, antialias=1)
        self._outline = scene.visuals.Line(color=_OUTLINE, width=1.5, parent=view.scene, antialias=True)
        self._points.set_order(1)
        for order, visual in enumerate((self._focus, self._hover, self._outline), start=2):
            visual.order = order
            visual.set_gl_state("translucent", depth_test=False)
        self._focus.visible = self._hover.visible = self._outline.visible = False
        self._coords = np.zeros((0, 2), np.float32)
        self._base = np.zeros((0, 4), np.float32)  # colour-by colours, opacity applied
        self._rgba = np.zeros((0, 4), np.float32)  # colour-by colours as given
        self._mask: np.ndarray | None = None
        self._size = 6.0
        self._opacity = 0.85
        self._focus_index: int | None = None
        self._hover_index: int | None = None
        self._order: np.ndarray | None = np.zeros(0, np.int64)
        self._density_on = False
        self._points.set_style(self._size, self._grey())

    # ------------------------------------------------------------------ state
    @property
    def coords(self) -> np.ndarray:
        """(N, 2) float32 coordinates drawn, in subject order."""
        return self._coords

    @property
    def draw_order(self) -> np.ndarray:
        """Subject indices in drawing order (the last is drawn on top): unselected, then selected."""
        if self._order is None:
            n = len(self._coords)
            if self._mask is None:
                self._order = np.arange(n)
            else:
                self._order = np.concatenate([np.flatnonzero(~self._mask), np.flatnonzero(self._mask)])
        return self._order

    @property
    def face_colours(self) -> np.ndarray:
        """(N, 4) float32 RGBA each subject is drawn with, in subject order."""
        if self._mask is None:
            return self._base.copy()
        out = np.empty_like(self._base)
        out[:] = self._grey()
        out[self._mask] = self._base[self._mask]
        return out

    @property
    def size(self) -> float:
        return self._size

    @property
    def opacity(self) -> float:
        return self._opacity

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """((xmin, xmax), (ymin, ymax)) of the finite points, or None when there are none."""
        finite = self._coords[np.isfinite(self._coords).all(axis=1)]
        if len(finite) == 0:
            return None
        lo, hi = finite.min(axis=0), finite.max(axis=0)
        return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))

    # ------------------------------------------------------------------ updates
    def set_coords(self, coords: np.ndarray) -> None:
        """New (N, 2) coordinates; colours are kept when N is unchanged, else reset."""
        coords = np.ascontiguousarray(coords, dtype=np.float32)
        resized = len(coords) != len(self._coords)
        if resized:
            self._rgba = np.tile(np.float32([0.35, 0.7, 0.95, 1.0]), (len(coords), 1))
            self._mask = None
            self._focus_index = self._hover_index = None
            self._base = self._with_opacity(self._rgba)
        self._coords = coords
        self._points.set_positions(coords)
        if resized:
            self._points.set_colours(self._base)
            self._points.set_selection(None)
        self._order = None
        self._update_density()
        self._draw_ring(self._focus, self._focus_index, focus=True)
        self._draw_ring(self._hover, self._hover_index, focus=False)

    def set_colours(self, rgba: np.ndarray) -> None:
        """Per-subject (N, 4) RGBA of the colour-by column (opacity is applied here)."""
        rgba = np.asarray(rgba, dtype=np.float32)
        if rgba.shape != (len(self._coords), 4):
            raise ValueError(f"colours must have shape ({len(self._coords)}, 4), got {rgba.shape}")
        self._rgba = rgba
        self._base = self._with_opacity(rgba)
        self._points.set_colours(self._base)

    def set_selection(self, mask: np.ndarray | None) -> None:
        """Grey everything outside ``mask`` (boolean (N,)); None or an empty mask: nothing greyed."""
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (len(self._coords),):
                raise ValueError(f"selection mask must have shape ({len(self._coords)},), got {mask.shape}")
            if not mask.any():
                mask = None
        self._mask = mask
        self._order = None
        self._points.set_selection(mask)

    def set_style(self, size: float | None = None, opacity: float | None = None) -> None:
        """Marker diameter in screen pixels and opacity (0..1)."""
        if size is not None:
            self._size = float(max(size, 0.5))
        if opacity is not None:
            self._opacity = float(np.clip(opacity, 0.02, 1.0))
            self._base = self._with_opacity(self._rgba)
            self._points.set_colours(self._base)
        self._points.set_style(self._size, self._grey())
        self._draw_ring(self._focus, self._focus_index, focus=True)
        self._draw_ring(self._hover, self._hover_index, focus=False)

    @property
    def density(self) -> bool:
        """Whether the density layer is shown under the (fainter) points."""
        return self._density_on

    @property
    def density_layer(self):
        """The :class:`.density.DensityLayer` (None until density mode was first turned on)."""
        return self._density

    def set_density(self, on: bool) -> None:
        """Density mode: a smoothed density with contours under the points, drawn fainter on top.

        Point counts then read from the density, not from whichever point was drawn last.
        """
        self._density_on = bool(on)
        if on and self._density is None:
            from .density import DensityLayer

            self._density = DensityLayer(self._view.scene, order=0)
            self._density.set_coords(self._coords)
        if self._density is not None:
            self._density.show(on)
        self._base = self._with_opacity(self._rgba)
        self._points.set_colours(self._base)
        self._points.set_style(self._size, self._grey())

    def _update_density(self) -> None:
        if self._density is not None:
            self._density.set_coords(self._coords)
            self._density.show(self._density_on)

    def set_focus(self, index: int | None) -> None:
        """Ring the focused subject (None: no ring)."""
        self._focus_index = self._valid(index)
        self._draw_ring(self._focus, self._focus_index, focus=True)

    def set_hover(self, index: int | None) -> None:
        """Ring the subject under the cursor (None: no ring)."""
        index = self._valid(index)
        if index != self._hover_index:
            self._hover_index = index
            self._draw_ring(self._hover, index, focus=False)

    def set_outline(self, path: np.ndarray | None) -> None:
        """Show a lasso or box outline (M, 2) in data coordinates; None hides it."""
        if path is None or len(path) < 2:
            self._outline.visible = False
            return
        self._outline.set_data(pos=np.asarray(path, dtype=np.float32))
        self._outline.visible = True

    # ------------------------------------------------------------------ drawing
    def _with_opacity(self, rgba: np.ndarray) -> np.ndarray:
        base = np.array(rgba, dtype=np.float32, copy=True)
        base[:, 3] *= self._opacity * (DENSITY_FADE if self._density_on else 1.0)
        return base

    def _grey(self) -> np.ndarray:
        grey = np.asarray(UNSELECTED, np.float32).copy()
        grey[3] *= min(1.0, self._opacity + 0.15) * (DENSITY_FADE if self._density_on else 1.0)
        return grey

    def _valid(self, index: int | None) -> int | None:
        return None if index is None or not 0 <= int(index) < len(self._coords) else int(index)

    def _draw_ring(self, visual: scene.visuals.Markers, index: int | None, *, focus: bool) -> None:
        if index is None or not np.isfinite(self._coords[index]).all():
            visual.visible = False
            return
        pos = np.repeat(self._coords[index : index + 1], 2, axis=0)
        ring = max(self._size * 1.8, self._size + 9.0)
        if focus:
            sizes = np.float32([ring + 3.0, ring])
            edges = np.float32([[*_RING_DARK], [*_RING_LIGHT]])
            widths = np.float32([4.5, 2.0])
        else:
            sizes = np.float32([ring - 1.0, ring - 1.0])
            edges = np.float32([[*_RING_DARK], [*_HOVER]])
            widths = np.float32([3.0, 1.5])
        visual.set_data(pos=pos, size=sizes, edge_width=widths, edge_color=edges, face_color=_CLEAR, symbol="disc")
        visual.visible = True
