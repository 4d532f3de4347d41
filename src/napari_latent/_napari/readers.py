"""npe2 readers: cine MRI (DICOM, NIfTI), 12-lead ECGs (DICOM waveform, WFDB, CSV) and cohort stores.

One getter, :func:`get_reader`, answers for every pattern in the manifest; it looks only at
the path (names, suffixes, a directory listing), so napari's reader discovery stays fast.
The reader functions it returns do the work:

* a cine becomes an image layer (T, H, W) with a time axis and the file's spacing as scale;
* a cine or ECG is judged for typicality against the docked Explorer's model or the demo
  model, off the Qt thread (:mod:`~napari_latent.widgets.standalone.typicality_badge`);
* an ECG is drawn on ECG paper in a docked :class:`~napari_latent.widgets.standalone.ecg_file_view.EcgFileView`
  (napari has no layer type for 12 waveforms, and a shapes layer of polylines would show no
  paper grid, no lead layout and no calibration), so the reader returns ``[(None,)]``,
  napari's "handled, no layers" sentinel;
* a cohort store opens an :class:`~napari_latent.explorer.Explorer` with every view docked,
  with the shipped demo model when its input schema fits the store; also ``[(None,)]``.

Bad files raise :class:`~napari_latent.cohort.errors.CohortError` naming the file; napari shows
it in its reader error dialog ("Original error from plugin napari-latent: ...").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    from ..io.records import CineSeries

__all__ = [
    "SAMPLING_RATE_DIALOG",
    "ask_sampling_rate",
    "cine_layer_data",
    "get_reader",
    "is_ecg_dicom",
    "read_cine_layers",
    "read_cohort_store",
    "read_dicom_file",
    "read_ecg_file",
]

LayerData = tuple[Any, ...]
ReaderFunction = Callable[[str | Sequence[str]], list[LayerData]]

NIFTI_SUFFIXES = (".nii", ".nii.gz")
ECG_SUFFIXES = (".hea", ".csv")
DICOM_SUFFIXES = (".dcm", ".dicom")
#: napari's "the reader handled the path and has no layers to add" sentinel.
NO_LAYERS: list[LayerData] = [(None,)]
#: DICOM waveform storage SOP classes (12-lead, general, ambulatory, hemodynamic ECG...).
_WAVEFORM_SOP_PREFIX = "1.2.840.10008.5.1.4.1.1.9."
_CONTRAST_PERCENTILES = (0.5, 99.5)


# ---------------------------------------------------------------------------- getter
def get_reader(path: str | Sequence[str]) -> ReaderFunction | None:
    """The reader for ``path``, or None when napari-latent does not read it (cheap: no file parsing)."""
    if isinstance(path, list | tuple):
        if len(path) != 1:
            return None
        path = path[0]
    p = Path(os.fspath(path))
    if p.is_dir():
        if _is_store_dir(p):
            return read_cohort_store
        return read_cine_layers if _has_dicom_files(p) else None
    name = p.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return read_cine_layers
    if name.endswith(ECG_SUFFIXES):
        return read_ecg_file
    if name.endswith(DICOM_SUFFIXES):
        return read_dicom_file
    return None


def _is_store_dir(path: Path) -> bool:
    from ..cohort.store import is_cohort_store

    return is_cohort_store(path)


def _has_dicom_files(folder: Path, probe: int = 8) -> bool:
    """Whether ``folder`` holds DICOM files: a ``.dcm`` name or the "DICM" preamble marker."""
    try:
        entries = sorted(e for e in folder.iterdir() if e.is_file() and not e.name.startswith("."))
    except OSError:
        return False
    for entry in entries[:probe]:
        if entry.name.lower().endswith(DICOM_SUFFIXES):
            return True
        try:
            with open(entry, "rb") as fh:
                head = fh.read(132)
        except OSError:
            continue
        if head[128:132] == b"DICM":
            return True
    return False


def _single(path: str | Sequence[str]) -> Path:
    if isinstance(path, list | tuple):
        if len(path) != 1:
            from ..cohort.errors import CohortError

            raise CohortError(f"napari-latent opens one file or folder at a time, got {len(path)} paths")
        path = path[0]
    return Path(os.fspath(path))


# ---------------------------------------------------------------------------- cines
def cine_layer_data(series: CineSeries, name: str) -> list[LayerData]:
    """Image layer (and labels layer, when the series has labels) of a cine read from a file.

    Axes and units are the Explorer's cines' (``t`` in s, ``y``/``x`` in mm), so a file dropped
    next to them shares napari's one time slider. Scale is (frame time s, row spacing mm,
    column spacing mm); an unknown frame time or spacing gives 1 on that axis with unit
    "pixel". Contrast limits are the 0.5 and 99.5 percentiles of the intensities, so a few
    bright pixels do not wash out the image. A file of a few small whole numbers (a
    segmentation, e.g. ``labels/ID.nii.gz``) becomes a labels layer.
    """
    import numpy as np

    frames = np.asarray(series.frames, dtype=np.float32)
    if frames.ndim == 2:
        frames = frames[None]
    frame_ms = _frame_time_ms(series.frame_times_ms)
    spacing = tuple(float(s) for s in series.pixel_spacing_mm) if series.pixel_spacing_mm else None
    scale = (frame_ms / 1000.0 if frame_ms else 1.0, *(spacing or (1.0, 1.0)))
    units = ("s" if frame_ms else "pixel", *(("mm", "mm") if spacing else ("pixel", "pixel")))
    finite = frames[np.isfinite(frames)]
    low, high = np.percentile(finite, _CONTRAST_PERCENTILES) if finite.size else (0.0, 1.0)
    if not high > low:
        high = low + 1.0
    meta = {
        "source": series.source,
        "pixel_spacing_mm": spacing,
        "frame_time_ms": frame_ms,
        **{k: v for k, v in series.meta.items() if isinstance(v, str | int | float | bool)},
    }
    common = {"scale": scale, "axis_labels": ("t", "y", "x"), "units": units}
    if series.labels is None and _looks_like_labels(frames):
        from ..widgets.plots.layer_data import _label_colormap

        labels_kw = {**common, "name": name, "opacity": 0.5, "colormap": _label_colormap(), "metadata": meta}
        return [(frames.astype(np.uint8), labels_kw, "labels")]
    layers: list[LayerData] = [
        (
            frames,
            {**common, "name": name, "colormap": "gray", "contrast_limits": (float(low), float(high)),
             "metadata": meta},
            "image",
        )
    ]  # fmt: skip
    if series.labels is not None:
        from ..widgets.plots.layer_data import _label_colormap

        labels = np.asarray(series.labels).astype(np.uint8, copy=False)
        layers.append((labels, {**common, "name": f"{name} labels", "opacity": 0.4,
                                "colormap": _label_colormap(), "metadata": meta}, "labels"))  # fmt: skip
    return layers


def _looks_like_labels(frames: Any, max_labels: int = 32) -> bool:
    """Whether a volume is a segmentation: a few non-negative whole numbers, background 0 among them."""
    import numpy as np

    if not frames.size or not np.isfinite(frames).all() or frames.min() < 0 or frames.max() > 255:
        return False
    if not np.array_equal(frames, np.round(frames)):
        return False
    values = np.unique(frames)
    return 2 <= len(values) <= max_labels and values[0] == 0


def _frame_time_ms(frame_times_ms: Any) -> float | None:
    """The median frame interval in ms, or None when unknown or not positive."""
    import numpy as np

    if frame_times_ms is None:
        return None
    times = np.asarray(frame_times_ms, dtype=np.float64).ravel()
    if times.size < 2:
        return None
    step = float(np.median(np.diff(times)))
    return step if np.isfinite(step) and step > 0 else None


def _layer_name(path: Path) -> str:
    """The file name without its format suffix (``.nii.gz`` counts as one); a folder keeps its name."""
    name = path.name
    if name.lower().endswith(".nii.gz"):
        return name[: -len(".nii.gz")] or name
    return path.stem if path.suffix and not path.is_dir() else name


def read_cine_layers(path: str | Sequence[str]) -> list[LayerData]:
    """Read a cine (NIfTI file, DICOM series folder or multi-frame DICOM) as napari layer data.

    A colour cine (RGB, YBR) is read as grey, as the model sees it; a notification says so
    and the layer's metadata keeps ``converted_to_grey``.
    """
    from ..io import read_cine

    p = _single(path)
    series = read_cine(p)
    converted = series.meta.get("converted_to_grey")
    if converted:
        from napari.utils.notifications import show_info

        show_info(f"{p.name}: {converted}; napari-latent reads cines in grey, as its model does.")
    layers = cine_layer_data(series, _layer_name(p))
    viewer = _current_viewer()
    if viewer is not None and layers[0][2] == "image":  # judged once napari has added the layer
        from ..widgets.standalone.typicality_badge import assess_cine_layer

        assess_cine_layer(viewer, series, layers[0][1]["name"])
    return layers


# ---------------------------------------------------------------------------- ECGs
def is_ecg_dicom(path: str | os.PathLike) -> bool:
    """Whether a DICOM file holds a waveform (ECG) rather than an image, from its header only."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    from ..cohort.errors import CohortError

    try:
        if os.path.getsize(path) == 0:
            raise CohortError("the file is empty (0 bytes): it holds no DICOM image or ECG", path=path)
    except OSError as exc:
        raise CohortError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc
    try:
        ds = pydicom.dcmread(
            path, stop_before_pixels=True, specific_tags=["SOPClassUID", "Modality", "WaveformSequence"]
        )
    except InvalidDicomError as exc:
        raise CohortError(
            "not a DICOM file: it has no DICOM header (no 'DICM' marker after the 128-byte preamble); "
            "it may be damaged, or another format with a .dcm name",
            path=path,
        ) from exc
    except Exception as exc:  # pydicom raises many types for damaged headers
        raise CohortError(f"a damaged DICOM header ({type(exc).__name__}: {exc})", path=path) from exc
    sop = str(getattr(ds, "SOPClassUID", "") or "")
    return sop.startswith(_WAVEFORM_SOP_PREFIX) or str(getattr(ds, "Modality", "")).upper() == "ECG"


def read_dicom_file(path: str | Sequence[str]) -> list[LayerData]:
    """A single DICOM file: a waveform goes to the ECG plot, an image to a cine layer."""
    p = _single(path)
    return read_ecg_file(p) if is_ecg_dicom(p) else read_cine_layers(p)


def read_ecg_file(path: str | Sequence[str]) -> list[LayerData]:
    """Read an ECG, bring it to 12 x 10 s at 500 Hz and dock it on ECG paper in the current viewer."""
    from ..cohort.errors import CohortError
    from ..io import SamplingRateUnknownError, read_ecg, standardise_ecg

    p = _single(path)
    viewer = _current_viewer()
    if viewer is None:
        raise CohortError(
            "an ECG is shown in a docked plot and there is no napari viewer; use napari_latent.io.read_ecg in scripts",
            path=p,
        )
    try:
        record = read_ecg(p)
    except SamplingRateUnknownError:
        fs = ask_sampling_rate(p)
        if fs is None:
            from napari.utils.notifications import show_info

            show_info(f"{p.name} was not opened: it needs its sampling rate in Hz (or a time column)")
            return NO_LAYERS
        record = read_ecg(p, fs=fs)
    prepared = standardise_ecg(record)
    from ..widgets.standalone.ecg_file_view import EcgFileView

    view = EcgFileView(record, prepared, name=_layer_name(p))
    viewer.window.add_dock_widget(view, name=f"ECG · {p.name}", area="bottom")
    view.badge.assess(viewer, ecg=prepared.median)  # typical for the model? shown in the dock
    from qtpy.QtCore import QTimer

    QTimer.singleShot(0, viewer.reset_view)  # the dock took canvas space: refit the layers once it is laid out
    return NO_LAYERS


#: objectName of the sampling-rate dialog (tests and scripts find it by this name).
SAMPLING_RATE_DIALOG = "napari_latent_sampling_rate"


def ask_sampling_rate(path: Path, default: float = 500.0) -> float | None:
    """Ask for the sampling rate of an ECG file that does not record one; None when cancelled."""
    from qtpy.QtWidgets import QInputDialog

    from ..io.ecg_readers import MAX_FS, MIN_FS

    from qtpy.QtWidgets import QApplication

    dialog = QInputDialog(QApplication.activeWindow())
    dialog.setObjectName(SAMPLING_RATE_DIALOG)
    dialog.setWindowTitle("ECG sampling rate")
    dialog.setLabelText(
        f"{path.name} has no time column, so its sampling rate is unknown.\n"
        "Sampling rate in Hz (samples per second per lead):"
    )
    dialog.setInputMode(QInputDialog.InputMode.DoubleInput)
    dialog.setDoubleRange(MIN_FS, MAX_FS)
    dialog.setDoubleDecimals(1)
    dialog.setDoubleValue(default)
    accepted = dialog.exec() == QInputDialog.DialogCode.Accepted
    value = dialog.doubleValue()
    dialog.deleteLater()
    return float(value) if accepted else None


# ---------------------------------------------------------------------------- cohort stores
def read_cohort_store(path: str | Sequence[str]) -> list[LayerData]:
    """Open a cohort store in the Explorer, every view docked in the current viewer."""
    from ..cohort.errors import CohortError

    p = _single(path)
    viewer = _current_viewer()
    if viewer is None:
        raise CohortError("the Explorer docks its views in a napari viewer and there is none", path=p)
    from ..widgets.standalone.explorer_launcher import open_store_in_viewer

    open_store_in_viewer(p, viewer)
    return NO_LAYERS


def _current_viewer():
    import napari

    return napari.current_viewer()
