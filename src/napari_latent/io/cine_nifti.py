"""Cine from NIfTI: ``(X, Y, T)`` or ``(X, Y, 1, T)`` in radiological display orientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cohort.errors import CohortError
from ._cine_base import _check_dtype, _check_size, _Raw, _spacing

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
