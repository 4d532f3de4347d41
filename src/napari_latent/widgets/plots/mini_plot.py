"""A tiny line/scatter plot painted with QPainter: loss curves, predicted-vs-true, ROC curves.

No GL, so it draws anywhere (docked, offscreen, in a screenshot). Series are kept by name;
``append`` extends a line in place for live curves. Colours follow napari's current theme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from qtpy.QtCore import QPointF, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

from .axes import format_number, plot_colours
from .axes import nice_ticks as _nice_ticks

__all__ = ["MiniPlot", "nice_ticks", "plot_probe"]

if TYPE_CHECKING:
    from ...analysis.probes import ProbeResult

Style = Literal["line", "dashed", "scatter", "line+markers"]
GROUP_COLOUR, REST_COLOUR, GUIDE_COLOUR = "#e69f00", "#56b4e9", "#b0b0b0"


@dataclass
class _Series:
    x: np.ndarray
    y: np.ndarray
    colour: QColor
    style: str
    width: float
    size: float
    legend: bool


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About ``n`` round tick values (1, 2, 2.5 or 5 × 10^k steps) covering ``[lo, hi]``."""
    return _nice_ticks(lo, hi, n, fill=1.0)


class MiniPlot(QWidget):
    """A small 2-D plot: named line/scatter series, auto-scaled axes with round ticks, a legend.

    ``set_series(name, x, y, style=...)`` adds or replaces a series, ``append(name, x, y)``
    extends one (creating it when missing), ``set_limits`` fixes an axis range.
    """

    def __init__(
        self, parent: QWidget | None = None, *, title: str = "", xlabel: str = "", ylabel: str = "", logy: bool = False
    ):
        super().__init__(parent)
        self._series: dict[str, _Series] = {}
        self._title, self._xlabel, self._ylabel = title, xlabel, ylabel
        self._logy = logy
        self._xlim: tuple[float, float] | None = None
        self._ylim: tuple[float, float] | None = None
        self._message = ""
        self.setMinimumSize(220, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        return QSize(360, 240)

    # ------------------------------------------------------------------ data
    def set_labels(self, *, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> None:
        """Change the title and axis labels (None leaves one as it is)."""
        self._title = self._title if title is None else title
        self._xlabel = self._xlabel if xlabel is None else xlabel
        self._ylabel = self._ylabel if ylabel is None else ylabel
        self.update()

    def set_series(
        self,
        name: str,
        x: np.ndarray,
        y: np.ndarray,
        *,
        colour: str = "#56b4e9",
        style: Style = "line",
        width: float = 1.5,
        size: float = 4.0,
        legend: bool = True,
    ) -> None:
        """Add or replace the series ``name`` (``style``: line, dashed, scatter, line+markers)."""
        x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        if x.shape != y.shape:
            raise ValueError(f"x and y differ in length ({x.size} vs {y.size})")
        self._series[name] = _Series(x, y, QColor(colour), style, width, size, legend)
        self.update()

    def append(self, name: str, x: float | np.ndarray, y: float | np.ndarray, **style) -> None:
        """Append points to the series ``name`` (created with ``style`` keywords when missing)."""
        if name not in self._series:
            self.set_series(name, np.atleast_1d(x), np.atleast_1d(y), **style)
            return
        s = self._series[name]
        s.x = np.concatenate([s.x, np.atleast_1d(np.asarray(x, dtype=float))])
        s.y = np.concatenate([s.y, np.atleast_1d(np.asarray(y, dtype=float))])
        self.update()

    def data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) points of the series ``name``."""
        s = self._series[name]
        return s.x.copy(), s.y.copy()

    def series_names(self) -> list[str]:
        """Names of the series, in drawing order."""
        return list(self._series)

    def remove(self, name: str) -> None:
        """Drop the series ``name`` if present."""
        if self._series.pop(name, None) is not None:
            self.update()

    def clear(self, message: str = "") -> None:
        """Drop every series; ``message`` is drawn in the empty plot."""
        self._series.clear()
        self._message = message
        self.update()

    def set_limits(self, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None) -> None:
        """Fix the x/y ranges (None: fit the data)."""
        self._xlim, self._ylim = x, y
        self.update()

    # ------------------------------------------------------------------ geometry
    def _ty(self, y: np.ndarray) -> np.ndarray:
        if not self._logy:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    def _ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        xs = [s.x[np.isfinite(s.x)] for s in self._series.values()]
        ys = [self._ty(s.y)[np.isfinite(self._ty(s.y))] for s in self._series.values()]
        out = []
        for vals, fixed in ((xs, self._xlim), (ys, self._ylim)):
            if fixed is not None:
                lo, hi = fixed if vals is xs or not self._logy else (math.log10(fixed[0]), math.log10(fixed[1]))
            else:
                v = np.concatenate(vals) if vals else np.array([])
                lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
                pad = (hi - lo) * 0.05 if hi > lo else max(abs(lo) * 0.1, 0.5)
                lo, hi = lo - pad, hi + pad
            out.append((float(lo), float(hi)))
        return out[0], out[1]

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        colours = plot_colours()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), colours["background"])
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.95))
        p.setFont(font)
        fm = QFontMetrics(font)
        (x0, x1), (y0, y1) = self._ranges()
        yticks, xticks = nice_ticks(y0, y1, 4), nice_ticks(x0, x1, 5)
        ylabels = [self._fmt(10**t if self._logy else t) for t in yticks]
        left = 10 + (fm.height() + 4 if self._ylabel else 0) + max([fm.horizontalAdvance(s) for s in ylabels] or [0])
        top = 8 + (fm.height() + 4 if self._title else 0)
        bottom = 10 + fm.height() + (fm.height() + 2 if self._xlabel else 0)
        area = QRectF(left + 4, top, max(10, self.width() - left - 14), max(10, self.height() - top - bottom))
        p.fillRect(area, colours["plot"])

        def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            px = area.left() + (x - x0) / ((x1 - x0) or 1.0) * area.width()
            py = area.bottom() - (y - y0) / ((y1 - y0) or 1.0) * area.height()
            return px, py

        self._draw_axes(p, fm, colours, area, to_px, xticks, yticks, ylabels)
        p.setClipRect(area)
        for s in self._series.values():
            self._draw_series(p, s, *to_px(s.x, self._ty(s.y)))
        p.setClipping(False)
        self._draw_legend(p, fm, colours, area)
        if not self._series and self._message:
            p.setPen(colours["muted"])
            p.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
        p.end()

    def _draw_axes(self, p, fm, colours, area, to_px, xticks, yticks, ylabels) -> None:
        grid = QPen(colours["grid"], 1)
        for t, label in zip(yticks, ylabels, strict=True):
            _, py = to_px(np.array([0.0]), np.array([t]))
            if area.top() - 1 <= py[0] <= area.bottom() + 1:
                p.setPen(grid)
                p.drawLine(QPointF(area.left(), py[0]), QPointF(area.right(), py[0]))
                p.setPen(colours["text"])
                w = fm.horizontalAdvance(label)
                p.drawText(QPointF(area.left() - w - 5, py[0] + fm.ascent() / 2 - 1), label)
        for t in xticks:
            px, _ = to_px(np.array([t]), np.array([0.0]))
            if area.left() - 1 <= px[0] <= area.right() + 1:
                p.setPen(grid)
                p.drawLine(QPointF(px[0], area.top()), QPointF(px[0], area.bottom()))
                label = self._fmt(t)
                p.setPen(colours["text"])
                p.drawText(QPointF(px[0] - fm.horizontalAdvance(label) / 2, area.bottom() + fm.ascent() + 3), label)
        p.setPen(QPen(colours["muted"], 1))
        p.drawRect(area)
        p.setPen(colours["text"])
        if self._title:
            plain = QFont(p.font())
            bold = QFont(plain)
            bold.setBold(True)
            p.setFont(bold)
            p.drawText(QRectF(area.left(), 2, area.width(), fm.height() + 4), Qt.AlignmentFlag.AlignCenter, self._title)
            p.setFont(plain)
        if self._xlabel:
            p.drawText(
                QRectF(area.left(), self.height() - fm.height() - 3, area.width(), fm.height()),
                Qt.AlignmentFlag.AlignCenter, self._xlabel,
            )  # fmt: skip
        if self._ylabel:
            p.save()
            p.translate(4 + fm.ascent(), area.center().y())
            p.rotate(-90)
            box = QRectF(-area.height() / 2, -fm.ascent(), area.height(), fm.height())
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, self._ylabel)
            p.restore()

    @staticmethod
    def _draw_series(p: QPainter, s: _Series, px: np.ndarray, py: np.ndarray) -> None:
        ok = np.isfinite(px) & np.isfinite(py)
        if s.style in ("line", "dashed", "line+markers"):
            pen = QPen(s.colour, s.width)
            pen.setStyle(Qt.PenStyle.DashLine if s.style == "dashed" else Qt.PenStyle.SolidLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            path, pen_down = QPainterPath(), False
            for x, y, good in zip(px, py, ok, strict=True):
                if not good:
                    pen_down = False
                elif pen_down:
                    path.lineTo(x, y)
                else:
                    path.moveTo(x, y)
                    pen_down = True
            p.drawPath(path)
        if s.style in ("scatter", "line+markers"):
            fill = QColor(s.colour)
            fill.setAlphaF(0.75 if s.style == "scatter" else 1.0)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            r = s.size / 2
            for x, y in zip(px[ok], py[ok], strict=True):
                p.drawEllipse(QPointF(x, y), r, r)

    def _draw_legend(self, p: QPainter, fm: QFontMetrics, colours, area: QRectF) -> None:
        items = [(n, s) for n, s in self._series.items() if s.legend]
        if not items:
            return
        width = max(fm.horizontalAdvance(n) for n, _ in items) + 30
        box = QRectF(area.right() - width - 6, area.top() + 6, width, len(items) * (fm.height() + 2) + 6)
        bg = QColor(colours["background"])
        bg.setAlphaF(0.85)
        p.setPen(QPen(colours["grid"], 1))
        p.setBrush(bg)
        p.drawRoundedRect(box, 3, 3)
        for i, (name, s) in enumerate(items):
            y = box.top() + 4 + i * (fm.height() + 2) + fm.height() / 2
            pen = QPen(s.colour, max(2.0, s.width))
            pen.setStyle(Qt.PenStyle.DashLine if s.style == "dashed" else Qt.PenStyle.SolidLine)
            if s.style == "scatter":
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(s.colour)
                p.drawEllipse(QPointF(box.left() + 13, y), 3.5, 3.5)
            else:
                p.setPen(pen)
                p.drawLine(QPointF(box.left() + 5, y), QPointF(box.left() + 21, y))
            p.setPen(colours["text"])
            p.drawText(QPointF(box.left() + 26, y + fm.ascent() / 2 - 1), name)

    @staticmethod
    def _fmt(v: float) -> str:
        return format_number(v, large=1e4, sci=".0e")


def plot_probe(plot: MiniPlot, res: ProbeResult, title: str, *, in_group: np.ndarray | None = None) -> None:
    """Draw a probe's out-of-fold predictions: predicted vs true with the identity line
    (continuous), or ROC curves with the chance diagonal (binary: one; categorical: one per
    class). ``in_group`` (bool over the probe's rows) splits the points/curves into group vs rest.
    """
    from .colouring import PALETTE

    plot.clear()
    split = in_group is not None and in_group.any()
    if res.kind == "continuous":
        plot.set_labels(title=title, xlabel=f"true {res.name or ''}", ylabel=f"predicted {res.name or ''}")
        plot.set_limits(None, None)
        lo, hi = float(np.nanmin(res.y_true)), float(np.nanmax(res.y_true))
        plot.set_series("identity", [lo, hi], [lo, hi], colour=GUIDE_COLOUR, style="dashed", legend=False)
        if split:
            for name, rows, colour in (("rest", ~in_group, REST_COLOUR), ("selection", in_group, GROUP_COLOUR)):
                plot.set_series(name, res.y_true[rows], res.y_pred[rows], colour=colour, style="scatter")
        else:
            plot.set_series("subjects", res.y_true, res.y_pred, colour=REST_COLOUR, style="scatter", legend=False)
        return
    from sklearn.metrics import roc_curve

    plot.set_labels(title=title, xlabel="false positive rate", ylabel="true positive rate")
    plot.set_limits((0, 1), (0, 1))
    plot.set_series("chance", [0, 1], [0, 1], colour=GUIDE_COLOUR, style="dashed", legend=False)
    everyone = np.ones(len(res.y_true), dtype=bool)
    if len(res.classes) == 2 and split:
        curves = [("selection", in_group, 1, GROUP_COLOUR), ("rest", ~in_group, 1, REST_COLOUR)]
    else:
        ks = [1] if len(res.classes) == 2 else range(len(res.classes))
        curves = [(str(res.classes[k]), everyone, k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(ks)]
    for name, rows, k, colour in curves:
        positive = res.y_true[rows] == res.classes[k]
        if positive.any() and not positive.all():  # a ROC curve needs both classes
            fpr, tpr, _ = roc_curve(positive, res.proba[rows, k])
            plot.set_series(name, fpr, tpr, colour=colour, width=2)
