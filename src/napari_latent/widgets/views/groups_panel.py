"""Groups panel: the Explorer's user-defined groups — make, rename, recolour, select, export, compare, interpolate.

A thin view: the groups live in the Explorer (``explorer.groups``); the table re-renders on
``events.groups``. "Compare" ranks the phenotypes that differ most between two groups;
"Interpolate" walks the latent line from group A's mean to group B's with a slider that sets
``explorer.latent`` (the decoded views follow), and stacks the decoded cines in a napari layer.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from .._qt.binding import bind
from .._qt.notify import notify_error
from .._qt.worker import start_worker

if TYPE_CHECKING:
    import napari

    from ...analysis.groups import Group
    from ...explorer import Explorer

__all__ = ["GroupsPanel", "rank_differences"]

INTERP_LAYER = "interpolation"
_FAILED = object()
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def rank_differences(summary: pd.DataFrame) -> pd.DataFrame:
    """Order a ``summarize`` table by effect size on one scale: |Cohen's d| for numeric rows,
    |Cohen's h| (arcsine difference of proportions) for categorical ones; ties by p-value.

    Adds ``phenotype`` (column, or "column = level") and ``magnitude``.
    """
    out = summary.copy()
    numeric = out["kind"] == "numeric"
    with np.errstate(invalid="ignore"):
        h = 2 * np.arcsin(np.sqrt(out["group"].clip(0, 1))) - 2 * np.arcsin(np.sqrt(out["rest"].clip(0, 1)))
    out["magnitude"] = np.where(numeric, out["effect_size"].abs(), np.abs(h))
    is_flag = out["level"].isin([True]) | out["level"].isna()
    pairs = zip(out["column"], out["level"], is_flag, strict=True)
    out["phenotype"] = [c if flag else f"{c} = {lvl}" for c, lvl, flag in pairs]
    out = out.sort_values(["magnitude", "p_value"], ascending=[False, True], na_position="last", kind="stable")
    return out.reset_index(drop=True)


class GroupsPanel(QWidget):
    """Table of the Explorer's groups (colour, name, size) with actions on the selected rows.

    Signals: ``compared(DataFrame)`` after :meth:`compare`, ``interpolated(ndarray)`` with the
    (steps, D) latent path once :meth:`interpolate`'s worker is done.
    """

    compared = Signal(object)
    interpolated = Signal(object)

    def __init__(self, explorer: Explorer, viewer: napari.viewer.Viewer | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.explorer = explorer
        self.viewer = viewer  # where interpolated cines are shown; None: no layer
        self._path: np.ndarray | None = None
        self._worker = None
        self._refreshing = False

        self.table = _table(["", "group", "size"], stretch=1)
        self.table.setColumnWidth(0, 26)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        edit = QAbstractItemView.EditTrigger
        self.table.setEditTriggers(edit.DoubleClicked | edit.EditKeyPressed | edit.SelectedClicked)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.query_edit = QLineEdit(placeholderText="query, e.g. age > 60 and sex == 'F'")
        self.query_edit.returnPressed.connect(lambda: self.add_from_query(self.query_edit.text()))
        self.new_button = QPushButton("New from selection", clicked=lambda: self.add_from_selection())
        self.query_button = QPushButton("New from query", clicked=lambda: self.add_from_query(self.query_edit.text()))
        self.select_button = QPushButton("Select", toolTip="Make it the selection",
                                         clicked=lambda: self.select_group(self.selected_groups()[0]))
        self.delete_button = QPushButton("Delete", clicked=lambda: self.delete_groups(self.selected_groups()))
        self.export_button = QPushButton("Export CSV…", clicked=self._export_clicked)
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(lambda: self._try(lambda: self.compare(*self.selected_groups())))
        self.compare_button.setToolTip("Two groups selected: the phenotypes that differ most between them")
        self.interp_button = QPushButton("Interpolate")
        self.interp_button.clicked.connect(lambda: self.interpolate(*self.selected_groups(), self.steps_spin.value()))
        self.interp_button.setToolTip("Two groups selected: decode the latent path from A's mean to B's")
        self.steps_spin = QSpinBox(minimum=2, maximum=50, value=7, suffix=" steps", toolTip="Points on the path")
        self.status = QLabel(wordWrap=True)
        actions = QGridLayout()
        actions.addWidget(self.query_edit, 0, 0, 1, 3)
        actions.addWidget(self.query_button, 0, 3)
        for row, widgets in ((1, (self.new_button, self.select_button, self.delete_button, self.export_button)),
                             (2, (self.compare_button, self.interp_button, self.steps_spin))):  # fmt: skip
            for col, w in enumerate(widgets):
                actions.addWidget(w, row, col, 1, 2 if w is self.steps_spin else 1)

        self.compare_label = QLabel("Select two groups and Compare: the phenotypes that differ most.", wordWrap=True)
        self.compare_table = _table(["phenotype", "A", "B", "effect", "p"], stretch=0)
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.slider = QSlider(Qt.Orientation.Horizontal, enabled=False, toolTip="Move along the path from A to B")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider_a, self.slider_b = QLabel("A"), QLabel("B")
        slider_row = QHBoxLayout()
        for w, stretch in ((self.slider_a, 0), (self.slider, 1), (self.slider_b, 0)):
            slider_row.addWidget(w, stretch)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(_stack(self.table, actions, self.status))
        split.addWidget(_stack(self.compare_label, self.compare_table, slider_row))
        split.setSizes([300, 480])
        QVBoxLayout(self).addWidget(split)

        ev = explorer.events
        pairs = [(ev.groups, self._on_groups), (ev.selection, self._on_selection), (ev.model, self._on_model)]
        self._binding = bind(self, pairs)
        self._on_groups(explorer.groups)
        self._on_selection(explorer.selection, "api")

    # ------------------------------------------------------------------ explorer -> view
    def _on_groups(self, groups: list[Group]) -> None:
        keep = set(self.selected_groups())
        self._refreshing = True
        self.table.setRowCount(len(groups))
        for r, g in enumerate(groups):
            swatch = _item("", tip="Click to change the colour", editable=False)
            swatch.setData(Qt.ItemDataRole.DecorationRole, QColor(g.colour))  # stays visible when selected
            name = _item(g.name, tip=_describe(g) + "\nDouble-click to rename")
            name.setData(Qt.ItemDataRole.UserRole, g.name)
            size = _item(f"{len(g):,}", editable=False, align=_RIGHT)
            for c, item in enumerate((swatch, name, size)):
                self.table.setItem(r, c, item)
        self._refreshing = False
        self.select_rows([n for n in keep if any(g.name == n for g in groups)])
        self._update_buttons()

    def _on_selection(self, indices: np.ndarray, source: str) -> None:
        self.new_button.setEnabled(len(indices) > 0)
        self.status.setText(f"{len(indices):,} of {len(self.explorer.cohort):,} subjects selected")

    def _on_model(self, model: Any) -> None:
        self._path = None
        self.slider.setEnabled(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        n = len(self.selected_groups())
        for b in (self.select_button, self.export_button):
            b.setEnabled(n == 1)
        self.delete_button.setEnabled(n >= 1)
        self.compare_button.setEnabled(n == 2)
        self.interp_button.setEnabled(n == 2 and self.explorer.model is not None and self._worker is None)

    # ------------------------------------------------------------------ table rows
    def selected_groups(self) -> list[str]:
        """Names of the groups selected in the table, top to bottom."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 1).data(Qt.ItemDataRole.UserRole) for r in rows if self.table.item(r, 1)]

    def select_rows(self, names: list[str]) -> None:
        """Select the table rows of the groups ``names`` (what the actions act on)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 1).data(Qt.ItemDataRole.UserRole) in names:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def _on_cell_clicked(self, row: int, column: int) -> None:
        if column != 0:
            return
        name = self.table.item(row, 1).data(Qt.ItemDataRole.UserRole)
        colour = QColorDialog.getColor(QColor(self.explorer.group(name).colour), self, f"Colour of {name}")
        if colour.isValid():
            self.recolour(name, colour.name())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._refreshing or item.column() != 1:
            return
        old, new = item.data(Qt.ItemDataRole.UserRole), item.text().strip()
        if new != old:
            self.rename(old, new)

    # ------------------------------------------------------------------ actions
    def add_from_selection(self, name: str | None = None) -> Group | None:
        """A new group from the Explorer's current selection."""
        group = self._try(lambda: self.explorer.add_group(name))
        return None if group is _FAILED else group

    def add_from_query(self, query: str, name: str | None = None) -> Group | None:
        """A new group from a pandas query; a bad query shows a notification and adds nothing."""
        if name is None and query.strip() not in {g.name for g in self.explorer.groups}:
            name = query.strip() or None  # the query names the group, as in group_from_query
        group = self._try(lambda: self.explorer.add_group(name, query))
        if group is _FAILED:
            return None
        self.query_edit.clear()
        return group

    def rename(self, name: str, new_name: str) -> None:
        """Rename a group (a clash or an empty name is refused with a notification)."""
        if self._try(lambda: self.explorer.update_group(name, new_name=new_name)) is _FAILED:
            self._on_groups(self.explorer.groups)

    def recolour(self, name: str, colour: str) -> None:
        """Give a group a new colour ("#rrggbb")."""
        self._try(lambda: self.explorer.update_group(name, colour=colour))

    def select_group(self, name: str) -> None:
        """Make the group the Explorer's selection."""
        self.explorer.select(self.explorer.group(name), source="groups")

    def delete_groups(self, names: list[str]) -> None:
        """Remove groups from the Explorer."""
        for name in names:
            self.explorer.remove_group(name)

    @staticmethod
    def _try(func):
        """``func()``, or :data:`_FAILED` after showing its ValueError/KeyError as a notification."""
        try:
            return func()
        except (ValueError, KeyError, IndexError) as exc:
            notify_error(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
            return _FAILED

    # ------------------------------------------------------------------ export
    def export_csv(self, name: str, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the group's members (subject_id + every table column) to ``path``, atomically.

        An existing file is replaced only with ``overwrite`` (the save dialog asks first).
        """
        from ..._atomic import replace_file

        path = Path(path).expanduser()
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        rows = self.explorer.table.iloc[self.explorer.group(name).indices]
        return replace_file(path, lambda tmp: rows.to_csv(tmp, index=False), overwrite=overwrite)

    def _export_clicked(self) -> None:
        names = self.selected_groups()
        if len(names) != 1:
            return
        default = names[0].replace(os.sep, "_").replace(" ", "_") + ".csv"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {names[0]}", default, "CSV (*.csv)")
        if path:  # the dialog asked before choosing an existing file
            try:
                self.status.setText(f"Wrote {self.export_csv(names[0], path, overwrite=True)}")
            except OSError as exc:
                notify_error(f"could not write {path}: {exc}")

    # ------------------------------------------------------------------ compare
    def compare(self, a: str, b: str, top: int = 12) -> pd.DataFrame:
        """Rank the phenotypes that differ most between groups ``a`` and ``b`` and show the top rows."""
        ex = self.explorer
        ga, gb = ex.group(a), ex.group(b)
        ranked = rank_differences(ex.summarize(a, rest=b))
        shown = ranked.head(top)
        self.compare_label.setText(f"<b>{a}</b> (A, n={len(ga):,}) vs <b>{b}</b> (B, n={len(gb):,}): largest effects")
        self.compare_table.setRowCount(len(shown))
        for r, row in enumerate(shown.itertuples(index=False)):
            numeric = row.kind == "numeric"
            fmt = (lambda v: f"{v:.4g}") if numeric else (lambda v: f"{v:.0%}")
            effect = f"d = {row.effect_size:+.2f}" if numeric else f"Δ = {row.effect_size:+.0%}"
            p = row.p_value
            p = "–" if not np.isfinite(p) else f"{p:.2g}" if p >= 1e-3 else f"{p:.0e}"
            cells = (row.phenotype, fmt(row.group), fmt(row.rest), effect, p)
            for c, text in enumerate(cells):
                item = _item(text, align=_RIGHT if c else _LEFT)
                if row.flagged:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip("Large and significant after Bonferroni correction")
                self.compare_table.setItem(r, c, item)
        self.compared.emit(ranked)
        return ranked

    # ------------------------------------------------------------------ interpolate
    def interpolate(self, a: str, b: str, steps: int = 7) -> None:
        """Latent path from ``a``'s mean to ``b``'s, decoded in a worker; the slider then walks it."""
        viewer = self.viewer
        ex = self.explorer
        self._worker = start_worker(
            ex.interpolate, a, b, steps, decode=viewer is not None,
            returned=lambda out: self._show_path(a, b, *out),
            errored=lambda exc: notify_error(f"Interpolation failed: {type(exc).__name__}: {exc}"),
            finished=self._worker_done,
        )  # fmt: skip
        self.interp_button.setEnabled(False)
        self.status.setText(f"Interpolating {a} → {b}…")

    def _worker_done(self) -> None:
        self._worker = None
        self._update_buttons()

    def _show_path(self, a: str, b: str, z: np.ndarray, decoded: dict[str, np.ndarray] | None) -> None:
        self._path = np.asarray(z)
        self.slider_a.setText(a)
        self.slider_b.setText(b)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(z) - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(True)
        self.status.setText(f"Path {a} → {b}: {len(z)} steps; drag the slider to move along it")
        if decoded is not None and "mri" in decoded:
            self._show_stack(a, b, decoded["mri"])
        self._on_slider(0)
        self.interpolated.emit(self._path)

    def _show_stack(self, a: str, b: str, mri: np.ndarray) -> None:
        from ..plots.layer_data import cine_layer_kwargs

        viewer = self.viewer
        if viewer is None:
            return
        kw = cine_layer_kwargs(INTERP_LAYER)
        kw.update(
            scale=(1.0, *kw["scale"]), axis_labels=("A→B", *kw["axis_labels"]), units=("pixel", *kw["units"]),
            metadata={"group_a": a, "group_b": b},
        )  # fmt: skip
        try:
            if INTERP_LAYER in viewer.layers:
                viewer.layers.remove(INTERP_LAYER)
            viewer.add_image(mri.astype(np.float32), **kw)
        except Exception as exc:  # a layer that does not fit the viewer's axes must not break the panel
            notify_error(f"Could not show the interpolated cines: {exc}")

    def _on_slider(self, value: int) -> None:
        if self._path is None:
            return
        self.explorer.latent = self._path[int(value)]
        viewer = self.viewer
        if viewer is not None and INTERP_LAYER in viewer.layers:
            axis = viewer.dims.ndim - viewer.layers[INTERP_LAYER].ndim
            viewer.dims.set_current_step(axis, int(value))


def _item(text: str, *, tip: str = "", editable: bool = True, align=None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tip)
    if not editable:
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align is not None:
        item.setTextAlignment(align)
    return item


def _table(headers: list[str], stretch: int) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 10)
    for c in range(len(headers)):
        mode = QHeaderView.ResizeMode.Stretch if c == stretch else QHeaderView.ResizeMode.ResizeToContents
        table.horizontalHeader().setSectionResizeMode(c, mode)
    return table


def _stack(*parts) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        if isinstance(part, QWidget):
            layout.addWidget(part, 1 if isinstance(part, QTableWidget) else 0)
        else:
            layout.addLayout(part)
    return box


def _describe(group: Group) -> str:
    d = group.definition
    if d.get("kind") == "query":
        return f"query: {d['query']}"
    if d.get("kind") == "filter":
        return "filter: " + ", ".join(f"{k} {v}" for k, v in d["filters"].items())
    return "hand-picked subjects"

