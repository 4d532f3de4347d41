"""What the decoded heart measures, whether the input is typical, and how sure the model is.

Attached to :class:`~napari_latent.widgets.views.decoded_views.DecodedViews`: a line under
its toggles with the edited decode's measurements (EDV, ESV, EF, QRS, QT, axis) next to the
focused subject's recorded values, a small LV-area-over-the-cycle sparkline, an "atypical
input" badge, and an "uncertainty" toggle that decodes 16 posterior samples of the focused
subject and shows their per-pixel SD as a heat layer over the reconstruction and a ±2 SD
band around the reconstructed ECG. Measuring and sampling run off the Qt thread, latest wins.
The edited decode is measured once the hand pauses (:data:`MEASURE_AFTER_MS` without a new
edit), on the arrays already shown: a drag is never slowed by a second decode or a measurement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QObject, Qt, QTimer, Signal
from qtpy.QtGui import QColor, QPainter, QPen, QPixmap
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from .._qt.notify import notify_error
from .decode_worker import LatestWinsDecoder

if TYPE_CHECKING:
    from .decoded_views import DecodedViews

__all__ = ["SemanticsOverlay", "UNCERTAINTY_LAYER", "format_measurements", "MEASURE_AFTER_MS"]

MEASURE_AFTER_MS = 120  # measure the edited decode once no edit has come for this long

UNCERTAINTY_LAYER = "uncertainty (posterior SD)"
_ROWS = (("lvedv", "EDV", "{:.0f} mL"), ("lvesv", "ESV", "{:.0f} mL"), ("ef", "EF", "{:.0%}"),
         ("qrs_duration", "QRS", "{:.0f} ms"), ("qt", "QT", "{:.0f} ms"), ("qrs_axis", "axis", "{:.0f}°"))
_BAND = ("uncertainty +2 SD", "uncertainty −2 SD")


def format_measurements(values: dict[str, float], recorded: dict[str, float] | None = None) -> str:
    """"EDV 152 mL (rec. 148) · EF 61% (rec. 60%) · ..." for the measured columns present."""
    parts = []
    for column, name, fmt in _ROWS:
        if column in values and np.isfinite(values[column]):
            text = f"{name} {fmt.format(values[column])}"
            if recorded and column in recorded and np.isfinite(recorded[column]):
                text += f" <span style='color:gray'>({fmt.format(recorded[column])})</span>"
            parts.append(text)
    return " · ".join(parts)


class SemanticsOverlay(QObject):
    """Measurements, typicality badge and posterior uncertainty for a :class:`DecodedViews`."""

    measured = Signal(object)  # DecodedMeasurements of the edited decode
    assessed = Signal(object)  # Typicality of the focused subject's input
    uncertainty_shown = Signal(object)  # Uncertainty

    def __init__(self, views: DecodedViews, parent: QObject | None = None) -> None:
        super().__init__(parent or views)
        self.views = views
        self.explorer = views.explorer
        self.last: Any = None
        self.typicality: Any = None
        self.measurer = LatestWinsDecoder(func=self._measure, parent=self, name="measurer")
        self.assessor = LatestWinsDecoder(func=self._assess, parent=self, name="typicality")
        self.sampler = LatestWinsDecoder(func=self._sample, parent=self, name="posterior sampler")
        self.measurer.decoded.connect(self._show_measurements)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(MEASURE_AFTER_MS)
        self._pause.timeout.connect(self._measure_shown)
        self.assessor.decoded.connect(self._show_badge)
        self.sampler.decoded.connect(self._show_uncertainty)
        for worker in (self.measurer, self.assessor, self.sampler):
            worker.failed.connect(lambda exc, _req: notify_error(exc))

        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        self.badge = QLabel("⚠ atypical input")
        self.badge.setStyleSheet("background:#b3261e; color:white; padding:1px 6px; border-radius:3px; font-weight:bold")
        self.badge.setVisible(False)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setToolTip(
            "what the edited decode measures (LV segmentation of the decoded cine, delineation of the\n"
            "decoded median beat), in the table's units through the cohort's relation on reconstructions;\n"
            "grey: the focused subject's recorded values"
        )
        self.curve = QLabel()
        self.curve.setToolTip("LV blood-pool area over the cycle of the edited decode (mm²)")
        self.toggle = QCheckBox("uncertainty")
        self.toggle.setToolTip("decode 16 posterior samples of the focused subject: per-pixel SD over the\n"
                               "reconstruction (heat) and a ±2 SD band around the reconstructed ECG")
        self.toggle.toggled.connect(self._toggled)
        row.addWidget(self.badge)
        row.addWidget(self.label, 1)
        row.addWidget(self.curve)
        row.addWidget(self.toggle)
        views.widget.layout().insertWidget(1, self.widget)
        views.edited_shown.connect(self._on_edited)
        views.subject_shown.connect(self._on_subject)
        self.widget.destroyed.connect(self.stop)
        if self.explorer.focused is not None:
            self._on_subject(self.explorer.focused)

    # ------------------------------------------------------------------ public
    def stop(self, *_: Any) -> None:
        self._pause.stop()
        for worker in (self.measurer, self.assessor, self.sampler):
            worker.stop()

    @property
    def badge_visible(self) -> bool:
        """Whether the "atypical input" badge is showing."""
        return not self.badge.isHidden()

    # ------------------------------------------------------------------ worker threads
    def _measure(self, decoded: dict[str, np.ndarray]) -> Any:
        return self.explorer.measure(decoded)

    def _assess(self, index: int) -> Any:
        table = self.explorer.table
        if "typicality" in table:
            from ...analysis.typicality import TYPICAL_BELOW, Typicality

            pct = float(table["typicality"].iloc[index])
            return Typicality(pct, pct < TYPICAL_BELOW, float("nan"), "fused")
        s = self.explorer.cohort.subject(index)
        return self.explorer.assess(ecg=np.asarray(s.ecg_median, np.float32), mri=np.asarray(s.mri, np.float32))

    def _sample(self, index: int) -> Any:
        return self.explorer.uncertainty(index)

    # ------------------------------------------------------------------ Qt thread
    def _on_edited(self, z: Any) -> None:
        if z is not None:
            self._pause.start()  # (re)start: measure when the drag pauses

    def _measure_shown(self) -> None:
        decoded = getattr(self.views, "edited_output", None)
        if decoded is not None:
            self.measurer.request(decoded)

    def _on_subject(self, index: Any) -> None:
        if index is None or self.explorer.model is None:
            return
        if "typicality" in self.explorer.table or _has_reference(self.explorer.model):
            self.assessor.request(int(index))
        else:
            self.badge.setVisible(False)
        if self.toggle.isChecked():
            self.sampler.request(int(index))

    def _toggled(self, on: bool) -> None:
        if on and self.explorer.focused is not None:
            self.sampler.request(int(self.explorer.focused))
        elif not on:
            layer = self.views.layers.get("uncertainty")
            if layer is not None:
                self.views.viewer.layers.remove(layer)
                self.views._layers.pop("uncertainty", None)
            for name in _BAND:
                if name in self.views.ecg_plot.traces:
                    self.views.ecg_plot.remove_trace(name)

    def _show_measurements(self, m: Any, _z: Any) -> None:
        self.last = m
        focus = self.explorer.focused
        recorded = self.explorer.recorded(focus) if focus is not None else None
        self.label.setText("edited: " + format_measurements(m.values, recorded))
        if m.area_curve is not None:
            self.curve.setPixmap(_sparkline(np.asarray(m.area_curve)))
        self.measured.emit(m)

    def _show_badge(self, t: Any, _index: Any) -> None:
        self.typicality = t
        self.badge.setVisible(not bool(t.typical))
        self.badge.setToolTip(
            f"this subject's input is more unusual than {t.percentile:.0f}% of the model's held-out subjects:\n"
            "its decodes and measurements deserve less trust"
        )
        self.assessed.emit(t)

    def _show_uncertainty(self, u: Any, _index: Any) -> None:
        if not self.toggle.isChecked():
            return
        views = self.views
        layer = views.layers.get("uncertainty")
        sd = u.std["mri"]
        if layer is None:
            rec = views.layers.get("reconstruction") or views.layers.get("original")
            placed = {} if rec is None else {
                "scale": rec.scale, "translate": rec.translate, "units": rec.units, "axis_labels": rec.axis_labels
            }
            layer = views.viewer.add_image(
                sd, name=UNCERTAINTY_LAYER, colormap="hot", blending="additive", opacity=0.6,
                contrast_limits=(0.0, max(float(sd.max()), 1e-3)), **placed,
            )
            views._layers["uncertainty"] = layer
        else:
            layer.data = sd
        lo, hi = u.mean["ecg"] - 2 * u.std["ecg"], u.mean["ecg"] + 2 * u.std["ecg"]
        for name, beat in zip(_BAND, (hi, lo), strict=True):
            views.ecg_plot.set_trace(name, median=beat, color="#9db4f0", width=1.0)
        self.uncertainty_shown.emit(u)


def _sparkline(curve: np.ndarray, w: int = 90, h: int = 22) -> QPixmap:
    pix = QPixmap(w, h)
    pix.fill(QColor(0, 0, 0, 0))
    if curve.size < 2 or not np.isfinite(curve).all() or curve.max() <= 0:
        return pix
    lo, hi = float(curve.min()), float(curve.max())
    x = np.linspace(1, w - 2, curve.size)
    y = h - 2 - (curve - lo) / max(hi - lo, 1e-6) * (h - 4)
    painter = QPainter(pix)
    painter.setPen(QPen(QColor("#ff8a75"), 1.5))
    for k in range(curve.size - 1):
        painter.drawLine(int(x[k]), int(y[k]), int(x[k + 1]), int(y[k + 1]))
    painter.end()
    return pix


def _has_reference(model: Any) -> bool:
    from ...analysis.reference import reference_of

    return bool((reference_of(model) or {}).get("typicality"))
