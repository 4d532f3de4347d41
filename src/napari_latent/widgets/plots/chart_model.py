"""Binning for the distribution charts: one :class:`ChartData` per table column (no Qt).

Each subject's bin is computed once when a chart is made; the counts of any selection are
then one ``np.bincount`` over the selected subjects' bins, so re-counting a 100,000-subject
selection for a dozen charts takes a few milliseconds.

Categorical and boolean columns (:func:`.colouring.is_categorical`) get one bar per level,
in the order and colours of :func:`.colouring.column_colours`, so a category has the same
colour as in the scatter; continuous columns get a histogram of 15-30 bins with round edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .axes import format_number, nice_step, nice_ticks
from .colouring import DEFAULT, MISSING, column_colours, is_categorical

__all__ = [
    "ChartData", "Brush", "combine_brush", "make_chart_data",
    "nice_edges", "nice_ticks", "pretty_unit", "format_number",
]  # fmt: skip

Rgba = tuple[float, float, float, float]
#: What a chart's brush covers: bar indices (categories) or value ranges [(lo, hi), ...] (histograms).
Brush = set[int] | list[tuple[float, float]]
OTHER = "other"
MISSING_LABEL = "missing"


@dataclass
class ChartData:
    """One column's bars: what they are, how many subjects each holds, and every subject's bar."""

    column: str
    kind: str  # "categorical" or "histogram"
    labels: list[str]  # one per bar, as drawn
    colours: list[Rgba]  # one per bar
    bin_of: np.ndarray  # (N,) int: the bar of each subject; len(labels) = not drawn (NaN)
    totals: np.ndarray  # (bars,) int64: subjects per bar in the whole cohort
    values: list[list[Any]] = field(default_factory=list)  # categorical: the column values each bar holds
    edges: np.ndarray | None = None  # histogram: (bars + 1,) bin edges
    x: np.ndarray | None = None  # histogram: (N,) the values as floats (NaN = missing)
    unit: str = ""
    description: str = ""

    @property
    def n_bars(self) -> int:
        return len(self.labels)

    def mean(self, indices: np.ndarray | None = None) -> float | None:
        """Histogram: the mean of the subjects at ``indices`` (default: all); None for categories."""
        if self.x is None:
            return None
        x = self.x if indices is None else self.x[indices]
        x = x[np.isfinite(x)]
        return float(x.mean()) if x.size else None

    def selected_counts(self, indices: np.ndarray) -> np.ndarray:
        """Subjects per bar among the subjects at ``indices`` (one bincount)."""
        return np.bincount(self.bin_of[indices], minlength=self.n_bars + 1)[: self.n_bars]

    def bar_of_value(self, value: Any) -> int:
        """The bar holding ``value`` (a category, its label, or a number for a histogram)."""
        if self.kind == "histogram":
            x = float(value)
            if not np.isfinite(x) or x < self.edges[0] or x > self.edges[-1]:
                raise ValueError(f"{value!r} is outside {self.column}'s range {self.edges[0]:g}..{self.edges[-1]:g}")
            return int(min(np.searchsorted(self.edges, x, side="right") - 1, self.n_bars - 1))
        for i, (label, vals) in enumerate(zip(self.labels, self.values)):
            if any(_same(value, v) for v in vals) or (isinstance(value, str) and value == label):
                return i
        raise ValueError(f"{value!r} is not a category of {self.column}; categories: {self.labels}")

    def filter_of_bars(self, bars: list[int]) -> tuple[float, float] | list[Any]:
        """The :meth:`Explorer.select` filter for a set of bars: values, or the (lo, hi) of adjacent bins."""
        if self.kind == "histogram":
            return (float(self.edges[min(bars)]), float(self.edges[max(bars) + 1]))
        return [v for b in sorted(bars) for v in self.values[b]]


def combine_brush(old: Brush | None, new: Brush, mode: str) -> Brush:
    """A chart's brush after brushing ``new`` with ``mode`` ("replace", "add", "subtract")."""
    if old is None or mode not in ("add", "subtract"):
        return new
    if isinstance(new, set):
        return set(old) | new if mode == "add" else set(old) - new
    if mode == "add":
        return list(old) + list(new)
    out = list(old)
    for c, d in new:
        out = [piece for a, b in out for piece in ((a, min(b, c)), (max(a, d), b)) if piece[0] < piece[1]]
    return out


def _same(a: Any, b: Any) -> bool:
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    if isinstance(a, bool | np.bool_) != isinstance(b, bool | np.bool_):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def make_chart_data(table: pd.DataFrame, column: str, info: Any = None, *, bins: int = 24) -> ChartData:
    """Bars of ``table[column]``: categories (bar chart) or up to ``bins`` round bins (histogram).

    Histograms of few subjects get fewer bins (2 sqrt(n), at least 10 as the target).
    """
    series = table[column]
    unit = getattr(info, "unit", "") or ""
    description = getattr(info, "description", "") or ""
    if is_categorical(series):
        data = _categorical(series, column)
    else:
        data = _histogram(series, column, bins)
    data.unit, data.description = pretty_unit(unit), description
    return data


def _categorical(series: pd.Series, column: str) -> ChartData:
    legend = column_colours(series.to_frame(), column).categories  # the scatter's order and colours
    codes, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
    by_label = {str(v): k for k, v in enumerate(uniques)}
    is_bool = series.dtype == bool
    bar_of_code = np.full(len(uniques) + 1, -1, dtype=np.int64)  # code -1 (missing) -> last slot
    labels, colours, bar_values = [], [], []
    for label, colour in legend:
        if label not in by_label:  # "other"
            continue
        code = by_label[label]
        bar_of_code[code] = len(labels)
        labels.append(("yes" if uniques[code] else "no") if is_bool else label)
        colours.append(colour)
        bar_values.append([uniques[code]])
    rest = [k for k in range(len(uniques)) if bar_of_code[k] < 0]
    if rest:  # levels beyond MAX_CATEGORIES
        bar_of_code[rest] = len(labels)
        labels.append(OTHER)
        colours.append(MISSING)
        bar_values.append([uniques[k] for k in rest])
    if (codes < 0).any():
        bar_of_code[-1] = len(labels)
        labels.append(MISSING_LABEL)
        colours.append(MISSING)
        bar_values.append([None])
    bin_of = bar_of_code[codes]
    totals = np.bincount(bin_of, minlength=len(labels)).astype(np.int64)
    return ChartData(column, "categorical", labels, colours, bin_of, totals, values=bar_values)


def _histogram(series: pd.Series, column: str, bins: int) -> ChartData:
    x = series.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(x)
    lo, hi = (float(x[finite].min()), float(x[finite].max())) if finite.any() else (0.0, 1.0)
    edges = nice_edges(lo, hi, int(np.clip(2 * np.sqrt(finite.sum()), 10, bins)))  # fewer bins for few subjects
    n = len(edges) - 1
    bin_of = np.full(len(x), n, dtype=np.int64)
    bin_of[finite] = np.clip(np.searchsorted(edges, x[finite], side="right") - 1, 0, n - 1)
    totals = np.bincount(bin_of, minlength=n + 1)[:n].astype(np.int64)
    labels = [f"{format_number(a)}–{format_number(b)}" for a, b in zip(edges[:-1], edges[1:])]
    return ChartData(column, "histogram", labels, [DEFAULT] * n, bin_of, totals, edges=edges, x=x)


def _nice_step(span: float, target: float) -> float:
    """The smallest round step (1, 2, 2.5, 5 x 10^k) of at least 0.8 x span / target."""
    return nice_step(span, target)


def nice_edges(lo: float, hi: float, bins: int = 24) -> np.ndarray:
    """Round bin edges covering [lo, hi] with ``bins / 2`` to ``1.25 * bins`` bins."""
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    step = _nice_step(hi - lo, bins)
    start = math.floor(lo / step + 1e-9) * step
    n = max(1, math.ceil((hi - start) / step - 1e-9))  # the last bin's right edge is inclusive
    return np.round(start + step * np.arange(n + 1), 12)


def pretty_unit(unit: str) -> str:
    """``"kg/m^2"`` -> ``"kg/m²"``, ``"1/min"`` -> ``"/min"``; dimensionless ``"1"`` -> ``""``."""
    if unit in ("1", "-", "none"):
        return ""
    unit = unit.replace("^2", "²").replace("^3", "³")
    return unit[1:] if unit.startswith("1/") else unit
