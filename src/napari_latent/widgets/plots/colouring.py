"""Colour for a table column, shared by every view so a category has one colour everywhere.

Categorical and boolean columns get a fixed qualitative palette; continuous columns a
perceptual colormap between robust limits (1st and 99th percentile). Unselected subjects
are drawn in :data:`UNSELECTED`. No Qt here: the views turn RGBA into pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ColumnColours", "column_colours", "is_categorical", "PALETTE", "UNSELECTED", "hex_to_rgba"]

#: Qualitative palette (Okabe-Ito first, then Tableau) readable on dark and light backgrounds.
PALETTE = (
    "#56b4e9", "#e69f00", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7",
    "#4e79a7", "#f28e2b", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
)  # fmt: skip
UNSELECTED = (0.55, 0.55, 0.55, 0.35)
MISSING = (0.4, 0.4, 0.4, 0.6)
DEFAULT = (0.35, 0.7, 0.95, 1.0)
MAX_CATEGORIES = 14


def hex_to_rgba(colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``"#rrggbb"`` -> RGBA floats."""
    c = colour.lstrip("#")
    return (int(c[0:2], 16) / 255, int(c[2:4], 16) / 255, int(c[4:6], 16) / 255, alpha)


def is_categorical(series: pd.Series) -> bool:
    """Bool, string and category columns, and numbers with few distinct values, are categories."""
    if series.dtype == bool or isinstance(series.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(series):
        return True
    return series.nunique(dropna=True) <= 6 and np.allclose(series.dropna() % 1, 0)


@dataclass
class ColumnColours:
    """Per-subject RGBA and what a legend needs."""

    rgba: np.ndarray  # (N, 4) float32
    kind: str  # "categorical", "continuous" or "none"
    categories: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    limits: tuple[float, float] | None = None
    colormap: str = "viridis"


def column_colours(table: pd.DataFrame, column: str | None, *, colormap: str = "viridis") -> ColumnColours:
    """RGBA per row of ``table`` for ``column`` (None: one colour for all)."""
    n = len(table)
    if column is None:
        return ColumnColours(np.tile(np.asarray(DEFAULT, np.float32), (n, 1)), "none")
    series = table[column]
    if is_categorical(series):
        return _categorical(series)
    return _continuous(series, colormap)


def _categorical(series: pd.Series) -> ColumnColours:
    values = series.astype("object").where(series.notna(), None)
    counts = values.value_counts(dropna=True)
    levels = sorted(counts.index[:MAX_CATEGORIES], key=_sort_key)
    rgba = np.tile(np.asarray(MISSING, np.float32), (len(series), 1))
    legend = []
    for i, level in enumerate(levels):
        colour = hex_to_rgba(PALETTE[i % len(PALETTE)])
        rgba[(values == level).to_numpy()] = colour
        legend.append((str(level), colour))
    if len(counts) > MAX_CATEGORIES:
        legend.append(("other", MISSING))
    return ColumnColours(rgba, "categorical", legend)


def _sort_key(value: object) -> tuple[int, object]:
    return (0, value) if isinstance(value, bool | np.bool_ | int | float) else (1, str(value))


def _continuous(series: pd.Series, colormap: str) -> ColumnColours:
    from vispy.color import get_colormap

    x = series.to_numpy(dtype=float)
    finite = np.isfinite(x)
    if not finite.any():
        return ColumnColours(np.tile(np.asarray(MISSING, np.float32), (len(x), 1)), "continuous", limits=(0.0, 1.0))
    lo, hi = np.percentile(x[finite], [1, 99])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    t = np.clip((x - lo) / (hi - lo), 0, 1)
    rgba = np.tile(np.asarray(MISSING, np.float32), (len(x), 1))
    rgba[finite] = get_colormap(colormap).map(t[finite]).astype(np.float32)
    return ColumnColours(rgba, "continuous", limits=(float(lo), float(hi)), colormap=colormap)
