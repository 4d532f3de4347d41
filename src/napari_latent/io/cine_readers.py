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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..cohort.errors import CohortError
from ..cohort.schema import LABELS
from ._cine_base import MAX_FRAME_PIXELS, MAX_TOTAL_BYTES, _check_dtype, _Raw, _reading
from .cine_dicom import _read_dicom_file, _read_dicom_series
from .cine_nifti import _read_nifti
from .cine_tiff_npy import _read_npy, _read_npz, _read_npz_labels, _read_tiff
from .records import CineSeries

__all__ = ["MAX_FRAME_PIXELS", "MAX_TOTAL_BYTES", "read_cine"]


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
        raw.data = _rgb_to_gray(raw.data)
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
