"""Axes for the painted plots: round tick values, short number labels, napari theme colours.

One place for what :class:`~.mini_plot.MiniPlot`, :class:`~.chart_painter.BarChart` and the
chart model share. No Qt widgets here; colours are ``#rrggbb`` strings or ``QColor``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["format_number", "napari_theme", "nice_step", "nice_ticks", "plot_colours"]

#: Round steps: 1, 2, 2.5 or 5 times a power of ten.
_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float, target: float, *, fill: float = 0.8) -> float:
    """The smallest round step (1, 2, 2.5, 5 x 10^k) of at least ``fill * span / target``.

    Parameters
    ----------
    span
        The range to divide (positive).
    target
        About how many steps are wanted.
    fill
        Fraction of ``span`` the ``target`` steps should cover at least.

    Returns
    -------
    float
        The step.
    """
    raw = fill * span / max(target, 1.0)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in _STEPS if m * mag >= raw * (1 - 1e-9))


def nice_ticks(lo: float, hi: float, target: int = 4, *, fill: float = 0.8) -> np.ndarray:
    """About ``target`` round tick values inside ``[lo, hi]``.

    Parameters
    ----------
    lo, hi
        The axis range.
    target
        About how many ticks.
    fill
        See :func:`nice_step`: 0.8 lets the ticks cover a little less than the range (bar
        charts), 1.0 gives at most about ``target`` steps (line plots).

    Returns
    -------
    numpy.ndarray
        The tick values, ``[lo]`` for an empty range and empty for a non-finite one.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return np.array([lo]) if math.isfinite(lo) else np.array([])
    if not hi > lo:
        return np.array([lo])
    step = nice_step(hi - lo, target, fill=fill)
    first = math.ceil(lo / step - 1e-9) * step
    n = int((hi - first) / step + 1e-9) + 1
    return np.round(first + step * np.arange(n), 12)


def format_number(x: float, *, large: float = 1e5, sci: str = ".2g") -> str:
    """A short readable number: ``1200 -> '1200'``, ``0.55 -> '0.55'``, ``2.5e-05 -> '2.5e-05'``.

    Parameters
    ----------
    x
        The number.
    large
        From this magnitude on (and below 1e-3) the number is written with ``sci``.
    sci
        Format of very large or small numbers (e.g. ``".0e"`` for tick labels).

    Returns
    -------
    str
        The label.
    """
    if x == 0:
        return "0"
    if abs(x) >= large or abs(x) < 1e-3:
        return format(x, sci)
    return f"{x:.4g}"


def napari_theme(name: str | None = None, *, fallback: str | None = None) -> Any:
    """napari's theme ``name`` (default: the current one), or None when it cannot be read.

    Parameters
    ----------
    name
        A napari theme name; None for the theme in napari's settings.
    fallback
        Theme used when ``name`` is not an available theme (None: no theme).

    Returns
    -------
    napari.utils.theme.Theme or None
        The theme.
    """
    try:
        from napari.settings import get_settings
        from napari.utils.theme import available_themes, get_theme

        name = name or get_settings().appearance.theme
        if fallback is not None and name not in available_themes():
            name = fallback
        return get_theme(name)
    except Exception:  # napari absent, plain Qt use, or a theme that cannot be read
        return None


def hex_colour(colour: object) -> str:
    """A theme colour (pydantic ``Color`` or string) as ``#rrggbb``."""
    return colour.as_hex() if hasattr(colour, "as_hex") else str(colour)


def plot_colours(name: str | None = None) -> dict[str, Any]:
    """``QColor`` s for a line plot: background, plot area, grid, text and muted text.

    Parameters
    ----------
    name
        A napari theme name; None for the current theme (dark defaults without napari).

    Returns
    -------
    dict of str to QColor
        Keys ``background``, ``plot``, ``grid``, ``text``, ``muted``.
    """
    from qtpy.QtGui import QColor

    colours = {"background": "#23242b", "plot": "#1b1c21", "grid": "#2e333e", "text": "#f0f1f2", "muted": "#868e93"}
    theme = napari_theme(name, fallback="dark")
    if theme is not None:
        colours.update(
            background=hex_colour(theme.background), grid=hex_colour(theme.primary), text=hex_colour(theme.text),
            muted=hex_colour(theme.highlight), plot=hex_colour(theme.console) if theme.type == "dark" else "#ffffff",
        )  # fmt: skip
    return {k: QColor(v) for k, v in colours.items()}
