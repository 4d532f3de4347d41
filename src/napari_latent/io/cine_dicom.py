"""Cine from DICOM: a series of single-frame files, or one (enhanced) multi-frame file."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cohort.errors import CohortError
from ._cine_base import _check_size, _float, _Raw, _reading, _spacing

_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


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
