"""One small bar chart or histogram drawn with QPainter: whole cohort light, selection dark.

:class:`BarChart` draws a :class:`.chart_model.ChartData` and turns mouse input into
``brushed(bars, modifiers)`` (a click on a bar, or a drag across bars) and
``close_requested``; it knows nothing of the Explorer. Colours follow napari's theme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qtpy.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from qtpy.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from qtpy.QtWidgets import QSizePolicy, QToolTip, QWidget

from .axes import format_number, hex_colour, napari_theme, nice_ticks
from .chart_model import Brush, ChartData

__all__ = ["BarChart", "ChartTheme", "chart_theme"]

TITLE_H, AXIS_W, LABEL_H, PAD = 24, 34, 18, 8
CLOSE = 14  # side of the close button
TOP_CENTRE = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
MID_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class ChartTheme:
    """Colours of a chart, as ``#rrggbb`` strings."""

    panel: str = "#2e333e"
    text: str = "#f0f1f2"
    muted: str = "#a3a8b0"
    grid: str = "#424a54"
    brush: str = "#f0f1f2"
    dark: bool = True


def chart_theme(name: str | None = None) -> ChartTheme:
    """The chart colours of napari theme ``name`` (default: napari's current theme)."""
    theme = napari_theme(name)
    if theme is None:  # napari absent or a theme that cannot be read: a neutral dark palette
        return ChartTheme()
    hexof = hex_colour
    dark = theme.type != "light"
    text = hexof(theme.text)
    mix = QColor(text)
    bg = QColor(hexof(theme.foreground))
    muted = QColor.fromRgbF(*(0.62 * a + 0.38 * b for a, b in zip(mix.getRgbF()[:3], bg.getRgbF()[:3])))
    return ChartTheme(hexof(theme.foreground), text, muted.name(), hexof(theme.primary), text, dark)


class BarChart(QWidget):
    """A bar chart (categories) or histogram of one column, with the selection's share overlaid.

    ``brushed(bars, modifiers)`` is emitted with the bar indices a click or drag covered and
    the keyboard modifiers held (Shift, Alt, ...); ``close_requested()`` by the × button.
    """

    brushed = Signal(object, object)
    close_requested = Signal()

    def __init__(self, data: ChartData, theme: ChartTheme | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.data = data
        self._static: QPixmap | None = None  # panel, grid and axis labels (see paintEvent)
        self._rect, self._rect_for = QRect(), (-1, -1)
        self._top = max(1.0, float(data.totals.max()) if data.n_bars else 1.0) * 1.08
        self.theme = theme or ChartTheme()
        self._selected: np.ndarray | None = None  # per-bar selected counts; None: no selection
        self._n_selected = 0
        self._mean_all = data.mean()
        self._mean_selected: float | None = None
        self._brushed: Brush = set()
        self._hover: int | None = None
        self._press: int | None = None
        self._drag: int | None = None
        self._inside = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(200, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(data.description or data.column)

    def sizeHint(self) -> QSize:
        return QSize(270, 150)

    # ------------------------------------------------------------------ state
    def set_selection(self, counts: np.ndarray | None, n_selected: int = 0, mean: float | None = None) -> None:
        """Show per-bar selected ``counts`` (None: nothing selected, bars drawn in full).

        ``mean``: the selection's mean of a histogram's column, shown beside the cohort's.
        """
        self._selected = None if counts is None else np.asarray(counts)
        self._n_selected = int(n_selected)
        self._mean_selected = mean
        self.update()

    def set_brushed(self, brush: Brush | None) -> None:
        """Mark what this chart's brush covers: bar indices or value ranges (None: no brush)."""
        self._brushed = brush if brush is not None else set()
        self.update()

    @property
    def selected(self) -> np.ndarray | None:
        return self._selected

    # ------------------------------------------------------------------ geometry
    def plot_rect(self) -> QRect:
        """Where the bars are drawn."""
        w, h = self.width(), self.height()
        if self._rect_for != (w, h):  # asked hundreds of times a paint: cache per size
            width, height = w - AXIS_W - PAD, h - TITLE_H - LABEL_H - 8
            self._rect, self._rect_for = QRect(AXIS_W, TITLE_H + 4, max(1, width), max(1, height)), (w, h)
        return QRect(self._rect)

    def _slot(self) -> float:
        return self.plot_rect().width() / max(1, self.data.n_bars)

    def bar_rect(self, bar: int) -> QRect:
        """The full-height slot of bar ``bar`` (widget coordinates): click its centre to hit it."""
        r, w = self.plot_rect(), self._slot()
        return QRect(int(round(r.left() + bar * w)), r.top(), max(1, int(w)), r.height())

    def bar_at(self, pos: QPoint | QPointF, *, clamp: bool = False) -> int | None:
        """The bar under ``pos`` (None outside the plot, unless ``clamp``)."""
        r = self.plot_rect()
        x, y = pos.x(), pos.y()
        if not clamp and not (r.left() <= x <= r.right() and r.top() - 2 <= y <= r.bottom() + LABEL_H):
            return None
        return int(np.clip((x - r.left()) // self._slot(), 0, self.data.n_bars - 1))

    def _close_rect(self) -> QRect:
        return QRect(self.width() - CLOSE - 6, (TITLE_H - CLOSE) // 2 + 2, CLOSE, CLOSE)

    def _ymax(self) -> float:
        return self._top

    # ------------------------------------------------------------------ painting
    @property
    def theme(self) -> ChartTheme:
        return self._theme

    @theme.setter
    def theme(self, theme: ChartTheme) -> None:
        self._theme = theme
        self._static = None

    def resizeEvent(self, event) -> None:
        self._static = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """The cached static layer (panel, grid, axis labels), then the selection overlay."""
        p = QPainter(self)
        p.drawPixmap(0, 0, self._static_layer())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        self._paint_title(p)
        self._paint_brush(p)
        self._paint_bars(p)
        p.end()

    def _static_layer(self) -> QPixmap:
        """What a selection does not change, painted once per size and theme."""
        ratio = self.devicePixelRatioF()
        if self._static is None or self._static.size() != self.size() * ratio:
            pixmap = QPixmap(self.size() * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            p = QPainter(pixmap)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(self.theme.panel))
            p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
            self._paint_grid(p)
            self._paint_x_labels(p)
            p.end()
            self._static = pixmap
        return self._static

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        return font

    def _paint_title(self, p: QPainter) -> None:
        d = self.data
        small = self._small_font()
        right = self._summary()
        right_x = self.width() - CLOSE - 12 - QFontMetrics(small).horizontalAdvance(right)
        font = QFont(self.font())
        font.setBold(True)
        fm = QFontMetrics(font)
        name = fm.elidedText(d.column, Qt.TextElideMode.ElideRight, max(20, right_x - 16))
        row = QRect(8, 2, self.width(), TITLE_H)
        p.setFont(font)
        p.setPen(QColor(self.theme.text))
        p.drawText(row, Qt.AlignmentFlag.AlignVCenter, name)
        p.setFont(small)
        p.setPen(QColor(self.theme.muted))
        x = 8 + fm.horizontalAdvance(name) + 6
        if d.unit and x + QFontMetrics(small).horizontalAdvance(d.unit) < right_x - 6:
            p.drawText(row.adjusted(x - 8, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, d.unit)
        p.drawText(QRect(0, 2, self.width() - CLOSE - 12, TITLE_H), MID_RIGHT, right)
        if self._inside:
            c = self._close_rect().adjusted(3, 3, -3, -3)
            p.setPen(QPen(QColor(self.theme.muted), 1.5))
            p.drawLine(c.topLeft(), c.bottomRight())
            p.drawLine(c.topRight(), c.bottomLeft())

    def _summary(self) -> str:
        """Top-right text: the means (cohort -> selection) of a histogram, else the counts."""
        total = int(self.data.totals.sum())
        if self._mean_all is not None:
            text = f"mean {_fmt_mean(self._mean_all, self._mean_all)}"
            if self._selected is not None and self._mean_selected is not None:
                text += f" → {_fmt_mean(self._mean_selected, self._mean_all)}"
            return text
        return f"{self._n_selected:,} / {total:,}" if self._selected is not None else f"n = {total:,}"

    def _y(self, count: float) -> float:
        r = self.plot_rect()
        return r.bottom() + 1 - count / self._ymax() * r.height()

    def _paint_grid(self, p: QPainter) -> None:
        r = self.plot_rect()
        p.setFont(self._small_font())
        ticks = [t for t in nice_ticks(0, self._ymax(), 3) if t == int(t)]
        for t in ticks:
            y = self._y(t)
            p.setPen(QPen(QColor(self.theme.grid), 1))
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setPen(QColor(self.theme.muted))
            label = f"{int(t) // 1000}k" if t >= 10000 else f"{int(t)}"
            p.drawText(QRectF(0, y - 8, AXIS_W - 5, 16), MID_RIGHT, label)

    def _bar_geometry(self, bar: int) -> tuple[float, float]:
        """(x, width) of the drawn bar inside its slot."""
        w = self._slot()
        x = self.plot_rect().left() + bar * w
        if self.data.kind == "histogram":
            gap = 1.0 if w > 3 else 0.0
            return x + gap / 2, max(1.0, w - gap)
        inner = min(w * 0.72, 64.0)
        return x + (w - inner) / 2, inner

    def _paint_bars(self, p: QPainter) -> None:
        d = self.data
        bottom = self.plot_rect().bottom() + 1
        has_selection = self._selected is not None
        p.setPen(Qt.PenStyle.NoPen)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # axis-aligned bars: crisp and cheap
        for i in range(d.n_bars):
            x, w = self._bar_geometry(i)
            colour = QColor.fromRgbF(*d.colours[i])
            base = QColor(colour)
            base.setAlphaF((0.32 if self.theme.dark else 0.28) if has_selection else 0.85)
            if i == self._hover:
                base = base.lighter(135) if self.theme.dark else base.darker(115)
            p.setBrush(base)
            y = self._y(d.totals[i])
            p.drawRect(QRectF(x, y, w, bottom - y))
            if has_selection and self._selected[i] > 0:
                ys = self._y(self._selected[i])
                p.setBrush(colour)
                p.drawRect(QRectF(x, ys, w, bottom - ys))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if d.kind == "categorical":
            self._paint_bar_counts(p)
        p.setPen(QPen(QColor(self.theme.muted), 1))
        p.drawLine(QPointF(self.plot_rect().left(), bottom), QPointF(self.plot_rect().right() + 1, bottom))

    def _paint_bar_counts(self, p: QPainter) -> None:
        """Counts on categorical bars: the selected count in bold over the cohort's, muted."""
        p.setFont(self._small_font())
        fm = QFontMetrics(p.font())
        h, top = fm.height(), self.plot_rect().top()
        for i, total in enumerate(self.data.totals):
            x, w = self._bar_geometry(i)
            box = lambda y: QRectF(x - 20, max(top - 4, y - h - 1), w + 40, h)  # noqa: E731
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom
            if fm.horizontalAdvance(f"{int(total):,}") > self._slot():
                continue
            if self._selected is None:
                p.setPen(QColor(self.theme.text))
                p.drawText(box(self._y(total)), flags, f"{int(total):,}")
                continue
            y_sel, y_tot = self._y(self._selected[i]), self._y(total)
            p.setPen(QColor(self.theme.text))
            p.drawText(box(y_sel), flags, f"{int(self._selected[i]):,}")
            if y_sel - y_tot > 2 * h:
                p.setPen(QColor(self.theme.muted))
                p.drawText(box(y_tot), flags, f"{int(total):,}")

    def _paint_brush(self, p: QPainter) -> None:
        r, w = self.plot_rect(), self._slot()
        drag = self._drag_bars()
        if drag:
            spans = [(r.left() + min(drag) * w, r.left() + (max(drag) + 1) * w)]
        elif isinstance(self._brushed, set):
            spans = [(r.left() + b * w, r.left() + (b + 1) * w) for b in sorted(self._brushed)]
        else:
            spans = [(self._x_of(a), self._x_of(b)) for a, b in self._brushed]
        fill, edge = QColor(self.theme.brush), QColor(self.theme.brush)
        fill.setAlphaF(0.10)
        edge.setAlphaF(0.55)
        p.setBrush(fill)
        p.setPen(QPen(edge, 1, Qt.PenStyle.DashLine))
        for x0, x1 in spans:
            p.drawRect(QRectF(x0 + 0.5, r.top() - 2, max(1.0, x1 - x0 - 1), r.height() + 2))

    def _x_of(self, value: float) -> float:
        """Widget x of a histogram value (clipped to the plot)."""
        r, edges = self.plot_rect(), self.data.edges
        t = (np.clip(value, edges[0], edges[-1]) - edges[0]) / (edges[-1] - edges[0])
        return r.left() + float(t) * r.width()

    def _drag_bars(self) -> set[int]:
        if self._press is None or self._drag is None:
            return set()
        a, b = sorted((self._press, self._drag))
        return set(range(a, b + 1))

    def _paint_x_labels(self, p: QPainter) -> None:
        d, r = self.data, self.plot_rect()
        p.setFont(self._small_font())
        p.setPen(QColor(self.theme.muted))
        fm = QFontMetrics(p.font())
        top = r.bottom() + 3
        if d.kind == "categorical":
            w = self._slot()
            for i, label in enumerate(d.labels):
                text = fm.elidedText(label, Qt.TextElideMode.ElideRight, int(w) - 2)
                p.drawText(QRectF(r.left() + i * w, top, w, LABEL_H), TOP_CENTRE, text)
            return
        lo, hi = float(d.edges[0]), float(d.edges[-1])
        for t in nice_ticks(lo, hi, max(2, r.width() // 70)):
            x = r.left() + (t - lo) / (hi - lo) * r.width()
            p.drawLine(QPointF(x, r.bottom() + 1), QPointF(x, r.bottom() + 4))
            p.drawText(QRectF(x - 30, top + 1, 60, LABEL_H), TOP_CENTRE, format_number(t))

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        if self._close_rect().contains(pos.toPoint()):
            self.close_requested.emit()
            return
        self._press = self.bar_at(pos)
        self._drag = self._press
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._press is not None:
            self._drag = self.bar_at(pos, clamp=True)
            self.update()
            return
        hover = self.bar_at(pos)
        if hover != self._hover:
            self._hover = hover
            self.update()
        if hover is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe_bar(hover), self)
        elif pos.y() < TITLE_H:
            QToolTip.showText(event.globalPosition().toPoint(), self._title_tip(), self)
        else:
            QToolTip.hideText()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return super().mouseReleaseEvent(event)
        bars = sorted(self._drag_bars())
        self._press = self._drag = None
        self.update()
        if bars:
            self.brushed.emit(bars, event.modifiers())

    def enterEvent(self, event) -> None:
        self._inside = True
        self.update()

    def leaveEvent(self, event) -> None:
        self._inside = False
        self._hover = None
        self.update()

    # ------------------------------------------------------------------ text
    def _title_tip(self) -> str:
        d = self.data
        unit = f" ({d.unit})" if d.unit else ""
        how = (
            "click a bar, Shift+click to add, Alt+click to remove"
            if d.kind == "categorical"
            else "drag across bins to select a range (Shift adds, Alt removes)"
        )
        return f"<b>{d.description or d.column}</b>{unit}<br><i>{how}</i>"

    def describe_bar(self, bar: int) -> str:
        """Hover text of a bar: its range or category, cohort count, selected count and shares."""
        d = self.data
        total = int(d.totals[bar])
        cohort = max(1, int(d.totals.sum()))
        name = d.labels[bar] + (f" {d.unit}" if d.kind == "histogram" and d.unit else "")
        lines = [f"<b>{name}</b>", f"{total:,} subjects ({100 * total / cohort:.1f}% of cohort)"]
        if self._selected is not None:
            sel = int(self._selected[bar])
            share = 100 * sel / total if total else 0.0
            within = 100 * sel / self._n_selected if self._n_selected else 0.0
            lines.append(f"selected: {sel:,} ({share:.1f}% of this bar, {within:.1f}% of the selection)")
        return "<br>".join(lines)


def _fmt_mean(x: float, ref: float) -> str:
    """``x`` with the decimals that give ``ref`` 3 significant digits (so two means line up)."""
    if ref == 0 or not np.isfinite(ref):
        return format_number(x)
    decimals = int(np.clip(2 - np.floor(np.log10(abs(ref))), 0, 6))
    return f"{x:.{decimals}f}"
