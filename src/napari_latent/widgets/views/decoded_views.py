"""Decoded views: the focused subject's cine next to its reconstruction, its ECG→MRI
translation and the decode of the edited latent, as napari image layers with a time axis,
plus a 12-lead median-beat plot of the same four (original, reconstruction, MRI→ECG, edited).

Layout: the four cines sit side by side in world space (layer ``translate`` offsets, a 2 × 2
or 1 × 4 arrangement) with a title above each, and the labels layer stacked on the original.
Offsets rather than napari's grid mode, because grid mode puts every layer in the viewer,
labels included, in a cell of its own and re-arranges layers that are not ours. All layers
share one time scale (the focused subject's cardiac cycle), so napari's frame slider and
play button step them together.

Nothing is decoded on the Qt thread: the subject's products and the edited latent each go
through a :class:`LatestWinsDecoder`; a same-shaped result is copied into the layer's own
array and only the shown slice is redrawn (:mod:`..plots.layer_update`), else ``layer.data = ...``.
While a slider drags, the edited ECG trace is redrawn at most every :data:`EDITED_ECG_INTERVAL_MS`
(the last edit always lands): the cine follows the hand at full rate, and the ECG canvas,
which costs as much to draw again as the four cines on a software renderer, does not hold it back.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QElapsedTimer, QObject, QTimer, Signal
from qtpy.QtGui import QColor, QIcon, QPainter, QPixmap
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..plots.layer_data import LABEL_COLORS, _label_colormap, cine_layer_kwargs
from ..plots.layer_update import ThumbnailDebounce, owned_copy, replace_in_place
from ...cohort.schema import ECG_FS, LEADS, MRI_FRAMES, MRI_PIXEL_SPACING_MM, MRI_SIZE
from .._qt.binding import ExplorerBinding
from .._qt.notify import notify_error
from .decode_worker import LatestWinsDecoder
from ..plots.ecg_plot import EcgPlot

if TYPE_CHECKING:
    import napari

    from ...explorer import Explorer

__all__ = ["VIEWS", "DecodedViews"]

#: View key -> (layer name, ECG trace name or None, trace colour on ECG paper, title colour on the canvas).
VIEWS: dict[str, tuple[str, str | None, str | None, str]] = {
    "original": ("original", "original", "#000000", "#e8e8e8"),
    "labels": ("original labels", None, None, "#e8e8e8"),
    "reconstruction": ("reconstruction", "reconstruction", "#1f4fd1", "#8fb0ff"),
    "translation": ("ECG → MRI", "MRI-to-ECG", "#1a8f3c", "#6fd08c"),
    "edited": ("edited", "edited", "#d0361f", "#ff8a75"),
}
CELLS = ("original", "reconstruction", "translation", "edited")
#: ECG layouts offered in the dock: label -> EcgPlot mode (median beats only; the decodes have no rhythm).
ECG_LAYOUTS = {"ECG: leads in a row": "strip", "ECG: 3 × 4 grid": "median", "ECG: leads overlaid": "overlay"}
TITLES_LAYER = "decoded view titles"
_CELL_MM = MRI_SIZE * MRI_PIXEL_SPACING_MM
#: Title height in world units (it zooms with the cells, so titles never run into each other).
TITLE_SIZE_MM = 0.035 * _CELL_MM


#: Shortest time between two redraws of the edited ECG trace while a slider drags.
EDITED_ECG_INTERVAL_MS = 60


class DecodedViews(QObject):
    """Keeps the decoded layers and the ECG plot in step with an Explorer.

    ``subject_shown(index)`` fires when the focused subject's original, reconstruction and
    translations are in place; ``edited_shown(z)`` when the edited cine and ECG show ``z``
    (decoded into :attr:`edited_output`).
    :attr:`widget` holds the view toggles and the ECG plot.
    """

    subject_shown = Signal(object)
    edited_shown = Signal(object)
    visibility_changed = Signal(str, bool)
    columns_changed = Signal(int)

    def __init__(
        self, explorer: Explorer, viewer: napari.viewer.Viewer, *, columns: int = 2, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.explorer = explorer
        self.viewer = viewer
        self._columns = columns
        self._layers: dict[str, Any] = {}
        self._layer_slots = ExplorerBinding(main_thread_only=False)
        self._visible = dict.fromkeys(VIEWS, True)
        self._ecg: dict[str, np.ndarray] = {}
        self._edited_ecg_clock = QElapsedTimer()
        self._edited_ecg_later = QTimer(self)
        self._edited_ecg_later.setSingleShot(True)
        self._edited_ecg_later.timeout.connect(self._draw_edited_ecg)
        self._cycle_s: float | None = None
        self._subject_id = ""
        self._fitted = False
        self._thumbnails = ThumbnailDebounce(parent=self)
        self.ecg_plot = EcgPlot()
        self.ecg_plot.mode = "strip"  # a wide, short dock: the 12 beats in a row
        self.edited_decoder = LatestWinsDecoder(explorer, parent=self, name="edited decoder")
        self.edited_output: dict[str, np.ndarray] | None = None  # the edited decode now shown
        self.subject_decoder = LatestWinsDecoder(func=self._decode_subject, parent=self, name="subject decoder")
        self.edited_decoder.decoded.connect(self._show_edited)
        self.subject_decoder.decoded.connect(self._show_subject)
        self.edited_decoder.failed.connect(self._edited_failed)
        self.subject_decoder.failed.connect(self._subject_failed)
        self.widget = DecodedViewsPanel(self)
        from .semantics_overlay import SemanticsOverlay

        self.semantics = SemanticsOverlay(self)  # measurements, typicality badge, uncertainty
        # bound methods, not lambdas: Qt drops them when this object goes, a lambda would outlive it
        self.widget.destroyed.connect(self.close)
        self.ecg_plot.destroyed.connect(self.close)  # when docked on its own
        self._closed = False
        self._binding = ExplorerBinding([(getattr(explorer.events, name), slot) for name, slot in self._slots()])
        self._binding.connect()
        if explorer.focused is not None:
            self._on_focus(explorer.focused)
        if explorer.latent is not None:
            self._on_latent(explorer.latent)

    # ------------------------------------------------------------------ public API
    @property
    def layers(self) -> dict[str, Any]:
        """The napari layers shown now, by view key: ``original``, ``labels``, ``reconstruction``,
        ``translation`` (ECG → MRI), ``edited`` and ``titles`` (a text-only points layer)."""
        return {k: layer for k, layer in self._layers.items() if layer in self.viewer.layers}

    @property
    def columns(self) -> int:
        """Cells per row of the side-by-side arrangement (2: a 2 × 2 block, 4: one row)."""
        return self._columns

    @columns.setter
    def columns(self, value: int) -> None:
        self._columns = max(1, int(value))
        self._arrange()
        self._fit()
        self.columns_changed.emit(self._columns)

    def set_visible(self, view: str, visible: bool) -> None:
        """Show or hide one view: its layer and its ECG trace (the layer's eye icon does the same)."""
        visible = bool(visible)
        if self._visible[view] == visible:
            return
        self._visible[view] = visible
        if view in self._layers and self._layers[view].visible != visible:
            self._layers[view].visible = visible
        self._draw_trace(view)
        self._arrange()
        self.visibility_changed.emit(view, visible)

    def is_visible(self, view: str) -> bool:
        return self._visible[view]

    def ecg(self, view: str) -> np.ndarray | None:
        """The decoded median beat (12, 600) mV of ``view`` now shown, or None before it is decoded."""
        beat = self._ecg.get(view)
        return None if beat is None else beat.copy()

    def export_ecg(self, path: str | Path, view: str = "edited") -> Path:
        """Write the median beat of ``view`` (12 leads, 500 Hz, mV) to a new CSV file.

        Raises FileExistsError rather than replace a file, ValueError when nothing is decoded yet.
        """
        from ...io.ecg_writers import write_ecg_csv

        beat = self._ecg.get(view)
        if beat is None:
            raise ValueError(f"no {VIEWS[view][1] or view} ECG has been decoded yet")
        path = Path(path)
        write_ecg_csv(beat, path, fs=ECG_FS, leads=LEADS)
        return path

    def default_export_name(self, view: str) -> str:
        """A file name for ``view``'s ECG: subject id and view."""
        return f"{self._subject_id or 'latent'}_{view}_ecg.csv"

    def close(self, *_: Any) -> None:
        """Stop decoding and stop following the explorer (the layers stay)."""
        if self._closed:
            return
        self._closed = True
        self.edited_decoder.stop()
        self._edited_ecg_later.stop()
        self.subject_decoder.stop()
        self.semantics.stop()
        self._thumbnails.stop()
        self._binding.disconnect()
        self._layer_slots.clear()

    def _edited_failed(self, exc: BaseException, _z: Any) -> None:
        notify_error(f"Decoding the edited latent failed: {exc}")

    def _subject_failed(self, exc: BaseException, _index: Any) -> None:
        notify_error(f"Decoding the subject failed: {exc}")

    def _on_layer_visible(self, view: str, layer: Any, _event: Any = None) -> None:
        if not self._closed:
            self.set_visible(view, layer.visible)

    # ------------------------------------------------------------------ explorer events
    def _slots(self) -> list[tuple[str, Any]]:
        return [
            ("focus", self._on_focus),
            ("latent", self._on_latent),
            ("model", self._on_model),
            ("embeddings", self._on_embeddings),
        ]

    def _on_focus(self, index: int | None) -> None:
        if index is None:
            return
        fused = self.explorer.embeddings.get("fused")
        self.subject_decoder.request((int(index), None if fused is None else fused[index].copy()))

    def _on_latent(self, z: np.ndarray | None) -> None:
        if z is not None and self.explorer.model is not None:
            self.edited_decoder.request(z)

    def _on_model(self, _model: object) -> None:
        self._on_focus(self.explorer.focused)

    def _on_embeddings(self, _embeddings: dict) -> None:
        self._on_focus(self.explorer.focused)

    # ------------------------------------------------------------------ worker thread
    def _decode_subject(self, request: tuple[int, np.ndarray | None]) -> dict[str, Any]:
        """Read the subject and decode its reconstruction and both translations (worker thread)."""
        index, z = request
        subject = self.explorer.cohort.subject(index)
        out: dict[str, Any] = {"subject": subject}
        if self.explorer.model is not None:
            if z is not None:
                out["reconstruction"] = self.explorer.model.decode_numpy(z)
            out["ecg_to_mri"] = self.explorer.translate(ecg=np.asarray(subject.ecg_median, np.float32))
            out["mri_to_ecg"] = self.explorer.translate(mri=np.asarray(subject.mri, np.float32))
        return out

    # ------------------------------------------------------------------ Qt thread
    def _show_subject(self, out: dict[str, Any], request: tuple[int, Any]) -> None:
        if self._closed:  # a result queued before close() must not touch deleted widgets
            return
        subject = out["subject"]
        self._subject_id = subject.subject_id
        self._set_layer("original", np.asarray(subject.mri, np.float32))
        if subject.labels is not None:
            self._set_layer("labels", np.asarray(subject.labels))
        if "reconstruction" in out:
            self._set_layer("reconstruction", out["reconstruction"]["mri"])
        if "ecg_to_mri" in out:
            self._set_layer("translation", out["ecg_to_mri"])
        self._set_ecg("original", np.asarray(subject.ecg_median, np.float32))
        if "reconstruction" in out:
            self._set_ecg("reconstruction", out["reconstruction"]["ecg"])
        if "mri_to_ecg" in out:
            self._set_ecg("translation", out["mri_to_ecg"])
        if self.ecg_plot.traces[-1:] != ["edited"] and "edited" in self.ecg_plot.traces:
            self.ecg_plot.remove_trace("edited")  # the edited trace goes on top of the others
            self._draw_trace("edited")
        self._arrange()
        if not self._fitted:
            self._fitted = True
            self._fit()
            self.viewer.layers.selection.active = self._layers["original"]
        self.subject_shown.emit(request[0])

    def _show_edited(self, out: dict[str, np.ndarray], z: np.ndarray) -> None:
        if self._closed:
            return
        if self._set_layer("edited", out["mri"]):
            self._arrange()  # a new cell: placed even when the subject's decodes came first
        self._set_ecg("edited", out["ecg"])
        self.edited_output = out
        self.edited_shown.emit(z)

    def _fit(self) -> None:
        """Fit the cells in the canvas, with room for the titles above the top row."""
        self.viewer.reset_view()
        camera = getattr(getattr(self.viewer, "scene", None), "camera", None) or self.viewer.camera
        camera.zoom *= 0.92

    def _update_cycle(self) -> None:
        """The time scale of every cell: the focused subject's cardiac cycle (from the table)."""
        focus, table = self.explorer.focused, self.explorer.table
        rate = float(table["heart_rate"].iloc[focus]) if focus is not None and "heart_rate" in table else float("nan")
        self._cycle_s = 60.0 / rate if np.isfinite(rate) and rate > 0 else None

    def _set_layer(self, view: str, data: np.ndarray) -> bool:
        """Replace a layer's data in place, or create it the first time (then True)."""
        layer = self._layers.get(view)
        if layer is not None and layer in self.viewer.layers:
            if replace_in_place(layer, data):  # same shape: only the shown slice is redone
                self._thumbnails.touch(layer)
            else:
                layer.data = data
            return False
        self._update_cycle()
        name = VIEWS[view][0]
        kwargs = cine_layer_kwargs(name, cycle_s=self._cycle_s)
        if view == "labels":
            keep = ("name", "scale", "axis_labels", "units")
            layer = self.viewer.add_labels(
                data, **{k: kwargs[k] for k in keep}, opacity=0.35, colormap=_label_colormap()
            )
        else:
            layer = self.viewer.add_image(owned_copy(data), **kwargs)  # ours to update in place
        layer.visible = self._visible[view]
        slot = partial(self._on_layer_visible, view, layer)
        self._layer_slots.extend([(layer.events.visible, slot)], connect=True)
        self._layers[view] = layer
        return True

    def _arrange(self) -> None:
        """Place the cells side by side, share the time scale and title each cell."""
        self._update_cycle()
        scale_t = (self._cycle_s / MRI_FRAMES) if self._cycle_s else 1.0
        shown = [v for v in CELLS if self._visible[v]]
        gap_x, gap_y = 0.08 * _CELL_MM, 0.16 * _CELL_MM
        origin = {}
        for i, view in enumerate(shown):
            row, col = divmod(i, self._columns)
            origin[view] = (row * (_CELL_MM + gap_y), col * (_CELL_MM + gap_x))
        origin["labels"] = origin.get("original", (0.0, 0.0))
        origin["uncertainty"] = origin.get("reconstruction", origin["labels"])
        units = ("s" if self._cycle_s else "pixel", "mm", "mm")
        for view, layer in self.layers.items():
            if view == "titles":
                continue
            layer.units = units
            layer.scale = (scale_t, MRI_PIXEL_SPACING_MM, MRI_PIXEL_SPACING_MM)
            if view in origin:
                layer.translate = (0.0, *origin[view])
        self._titles({v: origin[v] for v in shown if v in self.layers})

    def _titles(self, origins: dict[str, tuple[float, float]]) -> None:
        """A text-only points layer with one title above each cell."""
        if not origins:
            return
        names = [
            VIEWS[v][0] + (f" · {self._subject_id}" if v == "original" and self._subject_id else "") for v in origins
        ]
        pos = np.array([(y - 0.03 * _CELL_MM, x) for y, x in origins.values()], dtype=float)
        features = {"title": names, "colour": [VIEWS[v][3] for v in origins]}
        layer = self._layers.get("titles")
        if layer is None or layer not in self.viewer.layers:
            layer = self.viewer.add_points(
                pos,
                ndim=2,
                name=TITLES_LAYER,
                size=0,
                units=("mm", "mm"),
                axis_labels=("y", "x"),
                border_width=0,
                face_color="transparent",
                border_color="transparent",
                features=features,
                text={"string": "{title}", "anchor": "upper_left", "size": TITLE_SIZE_MM, "scaling": True,
                      "color": {"feature": "colour"}},
            )
            layer.editable = False
            self._layers["titles"] = layer
            return
        layer.data = pos
        layer.features = features

    def _set_ecg(self, view: str, median: np.ndarray) -> None:
        self._ecg[view] = np.asarray(median, np.float32)
        if view != "edited":
            self._draw_trace(view)
            return
        clock = self._edited_ecg_clock
        wait = EDITED_ECG_INTERVAL_MS - clock.elapsed() if clock.isValid() else 0
        if wait <= 0:
            self._draw_edited_ecg()
        elif not self._edited_ecg_later.isActive():
            self._edited_ecg_later.start(int(wait))

    def _draw_edited_ecg(self) -> None:
        self._edited_ecg_later.stop()
        self._edited_ecg_clock.start()
        if not self._closed:
            self._draw_trace("edited")

    def _draw_trace(self, view: str) -> None:
        trace, colour = VIEWS[view][1], VIEWS[view][2]
        if trace is None:
            return
        if self._visible[view] and view in self._ecg:
            self.ecg_plot.set_trace(
                trace, median=self._ecg[view], color=colour, width=2.0 if view == "original" else 1.5
            )
        elif trace in self.ecg_plot.traces:
            self.ecg_plot.remove_trace(trace)


class DecodedViewsPanel(QWidget):
    """Toggles for the decoded views, the arrangement, and the 12-lead median-beat plot."""

    def __init__(self, views: DecodedViews, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = views
        self.toggles: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        for view, (name, trace, colour, _title) in VIEWS.items():
            box = QCheckBox(name if view != "translation" else "cross-modal", checked=True)
            box.setIcon(_swatch(colour))
            box.setToolTip(f"show the {name} cine" + (f" and the {trace} ECG trace" if trace else ""))
            box.toggled.connect(partial(self._toggled, view))
            self.toggles[view] = box
            row.addWidget(box)
        row.addStretch(1)
        self.arrangement = QComboBox()
        for text, columns in (("2 × 2", 2), ("1 × 4", 4)):  # rows × columns of the four cines
            self.arrangement.addItem(text, columns)
        self.arrangement.setToolTip("how the four cines sit side by side in the canvas")
        self._columns_changed(views.columns)
        self.arrangement.currentIndexChanged.connect(self._arrangement_changed)
        views.columns_changed.connect(self._columns_changed)
        row.addWidget(self.arrangement)
        views.visibility_changed.connect(self._visibility_changed)
        self.status = QLabel()
        views.edited_shown.connect(self._edited_shown)
        row.addWidget(self.status)
        self.ecg_layout = QComboBox()
        for text, mode in ECG_LAYOUTS.items():
            self.ecg_layout.addItem(text, mode)
        self.ecg_layout.setToolTip("12-lead layout: the leads in a row, the clinical 3 × 4 grid, or superimposed")
        self.ecg_layout.setCurrentIndex(list(ECG_LAYOUTS.values()).index(views.ecg_plot.mode))
        self.ecg_layout.currentIndexChanged.connect(self._ecg_layout_changed)
        row.addWidget(self.ecg_layout)
        self.export_button = QToolButton()
        self.export_button.setText("Export ECG…")
        self.export_button.setToolTip("save a decoded median beat (12 leads, 500 Hz, mV) as CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for view, (_name, trace, _colour, _title) in VIEWS.items():
            if trace is not None:
                menu.addAction(f"{trace} ECG…", partial(self.export_ecg, view))
        self.export_button.setMenu(menu)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(views.ecg_plot, 1)

    def _ecg_layout_changed(self, index: int) -> None:
        self.views.ecg_plot.mode = self.ecg_layout.itemData(index)

    def _toggled(self, view: str, on: bool) -> None:
        self.views.set_visible(view, on)

    def _arrangement_changed(self, index: int) -> None:
        self.views.columns = self.arrangement.itemData(index)

    def _columns_changed(self, columns: int) -> None:
        """Follow an arrangement set from a script (one the list lacks is added, named as it looks)."""
        index = self.arrangement.findData(columns)
        if index < 0:
            self.arrangement.addItem(f"{-(-len(CELLS) // columns)} × {columns}", columns)
            index = self.arrangement.count() - 1
        self.arrangement.blockSignals(True)
        self.arrangement.setCurrentIndex(index)
        self.arrangement.blockSignals(False)

    def _visibility_changed(self, view: str, on: bool) -> None:
        self.toggles[view].setChecked(on)

    def export_ecg(self, view: str, path: str | Path | None = None) -> Path | None:
        """Ask for a file (when ``path`` is None) and write ``view``'s decoded ECG; errors become notifications."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export decoded ECG as CSV", self.views.default_export_name(view), "CSV (*.csv)"
            )
            if not path:
                return None
        try:
            return self.views.export_ecg(path, view)
        except (OSError, ValueError) as exc:
            notify_error(f"Could not export the ECG to {path}: {exc}")
            return None

    def _edited_shown(self, _z: Any) -> None:
        self.status.setText(f"edited: decoded in {self.views.edited_decoder.last_decode_ms:.0f} ms")


def _swatch(colour: str | None) -> QIcon:
    """A small square of the view's ECG trace colour (labels: four label colours)."""
    pixmap = QPixmap(12, 12)
    if colour is not None:
        pixmap.fill(QColor(colour))
        return QIcon(pixmap)
    painter = QPainter(pixmap)
    for i, value in enumerate((1, 2, 3, 4)):
        painter.fillRect(6 * (i % 2), 6 * (i // 2), 6, 6, QColor(LABEL_COLORS[value]))
    painter.end()
    return QIcon(pixmap)
