"""Bring a cine as read from a file onto the model grid: 50 frames of 96 x 96 at 1.8 mm, 0..1.

Steps of :func:`preprocess_cine`:

1. grayscale float; intensities mapped to 0..1 between the 0.5th and 99.5th percentile of
   the whole series, then clipped (:func:`normalise_intensity`);
2. in-plane: a heart-centred ``size`` x ``size`` crop at ``spacing_mm`` per pixel, by linear
   interpolation (nearest for labels), after a Gaussian anti-aliasing filter of (step - 1) / 2
   input pixels when shrinking by more than 1.6x;
   pixels outside the image are 0. The centre is ``centre`` if given, else the centroid of
   all labelled pixels over all frames, else the image centre; ``offset`` (mm) moves it.
   When the file has no pixel spacing the image is assumed to span the crop: its longer side
   is scaled to ``size`` pixels (a 96 x 96 image without spacing is taken as 1.8 mm);
3. in time: one cycle resampled to ``frames`` frames by linear interpolation, treating the
   cycle as periodic (the last frame blends into the first); labels take the nearest frame.
   Frame times, when known and increasing, place the frames; else they are taken as evenly
   spaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cohort.errors import CohortError
from ..cohort.schema import MRI_FRAMES, MRI_PIXEL_SPACING_MM, MRI_SIZE
from .records import CineSeries

__all__ = ["PreparedCine", "cycle_positions", "intensity_window", "normalise_intensity", "preprocess_cine"]

PERCENTILES = (0.5, 99.5)


@dataclass
class PreparedCine:
    """A cine on the model grid: ``mri`` (frames, size, size) float16 in 0..1, ``labels`` uint8 or None.

    ``meta`` records the original geometry (shape, pixel spacing, frame times), the intensity
    window, the crop centre and box in input pixels, and what was assumed.
    """

    mri: np.ndarray
    labels: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)


def intensity_window(frames: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> tuple[float, float]:
    """The (low, high) percentiles of all the series' intensities (linear interpolation, as numpy's default)."""
    flat = np.asarray(frames, dtype=np.float32).ravel()
    pos = np.asarray(percentiles, dtype=np.float64) / 100.0 * (flat.size - 1)
    below = np.floor(pos).astype(np.int64)
    above = np.minimum(below + 1, flat.size - 1)
    part = np.partition(flat, np.unique(np.concatenate([below, above])))
    values = part[below] + (part[above] - part[below]) * (pos - below)
    return float(values[0]), float(values[1])


def _apply_window(frames: np.ndarray, lo: float, hi: float) -> np.ndarray:
    out = np.asarray(frames, dtype=np.float32) - np.float32(lo)
    if hi > lo:
        out *= np.float32(1.0 / (hi - lo))
    else:
        out[...] = 0.0
    return np.clip(out, 0.0, 1.0, out=out)


def normalise_intensity(frames: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> np.ndarray:
    """Map the series' ``percentiles`` window to 0..1 and clip (float32). A constant series becomes 0."""
    return _apply_window(frames, *intensity_window(frames, percentiles))


def cycle_positions(n_in: int, n_out: int, times_ms: np.ndarray | None = None) -> np.ndarray:
    """Fractional input-frame positions (0 <= p < n_in) of ``n_out`` frames evenly spread over one cycle.

    With increasing ``times_ms`` the cycle lasts from the first frame to the last plus the
    median frame interval; positions between frames interpolate their times.
    """
    uniform = np.arange(n_out, dtype=np.float64) * (n_in / n_out)
    if times_ms is None:
        return uniform
    t = np.asarray(times_ms, dtype=np.float64)
    if t.shape != (n_in,) or not np.isfinite(t).all() or np.any(np.diff(t) <= 0):
        return uniform
    t = t - t[0]
    period = t[-1] + float(np.median(np.diff(t)))
    target = np.arange(n_out, dtype=np.float64) * (period / n_out)
    pos = np.interp(target, np.append(t, period), np.arange(n_in + 1, dtype=np.float64))
    return np.mod(pos, n_in)


def _resample_time(stack: np.ndarray, pos: np.ndarray, nearest: bool) -> np.ndarray:
    n = stack.shape[0]
    if nearest:
        return stack[np.mod(np.rint(pos).astype(np.int64), n)]
    i0 = np.floor(pos).astype(np.int64)
    w = (pos - i0).astype(np.float32)[:, None, None]
    return stack[i0 % n] * (1 - w) + stack[(i0 + 1) % n] * w


def _axis_coords(centre: float, n_in: int, step: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Input coordinates of the output pixels along one axis, and which lie inside the image."""
    coords = centre + (np.arange(size, dtype=np.float64) - (size - 1) / 2.0) * step
    inside = (coords >= -0.5) & (coords <= n_in - 0.5)
    return coords, inside


def _resample_plane(
    stack: np.ndarray, rows: np.ndarray, cols: np.ndarray, inside: np.ndarray, order: int
) -> np.ndarray:
    """(T, len(rows), len(cols)) samples of ``stack`` on the separable grid; 0 outside the image."""
    from scipy import ndimage

    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    out = np.stack([ndimage.map_coordinates(f, (rr, cc), order=order, mode="nearest", prefilter=False) for f in stack])
    out[:, ~inside] = 0
    return out


def _window(coords: np.ndarray, n: int, margin: int) -> slice:
    """The input pixels the coordinates (plus ``margin``) reach, clamped to the image."""
    lo = int(np.clip(np.floor(coords.min()) - margin, 0, n - 1))
    hi = int(np.clip(np.ceil(coords.max()) + margin + 1, lo + 1, n))
    return slice(lo, hi)


def _fail(cine: CineSeries, subject: object, message: str) -> CohortError:
    return CohortError(message, path=cine.source or None, subject=subject)


def preprocess_cine(
    cine: CineSeries,
    *,
    frames: int = MRI_FRAMES,
    size: int = MRI_SIZE,
    spacing_mm: float = MRI_PIXEL_SPACING_MM,
    centre: tuple[float, float] | None = None,
    offset: tuple[float, float] = (0.0, 0.0),
    subject: object = None,
) -> PreparedCine:
    """Resample ``cine`` to ``frames`` x ``size`` x ``size`` at ``spacing_mm``, heart-centred, 0..1.

    ``centre`` is (row, column) in input pixels; without it the labels' centroid (all
    foreground, all frames) or the image centre is used. ``offset`` (rows, columns) in mm
    moves the centre. See the module docstring for each step.
    """
    from scipy import ndimage

    data = np.asarray(cine.frames)
    if data.ndim != 3 or data.shape[0] < 2 or min(data.shape[1:]) < 1:
        raise _fail(cine, subject, f"expected (frames >= 2, rows, cols) frames, got shape {data.shape}")
    if data.dtype.kind not in "biuf":
        raise _fail(cine, subject, f"cannot preprocess frames of type {data.dtype}")
    if frames < 1 or size < 1 or not (np.isfinite(spacing_mm) and spacing_mm > 0):
        raise ValueError(f"frames and size must be positive and spacing_mm > 0, got {frames}, {size}, {spacing_mm}")
    stack = data.astype(np.float32)
    if not np.isfinite(stack).all():
        raise _fail(cine, subject, "frames contain NaN or inf")
    labels = None if cine.labels is None else np.asarray(cine.labels)
    if labels is not None and labels.shape != data.shape:
        raise _fail(cine, subject, f"label shape {labels.shape} does not match the frames' {data.shape}")
    n_in, h, w = stack.shape

    lo, hi = intensity_window(stack)
    stack = _apply_window(stack, lo, hi)

    spacing = cine.pixel_spacing_mm
    valid = spacing is not None and len(spacing) == 2 and all(np.isfinite(s) and s > 0 for s in spacing)
    in_spacing = (float(spacing[0]), float(spacing[1])) if valid else (spacing_mm * size / max(h, w),) * 2

    if centre is not None:
        c_row, c_col, centre_from = float(centre[0]), float(centre[1]), "user"
    elif labels is not None and np.any(labels):
        fg = np.count_nonzero(labels, axis=0)
        total = fg.sum()
        c_row = float((fg.sum(axis=1) * np.arange(h)).sum() / total)
        c_col = float((fg.sum(axis=0) * np.arange(w)).sum() / total)
        centre_from = "labels"
    else:
        c_row, c_col, centre_from = (h - 1) / 2.0, (w - 1) / 2.0, "image"
    c_row += float(offset[0]) / in_spacing[0]
    c_col += float(offset[1]) / in_spacing[1]
    if not np.isfinite([c_row, c_col]).all():
        raise ValueError(f"crop centre must be finite, got {(c_row, c_col)}")

    step = (spacing_mm / in_spacing[0], spacing_mm / in_spacing[1])
    rows, rows_in = _axis_coords(c_row, h, step[0], size)
    cols, cols_in = _axis_coords(c_col, w, step[1], size)
    inside = rows_in[:, None] & cols_in[None, :]
    # anti-aliasing when shrinking: Gaussian of (step - 1) / 2 input pixels, skipped when negligible
    sigma = [0.0, *((st - 1) / 2 if st > 1.6 else 0.0 for st in step)]
    margin = int(np.ceil(3 * max(sigma))) + 2
    win_r, win_c = _window(rows, h, margin), _window(cols, w, margin)
    part = stack[:, win_r, win_c]
    if max(sigma) > 0:
        part = ndimage.gaussian_filter(part, sigma=sigma, mode="nearest", truncate=3.0)
    shifted_r, shifted_c = rows - win_r.start, cols - win_c.start
    plane = _resample_plane(part, shifted_r, shifted_c, inside, order=1)
    pos = cycle_positions(n_in, frames, cine.frame_times_ms)
    mri = np.clip(_resample_time(plane, pos, nearest=False), 0.0, 1.0).astype(np.float16)
    out_labels = None
    if labels is not None:
        label_part = labels[:, win_r, win_c].astype(np.uint8)
        label_plane = _resample_plane(label_part, shifted_r, shifted_c, inside, order=0)
        out_labels = _resample_time(label_plane, pos, nearest=True).astype(np.uint8)

    half = ((size - 1) / 2.0 + 0.5) * np.array(step)
    times = None if cine.frame_times_ms is None else [float(t) for t in np.asarray(cine.frame_times_ms)]
    meta = {
        "source": cine.source,
        "original_shape": (n_in, h, w),
        "original_frames": n_in,
        "original_pixel_spacing_mm": (float(spacing[0]), float(spacing[1])) if valid else None,
        "input_spacing_mm": in_spacing,
        "pixel_spacing_assumed": not valid,
        "original_frame_times_ms": times,
        "frame_positions": pos.tolist(),
        "intensity_window": (lo, hi),
        "centre_px": (c_row, c_col),
        "centre_from": centre_from,
        "offset_mm": (float(offset[0]), float(offset[1])),
        "crop_box_px": (c_row - half[0], c_col - half[1], c_row + half[0], c_col + half[1]),
        "frames": frames,
        "size": size,
        "spacing_mm": float(spacing_mm),
    }
    return PreparedCine(mri=mri, labels=out_labels, meta=meta)
