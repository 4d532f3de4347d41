"""Cohort subject browser: open a store (or the demo), step through subjects, see cine + ECG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...cohort import Cohort, CohortError
from .._qt.notify import notify_error
from .._qt.worker import start_worker
from ..plots.ecg_plot import EcgPlot

if TYPE_CHECKING:
    import napari

CINE_LAYER = "subject cine"
LABELS_LAYER = "subject labels"


class SubjectBrowser(QWidget):
    """Open a cohort store and browse its subjects: table row, cine and labels layers, 12-lead ECG.

    Opening and generating run in a worker with a napari progress bar; errors become
    napari notifications naming the file. The cine and labels layers are updated in
    place when the subject changes, so napari's frame slider keeps its position.
    """

    cohort_changed = Signal(object)
    subject_changed = Signal(object)

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.cohort: Cohort | None = None
        self._worker = None

        self.path_edit = QLineEdit(placeholderText="path/to/cohort.zarr")
        self.path_edit.returnPressed.connect(lambda: self.open(self.path_edit.text()))
        browse = QPushButton("Open…", clicked=self._browse)
        demo = QPushButton("Demo cohort", clicked=self.open_demo)
        demo.setToolTip("Generate (once, then from the cache) the 1,000-subject synthetic demo cohort")
        top = QHBoxLayout()
        top.addWidget(self.path_edit, 1)
        top.addWidget(browse)
        top.addWidget(demo)

        self.status = QLabel("No cohort open")
        self.index_spin = QSpinBox(minimum=0, maximum=0, enabled=False, prefix="subject ")
        self.index_spin.valueChanged.connect(self.show_subject)
        self.id_edit = QLineEdit(placeholderText="subject id", enabled=False)
        self.id_edit.returnPressed.connect(self._jump_to_id)
        pick = QHBoxLayout()
        pick.addWidget(self.index_spin)
        pick.addWidget(self.id_edit, 1)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["column", "value", "unit"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.ecg = EcgPlot()

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.ecg)
        split.setSizes([220, 420])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(pick)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ opening
    def open(self, path: str | Path) -> None:
        """Open the store at ``path`` in a worker; a bad store shows a notification."""
        from ...cohort import open_cohort as _open

        self._run(_open, Path(path).expanduser(), label="Opening cohort")

    def open_demo(self, n: int | None = None) -> None:
        """Open the demo cohort, generating it first (with progress) when not cached."""
        from ...cohort.synthetic.generate import DEMO_SIZE, demo_cohort

        def generate(progress=None):
            return demo_cohort(n or DEMO_SIZE, progress=progress)

        self._run(generate, label="Demo cohort", with_progress=True)

    def set_cohort(self, cohort: Cohort) -> None:
        """Show ``cohort`` (already open) and its first subject."""
        self.cohort = cohort
        where = f" · {cohort.path}" if cohort.path else ""
        self.status.setText(f"{len(cohort):,} subjects{where}")
        self.path_edit.setText(str(cohort.path or ""))
        self.index_spin.blockSignals(True)
        self.index_spin.setMaximum(len(cohort) - 1)
        self.index_spin.setValue(0)
        self.index_spin.blockSignals(False)
        self.index_spin.setEnabled(True)
        self.id_edit.setEnabled(True)
        self.cohort_changed.emit(cohort)
        self.show_subject(0)

    def _run(self, func, *args, label: str, with_progress: bool = False) -> None:
        self._worker = start_worker(
            func, *args, returned=self.set_cohort, errored=notify_error, desc=label,
            progress_kw="progress" if with_progress else None,
        )  # fmt: skip

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a cohort store (.zarr directory)")
        if path:
            self.open(path)

    # ------------------------------------------------------------------ subjects
    def _jump_to_id(self) -> None:
        if self.cohort is None:
            return
        try:
            self.index_spin.setValue(self.cohort.index_of(self.id_edit.text().strip()))
        except KeyError as exc:
            notify_error(exc)

    def show_subject(self, index: int) -> None:
        """Show subject ``index``: table, cine/labels layers (updated in place), ECG."""
        if self.cohort is None:
            return
        try:
            subject = self.cohort.subject(int(index))
        except (CohortError, OSError, ValueError) as exc:
            notify_error(exc)
            return
        self.id_edit.setText(subject.subject_id)
        self._fill_table(subject.row)
        self._update_layers(subject)
        self.ecg.clear()
        self.ecg.set_trace(subject.subject_id, rhythm=subject.ecg_rhythm, median=subject.ecg_median, color="black")
        self.subject_changed.emit(subject)

    def _fill_table(self, row: dict) -> None:
        columns = self.cohort.columns if self.cohort else {}
        self.table.setRowCount(len(row))
        for r, (key, value) in enumerate(row.items()):
            info = columns.get(key)
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
            for c, item in enumerate((key, text, info.unit if info else "")):
                cell = QTableWidgetItem(item)
                if info and c == 0:
                    cell.setToolTip(info.description)
                self.table.setItem(r, c, cell)

    def _update_layers(self, subject) -> None:
        from ..plots.layer_data import subject_layers

        fresh = False
        for data, kwargs, kind in subject_layers(subject):
            name = CINE_LAYER if kind == "image" else LABELS_LAYER
            kwargs = {**kwargs, "name": name}
            if name in self.viewer.layers:
                layer = self.viewer.layers[name]
                layer.data = data
                layer.scale = kwargs["scale"]
                layer.metadata = kwargs["metadata"]
            else:
                self.viewer.add_layer(_make_layer(data, kwargs, kind))
                fresh = True
        if subject.labels is None and LABELS_LAYER in self.viewer.layers:
            self.viewer.layers.remove(LABELS_LAYER)
        if fresh:
            self.viewer.reset_view()


def _make_layer(data, kwargs, kind):
    from napari.layers import Layer

    return Layer.create(data, kwargs, kind)
