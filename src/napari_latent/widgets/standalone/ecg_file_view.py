"""An ECG file opened in napari: the 12 leads on ECG paper, rhythm or median beat, saved as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...cohort.schema import ECG_FS, LEADS
from ..plots.ecg_plot import EcgPlot
from .typicality_badge import TypicalityBadge

if TYPE_CHECKING:
    from ...io.records import EcgRecord

__all__ = ["EcgFileView"]


class EcgFileView(QWidget):
    """The ECG of one file, brought to the model's schema (12 leads, 10 s at 500 Hz, mV).

    ``record`` is the ECG as read (its own leads and rate), ``prepared`` the standardised
    one with ``.rhythm`` (12, 5000) and ``.median`` (12, 600). :attr:`badge` says whether
    the ECG is typical for a model once :meth:`TypicalityBadge.assess` has judged it. "Save CSV…" writes the
    standardised rhythm (what the plot shows) with one column per lead; it never replaces
    an existing file. ``saved(path)`` fires after a save.
    """

    saved = Signal(str)

    def __init__(self, record: EcgRecord, prepared: Any, *, name: str = "ECG", parent: QWidget | None = None):
        super().__init__(parent)
        self.record = record
        self.prepared = prepared
        self.name = name
        self.plot = EcgPlot()
        self.plot.set_trace(name, rhythm=prepared.rhythm, median=prepared.median, color="black")
        self.plot.mode = "rhythm"

        self.mode_box = QComboBox()
        self.mode_box.addItems(["rhythm", "median"])
        self.mode_box.setToolTip("10 s rhythm (3 × 4 + lead II strip) or the 1.2 s median beat of each lead")
        self.mode_box.currentTextChanged.connect(self._set_mode)
        self.save_button = QPushButton("Save CSV…", clicked=lambda: self.save_csv())
        self.save_button.setToolTip("Write the 12 standardised leads (10 s, 500 Hz, mV) to a new CSV file")
        source = Path(record.source).name if record.source else name
        self.info = QLabel(
            f"{source}: {len(record.leads)} leads, {record.fs:g} Hz, {record.duration_s:.1f} s "
            f"→ shown as 12 leads, {ECG_FS} Hz, 10 s"
        )
        self.info.setWordWrap(True)
        self.badge = TypicalityBadge()  # filled by badge.assess(viewer, ecg=...)
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.badge)
        top.addWidget(self.mode_box)
        top.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

    @property
    def leads(self) -> tuple[str, ...]:
        """The leads drawn, in schema order."""
        return tuple(LEADS[: len(self.prepared.rhythm)])

    def _set_mode(self, mode: str) -> None:
        self.plot.mode = mode  # type: ignore[assignment]

    def save_csv(self, path: str | Path | None = None) -> Path | None:
        """Write the standardised rhythm to ``path`` (asked for when None); errors become notifications."""
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "Save ECG as CSV", f"{self.name}.csv", "CSV (*.csv)")
            if not chosen:
                return None
            path = chosen
        from ...io.ecg_writers import write_ecg_csv

        path = Path(path)
        try:
            write_ecg_csv(self.prepared.rhythm, path, fs=ECG_FS, leads=LEADS)
        except (OSError, ValueError) as exc:
            from .._qt.notify import notify_error as show_error

            show_error(f"Could not save the ECG: {exc}")
            return None
        self.saved.emit(str(path))
        return path
