"""Phenotype-direction sliders: rows like "ef  ──●──  +0.050", labelled in the phenotype's units.

A row maps an integer QSlider to a signed change of the phenotype (``delta``) over a
symmetric range chosen from the cohort's spread of the column; the owner turns deltas into
latent moves (:meth:`Direction.offset`). :class:`DirectionPanel` holds the rows and the
"add a column" control. Drawing state only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...analysis.directions import Direction
from ..plots.latent_tracks import nice_limit

__all__ = ["DirectionPanel", "DirectionSlider", "direction_range"]

STEPS = 50  # slider positions on each side of zero


def direction_range(values: pd.Series, kind: str) -> float:
    """Half-range of a direction slider in target units: ~2 SD of the column (4 log-odds if binary)."""
    if kind == "binary":
        return 4.0
    sd = float(pd.to_numeric(values, errors="coerce").std())
    return nice_limit(2.0 * sd) if np.isfinite(sd) and sd > 0 else 1.0


class DirectionSlider(QWidget):
    """A slider along one phenotype direction; emits ``moved(column, delta)`` on user input.

    :attr:`delta` changes only through :meth:`set_delta` (the owner calls it once the latent
    has moved), so the owner can move the latent by the difference from the old delta.
    """

    moved = Signal(str, float)
    touched = Signal(str)
    remove_requested = Signal(str)

    def __init__(self, column: str, direction: Direction, half_range: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = column
        self.direction = direction
        self.half_range = float(half_range)
        self._delta = 0.0
        step = self.half_range / STEPS
        self._decimals = max(0, int(np.ceil(-np.log10(step)))) if step < 1 else 0

        metric = {"r2": "R²", "auroc": "AUROC"}.get(direction.metric, direction.metric)
        name = column if direction.positive is None else f"{column}={direction.positive}"
        score = f"<span style='color:gray; font-size:small'>{metric} {direction.score:.2f}</span>"
        if np.isfinite(getattr(direction, "faithfulness", float("nan"))):
            colour = "#2e7d32" if 0.7 <= direction.faithfulness <= 1.3 else "#c62828"
            score += f" <span style='color:{colour}; font-size:small'>decoded ×{direction.faithfulness:.2f}</span>"
        self.name_label = QLabel(f"{name} {score}")
        self.name_label.setMinimumWidth(90)
        self.name_label.setToolTip(self._describe())
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-STEPS, STEPS)
        self.slider.setPageStep(STEPS // 5)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(STEPS)
        self.slider.setToolTip(
            f"move the latent along the {column} direction, ±{self._format(self.half_range, sign=False)}"
        )
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(lambda: self.touched.emit(self.column))
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(92)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        remove = QToolButton(text="✕", autoRaise=True)
        remove.setToolTip(f"remove the {column} direction")
        remove.clicked.connect(lambda: self.remove_requested.emit(self.column))

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name_label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_label)
        layout.addWidget(remove)
        self._show_value()

    @property
    def delta(self) -> float:
        """The change of the phenotype this slider stands at, in target units."""
        return self._delta

    def set_delta(self, delta: float) -> None:
        """Move the slider (nearest position) and label to ``delta`` without emitting ``moved``."""
        self._delta = float(delta)
        pos = round(float(np.clip(delta / self.half_range, -1, 1)) * STEPS)
        self.slider.blockSignals(True)
        self.slider.setValue(pos)
        self.slider.blockSignals(False)
        self._show_value()

    def _on_slider(self, pos: int) -> None:
        """The user moved the slider: ask the owner to move the latent (it calls :meth:`set_delta`)."""
        self.touched.emit(self.column)
        self.moved.emit(self.column, pos / STEPS * self.half_range)

    def _format(self, delta: float, *, sign: bool = True) -> str:
        unit = f" {self.direction.unit}" if self.direction.unit else ""
        return f"{delta:{'+' if sign else ''}.{self._decimals}f}{unit}"

    def _show_value(self) -> None:
        zero = abs(self._delta) < 0.5 * self.half_range / STEPS
        self.value_label.setText(self._format(0.0, sign=False) if zero else self._format(self._delta))

    def _describe(self) -> str:
        d = self.direction
        metric = {"r2": "R²", "auroc": "AUROC"}.get(d.metric, d.metric)
        toward = f" (towards {d.positive})" if d.positive is not None else ""
        text = (
            f"{self.column}{toward}: probe {metric} {d.score:.2f} (cross-validated).\n"
            f"1 {d.unit or 'unit'} = {d.step_per_unit:.3g} latent SD along the direction ({d.method})."
        )
        if np.isfinite(getattr(d, "faithfulness", float("nan"))):
            c = d.check
            text += (
                f"\nDecoded {d.measure} changes {d.faithfulness:.2f}× the label's change on "
                f"{c.get('n', 0)} held-out subjects (1 = faithful; IQR {c.get('ratio_q25', float('nan')):.2f}-"
                f"{c.get('ratio_q75', float('nan')):.2f}); the step was set in closed loop on "
                f"{c.get('calibration_subjects', 0)} training subjects."
            )
        elif d.kind == "binary":
            text += "\nMoves along the mean latent difference of the two classes; watch the decoded measurements."
        return text


class DirectionPanel(QGroupBox):
    """The "Phenotype directions" box: a column picker with an Add button, and the slider rows.

    Emits ``add_requested(column)``; the owner computes the direction and calls :meth:`add_row`.
    """

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Phenotype directions", parent)
        self.rows: dict[str, DirectionSlider] = {}
        self.column_combo = QComboBox()
        self.column_combo.setToolTip("a phenotype column: its probe's direction becomes a slider in its units")
        add = QPushButton("Add direction")
        add.clicked.connect(lambda: self.add_requested.emit(self.column_combo.currentText()))
        top = QHBoxLayout()
        top.addWidget(self.column_combo, 1)
        top.addWidget(add)
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self._rows_layout)

    def add_row(self, row: DirectionSlider) -> None:
        self.rows[row.column] = row
        self._rows_layout.addWidget(row)

    def remove_row(self, column: str) -> DirectionSlider | None:
        row = self.rows.pop(column, None)
        if row is not None:
            row.setParent(None)
            row.deleteLater()
        return row

    def set_enabled(self, enabled: bool) -> None:
        """Enable the sliders (they need a current latent to move)."""
        for row in self.rows.values():
            row.slider.setEnabled(enabled)
