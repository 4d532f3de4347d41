"""Import a cohort: a manifest of users' cine and ECG files (plus a phenotype table) into a store.

A form (manifest, phenotype table and its id column, output store, workers, resume), a
"Make example folder" button that writes a small example folder with its manifest, Import /
Cancel, a progress bar, and when the import ends a table of the subjects that failed (file
and reason) with "Save report…" (CSV) and "Open in Explorer". The import runs in a napari
worker (as the training panel does); "Cancel" stops it at the next subject and leaves no
store behind; failures of the whole import become napari notifications naming the file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui import widgets as mw
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .._qt.notify import notify_error
from .._qt.progress import set_progress
from .._qt.scroll import scroll_contents
from .._qt.worker import start_worker

if TYPE_CHECKING:
    import napari

__all__ = ["FAILURE_COLUMNS", "ImportCohortWidget"]

FAILURE_COLUMNS = ("subject", "file", "reason")
_DEFAULT_WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))


def _path_or_none(value: Any) -> Path | None:
    """A form's path value, or None when the field is empty."""
    text = "" if value is None else str(value).strip()
    return Path(text).expanduser() if text else None


class ImportCohortWidget(QWidget):
    """Build a cohort store from a manifest (see ``docs/data-format.md``), off the Qt thread.

    Signals (Qt thread): ``import_finished(status)`` once idle again, status "completed",
    "cancelled" or "failed"; ``example_made(manifest_path)`` after "Make example folder".
    After a completed import :attr:`report` holds the ``ImportReport`` and :attr:`failures`
    the failed subjects as ``(subject, file, reason)`` rows, as shown in :attr:`failures_table`.
    """

    import_finished = Signal(str)
    example_made = Signal(str)
    _progress = Signal(int, int)  # emitted on the worker thread, delivered on the Qt thread

    def __init__(self, napari_viewer: napari.viewer.Viewer | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.report: Any = None
        self.failures: list[tuple[str, str, str]] = []
        self._worker = None
        self._out: Path | None = None
        self._stop = threading.Event()
        self.form = self._make_form()

        self.example_button = QPushButton("Make example folder…", clicked=lambda: self.make_example_folder())
        self.example_button.setToolTip(
            "Write example cine (DICOM/NIfTI) and ECG (DICOM/CSV/WFDB) files and their manifest"
        )
        self.example_size = QSpinBox(minimum=1, maximum=1000, value=12, suffix=" subjects")
        self.example_size.setToolTip("how many subjects the example folder holds")
        example_row = QHBoxLayout()
        example_row.addWidget(self.example_button, 1)
        example_row.addWidget(self.example_size)

        self.import_button = QPushButton("Import", clicked=lambda: self.start())
        self.import_button.setToolTip("Read every subject of the manifest into a new cohort store")
        self.cancel_button = QPushButton("Cancel", enabled=False, clicked=self.cancel)
        self.cancel_button.setToolTip("Stop after the current subject; no store is written")
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button, 1)
        buttons.addWidget(self.cancel_button)

        self.progress_bar = QProgressBar(textVisible=True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("idle")
        self.status = QLabel("Choose a manifest (CSV: subject_id, mri, ecg) and an output store.")
        self.status.setWordWrap(True)

        self.failures_table = QTableWidget(0, len(FAILURE_COLUMNS))
        self.failures_table.setHorizontalHeaderLabels([c.capitalize() for c in FAILURE_COLUMNS])
        self.failures_table.verticalHeader().setVisible(False)
        self.failures_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.failures_table.setWordWrap(True)  # the reason wraps; the file is elided in the middle
        self.failures_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.failures_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.failures_table.setColumnWidth(1, 130)
        self.failures_label = QLabel("Failed subjects")

        self.save_report_button = QPushButton("Save report…", enabled=False, clicked=lambda: self.save_report())
        self.save_report_button.setToolTip("Write the failed subjects (subject, file, reason) to a CSV file")
        self.open_button = QPushButton("Open in Explorer", enabled=False, clicked=lambda: self.open_in_explorer())
        self.open_button.setToolTip("Open the new store with every Explorer view docked in this viewer")
        after = QHBoxLayout()
        after.addWidget(self.save_report_button)
        after.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.form.native)
        layout.addLayout(example_row)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.failures_label)
        layout.addWidget(self.failures_table, 1)
        layout.addLayout(after)
        self.setMinimumWidth(380)
        scroll_contents(self)  # the form scrolls in a short dock instead of making the window taller
        self._progress.connect(self._on_progress)
        stop = self._stop
        self.destroyed.connect(lambda *_: stop.set())  # a closed dialog stops its import

    # ------------------------------------------------------------------ the form
    def _make_form(self) -> mw.Container:
        default_out = Path.home() / "napari-latent" / "cohorts" / "my-cohort.zarr"
        form = mw.Container(
            widgets=[
                mw.FileEdit(name="manifest", label="manifest", mode="r", filter="Tables (*.csv *.tsv *.txt)",
                            nullable=True),
                mw.FileEdit(name="phenotypes", label="phenotype table", mode="r",
                            filter="Tables (*.csv *.tsv *.parquet)", nullable=True),
                mw.LineEdit(name="id_column", label="id column", value="subject_id"),
                mw.FileEdit(name="out", label="output store", mode="w", value=default_out),
                mw.SpinBox(name="workers", label="workers", min=1, max=max(1, os.cpu_count() or 1),
                           value=_DEFAULT_WORKERS),
                mw.CheckBox(name="resume", text="resume an interrupted import", value=True),
            ],
            labels=True,
        )  # fmt: skip
        form.manifest.tooltip = "CSV, one row a subject: subject_id, mri (file or DICOM folder), ecg (file)"
        form.phenotypes.tooltip = "Optional CSV or Parquet table of phenotypes, joined on the id column"
        form.id_column.tooltip = "The phenotype table's column that holds the manifest's subject ids"
        form.out.tooltip = "A new store directory (NAME.zarr); an existing store is never replaced"
        form.workers.tooltip = "Processes reading subjects in parallel"
        form.resume.tooltip = "Keep subjects already read by an earlier, interrupted import of the same manifest"
        return form

    # ------------------------------------------------------------------ example folder
    def make_example_folder(self, directory: str | os.PathLike | None = None) -> Path | None:
        """Write an example folder (``example_size`` subjects) and point the form at it.

        Asks for the folder when ``directory`` is None. Returns the manifest's path.
        """
        if directory is None:
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the example files (a new or empty folder)")
            if not chosen:
                return None
            directory = chosen
        from ...io.example_files import write_example_folder

        directory = Path(directory).expanduser()
        try:
            manifest = Path(write_example_folder(directory, n=int(self.example_size.value())))
        except (OSError, ValueError) as exc:
            notify_error(f"folder {directory}: could not write the example files: {exc}")
            return None
        self.form.manifest.value = manifest
        phenotypes = manifest.parent / "phenotypes.csv"
        self.form.phenotypes.value = phenotypes if phenotypes.is_file() else None
        self.form.out.value = manifest.parent.parent / f"{manifest.parent.name}.zarr"
        self.status.setText(f"Example files and manifest written to {manifest.parent}.")
        self.example_made.emit(str(manifest))
        return manifest

    # ------------------------------------------------------------------ running
    @property
    def is_running(self) -> bool:
        """Whether an import is running."""
        return self._worker is not None

    def start(self) -> bool:
        """Import with the form's settings in a worker; returns whether it started."""
        if self.is_running:
            return False
        f = self.form
        manifest = _path_or_none(f.manifest.value)
        out = _path_or_none(f.out.value)
        phenotypes = _path_or_none(f.phenotypes.value)
        if manifest is None:
            notify_error("Choose a manifest file (CSV: subject_id, mri, ecg) first")
            return False
        if not manifest.is_file():
            notify_error(f"file {manifest}: the manifest does not exist")
            return False
        if phenotypes is not None and not phenotypes.is_file():
            notify_error(f"file {phenotypes}: the phenotype table does not exist")
            return False
        if out is None:
            notify_error("Choose where to write the cohort store")
            return False
        out = out.absolute()
        if out.exists():
            notify_error(f"{out} already exists; napari-latent never replaces it: choose a new store path")
            return False
        from ...io import import_cohort

        kwargs = {
            "phenotypes": phenotypes,
            "id_column": f.id_column.value.strip() or "subject_id",
            "workers": int(f.workers.value),
            "progress": self._progress.emit,
            "should_stop": self._stop.is_set,
            "resume": bool(f.resume.value),
            "overwrite": False,
        }
        self._set_failures([])
        self.report = None
        self._launch(import_cohort, manifest, out, kwargs)
        return True

    def _launch(self, func, manifest: Path, out: Path, kwargs: dict[str, Any]) -> None:
        self._stop.clear()
        self._worker = start_worker(func, manifest, out, **kwargs, returned=self._on_done, errored=self._on_error)
        self._out = out
        self.form.enabled = False
        self.import_button.setEnabled(False)
        self.example_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.save_report_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("reading the manifest")
        self.status.setText(f"Importing {manifest.name} → {out.name}…")

    def cancel(self) -> None:
        """Stop after the current subject; a cancelled import writes no store."""
        if self.is_running:
            self._stop.set()
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _on_progress(self, done: int, total: int) -> None:
        if not self.is_running:
            return
        self.progress_bar.setFormat("subject %v of %m")
        set_progress(self.progress_bar, int(done), max(1, int(total)))

    def _idle(self, status: str) -> None:
        self._worker = None
        self.form.enabled = True
        self.import_button.setEnabled(True)
        self.example_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(int(status == "completed"))
        self.progress_bar.setFormat(status)
        self.import_finished.emit(status)

    def _on_done(self, report: Any) -> None:
        out = report.store
        if out is None or not Path(out).exists():
            self.status.setText("Cancelled: no store was written.")
            self._idle("cancelled")
            return
        self.report = report
        self._set_failures([(str(s), str(file), str(reason)) for s, (file, reason) in report.failed.items()])
        n_ok, n_bad = len(report.imported), len(report.failed)
        lines = [f"Imported {n_ok:,} subject{'s' if n_ok != 1 else ''} into {out}"
                 + (f"; {n_bad:,} failed (below)." if n_bad else ".")]  # fmt: skip
        if report.join is not None:
            lines.append(str(report.join))
        lines += list(report.notes)
        self.status.setText("\n".join(lines))
        self.status.setToolTip(str(report))
        self.save_report_button.setEnabled(True)
        self.open_button.setEnabled(self.viewer is not None)
        self._idle("completed")

    def _on_error(self, exc: BaseException) -> None:
        if self._stop.is_set():
            self.status.setText("Cancelled: no store was written.")
            self._idle("cancelled")
            return
        from ...cohort.errors import CohortError

        report = getattr(exc, "report", None)
        if report is not None:  # every subject failed: the reasons go to the table and the report
            self.report = report
            self._set_failures([(str(s), str(f), str(r)) for s, (f, r) in report.failed.items()])
            n = len(report.failed)
            notify_error(f"Import of {report.manifest}: no subject could be imported, all {n} failed (see the table)")
            self.status.setText(
                f"No subject could be imported: all {n} failed, so no store was written. The reasons are "
                "below; Save report… writes them to a CSV."
            )
            self.save_report_button.setEnabled(True)
            self._idle("failed")
            return
        message = str(exc) if isinstance(exc, CohortError | OSError) else f"{type(exc).__name__}: {exc}"
        notify_error(f"Import failed: {message}")
        self.status.setText(f"Failed: {message}")
        self._idle("failed")

    # ------------------------------------------------------------------ the report
    def _set_failures(self, rows: list[tuple[str, str, str]]) -> None:
        self.failures = rows
        table = self.failures_table
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(Path(text).name if c == 1 and text else text)
                item.setToolTip(text)
                table.setItem(r, c, item)
        table.resizeRowsToContents()
        self.failures_label.setText(f"Failed subjects ({len(rows)})" if rows else "Failed subjects: none")

    def save_report(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the report, one row a subject (subject_id, status, file, reason), to a new CSV file.

        Asks for the file when ``path`` is None; an existing file is never replaced.
        """
        if self.report is None:
            return None
        if path is None:
            start = str(self._out.parent / f"{self._out.stem}-import-report.csv") if self._out else ""
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save the import report", start, "CSV (*.csv)", options=QFileDialog.Option.DontConfirmOverwrite
            )
            if not chosen:
                return None
            path = chosen
        from ...cohort.errors import CohortError

        try:
            written = self.report.to_csv(path)
        except (CohortError, OSError) as exc:
            notify_error(f"Could not save the report: {exc}")
            return None
        self.status.setText(f"Report saved to {written}.")
        return Path(written)

    def open_in_explorer(self) -> Any:
        """Open the imported store in the Explorer, docked in this widget's viewer."""
        if self.report is None or self.viewer is None:
            return None
        from .explorer_launcher import open_store_in_viewer

        try:
            return open_store_in_viewer(self.report.store, self.viewer)
        except (OSError, ValueError) as exc:
            notify_error(str(exc))
            return None
