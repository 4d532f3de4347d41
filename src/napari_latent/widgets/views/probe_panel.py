"""Probe panel: how well each latent space predicts each phenotype (R² or AUROC), and for whom.

"Run probes" fits k-fold linear probes (``analysis.probe_table``) from every latent space of
the Explorer to the chosen table columns in a worker. The table has one row per column and
one column per space, cells coloured by score. Clicking a cell plots that probe's
out-of-fold predictions against the truth (continuous) or its ROC curves (binary/categorical).
"Selection vs rest" shows each probe's accuracy within the Explorer's selection and for the
rest of the cohort (``analysis.probe_subgroup``), as the paper's users inspected subgroups.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from .._qt.binding import bind
from .._qt.notify import notify_error
from .._qt.progress import set_progress
from .._qt.worker import start_worker
from ..plots.mini_plot import MiniPlot, plot_probe
from .decode_worker import LatestWinsDecoder

if TYPE_CHECKING:
    from ...analysis.probes import ProbeResult
    from ...explorer import Explorer

__all__ = ["ProbePanel", "score_colour"]

SPACE_ORDER = ("fused", "mri", "ecg")


def score_colour(metric: str, value: float) -> QColor:
    """Viridis colour of a score: R² over [0, 1], AUROC over [0.5, 1] (chance is the dark end)."""
    from vispy.color import get_colormap

    if not np.isfinite(value):
        return QColor("#3a3d45")
    t = np.clip(value, 0, 1) if metric == "r2" else np.clip((value - 0.5) / 0.5, 0, 1)
    r, g, b, _ = get_colormap("viridis").map(np.array([t]))[0]
    return QColor.fromRgbF(float(r), float(g), float(b))


def _ink(background: QColor) -> QColor:
    luma = 0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF()
    return QColor("#000000" if luma > 0.5 else "#ffffff")


#: Why a subgroup R² can be negative (shown under the table and in the cell's tooltip).
NEGATIVE_R2_NOTE = (
    "R² below 0: within that part of the cohort the probe predicts worse than the part's own mean. "
    "A selection made on the phenotype itself (e.g. age > 70) leaves little spread to explain, "
    "so the cohort-wide probe's errors outweigh it; it does not mean the latent lost the phenotype."
)


def _score_subgroups(request: tuple[int, np.ndarray, dict]) -> tuple[int, dict]:
    """``(generation, {(column, space): (selection row, rest row)})``, rows of metrics and n (worker thread)."""
    from ...analysis.probes import probe_subgroup

    generation, mask, results = request
    placeholder = np.empty((len(mask), 0), np.float32)  # the fitted probes are reused, not refitted
    out = {}
    for key, result in results.items():
        sub = probe_subgroup(placeholder, None, mask, result=result)
        out[key] = (sub.loc["group"].to_dict(), sub.loc["rest"].to_dict())
    return generation, out


class ProbePanel(QWidget):
    """Probe table (phenotype × latent space) with predicted-vs-true plots and a subgroup view.

    Signals: ``probes_finished(DataFrame)`` with ``probe_table``'s long table after a run,
    ``detail_shown(column, space)`` once a probe's plot is drawn, ``subgroup_shown()``
    after the table shows selection-vs-rest scores, ``progressed(done, total)`` as a worker goes.
    """

    probes_finished = Signal(object)
    detail_shown = Signal(str, str)
    subgroup_shown = Signal()
    progressed = Signal(int, int)  # (done, total) as a worker advances; emitted from the worker thread

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__(parent)
        self.explorer = explorer
        self.scores: pd.DataFrame | None = None  # the last probe_table
        self._results: dict[tuple[str, str], ProbeResult] = {}  # fitted probes, for plots and subgroups
        self._columns: list[str] = []
        self._current: tuple[str, str] | None = None
        self._worker = None
        self._stop = threading.Event()
        self._pbar = None
        self._then = None  # what to start when the running worker is done
        self._job = ""  # "table" or "fit"
        self._summary = ""  # the status line shown when idle
        # selection-vs-rest scores are computed off the Qt thread, latest selection wins
        self._generation = 0  # bumped by every selection change and new probe results
        self._sub: dict[tuple[str, str], tuple[dict, dict]] = {}
        self._sub_generation = -1
        self._scorer = LatestWinsDecoder(func=_score_subgroups, parent=self, name="subgroup probes")
        self._scorer.decoded.connect(self._on_subgroup_scored)
        self._scorer.failed.connect(lambda exc, _req: notify_error(f"Selection vs rest failed: {exc}"))

        self.run_button = QPushButton("Run probes", clicked=lambda: self.run())
        self.cancel_button = QPushButton("Cancel", enabled=False, clicked=self.cancel)
        self.columns_button = QToolButton(text="Columns ", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_button.setMenu(self.columns_menu)
        self.group_check = QCheckBox("Selection vs rest")
        self.group_check.setToolTip("Each probe's accuracy within the current selection | for everyone else")
        self.group_check.toggled.connect(self._on_group_toggled)
        top = QHBoxLayout()
        for w in (self.run_button, self.cancel_button, self.columns_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.group_check)
        self.progress_bar = QProgressBar(visible=False, textVisible=True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.footnote = QLabel(NEGATIVE_R2_NOTE, visible=False)
        self.footnote.setWordWrap(True)
        self.footnote.setStyleSheet("color: gray; font-size: small")

        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.plot = MiniPlot(xlabel="true", ylabel="predicted")
        self.plot.clear("Click a cell to see the probe's out-of-fold predictions")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setSizes([300, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(self.footnote)

        self.progressed.connect(self._on_progress)
        ev = explorer.events
        pairs = [(ev.embeddings, self._on_embeddings), (ev.model, self._on_embeddings),
                 (ev.selection, self._on_selection)]  # fmt: skip
        self._binding = bind(self, pairs)
        stop, scorer = self._stop, self._scorer
        self.destroyed.connect(lambda *_: stop.set())
        self.destroyed.connect(lambda *_: scorer.stop(0.0))
        self._on_embeddings(None)

    # ------------------------------------------------------------------ settings
    @property
    def spaces(self) -> list[str]:
        """Latent spaces the Explorer has, in display order."""
        emb = self.explorer.embeddings
        return [s for s in SPACE_ORDER if s in emb] + sorted(s for s in emb if s not in SPACE_ORDER)

    def columns(self) -> list[str]:
        """The table columns that will be probed (checked in the Columns menu)."""
        return [a.text() for a in self.columns_menu.actions() if a.isChecked()]

    def set_columns(self, columns: list[str]) -> None:
        """Probe only ``columns`` (others are unchecked in the Columns menu)."""
        unknown = set(columns) - {a.text() for a in self.columns_menu.actions()}
        if unknown:
            raise ValueError(f"unknown column(s) {sorted(unknown)}")
        for a in self.columns_menu.actions():
            a.setChecked(a.text() in columns)

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        for col in self.explorer.table.columns:
            if col != "subject_id":
                self.columns_menu.addAction(col).setCheckable(True)
                self.columns_menu.actions()[-1].setChecked(True)

    # ------------------------------------------------------------------ running
    @property
    def is_running(self) -> bool:
        """Whether a probe worker is running."""
        return self._worker is not None

    def run(self, columns: list[str] | None = None) -> None:
        """Probe ``columns`` (default: those checked) from every latent space, in a worker."""
        from ...analysis.probes import probe_table

        if self.is_running:
            return
        columns = list(columns) if columns is not None else self.columns()
        if not self.spaces or not columns:
            notify_error("Nothing to probe: embed the cohort and choose at least one column")
            return
        self._results.clear()
        self._columns = columns
        func = partial(probe_table, dict(self.explorer.embeddings), self.explorer.table, columns)
        self._start(func, f"Probing {len(columns)} columns × {len(self.spaces)} spaces", self._show_scores, "table")

    def cancel(self) -> None:
        """Stop the running worker at its next probe."""
        self._stop.set()

    def _start(self, func, label: str, on_done, job: str = "fit") -> None:
        from napari.utils import progress

        self._pbar = progress(total=0, desc=label)
        worker = start_worker(func, progress=self.progressed.emit, stop=self._stop,
                              returned=on_done, errored=self._on_error, finished=self._on_finished)  # fmt: skip
        self._worker, self._job = worker, job
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setVisible(True)
        self.status.setText(label + "…")

    def _on_progress(self, done: int, total: int) -> None:
        set_progress(self.progress_bar, done, total)
        if self._pbar is not None:
            self._pbar.total = total
            self._pbar.n = done
            self._pbar.refresh()

    def _on_error(self, exc: BaseException) -> None:
        cancelled = isinstance(exc, InterruptedError)
        if not cancelled:
            notify_error(f"Probing failed: {type(exc).__name__}: {exc}")
        if self._job == "table":
            self._summary = "Cancelled." if cancelled else f"Probing failed: {exc}"
        elif cancelled and self.group_check.isChecked():
            self.group_check.setChecked(False)

    def _on_finished(self) -> None:
        self._worker = None
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        self.run_button.setEnabled(bool(self.spaces))
        self.cancel_button.setEnabled(False)
        self.progress_bar.setVisible(False)
        self.status.setText(self._summary)
        then, self._then = self._then, None
        if then is not None:
            then()

    # ------------------------------------------------------------------ explorer -> view
    def _on_embeddings(self, _: Any) -> None:
        self.cancel()
        self.scores, self._current = None, None
        self._results.clear()
        if not self.columns_menu.actions():
            self._fill_columns_menu()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.plot.clear("Click a cell to see the probe's out-of-fold predictions")
        self.run_button.setEnabled(bool(self.spaces) and not self.is_running)
        self._summary = (
            "Run the probes to see how well each latent space predicts each phenotype."
            if self.spaces else "No embeddings yet: load a model and embed the cohort."
        )  # fmt: skip
        if not self.is_running:
            self.status.setText(self._summary)

    def _on_selection(self, indices: np.ndarray, source: str) -> None:
        self._generation += 1
        if self.group_check.isChecked() and self.scores is not None and not self.is_running:
            self._render()
            if self._current is not None:
                self.show_detail(*self._current)

    def _on_group_toggled(self, on: bool) -> None:
        if self.scores is None:
            return
        missing = [key for key in self._probeable() if key not in self._results]
        if on and missing:
            self._start(partial(self._fit_probes, missing), "Fitting probes for the subgroup view", self._store_results)
        else:
            self._render()

    # ------------------------------------------------------------------ probe results
    def _probeable(self) -> list[tuple[str, str]]:
        ok = self.scores[self.scores["error"] == ""]
        return list(zip(ok["column"], ok["space"], strict=True))

    def _fit_probes(self, keys, *, progress, should_stop) -> dict[tuple[str, str], ProbeResult]:
        out = {}
        for i, (column, space) in enumerate(keys):
            if should_stop():
                raise InterruptedError("cancelled")
            out[(column, space)] = self.explorer.probe(column, space)
            progress(i + 1, len(keys))
        return out

    def _store_results(self, results: dict) -> None:
        self._results.update(results)
        self._generation += 1
        if self.group_check.isChecked():
            self._render()
        if self._current is not None and self._current in self._results:
            self._plot(*self._current)

    def _show_scores(self, scores: pd.DataFrame) -> None:
        self.scores = scores
        self._render()
        n_err = int((scores["error"] != "").sum())
        self._summary = (
            "Linear probes, 5-fold cross-validated: R² for continuous columns, AUROC for the others; "
            "dark = chance, yellow = perfect. Click a cell for its predictions."
            + (f" {n_err} could not be probed (hover for why)." if n_err else "")
        )  # fmt: skip
        self.probes_finished.emit(scores)
        if self.group_check.isChecked():  # fit the subgroup view's probes once this worker is done
            self._then = partial(self._on_group_toggled, True)

    # ------------------------------------------------------------------ table
    def _render(self) -> None:
        scores, spaces = self.scores, self.spaces
        subgroup = self.group_check.isChecked() and len(self.explorer.selection) > 0
        if subgroup and self._sub_generation != self._generation:
            self._request_subgroups()  # renders when the scores are in
            return
        self.table.setColumnCount(2 + len(spaces))
        heads = [f"{s}\nsel. | rest" if subgroup else s for s in spaces]
        self.table.setHorizontalHeaderLabels(["phenotype", "metric", *heads])
        self.table.setRowCount(len(self._columns))
        by_cell = {(r.column, r.space): r for r in scores.itertuples(index=False)}
        for row, column in enumerate(self._columns):
            cells = [by_cell.get((column, s)) for s in spaces]
            metric = next((c.metric for c in cells if c is not None and c.metric), "")
            name = QTableWidgetItem(column)
            info = self.explorer.cohort.columns.get(column)
            unit = f" ({info.unit})" if info and info.unit else ""
            name.setToolTip(f"{column}: {info.description}{unit}" if info else column)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem({"r2": "R²", "auroc": "AUC"}.get(metric, "–")))
            for j, (space, cell) in enumerate(zip(spaces, cells, strict=True)):
                self.table.setItem(row, 2 + j, self._cell(column, space, cell, subgroup))
        head = self.table.horizontalHeader()
        for c in range(self.table.columnCount()):  # whole names: a narrow dock scrolls sideways
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        negative = subgroup and any(
            (item := self.table.item(r, c)) is not None and "below 0" in item.toolTip()
            for r in range(self.table.rowCount()) for c in range(2, self.table.columnCount())
        )  # fmt: skip
        self.footnote.setVisible(negative)
        if subgroup:
            self.subgroup_shown.emit()

    def _cell(self, column: str, space: str, cell, subgroup: bool) -> QTableWidgetItem:
        if cell is None or cell.error:
            item = QTableWidgetItem("–")
            item.setToolTip(cell.error if cell is not None else "not probed")
            return item
        value, tip = float(cell.value), f"{cell.metric} {cell.value:.3f} · n = {cell.n}"
        if cell.n_dropped:
            tip += f" ({cell.n_dropped} missing)"
        text = f"{value:.2f}"
        sub = self._sub.get((column, space))
        if subgroup and sub is not None:
            g, r = float(sub[0][cell.metric]), float(sub[1][cell.metric])
            n_g, n_r = int(sub[0]["n"]), int(sub[1]["n"])
            value, text = g, f"{_num(g)} | {_num(r)}"
            tip = f"selection {_num(g)} (n = {n_g}) · rest {_num(r)} (n = {n_r}) · all {cell.value:.3f}"
            if cell.metric == "r2" and min(g, r) < 0:
                tip += "\n" + NEGATIVE_R2_NOTE
        item = QTableWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        colour = score_colour(cell.metric, value)
        item.setBackground(colour)
        item.setForeground(_ink(colour))
        item.setToolTip(tip)
        return item

    def _request_subgroups(self) -> None:
        """Score every fitted probe within the selection and the rest, in the background."""
        wanted = {key: res for key, res in self._results.items() if key[0] in self._columns}
        self._scorer.request((self._generation, self.explorer.selection_mask.copy(), wanted))

    def _on_subgroup_scored(self, out: tuple[int, dict], _request: Any) -> None:
        generation, scores = out
        if generation != self._generation:
            return  # the selection changed meanwhile: a newer request is on its way
        self._sub, self._sub_generation = scores, generation
        if self.scores is not None and self.group_check.isChecked():
            self._render()

    def value(self, column: str, space: str) -> float:
        """The score shown in the table for ``column`` from ``space`` (NaN when it could not be probed)."""
        row, col = self._columns.index(column), 2 + self.spaces.index(space)
        value = self.table.item(row, col).data(Qt.ItemDataRole.UserRole)
        return float("nan") if value is None else float(value)

    # ------------------------------------------------------------------ predicted vs true
    def _on_cell_clicked(self, row: int, col: int) -> None:
        if self.scores is None or row >= len(self._columns):
            return
        self.show_detail(self._columns[row], self.spaces[max(0, col - 2)] if col >= 2 else "fused")

    def show_detail(self, column: str, space: str = "fused") -> None:
        """Plot the probe of ``column`` from ``space`` (fitting it in a worker when needed)."""
        self._current = (column, space)
        if (column, space) in self._results:
            self._plot(column, space)
        elif self.is_running:  # after the running worker
            self._then = partial(self.show_detail, column, space)
        else:
            job = partial(self._fit_probes, [(column, space)])
            self._start(job, f"Probing {column} from {space}", self._store_results)

    def _plot(self, column: str, space: str) -> None:
        res = self._results[(column, space)]
        in_sel = self.explorer.selection_mask[res.used] if self.group_check.isChecked() else None
        metric = "R²" if res.metric == "r2" else "AUROC"
        plot_probe(self.plot, res, f"{column} from the {space} latent · {metric} {res.score:.2f}", in_group=in_sel)
        self.detail_shown.emit(column, space)


def _num(v: float) -> str:
    return f"{v:.2f}" if np.isfinite(v) else "–"
