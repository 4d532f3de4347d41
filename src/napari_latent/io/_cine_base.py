"""What every cine reader shares: the raw stack, error wrapping, header size and dtype checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..cohort.errors import CohortError

#: Largest frame accepted (rows x columns), checked from the file header.
MAX_FRAME_PIXELS = 4096 * 4096
#: Largest cine accepted, as float32 in memory, checked from the file header.
MAX_TOTAL_BYTES = 2 * 1024**3


@dataclass
class _Raw:
    """A stack as a format reader found it: ``data`` (T, H, W) or (T, H, W, C), raw dtype."""

    data: np.ndarray
    path: Path
    spacing: tuple[float, float] | None = None
    times: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)


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
