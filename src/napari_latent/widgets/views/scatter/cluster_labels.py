"""Cluster labels on the embedding scatter: one text per cluster at its centre, clickable.

Each label names what sets its cluster apart (:func:`napari_latent.analysis.clusters.describe_clusters`),
sits on the map (it pans and zooms with the points) and is hit-tested in canvas pixels,
so a click on a label can select the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from vispy import scene

__all__ = ["ClusterLabels"]

_FONT = 9.0
_CHAR_W = 7.0  # approximate advance of one character at _FONT, px
_HALF_H = 10.0


def label_text(cluster) -> str:
    """The text drawn for a cluster: its two strongest traits and its size."""
    traits = " · ".join(t.text for t in cluster.traits[:2]) or f"cluster {cluster.id}"
    return f"{traits} (n={len(cluster):,})"


class ClusterLabels:
    """Texts at cluster centres (data coordinates), drawn above the points."""

    def __init__(self, view: scene.ViewBox, fonts=None, order: int = 20):
        self._text = scene.visuals.Text(
            parent=view.scene, font_manager=fonts, color=(1.0, 0.95, 0.75, 1.0), font_size=_FONT,
            anchor_x="center", anchor_y="center", bold=True,
        )  # fmt: skip
        self._text.order = order
        self._text.set_gl_state("translucent", depth_test=False)
        self._text.visible = False
        self.clusters: list = []
        self.texts: list[str] = []
        self._pos = np.zeros((0, 2), np.float32)

    def set_clusters(self, clusters: Sequence) -> None:
        """Label ``clusters`` (those with a map centre); an empty list hides every label."""
        self.clusters = [c for c in clusters if c.centre is not None]
        self.texts = [label_text(c) for c in self.clusters]
        self._pos = np.array([c.centre for c in self.clusters], np.float32).reshape(-1, 2)
        self._text.visible = bool(self.clusters)
        if self.clusters:
            self._text.text, self._text.pos = self.texts, self._pos
        else:
            self._text.text = ""

    def hit(self, canvas_px: tuple[float, float], data_to_canvas: Callable[[np.ndarray], np.ndarray]):
        """The cluster whose label covers canvas pixel ``canvas_px``, or None."""
        if not self.clusters:
            return None
        centres = data_to_canvas(self._pos)
        half_w = np.array([_CHAR_W * len(t) / 2 + 4 for t in self.texts])
        dx, dy = np.abs(centres[:, 0] - canvas_px[0]), np.abs(centres[:, 1] - canvas_px[1])
        inside = np.flatnonzero((dx <= half_w) & (dy <= _HALF_H))
        if not len(inside):
            return None
        return self.clusters[int(inside[np.argmin(dy[inside])])]
