"""The dot tracks of the latent sliders, painted with QPainter.

One row per latent dimension: a horizontal track on a shared axis, a faint band with the
cohort's 5–95 % range of that dimension, a tick at the focused subject's own value and a
dot at the current value. Dragging a dot emits :attr:`DotTracks.dragged`; the widget holds
drawing state only (the owner feeds it values and reacts to the signals).
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from qtpy.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from qtpy.QtWidgets import QToolTip, QWidget

__all__ = ["DotTracks", "TrackAxis", "nice_limit"]

ROW_H = 17
LABEL_W = 46
RIGHT_PAD = 16
DOT_R = 5.0
GRAB_R = 9.0  # px around a dot that still grabs it

DOT = QColor("#56b4e9")  # current value (Okabe-Ito sky blue)
EDITED = QColor("#e69f00")  # current value when it differs from the subject's own
BAND = QColor(86, 180, 233, 60)  # cohort 5–95 %
SUBJECT = QColor("#f0f0f0")


def nice_limit(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 x 10^k that is >= ``value``."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    exp = np.floor(np.log10(value))
    for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if m * 10**exp >= value - 1e-12:
            return float(m * 10**exp)
    return float(10 ** (exp + 1))


class _Geometry:
    """Shared horizontal mapping of the tracks and their axis header."""

    def __init__(self) -> None:
        self.limit = 4.0

    def x_range(self, width: int) -> tuple[float, float]:
        return LABEL_W + DOT_R + 2, max(LABEL_W + 40.0, width - RIGHT_PAD)

    def to_x(self, value: float, width: int) -> float:
        x0, x1 = self.x_range(width)
        v = float(np.clip(value, -self.limit, self.limit))
        return x0 + (v + self.limit) / (2 * self.limit) * (x1 - x0)

    def to_value(self, x: float, width: int) -> float:
        x0, x1 = self.x_range(width)
        frac = (x - x0) / max(1.0, x1 - x0)
        return float(np.clip(frac * 2 * self.limit - self.limit, -self.limit, self.limit))

    def ticks(self) -> np.ndarray:
        step = nice_limit(self.limit / 4)
        n = int(np.floor(self.limit / step + 1e-9))
        return np.arange(-n, n + 1) * step


class DotTracks(QWidget):
    """Rows of draggable dots, one per latent dimension, in :meth:`set_order` order.

    Signals: ``dragged(dim, value)`` while a dot moves, ``released(dim)`` when it is let
    go, ``clicked(dim)`` on a click off the dot, ``reset_requested(dim)`` on a double-click.
    """

    dragged = Signal(int, float)
    released = Signal(int)
    clicked = Signal(int)
    reset_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.geometry_map = _Geometry()
        self._order = np.zeros(0, dtype=np.int64)
        self._row_of: dict[int, int] = {}
        self._values: np.ndarray | None = None
        self._reference: np.ndarray | None = None
        self._band: tuple[np.ndarray, np.ndarray] | None = None
        self._selected: int | None = None
        self._hover: int | None = None
        self._drag: tuple[int, float] | None = None  # dim, grab offset in px
        self.setMouseTracking(True)
        self.setSizePolicy(self.sizePolicy().horizontalPolicy(), self.sizePolicy().Policy.Fixed)

    # ------------------------------------------------------------------ data
    def set_order(self, order: np.ndarray) -> None:
        """Dimensions to show, top to bottom."""
        self._order = np.asarray(order, dtype=np.int64)
        self._row_of = {int(d): r for r, d in enumerate(self._order)}
        self.setFixedHeight(max(ROW_H, len(self._order) * ROW_H + 4))
        self.update()

    def set_values(self, values: np.ndarray | None) -> None:
        """The current latent (D,), or None."""
        self._values = None if values is None else np.asarray(values, dtype=np.float64)
        self.update()

    def set_reference(self, reference: np.ndarray | None) -> None:
        """The focused subject's own latent (D,) (the ticks), or None."""
        self._reference = None if reference is None else np.asarray(reference, dtype=np.float64)
        self.update()

    def set_band(self, low: np.ndarray | None, high: np.ndarray | None) -> None:
        """The cohort's range per dimension (two (D,) arrays), or None."""
        self._band = None if low is None or high is None else (np.asarray(low), np.asarray(high))
        self.update()

    def set_limit(self, limit: float) -> None:
        """Half-width of the shared axis (posterior SD units)."""
        self.geometry_map.limit = float(limit)
        self.update()

    def set_selected(self, dim: int | None) -> None:
        self._selected = dim
        self.update()

    @property
    def order(self) -> np.ndarray:
        return self._order.copy()

    def row_of(self, dim: int) -> int:
        """The row that shows dimension ``dim``."""
        return self._row_of[int(dim)]

    def dot_position(self, dim: int) -> QPoint:
        """Centre of the dot of dimension ``dim``, in this widget's coordinates."""
        value = 0.0 if self._values is None else float(self._values[dim])
        x = self.geometry_map.to_x(value, self.width())
        return QPoint(round(x), round(self._row_y(self.row_of(dim))))

    def sizeHint(self) -> QSize:
        return QSize(320, self.height())

    # ------------------------------------------------------------------ painting
    def _row_y(self, row: int) -> float:
        return 2 + row * ROW_H + ROW_H / 2

    def paintEvent(self, event: QPaintEvent) -> None:
        p, text = _painter(self)
        rect = event.rect()
        first = max(0, (rect.top() - 2) // ROW_H)
        last = min(len(self._order) - 1, (rect.bottom() - 2) // ROW_H)
        self._paint_grid(p, text)
        for row in range(first, last + 1):
            self._paint_row(p, row, int(self._order[row]), text)
        p.end()

    def _paint_grid(self, p: QPainter, text: QColor) -> None:
        g, w = self.geometry_map, self.width()
        for tick in g.ticks():
            x = g.to_x(tick, w)
            colour = QColor(text)
            colour.setAlphaF(0.22 if tick == 0 else 0.07)
            p.setPen(QPen(colour, 1.0))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def _paint_row(self, p: QPainter, row: int, dim: int, text: QColor) -> None:
        g, w = self.geometry_map, self.width()
        y = self._row_y(row)
        x0, x1 = g.x_range(w)
        if dim in (self._selected, self._hover):
            shade = QColor(text)
            shade.setAlphaF(0.10 if dim == self._selected else 0.05)
            p.fillRect(QRectF(0, y - ROW_H / 2, w, ROW_H), shade)
        label = QColor(text)
        label.setAlphaF(1.0 if dim == self._selected else 0.7)
        p.setPen(label)
        p.drawText(
            QRectF(4, y - ROW_H / 2, LABEL_W - 8, ROW_H),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"z{dim}",
        )
        track = QColor(text)
        track.setAlphaF(0.25)
        p.setPen(QPen(track, 1.0))
        p.drawLine(QPointF(x0, y), QPointF(x1, y))
        if self._band is not None:
            lo, hi = g.to_x(self._band[0][dim], w), g.to_x(self._band[1][dim], w)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(BAND)
            p.drawRoundedRect(QRectF(lo, y - 4, max(2.0, hi - lo), 8), 3, 3)
        ref = None if self._reference is None else float(self._reference[dim])
        if ref is not None:
            p.setPen(QPen(SUBJECT, 1.6))
            xr = g.to_x(ref, w)
            p.drawLine(QPointF(xr, y - 6), QPointF(xr, y + 6))
        if self._values is not None:
            self._paint_dot(p, dim, y, ref)

    def _paint_dot(self, p: QPainter, dim: int, y: float, ref: float | None) -> None:
        g, w = self.geometry_map, self.width()
        value = float(self._values[dim])
        edited = ref is not None and abs(value - ref) > 1e-6
        colour = EDITED if edited else DOT
        x = g.to_x(value, w)
        r = DOT_R + (1.0 if dim in (self._hover, self._selected) or (self._drag and self._drag[0] == dim) else 0.0)
        p.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
        p.setBrush(colour)
        if abs(value) > g.limit:  # off the axis: an arrowhead at the edge
            s = 1 if value > 0 else -1
            path = QPainterPath(QPointF(x + s * r, y))
            path.lineTo(QPointF(x - s * r, y - r))
            path.lineTo(QPointF(x - s * r, y + r))
            path.closeSubpath()
            p.drawPath(path)
        else:
            p.drawEllipse(QPointF(x, y), r, r)

    # ------------------------------------------------------------------ mouse
    def _dim_at(self, pos: QPointF) -> int | None:
        row = int((pos.y() - 2) // ROW_H)
        return int(self._order[row]) if 0 <= row < len(self._order) else None

    def _on_dot(self, dim: int, pos: QPointF) -> float | None:
        """Grab offset (px) if ``pos`` is on the dot of ``dim``, else None."""
        if self._values is None:
            return None
        dot = self.dot_position(dim)
        dx = pos.x() - dot.x()
        return dx if abs(dx) <= GRAB_R and abs(pos.y() - dot.y()) <= ROW_H / 2 else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        dim = self._dim_at(pos)
        if dim is None:
            return
        offset = self._on_dot(dim, pos)
        if offset is None:
            self.clicked.emit(dim)
            return
        self._drag = (dim, offset)
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._drag is not None:
            dim, offset = self._drag
            self.dragged.emit(dim, self.geometry_map.to_value(pos.x() - offset, self.width()))
            return
        dim = self._dim_at(pos)
        if dim != self._hover:
            self._hover = dim
            self.update()
        on_dot = dim is not None and self._on_dot(dim, pos) is not None
        self.setCursor(Qt.CursorShape.OpenHandCursor if on_dot else Qt.CursorShape.ArrowCursor)
        if dim is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self._tooltip(dim), self)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            dim = self._drag[0]
            self._drag = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.released.emit(dim)
            self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        dim = self._dim_at(event.position())
        if dim is not None:
            self.reset_requested.emit(dim)

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def _tooltip(self, dim: int) -> str:
        parts = [f"<b>z{dim}</b>"]
        if self._values is not None:
            parts.append(f"current {self._values[dim]:+.2f}")
        if self._reference is not None:
            parts.append(f"subject {self._reference[dim]:+.2f}")
        if self._band is not None:
            parts.append(f"cohort 5–95 %: {self._band[0][dim]:+.2f} … {self._band[1][dim]:+.2f}")
        return "<br>".join(parts) + "<br><i>drag the dot · double-click: back to the subject</i>"


class TrackAxis(QWidget):
    """The axis above the tracks: tick values and a small legend, aligned with ``tracks``."""

    def __init__(self, tracks: DotTracks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tracks = tracks
        self.setFixedHeight(34)

    def paintEvent(self, event: QPaintEvent) -> None:
        p, text = _painter(self)
        g, w = self._tracks.geometry_map, self._tracks.width()
        dim = QColor(text)
        dim.setAlphaF(0.65)
        self._legend(p, dim)
        p.setPen(dim)
        for tick in g.ticks():
            x = g.to_x(tick, w)
            label = "0" if tick == 0 else f"{tick:+g}"
            p.drawText(QRectF(x - 20, 18, 40, 14), Qt.AlignmentFlag.AlignCenter, label)
        p.drawText(QRectF(0, 18, LABEL_W - 16, 14), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "SD")
        p.end()

    def _legend(self, p: QPainter, text: QColor) -> None:
        x, y = float(LABEL_W), 8.0
        items = (
            ("dot", DOT, "current"),
            ("dot", EDITED, "edited"),
            ("tick", SUBJECT, "subject"),
            ("band", BAND, "cohort 5–95 %"),
        )
        for kind, colour, label in items:
            if kind == "dot":
                p.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
                p.setBrush(colour)
                p.drawEllipse(QPointF(x + 5, y), 4.0, 4.0)
            elif kind == "tick":
                p.setPen(QPen(colour, 1.6))
                p.drawLine(QPointF(x + 5, y - 5), QPointF(x + 5, y + 5))
            else:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(colour)
                p.drawRoundedRect(QRectF(x, y - 4, 14, 8), 3, 3)
            p.setPen(text)
            width = p.fontMetrics().horizontalAdvance(label)
            p.drawText(
                QRectF(x + 16, y - 7, width + 4, 14), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
            )
            x += 16 + width + 12


def _painter(widget: QWidget) -> tuple[QPainter, QColor]:
    """An antialiased painter on ``widget`` with its small label font, and the theme's text colour."""
    p = QPainter(widget)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(widget.font())
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    p.setFont(font)
    return p, widget.palette().color(widget.foregroundRole())
