"""Cine from TIFF stacks and NumPy ``.npy`` / ``.npz`` arrays, ``(T, H, W)`` or colour."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..cohort.errors import CohortError
from ._cine_base import MAX_TOTAL_BYTES, _check_dtype, _check_size, _float, _Raw

_NPZ_IMAGE_KEYS = ("mri", "cine", "frames", "image", "images", "arr_0")
_NPZ_LABEL_KEYS = ("labels", "label", "seg", "segmentation", "mask", "arr_0")

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
