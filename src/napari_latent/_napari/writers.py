"""npe2 writers: an image layer (a cine, T x H x W) to NIfTI or TIFF, keeping its scale as spacing.

The layer's scale is read with its units: (frame time, row spacing, column spacing). A time
axis in seconds or milliseconds becomes the NIfTI frame time (ms); a spatial axis in mm (or
µm, cm, m) becomes the pixel spacing in mm; "pixel" axes are written as 1 mm. Existing files
are never replaced: napari's save dialog may ask "replace?", but the writer refuses with a
``FileExistsError`` naming the file (napari shows it), so nothing the user has is lost.

ECGs are not napari layers (they are drawn in docked ECG plots); an opened ECG file is saved
as CSV from its plot's "Save CSV…" button (:class:`~napari_latent.widgets.standalone.ecg_file_view.EcgFileView`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["cine_from_layer", "write_nifti", "write_tiff"]

_TIME_TO_MS = {"millisecond": 1.0, "ms": 1.0, "second": 1000.0, "s": 1000.0}
_LENGTH_TO_MM = {"millimeter": 1.0, "mm": 1.0, "micrometer": 1e-3, "µm": 1e-3, "um": 1e-3,
                 "centimeter": 10.0, "cm": 10.0, "meter": 1000.0, "m": 1000.0}  # fmt: skip


def cine_from_layer(
    data: Any, meta: dict[str, Any], path: str | os.PathLike
) -> tuple[Any, tuple[float, float], float | None]:
    """``(frames (T, H, W) float32, pixel spacing mm, frame time ms or None)`` of an image layer.

    Raises ``ValueError`` naming ``path`` for layers that are not a greyscale 2-D image or cine.
    """
    import numpy as np

    if meta.get("multiscale"):
        data = data[0]
    if meta.get("rgb"):
        raise ValueError(f"file {path}: cannot save an RGB layer as a cine; convert it to greyscale first")
    frames = np.asarray(data)
    single_image = frames.ndim == 2
    if single_image:
        frames = frames[None]
    if frames.ndim != 3:
        raise ValueError(
            f"file {path}: a cine is (time, y, x); the layer {meta.get('name', '')!r} has shape {frames.shape}"
        )
    if frames.dtype.kind not in "biuf":
        raise ValueError(f"file {path}: cannot save a layer of dtype {frames.dtype} as a cine")
    scale = [float(s) for s in meta.get("scale") or ()][-3:]
    scale = [1.0] * (3 - len(scale)) + scale
    units = [str(u) for u in meta.get("units") or ()][-3:]
    units = ["pixel"] * (3 - len(units)) + units
    time_factor = _TIME_TO_MS.get(units[0])
    frame_ms = scale[0] * time_factor if time_factor and not single_image else None
    spacing = tuple(s * _LENGTH_TO_MM.get(u, 1.0) for s, u in zip(scale[1:], units[1:]))
    return frames.astype(np.float32, copy=False), spacing, frame_ms  # type: ignore[return-value]


def write_nifti(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 writer: an image layer to ``.nii`` / ``.nii.gz`` with its spacing and frame time."""
    from ..io.cine_writers import write_cine_nifti

    target = Path(path)
    frames, spacing, frame_ms = cine_from_layer(data, meta, target)
    write_cine_nifti(frames, target, pixel_spacing_mm=spacing, frame_time_ms=frame_ms)
    return [str(target)]


def write_tiff(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 writer: an image layer to an ImageJ multi-page TIFF (one page a frame) with its spacing."""
    from ..io.cine_writers import write_cine_tiff

    target = Path(path)
    frames, spacing, frame_ms = cine_from_layer(data, meta, target)
    write_cine_tiff(frames, target, pixel_spacing_mm=spacing, frame_time_ms=frame_ms)
    return [str(target)]
