"""Read a cine MRI (one slice, one cardiac cycle) from DICOM, NIfTI, TIFF or NumPy files.

:func:`read_cine` dispatches on what it is given:

- a directory of DICOM files or a list/tuple of paths: a series of single-frame files
  (sorted by TriggerTime, else InstanceNumber; one series, one slice location);
- one DICOM file: an (enhanced) multi-frame file, compressed transfer syntaxes included;
- ``.nii`` / ``.nii.gz``: ``(X, Y, T)`` or ``(X, Y, 1, T)``, shown in radiological display
  orientation (see :func:`napari_latent.io.cine_writers.write_cine_nifti`);
- ``.tif`` / ``.tiff``, ``.npy`` / ``.npz``: ``(T, H, W)`` stacks (RGB becomes grayscale).

Every problem with the user's files is raised as :class:`~napari_latent.cohort.errors.CohortError`
naming the file and the subject. Sizes are checked from headers before any pixel data is read.
"""

from __future__ import annotations

import os
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..cohort.errors import CohortError
from ..cohort.schema import LABELS
from .records import CineSeries

__all__ = ["MAX_FRAME_PIXELS", "MAX_TOTAL_BYTES", "read_cine"]

#: Largest frame accepted (rows x columns), checked from the file header.
MAX_FRAME_PIXELS = 4096 * 4096
#: Largest cine accepted, as float32 in memory, checked from the file header.
MAX_TOTAL_BYTES = 2 * 1024**3

_NPZ_IMAGE_KEYS = ("mri", "cine", "frames", "image", "images", "arr_0")
_NPZ_LABEL_KEYS = ("labels", "label", "seg", "segmentation", "mask", "arr_0")
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


@dataclass
class _Raw:
    """A stack as a format reader found it: ``data`` (T, H, W) or (T, H, W, C), raw dtype."""

    data: np.ndarray
    path: Path
    spacing: tuple[float, float] | None = None
    times: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def read_cine(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    subject: object = None,
    labels: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
) -> CineSeries:
    """Read one cine cycle as (T, H, W) float32 in the file's intensity units.

    ``path`` is a DICOM directory, a list of DICOM files, one DICOM multi-frame file, or a
    NIfTI / TIFF / NumPy file. ``labels`` optionally names a label stack (any of the same
    formats) of the same shape with values in :data:`~napari_latent.cohort.schema.LABELS`.
    Raises :class:`CohortError` naming the file and ``subject`` for any bad input.
    """
    raw = _load(path, subject, role="cine")
    meta = {"format": raw.meta.pop("format", "unknown"), "dtype": str(raw.data.dtype), **raw.meta}
    frames = _as_stack(raw, subject, role="cine")
    if raw.meta.get("converted_to_grey"):
        meta["converted_to_grey"] = raw.meta["converted_to_grey"]
    label_stack = None
    if labels is not None:
        raw_labels = _load(labels, subject, role="labels")
        label_stack = _as_labels(raw_labels, subject, frames.shape, raw.path)
        meta["labels_source"] = str(raw_labels.path)
    return CineSeries(
        frames=frames,
        pixel_spacing_mm=raw.spacing,
        frame_times_ms=raw.times,
        labels=label_stack,
        source=str(raw.path),
        meta=meta,
    )


# --------------------------------------------------------------------------- dispatch


@contextmanager
def _reading(path: Path, subject: object, what: str = "file") -> Iterator[None]:
    """Turn any library exception into a CohortError naming ``path`` (cause chained)."""
    try:
        yield
    except CohortError:
        raise
    except Exception as exc:  # a broken file can make any library raise anything
        text = str(exc).strip() or "no details"
        if len(text) > 300:
            text = text[:300] + "..."
        raise CohortError(f"cannot read {what}: {type(exc).__name__}: {text}", path=path, subject=subject) from exc


def _load(path: str | os.PathLike | Sequence[str | os.PathLike], subject: object, role: str) -> _Raw:
    if isinstance(path, (list, tuple)):
        files = [Path(p) for p in path]
        if not files:
            raise CohortError("empty series: the list of DICOM files is empty", subject=subject)
        with _reading(files[0].parent, subject, "DICOM series"):
            return _read_dicom_series(files, files[0].parent, subject, from_directory=False)
    p = Path(path)
    if p.is_dir():
        with _reading(p, subject, "DICOM series"):
            files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            return _read_dicom_series(files, p, subject, from_directory=True)
    if not p.exists():
        raise CohortError("no such file or directory", path=p, subject=subject)
    name = p.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        reader = _read_nifti
    elif name.endswith((".tif", ".tiff")):
        reader = _read_tiff
    elif name.endswith(".npy"):
        reader = _read_npy
    elif name.endswith(".npz"):
        reader = _read_npz_labels if role == "labels" else _read_npz
    else:
        reader = _read_dicom_file
    with _reading(p, subject):
        return reader(p, subject)


def _check_size(n_frames: int, rows: int, cols: int, channels: int, path: Path, subject: object) -> None:
    """Refuse absurd sizes declared in a header before anything is allocated."""
    if min(n_frames, rows, cols, channels) < 1:
        raise CohortError(
            f"empty image: {n_frames} frames of {rows} x {cols} pixels declared", path=path, subject=subject
        )
    side = int(MAX_FRAME_PIXELS**0.5)
    if rows * cols > MAX_FRAME_PIXELS:
        raise CohortError(
            f"frames of {rows} x {cols} pixels exceed the limit of {side} x {side}; refusing to read",
            path=path,
            subject=subject,
        )
    total = n_frames * rows * cols * channels * 4
    if total > MAX_TOTAL_BYTES:
        raise CohortError(
            f"{n_frames} frames of {rows} x {cols} pixels would need {total / 1024**3:.1f} GiB "
            f"(limit {MAX_TOTAL_BYTES / 1024**3:.0f} GiB); refusing to read",
            path=path,
            subject=subject,
        )


def _check_dtype(dtype: np.dtype, path: Path, subject: object) -> None:
    if dtype.kind not in "biuf":
        raise CohortError(f"unsupported data type {dtype}; expected integers or floats", path=path, subject=subject)


# ------------------------------------------------------------------------- stacks


def _rgb_to_gray(data: np.ndarray) -> np.ndarray:
    """(..., C) colour to grayscale: Rec. 601 luma for RGB(A), the first channel otherwise."""
    if data.shape[-1] >= 3:
        rgb = data[..., :3].astype(np.float32)
        return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return data[..., 0]


def _check_shape(raw: _Raw, subject: object, role: str) -> None:
    shape = tuple(raw.data.shape)
    if raw.data.ndim == 4:
        raise CohortError(
            f"4-D data of shape {shape} holds more than one slice or channel; the {role} must be one "
            "2-D slice over time (frames, rows, columns)",
            path=raw.path,
            subject=subject,
        )
    if raw.data.ndim != 3:
        raise CohortError(
            f"wrong dimensionality: {raw.data.ndim}-D data of shape {shape}; the {role} must be "
            "(frames, rows, columns)",
            path=raw.path,
            subject=subject,
        )
    if shape[0] < 2:
        raise CohortError(
            f"fewer than 2 frames (shape {shape}); a cine needs a cardiac cycle", path=raw.path, subject=subject
        )
    if min(shape[1:]) < 2:
        raise CohortError(f"frames of {shape[1]} x {shape[2]} pixels are too small", path=raw.path, subject=subject)


def _is_colour(raw: _Raw) -> bool:
    data = raw.data
    return data.ndim == 4 and data.shape[-1] in (2, 3, 4) and raw.meta.get("colour", data.shape[-1] in (3, 4))


def _as_stack(raw: _Raw, subject: object, role: str) -> np.ndarray:
    """The raw data as finite (T, H, W) float32; colour becomes grayscale."""
    _check_dtype(raw.data.dtype, raw.path, subject)
    if _is_colour(raw):
        if role == "labels":
            raise CohortError("labels must be single-channel, not colour", path=raw.path, subject=subject)
        channels = raw.data.shape[-1]
        raw.data = _rgb_to_gray(raw.data)
        raw.meta["converted_to_grey"] = (
            f"{channels}-channel colour converted to grey"
            + (" (Rec. 601 luma)" if channels >= 3 else " (first channel)")
        )
    _check_shape(raw, subject, role)
    with np.errstate(over="ignore", invalid="ignore"):
        frames = np.asarray(raw.data, dtype=np.float32)
    bad = int(np.count_nonzero(~np.isfinite(frames)))
    if bad:
        raise CohortError(
            f"{bad} non-finite values (NaN or inf, or beyond the float32 range) in the {role}",
            path=raw.path,
            subject=subject,
        )
    return np.ascontiguousarray(frames)


def _as_labels(raw: _Raw, subject: object, shape: tuple[int, ...], cine_path: Path) -> np.ndarray:
    """The raw data as uint8 labels of ``shape`` with values in LABELS."""
    frames = _as_stack(raw, subject, role="labels")
    if frames.shape != tuple(shape):
        raise CohortError(
            f"label shape {frames.shape} does not match the cine's {tuple(shape)} ({cine_path.name})",
            path=raw.path,
            subject=subject,
        )
    allowed = np.array(sorted(LABELS), dtype=np.float32)
    values = np.unique(frames)
    bad = values[~np.isin(values, allowed)]
    if bad.size:
        shown = ", ".join(f"{v:g}" for v in bad[:8]) + (", ..." if bad.size > 8 else "")
        raise CohortError(
            f"label values {shown} are not among the labels {sorted(LABELS)} "
            f"({', '.join(f'{k}={v}' for k, v in LABELS.items())})",
            path=raw.path,
            subject=subject,
        )
    return frames.astype(np.uint8)


# -------------------------------------------------------------------------- DICOM


def _dcmread(path: Path, subject: object, *, skip_non_dicom: bool) -> Any:
    """The dataset with large values deferred, or None for a non-DICOM file when skipping."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    with _reading(path, subject, "DICOM file"):
        try:
            return pydicom.dcmread(path, defer_size="64 KB")
        except InvalidDicomError as exc:
            if skip_non_dicom:
                return None
            raise CohortError(
                "not a DICOM file (no 'DICM' marker after the 128-byte preamble)", path=path, subject=subject
            ) from exc


def _is_image(ds: Any) -> bool:
    return any(tag in ds for tag in _PIXEL_TAGS) or "Rows" in ds


def _header(ds: Any, path: Path, subject: object) -> tuple[int, int, int, int]:
    """(frames, rows, cols, samples) from the header; errors when pixel data is missing."""
    if not any(tag in ds for tag in _PIXEL_TAGS):
        raise CohortError(
            "DICOM file has no pixel data (7FE0,0010): not an image, or truncated", path=path, subject=subject
        )
    with _reading(path, subject, "DICOM header"):
        if "Rows" not in ds or "Columns" not in ds:
            raise CohortError("DICOM image lacks Rows/Columns", path=path, subject=subject)
        rows, cols = int(ds.Rows), int(ds.Columns)
        n = int(ds.get("NumberOfFrames", 1) or 1)
        spp = int(ds.get("SamplesPerPixel", 1) or 1)
    _check_size(n, rows, cols, spp, path, subject)
    return n, rows, cols, spp


def _pixels(ds: Any, path: Path, subject: object) -> np.ndarray:
    with _reading(path, subject, "DICOM pixel data"):
        arr = ds.pixel_array
    return arr


def _float(value: Any, default: float | None = None) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if np.isfinite(out) else default


def _spacing(value: Any) -> tuple[float, float] | None:
    try:
        row, col = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (row, col) if row > 0 and col > 0 and np.isfinite([row, col]).all() else None


def _names(paths: Sequence[Path], limit: int = 4) -> str:
    shown = ", ".join(p.name for p in paths[:limit])
    return shown + (f" (+{len(paths) - limit} more)" if len(paths) > limit else "")


def _location(ds: Any) -> tuple[float, ...] | None:
    ipp = ds.get("ImagePositionPatient")
    if ipp is not None:
        try:
            return tuple(round(float(v), 2) for v in ipp)
        except (TypeError, ValueError):
            pass
    loc = _float(ds.get("SliceLocation"))
    return None if loc is None else (round(loc, 2),)


def _read_dicom_series(files: list[Path], where: Path, subject: object, *, from_directory: bool) -> _Raw:
    """A cine stored as one single-frame DICOM file per frame."""
    items: list[tuple[Path, Any]] = []
    skipped: list[str] = []
    for f in files:
        if not f.exists():
            raise CohortError("no such file", path=f, subject=subject)
        ds = _dcmread(f, subject, skip_non_dicom=from_directory)
        if ds is None or f.name.upper() == "DICOMDIR" or str(ds.get("SOPClassUID", "")) == _DICOMDIR_SOP_CLASS:
            skipped.append(f.name)
            continue
        if from_directory and not _is_image(ds):
            skipped.append(f.name)
            continue
        items.append((f, ds))
    if not items:
        extra = f" (ignored {len(skipped)} non-image files: {', '.join(skipped[:4])})" if skipped else ""
        raise CohortError(f"empty series: no DICOM images found{extra}", path=where, subject=subject)
    headers = [_header(ds, f, subject) for f, ds in items]
    if len(items) == 1 and headers[0][0] > 1:
        raw = _read_multiframe(items[0][1], items[0][0], subject)
        raw.meta["ignored_files"] = skipped
        return raw
    multi = [f for (f, _), h in zip(items, headers, strict=True) if h[0] > 1]
    if multi:
        raise CohortError(
            f"multi-frame files ({_names(multi)}) mixed with other DICOM files; give a multi-frame file on its own",
            path=where,
            subject=subject,
        )
    _check_one(items, lambda ds: str(ds.get("SeriesInstanceUID", "")), "series", "SeriesInstanceUIDs", where, subject)
    _check_one(items, _location, "slice locations", "slice locations", where, subject)
    shapes = {h[1:] for h in headers}
    if len(shapes) > 1:
        raise CohortError(
            f"frames differ in size: {sorted(shapes)} (rows, columns, samples)", path=where, subject=subject
        )
    _, rows, cols, spp = headers[0]
    _check_size(len(items), rows, cols, spp, where, subject)
    triggers = [_float(ds.get("TriggerTime")) for _, ds in items]
    instances = [_float(ds.get("InstanceNumber")) for _, ds in items]
    if all(t is not None for t in triggers):
        order_by = "TriggerTime"
        order = sorted(range(len(items)), key=lambda i: (triggers[i], instances[i] or 0.0, items[i][0].name))
    elif all(n is not None for n in instances):
        order_by = "InstanceNumber"
        order = sorted(range(len(items)), key=lambda i: (instances[i], items[i][0].name))
    else:
        order_by = "file name"
        order = sorted(range(len(items)), key=lambda i: items[i][0].name)
    stack = []
    for i in order:
        f, ds = items[i]
        arr = _pixels(ds, f, subject).astype(np.float32)
        slope = _float(ds.get("RescaleSlope"), 1.0)
        intercept = _float(ds.get("RescaleIntercept"), 0.0)
        stack.append(arr * np.float32(slope) + np.float32(intercept))
    first = items[order[0]][1]
    times = np.array([triggers[i] for i in order], dtype=np.float64) if order_by == "TriggerTime" else None
    return _Raw(
        np.stack(stack),
        where,
        spacing=_spacing(first.get("PixelSpacing")),
        times=times,
        meta={
            "format": "dicom-series",
            "files": [str(items[i][0]) for i in order],
            "ignored_files": skipped,
            "order_by": order_by,
            "series_uid": str(first.get("SeriesInstanceUID", "")),
            "colour": spp > 1,
        },
    )


def _check_one(items: list[tuple[Path, Any]], key: Any, what: str, plural: str, where: Path, subject: object) -> None:
    groups: dict[Any, list[Path]] = defaultdict(list)
    for f, ds in items:
        with _reading(f, subject, "DICOM header"):
            groups[key(ds)].append(f)
    if len(groups) > 1:
        listing = "; ".join(f"{k if k not in ('', None) else '(none)'}: {_names(v)}" for k, v in groups.items())
        raise CohortError(f"mixed {what}: {len(groups)} {plural} in one cine ({listing})", path=where, subject=subject)


def _read_dicom_file(path: Path, subject: object) -> _Raw:
    ds = _dcmread(path, subject, skip_non_dicom=False)
    n = _header(ds, path, subject)[0]
    if n < 2:
        raise CohortError(
            "fewer than 2 frames: a single-frame DICOM file; give the directory (or list) of the series' files",
            path=path,
            subject=subject,
        )
    return _read_multiframe(ds, path, subject)


def _group(item: Any, sequence: str, attr: str) -> Any:
    """``item.sequence[0].attr`` of a functional group item, or None."""
    if item is None:
        return None
    seq = item.get(sequence)
    if not seq:
        return None
    return seq[0].get(attr)


def _per_frame(per_frame: Any, shared: Any, sequence: str, attr: str, n: int) -> list[Any]:
    values = [_group(per_frame[i], sequence, attr) if per_frame else None for i in range(n)]
    common = _group(shared, sequence, attr)
    return [common if v is None else v for v in values]


def _frame_datetimes_ms(values: list[Any]) -> np.ndarray | None:
    from pydicom.valuerep import DT

    try:
        stamps = [DT(str(v)) for v in values]
    except (TypeError, ValueError):
        return None
    return np.array([(s - stamps[0]).total_seconds() * 1000.0 for s in stamps])


def _multiframe_times(ds: Any, per_frame: Any, shared: Any, n: int) -> tuple[np.ndarray | None, str]:
    for attr in ("NominalCardiacTriggerDelayTime", "ActualCardiacTriggerDelayTime"):
        vals = [_float(v) for v in _per_frame(per_frame, shared, "CardiacSynchronizationSequence", attr, n)]
        if all(v is not None for v in vals):
            return np.array(vals, dtype=np.float64), attr
    stamps = _per_frame(per_frame, shared, "FrameContentSequence", "FrameAcquisitionDateTime", n)
    if all(s for s in stamps):
        times = _frame_datetimes_ms(stamps)
        if times is not None:
            return times, "FrameAcquisitionDateTime"
    vector = ds.get("FrameTimeVector")
    if vector is not None and len(vector) == n:
        vals = [_float(v) for v in vector]
        if all(v is not None for v in vals):
            return np.cumsum([0.0, *vals[1:]]), "FrameTimeVector"
    frame_time = _float(ds.get("FrameTime"))
    if frame_time is not None and frame_time > 0:
        start = _float(ds.get("TriggerTime"), 0.0)
        return start + frame_time * np.arange(n, dtype=np.float64), "FrameTime"
    return None, "none"


def _read_multiframe(ds: Any, path: Path, subject: object) -> _Raw:
    """An enhanced (or plain) multi-frame DICOM image: all frames of one slice."""
    n, _, _, spp = _header(ds, path, subject)
    with _reading(path, subject, "DICOM functional groups"):
        per_frame = ds.get("PerFrameFunctionalGroupsSequence")
        if per_frame is not None and len(per_frame) != n:
            raise CohortError(
                f"{len(per_frame)} per-frame functional groups for {n} frames", path=path, subject=subject
            )
        shared_seq = ds.get("SharedFunctionalGroupsSequence")
        shared = shared_seq[0] if shared_seq else None
        positions = _per_frame(per_frame, shared, "PlanePositionSequence", "ImagePositionPatient", n)
        locs = {tuple(round(float(v), 2) for v in p) for p in positions if p is not None}
        if len(locs) > 1:
            raise CohortError(
                f"mixed slice locations: frames lie at {len(locs)} positions; a cine must be one slice",
                path=path,
                subject=subject,
            )
        spacing = _spacing(_group(shared, "PixelMeasuresSequence", "PixelSpacing"))
        if spacing is None and per_frame:
            spacing = _spacing(_group(per_frame[0], "PixelMeasuresSequence", "PixelSpacing"))
        if spacing is None:
            spacing = _spacing(ds.get("PixelSpacing"))
        slopes = _per_frame(per_frame, shared, "PixelValueTransformationSequence", "RescaleSlope", n)
        intercepts = _per_frame(per_frame, shared, "PixelValueTransformationSequence", "RescaleIntercept", n)
        slope = np.array([_float(s, _float(ds.get("RescaleSlope"), 1.0)) for s in slopes], dtype=np.float32)
        intercept = np.array([_float(c, _float(ds.get("RescaleIntercept"), 0.0)) for c in intercepts], dtype=np.float32)
        times, time_source = _multiframe_times(ds, per_frame, shared, n)
    arr = _pixels(ds, path, subject).astype(np.float32)
    if arr.shape[0] != n:
        raise CohortError(f"pixel data holds {arr.shape[0]} frames, header says {n}", path=path, subject=subject)
    shape = (n,) + (1,) * (arr.ndim - 1)
    arr = arr * slope.reshape(shape) + intercept.reshape(shape)
    order_by = "file order"
    if times is not None and np.any(np.diff(times) < 0):
        order = np.argsort(times, kind="stable")
        arr, times, order_by = arr[order], times[order], time_source
    return _Raw(
        arr,
        path,
        spacing=spacing,
        times=times,
        meta={
            "format": "dicom-multiframe",
            "sop_class": str(ds.get("SOPClassUID", "")),
            "transfer_syntax": str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "")),
            "frame_times_from": time_source,
            "order_by": order_by,
            "series_uid": str(ds.get("SeriesInstanceUID", "")),
            "colour": spp > 1,
        },
    )


# ------------------------------------------------------------------------- NIfTI

_SPACE_TO_MM = {"meter": 1000.0, "mm": 1.0, "micron": 1e-3}
_TIME_TO_MS = {"sec": 1000.0, "msec": 1.0, "usec": 1e-3}


def _read_nifti(path: Path, subject: object) -> _Raw:
    """(X, Y, T) or (X, Y, 1, T) as (T, rows, cols) in radiological display orientation.

    Row ``r``, column ``c`` of a frame is voxel ``(c, Y-1-r)``: the first voxel axis runs
    left to right on screen, the second bottom to top. When the affine says the first axis
    points to the patient's right it is flipped (radiological: patient's right on the
    screen's left); when the second points posterior or inferior it is flipped too.
    """
    import nibabel as nib

    img = nib.load(str(path))
    shape = tuple(int(s) for s in img.shape)
    if len(shape) > 4 and all(s == 1 for s in shape[4:]):
        shape = shape[:4]
    if len(shape) == 4 and shape[2] != 1:
        raise CohortError(
            f"4-D NIfTI of shape {tuple(img.shape)} holds {shape[2]} slices; a cine must be one slice (X, Y, 1, T)",
            path=path,
            subject=subject,
        )
    if len(shape) not in (3, 4):
        raise CohortError(
            f"wrong dimensionality: {len(img.shape)}-D NIfTI of shape {tuple(img.shape)}; expected (X, Y, T) "
            "or (X, Y, 1, T)",
            path=path,
            subject=subject,
        )
    nx, ny, nt = shape[0], shape[1], shape[-1]
    _check_dtype(np.dtype(img.get_data_dtype()), path, subject)
    _check_size(nt, ny, nx, 1, path, subject)
    data = np.asarray(img.dataobj).reshape(nx, ny, nt)
    frames = data.transpose(2, 1, 0)[:, ::-1, :]
    codes = nib.aff2axcodes(img.affine)
    if codes[0] == "R":
        frames = frames[:, :, ::-1]
    if codes[1] in ("P", "I"):
        frames = frames[:, ::-1, :]
    hdr = img.header
    space_unit, time_unit = hdr.get_xyzt_units()
    pixdim = np.asarray(hdr["pixdim"], dtype=np.float64)
    scale = _SPACE_TO_MM.get(space_unit, 1.0)
    spacing = _spacing((round(pixdim[2] * scale, 6), round(pixdim[1] * scale, 6)))  # float32 in the header
    times = None
    if time_unit in _TIME_TO_MS and np.isfinite(pixdim[4]) and pixdim[4] > 0:
        times = np.arange(nt, dtype=np.float64) * round(pixdim[4] * _TIME_TO_MS[time_unit], 6)
    return _Raw(
        np.ascontiguousarray(frames),
        path,
        spacing=spacing,
        times=times,
        meta={"format": "nifti", "axcodes": "".join(c or "?" for c in codes), "nifti_shape": tuple(img.shape)},
    )


# -------------------------------------------------------------------------- TIFF

_CM_PER_UNIT = {2: 2.54, 3: 1.0}  # ResolutionUnit INCH, CENTIMETER
_IJ_UNIT_MM = {"mm": 1.0, "millimeter": 1.0, "cm": 10.0, "micron": 1e-3, "um": 1e-3, "\u00b5m": 1e-3}


def _read_tiff(path: Path, subject: object) -> _Raw:
    """A (T, Y, X[, S]) stack, singleton axes dropped; spacing from ImageJ or resolution tags."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise CohortError("TIFF holds no images", path=path, subject=subject)
        series = tif.series[0]
        axes, shape = series.axes, tuple(series.shape)
        _check_dtype(np.dtype(series.dtype), path, subject)
        if "Y" not in axes or "X" not in axes:
            raise CohortError(f"TIFF series has axes {axes!r}; no image plane", path=path, subject=subject)
        other = [i for i, a in enumerate(axes) if a not in "YXS" and shape[i] > 1]
        if len(other) > 1:
            raise CohortError(
                f"TIFF of shape {shape} (axes {axes!r}) has more than one non-spatial axis; expected a "
                "(frames, rows, cols) stack of one slice",
                path=path,
                subject=subject,
            )
        n = shape[other[0]] if other else 1
        samples = shape[axes.index("S")] if "S" in axes else 1
        _check_size(n, shape[axes.index("Y")], shape[axes.index("X")], samples, path, subject)
        data = series.asarray()
        keep = other + [axes.index("Y"), axes.index("X")] + ([axes.index("S")] if samples > 1 else [])
        drop = tuple(i for i in range(len(axes)) if i not in keep)
        data = np.squeeze(data, axis=drop) if drop else data
        remaining = [i for i in range(len(axes)) if i not in drop]
        data = np.transpose(data, [remaining.index(i) for i in keep])
        if not other:
            data = data[None]
        spacing, times = _tiff_geometry(tif)
    return _Raw(data, path, spacing=spacing, times=times, meta={"format": "tiff", "axes": axes, "colour": samples > 1})


def _tiff_geometry(tif: Any) -> tuple[tuple[float, float] | None, np.ndarray | None]:
    """Pixel spacing (mm) from ImageJ metadata or resolution tags; frame times from ``finterval``."""
    page = tif.pages[0]
    tags = page.tags

    def per_unit(name: str) -> float | None:
        tag = tags.get(name)
        if tag is None:
            return None
        try:
            num, den = tag.value
            value = num / den
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        return value if value > 0 else None

    xres, yres = per_unit("XResolution"), per_unit("YResolution")
    ij = tif.imagej_metadata or {}
    spacing = None
    if xres and yres:
        unit = str(ij.get("unit", "")).lower()
        if unit in _IJ_UNIT_MM:
            spacing = (_IJ_UNIT_MM[unit] / yres, _IJ_UNIT_MM[unit] / xres)
        elif not ij:
            res_unit = tags.get("ResolutionUnit")
            cm = _CM_PER_UNIT.get(int(res_unit.value)) if res_unit is not None else None
            if cm == 1.0:  # inches are usually screen dpi, not a physical pixel size
                spacing = (10.0 / yres, 10.0 / xres)
    interval = _float(ij.get("finterval"))
    times = None
    if interval is not None and interval > 0:
        series = tif.series[0]
        frames = [s for a, s in zip(series.axes, series.shape, strict=True) if a not in "YXS" and s > 1]
        if frames:
            times = np.arange(frames[0], dtype=np.float64) * interval * 1000.0
    return spacing, times


# ------------------------------------------------------------------------- NumPy


def _squeeze_npy(arr: np.ndarray) -> np.ndarray:
    """(T, 1, H, W) or (1, T, H, W) to (T, H, W); other shapes unchanged."""
    if arr.ndim == 4 and arr.shape[-1] not in (3, 4):
        if arr.shape[1] == 1:
            return arr[:, 0]
        if arr.shape[0] == 1:
            return arr[0]
    return arr


def _array_checks(shape: tuple[int, ...], dtype: np.dtype, path: Path, subject: object) -> None:
    """Refuse unsupported dtypes and absurd sizes from an array header before reading the data."""
    _check_dtype(dtype, path, subject)
    total = int(np.prod(shape, dtype=np.float64))
    if len(shape) < 2:
        if total * 4 > MAX_TOTAL_BYTES:
            raise CohortError(f"array of shape {shape} is too large", path=path, subject=subject)
        return
    colour = len(shape) == 4 and shape[-1] in (3, 4)
    rows, cols = shape[-3:-1] if colour else shape[-2:]
    channels = shape[-1] if colour else 1
    plane = int(rows) * int(cols) * int(channels)
    _check_size(total // plane if plane else 1, int(rows), int(cols), int(channels), path, subject)


def _npy_header(fh: Any) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header, without reading the data."""
    from numpy.lib import format as npformat

    version = npformat.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = npformat.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = npformat.read_array_header_2_0(fh)
    else:
        raise ValueError(f".npy format version {version} is not supported")
    return tuple(int(s) for s in shape), np.dtype(dtype)


def _read_npy(path: Path, subject: object) -> _Raw:
    with open(path, "rb") as fh:
        shape, dtype = _npy_header(fh)
        offset = fh.tell()
    _array_checks(shape, dtype, path, subject)
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = path.stat().st_size - offset
    if have < need:
        raise CohortError(
            f"truncated .npy: the header declares {shape} {dtype} ({need} bytes), the file holds {have}",
            path=path,
            subject=subject,
        )
    data = np.load(path, allow_pickle=False)
    return _Raw(_squeeze_npy(np.asarray(data)), path, meta={"format": "npy"})


def _read_npz_labels(path: Path, subject: object) -> _Raw:
    return _read_npz(path, subject, keys=_NPZ_LABEL_KEYS)


def _read_npz(path: Path, subject: object, keys: tuple[str, ...] = _NPZ_IMAGE_KEYS) -> _Raw:
    """One array of an .npz: the only one, else the first of ``keys`` present."""
    with zipfile.ZipFile(path) as zf:
        members = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
        if not members:
            raise CohortError(".npz archive holds no arrays", path=path, subject=subject)
        if len(members) == 1:
            key = next(iter(members))
        else:
            found = [k for k in keys if k in members]
            if not found:
                raise CohortError(
                    f".npz holds several arrays ({', '.join(sorted(members))}) and none is named {' / '.join(keys)}",
                    path=path,
                    subject=subject,
                )
            key = found[0]
        with zf.open(members[key]) as fh:
            shape, dtype = _npy_header(fh)
    _array_checks(shape, dtype, path, subject)
    with np.load(path, allow_pickle=False) as npz:
        data = npz[key]
    return _Raw(_squeeze_npy(data), path, meta={"format": "npz", "key": key})
