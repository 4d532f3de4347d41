"""Distribution view: coordinated bar charts and histograms of the cohort's columns.

One small chart per chosen column (a bar per category, or a histogram of a continuous
column) shows the whole cohort as light bars and the Explorer's current selection as dark
bars over them, whichever view made the selection. Brushing a chart selects: click a bar,
or drag across bars; Shift adds, Alt removes, Escape clears. With "AND filter" on,
each chart's brush is a filter and the selection is the subjects passing all of them.

    view = DistributionView(explorer, ["sex", "age", "hypertension"])
    view.brush("age", 60, 70)              # explorer.select({"age": (60, 70)}, source="chart:age")
    view.click_category("sex", "F", mode="add")
    labels, totals, selected = view.counts("age")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QEvent, QObject, QRect, Qt, QTimer
from qtpy.QtGui import QAction, QKeyEvent
from qtpy.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .._qt.binding import bind
from ..plots.chart_model import Brush, ChartData, combine_brush, make_chart_data
from ..plots.chart_painter import BarChart, chart_theme

if TYPE_CHECKING:
    from ...explorer import Explorer

__all__ = ["DistributionView", "DEFAULT_COLUMNS"]

#: Demographics and conditions first, then key phenotypes (those the cohort has are shown).
DEFAULT_COLUMNS = (
    "sex", "age", "bmi", "hypertension", "prior_mi", "lbbb", "atrial_enlargement",
    "heart_rate", "lvedv", "ef", "lv_mass", "qrs_duration", "qtc",
)  # fmt: skip
ROLE_ORDER = ("demographic", "condition", "shared", "derived", "ecg", "mri")
MODES = ("replace", "add", "subtract", "intersect")
CHART_WIDTH = 260  # target width of one chart column in the grid


class DistributionView(QWidget):
    """A scrollable grid of brushable charts, cross-filtered with every other view.

    Parameters
    ----------
    explorer : the session whose cohort is charted and whose selection is shown and driven.
    columns : the columns to chart (default: :data:`DEFAULT_COLUMNS` present in the table).
    """

    def __init__(self, explorer: Explorer, columns: Sequence[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.explorer = explorer
        self._theme = chart_theme()
        self._data: dict[str, ChartData] = {}
        self._charts: dict[str, BarChart] = {}
        self._brushes: dict[str, Brush] = {}  # what each chart's brush covers (display only)
        self._filters: dict[str, np.ndarray] = {}  # AND mode: each chart's filter mask
        self._emitting = False
        self._pending = False  # a selection change waits for the next event-loop pass
        self._ncols = 0
        self._build_ui()
        self._connect()
        for column in self._default_columns() if columns is None else columns:
            self.add_chart(column)
        self._on_selection(explorer.selection, "init")
        self.flush()

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        self.picker = QPushButton("Charts")
        self.picker.setStyleSheet("QPushButton { padding-right: 16px; }")
        self.picker.setToolTip("Choose the columns to chart")
        self.picker.setMenu(self._make_menu())
        self.and_button = QPushButton("AND filter", checkable=True)
        self.and_button.setToolTip(
            "Off: each brush replaces the selection (Shift adds, Alt removes).\n"
            "On: each chart's brush is a filter; the selection is the subjects passing every filter."
        )
        self.and_button.toggled.connect(self._on_and_toggled)
        self.clear_button = QPushButton("Clear", clicked=self.clear)
        self.clear_button.setToolTip("Clear the selection (Escape)")
        self.status = QLabel()
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.picker)
        bar.addWidget(self.and_button)
        bar.addStretch(1)
        bar.addWidget(self.clear_button)

        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea(widgetResizable=True)
        self.scroll.setWidget(self._grid_host)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.scroll, 1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # the charts' minimum, not the view's: a minimum on the view would override its layout's and
        # let a dock squeeze the button row (Clear) out of sight
        self.scroll.setMinimumWidth(230 - 2 * 4)

    def _make_menu(self) -> QMenu:
        menu = QMenu(self)
        self._actions: dict[str, QAction] = {}
        info = self.explorer.cohort.columns
        by_role: dict[str, list[str]] = {}
        for column in self._chartable_columns():
            role = getattr(info.get(column), "role", "") or "other"
            by_role.setdefault(role, []).append(column)
        for role in sorted(by_role, key=lambda r: (ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER), r)):
            menu.addSection(role)
            for column in by_role[role]:
                desc = getattr(info.get(column), "description", "")
                action = menu.addAction(f"{column}  —  {desc}" if desc else column)
                action.setCheckable(True)
                action.toggled.connect(lambda on, c=column: self.add_chart(c) if on else self.remove_chart(c))
                self._actions[column] = action
        return menu

    def _chartable_columns(self) -> list[str]:
        table, info = self.explorer.table, self.explorer.cohort.columns
        out = []
        for column in table.columns:
            role = getattr(info.get(column), "role", "")
            series = table[column]
            if column == "subject_id" or role == "id":
                continue
            if not pd.api.types.is_numeric_dtype(series) and series.nunique() == len(series) > 20:
                continue  # identifiers and free text
            out.append(str(column))
        return out

    def _default_columns(self) -> list[str]:
        available = self._chartable_columns()
        chosen = [c for c in DEFAULT_COLUMNS if c in available]
        return chosen or available[:8]

    # ------------------------------------------------------------------ Explorer wiring
    def _connect(self) -> None:
        ev = self.explorer.events
        links = [(ev.selection, self._on_selection), (ev.cohort, self._on_cohort)]
        try:
            from napari.settings import get_settings

            links.append((get_settings().appearance.events.theme, self._on_theme))
        except Exception:  # napari settings unavailable: keep the initial theme
            pass
        self._binding = bind(self, links)

    def disconnect_explorer(self) -> None:
        """Stop observing the Explorer (done automatically when the widget closes or is destroyed)."""
        self._binding.disconnect()

    def closeEvent(self, event) -> None:
        self.disconnect_explorer()
        super().closeEvent(event)

    def _on_selection(self, indices: np.ndarray, source: str) -> None:
        if not self._emitting:  # made elsewhere: this view's brushes no longer describe it
            self._brushes.clear()
            self._filters.clear()
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        """Re-count once per event-loop pass, however many selection events came in it."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.flush)

    def flush(self) -> None:
        """Apply a pending selection change now (it is otherwise applied on the next event-loop pass)."""
        if self._pending:
            self._refresh()

    def _on_cohort(self, cohort: Any) -> None:
        columns = [c for c in self.charts if c in self.explorer.table.columns]
        for column in self.charts:
            self.remove_chart(column)
        self.picker.setMenu(self._make_menu())
        for column in columns:
            self.add_chart(column)
        self._on_selection(self.explorer.selection, "cohort")

    def _on_theme(self, *_: Any) -> None:
        self._theme = chart_theme()
        for chart in self._charts.values():
            chart.theme = self._theme
            chart.update()

    def _refresh(self) -> None:
        """Re-count the selection in every chart (one bincount per chart) and repaint."""
        self._pending = False
        n, total = len(self.explorer.selection), len(self.explorer.table)
        for column, chart in self._charts.items():
            self._refresh_one(column)
            chart.set_brushed(self._brushes.get(column))
        share = f"{n:,} of {total:,} selected ({100 * n / max(1, total):.1f}%)"
        self.status.setText(share if n else f"{total:,} subjects, none selected")

    # ------------------------------------------------------------------ charts
    @property
    def charts(self) -> list[str]:
        """The charted columns, in grid order."""
        return list(self._charts)

    def add_chart(self, column: str) -> BarChart:
        """Add a chart of ``column`` at the end of the grid (or return the existing one)."""
        if column in self._charts:
            return self._charts[column]
        if column not in self.explorer.table.columns:
            raise KeyError(f"no column {column!r}; columns: {', '.join(self._chartable_columns())}")
        data = make_chart_data(self.explorer.table, column, self.explorer.cohort.columns.get(column))
        chart = BarChart(data, self._theme)
        chart.brushed.connect(lambda bars, mods, c=column: self._on_brushed(c, bars, mods))
        chart.close_requested.connect(lambda c=column: self.remove_chart(c))
        self._data[column], self._charts[column] = data, chart
        self._sync_action(column, True)
        self._relayout(force=True)
        self._refresh_one(column)
        return chart

    def remove_chart(self, column: str) -> None:
        """Remove the chart of ``column`` (its brush filter, if any, is dropped)."""
        chart = self._charts.pop(column, None)
        if chart is None:
            return
        self._data.pop(column)
        self._brushes.pop(column, None)
        self._filters.pop(column, None)
        self._grid.removeWidget(chart)
        chart.setParent(None)
        chart.deleteLater()
        self._sync_action(column, False)
        self._relayout(force=True)

    def chart_widget(self, column: str) -> BarChart:
        """The chart widget of ``column`` (e.g. to send it mouse events)."""
        return self._charts[column]

    def bar_rect(self, column: str, value: Any) -> QRect:
        """The rectangle of the bar holding ``value`` in :meth:`chart_widget`'s coordinates."""
        data = self._data[column]
        return self._charts[column].bar_rect(data.bar_of_value(value))

    def counts(self, column: str) -> tuple[Any, np.ndarray, np.ndarray]:
        """``(bars, totals, selected)``: histogram bin edges (bars + 1) or category values, and counts."""
        self.flush()
        data, chart = self._data[column], self._charts[column]
        selected = chart.selected if chart.selected is not None else np.zeros(data.n_bars, np.int64)
        if data.kind == "histogram":
            bars = data.edges.copy()
        else:
            bars = [v[0] if len(v) == 1 else tuple(v) for v in data.values]
        return bars, data.totals.copy(), np.asarray(selected).copy()

    def _sync_action(self, column: str, checked: bool) -> None:
        action = self._actions.get(column)
        if action is not None and action.isChecked() != checked:
            action.blockSignals(True)
            action.setChecked(checked)
            action.blockSignals(False)

    def _refresh_one(self, column: str) -> None:
        idx = self.explorer.selection
        data, chart = self._data[column], self._charts[column]
        if len(idx):
            chart.set_selection(data.selected_counts(idx), len(idx), data.mean(idx))
        else:
            chart.set_selection(None)

    def _relayout(self, *, force: bool = False) -> None:
        ncols = max(1, self.scroll.viewport().width() // CHART_WIDTH)
        if ncols == self._ncols and not force:
            return
        self._ncols = ncols
        for chart in self._charts.values():
            self._grid.removeWidget(chart)
        for i, chart in enumerate(self._charts.values()):
            self._grid.addWidget(chart, i // ncols, i % ncols)
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 1 if c < ncols else 0)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and obj is self.scroll.viewport():
            self._relayout()
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------ brushing
    def brush(self, column: str, lo: float | None, hi: float | None, mode: str = "replace") -> np.ndarray:
        """Select subjects with ``lo <= column <= hi`` (None: open end), a histogram brush."""
        data = self._data[column]
        if data.kind != "histogram":
            raise ValueError(f"{column} is categorical: use click_category")
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        shown = [(data.edges[0] if lo is None else float(lo), data.edges[-1] if hi is None else float(hi))]
        return self._apply(column, {column: (lo, hi)}, shown, mode)

    def click_category(self, column: str, value: Any, mode: str = "replace") -> np.ndarray:
        """Select the subjects whose ``column`` is ``value`` (a category or its label; a histogram: its bin)."""
        return self._brush_bars(column, [self._data[column].bar_of_value(value)], mode)

    def clear(self) -> None:
        """Clear the selection and every chart's brush."""
        self._brushes.clear()
        self._filters.clear()
        self._emit(None, "replace", "chart:clear")
        self._refresh()

    def _on_brushed(self, column: str, bars: list[int], modifiers: Any) -> None:
        mode = "add" if modifiers & Qt.KeyboardModifier.ShiftModifier else "replace"
        if modifiers & Qt.KeyboardModifier.AltModifier:
            mode = "subtract"
        self._brush_bars(column, bars, mode)

    def _brush_bars(self, column: str, bars: list[int], mode: str) -> np.ndarray:
        data = self._data[column]
        what = data.filter_of_bars(bars)
        return self._apply(column, {column: what}, [what] if data.kind == "histogram" else set(bars), mode)

    def _apply(self, column: str, what: dict[str, Any], shown: Brush, mode: str) -> np.ndarray:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if self.and_button.isChecked():
            return self._apply_filter(column, what, shown, mode)
        if mode == "replace":
            self._brushes = {}
        if mode != "subtract" or column in self._brushes:
            self._brushes[column] = combine_brush(self._brushes.get(column), shown, mode)
        selection = self._emit(what, mode, f"chart:{column}")
        self._refresh()
        return selection

    def _apply_filter(self, column: str, what: dict[str, Any], shown: Brush, mode: str) -> np.ndarray:
        """AND mode: update this chart's filter, then select the subjects passing all filters."""
        from ...analysis.groups import filter_mask

        mask = filter_mask(self.explorer.table, what)
        old = self._filters.get(column)
        if old is not None and mode in ("add", "subtract"):
            mask = old | mask if mode == "add" else old & ~mask
            shown = combine_brush(self._brushes.get(column), shown, mode)
        elif mode == "subtract":  # no filter yet on this chart: keep everything but the brushed part
            mask, shown = ~mask, type(shown)()
        self._filters[column], self._brushes[column] = mask, shown
        selection = self._emit(np.logical_and.reduce(list(self._filters.values())), "replace", f"chart:{column}")
        self._refresh()
        return selection

    def _on_and_toggled(self, on: bool) -> None:
        self._filters.clear()
        self._brushes.clear()
        self._refresh()

    def _emit(self, what: Any, mode: str, source: str) -> np.ndarray:
        self._emitting = True
        try:
            return self.explorer.select(what, mode=mode, source=source)
        finally:
            self._emitting = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ pictures
    def screenshot(self, path: str | None = None) -> np.ndarray:
        """The view as an RGBA array (H, W, 4); also saved to ``path`` (PNG) when given."""
        image = self.grab().toImage()
        if path is not None:
            image.save(str(path))
        from qtpy.QtGui import QImage

        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        ptr = image.constBits()
        ptr.setsize(image.sizeInBytes())
        arr = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
        return arr[:, : image.width()].copy()

