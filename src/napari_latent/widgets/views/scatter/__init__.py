"""Embedding scatter: one vispy map per latent space, brushable, coloured by any column.

``artist`` draws (one Markers visual for every point), ``overlays`` the legend and labels,
``selectors`` turns lasso/box/click/mouse events into subject indices, ``compute`` runs
projections in a worker, and ``widget`` wires it all to the Explorer.
"""

from .selectors import points_in_box, points_in_polygon
from .widget import EmbeddingScatter

__all__ = ["EmbeddingScatter", "points_in_box", "points_in_polygon"]
