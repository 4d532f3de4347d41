"""What the readers return: a cine series or an ECG record in the file's own geometry and rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CineSeries:
    """One cine cycle as read from a file, before resampling to the model grid.

    ``frames`` is (T, H, W) float32 in the file's intensity units (after any rescale
    slope/intercept); ``labels`` (T, H, W) uint8 uses :data:`napari_latent.cohort.LABELS`.
    """

    frames: np.ndarray
    pixel_spacing_mm: tuple[float, float] | None = None  # (row, column)
    frame_times_ms: np.ndarray | None = None
    labels: np.ndarray | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])


@dataclass
class EcgRecord:
    """An ECG as read from a file: ``signals`` (n_leads, n_samples) float32 in mV at ``fs`` Hz."""

    signals: np.ndarray
    fs: float
    leads: tuple[str, ...]
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return float(self.signals.shape[1] / self.fs)
